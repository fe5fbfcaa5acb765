/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the development registry file parser. The first 16 bytes are the
 * volume id looked up. */
#include <stddef.h>
#include <stdint.h>

#include "ward/vol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_err err = WARD_ERR_INIT;
	uint8_t root[WARD_VOL_ROOT_SIZE];
	uint64_t version;
	bool found;

	if (size < WARD_VOL_ID_SIZE)
		return 0;
	(void)ward_vol_registry_parse(data + WARD_VOL_ID_SIZE, size - WARD_VOL_ID_SIZE, data,
				      &found, &version, root, &err);
	return 0;
}
