/* SPDX-License-Identifier: Apache-2.0 */
/* Asymmetric keys: generation, PEM/DER import and export, and import and
 * export of raw components (JWK style). The allow-list is EC P-256/P-384,
 * X25519 and RSA with a 2048..16384-bit modulus. */
#include <errno.h>
#include <limits.h>

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>

#include "crypto-internal.h"

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384
#define RSA_MAX_E_SIZE 8
#define KEY_INPUT_MAX_SIZE (64 * 1024)

static const char *curve_name(enum ward_key_type type)
{
	switch (type) {
	case WARD_KEY_EC_P256:
		return SN_X9_62_prime256v1;
	case WARD_KEY_EC_P384:
		return SN_secp384r1;
	default:
		return NULL;
	}
}

static int curve_nid(enum ward_key_type type)
{
	return type == WARD_KEY_EC_P256	  ? NID_X9_62_prime256v1
	       : type == WARD_KEY_EC_P384 ? NID_secp384r1
					  : NID_undef;
}

size_t ward_crypto_ec_coord_size(enum ward_key_type type)
{
	return type == WARD_KEY_EC_P256 ? 32 : type == WARD_KEY_EC_P384 ? 48 : 0;
}

enum ward_key_type ward_crypto_key_type(const EVP_PKEY *pkey)
{
	char group[64];
	size_t n = 0;
	int bits;

	if (!pkey)
		return WARD_KEY_NONE;
	if (EVP_PKEY_is_a(pkey, "EC")) {
		if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &n) != 1) {
			ERR_clear_error();
			return WARD_KEY_NONE;
		}
		if (strcmp(group, SN_X9_62_prime256v1) == 0)
			return WARD_KEY_EC_P256;
		if (strcmp(group, SN_secp384r1) == 0)
			return WARD_KEY_EC_P384;
		return WARD_KEY_NONE;
	}
	if (EVP_PKEY_is_a(pkey, "X25519"))
		return WARD_KEY_X25519;
	if (EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_is_a(pkey, "RSA-PSS")) {
		bits = EVP_PKEY_get_bits(pkey);
		if (bits >= RSA_MIN_BITS && bits <= RSA_MAX_BITS)
			return WARD_KEY_RSA;
	}
	return WARD_KEY_NONE;
}

int ward_crypto_pkey_take(EVP_PKEY *pkey, const char *what, struct ward_pkey **ret,
			  struct ward_err *err)
{
	WARD_CLEANUP(EVP_PKEY_freep) EVP_PKEY *k = pkey;

	if (ward_crypto_key_type(k) == WARD_KEY_NONE) {
		ERR_clear_error();
		return ward_err_set(
		    err, -WARD_E_UNSUPPORTED,
		    "%s: key type %s (%d bits) not allowed (EC P-256/P-384, "
		    "X25519, RSA 2048..16384)",
		    what, EVP_PKEY_get0_type_name(k) ? EVP_PKEY_get0_type_name(k) : "unknown",
		    EVP_PKEY_get_bits(k));
	}
	*ret = (struct ward_pkey *)WARD_TAKE_PTR(k);
	return 0;
}

int ward_pkey_generate(enum ward_key_type type, unsigned bits, struct ward_pkey **ret,
		       struct ward_err *err)
{
	EVP_PKEY *k = NULL;

	switch (type) {
	case WARD_KEY_EC_P256:
	case WARD_KEY_EC_P384:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve_name(type));
		break;
	case WARD_KEY_X25519:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
		break;
	case WARD_KEY_RSA:
		if (bits < 2048 || bits > 8192)
			return ward_err_set(err, -WARD_E_USAGE,
					    "RSA key size %u outside 2048..8192", bits);
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
		break;
	default:
		return ward_err_set(err, -WARD_E_USAGE, "cannot generate key type %d", (int)type);
	}
	if (!k)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "key generation failed");
	return ward_crypto_pkey_take(k, "generated key", ret, err);
}

/* Parse DER private key (PKCS#8, or the traditional SEC1/PKCS#1 forms
 * when type is given) or SPKI public key; all bytes must be used. */
