/* SPDX-License-Identifier: Apache-2.0 */
/* Layer keys and the ocicrypt option blobs: public options (cipher name
 * and HMAC, in the clear) and private options (symmetric key, nonce and
 * plaintext digest, only ever wrapped to recipients as JWE). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image-internal.h"
#include "ward/encoding.h"
#include "ward/jose.h"
#include "ward/log.h"

#define OCICRYPT_CIPHER "AES_256_CTR_HMAC_SHA256"
#define PRIVOPTS_MAX 4096
#define JWE_ANNOTATION_MAX (1u << 20)

int img_keys_make(const uint8_t *seed, size_t seed_size, const char *diff_id, size_t index,
		  struct img_layer_keys *ret, struct ward_err *err)
{
	uint8_t okm[48];
	char info[128];
	int r;

	WARD_CLEANUP_ERASE(okm);
	if (!seed) {
		r = ward_random(ret->symkey, sizeof(ret->symkey), err);
		if (r < 0)
			return r;
		return ward_random(ret->nonce, sizeof(ret->nonce), err);
	}
	snprintf(info, sizeof(info), "ward-convert-insecure layer %zu %s", index, diff_id);
	r = ward_hkdf(WARD_HASH_SHA256, seed, seed_size, "ward-convert-insecure-seed-v1", 29, info,
		      strlen(info), okm, sizeof(okm), err);
	if (r < 0)
		return r;
	memcpy(ret->symkey, okm, 32);
	memcpy(ret->nonce, okm + 32, 16);
	return 0;
}

static char *json_b64(const json_t *j, struct ward_err *err)
{
	WARD_AUTOFREE char *s = json_dumps(j, JSON_COMPACT);
	char *b;

	if (!s) {
		ward_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	b = ward_base64_encode_alloc(s, strlen(s));
	if (!b)
		ward_err_set(err, -ENOMEM, "out of memory");
	return b;
}

int img_pubopts_encode(const uint8_t hmac[32], char **ret, struct ward_err *err)
{
	WARD_AUTOJSON_IMG json_t *j = NULL;
	char h[45];
	char *b;

	ward_base64_encode(hmac, 32, h);
	j = json_pack("{s:s, s:s, s:{}}", "cipher", OCICRYPT_CIPHER, "hmac", h, "cipheroptions");
	if (!j)
		return ward_err_set(err, -ENOMEM, "out of memory");
	b = json_b64(j, err);
	if (!b)
		return err ? err->code : -ENOMEM;
	*ret = b;
	return 0;
}

/* Decode a base64 JSON object of at most max bytes. */
static int b64_json(const char *b64, size_t max, json_t **ret, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *raw = NULL;
	size_t size;
	int r;

	if (strlen(b64) > max * 2)
		return ward_err_set(err, -WARD_E_TOO_BIG, "annotation too large");
	r = ward_base64_decode(b64, strlen(b64), &raw, &size, err);
	if (r < 0)
		return r;
	r = ward_image_json_parse(raw, size, ret, err);
	if (r < 0)
		return r;
	if (!json_is_object(*ret)) {
		json_decref(*ret);
		*ret = NULL;
		return ward_err_set(err, -WARD_E_MALFORMED, "not a JSON object");
	}
	return 0;
}

static int get_b64_fixed(const json_t *o, const char *key, uint8_t *out, size_t size,
			 struct ward_err *err)
{
	const json_t *v = json_object_get(o, key);
	WARD_AUTOFREE uint8_t *raw = NULL;
	size_t n;
	int r;

	if (!json_is_string(v))
		return ward_err_set(err, -WARD_E_MALFORMED, "\"%s\" must be a base64 string", key);
	r = ward_base64_decode(json_string_value(v), json_string_length(v), &raw, &n, err);
	if (r < 0)
		return ward_err_prefix(err, "\"%s\"", key);
	if (n != size) {
		ward_wipe(raw, n);
		return ward_err_set(err, -WARD_E_MALFORMED, "\"%s\" must be %zu bytes, got %zu", key,
				    size, n);
	}
	memcpy(out, raw, size);
	ward_wipe(raw, n);
	return 0;
}

int img_pubopts_decode(const char *b64, uint8_t hmac[32], struct ward_err *err)
{
	WARD_AUTOJSON_IMG json_t *j = NULL;
	const json_t *c;
	int r;

	r = b64_json(b64, 4096, &j, err);
	if (r < 0)
		return ward_err_prefix(err, "layer pubopts");
	c = json_object_get(j, "cipher");
	if (!json_is_string(c) || strcmp(json_string_value(c), OCICRYPT_CIPHER) != 0)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "layer pubopts: cipher must be " OCICRYPT_CIPHER);
	r = get_b64_fixed(j, "hmac", hmac, 32, err);
	if (r < 0)
		return ward_err_prefix(err, "layer pubopts");
	return 0;
}

int img_privopts_encode(const struct img_layer_keys *k, const char *digest,
			struct ward_secret **ret, struct ward_err *err)
{
	char key_b64[45], nonce_b64[25];
	WARD_AUTOJSON_IMG json_t *j = NULL;
	struct ward_secret *s;
	char *txt;

