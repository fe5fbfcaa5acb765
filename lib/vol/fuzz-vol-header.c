/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the volume header parser (the file "ward-volume" in the backing
 * directory, written by the untrusted host). */
#include <stddef.h>
#include <stdint.h>

#include "ward/vol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_vol_header h;
	struct ward_err err = WARD_ERR_INIT;

	(void)ward_vol_header_parse(data, size, &h, &err);
	return 0;
}
