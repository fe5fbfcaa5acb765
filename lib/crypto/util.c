/* SPDX-License-Identifier: Apache-2.0 */
/* Randomness, constant-time comparison, owned secrets, key IDs, and the
 * OpenSSL error mapping used by the rest of lib/crypto. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "crypto-internal.h"
#include "ward/encoding.h"
#include "ward/log.h"

int ward_crypto_err(struct ward_err *err, int code, const char *fmt, ...)
{
	char msg[WARD_ERR_MSG_MAX];
	char ossl[128] = "";
	unsigned long e = ERR_peek_last_error();
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (e != 0)
		ERR_error_string_n(e, ossl, sizeof(ossl));
	ERR_clear_error();
	if (ossl[0])
		return ward_err_set(err, code, "%s (%s)", msg, ossl);
	return ward_err_set(err, code, "%s", msg);
}

const EVP_MD *ward_crypto_md(enum ward_hash_alg alg)
{
	switch (alg) {
	case WARD_HASH_SHA1:
		return EVP_sha1();
	case WARD_HASH_SHA256:
		return EVP_sha256();
	case WARD_HASH_SHA384:
		return EVP_sha384();
	case WARD_HASH_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

int ward_crypto_cipher_update(EVP_CIPHER_CTX *ctx, const void *in, size_t size, uint8_t *out)
{
	const uint8_t *p = in;

	/* EVP takes int lengths: feed large buffers in pieces. */
	while (size > 0) {
		int n = size > (size_t)(INT_MAX / 2) ? INT_MAX / 2 : (int)size;
		int outl = 0;

		if (EVP_CipherUpdate(ctx, out, &outl, p, n) != 1 || outl != n)
			return -1;
		p += n;
		out += n;
		size -= (size_t)n;
	}
	return 0;
}

int ward_crypto_asn1_time(const ASN1_TIME *t, time_t *ret)
{
	struct tm tm = {0};
	time_t v;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	v = timegm(&tm);
	if (v == (time_t)-1)
		return -1;
	*ret = v;
	return 0;
}

int ward_random(void *buf, size_t size, struct ward_err *err)
{
	uint8_t *p = buf;

	while (size > 0) {
		int n = size > (size_t)INT_MAX ? INT_MAX : (int)size;

		if (RAND_bytes(p, n) != 1)
			return ward_crypto_err(err, -WARD_E_CRYPTO, "random generator failed");
		p += n;
		size -= (size_t)n;
	}
	return 0;
}

bool ward_ct_eq(const void *a, const void *b, size_t size)
{
	return CRYPTO_memcmp(a, b, size) == 0;
}

struct ward_secret *ward_secret_new(size_t size)
{
	struct ward_secret *s;

	if (size > SIZE_MAX - sizeof(*s) - 1)
		return NULL;
	/* One spare byte keeps a NUL after text secrets (PEM). */
	s = calloc(1, sizeof(*s) + size + 1);
	if (!s)
		return NULL;
	s->size = size;
	return s;
}

struct ward_secret *ward_secret_dup(const void *data, size_t size)
{
	struct ward_secret *s = ward_secret_new(size);

	if (s && size)
		memcpy(s->data, data, size);
	return s;
}

struct ward_secret *ward_secret_free(struct ward_secret *s)
{
	if (!s)
		return NULL;
	OPENSSL_cleanse(s, sizeof(*s) + s->size + 1);
	free(s);
	return NULL;
}

void ward_log_key_id(const void *key, size_t size, char out[WARD_KEY_ID_STR_SIZE])
{
	uint8_t digest[32];

	if (ward_hash(WARD_HASH_SHA256, key, size, digest, NULL) < 0) {
		/* Cannot happen with a working libcrypto; never print key bytes. */
		memcpy(out, "????????????????", WARD_KEY_ID_STR_SIZE);
		return;
	}
	ward_hex_encode(digest, 8, out);
}