	WARD_CLEANUP_ERASE(key_b64);
	ward_base64_encode(k->symkey, 32, key_b64);
	ward_base64_encode(k->nonce, 16, nonce_b64);
	j = json_pack("{s:s, s:s, s:{s:s}}", "symkey", key_b64, "digest", digest, "cipheroptions",
		      "nonce", nonce_b64);
	if (!j)
		return ward_err_set(err, -ENOMEM, "out of memory");
	txt = json_dumps(j, JSON_COMPACT);
	/* the jansson string copy holds the key too: wipe it inside the JSON */
	json_object_set_new(j, "symkey", json_string(""));
	if (!txt)
		return ward_err_set(err, -ENOMEM, "out of memory");
	s = ward_secret_dup(txt, strlen(txt));
	ward_wipe(txt, strlen(txt));
	free(txt);
	if (!s)
		return ward_err_set(err, -ENOMEM, "out of memory");
	*ret = s;
	return 0;
}

int img_privopts_decode(const void *buf, size_t size, struct img_layer_keys *ret_keys,
			char ret_digest[72], struct ward_err *err)
{
	WARD_AUTOJSON_IMG json_t *j = NULL;
	const json_t *d, *co;
	struct img_layer_keys k;
	int r;

	WARD_CLEANUP_ERASE(k);
	if (size > PRIVOPTS_MAX)
		return ward_err_set(err, -WARD_E_TOO_BIG, "layer private options too large");
	r = ward_image_json_parse(buf, size, &j, err);
	if (r < 0)
		return ward_err_prefix(err, "layer private options");
	if (!json_is_object(j))
		return ward_err_set(err, -WARD_E_MALFORMED, "layer private options: not an object");
	r = get_b64_fixed(j, "symkey", k.symkey, 32, err);
	if (r < 0)
		return ward_err_prefix(err, "layer private options");
	co = json_object_get(j, "cipheroptions");
	if (!json_is_object(co))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "layer private options: \"cipheroptions\" must be an object");
	r = get_b64_fixed(co, "nonce", k.nonce, 16, err);
	if (r < 0)
		return ward_err_prefix(err, "layer private options");
	d = json_object_get(j, "digest");
	if (!json_is_string(d) || !ward_oci_digest_valid(json_string_value(d)))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "layer private options: \"digest\" is not a sha256 digest");
	memcpy(ret_digest, json_string_value(d), 72);
	*ret_keys = k;
	/* wipe the key text jansson holds */
	json_object_set_new(j, "symkey", json_string(""));
	return 0;
}

int img_jwe_wrap(struct ward_pkey *const *recipients, size_t count, const void *privopts,
		 size_t size, char **ret, struct ward_err *err)
{
	WARD_AUTOFREE char *out = NULL;
	size_t len = 0;
	int r;

	for (size_t i = 0; i < count; i++) {
		WARD_AUTOJSON_IMG json_t *jwe = NULL;
		WARD_AUTOFREE char *b = NULL;
		enum ward_key_type t = ward_pkey_type(recipients[i]);
		enum ward_jwe_alg alg;
		char *n;

		if (t == WARD_KEY_RSA)
			alg = WARD_JWE_RSA_OAEP;
		else if (t == WARD_KEY_EC_P256 || t == WARD_KEY_EC_P384)
			alg = WARD_JWE_ECDH_ES_A256KW;
		else
			return ward_err_set(err, -WARD_E_UNSUPPORTED,
					    "recipient %zu: key type not supported (RSA, EC P-256 "
					    "or P-384)",
					    i + 1);
		r = ward_jwe_encrypt(recipients[i], alg, privopts, size, &jwe, err);
		if (r < 0)
			return ward_err_prefix(err, "recipient %zu", i + 1);
		b = json_b64(jwe, err);
		if (!b)
			return err ? err->code : -ENOMEM;
		n = realloc(out, len + strlen(b) + 2);
		if (!n)
			return ward_err_set(err, -ENOMEM, "out of memory");
		out = n;
		if (len)
			out[len++] = ',';
		memcpy(out + len, b, strlen(b) + 1);
		len += strlen(b);
	}
	if (!out)
		return ward_err_set(err, -WARD_E_USAGE, "no recipients");
	*ret = WARD_TAKE_PTR(out);
	return 0;
}

int img_jwe_unwrap(struct ward_pkey *const *keys, size_t key_count, const char *annotation,
		   struct ward_secret **ret, struct ward_err *err)
{
	size_t alen = strlen(annotation);
	const char *p = annotation;
	int last = -WARD_E_NOT_FOUND;

	if (alen > JWE_ANNOTATION_MAX)
		return ward_err_set(err, -WARD_E_TOO_BIG, "keys.jwe annotation too large");
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		WARD_AUTOFREE uint8_t *raw = NULL;
		WARD_AUTOJSON_IMG json_t *jwe = NULL;
		size_t raw_size;
		int r;

		r = ward_base64_decode(p, n, &raw, &raw_size, err);
		if (r < 0)
			return ward_err_prefix(err, "keys.jwe annotation");
		r = ward_image_json_parse(raw, raw_size, &jwe, err);
		if (r < 0)
			return ward_err_prefix(err, "keys.jwe annotation");
		for (size_t k = 0; k < key_count; k++) {
			struct ward_err e2 = WARD_ERR_INIT;

			r = ward_jwe_decrypt(keys[k], jwe, ret, &e2);
			if (r == 0)
				return 0;
			last = r;
		}
		p += n + (comma ? 1 : 0);
	}
	(void)last;
	return ward_err_set(err, -WARD_E_VERIFY,
			    "no suitable key: none of the given private keys unwraps this "
			    "layer's key");
}
