/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the namespace parser/validator (the decrypted metadata). It only
 * sees authenticated bytes in practice, but a key holder's bug or a
 * future format change must not turn into memory unsafety. The first byte
 * selects the block size. */
#include <stddef.h>
#include <stdint.h>

#include "ward/vol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_err err = WARD_ERR_INIT;
	uint32_t bs;

	if (size < 1)
		return 0;
	bs = WARD_VOL_BLOCK_MIN << (data[0] % 9);
	(void)ward_vol_namespace_validate(data + 1, size - 1, bs, &err);
	return 0;
}
