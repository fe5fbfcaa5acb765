/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz compact JWS parsing and verification with fixed keys (the RFC 7515
 * A.3 P-256 key and the A.2 RSA key), and JWK import of the input. */
#include <stdlib.h>
#include <string.h>

#include "ward/jose.h"
#include "ward/json.h"

static const char *const g_jwks[] = {
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}",
    "{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\""
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4"
    "d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5re"
    "xMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxX"
    "FvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ\"}",
};
static struct ward_pkey *g_keys[2];

static void load_keys(void)
{
	for (size_t i = 0; i < 2; i++) {
		WARD_AUTOJSON json_t *j = NULL;

		if (g_keys[i])
			continue;
		if (ward_json_parse(g_jwks[i], strlen(g_jwks[i]), 4096, &j, NULL) < 0 ||
		    ward_jwk_import(j, &g_keys[i], NULL) < 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	WARD_AUTOJSON json_t *j = NULL;

	load_keys();
	for (size_t i = 0; i < 2; i++) {
		uint8_t *payload = NULL;
		json_t *hdr = NULL;
		size_t n;

		if (ward_jws_verify_compact(g_keys[i], (const char *)data, size, &payload, &n, &hdr,
					    NULL) == 0) {
			if (!json_is_object(hdr) || !json_object_get(hdr, "alg"))
				abort();
			free(payload);
			json_decref(hdr);
		}
	}
	/* the same bytes as a JWK */
	if (ward_json_parse(data, size, 1 << 16, &j, NULL) == 0) {
		struct ward_pkey *k = NULL;
		json_t *back = NULL;

		if (ward_jwk_import(j, &k, NULL) == 0) {
			uint8_t tp[32];

			if (ward_jwk_export_public(k, &back, NULL) < 0 ||
			    ward_jwk_thumbprint(k, tp, NULL) < 0)
				abort();
			json_decref(back);
			ward_pkey_free(k);
		}
	}
	return 0;
}
