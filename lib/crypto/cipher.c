/* SPDX-License-Identifier: Apache-2.0 */
/* AES-256-GCM (one shot and streaming), AES-256-CTR and RFC 3394 key wrap. */
#include <errno.h>
#include <limits.h>

#include "crypto-internal.h"

struct ward_cipher {
	EVP_CIPHER_CTX *ctx; /* owned */
	enum ward_cipher_mode mode;
	bool updated;  /* update() seen: AAD no longer accepted */
	bool finished; /* final() done or failed: context is spent */
};

static int gcm_init(EVP_CIPHER_CTX *ctx, int enc, const uint8_t *key, const uint8_t *iv,
		    size_t iv_size)
{
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)iv_size, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, iv, enc) != 1)
		return -1;
	return 0;
}

static int gcm_aad(EVP_CIPHER_CTX *ctx, const void *aad, size_t size)
{
	const uint8_t *p = aad;

	while (size > 0) {
		int n = size > (size_t)(INT_MAX / 2) ? INT_MAX / 2 : (int)size;
		int outl = 0;

		if (EVP_CipherUpdate(ctx, NULL, &outl, p, n) != 1)
			return -1;
		p += n;
		size -= (size_t)n;
	}
	return 0;
}

static int check_iv(size_t iv_size, const uint8_t *iv, struct ward_err *err)
{
	/* OpenSSL takes the IV length as int; GCM accepts any non-zero size. */
	if (!iv || iv_size == 0 || iv_size > 1024)
		return ward_err_set(err, -WARD_E_USAGE, "GCM IV size %zu outside 1..1024", iv_size);
	return 0;
}

int ward_aes256gcm_seal(const uint8_t key[32], const uint8_t *iv, size_t iv_size, const void *aad,
			size_t aad_size, const void *pt, size_t pt_size, uint8_t *ct,
			uint8_t tag[16], struct ward_err *err)
{
	WARD_CLEANUP(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = NULL;
	uint8_t dummy[16];
	int outl = 0, r;

	r = check_iv(iv_size, iv, err);
	if (r < 0)
		return r;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || gcm_init(ctx, 1, key, iv, iv_size) < 0 || gcm_aad(ctx, aad, aad_size) < 0 ||
	    ward_crypto_cipher_update(ctx, pt, pt_size, ct) < 0 ||
	    EVP_EncryptFinal_ex(ctx, dummy, &outl) != 1 || outl != 0 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, WARD_GCM_TAG_SIZE, tag) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "AES-256-GCM encryption failed");
	return 0;
}

int ward_aes256gcm_open(const uint8_t key[32], const uint8_t *iv, size_t iv_size, const void *aad,
			size_t aad_size, const void *ct, size_t ct_size, const uint8_t tag[16],
			uint8_t *pt, struct ward_err *err)
{
	WARD_CLEANUP(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = NULL;
	uint8_t tag_copy[WARD_GCM_TAG_SIZE];
	uint8_t dummy[16];
	int outl = 0, r;

	r = check_iv(iv_size, iv, err);
	if (r < 0)
		return r;
	memcpy(tag_copy, tag, sizeof(tag_copy));
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || gcm_init(ctx, 0, key, iv, iv_size) < 0 || gcm_aad(ctx, aad, aad_size) < 0 ||
	    ward_crypto_cipher_update(ctx, ct, ct_size, pt) < 0 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, WARD_GCM_TAG_SIZE, tag_copy) != 1) {
		ward_wipe(pt, ct_size);
		return ward_crypto_err(err, -WARD_E_CRYPTO, "AES-256-GCM decryption failed");
	}
	if (EVP_DecryptFinal_ex(ctx, dummy, &outl) != 1) {
		/* Unauthenticated plaintext must not survive. */
		ward_wipe(pt, ct_size);
		return ward_crypto_err(
		    err, -WARD_E_VERIFY,
		    "AES-256-GCM tag mismatch: ciphertext, AAD, IV or key wrong");
	}
	return 0;
}

int ward_cipher_new(enum ward_cipher_mode mode, const uint8_t key[32], const uint8_t *iv,
		    size_t iv_size, struct ward_cipher **ret, struct ward_err *err)
{
	WARD_CLEANUP(ward_cipher_freep) struct ward_cipher *c = NULL;
	int r;

	switch (mode) {
	case WARD_CIPHER_AES256_GCM_ENCRYPT:
	case WARD_CIPHER_AES256_GCM_DECRYPT:
		r = check_iv(iv_size, iv, err);
		if (r < 0)
			return r;
		break;
	case WARD_CIPHER_AES256_CTR:
		if (!iv || iv_size != WARD_CTR_IV_SIZE)
			return ward_err_set(err, -WARD_E_USAGE,
					    "AES-256-CTR needs a 16-byte counter block, got %zu",
					    iv_size);
		break;
	default:
		return ward_err_set(err, -WARD_E_USAGE, "unknown cipher mode %d", (int)mode);
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return ward_err_set(err, -ENOMEM, "out of memory");
	c->mode = mode;
	c->ctx = EVP_CIPHER_CTX_new();
	if (!c->ctx)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "cipher context");
	if (mode == WARD_CIPHER_AES256_CTR) {
		if (EVP_CipherInit_ex(c->ctx, EVP_aes_256_ctr(), NULL, key, iv, 1) != 1)
			return ward_crypto_err(err, -WARD_E_CRYPTO, "AES-256-CTR init failed");
	} else if (gcm_init(c->ctx, mode == WARD_CIPHER_AES256_GCM_ENCRYPT, key, iv, iv_size) < 0) {
		return ward_crypto_err(err, -WARD_E_CRYPTO, "AES-256-GCM init failed");
	}
	*ret = WARD_TAKE_PTR(c);
	return 0;
}