static EVP_PKEY *der_private(const uint8_t *der, size_t size, int type)
{
	const uint8_t *p = der;
	EVP_PKEY *k;

	if (size > LONG_MAX)
		return NULL;
	k = type == EVP_PKEY_NONE ? d2i_AutoPrivateKey(NULL, &p, (long)size)
				  : d2i_PrivateKey(type, NULL, &p, (long)size);
	if (k && p != der + size) {
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

static EVP_PKEY *der_public(const uint8_t *der, size_t size)
{
	const uint8_t *p = der;
	EVP_PKEY *k;

	if (size > LONG_MAX)
		return NULL;
	k = d2i_PUBKEY(NULL, &p, (long)size);
	if (k && p != der + size) {
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

static bool only_space(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

int ward_pkey_from_pem(const void *pem, size_t size, struct ward_pkey **ret, struct ward_err *err)
{
	WARD_CLEANUP(BIO_freep) BIO *bio = NULL;
	WARD_CLEANUP(ward_openssl_freep) char *name = NULL;
	WARD_CLEANUP(ward_openssl_freep) char *header = NULL;
	uint8_t *data = NULL;
	long data_size = 0;
	EVP_PKEY *k = NULL;
	char *rest = NULL;
	long rest_size;

	if (size == 0 || size > KEY_INPUT_MAX_SIZE)
		return ward_err_set(err, size ? -WARD_E_TOO_BIG : -WARD_E_MALFORMED,
				    "PEM key of %zu bytes (limit %d)", size, KEY_INPUT_MAX_SIZE);
	bio = BIO_new_mem_buf(pem, (int)size);
	if (!bio)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (PEM_read_bio(bio, &name, &header, &data, &data_size) != 1)
		return ward_crypto_err(err, -WARD_E_MALFORMED, "no PEM block in key input");
	rest_size = BIO_get_mem_data(bio, &rest);
	if (rest_size > 0 && !only_space(rest, (size_t)rest_size)) {
		OPENSSL_clear_free(data, (size_t)data_size);
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "PEM key input has data after the '%s' block", name);
	}
	if (header && header[0]) {
		OPENSSL_clear_free(data, (size_t)data_size);
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "PEM '%s' has headers (encrypted keys are not supported)",
				    name);
	}
	if (strcmp(name, "PRIVATE KEY") == 0)
		k = der_private(data, (size_t)data_size, EVP_PKEY_NONE);
	else if (strcmp(name, "EC PRIVATE KEY") == 0)
		k = der_private(data, (size_t)data_size, EVP_PKEY_EC);
	else if (strcmp(name, "RSA PRIVATE KEY") == 0)
		k = der_private(data, (size_t)data_size, EVP_PKEY_RSA);
	else if (strcmp(name, "PUBLIC KEY") == 0)
		k = der_public(data, (size_t)data_size);
	else {
		OPENSSL_clear_free(data, (size_t)data_size);
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "PEM block '%s' is not an unencrypted key", name);
	}
	OPENSSL_clear_free(data, (size_t)data_size);
	if (!k)
		return ward_crypto_err(err, -WARD_E_MALFORMED, "PEM '%s' does not parse", name);
	return ward_crypto_pkey_take(k, name, ret, err);
}

int ward_pkey_from_der(const void *der, size_t size, struct ward_pkey **ret, struct ward_err *err)
{
	EVP_PKEY *k;

	if (size == 0 || size > KEY_INPUT_MAX_SIZE)
		return ward_err_set(err, size ? -WARD_E_TOO_BIG : -WARD_E_MALFORMED,
				    "DER key of %zu bytes (limit %d)", size, KEY_INPUT_MAX_SIZE);
	k = der_public(der, size);
	if (!k)
		k = der_private(der, size, EVP_PKEY_NONE);
	if (!k)
		return ward_crypto_err(err, -WARD_E_MALFORMED,
				       "DER is neither a SubjectPublicKeyInfo nor a PKCS#8 key");
	ERR_clear_error(); /* the failed first attempt */
	return ward_crypto_pkey_take(k, "DER key", ret, err);
}

static EVP_PKEY *from_params(const char *alg, int selection, OSSL_PARAM *params)
{
	WARD_CLEANUP(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *k = NULL;

	ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &k, selection, params) != 1)
		return NULL;
	return k;
}

/* Full public-key validation (on curve, not infinity, right order). */
static int check_public(EVP_PKEY *k)
{
	WARD_CLEANUP(EVP_PKEY_CTX_freep)
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);

	return ctx && EVP_PKEY_public_check(ctx) == 1 ? 0 : -1;
}

