/* SPDX-License-Identifier: Apache-2.0 */
/* Keyed AES-256-GCM context: the key schedule is computed once, each seal
 * or open only sets a new IV. For callers that encrypt many small records
 * under one key (the volume engine's 4 KiB blocks), where keying a fresh
 * OpenSSL context per record costs about a third of the work. */
#include <errno.h>
#include <stdlib.h>

#include "crypto-internal.h"

struct ward_aead_ctx {
	EVP_CIPHER_CTX *enc; /* owned, keyed for encryption */
	EVP_CIPHER_CTX *dec; /* owned, keyed for decryption */
};

struct ward_aead_ctx *ward_aead_ctx_free(struct ward_aead_ctx *c)
{
	if (!c)
		return NULL;
	/* EVP_CIPHER_CTX_free cleanses the key schedule. */
	EVP_CIPHER_CTX_free(c->enc);
	EVP_CIPHER_CTX_free(c->dec);
	free(c);
	return NULL;
}

int ward_aead_ctx_new(const uint8_t key[WARD_AES256_KEY_SIZE], struct ward_aead_ctx **ret,
		      struct ward_err *err)
{
	WARD_CLEANUP(ward_aead_ctx_freep) struct ward_aead_ctx *c = NULL;

	c = calloc(1, sizeof(*c));
	if (!c)
		return ward_err_set(err, -ENOMEM, "out of memory");
	c->enc = EVP_CIPHER_CTX_new();
	c->dec = EVP_CIPHER_CTX_new();
	/* The default GCM IV length is 12 bytes: no SET_IVLEN needed, and
	 * the IV is supplied per record. */
	if (!c->enc || !c->dec ||
	    EVP_CipherInit_ex(c->enc, EVP_aes_256_gcm(), NULL, key, NULL, 1) != 1 ||
	    EVP_CipherInit_ex(c->dec, EVP_aes_256_gcm(), NULL, key, NULL, 0) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "AES-256-GCM context");
	*ret = WARD_TAKE_PTR(c);
	return 0;
}

static int aad_update(EVP_CIPHER_CTX *ctx, const void *aad, size_t size)
{
	int outl = 0;

	if (size == 0)
		return 0;
	if (size > INT_MAX)
		return -1;
	return EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)size) == 1 ? 0 : -1;
}

int ward_aead_ctx_seal_iv(struct ward_aead_ctx *c, const uint8_t iv[WARD_GCM_IV_SIZE],
			  const void *aad, size_t aad_size, const void *pt, size_t pt_size,
			  uint8_t *ct, uint8_t tag[WARD_GCM_TAG_SIZE], struct ward_err *err)
{
	uint8_t dummy[16];
	int outl = 0;

	if (!c || !iv)
		return ward_err_set(err, -WARD_E_USAGE, "AES-256-GCM: no context or IV");
	if (EVP_CipherInit_ex(c->enc, NULL, NULL, NULL, iv, 1) != 1 ||
	    aad_update(c->enc, aad, aad_size) < 0 ||
	    ward_crypto_cipher_update(c->enc, pt, pt_size, ct) < 0 ||
	    EVP_EncryptFinal_ex(c->enc, dummy, &outl) != 1 || outl != 0 ||
	    EVP_CIPHER_CTX_ctrl(c->enc, EVP_CTRL_GCM_GET_TAG, WARD_GCM_TAG_SIZE, tag) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "AES-256-GCM encryption failed");
	return 0;
}

int ward_aead_ctx_open_iv(struct ward_aead_ctx *c, const uint8_t iv[WARD_GCM_IV_SIZE],
			  const void *aad, size_t aad_size, const void *ct, size_t ct_size,
			  const uint8_t tag[WARD_GCM_TAG_SIZE], uint8_t *pt, struct ward_err *err)
{
	uint8_t tag_copy[WARD_GCM_TAG_SIZE];
	uint8_t dummy[16];
	int outl = 0;

	if (!c || !iv)
		return ward_err_set(err, -WARD_E_USAGE, "AES-256-GCM: no context or IV");
	/* OpenSSL's ctrl takes a non-const pointer. */
	memcpy(tag_copy, tag, sizeof(tag_copy));
	if (EVP_CipherInit_ex(c->dec, NULL, NULL, NULL, iv, 0) != 1 ||
	    aad_update(c->dec, aad, aad_size) < 0 ||
	    ward_crypto_cipher_update(c->dec, ct, ct_size, pt) < 0 ||
	    EVP_CIPHER_CTX_ctrl(c->dec, EVP_CTRL_GCM_SET_TAG, WARD_GCM_TAG_SIZE, tag_copy) != 1) {
		ward_wipe(pt, ct_size);
		return ward_crypto_err(err, -WARD_E_CRYPTO, "AES-256-GCM decryption failed");
	}
	if (EVP_DecryptFinal_ex(c->dec, dummy, &outl) != 1) {
		/* Unauthenticated plaintext must not survive. */
		ward_wipe(pt, ct_size);
		return ward_crypto_err(
		    err, -WARD_E_VERIFY,
		    "AES-256-GCM tag mismatch: ciphertext, AAD, IV or key wrong");
	}
	return 0;
}
