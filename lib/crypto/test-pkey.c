/* SPDX-License-Identifier: Apache-2.0 */
/* Keys, signatures, RSA-OAEP and key agreement: RFC 6979 A.2.5/A.2.6
 * known ECDSA signatures, RFC 7748 X25519 vectors, round trips for every
 * algorithm and encoding, and every error return. */
#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"

/* Throwaway test keys generated with `openssl genpkey` for these tests only. */
static const char rsa2048_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCmQ9iQDLRKmJgc\n"
    "gFg5sDla/f9d9VIru0htT0l3URMr0Ah5/UgKwPM1rRBu1jjf+R2SmBRtowcWllM2\n"
    "vFUJNY+RxGge6xFTMEl+gj2fTb/ipSWdUYaeP0jjKsNTDEFK6n8NvDKvicq/pE9l\n"
    "b+NgjUflpPFK8B4yjQyF5xzPfglsjmLhHNQNIKATaO+ny5i+d0ntgMW8lJZosKQB\n"
    "wqaUxW2PMg0eic/P2SiXUZJJGTDqp8AD/7pmxeAjNtPJOgTd73BKgQRCxHdcGbDZ\n"
    "VLzjQOHNbLN/kQH7+9i3Vfp1qc3tWKwV8eF4p+Zh5zw4CGVlsfhY6KJJMZE9rWCm\n"
    "Sr+2NsZnAgMBAAECggEAAdDD/jkkDyYAyzRqpKrsylPziTPOBdD+GAGfF4NJ98NZ\n"
    "2AlQ02BP1lGrOqboo+yGXq4bhDpYCJ/MXAvNByMZldhtQu/vjJIl3vzsAaSdT7MX\n"
    "o9LQ6vQOuGHVsdyvjJnKv/xWVB4O/FCSJa3KtKiAHtz5hTh/YhHFmXcrlIUNuSLe\n"
    "NeI8VQokAY/+rLYoGpGqstZgsfb+hGZu/zKKZl/a6ZNK5VNTpWx3wo+XeSmSoJNe\n"
    "OO/+KEZ9JXNuX7O3bVJmGHMLJR+fdZjvyU3SzgvH5bqf01DwMY6mPf59ZaYvKmJX\n"
    "pcZROIbq6XUUT80LfxwB2a3Whm6RdcZgSq7o9txWGQKBgQDgvgkIuOKWDKO9noID\n"
    "fIuf5rKep2Owbrkea5kCg7yZLeVN6r5641MZMqZJPzOy5kBDHTwzXuPKNBN1VGNm\n"
    "hD3K9SCDEVvHyqJiHNb8amvtC5zGCslunak3Dtme6MtmXIqNcn7g/rsL94bsR1Ta\n"
    "R8kqmpjQ9tMn1Ye0unogCzdrKwKBgQC9Y7j9en0C81CSZjiWgurocx3KuEqQuOB8\n"
    "HWLwmNPBPRhneVXP/byXEwHmVkUcKkVM2xL+ObUNkAysnWwwEm33o52vR+tMQm4k\n"
    "9d5GCTq85+AoT5rQazPM7xUwtcXQkEsRTi76nZgUCqv1lh9Apydy9rKW3AkW7DWp\n"
    "x/EcaBODtQKBgHCH1uAuKw50z7wPVQxH3WW4TvHP4MOj/T81Iw02R0XvzCRCiRPh\n"
    "JWe1i7ubUNigH8c7KTyTo71IbAHQumDHkGVCbgASvgEA/mPgCumio92yddJX7lpb\n"
    "yTHPVroR2F6tsZZ3oP4priCk1UMTyHHvhdO2SxQ+sqX8bhHZWXMYCqy3AoGATfeT\n"
    "3KZkeKZ6cQqsGSpkUrWxehdMey/hGrduV+ZSpqbkORT2gt3OmdM1YQH7CZFNXkqC\n"
    "Ey7mnmLDFPzp4RB1PRGahOJyt75RYd3mV6bNC5/Z5D6BWXQIq0Fx08/BVA9TGBi7\n"
    "tmjShs2t5TicPR2TW/y7oOeMxmcP4IlzdWJTRlECgYEAwUImgRRP7vsJ8RFyeFzj\n"
    "GjJnGmWnaqBNo6eB6pgWUPgokHbflo5XnW6RjQ0CDHN3VqiQycvSm9TXylsIzinr\n"
    "W+iv1MoSlWGTLmWCVO/rdE0AJ638Fo/S5vEVCGXro6Q1Pk9ImWt6dny2AlZ33OM1\n"
    "qx/+MKktUZ4+4nbogkgDWd8=\n"
    "-----END PRIVATE KEY-----\n";
static const char rsa1024_pub_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDowLHMjATmxZpulJx6L/Mykq6N\n"
    "gcarBhcqh7GmOuZYiBTdiu7CSTFaIGvEtzAOgsZg7vpQv+b8/tFFzuEL5yHh3QZP\n"
    "keDQyOrq7nTYXBmOXaRHvQGBho/KI1n0VKAHXU9OZt1rgpOJSDIJDjcrKL02i+DU\n"
    "A5atcJaj6w4qmPBRMQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
static const char p521_pub_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQA2l0OIDl97mUtd9jXwSspYdsy57VU\n"
    "dH/0tPOO51aoR8m6X0WeM9rqN5vy38yn9JEzEaqApCYNfttbmMCWYUip8XABWtKz\n"
    "bJxeaZppVfX++bMR6UNUGAxywDqBR9z6Nir+xwBl/YbliRFbvlcAISmUZZZ3uGl6\n"
    "Ea1QVYp2P6pDCDvRcN0=\n"
    "-----END PUBLIC KEY-----\n";

static void free_buf(uint8_t **p)
{
	free(*p);
}
#define AUTOBUF WARD_CLEANUP(free_buf)