int ward_cipher_aad(struct ward_cipher *c, const void *aad, size_t size, struct ward_err *err)
{
	if (c->mode == WARD_CIPHER_AES256_CTR)
		return ward_err_set(err, -WARD_E_USAGE, "AES-256-CTR takes no AAD");
	if (c->updated || c->finished)
		return ward_err_set(err, -WARD_E_STATE, "AAD must come before any data");
	if (gcm_aad(c->ctx, aad, size) < 0)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "AES-256-GCM AAD failed");
	return 0;
}

int ward_cipher_update(struct ward_cipher *c, const void *in, size_t size, uint8_t *out,
		       struct ward_err *err)
{
	if (c->finished)
		return ward_err_set(err, -WARD_E_STATE, "cipher update after final");
	c->updated = true;
	if (ward_crypto_cipher_update(c->ctx, in, size, out) < 0) {
		c->finished = true;
		return ward_crypto_err(err, -WARD_E_CRYPTO, "cipher update failed");
	}
	return 0;
}

int ward_cipher_final(struct ward_cipher *c, uint8_t tag[16], struct ward_err *err)
{
	uint8_t dummy[16], tag_copy[WARD_GCM_TAG_SIZE];
	int outl = 0;

	if (c->finished)
		return ward_err_set(err, -WARD_E_STATE, "cipher final called twice");
	c->finished = true;
	switch (c->mode) {
	case WARD_CIPHER_AES256_CTR:
		return 0;
	case WARD_CIPHER_AES256_GCM_ENCRYPT:
		if (EVP_EncryptFinal_ex(c->ctx, dummy, &outl) != 1 || outl != 0 ||
		    EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_GCM_GET_TAG, WARD_GCM_TAG_SIZE, tag) != 1)
			return ward_crypto_err(err, -WARD_E_CRYPTO, "AES-256-GCM final failed");
		return 0;
	case WARD_CIPHER_AES256_GCM_DECRYPT:
		if (!tag)
			return ward_err_set(err, -WARD_E_USAGE, "AES-256-GCM decrypt needs a tag");
		memcpy(tag_copy, tag, sizeof(tag_copy));
		if (EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_GCM_SET_TAG, WARD_GCM_TAG_SIZE,
					tag_copy) != 1)
			return ward_crypto_err(err, -WARD_E_CRYPTO, "AES-256-GCM set tag failed");
		if (EVP_DecryptFinal_ex(c->ctx, dummy, &outl) != 1)
			return ward_crypto_err(
			    err, -WARD_E_VERIFY,
			    "AES-256-GCM tag mismatch: output must be discarded");
		return 0;
	}
	return ward_err_set(err, -WARD_E_USAGE, "unknown cipher mode");
}

struct ward_cipher *ward_cipher_free(struct ward_cipher *c)
{
	if (!c)
		return NULL;
	EVP_CIPHER_CTX_free(c->ctx); /* cleanses the key schedule */
	free(c);
	return NULL;
}

static int kw_run(int enc, const uint8_t kek[32], const void *in, size_t in_size, uint8_t *out,
		  size_t out_size, struct ward_err *err)
{
	WARD_CLEANUP(EVP_CIPHER_CTX_freep) EVP_CIPHER_CTX *ctx = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *buf = NULL;
	int outl = 0, finl = 0;

	/* OpenSSL may write up to in_size bytes; stage through a wiped buffer
	 * so out receives exactly out_size bytes and nothing on failure. */
	buf = ward_secret_new(in_size + 16);
	ctx = EVP_CIPHER_CTX_new();
	if (!buf || !ctx)
		return ward_err_set(err, -ENOMEM, "out of memory");
	EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_wrap(), NULL, kek, NULL, enc) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "AES-256 key wrap init failed");
	if (EVP_CipherUpdate(ctx, buf->data, &outl, in, (int)in_size) != 1 ||
	    EVP_CipherFinal_ex(ctx, buf->data + outl, &finl) != 1) {
		if (!enc)
			return ward_crypto_err(err, -WARD_E_VERIFY,
					       "AES key unwrap integrity check failed");
		return ward_crypto_err(err, -WARD_E_CRYPTO, "AES-256 key wrap failed");
	}
	if ((size_t)outl + (size_t)finl != out_size)
		return ward_err_set(err, -WARD_E_CRYPTO, "AES key wrap produced %d bytes, not %zu",
				    outl + finl, out_size);
	memcpy(out, buf->data, out_size);
	return 0;
}

int ward_aes256kw_wrap(const uint8_t kek[32], const void *in, size_t in_size, uint8_t *out,
		       struct ward_err *err)
{
	if (in_size < 16 || in_size % 8 != 0 || in_size > 1 << 20)
		return ward_err_set(err, -WARD_E_USAGE,
				    "key wrap input of %zu bytes: need a multiple of 8, >= 16",
				    in_size);
	return kw_run(1, kek, in, in_size, out, in_size + 8, err);
}

int ward_aes256kw_unwrap(const uint8_t kek[32], const void *in, size_t in_size, uint8_t *out,
			 struct ward_err *err)
{
	if (in_size < 24 || in_size % 8 != 0 || in_size > (1 << 20) + 8)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "wrapped key of %zu bytes: need a multiple of 8, >= 24",
				    in_size);
	return kw_run(0, kek, in, in_size, out, in_size - 8, err);
}
