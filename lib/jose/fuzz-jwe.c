/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz JWE parsing and decryption (flattened JSON and compact) with fixed
 * test keys: P-256 (RFC 7518 App. C "Bob"), RSA-2048 and X25519. */
#include <stdlib.h>
#include <string.h>

#include "jose-test-keys.h"
#include "ward/jose.h"
#include "ward/json.h"

static struct ward_pkey *g_keys[3];

static void load_keys(void)
{
	WARD_AUTOJSON json_t *j = NULL;

	if (g_keys[0])
		return;
	if (ward_json_parse(jose_test_p256_jwk, strlen(jose_test_p256_jwk), 4096, &j, NULL) < 0 ||
	    ward_jwk_import(j, &g_keys[0], NULL) < 0 ||
	    ward_pkey_from_pem(jose_test_rsa_pem, strlen(jose_test_rsa_pem), &g_keys[1], NULL) <
		0 ||
	    ward_pkey_from_pem(jose_test_x25519_pem, strlen(jose_test_x25519_pem), &g_keys[2],
			       NULL) < 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	WARD_AUTOJSON json_t *jwe = NULL;

	load_keys();
	if (ward_json_parse(data, size, 1 << 20, &jwe, NULL) < 0)
		jwe = NULL;
	for (size_t i = 0; i < 3; i++) {
		struct ward_secret *pt = NULL;

		if (jwe && ward_jwe_decrypt(g_keys[i], jwe, &pt, NULL) == 0)
			pt = ward_secret_free(pt);
		if (ward_jwe_decrypt_compact(g_keys[i], (const char *)data, size, &pt, NULL) == 0)
			pt = ward_secret_free(pt);
	}
	return 0;
}
