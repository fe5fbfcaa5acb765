/* SPDX-License-Identifier: Apache-2.0 */
/* JOSE objects made by another implementation: gen-interop-vectors.py builds
 * them from pyca/cryptography primitives (ECDH, Concat KDF, AES key wrap,
 * RSA-OAEP, AES-GCM, ECDSA, PKCS#1 v1.5) for the fixed keys of
 * jose-test-keys.h. They cover what the RFC and ocicrypt vectors do not:
 * direct ECDH-ES on P-384 with apu/apv, X25519 with key wrapping, RSA-OAEP-256
 * with an "aad" member, and ES384 / RS256 signatures. */
#include "jose-test-keys.h"
#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/jose.h"
#include "ward/json.h"

/* Output of gen-interop-vectors.py (see there). */
static const char interop_p384_ecdh_es[] =
    "{\"protected\":\"eyJhbGciOiJFQ0RILUVTIiwiZW5jIjoiQTI1NkdDTSIsImVwayI6eyJrdHkiOiJ"
    "FQyIsImNydiI6IlAtMzg0IiwieCI6Iml2YlI5ZXBHa0FubjlBTlZsdzBkNHFSLWhsMGY5NExZLUpWZUN"
    "iaWxSamVwSEhBY3JFVTAybENhNzdDU0tXNzEiLCJ5IjoiZEFqQ0FXV0UxS096Q0RtOXZZU2NGNUVBYlp"
    "0RV9xMlRlbFZ0clZoeGxoOV9PUm41WkllRXJMQlZBM2JaeVF2UiJ9LCJhcHUiOiJkMkZ5WkMxMFpYTjB"
    "MWFUiLCJhcHYiOiJkMkZ5WkMxMFpYTjBMWFkifQ\",\"iv\":\"PX2i18iumnvtdVu-\",\"cipherte"
    "xt\":\"nLoca67YbQLDiMMvInlKCN8OkPEV\",\"tag\":\"LyfpRCQ8QJSNb57R_b13Iw\"}";
static const char interop_x25519_ecdh_es_a256kw[] =
    "{\"protected\":\"eyJhbGciOiJFQ0RILUVTK0EyNTZLVyIsImVuYyI6IkEyNTZHQ00iLCJlcGsiOns"
    "ia3R5IjoiT0tQIiwiY3J2IjoiWDI1NTE5IiwieCI6Im5QU3Z4QWhGamI5cmxzMnRZdTUwakRMY014NEh"
    "4Q0FyWm5ibWcyX2tFWEUifX0\",\"iv\":\"gJ7enn-jbDydOQXD\",\"ciphertext\":\"2FzIPsHz"
    "dqb4GBKRa1UrZcBKr8_X\",\"tag\":\"YvzoJ5iMLX_NIddMCGt48g\",\"encrypted_key\":\"nJ"
    "1iPoO_-8wX5F2e1NWuVbosU8U2uZC-tJHPhJd-deYWnJmnVFJ8OA\"}";
static const char interop_rsa_oaep_256_aad[] =
    "{\"protected\":\"eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiayJ"
    "9\",\"iv\":\"6U0M-p_9fwhJm0NO\",\"ciphertext\":\"C-Q1fE5hPZFs8vgptpeyZAk9d7OE\","
    "\"tag\":\"f86UbdA3SiodxHMRagC_7w\",\"encrypted_key\":\"gGGPMvbV_Z-q05uw2EIdUR7AM"
    "rbId1fVFzu_Kdm410kzDTzekGgp71Wm3v7ESv-xoqcEavl5TlPH_p_3d9DmBsGUSs0apNfIklGAR72Ic"
    "nOsB8P2RyUNamuUHGwe9Al1ozJos5XbngzsKXyI5ILz5o0k79O01MFwRRsguaXvHhgl_OUX1MTx83jUw"
    "pAtrCmp8840mSHP4URmfvOoYmYxToRdjXDE43KmfEbdduwDZAR7rqAdBZCzUU2Ze0fMq-PVzYynRH02m"
    "5h1TmyGDTEP0Lr8vYl2xZOPXJp-Xn5QnFpNlUVWl1IEYGwe3PLlgfX4EDlv2Y84370ywqn5mE2vKQ\","
    "\"aad\":\"ZXh0cmEgYXV0aGVudGljYXRlZCBkYXRh\"}";
static const char interop_jws_es384[] =
    "eyJhbGciOiJFUzM4NCIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJ3YXJkLWludGVyb3AifQ.nnR6wjeROVOO"
    "k6Hx233CgfLCSTeZqh8_e5vpv93dJx3g-Pqek4SkFcRQ1ctRtcmfigxNxDnOi0GuT-sDmXOecKHerkhU"
    "zc8MBYY0PriUUbN4B59u8tjCPCkVy78mKqXE";
