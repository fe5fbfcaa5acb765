/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz key parsing (PEM and DER); anything accepted must export and
 * re-import to an equal public key. */
#include <stdlib.h>
#include <string.h>

#include "ward/crypto.h"

static void exercise(struct ward_pkey *k)
{
	struct ward_pkey *back = NULL;
	uint8_t *der = NULL;
	size_t n;

	if (ward_pkey_public_der(k, &der, &n, NULL) == 0) {
		if (ward_pkey_from_der(der, n, &back, NULL) != 0 || !ward_pkey_public_eq(k, back))
			abort();
		ward_pkey_free(back);
		free(der);
	}
	(void)ward_pkey_is_private(k);
	(void)ward_pkey_bits(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ward_pkey *k = NULL;

	if (ward_pkey_from_pem(data, size, &k, NULL) == 0) {
		exercise(k);
		k = ward_pkey_free(k);
	}
	if (ward_pkey_from_der(data, size, &k, NULL) == 0) {
		exercise(k);
		ward_pkey_free(k);
	}
	return 0;
}
