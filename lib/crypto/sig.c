/* SPDX-License-Identifier: Apache-2.0 */
/* Signatures (ECDSA with DER or raw r||s encodings, RSA PKCS#1 v1.5 and
 * PSS), RSA-OAEP and ECDH/X25519 key agreement. */
#include <errno.h>
#include <limits.h>

#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include "crypto-internal.h"

enum sig_kind {
	KIND_ECDSA,
	KIND_PKCS1,
	KIND_PSS,
};

static int sig_alg_info(enum ward_sig_alg alg, enum ward_hash_alg *hash, enum sig_kind *kind)
{
	switch (alg) {
	case WARD_SIG_ECDSA_SHA256:
		*hash = WARD_HASH_SHA256, *kind = KIND_ECDSA;
		return 0;
	case WARD_SIG_ECDSA_SHA384:
		*hash = WARD_HASH_SHA384, *kind = KIND_ECDSA;
		return 0;
	case WARD_SIG_ECDSA_SHA512:
		*hash = WARD_HASH_SHA512, *kind = KIND_ECDSA;
		return 0;
	case WARD_SIG_RSA_PKCS1_SHA256:
		*hash = WARD_HASH_SHA256, *kind = KIND_PKCS1;
		return 0;
	case WARD_SIG_RSA_PSS_SHA256:
		*hash = WARD_HASH_SHA256, *kind = KIND_PSS;
		return 0;
	case WARD_SIG_RSA_PSS_SHA384:
		*hash = WARD_HASH_SHA384, *kind = KIND_PSS;
		return 0;
	}
	return -1;
}

static const char *sig_alg_name(enum ward_sig_alg alg)
{
	static const char *const names[] = {
	    [WARD_SIG_ECDSA_SHA256] = "ECDSA-SHA256",
	    [WARD_SIG_ECDSA_SHA384] = "ECDSA-SHA384",
	    [WARD_SIG_ECDSA_SHA512] = "ECDSA-SHA512",
	    [WARD_SIG_RSA_PKCS1_SHA256] = "RSA-PKCS1-SHA256",
	    [WARD_SIG_RSA_PSS_SHA256] = "RSA-PSS-SHA256",
	    [WARD_SIG_RSA_PSS_SHA384] = "RSA-PSS-SHA384",
	};

	if ((unsigned)alg < WARD_ARRAY_SIZE(names))
		return names[alg];
	return "unknown";
}

static const char *key_type_name(enum ward_key_type t)
{
	switch (t) {
	case WARD_KEY_EC_P256:
		return "EC P-256";
	case WARD_KEY_EC_P384:
		return "EC P-384";
	case WARD_KEY_X25519:
		return "X25519";
	case WARD_KEY_RSA:
		return "RSA";
	case WARD_KEY_NONE:
		break;
	}
	return "unsupported";
}

static bool key_fits(enum ward_key_type t, enum sig_kind kind)
{
	if (kind == KIND_ECDSA)
		return t == WARD_KEY_EC_P256 || t == WARD_KEY_EC_P384;
	return t == WARD_KEY_RSA;
}

/* Set up a DigestSign/DigestVerify context for the algorithm. */
static int digest_ctx_init(EVP_MD_CTX *mctx, bool sign, EVP_PKEY *pkey, enum ward_hash_alg hash,
			   enum sig_kind kind)
{
	const EVP_MD *md = ward_crypto_md(hash);
	EVP_PKEY_CTX *pctx = NULL; /* owned by mctx */
	int r;