static const char interop_jws_rs256[] =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJ3YXJkLWludGVyb3AifQ.FpYp1hqs9UZn"
    "LSxu7URTE7IPHzDgdd7IbXqBKh7zoh7ZRJJ8RKfFoJ5fgVFCz7iMPmIFmsL8ZEpbw-vtJ0vuP8ixVHeX"
    "qsMxeo0Zi4NcCf2npDww9H211Kc0ZrRQQad69fwBytCG2oDgMtBfPUC1TLxvT5r2oGjHB5HxZBJM3wOP"
    "ZbHKAfLDmInSh_0fVWQmVBsyj371LjIisR0yPGubeLJtqjltZKV0X3w3M3pps6FeIGGikEscNYMgpuFj"
    "UvRYrQ_vBevT16DBZSLopM5PKX_zUsLrXi7KBG1u1VMt87jiIqoGUWZkPwm3kQVU5nF-BlQTEdqPTCKk"
    "iZ-jj1Mfyg";
static const char interop_plaintext_hex[] = "696e7465726f7020706c61696e74657874200001ff";

static struct ward_pkey *pem_key(const char *pem)
{
	struct ward_pkey *k = NULL;

	if (ward_pkey_from_pem(pem, strlen(pem), &k, NULL) < 0)
		return NULL;
	return k;
}

static int decrypt(const char *pem, const char *text, struct ward_secret **ret,
		   struct ward_err *err)
{
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = pem_key(pem);
	WARD_AUTOJSON json_t *jwe = NULL;
	int r;

	if (!key)
		return -999;
	r = ward_json_parse(text, strlen(text), 1 << 16, &jwe, err);
	if (r < 0)
		return r;
	return ward_jwe_decrypt(key, jwe, ret, err);
}

static void check_plaintext(const struct ward_secret *pt, bool *ward_test_failed_)
{
	uint8_t want[64];
	size_t n = ward_test_unhex(interop_plaintext_hex, want, sizeof(want));

	CHECK(pt);
	CHECK_INT(pt->size, ==, n);
	CHECK_MEM(pt->data, want, n);
}

WARD_TEST(interop_p384_ecdh_es_apu_apv)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *pt = NULL;

	CHECK_OK(decrypt(jose_test_p384_pem, interop_p384_ecdh_es, &pt, &err), &err);
	check_plaintext(pt, ward_test_failed_);
	/* the wrong recipient key of the same curve */
	{
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *other = NULL;
		WARD_AUTOJSON json_t *jwe = NULL;
		struct ward_secret *none = NULL;

		CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P384, 0, &other, &err), &err);
		CHECK_OK(ward_json_parse(interop_p384_ecdh_es, strlen(interop_p384_ecdh_es),
					 1 << 16, &jwe, &err),
			 &err);
		CHECK_ERR(ward_jwe_decrypt(other, jwe, &none, &err), -WARD_E_VERIFY);
		CHECK(!none);
	}
}

WARD_TEST(interop_x25519_ecdh_es_a256kw)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *pt = NULL;

	CHECK_OK(decrypt(jose_test_x25519_pem, interop_x25519_ecdh_es_a256kw, &pt, &err), &err);
	check_plaintext(pt, ward_test_failed_);
}

WARD_TEST(interop_rsa_oaep_256_aad)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *pt = NULL;

	CHECK_OK(decrypt(jose_test_rsa_pem, interop_rsa_oaep_256_aad, &pt, &err), &err);
	check_plaintext(pt, ward_test_failed_);
}

static int verify(const char *pem, const char *jws, struct ward_err *err)
{
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = pem_key(pem);
	WARD_AUTOFREE uint8_t *payload = NULL;
	WARD_AUTOJSON json_t *hdr = NULL;
	size_t n;
	int r;

	if (!key)
		return -999;
	r = ward_jws_verify_compact(key, jws, strlen(jws), &payload, &n, &hdr, err);
	if (r < 0)
		return r;
	if (n != 22 || memcmp(payload, "{\"iss\":\"ward-interop\"}", 22) != 0 ||
	    strcmp(json_string_value(json_object_get(hdr, "typ")), "JWT") != 0)
		return -998;
	return 0;
}

WARD_TEST(interop_jws_es384_rs256)
{
	struct ward_err err = WARD_ERR_INIT;
	char bad[1024];

	CHECK_OK(verify(jose_test_p384_pem, interop_jws_es384, &err), &err);
	CHECK_OK(verify(jose_test_rsa_pem, interop_jws_rs256, &err), &err);
	/* each against the other key, and with a changed signature */
	CHECK_ERR(verify(jose_test_rsa_pem, interop_jws_es384, &err), -WARD_E_VERIFY);
	CHECK_ERR(verify(jose_test_p384_pem, interop_jws_rs256, &err), -WARD_E_VERIFY);
	CHECK(strlen(interop_jws_es384) < sizeof(bad));
	strcpy(bad, interop_jws_es384);
	bad[strlen(bad) - 5] = bad[strlen(bad) - 5] == 'A' ? 'B' : 'A';
	CHECK_ERR(verify(jose_test_p384_pem, bad, &err), -WARD_E_VERIFY);
}

WARD_TEST_MAIN()
