/* SPDX-License-Identifier: Apache-2.0 */
/* Hashes (SHA-1/2), HMAC and HKDF over OpenSSL EVP. */
#include <errno.h>

#include <openssl/core_names.h>

#include "crypto-internal.h"
#include "ward/encoding.h"

struct ward_hash {
	EVP_MD_CTX *ctx; /* owned */
	const EVP_MD *md;
	enum ward_hash_alg alg;
	bool finished; /* final() was called; reset() before reuse */
};

struct ward_hmac {
	EVP_MAC_CTX *ctx; /* owned */
	size_t size;
	bool finished;
};

size_t ward_hash_size(enum ward_hash_alg alg)
{
	switch (alg) {
	case WARD_HASH_SHA1:
		return 20;
	case WARD_HASH_SHA256:
		return 32;
	case WARD_HASH_SHA384:
		return 48;
	case WARD_HASH_SHA512:
		return 64;
	}
	return 0;
}

const char *ward_hash_name(enum ward_hash_alg alg)
{
	switch (alg) {
	case WARD_HASH_SHA1:
		return "sha1";
	case WARD_HASH_SHA256:
		return "sha256";
	case WARD_HASH_SHA384:
		return "sha384";
	case WARD_HASH_SHA512:
		return "sha512";
	}
	return "unknown";
}

int ward_hash_new(enum ward_hash_alg alg, struct ward_hash **ret, struct ward_err *err)
{
	const EVP_MD *md = ward_crypto_md(alg);
	struct ward_hash *h;

	if (!md)
		return ward_err_set(err, -WARD_E_USAGE, "unknown hash algorithm %d", (int)alg);
	h = calloc(1, sizeof(*h));
	if (!h)
		return ward_err_set(err, -ENOMEM, "out of memory");
	h->md = md;
	h->alg = alg;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, md, NULL) != 1) {
		ward_hash_free(h);
		return ward_crypto_err(err, -WARD_E_CRYPTO, "%s: init failed", ward_hash_name(alg));
	}
	*ret = h;
	return 0;
}

int ward_hash_update(struct ward_hash *h, const void *data, size_t size, struct ward_err *err)
{
	if (h->finished)
		return ward_err_set(err, -WARD_E_STATE, "hash update after final without reset");
	if (size > 0 && EVP_DigestUpdate(h->ctx, data, size) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "%s: update failed",
				       ward_hash_name(h->alg));
	return 0;
}

int ward_hash_final(struct ward_hash *h, uint8_t *out, struct ward_err *err)
{
	unsigned n = 0;

	if (h->finished)
		return ward_err_set(err, -WARD_E_STATE, "hash final called twice without reset");
	if (EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != ward_hash_size(h->alg))
		return ward_crypto_err(err, -WARD_E_CRYPTO, "%s: final failed",
				       ward_hash_name(h->alg));
	h->finished = true;
	return 0;
}

int ward_hash_reset(struct ward_hash *h, struct ward_err *err)
{
	if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "%s: reset failed",
				       ward_hash_name(h->alg));
	h->finished = false;
	return 0;
}

struct ward_hash *ward_hash_free(struct ward_hash *h)
{
	if (!h)
		return NULL;
	EVP_MD_CTX_free(h->ctx);
	free(h);
	return NULL;
}

int ward_hash(enum ward_hash_alg alg, const void *data, size_t size, uint8_t *out,
	      struct ward_err *err)
{
	const EVP_MD *md = ward_crypto_md(alg);
	unsigned n = 0;

	if (!md)
		return ward_err_set(err, -WARD_E_USAGE, "unknown hash algorithm %d", (int)alg);
	if (EVP_Digest(size ? data : "", size, out, &n, md, NULL) != 1 || n != ward_hash_size(alg))
		return ward_crypto_err(err, -WARD_E_CRYPTO, "%s failed", ward_hash_name(alg));
	return 0;
}

int ward_sha256_hex(const void *data, size_t size, char out[65], struct ward_err *err)
{
	uint8_t digest[32];
	int r;

	r = ward_hash(WARD_HASH_SHA256, data, size, digest, err);
	if (r < 0)
		return r;
	ward_hex_encode(digest, sizeof(digest), out);
	return 0;
}

int ward_hmac_new(enum ward_hash_alg alg, const void *key, size_t key_size, struct ward_hmac **ret,
		  struct ward_err *err)
{
	WARD_CLEANUP(EVP_MAC_freep) EVP_MAC *mac = NULL;
	const EVP_MD *md = ward_crypto_md(alg);
	static const uint8_t empty[1] = {0};
	OSSL_PARAM params[2];
	struct ward_hmac *m;