static int ec_from_point(enum ward_key_type type, const uint8_t *point, size_t point_size,
			 const BIGNUM *d, struct ward_pkey **ret, struct ward_err *err)
{
	WARD_CLEANUP(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	WARD_CLEANUP(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
	WARD_CLEANUP(EVP_PKEY_freep) EVP_PKEY *k = NULL;

	if (!bld ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve_name(type), 0) !=
		1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, point_size) !=
		1 ||
	    (d && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1))
		return ward_crypto_err(err, -ENOMEM, "EC key parameters");
	params = OSSL_PARAM_BLD_to_param(bld);
	if (!params)
		return ward_crypto_err(err, -ENOMEM, "EC key parameters");
	k = from_params("EC", d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params);
	if (!k || check_public(k) < 0)
		return ward_crypto_err(err, -WARD_E_MALFORMED, "EC point is not on %s",
				       curve_name(type));
	return ward_crypto_pkey_take(WARD_TAKE_PTR(k), "EC key", ret, err);
}

int ward_pkey_from_ec_xy(enum ward_key_type type, const uint8_t *x, size_t x_size, const uint8_t *y,
			 size_t y_size, struct ward_pkey **ret, struct ward_err *err)
{
	size_t n = ward_crypto_ec_coord_size(type);
	uint8_t point[1 + 2 * 48];

	if (n == 0)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "key type %d is not an EC curve",
				    (int)type);
	if (x_size != n || y_size != n)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "EC coordinates of %zu and %zu bytes, expected %zu", x_size,
				    y_size, n);
	point[0] = POINT_CONVERSION_UNCOMPRESSED;
	memcpy(point + 1, x, n);
	memcpy(point + 1 + n, y, n);
	return ec_from_point(type, point, 1 + 2 * n, NULL, ret, err);
}

int ward_pkey_from_ec_private(enum ward_key_type type, const uint8_t *d, size_t d_size,
			      struct ward_pkey **ret, struct ward_err *err)
{
	WARD_CLEANUP(EC_GROUP_freep) EC_GROUP *group = NULL;
	WARD_CLEANUP(EC_POINT_clear_freep) EC_POINT *pub = NULL;
	WARD_CLEANUP(BN_clear_freep) BIGNUM *priv = NULL;
	WARD_CLEANUP(BN_CTX_freep) BN_CTX *bn = NULL;
	size_t n = ward_crypto_ec_coord_size(type);
	uint8_t point[1 + 2 * 48];

	if (n == 0)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "key type %d is not an EC curve",
				    (int)type);
	if (d_size != n)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "EC private scalar of %zu bytes, expected %zu", d_size, n);
	group = EC_GROUP_new_by_curve_name(curve_nid(type));
	bn = BN_CTX_new();
	priv = BN_secure_new();
	if (!group || !bn || !priv || !BN_bin2bn(d, (int)d_size, priv))
		return ward_crypto_err(err, -ENOMEM, "EC private key");
	if (BN_is_zero(priv) || BN_cmp(priv, EC_GROUP_get0_order(group)) >= 0)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "EC private scalar outside 1..n-1 of %s", curve_name(type));
	/* The public point is derived from d, so a mismatched x/y cannot sneak in. */
	pub = EC_POINT_new(group);
	if (!pub || EC_POINT_mul(group, pub, priv, NULL, NULL, bn) != 1 ||
	    EC_POINT_point2oct(group, pub, POINT_CONVERSION_UNCOMPRESSED, point, sizeof(point),
			       bn) != 1 + 2 * n)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "EC public point derivation failed");
	return ec_from_point(type, point, 1 + 2 * n, priv, ret, err);
}

int ward_pkey_from_rsa_ne(const uint8_t *n, size_t n_size, const uint8_t *e, size_t e_size,
			  struct ward_pkey **ret, struct ward_err *err)
{
	WARD_CLEANUP(OSSL_PARAM_BLD_freep) OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	WARD_CLEANUP(OSSL_PARAM_freep) OSSL_PARAM *params = NULL;
	WARD_CLEANUP(BN_clear_freep) BIGNUM *bn_n = NULL;
	WARD_CLEANUP(BN_clear_freep) BIGNUM *bn_e = NULL;
	EVP_PKEY *k;
	int bits;

	if (n_size == 0 || n_size > RSA_MAX_BITS / 8 + 1 || e_size == 0 || e_size > RSA_MAX_E_SIZE)
		return ward_err_set(
		    err, -WARD_E_MALFORMED,
		    "RSA modulus of %zu bytes or exponent of %zu bytes out of range", n_size,
		    e_size);
	bn_n = BN_bin2bn(n, (int)n_size, NULL);
	bn_e = BN_bin2bn(e, (int)e_size, NULL);
	if (!bld || !bn_n || !bn_e)
		return ward_crypto_err(err, -ENOMEM, "RSA key");
	bits = BN_num_bits(bn_n);
	if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "RSA modulus of %d bits outside %d..%d", bits, RSA_MIN_BITS,
				    RSA_MAX_BITS);
	if (!BN_is_odd(bn_n) || !BN_is_odd(bn_e) || BN_num_bits(bn_e) < 2 ||
	    BN_cmp(bn_e, bn_n) >= 0)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "RSA modulus or exponent invalid (must be odd, 3 <= e < n)");
	if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1 ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)))
		return ward_crypto_err(err, -ENOMEM, "RSA key parameters");
	k = from_params("RSA", EVP_PKEY_PUBLIC_KEY, params);
	if (!k)
		return ward_crypto_err(err, -WARD_E_MALFORMED, "RSA public key rejected");
	return ward_crypto_pkey_take(k, "RSA key", ret, err);
}

