/* SPDX-License-Identifier: Apache-2.0 */
/* Real JWEs written by ocicrypt (skopeo 1.9.3, Debian 12): the layer key
 * annotations of ../shared/vectors/ocicrypt/encrypted-{rsa,ecp256}, see
 * PROVENANCE.md there. Decrypting them with the test keys must give the
 * "private options" JSON recorded in expected.json. */
#include <stdio.h>

#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/jose.h"
#include "ward/json.h"

#define JWE_ANNOTATION "org.opencontainers.image.enc.keys.jwe"

static json_t *vector_json(const char *rel)
{
	const char *path = ward_test_vector(rel);
	struct ward_err err = WARD_ERR_INIT;
	json_t *j = NULL;

	if (!path)
		return NULL;
	if (ward_json_load_file(path, 1 << 20, &j, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return NULL;
	}
	return j;
}

static struct ward_pkey *vector_key(const char *rel)
{
	const char *path = ward_test_vector(rel);
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOFREE uint8_t *pem = NULL;
	struct ward_pkey *k = NULL;
	size_t n;

	if (!path || ward_file_read(path, 1 << 16, &pem, &n, &err) < 0 ||
	    ward_pkey_from_pem(pem, n, &k, &err) < 0) {
		fprintf(stderr, "%s: %s\n", rel, err.msg);
		return NULL;
	}
	return k;
}

/* The layers array of the variant's (only) manifest, read through
 * index.json; checks the manifest digest against expected.json. */
static json_t *manifest_layers(const char *variant, const json_t *expected)
{
	WARD_AUTOFREE char *rel = NULL;
	WARD_AUTOJSON json_t *index = NULL;
	WARD_AUTOJSON json_t *manifest = NULL;
	const char *digest;

	if (asprintf(&rel, "ocicrypt/%s/index.json", variant) < 0)
		abort();
	index = vector_json(rel);
	digest = json_string_value(
	    json_object_get(json_array_get(json_object_get(index, "manifests"), 0), "digest"));
	if (!digest || strncmp(digest, "sha256:", 7) != 0 ||
	    strcmp(digest, json_string_value(json_object_get(json_object_get(expected, variant),
							     "manifest_digest"))) != 0)
		return NULL;
	free(rel);
	if (asprintf(&rel, "ocicrypt/%s/blobs/sha256/%s", variant, digest + 7) < 0)
		abort();
	manifest = vector_json(rel);
	return json_incref(json_object_get(manifest, "layers"));
}

/* The flattened JWE of a layer descriptor (standard base64 of JSON). */
static json_t *layer_jwe(const json_t *layer)
{
	const char *b64 = json_string_value(
	    json_object_get(json_object_get(layer, "annotations"), JWE_ANNOTATION));
	WARD_AUTOFREE uint8_t *raw = NULL;
	json_t *jwe = NULL;
	size_t n;

	if (!b64 || ward_base64_decode(b64, strlen(b64), &raw, &n, NULL) < 0 ||
	    ward_json_parse(raw, n, 1 << 16, &jwe, NULL) < 0)
		return NULL;
	return jwe;
}

static json_t *protected_header(const json_t *jwe)
{
	const char *p = json_string_value(json_object_get(jwe, "protected"));
	WARD_AUTOFREE uint8_t *raw = NULL;
	json_t *hdr = NULL;
	size_t n;

	if (!p || ward_base64url_decode(p, strlen(p), &raw, &n, NULL) < 0 ||
	    ward_json_parse(raw, n, 1 << 16, &hdr, NULL) < 0)
		return NULL;
	return hdr;
}

/* Decrypt every layer JWE of variant and compare with expected.json. */
static void check_variant(const char *variant, bool *failed_)
{
	bool *ward_test_failed_ = failed_;
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *expected = vector_json("ocicrypt/expected.json");
	WARD_AUTOJSON json_t *layers = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = NULL;
	json_t *want, *layer;
	WARD_AUTOFREE char *keyrel = NULL;
	size_t i;

	if (!expected) {
		fprintf(stderr, "SKIP: ocicrypt vectors not available (set WARD_VECTORS)\n");
		return;
	}
	want = json_object_get(expected, variant);
	CHECK(want);
	CHECK(asprintf(&keyrel, "ocicrypt/%s", json_string_value(json_object_get(want, "key"))) >
	      0);
	key = vector_key(keyrel);
	CHECK(key);
	layers = manifest_layers(variant, expected);
	CHECK(json_array_size(layers) == 2);
	CHECK(json_array_size(json_object_get(want, "layers")) == 2);
	json_array_foreach(layers, i, layer)
	{
		json_t *exp_layer = json_array_get(json_object_get(want, "layers"), i);
		WARD_AUTOJSON json_t *jwe = layer_jwe(layer);
		WARD_AUTOJSON json_t *hdr = protected_header(jwe);
		WARD_AUTOJSON json_t *opts = NULL;
		WARD_CLEANUP(ward_secret_freep) struct ward_secret *pt = NULL;
		WARD_AUTOFREE uint8_t *symkey = NULL;
		uint8_t want_symkey[32];
		const char *sk;
		size_t n;

		CHECK(jwe && hdr);
		CHECK_STR(json_string_value(json_object_get(layer, "digest")),
			  json_string_value(json_object_get(exp_layer, "encrypted_digest")));
		CHECK(json_equal(hdr, json_object_get(exp_layer, "jwe_protected_header")));
		CHECK_OK(ward_jwe_decrypt(key, jwe, &pt, &err), &err);
		CHECK_OK(ward_json_parse(pt->data, pt->size, 1 << 16, &opts, &err), &err);
		CHECK(json_equal(opts, json_object_get(exp_layer, "privopts_json")));
		/* and the layer key inside is the one recorded */
		sk = json_string_value(json_object_get(opts, "symkey"));
		CHECK(sk);
		CHECK_OK(ward_base64_decode(sk, strlen(sk), &symkey, &n, &err), &err);
		CHECK_INT(n, ==, 32);
		ward_test_unhex(json_string_value(json_object_get(exp_layer, "symkey_hex")),
				want_symkey, 32);
		CHECK_MEM(symkey, want_symkey, 32);
	}
}

WARD_TEST(ocicrypt_rsa_oaep)
{
	check_variant("encrypted-rsa", ward_test_failed_);
}

WARD_TEST(ocicrypt_ecdh_es_a256kw)
{
	check_variant("encrypted-ecp256", ward_test_failed_);
}

/* The real JWEs fail closed: tampered parts, the other recipient's key,
 * and the compact form of the same JWE decrypts too. */
WARD_TEST(ocicrypt_tampered_and_wrong_key)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_AUTOJSON json_t *expected = vector_json("ocicrypt/expected.json");
	WARD_CLEANUP(ward_pkey_freep)
	struct ward_pkey *rsa = vector_key("ocicrypt/rsa2048-priv.pem");
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *ec = vector_key("ocicrypt/ecp256-priv.pem");
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *other_ec = NULL;
	WARD_AUTOJSON json_t *rsa_layers = NULL;
	WARD_AUTOJSON json_t *ec_layers = NULL;
	WARD_AUTOJSON json_t *rsa_jwe = NULL;
	WARD_AUTOJSON json_t *ec_jwe = NULL;
	static const char *const members[] = {"protected", "encrypted_key", "iv", "ciphertext",
					      "tag"};
	struct ward_secret *pt = NULL;

	if (!expected) {
		fprintf(stderr, "SKIP: ocicrypt vectors not available (set WARD_VECTORS)\n");
		return;
	}
	CHECK(rsa && ec);
	rsa_layers = manifest_layers("encrypted-rsa", expected);
	ec_layers = manifest_layers("encrypted-ecp256", expected);
	rsa_jwe = layer_jwe(json_array_get(rsa_layers, 1));
	ec_jwe = layer_jwe(json_array_get(ec_layers, 1));
	CHECK(rsa_jwe && ec_jwe);

	/* the other recipient's key, another key of the same type */
	CHECK_ERR(ward_jwe_decrypt(ec, rsa_jwe, &pt, &err), -WARD_E_VERIFY);
	CHECK_ERR(ward_jwe_decrypt(rsa, ec_jwe, &pt, &err), -WARD_E_VERIFY);
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &other_ec, &err), &err);
	CHECK_ERR(ward_jwe_decrypt(other_ec, ec_jwe, &pt, &err), -WARD_E_VERIFY);

	/* one flipped bit in each binary part */
	for (size_t j = 0; j < 2; j++) {
		const json_t *jwe = j ? ec_jwe : rsa_jwe;
		const struct ward_pkey *key = j ? ec : rsa;

		for (size_t m = 1; m < WARD_ARRAY_SIZE(members); m++) {
			WARD_AUTOJSON json_t *bad = json_deep_copy(jwe);
			const char *s = json_string_value(json_object_get(jwe, members[m]));
			WARD_AUTOFREE uint8_t *raw = NULL;
			WARD_AUTOFREE char *enc = NULL;
			size_t n;

			CHECK_OK(ward_base64url_decode(s, strlen(s), &raw, &n, &err), &err);
			raw[n / 2] ^= 0x80;
			enc = ward_base64url_encode_alloc(raw, n);
			json_object_set_new(bad, members[m], json_string(enc));
			CHECK_ERR(ward_jwe_decrypt(key, bad, &pt, &err), -WARD_E_VERIFY);
		}
		/* the protected header is the AAD: a re-encoded, equivalent header
		 * with whitespace added no longer authenticates */
		{
			WARD_AUTOJSON json_t *bad = json_deep_copy(jwe);
			WARD_AUTOJSON json_t *hdr = protected_header(jwe);
			WARD_AUTOFREE char *text = NULL;
			WARD_AUTOFREE char *enc = NULL;

			CHECK_OK(ward_json_dump_pretty(hdr, &text, &err), &err);
			enc = ward_base64url_encode_alloc(text, strlen(text));
			json_object_set_new(bad, "protected", json_string(enc));
			CHECK_ERR(ward_jwe_decrypt(key, bad, &pt, &err), -WARD_E_VERIFY);
		}
		/* the same JWE in compact form */
		{
			WARD_AUTOFREE char *compact = NULL;
			WARD_CLEANUP(ward_secret_freep) struct ward_secret *a = NULL;
			WARD_CLEANUP(ward_secret_freep) struct ward_secret *b = NULL;

			CHECK(asprintf(&compact, "%s.%s.%s.%s.%s",
				       json_string_value(json_object_get(jwe, members[0])),
				       json_string_value(json_object_get(jwe, members[1])),
				       json_string_value(json_object_get(jwe, members[2])),
				       json_string_value(json_object_get(jwe, members[3])),
				       json_string_value(json_object_get(jwe, members[4]))) > 0);
			CHECK_OK(ward_jwe_decrypt_compact(key, compact, strlen(compact), &a, &err),
				 &err);
			CHECK_OK(ward_jwe_decrypt(key, jwe, &b, &err), &err);
			CHECK_INT(a->size, ==, b->size);
			CHECK_MEM(a->data, b->data, a->size);
		}
	}
	CHECK(!pt);
}

WARD_TEST_MAIN()
