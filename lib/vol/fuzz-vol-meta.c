/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the metadata envelope parser (the file "meta" in the backing
 * directory, read before its tag is checked). */
#include <stddef.h>
#include <stdint.h>

#include "ward/vol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_vol_meta_header h;
	const uint8_t *ct, *tag;
	struct ward_err err = WARD_ERR_INIT;

	if (ward_vol_meta_header_parse(data, size, &h, &ct, &tag, &err) == 0) {
		/* The views must lie inside the input. */
		if (ct < data || tag + WARD_VOL_TAG_SIZE > data + size)
			__builtin_trap();
	}
	return 0;
}
