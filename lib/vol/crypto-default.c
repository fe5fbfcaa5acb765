/* SPDX-License-Identifier: Apache-2.0 */
/* The volume engine's crypto table backed by lib/crypto (OpenSSL). */
#include <string.h>

#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/vol.h"

static int d_seal(void *ctx, const uint8_t key[32], const uint8_t nonce[12], const void *aad,
		  size_t aad_size, const void *pt, size_t size, uint8_t *ct, uint8_t tag[16])
{
	(void)ctx;
	return ward_aes256gcm_seal(key, nonce, 12, aad, aad_size, pt, size, ct, tag, NULL);
}

static int d_open(void *ctx, const uint8_t key[32], const uint8_t nonce[12], const void *aad,
		  size_t aad_size, const void *ct, size_t size, const uint8_t tag[16], uint8_t *pt)
{
	(void)ctx;
	return ward_aes256gcm_open(key, nonce, 12, aad, aad_size, ct, size, tag, pt, NULL);
}

static int d_kdf(void *ctx, const uint8_t key[32], const char *label, const void *info,
		 size_t info_size, uint8_t out[32])
{
	uint8_t buf[128];
	size_t n = strlen(label);

	(void)ctx;
	if (n + 1 + info_size > sizeof(buf))
		return -WARD_E_USAGE;
	memcpy(buf, label, n);
	buf[n] = 0; /* separates label from info unambiguously */
	memcpy(buf + n + 1, info, info_size);
	return ward_hkdf(WARD_HASH_SHA256, key, 32, NULL, 0, buf, n + 1 + info_size, out, 32,
			 NULL);
}

static int d_hash(void *ctx, const void *data, size_t size, uint8_t out[32])
{
	(void)ctx;
	return ward_hash(WARD_HASH_SHA256, data, size, out, NULL);
}

static int d_random(void *ctx, void *buf, size_t size)
{
	(void)ctx;
	return ward_random(buf, size, NULL);
}

static const struct ward_vol_crypto default_crypto = {
	.ctx = NULL,
	.seal = d_seal,
	.open = d_open,
	.kdf = d_kdf,
	.hash = d_hash,
	.random = d_random,
};

const struct ward_vol_crypto *ward_vol_crypto_default(void)
{
	return &default_crypto;
}
