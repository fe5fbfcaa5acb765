/* SPDX-License-Identifier: Apache-2.0 */
/* ECDSA P-384 with SHA-384 on Nettle's curve arithmetic. OpenSSL 3.0 runs
 * P-384 on its generic prime-field code (~1 800 signatures and ~2 100
 * verifications per second per core on the build machine); Nettle's
 * secp384r1 code, which is side-channel silent, signs ~6x and verifies
 * ~1.8x faster. This matters for SEV-SNP reports: the coordinator verifies
 * one per attestation and the sim TEE signs one per report. Keys stay
 * OpenSSL objects (struct ward_pkey); only these two operations move.
 * Kept in its own object file so that programs which never call it (the
 * static ward-init) do not link Nettle. */
#include <errno.h>
#include <string.h>

#include <gmp.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>
#include <openssl/core_names.h>
#include <openssl/rand.h>

#include "crypto-internal.h"

#define P384_SIZE 48

/* The order n of the P-384 group (FIPS 186-4 D.1.2.4), big-endian. */
static const uint8_t P384_N[P384_SIZE] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
};

static bool fast_path(const struct ward_pkey *key, enum ward_sig_alg alg,
		      enum ward_sig_encoding enc)
{
	return alg == WARD_SIG_ECDSA_SHA384 && (enc == WARD_SIG_RAW_BE || enc == WARD_SIG_RAW_LE) &&
	       ward_pkey_type(key) == WARD_KEY_EC_P384;
}

static void copy_order(const uint8_t *in, bool le, uint8_t *out)
{
	for (size_t i = 0; i < P384_SIZE; i++)
		out[i] = le ? in[P384_SIZE - 1 - i] : in[i];
}

/* 1 <= v < n for a big-endian 48-byte value. */
static bool in_range(const uint8_t v[P384_SIZE])
{
	static const uint8_t zero[P384_SIZE];

	return memcmp(v, zero, P384_SIZE) != 0 && memcmp(v, P384_N, P384_SIZE) < 0;
}

/* Wipe an mpz's limbs (they may hold a private scalar), then free it. */
static void mpz_clear_erase(mpz_t z)
{
	OPENSSL_cleanse(z->_mp_d, (size_t)z->_mp_alloc * sizeof(mp_limb_t));
	mpz_clear(z);
}

static int public_point(const struct ward_pkey *key, struct ecc_point *pub, struct ward_err *err)
{
	EVP_PKEY *pk = ward_pkey_evp(key);
	WARD_CLEANUP(BN_clear_freep) BIGNUM *bx = NULL;
	WARD_CLEANUP(BN_clear_freep) BIGNUM *by = NULL;
	uint8_t x[P384_SIZE], y[P384_SIZE];
	mpz_t mx, my;
	int ok;

	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_X, &bx) != 1 ||
	    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_EC_PUB_Y, &by) != 1 ||
	    BN_bn2binpad(bx, x, P384_SIZE) != P384_SIZE ||
	    BN_bn2binpad(by, y, P384_SIZE) != P384_SIZE)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "EC P-384 public key unreadable");
	mpz_init(mx);
	mpz_init(my);
	mpz_import(mx, P384_SIZE, 1, 1, 0, 0, x);
	mpz_import(my, P384_SIZE, 1, 1, 0, 0, y);
	ok = ecc_point_set(pub, mx, my);
	mpz_clear(mx);
	mpz_clear(my);
	if (!ok)
		return ward_err_set(err, -WARD_E_VERIFY, "EC P-384 public key is not on the curve");
	return 0;
}

int ward_verify_fast(const struct ward_pkey *key, enum ward_sig_alg alg, enum ward_sig_encoding enc,
		     const void *msg, size_t msg_size, const void *sig, size_t sig_size,
		     struct ward_err *err)
{
	const bool le = enc == WARD_SIG_RAW_LE;
	struct ecc_point pub;
	struct dsa_signature ds;
	uint8_t digest[P384_SIZE], r_be[P384_SIZE], s_be[P384_SIZE];
	int r, ok;