	r = sign ? EVP_DigestSignInit_ex(mctx, &pctx, EVP_MD_get0_name(md), NULL, NULL, pkey, NULL)
		 : EVP_DigestVerifyInit_ex(mctx, &pctx, EVP_MD_get0_name(md), NULL, NULL, pkey,
					   NULL);
	if (r != 1)
		return -1;
	if (kind == KIND_PKCS1 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
		return -1;
	if (kind == KIND_PSS &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1 ||
	     /* sign: salt = hash size; verify: salt must be exactly that */
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
		return -1;
	return 0;
}

static int ec_order(enum ward_key_type t, BIGNUM **ret)
{
	WARD_CLEANUP(EC_GROUP_freep)
	EC_GROUP *g = EC_GROUP_new_by_curve_name(t == WARD_KEY_EC_P256 ? NID_X9_62_prime256v1
								       : NID_secp384r1);

	if (!g)
		return -1;
	*ret = BN_dup(EC_GROUP_get0_order(g));
	return *ret ? 0 : -1;
}

static void reverse(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n / 2; i++) {
		uint8_t t = p[i];

		p[i] = p[n - 1 - i];
		p[n - 1 - i] = t;
	}
}

/* DER ECDSA-Sig-Value -> r || s (each n bytes), big- or little-endian. */
static int ecdsa_der_to_raw(const uint8_t *der, size_t der_size, size_t n, bool le, uint8_t *out)
{
	WARD_CLEANUP(ECDSA_SIG_freep) ECDSA_SIG *sig = NULL;
	const uint8_t *p = der;
	const BIGNUM *r, *s;

	sig = d2i_ECDSA_SIG(NULL, &p, (long)der_size);
	if (!sig)
		return -1;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, out, (int)n) != (int)n || BN_bn2binpad(s, out + n, (int)n) != (int)n)
		return -1;
	if (le) {
		reverse(out, n);
		reverse(out + n, n);
	}
	return 0;
}

int ward_sign(const struct ward_pkey *key, enum ward_sig_alg alg, enum ward_sig_encoding enc,
	      const void *msg, size_t msg_size, uint8_t **ret, size_t *ret_size,
	      struct ward_err *err)
{
	WARD_CLEANUP(EVP_MD_CTX_freep) EVP_MD_CTX *mctx = NULL;
	WARD_AUTOFREE uint8_t *sig = NULL;
	enum ward_key_type t = ward_pkey_type(key);
	enum ward_hash_alg hash;
	enum sig_kind kind;
	size_t sig_size = 0, n;

	if (sig_alg_info(alg, &hash, &kind) < 0)
		return ward_err_set(err, -WARD_E_USAGE, "unknown signature algorithm %d", (int)alg);
	if (enc != WARD_SIG_DER && enc != WARD_SIG_RAW_BE && enc != WARD_SIG_RAW_LE)
		return ward_err_set(err, -WARD_E_USAGE, "unknown signature encoding %d", (int)enc);
	if (!key_fits(t, kind))
		return ward_err_set(err, -WARD_E_USAGE, "%s key cannot sign %s", key_type_name(t),
				    sig_alg_name(alg));
	if (kind != KIND_ECDSA && enc != WARD_SIG_DER)
		return ward_err_set(err, -WARD_E_USAGE, "raw encodings are for ECDSA only");
	if (!ward_pkey_is_private(key))
		return ward_err_set(err, -WARD_E_USAGE, "signing needs a private key");
	mctx = EVP_MD_CTX_new();
	if (!mctx || digest_ctx_init(mctx, true, ward_pkey_evp(key), hash, kind) < 0 ||
	    EVP_DigestSign(mctx, NULL, &sig_size, msg_size ? msg : (const void *)"", msg_size) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "%s signing failed", sig_alg_name(alg));
	sig = malloc(sig_size);
	if (!sig)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (EVP_DigestSign(mctx, sig, &sig_size, msg_size ? msg : (const void *)"", msg_size) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "%s signing failed", sig_alg_name(alg));
	if (kind == KIND_ECDSA && enc != WARD_SIG_DER) {
		WARD_AUTOFREE uint8_t *raw = NULL;

		n = ward_crypto_ec_coord_size(t);
		raw = malloc(2 * n);
		if (!raw)
			return ward_err_set(err, -ENOMEM, "out of memory");
		if (ecdsa_der_to_raw(sig, sig_size, n, enc == WARD_SIG_RAW_LE, raw) < 0)
			return ward_crypto_err(err, -WARD_E_CRYPTO, "ECDSA signature re-encoding");
		free(sig);
		sig = WARD_TAKE_PTR(raw);
		sig_size = 2 * n;
	}
	*ret = WARD_TAKE_PTR(sig);
	*ret_size = sig_size;
	return 0;
}