	if (!md)
		return ward_err_set(err, -WARD_E_USAGE, "unknown hash algorithm %d", (int)alg);
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "HMAC unavailable");
	m = calloc(1, sizeof(*m));
	if (!m)
		return ward_err_set(err, -ENOMEM, "out of memory");
	m->size = ward_hash_size(alg);
	m->ctx = EVP_MAC_CTX_new(mac);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)EVP_MD_get0_name(md), 0);
	params[1] = OSSL_PARAM_construct_end();
	/* A zero-length key is legal for HMAC; OpenSSL wants a non-NULL pointer. */
	if (!m->ctx || EVP_MAC_init(m->ctx, key_size ? key : empty, key_size, params) != 1) {
		ward_hmac_free(m);
		return ward_crypto_err(err, -WARD_E_CRYPTO, "HMAC-%s: init failed",
				       ward_hash_name(alg));
	}
	*ret = m;
	return 0;
}

int ward_hmac_update(struct ward_hmac *m, const void *data, size_t size, struct ward_err *err)
{
	if (m->finished)
		return ward_err_set(err, -WARD_E_STATE, "HMAC update after final");
	if (size > 0 && EVP_MAC_update(m->ctx, data, size) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "HMAC update failed");
	return 0;
}

int ward_hmac_final(struct ward_hmac *m, uint8_t *out, struct ward_err *err)
{
	size_t n = 0;

	if (m->finished)
		return ward_err_set(err, -WARD_E_STATE, "HMAC final called twice");
	if (EVP_MAC_final(m->ctx, out, &n, m->size) != 1 || n != m->size)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "HMAC final failed");
	m->finished = true;
	return 0;
}

struct ward_hmac *ward_hmac_free(struct ward_hmac *m)
{
	if (!m)
		return NULL;
	EVP_MAC_CTX_free(m->ctx);
	free(m);
	return NULL;
}

int ward_hmac(enum ward_hash_alg alg, const void *key, size_t key_size, const void *data,
	      size_t size, uint8_t *out, struct ward_err *err)
{
	WARD_CLEANUP(ward_hmac_freep) struct ward_hmac *m = NULL;
	int r;

	r = ward_hmac_new(alg, key, key_size, &m, err);
	if (r < 0)
		return r;
	r = ward_hmac_update(m, data, size, err);
	if (r < 0)
		return r;
	return ward_hmac_final(m, out, err);
}

static int hkdf_run(enum ward_hash_alg alg, int mode, const void *key, size_t key_size,
		    const void *salt, size_t salt_size, const void *info, size_t info_size,
		    uint8_t *out, size_t out_size, struct ward_err *err)
{
	WARD_CLEANUP(EVP_KDF_freep) EVP_KDF *kdf = NULL;
	WARD_CLEANUP(EVP_KDF_CTX_freep) EVP_KDF_CTX *ctx = NULL;
	const EVP_MD *md = ward_crypto_md(alg);
	static const uint8_t empty[1] = {0};
	OSSL_PARAM params[6], *p = params;

	if (!md)
		return ward_err_set(err, -WARD_E_USAGE, "unknown hash algorithm %d", (int)alg);
	if (out_size == 0 || out_size > 255 * ward_hash_size(alg))
		return ward_err_set(err, -WARD_E_USAGE, "HKDF output size %zu outside 1..%zu",
				    out_size, 255 * ward_hash_size(alg));
	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!kdf)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "HKDF unavailable");
	ctx = EVP_KDF_CTX_new(kdf);
	if (!ctx)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "HKDF context");
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)EVP_MD_get0_name(md),
						0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						 key_size ? (void *)key : (void *)empty, key_size);
	if (salt && salt_size)
		*p++ =
		    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_size);
	if (info && info_size)
		*p++ =
		    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_size);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, out_size, params) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "HKDF-%s failed", ward_hash_name(alg));
	return 0;
}

int ward_hkdf(enum ward_hash_alg alg, const void *ikm, size_t ikm_size, const void *salt,
	      size_t salt_size, const void *info, size_t info_size, uint8_t *out, size_t out_size,
	      struct ward_err *err)
{
	return hkdf_run(alg, EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND, ikm, ikm_size, salt, salt_size,
			info, info_size, out, out_size, err);
}

int ward_hkdf_expand(enum ward_hash_alg alg, const void *prk, size_t prk_size, const void *info,
		     size_t info_size, uint8_t *out, size_t out_size, struct ward_err *err)
{
	/* RFC 5869 §2.3: PRK is at least HashLen bytes. */
	if (prk_size < ward_hash_size(alg))
		return ward_err_set(err, -WARD_E_USAGE,
				    "HKDF-Expand PRK of %zu bytes is shorter "
				    "than the hash (%zu)",
				    prk_size, ward_hash_size(alg));
	return hkdf_run(alg, EVP_KDF_HKDF_MODE_EXPAND_ONLY, prk, prk_size, NULL, 0, info, info_size,
			out, out_size, err);
}