int ward_pkey_from_x25519(const uint8_t pub[32], struct ward_pkey **ret, struct ward_err *err)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, pub, 32);

	if (!k)
		return ward_crypto_err(err, -WARD_E_MALFORMED, "X25519 public key rejected");
	return ward_crypto_pkey_take(k, "X25519 key", ret, err);
}

enum ward_key_type ward_pkey_type(const struct ward_pkey *k)
{
	return ward_crypto_key_type(ward_pkey_evp(k));
}

bool ward_pkey_is_private(const struct ward_pkey *k)
{
	EVP_PKEY *pk = ward_pkey_evp(k);
	BIGNUM *bn = NULL;
	size_t n = 0;
	bool ret = false;

	switch (ward_pkey_type(k)) {
	case WARD_KEY_EC_P256:
	case WARD_KEY_EC_P384:
		ret = EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &bn) == 1;
		break;
	case WARD_KEY_RSA:
		ret = EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_D, &bn) == 1;
		break;
	case WARD_KEY_X25519:
		ret = EVP_PKEY_get_raw_private_key(pk, NULL, &n) == 1 && n == 32;
		break;
	case WARD_KEY_NONE:
		break;
	}
	BN_clear_free(bn);
	ERR_clear_error();
	return ret;
}

unsigned ward_pkey_bits(const struct ward_pkey *k)
{
	int bits = EVP_PKEY_get_bits(ward_pkey_evp(k));

	return bits > 0 ? (unsigned)bits : 0;
}

bool ward_pkey_public_eq(const struct ward_pkey *a, const struct ward_pkey *b)
{
	bool eq = EVP_PKEY_eq(ward_pkey_evp(a), ward_pkey_evp(b)) == 1;

	ERR_clear_error();
	return eq;
}

struct ward_pkey *ward_pkey_ref(struct ward_pkey *k)
{
	if (!k || EVP_PKEY_up_ref(ward_pkey_evp(k)) != 1)
		return NULL;
	return k;
}

struct ward_pkey *ward_pkey_free(struct ward_pkey *k)
{
	EVP_PKEY_free(ward_pkey_evp(k));
	return NULL;
}

int ward_pkey_ec_xy(const struct ward_pkey *k, uint8_t x[48], uint8_t y[48], size_t *ret_coord_size,
		    struct ward_err *err)
{
	WARD_CLEANUP(BN_clear_freep) BIGNUM *bx = NULL;
	WARD_CLEANUP(BN_clear_freep) BIGNUM *by = NULL;
	size_t n = ward_crypto_ec_coord_size(ward_pkey_type(k));

	if (n == 0)
		return ward_err_set(err, -WARD_E_USAGE, "not an EC key");
	if (EVP_PKEY_get_bn_param(ward_pkey_evp(k), OSSL_PKEY_PARAM_EC_PUB_X, &bx) != 1 ||
	    EVP_PKEY_get_bn_param(ward_pkey_evp(k), OSSL_PKEY_PARAM_EC_PUB_Y, &by) != 1 ||
	    BN_bn2binpad(bx, x, (int)n) != (int)n || BN_bn2binpad(by, y, (int)n) != (int)n)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "EC public coordinates");
	*ret_coord_size = n;
	return 0;
}

int ward_pkey_ec_private(const struct ward_pkey *k, struct ward_secret **ret_d,
			 struct ward_err *err)
{
	WARD_CLEANUP(BN_clear_freep) BIGNUM *d = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *s = NULL;
	size_t n = ward_crypto_ec_coord_size(ward_pkey_type(k));

	if (n == 0)
		return ward_err_set(err, -WARD_E_USAGE, "not an EC key");
	if (EVP_PKEY_get_bn_param(ward_pkey_evp(k), OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1) {
		ERR_clear_error();
		return ward_err_set(err, -WARD_E_USAGE, "EC key has no private part");
	}
	s = ward_secret_new(n);
	if (!s)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (BN_bn2binpad(d, s->data, (int)n) != (int)n)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "EC private scalar export");
	*ret_d = WARD_TAKE_PTR(s);
	return 0;
}

