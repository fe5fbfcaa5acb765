/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Private to lib/crypto: OpenSSL types, cleanup helpers and the error
 * mapping shared by the wrapper files. Nothing outside lib/crypto includes
 * this header (or any OpenSSL header). */

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/error.h"

WARD_DEFINE_FREEP(EVP_MD_CTX, EVP_MD_CTX_free)
WARD_DEFINE_FREEP(EVP_MAC, EVP_MAC_free)
WARD_DEFINE_FREEP(EVP_MAC_CTX, EVP_MAC_CTX_free)
WARD_DEFINE_FREEP(EVP_KDF, EVP_KDF_free)
WARD_DEFINE_FREEP(EVP_KDF_CTX, EVP_KDF_CTX_free)
WARD_DEFINE_FREEP(EVP_CIPHER_CTX, EVP_CIPHER_CTX_free)
WARD_DEFINE_FREEP(EVP_PKEY, EVP_PKEY_free)
WARD_DEFINE_FREEP(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
WARD_DEFINE_FREEP(BIO, BIO_free)
WARD_DEFINE_FREEP(BIGNUM, BN_clear_free)
WARD_DEFINE_FREEP(BN_CTX, BN_CTX_free)
WARD_DEFINE_FREEP(EC_GROUP, EC_GROUP_free)
WARD_DEFINE_FREEP(EC_POINT, EC_POINT_clear_free)
WARD_DEFINE_FREEP(ECDSA_SIG, ECDSA_SIG_free)
WARD_DEFINE_FREEP(OSSL_PARAM_BLD, OSSL_PARAM_BLD_free)
WARD_DEFINE_FREEP(OSSL_PARAM, OSSL_PARAM_free)
WARD_DEFINE_FREEP(X509, X509_free)
WARD_DEFINE_FREEP(X509_CRL, X509_CRL_free)
WARD_DEFINE_FREEP(X509_STORE, X509_STORE_free)
WARD_DEFINE_FREEP(X509_STORE_CTX, X509_STORE_CTX_free)
WARD_DEFINE_FREEP(ASN1_OBJECT, ASN1_OBJECT_free)
WARD_DEFINE_FREEP(ASN1_INTEGER, ASN1_INTEGER_free)
static inline void ward_openssl_freep(void *p)
{
	OPENSSL_free(*(void **)p);
}
static inline void ward_x509_stack_freep(STACK_OF(X509) * *sk)
{
	if (*sk)
		sk_X509_pop_free(*sk, X509_free);
}
static inline void ward_x509_stack_shallow_freep(STACK_OF(X509) * *sk)
{
	if (*sk)
		sk_X509_free(*sk);
}

/* The public opaque types are the OpenSSL objects themselves (they are
 * refcounted already); these casts are the only place that knows. */
static inline EVP_PKEY *ward_pkey_evp(const struct ward_pkey *k)
{
	return (EVP_PKEY *)k;
}
static inline X509 *ward_x509_raw(const struct ward_x509 *c)
{
	return (X509 *)c;
}
static inline X509_CRL *ward_crl_raw(const struct ward_crl *c)
{
	return (X509_CRL *)c;
}

/* Set err like ward_err_set(), appending the most recent OpenSSL error
 * (library reason text only, never key material), then clear OpenSSL's
 * error queue so it does not leak into later calls. Returns code. */
int ward_crypto_err(struct ward_err *err, int code, const char *fmt, ...) WARD_PRINTF(3, 4);

/* The EVP digest for alg, or NULL for an unknown value. */
const EVP_MD *ward_crypto_md(enum ward_hash_alg alg);

/* Classify an EVP_PKEY: one of the allowed key types, or WARD_KEY_NONE
 * (wrong algorithm, curve, or an RSA modulus outside 2048..16384 bits). */
enum ward_key_type ward_crypto_key_type(const EVP_PKEY *pkey);

/* Take ownership of pkey and return it as a ward_pkey, or fail with
 * -WARD_E_UNSUPPORTED (freeing pkey) if its type is not allowed. what
 * names the input for the message. */
int ward_crypto_pkey_take(EVP_PKEY *pkey, const char *what, struct ward_pkey **ret,
			  struct ward_err *err);

/* Coordinate size in bytes of an EC key type (32, 48), else 0. */
size_t ward_crypto_ec_coord_size(enum ward_key_type type);

/* Feed size bytes through EVP_CipherUpdate in int-sized pieces; out
 * receives exactly size bytes for stream modes. 0 or -1. */
int ward_crypto_cipher_update(EVP_CIPHER_CTX *ctx, const void *in, size_t size, uint8_t *out);

/* Convert an ASN1_TIME to time_t (UTC). 0 or -1. */
int ward_crypto_asn1_time(const ASN1_TIME *t, time_t *ret);