/* RFC 6979 A.2.5: P-256 key, SHA-256 signature of "sample". */
static const char p256_d[] = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
static const char p256_x[] = "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6";
static const char p256_y[] = "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299";
static const char p256_r[] = "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716";
static const char p256_s[] = "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8";
/* RFC 6979 A.2.6: P-384 key, SHA-384 signature of "sample". */
static const char p384_d[] = "6b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d8"
			     "96d5724e4c70a825f872c9ea60d2edf5";
static const char p384_x[] = "ec3a4e415b4e19a4568618029f427fa5da9a8bc4ae92e02e06aae5286b300c64"
			     "def8f0ea9055866064a254515480bc13";
static const char p384_y[] = "8015d9b72d7d57244ea8ef9ac0c621896708a59367f9dfb9f54ca84b3f1c9db1"
			     "288b231c3ae0d4fe7344fd2533264720";
static const char p384_r[] = "94edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c"
			     "81a648152e44acf96e36dd1e80fabe46";
static const char p384_s[] = "99ef4aeb15f178cea1fe40db2603138f130e740a19624526203b6351d0a3a94f"
			     "a329c145786e679e7b82c71a38628ac8";
/* Group orders (SEC 2 / FIPS 186-4 D.1.2.3 and D.1.2.4). */
static const char p256_n[] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

struct ec_vec {
	enum ward_key_type type;
	enum ward_sig_alg alg;
	const char *d, *x, *y, *r, *s;
};
static const struct ec_vec rfc6979[] = {
    {WARD_KEY_EC_P256, WARD_SIG_ECDSA_SHA256, p256_d, p256_x, p256_y, p256_r, p256_s},
    {WARD_KEY_EC_P384, WARD_SIG_ECDSA_SHA384, p384_d, p384_x, p384_y, p384_r, p384_s},
};

/* DER INTEGER body for an unsigned big-endian value (minimal, sign byte). */
static size_t der_int(const uint8_t *v, size_t n, uint8_t *out)
{
	size_t i = 0, len;

	while (i < n - 1 && v[i] == 0)
		i++;
	len = n - i + (v[i] & 0x80 ? 1 : 0);
	out[0] = 0x02;
	out[1] = (uint8_t)len;
	if (v[i] & 0x80)
		out[2] = 0;
	memcpy(out + 2 + (len - (n - i)), v + i, n - i);
	return 2 + len;
}

static size_t der_sig(const uint8_t *r, const uint8_t *s, size_t n, uint8_t *out)
{
	size_t a = der_int(r, n, out + 2);
	size_t b = der_int(s, n, out + 2 + a);

	out[0] = 0x30;
	out[1] = (uint8_t)(a + b);
	return 2 + a + b;
}

static void reverse_copy(const uint8_t *in, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = in[n - 1 - i];
}