static int bn_export(const BIGNUM *bn, uint8_t **ret, size_t *ret_size)
{
	size_t n = (size_t)BN_num_bytes(bn);
	uint8_t *buf = malloc(n ? n : 1);

	if (!buf)
		return -ENOMEM;
	BN_bn2bin(bn, buf);
	*ret = buf;
	*ret_size = n;
	return 0;
}

int ward_pkey_rsa_ne(const struct ward_pkey *k, uint8_t **ret_n, size_t *ret_n_size,
		     uint8_t **ret_e, size_t *ret_e_size, struct ward_err *err)
{
	WARD_CLEANUP(BN_clear_freep) BIGNUM *n = NULL;
	WARD_CLEANUP(BN_clear_freep) BIGNUM *e = NULL;
	WARD_AUTOFREE uint8_t *nb = NULL;
	WARD_AUTOFREE uint8_t *eb = NULL;
	size_t ns, es;

	if (ward_pkey_type(k) != WARD_KEY_RSA)
		return ward_err_set(err, -WARD_E_USAGE, "not an RSA key");
	if (EVP_PKEY_get_bn_param(ward_pkey_evp(k), OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    EVP_PKEY_get_bn_param(ward_pkey_evp(k), OSSL_PKEY_PARAM_RSA_E, &e) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "RSA public components");
	if (bn_export(n, &nb, &ns) < 0 || bn_export(e, &eb, &es) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	*ret_n = WARD_TAKE_PTR(nb);
	*ret_n_size = ns;
	*ret_e = WARD_TAKE_PTR(eb);
	*ret_e_size = es;
	return 0;
}

int ward_pkey_x25519_raw(const struct ward_pkey *k, uint8_t out[32], struct ward_err *err)
{
	size_t n = 32;

	if (ward_pkey_type(k) != WARD_KEY_X25519)
		return ward_err_set(err, -WARD_E_USAGE, "not an X25519 key");
	if (EVP_PKEY_get_raw_public_key(ward_pkey_evp(k), out, &n) != 1 || n != 32)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "X25519 public key export");
	return 0;
}

int ward_pkey_public_der(const struct ward_pkey *k, uint8_t **ret, size_t *ret_size,
			 struct ward_err *err)
{
	uint8_t *der = NULL, *copy;
	int n;

	n = i2d_PUBKEY(ward_pkey_evp(k), &der);
	if (n <= 0)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "public key DER encoding");
	copy = malloc((size_t)n);
	if (!copy) {
		OPENSSL_free(der);
		return ward_err_set(err, -ENOMEM, "out of memory");
	}
	memcpy(copy, der, (size_t)n);
	OPENSSL_free(der);
	*ret = copy;
	*ret_size = (size_t)n;
	return 0;
}

/* Copy a memory BIO's contents into a NUL-terminated malloc'ed string. */
static char *bio_strdup(BIO *bio)
{
	char *data = NULL, *s;
	long n = BIO_get_mem_data(bio, &data);

	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	return s;
}

int ward_pkey_public_pem(const struct ward_pkey *k, char **ret, struct ward_err *err)
{
	WARD_CLEANUP(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());
	char *s;

	if (!bio || PEM_write_bio_PUBKEY(bio, ward_pkey_evp(k)) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "public key PEM encoding");
	s = bio_strdup(bio);
	if (!s)
		return ward_err_set(err, -ENOMEM, "out of memory");
	*ret = s;
	return 0;
}

int ward_pkey_private_pem(const struct ward_pkey *k, struct ward_secret **ret, struct ward_err *err)
{
	/* Memory BIOs clear their buffers on growth and on free. */
	WARD_CLEANUP(BIO_freep) BIO *bio = BIO_new(BIO_s_secmem());
	struct ward_secret *s;
	char *data = NULL;
	long n;

	if (!ward_pkey_is_private(k))
		return ward_err_set(err, -WARD_E_USAGE, "key has no private part");
	if (!bio ||
	    PEM_write_bio_PKCS8PrivateKey(bio, ward_pkey_evp(k), NULL, NULL, 0, NULL, NULL) != 1)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "private key PEM encoding");
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0)
		return ward_crypto_err(err, -WARD_E_CRYPTO, "private key PEM encoding");
	s = ward_secret_dup(data, (size_t)n); /* ward_secret_new leaves a NUL after data */
	if (!s)
		return ward_err_set(err, -ENOMEM, "out of memory");
	*ret = s;
	return 0;
}
