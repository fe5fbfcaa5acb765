/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the DER reader used on certificate extension values. */
#include "der.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_cur c = ward_cur_make(data, size), content;
	uint64_t v;
	uint8_t tag;

	(void)ward_der_uint64(data, size, &v, NULL);
	(void)ward_der_expect(data, size, WARD_DER_TAG_OCTET_STRING, &content, NULL);
	/* Walk a sequence of TLVs, descending into constructed ones once. */
	while (ward_der_next(&c, &tag, &content) == 0) {
		struct ward_cur inner = content;
		struct ward_cur sub;

		if (tag & 0x20)
			while (ward_der_next(&inner, &tag, &sub) == 0)
				;
	}
	return 0;
}