	if (!fast_path(key, alg, enc))
		return ward_verify(key, alg, enc, msg, msg_size, sig, sig_size, err);
	/* The same checks, in the same order and with the same errors, as
	 * ward_verify(). */
	if (!sig || sig_size == 0)
		return ward_err_set(err, -WARD_E_VERIFY, "empty signature");
	if (sig_size != 2 * P384_SIZE)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "raw ECDSA signature of %zu bytes, expected %d", sig_size,
				    2 * P384_SIZE);
	copy_order(sig, le, r_be);
	copy_order((const uint8_t *)sig + P384_SIZE, le, s_be);
	if (!in_range(r_be) || !in_range(s_be))
		return ward_err_set(err, -WARD_E_VERIFY, "ECDSA r or s outside 1..n-1");
	r = ward_hash(WARD_HASH_SHA384, msg_size ? msg : (const void *)"", msg_size, digest, err);
	if (r < 0)
		return r;
	ecc_point_init(&pub, nettle_get_secp_384r1());
	r = public_point(key, &pub, err);
	if (r < 0) {
		ecc_point_clear(&pub);
		return r;
	}
	dsa_signature_init(&ds);
	mpz_import(ds.r, P384_SIZE, 1, 1, 0, 0, r_be);
	mpz_import(ds.s, P384_SIZE, 1, 1, 0, 0, s_be);
	ok = ecdsa_verify(&pub, sizeof(digest), digest, &ds);
	dsa_signature_clear(&ds);
	ecc_point_clear(&pub);
	if (ok != 1)
		return ward_err_set(err, -WARD_E_VERIFY, "ECDSA-SHA384 signature does not verify");
	return 0;
}

struct rng {
	bool failed;
};

/* Nettle's randomness callback: OpenSSL's private DRBG (the per-signature
 * nonce k is drawn from it). A failure is remembered; the signature made
 * with the bytes is then thrown away. */
static void rng_cb(void *ctx, size_t size, uint8_t *out)
{
	struct rng *g = ctx;

	if (size > INT32_MAX || RAND_priv_bytes(out, (int)size) != 1) {
		g->failed = true;
		memset(out, 0, size);
	}
}

int ward_sign_fast(const struct ward_pkey *key, enum ward_sig_alg alg, enum ward_sig_encoding enc,
		   const void *msg, size_t msg_size, uint8_t **ret, size_t *ret_size,
		   struct ward_err *err)
{
	const bool le = enc == WARD_SIG_RAW_LE;
	WARD_CLEANUP(BN_clear_freep) BIGNUM *bd = NULL;
	WARD_AUTOFREE uint8_t *out = NULL;
	struct ecc_scalar priv;
	struct dsa_signature ds;
	struct rng g = {0};
	uint8_t d[P384_SIZE], digest[P384_SIZE], tmp[P384_SIZE];
	size_t count;
	mpz_t md;
	int r, ok;

	WARD_CLEANUP_ERASE(d);
	if (!fast_path(key, alg, enc))
		return ward_sign(key, alg, enc, msg, msg_size, ret, ret_size, err);
	if (EVP_PKEY_get_bn_param(ward_pkey_evp(key), OSSL_PKEY_PARAM_PRIV_KEY, &bd) != 1) {
		ERR_clear_error();
		return ward_err_set(err, -WARD_E_USAGE, "signing needs a private key");
	}
	if (BN_bn2binpad(bd, d, P384_SIZE) != P384_SIZE)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "EC P-384 private key unreadable");
	r = ward_hash(WARD_HASH_SHA384, msg_size ? msg : (const void *)"", msg_size, digest, err);
	if (r < 0)
		return r;
	out = malloc(2 * P384_SIZE);
	if (!out)
		return ward_err_set(err, -ENOMEM, "out of memory");

	mpz_init(md);
	mpz_import(md, P384_SIZE, 1, 1, 0, 0, d);
	ecc_scalar_init(&priv, nettle_get_secp_384r1());
	ok = ecc_scalar_set(&priv, md);
	mpz_clear_erase(md);
	if (ok) {
		dsa_signature_init(&ds);
		ecdsa_sign(&priv, &g, rng_cb, sizeof(digest), digest, &ds);
		ok = !g.failed && mpz_sizeinbase(ds.r, 256) <= P384_SIZE &&
		     mpz_sizeinbase(ds.s, 256) <= P384_SIZE;
		for (int i = 0; ok && i < 2; i++) {
			mpz_srcptr v = i == 0 ? ds.r : ds.s;

			memset(tmp, 0, sizeof(tmp));
			count = (mpz_sizeinbase(v, 2) + 7) / 8;
			mpz_export(tmp + P384_SIZE - count, NULL, 1, 1, 0, 0, v);
			copy_order(tmp, le, out + i * P384_SIZE);
		}
		dsa_signature_clear(&ds);
	}
	OPENSSL_cleanse(priv.p, (size_t)ecc_size(priv.ecc) * sizeof(mp_limb_t));
	ecc_scalar_clear(&priv);
	if (g.failed)
		return ward_err_set(err, -WARD_E_CRYPTO, "ECDSA-SHA384 signing: no randomness");
	if (!ok)
		return ward_err_set(err, -WARD_E_CRYPTO, "ECDSA-SHA384 signing failed");
	*ret = WARD_TAKE_PTR(out);
	*ret_size = 2 * P384_SIZE;
	return 0;
}
