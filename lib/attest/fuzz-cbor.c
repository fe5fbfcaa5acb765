/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the strict CBOR reader used for RA-TLS evidence. */
#include "cbor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_cur c = ward_cur_make(data, size);
	const uint8_t *p;
	size_t n;

	while (!ward_cur_empty(&c) && ward_cbor_skip(&c, 16) == 0)
		;
	c = ward_cur_make(data, size);
	(void)ward_cbor_string(&c, WARD_CBOR_BYTES, size, &p, &n);
	return 0;
}