/* Turn an ECDSA signature in any encoding into canonical DER, checking
 * that r and s lie in 1..n-1. *ret is OPENSSL_malloc'ed. */
static int ecdsa_to_der(enum ward_key_type t, enum ward_sig_encoding enc, const uint8_t *sig,
			size_t sig_size, uint8_t **ret, int *ret_size, struct ward_err *err)
{
	WARD_CLEANUP(ECDSA_SIG_freep) ECDSA_SIG *es = NULL;
	WARD_CLEANUP(BN_clear_freep) BIGNUM *order = NULL;
	size_t n = ward_crypto_ec_coord_size(t);
	const BIGNUM *r, *s;
	uint8_t *der = NULL;
	int der_size;

	if (enc == WARD_SIG_DER) {
		const uint8_t *p = sig;

		if (sig_size > 2 * n + 16)
			return ward_err_set(err, -WARD_E_VERIFY,
					    "ECDSA DER signature of %zu bytes too long", sig_size);
		es = d2i_ECDSA_SIG(NULL, &p, (long)sig_size);
		if (!es || p != sig + sig_size)
			return ward_crypto_err(err, -WARD_E_VERIFY,
					       "ECDSA signature is not one DER SEQUENCE{r,s}");
	} else {
		uint8_t tmp[2 * 48];
		BIGNUM *br, *bs;

		if (sig_size != 2 * n)
			return ward_err_set(err, -WARD_E_VERIFY,
					    "raw ECDSA signature of %zu bytes, expected %zu",
					    sig_size, 2 * n);
		memcpy(tmp, sig, 2 * n);
		if (enc == WARD_SIG_RAW_LE) {
			reverse(tmp, n);
			reverse(tmp + n, n);
		}
		es = ECDSA_SIG_new();
		br = BN_bin2bn(tmp, (int)n, NULL);
		bs = BN_bin2bn(tmp + n, (int)n, NULL);
		if (!es || !br || !bs || ECDSA_SIG_set0(es, br, bs) != 1) {
			BN_free(br);
			BN_free(bs);
			return ward_crypto_err(err, -ENOMEM, "ECDSA signature");
		}
	}
	ECDSA_SIG_get0(es, &r, &s);
	if (ec_order(t, &order) < 0)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "EC group order");
	if (BN_is_zero(r) || BN_is_zero(s) || BN_is_negative(r) || BN_is_negative(s) ||
	    BN_cmp(r, order) >= 0 || BN_cmp(s, order) >= 0)
		return ward_err_set(err, -WARD_E_VERIFY, "ECDSA r or s outside 1..n-1");
	der_size = i2d_ECDSA_SIG(es, &der);
	if (der_size <= 0)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "ECDSA signature encoding");
	/* DER must be canonical: re-encoding gives back the same bytes. */
	if (enc == WARD_SIG_DER &&
	    ((size_t)der_size != sig_size || memcmp(der, sig, sig_size) != 0)) {
		OPENSSL_free(der);
		return ward_err_set(err, -WARD_E_VERIFY, "ECDSA signature DER is not canonical");
	}
	*ret = der;
	*ret_size = der_size;
	return 0;
}

int ward_verify(const struct ward_pkey *key, enum ward_sig_alg alg, enum ward_sig_encoding enc,
		const void *msg, size_t msg_size, const void *sig, size_t sig_size,
		struct ward_err *err)
{
	WARD_CLEANUP(EVP_MD_CTX_freep) EVP_MD_CTX *mctx = NULL;
	WARD_CLEANUP(ward_openssl_freep) uint8_t *der = NULL;
	enum ward_key_type t = ward_pkey_type(key);
	const uint8_t *check = sig;
	size_t check_size = sig_size;
	enum ward_hash_alg hash;
	enum sig_kind kind;
	int der_size = 0, r;