WARD_TEST(pkey_generate_and_export)
{
	struct ward_err err = WARD_ERR_INIT;
	const enum ward_key_type types[] = {WARD_KEY_EC_P256, WARD_KEY_EC_P384, WARD_KEY_X25519};
	const unsigned bits[] = {256, 384, 253};

	for (size_t i = 0; i < 3; i++) {
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *k = NULL;
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *k2 = NULL;
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pub = NULL;
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *other = NULL;
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *ref = NULL;
		WARD_CLEANUP(ward_secret_freep) struct ward_secret *pem = NULL;
		AUTOBUF uint8_t *der = NULL;
		WARD_AUTOFREE char *pub_pem = NULL;
		size_t der_size;

		CHECK_OK(ward_pkey_generate(types[i], 0, &k, &err), &err);
		CHECK_INT(ward_pkey_type(k), ==, types[i]);
		CHECK_INT(ward_pkey_bits(k), ==, bits[i]);
		CHECK(ward_pkey_is_private(k));
		ref = ward_pkey_ref(k);
		CHECK(ref == k);

		CHECK_OK(ward_pkey_private_pem(k, &pem, &err), &err);
		CHECK(strncmp((char *)pem->data, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
		CHECK_INT(strlen((char *)pem->data), ==, pem->size);
		CHECK_OK(ward_pkey_from_pem(pem->data, pem->size, &k2, &err), &err);
		CHECK(ward_pkey_is_private(k2));
		CHECK(ward_pkey_public_eq(k, k2));

		CHECK_OK(ward_pkey_public_der(k, &der, &der_size, &err), &err);
		CHECK_OK(ward_pkey_from_der(der, der_size, &pub, &err), &err);
		CHECK(!ward_pkey_is_private(pub));
		CHECK(ward_pkey_public_eq(k, pub));
		CHECK_ERR(ward_pkey_private_pem(pub, &pem, &err), -WARD_E_USAGE);
		pub = ward_pkey_free(pub);
		CHECK_OK(ward_pkey_public_pem(k, &pub_pem, &err), &err);
		CHECK(strncmp(pub_pem, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
		CHECK_OK(ward_pkey_from_pem(pub_pem, strlen(pub_pem), &pub, &err), &err);
		CHECK(ward_pkey_public_eq(pub, k));

		CHECK_OK(ward_pkey_generate(types[i], 0, &other, &err), &err);
		CHECK(!ward_pkey_public_eq(k, other));
	}
	CHECK(ward_pkey_free(NULL) == NULL);
	CHECK(ward_pkey_ref(NULL) == NULL);
}

WARD_TEST(pkey_generate_errors)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_pkey *k = NULL;

	CHECK_ERR(ward_pkey_generate(WARD_KEY_RSA, 1024, &k, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_pkey_generate(WARD_KEY_RSA, 8193, &k, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_pkey_generate(WARD_KEY_NONE, 0, &k, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_pkey_generate((enum ward_key_type)77, 0, &k, &err), -WARD_E_USAGE);
	CHECK(k == NULL);
}

WARD_TEST(pkey_pem_der_errors)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_pkey *k = NULL;
	static const char garbage[] =
	    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
	static const char cert_label[] =
	    "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
	static const char enc_label[] = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n"
					"-----END ENCRYPTED PRIVATE KEY-----\n";
	static const char proc_type[] = "-----BEGIN RSA PRIVATE KEY-----\n"
					"Proc-Type: 4,ENCRYPTED\n"
					"DEK-Info: AES-128-CBC,00000000000000000000000000000000\n\n"
					"MAA=\n-----END RSA PRIVATE KEY-----\n";
	WARD_AUTOFREE char *trailing = NULL;
	uint8_t der[4] = {0x30, 0x02, 0x05, 0x00};

	CHECK_ERR(ward_pkey_from_pem("hello", 5, &k, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "no PEM block");
	CHECK_ERR(ward_pkey_from_pem("", 0, &k, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_pkey_from_pem(garbage, strlen(garbage), &k, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "does not parse");
	CHECK_ERR(ward_pkey_from_pem(cert_label, strlen(cert_label), &k, &err),
		  -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "CERTIFICATE");
	CHECK_ERR(ward_pkey_from_pem(enc_label, strlen(enc_label), &k, &err), -WARD_E_UNSUPPORTED);
	CHECK_ERR(ward_pkey_from_pem(proc_type, strlen(proc_type), &k, &err), -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "encrypted");
	/* a second block (or any text) after the key */
	trailing = malloc(2 * sizeof(rsa2048_pem));
	CHECK(trailing);
	strcpy(trailing, rsa2048_pem);
	strcat(trailing, "junk\n");
	CHECK_ERR(ward_pkey_from_pem(trailing, strlen(trailing), &k, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "after");
	strcpy(trailing, rsa2048_pem);
	strcat(trailing, "\n\n");
	CHECK_OK(ward_pkey_from_pem(trailing, strlen(trailing), &k, &err), &err);
	k = ward_pkey_free(k);
	/* off-list keys */
	CHECK_ERR(ward_pkey_from_pem(rsa1024_pub_pem, strlen(rsa1024_pub_pem), &k, &err),
		  -WARD_E_UNSUPPORTED);
	CHECK_MSG(&err, "1024 bits");
	CHECK_ERR(ward_pkey_from_pem(p521_pub_pem, strlen(p521_pub_pem), &k, &err),
		  -WARD_E_UNSUPPORTED);
	/* DER */
	CHECK_ERR(ward_pkey_from_der(der, sizeof(der), &k, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_pkey_from_der(der, 0, &k, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_pkey_from_der(der, 100000, &k, &err), -WARD_E_TOO_BIG);
	CHECK(k == NULL);
}

WARD_TEST(pkey_der_truncated_and_trailing)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *k = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *k2 = NULL;
	AUTOBUF uint8_t *der = NULL;
	uint8_t buf[200];
	size_t n;

	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P384, 0, &k, &err), &err);
	CHECK_OK(ward_pkey_public_der(k, &der, &n, &err), &err);
	CHECK(n < sizeof(buf));
	for (size_t cut = 0; cut < n; cut++)
		CHECK_ERR(ward_pkey_from_der(der, cut, &k2, &err), -WARD_E_MALFORMED);
	memcpy(buf, der, n);
	buf[n] = 0;
	CHECK_ERR(ward_pkey_from_der(buf, n + 1, &k2, &err), -WARD_E_MALFORMED);
	/* a point off the curve: change the last byte of y */
	buf[n - 1] ^= 1;
	CHECK_ERR(ward_pkey_from_der(buf, n, &k2, &err), -WARD_E_MALFORMED);
	CHECK(k2 == NULL);
}

WARD_TEST(pkey_ec_components)
{
	struct ward_err err = WARD_ERR_INIT;

	for (size_t i = 0; i < WARD_ARRAY_SIZE(rfc6979); i++) {
		const struct ec_vec *v = &rfc6979[i];
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *priv = NULL;
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pub = NULL;
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *bad = NULL;
		WARD_CLEANUP(ward_secret_freep) struct ward_secret *d_out = NULL;
		uint8_t d[48], x[48], y[48], gx[48], gy[48];
		size_t n = ward_test_unhex(v->d, d, sizeof(d)), cs = 0;

		ward_test_unhex(v->x, x, sizeof(x));
		ward_test_unhex(v->y, y, sizeof(y));
		CHECK_OK(ward_pkey_from_ec_private(v->type, d, n, &priv, &err), &err);
		CHECK(ward_pkey_is_private(priv));
		CHECK_INT(ward_pkey_type(priv), ==, v->type);
		/* the derived public point is the RFC's U */
		CHECK_OK(ward_pkey_ec_xy(priv, gx, gy, &cs, &err), &err);
		CHECK_INT(cs, ==, n);
		CHECK_MEM(gx, x, n);
		CHECK_MEM(gy, y, n);
		CHECK_OK(ward_pkey_ec_private(priv, &d_out, &err), &err);
		CHECK_INT(d_out->size, ==, n);
		CHECK_MEM(d_out->data, d, n);

		CHECK_OK(ward_pkey_from_ec_xy(v->type, x, n, y, n, &pub, &err), &err);
		CHECK(!ward_pkey_is_private(pub));
		CHECK(ward_pkey_public_eq(pub, priv));
		CHECK_ERR(ward_pkey_ec_private(pub, &d_out, &err), -WARD_E_USAGE);

		/* off the curve, wrong sizes, wrong types */
		y[n - 1] ^= 1;
		CHECK_ERR(ward_pkey_from_ec_xy(v->type, x, n, y, n, &bad, &err), -WARD_E_MALFORMED);
		CHECK_MSG(&err, "not on");
		y[n - 1] ^= 1;
		/* ward_ecdh() relies on every import refusing such a point: the
		 * SubjectPublicKeyInfo decoders too (the point ends the DER) */
		{
			WARD_AUTOFREE uint8_t *der = NULL;
			size_t der_size = 0;

			CHECK_OK(ward_pkey_public_der(pub, &der, &der_size, &err), &err);
			der[der_size - 1] ^= 1;
			CHECK_ERR(ward_pkey_from_der(der, der_size, &bad, &err), -WARD_E_MALFORMED);
			CHECK(bad == NULL);
		}
		CHECK_ERR(ward_pkey_from_ec_xy(v->type, x, n - 1, y, n, &bad, &err),
			  -WARD_E_MALFORMED);
		CHECK_ERR(ward_pkey_from_ec_xy(v->type, x, n, y, n + 1, &bad, &err),
			  -WARD_E_MALFORMED);
		CHECK_ERR(ward_pkey_from_ec_xy(WARD_KEY_RSA, x, n, y, n, &bad, &err),
			  -WARD_E_UNSUPPORTED);
		CHECK_ERR(ward_pkey_from_ec_private(v->type, d, n - 1, &bad, &err),
			  -WARD_E_MALFORMED);
		CHECK_ERR(ward_pkey_from_ec_private(WARD_KEY_X25519, d, 32, &bad, &err),
			  -WARD_E_UNSUPPORTED);
		memset(d, 0, sizeof(d));
		CHECK_ERR(ward_pkey_from_ec_private(v->type, d, n, &bad, &err), -WARD_E_MALFORMED);
		memset(d, 0xff, sizeof(d));
		CHECK_ERR(ward_pkey_from_ec_private(v->type, d, n, &bad, &err), -WARD_E_MALFORMED);
		CHECK(bad == NULL);
	}
	/* d = n (the group order) is rejected, n - 1 accepted */
	uint8_t n256[32];
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *k = NULL;
	ward_test_unhex(p256_n, n256, 32);
	CHECK_ERR(ward_pkey_from_ec_private(WARD_KEY_EC_P256, n256, 32, &k, &err),
		  -WARD_E_MALFORMED);
	n256[31] -= 1;
	CHECK_OK(ward_pkey_from_ec_private(WARD_KEY_EC_P256, n256, 32, &k, &err), &err);
}

WARD_TEST(pkey_rsa_components)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *k = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pub = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *bad = NULL;
	AUTOBUF uint8_t *n = NULL;
	AUTOBUF uint8_t *e = NULL;
	size_t ns, es;
	uint8_t x[48], y[48], raw[32];
	size_t cs;

	CHECK_OK(ward_pkey_from_pem(rsa2048_pem, strlen(rsa2048_pem), &k, &err), &err);
	CHECK_INT(ward_pkey_type(k), ==, WARD_KEY_RSA);
	CHECK_INT(ward_pkey_bits(k), ==, 2048);
	CHECK(ward_pkey_is_private(k));
	CHECK_OK(ward_pkey_rsa_ne(k, &n, &ns, &e, &es, &err), &err);
	CHECK_INT(ns, ==, 256);
	CHECK_INT(es, ==, 3);
	CHECK_MEM(e, "\x01\x00\x01", 3);
	CHECK_OK(ward_pkey_from_rsa_ne(n, ns, e, es, &pub, &err), &err);
	CHECK(ward_pkey_public_eq(pub, k));
	CHECK(!ward_pkey_is_private(pub));
	/* wrong-type exports */
	CHECK_ERR(ward_pkey_ec_xy(k, x, y, &cs, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_pkey_x25519_raw(k, raw, &err), -WARD_E_USAGE);
	/* short modulus, even exponent, even modulus, empty */
	CHECK_ERR(ward_pkey_from_rsa_ne(n, 128, e, es, &bad, &err), -WARD_E_UNSUPPORTED);
	CHECK_ERR(ward_pkey_from_rsa_ne(n, ns, (const uint8_t *)"\x01\x00\x00", 3, &bad, &err),
		  -WARD_E_MALFORMED);
	CHECK_ERR(ward_pkey_from_rsa_ne(n, ns, (const uint8_t *)"\x01", 1, &bad, &err),
		  -WARD_E_MALFORMED);
	n[ns - 1] &= 0xfe;
	CHECK_ERR(ward_pkey_from_rsa_ne(n, ns, e, es, &bad, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_pkey_from_rsa_ne(n, 0, e, es, &bad, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_pkey_from_rsa_ne(n, ns, e, 9, &bad, &err), -WARD_E_MALFORMED);
	CHECK(bad == NULL);
}

/* PKCS#8 wrapping of a raw X25519 private key (RFC 8410 §7). */
static size_t x25519_pkcs8(const uint8_t priv[32], uint8_t out[48])
{
	static const uint8_t prefix[16] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
					   0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20};

	memcpy(out, prefix, 16);
	memcpy(out + 16, priv, 32);
	return 48;
}

static int x25519_priv(const char *hex, struct ward_pkey **ret, struct ward_err *err)
{
	uint8_t raw[32], der[48];

	ward_test_unhex(hex, raw, 32);
	return ward_pkey_from_der(der, x25519_pkcs8(raw, der), ret, err);
}

WARD_TEST(x25519_rfc7748)
{
	struct ward_err err = WARD_ERR_INIT;
	/* §5.2: scalar, u-coordinate, output */
	static const char *const v52[][3] = {
	    {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	     "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	     "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
	    {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	     "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	     "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
	};

	for (size_t i = 0; i < 2; i++) {
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *priv = NULL;
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *peer = NULL;
		WARD_CLEANUP(ward_secret_freep) struct ward_secret *k = NULL;
		uint8_t u[32], want[32];

		ward_test_unhex(v52[i][1], u, 32);
		ward_test_unhex(v52[i][2], want, 32);
		CHECK_OK(x25519_priv(v52[i][0], &priv, &err), &err);
		CHECK_INT(ward_pkey_type(priv), ==, WARD_KEY_X25519);
		CHECK_OK(ward_pkey_from_x25519(u, &peer, &err), &err);
		CHECK_OK(ward_ecdh(priv, peer, &k, &err), &err);
		CHECK_INT(k->size, ==, 32);
		CHECK_MEM(k->data, want, 32);
	}

	/* §6.1 Diffie-Hellman */
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *alice = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *bob = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *alice_pub = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *bob_pub = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *k1 = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *k2 = NULL;
	uint8_t a_pub[32], b_pub[32], shared[32], got[32];

	ward_test_unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", a_pub,
			32);
	ward_test_unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", b_pub,
			32);
	ward_test_unhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", shared,
			32);
	CHECK_OK(x25519_priv("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
			     &alice, &err),
		 &err);
	CHECK_OK(x25519_priv("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
			     &bob, &err),
		 &err);
	CHECK_OK(ward_pkey_x25519_raw(alice, got, &err), &err);
	CHECK_MEM(got, a_pub, 32);
	CHECK_OK(ward_pkey_x25519_raw(bob, got, &err), &err);
	CHECK_MEM(got, b_pub, 32);
	CHECK_OK(ward_pkey_from_x25519(a_pub, &alice_pub, &err), &err);
	CHECK_OK(ward_pkey_from_x25519(b_pub, &bob_pub, &err), &err);
	CHECK_OK(ward_ecdh(alice, bob_pub, &k1, &err), &err);
	CHECK_OK(ward_ecdh(bob, alice_pub, &k2, &err), &err);
	CHECK_MEM(k1->data, shared, 32);
	CHECK_MEM(k2->data, shared, 32);
	CHECK_INT(ward_pkey_bits(alice), ==, 253);

	/* errors: public-only "private", low-order peer, mismatched types */
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *zero = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *ec = NULL;
	struct ward_secret *none = NULL;
	uint8_t z[32] = {0};
	CHECK_ERR(ward_ecdh(alice_pub, bob_pub, &none, &err), -WARD_E_USAGE);
	CHECK_OK(ward_pkey_from_x25519(z, &zero, &err), &err);
	CHECK_ERR(ward_ecdh(alice, zero, &none, &err), -WARD_E_MALFORMED);
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &ec, &err), &err);
	CHECK_ERR(ward_ecdh(alice, ec, &none, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "peer key is EC P-256");
	CHECK(none == NULL);
}

WARD_TEST(ecdh_ec)
{
	struct ward_err err = WARD_ERR_INIT;
	const enum ward_key_type types[] = {WARD_KEY_EC_P256, WARD_KEY_EC_P384};

	for (size_t i = 0; i < 2; i++) {
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *a = NULL;
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *b = NULL;
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *other = NULL;
		WARD_CLEANUP(ward_secret_freep) struct ward_secret *k1 = NULL;
		WARD_CLEANUP(ward_secret_freep) struct ward_secret *k2 = NULL;
		struct ward_secret *none = NULL;

		CHECK_OK(ward_pkey_generate(types[i], 0, &a, &err), &err);
		CHECK_OK(ward_pkey_generate(types[i], 0, &b, &err), &err);
		CHECK_OK(ward_ecdh(a, b, &k1, &err), &err);
		CHECK_OK(ward_ecdh(b, a, &k2, &err), &err);
		CHECK_INT(k1->size, ==, i ? 48 : 32);
		CHECK_INT(k2->size, ==, k1->size);
		CHECK_MEM(k1->data, k2->data, k1->size);
		CHECK_OK(ward_pkey_generate(types[1 - i], 0, &other, &err), &err);
		CHECK_ERR(ward_ecdh(a, other, &none, &err), -WARD_E_MALFORMED);
		CHECK(none == NULL);
	}
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *rsa = NULL;
	struct ward_secret *none = NULL;
	CHECK_OK(ward_pkey_from_pem(rsa2048_pem, strlen(rsa2048_pem), &rsa, &err), &err);
	CHECK_ERR(ward_ecdh(rsa, rsa, &none, &err), -WARD_E_USAGE);
}

WARD_TEST(ecdsa_rfc6979_known_signatures)
{
	struct ward_err err = WARD_ERR_INIT;

	for (size_t i = 0; i < WARD_ARRAY_SIZE(rfc6979); i++) {
		const struct ec_vec *v = &rfc6979[i];
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pub = NULL;
		uint8_t x[48], y[48], raw[96], le[96], der[110];
		size_t n = ward_test_unhex(v->x, x, sizeof(x)), der_n;

		ward_test_unhex(v->y, y, sizeof(y));
		ward_test_unhex(v->r, raw, 48);
		ward_test_unhex(v->s, raw + n, 48);
		reverse_copy(raw, n, le);
		reverse_copy(raw + n, n, le + n);
		der_n = der_sig(raw, raw + n, n, der);
		CHECK_OK(ward_pkey_from_ec_xy(v->type, x, n, y, n, &pub, &err), &err);

		CHECK_OK(ward_verify(pub, v->alg, WARD_SIG_RAW_BE, "sample", 6, raw, 2 * n, &err),
			 &err);
		CHECK_OK(ward_verify(pub, v->alg, WARD_SIG_RAW_LE, "sample", 6, le, 2 * n, &err),
			 &err);
		CHECK_OK(ward_verify(pub, v->alg, WARD_SIG_DER, "sample", 6, der, der_n, &err),
			 &err);
		/* different message, wrong endianness */
		CHECK_ERR(ward_verify(pub, v->alg, WARD_SIG_RAW_BE, "samplf", 6, raw, 2 * n, &err),
			  -WARD_E_VERIFY);
		CHECK_ERR(ward_verify(pub, v->alg, WARD_SIG_RAW_LE, "sample", 6, raw, 2 * n, &err),
			  -WARD_E_VERIFY);
		/* the other hash */
		CHECK_ERR(ward_verify(pub, WARD_SIG_ECDSA_SHA512, WARD_SIG_RAW_BE, "sample", 6, raw,
				      2 * n, &err),
			  -WARD_E_VERIFY);
		/* every single flipped bit of r||s fails, in each encoding */
		for (size_t bit = 0; bit < 2 * n * 8; bit++) {
			raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			if (ward_verify(pub, v->alg, WARD_SIG_RAW_BE, "sample", 6, raw, 2 * n,
					&err) != -WARD_E_VERIFY)
				WARD_FAIL_("flipped bit %zu of raw signature verified", bit);
			raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			le[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			if (ward_verify(pub, v->alg, WARD_SIG_RAW_LE, "sample", 6, le, 2 * n,
					&err) != -WARD_E_VERIFY)
				WARD_FAIL_("flipped bit %zu of LE signature verified", bit);
			le[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		for (size_t bit = 0; bit < der_n * 8; bit++) {
			der[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			if (ward_verify(pub, v->alg, WARD_SIG_DER, "sample", 6, der, der_n, &err) ==
			    0)
				WARD_FAIL_("flipped bit %zu of DER signature verified", bit);
			der[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		/* and the untouched copies still verify */
		CHECK_OK(ward_verify(pub, v->alg, WARD_SIG_DER, "sample", 6, der, der_n, &err),
			 &err);
	}
}

WARD_TEST(ecdsa_verify_rejects_bad_shapes)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pub = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *rsa = NULL;
	uint8_t x[32], y[32], raw[64], der[80], bad[90], n256[32];
	size_t der_n;

	ward_test_unhex(p256_x, x, 32);
	ward_test_unhex(p256_y, y, 32);
	ward_test_unhex(p256_r, raw, 32);
	ward_test_unhex(p256_s, raw + 32, 32);
	ward_test_unhex(p256_n, n256, 32);
	der_n = der_sig(raw, raw + 32, 32, der);
	CHECK_OK(ward_pkey_from_ec_xy(WARD_KEY_EC_P256, x, 32, y, 32, &pub, &err), &err);
	CHECK_OK(ward_pkey_from_pem(rsa2048_pem, strlen(rsa2048_pem), &rsa, &err), &err);

	/* raw sizes must be exactly 2 * 32 */
	CHECK_ERR(
	    ward_verify(pub, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, "sample", 6, raw, 63, &err),
	    -WARD_E_VERIFY);
	CHECK_MSG(&err, "expected 64");
	CHECK_ERR(
	    ward_verify(pub, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, "sample", 6, raw, 0, &err),
	    -WARD_E_VERIFY);
	CHECK_ERR(
	    ward_verify(pub, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, "sample", 6, NULL, 64, &err),
	    -WARD_E_VERIFY);
	/* r = 0, s = 0, s = n, r = n + small: all out of range */
	memcpy(bad, raw, 64);
	memset(bad, 0, 32);
	CHECK_ERR(
	    ward_verify(pub, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, "sample", 6, bad, 64, &err),
	    -WARD_E_VERIFY);
	CHECK_MSG(&err, "outside 1..n-1");
	memcpy(bad, raw, 64);
	memset(bad + 32, 0, 32);
	CHECK_ERR(
	    ward_verify(pub, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, "sample", 6, bad, 64, &err),
	    -WARD_E_VERIFY);
	memcpy(bad + 32, n256, 32);
	CHECK_ERR(
	    ward_verify(pub, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, "sample", 6, bad, 64, &err),
	    -WARD_E_VERIFY);
	CHECK_MSG(&err, "outside 1..n-1");
	memset(bad, 0xff, 32);
	memcpy(bad + 32, raw + 32, 32);
	CHECK_ERR(
	    ward_verify(pub, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, "sample", 6, bad, 64, &err),
	    -WARD_E_VERIFY);
	/* DER: trailing byte, long-form length (BER), truncation */
	memcpy(bad, der, der_n);
	bad[der_n] = 0;
	CHECK_ERR(ward_verify(pub, WARD_SIG_ECDSA_SHA256, WARD_SIG_DER, "sample", 6, bad, der_n + 1,
			      &err),
		  -WARD_E_VERIFY);
	bad[0] = 0x30;
	bad[1] = 0x81;
	memcpy(bad + 2, der + 1, der_n - 1);
	CHECK_ERR(ward_verify(pub, WARD_SIG_ECDSA_SHA256, WARD_SIG_DER, "sample", 6, bad, der_n + 1,
			      &err),
		  -WARD_E_VERIFY);
	for (size_t cut = 0; cut < der_n; cut++)
		CHECK_ERR(ward_verify(pub, WARD_SIG_ECDSA_SHA256, WARD_SIG_DER, "sample", 6, der,
				      cut, &err),
			  -WARD_E_VERIFY);
	/* wrong key type for the algorithm, both ways */
	CHECK_ERR(
	    ward_verify(rsa, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, "sample", 6, raw, 64, &err),
	    -WARD_E_VERIFY);
	CHECK_MSG(&err, "RSA key cannot verify ECDSA-SHA256");
	CHECK_ERR(
	    ward_verify(pub, WARD_SIG_RSA_PSS_SHA256, WARD_SIG_DER, "sample", 6, der, der_n, &err),
	    -WARD_E_VERIFY);
	CHECK_ERR(ward_verify(pub, WARD_SIG_RSA_PKCS1_SHA256, WARD_SIG_DER, "sample", 6, der, der_n,
			      &err),
		  -WARD_E_VERIFY);
	/* unknown enum values */
	CHECK_ERR(
	    ward_verify(pub, (enum ward_sig_alg)99, WARD_SIG_DER, "sample", 6, der, der_n, &err),
	    -WARD_E_USAGE);
	CHECK_ERR(ward_verify(pub, WARD_SIG_ECDSA_SHA256, (enum ward_sig_encoding)9, "sample", 6,
			      der, der_n, &err),
		  -WARD_E_USAGE);
	/* an X25519 key verifies nothing */
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *xk = NULL;
	CHECK_OK(ward_pkey_generate(WARD_KEY_X25519, 0, &xk, &err), &err);
	CHECK_ERR(
	    ward_verify(xk, WARD_SIG_ECDSA_SHA256, WARD_SIG_DER, "sample", 6, der, der_n, &err),
	    -WARD_E_VERIFY);
	/* the P-256 signature under a P-384 key */
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *p384 = NULL;
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P384, 0, &p384, &err), &err);
	CHECK_ERR(
	    ward_verify(p384, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, "sample", 6, raw, 64, &err),
	    -WARD_E_VERIFY);
	CHECK_ERR(
	    ward_verify(p384, WARD_SIG_ECDSA_SHA256, WARD_SIG_DER, "sample", 6, der, der_n, &err),
	    -WARD_E_VERIFY);
}

WARD_TEST(sign_verify_round_trips)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *p256 = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *p384 = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *rsa = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *rsa_pub = NULL;
	AUTOBUF uint8_t *n = NULL;
	AUTOBUF uint8_t *e = NULL;
	size_t ns, es;
	static const char msg[] = "attestation report bytes";

	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &p256, &err), &err);
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P384, 0, &p384, &err), &err);
	CHECK_OK(ward_pkey_from_pem(rsa2048_pem, strlen(rsa2048_pem), &rsa, &err), &err);
	CHECK_OK(ward_pkey_rsa_ne(rsa, &n, &ns, &e, &es, &err), &err);
	CHECK_OK(ward_pkey_from_rsa_ne(n, ns, e, es, &rsa_pub, &err), &err);

	struct {
		struct ward_pkey *key, *verify_key;
		enum ward_sig_alg alg;
	} cases[] = {
	    {p256, p256, WARD_SIG_ECDSA_SHA256},       {p256, p256, WARD_SIG_ECDSA_SHA384},
	    {p256, p256, WARD_SIG_ECDSA_SHA512},       {p384, p384, WARD_SIG_ECDSA_SHA384},
	    {p384, p384, WARD_SIG_ECDSA_SHA256},       {p384, p384, WARD_SIG_ECDSA_SHA512},
	    {rsa, rsa_pub, WARD_SIG_RSA_PKCS1_SHA256}, {rsa, rsa_pub, WARD_SIG_RSA_PSS_SHA256},
	    {rsa, rsa_pub, WARD_SIG_RSA_PSS_SHA384},
	};
	for (size_t i = 0; i < WARD_ARRAY_SIZE(cases); i++) {
		bool ec = ward_pkey_type(cases[i].key) != WARD_KEY_RSA;

		for (int enc = WARD_SIG_DER; enc <= (ec ? WARD_SIG_RAW_LE : WARD_SIG_DER); enc++) {
			AUTOBUF uint8_t *sig = NULL;
			size_t sig_size = 0;

			CHECK_OK(ward_sign(cases[i].key, cases[i].alg, enc, msg, sizeof(msg), &sig,
					   &sig_size, &err),
				 &err);
			if (ec && enc != WARD_SIG_DER)
				CHECK_INT(sig_size, ==, ward_pkey_bits(cases[i].key) / 4);
			if (!ec)
				CHECK_INT(sig_size, ==, 256);
			CHECK_OK(ward_verify(cases[i].verify_key, cases[i].alg, enc, msg,
					     sizeof(msg), sig, sig_size, &err),
				 &err);
			CHECK_ERR(ward_verify(cases[i].verify_key, cases[i].alg, enc, msg,
					      sizeof(msg) - 1, sig, sig_size, &err),
				  -WARD_E_VERIFY);
			sig[sig_size / 2] ^= 0x10;
			CHECK_ERR(ward_verify(cases[i].verify_key, cases[i].alg, enc, msg,
					      sizeof(msg), sig, sig_size, &err),
				  -WARD_E_VERIFY);
		}
	}
	/* empty message */
	AUTOBUF uint8_t *sig = NULL;
	size_t sig_size;
	CHECK_OK(
	    ward_sign(p256, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, NULL, 0, &sig, &sig_size, &err),
	    &err);
	CHECK_OK(
	    ward_verify(p256, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, "", 0, sig, sig_size, &err),
	    &err);
}

WARD_TEST(rsa_sig_errors)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *rsa = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pub = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *p256 = NULL;
	AUTOBUF uint8_t *sig = NULL;
	AUTOBUF uint8_t *der = NULL;
	uint8_t *none = NULL;
	size_t sig_size, der_size, none_size;
	uint8_t longer[300];

	CHECK_OK(ward_pkey_from_pem(rsa2048_pem, strlen(rsa2048_pem), &rsa, &err), &err);
	CHECK_OK(ward_pkey_public_der(rsa, &der, &der_size, &err), &err);
	CHECK_OK(ward_pkey_from_der(der, der_size, &pub, &err), &err);
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &p256, &err), &err);
	CHECK_OK(
	    ward_sign(rsa, WARD_SIG_RSA_PSS_SHA256, WARD_SIG_DER, "m", 1, &sig, &sig_size, &err),
	    &err);
	/* PSS signature does not verify as PKCS#1, nor as PSS-SHA384 */
	CHECK_ERR(
	    ward_verify(pub, WARD_SIG_RSA_PKCS1_SHA256, WARD_SIG_DER, "m", 1, sig, sig_size, &err),
	    -WARD_E_VERIFY);
	CHECK_ERR(
	    ward_verify(pub, WARD_SIG_RSA_PSS_SHA384, WARD_SIG_DER, "m", 1, sig, sig_size, &err),
	    -WARD_E_VERIFY);
	/* wrong sizes */
	CHECK_ERR(ward_verify(pub, WARD_SIG_RSA_PSS_SHA256, WARD_SIG_DER, "m", 1, sig, sig_size - 1,
			      &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "modulus is 256");
	memset(longer, 0, sizeof(longer));
	memcpy(longer + 1, sig, sig_size);
	CHECK_ERR(ward_verify(pub, WARD_SIG_RSA_PSS_SHA256, WARD_SIG_DER, "m", 1, longer,
			      sig_size + 1, &err),
		  -WARD_E_VERIFY);
	/* raw encodings are ECDSA only */
	CHECK_ERR(
	    ward_verify(pub, WARD_SIG_RSA_PSS_SHA256, WARD_SIG_RAW_BE, "m", 1, sig, sig_size, &err),
	    -WARD_E_USAGE);
	CHECK_ERR(ward_sign(rsa, WARD_SIG_RSA_PSS_SHA256, WARD_SIG_RAW_LE, "m", 1, &none,
			    &none_size, &err),
		  -WARD_E_USAGE);
	/* sign with a public key, wrong alg for key, unknown values */
	CHECK_ERR(
	    ward_sign(pub, WARD_SIG_RSA_PSS_SHA256, WARD_SIG_DER, "m", 1, &none, &none_size, &err),
	    -WARD_E_USAGE);
	CHECK_MSG(&err, "private key");
	CHECK_ERR(
	    ward_sign(rsa, WARD_SIG_ECDSA_SHA256, WARD_SIG_DER, "m", 1, &none, &none_size, &err),
	    -WARD_E_USAGE);
	CHECK_ERR(ward_sign(p256, WARD_SIG_RSA_PKCS1_SHA256, WARD_SIG_DER, "m", 1, &none,
			    &none_size, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(
	    ward_sign(p256, (enum ward_sig_alg)42, WARD_SIG_DER, "m", 1, &none, &none_size, &err),
	    -WARD_E_USAGE);
	CHECK_ERR(ward_sign(p256, WARD_SIG_ECDSA_SHA256, (enum ward_sig_encoding)5, "m", 1, &none,
			    &none_size, &err),
		  -WARD_E_USAGE);
	CHECK(none == NULL);
}

WARD_TEST(rsa_oaep)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *rsa = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pub = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *p256 = NULL;
	AUTOBUF uint8_t *n = NULL;
	AUTOBUF uint8_t *e = NULL;
	size_t ns, es;
	uint8_t cek[32], big[256] = {0};
	const enum ward_hash_alg hashes[] = {WARD_HASH_SHA1, WARD_HASH_SHA256};

	CHECK_OK(ward_pkey_from_pem(rsa2048_pem, strlen(rsa2048_pem), &rsa, &err), &err);
	CHECK_OK(ward_pkey_rsa_ne(rsa, &n, &ns, &e, &es, &err), &err);
	CHECK_OK(ward_pkey_from_rsa_ne(n, ns, e, es, &pub, &err), &err);
	CHECK_OK(ward_random(cek, sizeof(cek), &err), &err);
	for (size_t h = 0; h < 2; h++) {
		AUTOBUF uint8_t *ct = NULL;
		AUTOBUF uint8_t *ct2 = NULL;
		WARD_CLEANUP(ward_secret_freep) struct ward_secret *pt = NULL;
		struct ward_secret *none = NULL;
		size_t ct_size, ct2_size, max = 256 - 2 * ward_hash_size(hashes[h]) - 2;

		CHECK_OK(
		    ward_rsa_oaep_encrypt(pub, hashes[h], cek, sizeof(cek), &ct, &ct_size, &err),
		    &err);
		CHECK_INT(ct_size, ==, 256);
		CHECK_OK(ward_rsa_oaep_decrypt(rsa, hashes[h], ct, ct_size, &pt, &err), &err);
		CHECK_INT(pt->size, ==, sizeof(cek));
		CHECK_MEM(pt->data, cek, sizeof(cek));
		/* randomised: a second encryption differs */
		CHECK_OK(
		    ward_rsa_oaep_encrypt(pub, hashes[h], cek, sizeof(cek), &ct2, &ct2_size, &err),
		    &err);
		CHECK(memcmp(ct, ct2, 256) != 0);
		/* the other hash fails, a flipped byte fails */
		CHECK_ERR(ward_rsa_oaep_decrypt(rsa, hashes[1 - h], ct, ct_size, &none, &err),
			  -WARD_E_VERIFY);
		for (size_t i = 0; i < ct_size; i += 51) {
			ct[i] ^= 0x01;
			CHECK_ERR(ward_rsa_oaep_decrypt(rsa, hashes[h], ct, ct_size, &none, &err),
				  -WARD_E_VERIFY);
			CHECK_MSG(&err, "RSA-OAEP decryption failed");
			ct[i] ^= 0x01;
		}
		CHECK_ERR(ward_rsa_oaep_decrypt(rsa, hashes[h], ct, ct_size - 1, &none, &err),
			  -WARD_E_VERIFY);
		CHECK_ERR(ward_rsa_oaep_decrypt(pub, hashes[h], ct, ct_size, &none, &err),
			  -WARD_E_USAGE);
		CHECK(none == NULL);
		/* size limit k - 2h - 2 */
		free(ct2);
		ct2 = NULL;
		CHECK_OK(ward_rsa_oaep_encrypt(pub, hashes[h], big, max, &ct2, &ct2_size, &err),
			 &err);
		free(ct);
		ct = NULL;
		CHECK_ERR(ward_rsa_oaep_encrypt(pub, hashes[h], big, max + 1, &ct, &ct_size, &err),
			  -WARD_E_TOO_BIG);
		CHECK(ct == NULL);
		pt = ward_secret_free(pt);
		CHECK_OK(ward_rsa_oaep_decrypt(rsa, hashes[h], ct2, ct2_size, &pt, &err), &err);
		CHECK_INT(pt->size, ==, max);
	}
	uint8_t *none = NULL;
	size_t none_size;
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &p256, &err), &err);
	CHECK_ERR(ward_rsa_oaep_encrypt(p256, WARD_HASH_SHA256, cek, 32, &none, &none_size, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(
	    ward_rsa_oaep_encrypt(pub, (enum ward_hash_alg)9, cek, 32, &none, &none_size, &err),
	    -WARD_E_USAGE);
	CHECK(none == NULL);
}

WARD_TEST_MAIN()