	if (sig_alg_info(alg, &hash, &kind) < 0)
		return ward_err_set(err, -WARD_E_USAGE, "unknown signature algorithm %d", (int)alg);
	if (enc != WARD_SIG_DER && enc != WARD_SIG_RAW_BE && enc != WARD_SIG_RAW_LE)
		return ward_err_set(err, -WARD_E_USAGE, "unknown signature encoding %d", (int)enc);
	if (!key_fits(t, kind))
		return ward_err_set(err, -WARD_E_VERIFY, "%s key cannot verify %s",
				    key_type_name(t), sig_alg_name(alg));
	if (!sig || sig_size == 0)
		return ward_err_set(err, -WARD_E_VERIFY, "empty signature");
	if (kind == KIND_ECDSA) {
		r = ecdsa_to_der(t, enc, sig, sig_size, &der, &der_size, err);
		if (r < 0)
			return r;
		check = der;
		check_size = (size_t)der_size;
	} else {
		if (enc != WARD_SIG_DER)
			return ward_err_set(err, -WARD_E_USAGE, "raw encodings are for ECDSA only");
		if (sig_size != (size_t)EVP_PKEY_get_size(ward_pkey_evp(key)))
			return ward_err_set(err, -WARD_E_VERIFY,
					    "RSA signature of %zu bytes, modulus is %d bytes",
					    sig_size, EVP_PKEY_get_size(ward_pkey_evp(key)));
	}
	mctx = EVP_MD_CTX_new();
	if (!mctx || digest_ctx_init(mctx, false, ward_pkey_evp(key), hash, kind) < 0)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "%s verification setup failed",
				       sig_alg_name(alg));
	r = EVP_DigestVerify(mctx, check, check_size, msg_size ? msg : (const void *)"", msg_size);
	if (r != 1) {
		ERR_clear_error();
		return ward_err_set(err, -WARD_E_VERIFY, "%s signature does not verify",
				    sig_alg_name(alg));
	}
	return 0;
}

static int oaep_ctx(EVP_PKEY_CTX *ctx, bool enc, enum ward_hash_alg hash)
{
	const EVP_MD *md = ward_crypto_md(hash);

	if ((enc ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) != 1)
		return -1;
	return 0;
}

int ward_rsa_oaep_encrypt(const struct ward_pkey *pub, enum ward_hash_alg hash, const void *in,
			  size_t in_size, uint8_t **ret, size_t *ret_size, struct ward_err *err)
{
	WARD_CLEANUP(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
	WARD_AUTOFREE uint8_t *out = NULL;
	size_t k, hs = ward_hash_size(hash), out_size;

	if (!ward_crypto_md(hash))
		return ward_err_set(err, -WARD_E_USAGE, "unknown hash algorithm %d", (int)hash);
	if (ward_pkey_type(pub) != WARD_KEY_RSA)
		return ward_err_set(err, -WARD_E_USAGE, "RSA-OAEP needs an RSA key");
	k = (size_t)EVP_PKEY_get_size(ward_pkey_evp(pub));
	if (in_size + 2 * hs + 2 > k)
		return ward_err_set(err, -WARD_E_TOO_BIG,
				    "RSA-OAEP-%s input of %zu bytes exceeds %zu for this key",
				    ward_hash_name(hash), in_size, k - 2 * hs - 2);
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ward_pkey_evp(pub), NULL);
	out = malloc(k);
	if (!ctx || !out)
		return ward_err_set(err, -ENOMEM, "out of memory");
	out_size = k;
	if (oaep_ctx(ctx, true, hash) < 0 ||
	    EVP_PKEY_encrypt(ctx, out, &out_size, in_size ? in : (const void *)"", in_size) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "RSA-OAEP encryption failed");
	*ret = WARD_TAKE_PTR(out);
	*ret_size = out_size;
	return 0;
}

int ward_rsa_oaep_decrypt(const struct ward_pkey *priv, enum ward_hash_alg hash, const void *in,
			  size_t in_size, struct ward_secret **ret, struct ward_err *err)
{
	WARD_CLEANUP(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *buf = NULL;
	struct ward_secret *s;
	size_t k, out_size;

	if (!ward_crypto_md(hash))
		return ward_err_set(err, -WARD_E_USAGE, "unknown hash algorithm %d", (int)hash);
	if (ward_pkey_type(priv) != WARD_KEY_RSA || !ward_pkey_is_private(priv))
		return ward_err_set(err, -WARD_E_USAGE,
				    "RSA-OAEP decryption needs an RSA private key");
	k = (size_t)EVP_PKEY_get_size(ward_pkey_evp(priv));
	if (in_size != k)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "RSA-OAEP ciphertext of %zu bytes, modulus is %zu", in_size, k);
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ward_pkey_evp(priv), NULL);
	buf = ward_secret_new(k);
	if (!ctx || !buf)
		return ward_err_set(err, -ENOMEM, "out of memory");
	out_size = k;
	if (oaep_ctx(ctx, false, hash) < 0)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "RSA-OAEP setup failed");
	if (EVP_PKEY_decrypt(ctx, buf->data, &out_size, in, in_size) != 1) {
		/* One message for every padding failure (no oracle detail). */
		ERR_clear_error();
		return ward_err_set(err, -WARD_E_VERIFY, "RSA-OAEP decryption failed");
	}
	s = ward_secret_dup(buf->data, out_size);
	if (!s)
		return ward_err_set(err, -ENOMEM, "out of memory");
	*ret = s;
	return 0;
}

int ward_ecdh(const struct ward_pkey *priv, const struct ward_pkey *peer_pub,
	      struct ward_secret **ret, struct ward_err *err)
{
	WARD_CLEANUP(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *s = NULL;
	enum ward_key_type t = ward_pkey_type(priv), pt = ward_pkey_type(peer_pub);
	size_t n = 0;

	if (t != WARD_KEY_EC_P256 && t != WARD_KEY_EC_P384 && t != WARD_KEY_X25519)
		return ward_err_set(err, -WARD_E_USAGE, "%s key cannot do key agreement",
				    key_type_name(t));
	if (pt != t)
		return ward_err_set(err, -WARD_E_MALFORMED, "peer key is %s, ours is %s",
				    key_type_name(pt), key_type_name(t));
	if (!ward_pkey_is_private(priv))
		return ward_err_set(err, -WARD_E_USAGE, "key agreement needs our private key");
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ward_pkey_evp(priv), NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "key agreement setup failed");
	/* No second validation of the peer (a scalar multiplication by the
	 * order for EC, about 7 % of a coordinator flow): every constructor of
	 * a ward_pkey already refused points off the curve (ec_from_point's
	 * full check; OpenSSL's SubjectPublicKeyInfo and PKCS#8 decoders check
	 * on-curve, sufficient for P-256 and P-384, whose cofactor is 1; the
	 * point at infinity fails the derivation below). X25519 low-order
	 * points are caught by the all-zero secret. test-pkey covers both. */
	if (EVP_PKEY_derive_set_peer_ex(ctx, ward_pkey_evp(peer_pub), 0) != 1)
		return ward_crypto_err(err, -WARD_E_MALFORMED, "peer public key rejected");
	if (EVP_PKEY_derive(ctx, NULL, &n) != 1 || n == 0 || n > 256)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "key agreement failed");
	s = ward_secret_new(n);
	if (!s)
		return ward_err_set(err, -ENOMEM, "out of memory");
	/* X25519 fails here for a low-order peer point (all-zero secret). */
	if (EVP_PKEY_derive(ctx, s->data, &n) != 1 || n != s->size)
		return ward_crypto_err(err, -WARD_E_MALFORMED,
				       "key agreement failed (invalid peer key)");
	*ret = WARD_TAKE_PTR(s);
	return 0;
}
