/* SPDX-License-Identifier: Apache-2.0 */
/* ward_sign_fast()/ward_verify_fast(): the RFC 6979 A.2.6 P-384 vector,
 * agreement with ward_sign()/ward_verify() in both directions and both raw
 * encodings, and every error ward_verify() would give. */
#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"

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
static const char p384_n[] = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
			     "581a0db248b0a77aecec196accc52973";

static void free_buf(uint8_t **p)
{
	free(*p);
}
#define AUTOBUF WARD_CLEANUP(free_buf)

static void reverse_copy(const uint8_t *in, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = in[n - 1 - i];
}

static struct ward_pkey *vector_pub(void)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_pkey *k = NULL;
	uint8_t x[48], y[48];

	ward_test_unhex(p384_x, x, sizeof(x));
	ward_test_unhex(p384_y, y, sizeof(y));
	if (ward_pkey_from_ec_xy(WARD_KEY_EC_P384, x, 48, y, 48, &k, &err) < 0)
		return NULL;
	return k;
}

WARD_TEST(p384_fast_verify_rfc6979)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pub = vector_pub();
	uint8_t be[96], le[96];

	CHECK(pub);
	CHECK_INT(ward_test_unhex(p384_r, be, 48), ==, 48);
	CHECK_INT(ward_test_unhex(p384_s, be + 48, 48), ==, 48);
	reverse_copy(be, 48, le);
	reverse_copy(be + 48, 48, le + 48);
	CHECK_OK(ward_verify_fast(pub, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_BE, "sample", 6, be, 96,
				  &err),
		 &err);
	CHECK_OK(ward_verify_fast(pub, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_LE, "sample", 6, le, 96,
				  &err),
		 &err);
	/* Wrong message, wrong byte order, every bit of r and s flipped. */
	CHECK_ERR(ward_verify_fast(pub, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_BE, "samplf", 6, be, 96,
				   &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "does not verify");
	CHECK_ERR(ward_verify_fast(pub, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_LE, "sample", 6, be, 96,
				   &err),
		  -WARD_E_VERIFY);
	for (size_t bit = 0; bit < 96 * 8; bit++) {
		uint8_t bad[96];
		int fast, ref;

		memcpy(bad, be, sizeof(bad));
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		fast = ward_verify_fast(pub, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_BE, "sample", 6,
					bad, 96, &err);
		ref = ward_verify(pub, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_BE, "sample", 6, bad, 96,
				  &err);
		CHECK_INT(fast, ==, -WARD_E_VERIFY);
		CHECK_INT(ref, ==, fast);
	}
}

WARD_TEST(p384_fast_verify_errors_match)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pub = vector_pub();
	uint8_t sig[96], n[48];
	const uint8_t zero[48] = {0};

	CHECK(pub);
	ward_test_unhex(p384_r, sig, 48);
	ward_test_unhex(p384_s, sig + 48, 48);
	ward_test_unhex(p384_n, n, 48);
	/* empty, short, long */
	CHECK_ERR(ward_verify_fast(pub, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_BE, "sample", 6, NULL,
				   0, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "empty signature");
	CHECK_ERR(ward_verify_fast(pub, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_BE, "sample", 6, sig,
				   95, &err),
		  -WARD_E_VERIFY);
	CHECK_MSG(&err, "95 bytes, expected 96");
	CHECK_ERR(ward_verify_fast(pub, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_BE, "sample", 6, sig,
				   97, &err),
		  -WARD_E_VERIFY);
	/* r = 0, s = 0, r = n, s = n: outside 1..n-1, as ward_verify() says */
	for (int i = 0; i < 4; i++) {
		uint8_t bad[96];

		memcpy(bad, sig, 96);
		memcpy(bad + (i % 2) * 48, i < 2 ? zero : n, 48);
		CHECK_ERR(ward_verify_fast(pub, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_BE, "sample", 6,
					   bad, 96, &err),
			  -WARD_E_VERIFY);
		CHECK_MSG(&err, "outside 1..n-1");
		CHECK_ERR(ward_verify(pub, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_BE, "sample", 6, bad,
				      96, &err),
			  -WARD_E_VERIFY);
		CHECK_MSG(&err, "outside 1..n-1");
	}
	/* Not the fast path: passed to ward_verify() (wrong algorithm for
	 * the signature, DER encoding, unknown algorithm). */
	CHECK_ERR(ward_verify_fast(pub, WARD_SIG_ECDSA_SHA256, WARD_SIG_RAW_BE, "sample", 6, sig,
				   96, &err),
		  -WARD_E_VERIFY);
	CHECK_ERR(
	    ward_verify_fast(pub, WARD_SIG_ECDSA_SHA384, WARD_SIG_DER, "sample", 6, sig, 96, &err),
	    -WARD_E_VERIFY);
	CHECK_ERR(ward_verify_fast(pub, (enum ward_sig_alg)99, WARD_SIG_RAW_BE, "sample", 6, sig,
				   96, &err),
		  -WARD_E_USAGE);
}

WARD_TEST(p384_fast_sign_round_trips)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *key = NULL;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *other = NULL;
	uint8_t d[48], msg[1184];
	const enum ward_sig_encoding encs[] = {WARD_SIG_RAW_BE, WARD_SIG_RAW_LE};

	ward_test_unhex(p384_d, d, sizeof(d));
	CHECK_OK(ward_pkey_from_ec_private(WARD_KEY_EC_P384, d, 48, &key, &err), &err);
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P384, 0, &other, &err), &err);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7);
	for (size_t e = 0; e < 2; e++) {
		for (size_t size = 0; size <= sizeof(msg); size += 592) {
			AUTOBUF uint8_t *fast = NULL;
			AUTOBUF uint8_t *ref = NULL;
			AUTOBUF uint8_t *again = NULL;
			size_t fast_size = 0, ref_size = 0, again_size = 0;

			/* fast -> OpenSSL, OpenSSL -> fast, fast -> fast */
			CHECK_OK(ward_sign_fast(key, WARD_SIG_ECDSA_SHA384, encs[e], msg, size,
						&fast, &fast_size, &err),
				 &err);
			CHECK_INT(fast_size, ==, 96);
			CHECK_OK(ward_verify(key, WARD_SIG_ECDSA_SHA384, encs[e], msg, size, fast,
					     fast_size, &err),
				 &err);
			CHECK_OK(ward_sign(key, WARD_SIG_ECDSA_SHA384, encs[e], msg, size, &ref,
					   &ref_size, &err),
				 &err);
			CHECK_OK(ward_verify_fast(key, WARD_SIG_ECDSA_SHA384, encs[e], msg, size,
						  ref, ref_size, &err),
				 &err);
			CHECK_OK(ward_verify_fast(key, WARD_SIG_ECDSA_SHA384, encs[e], msg, size,
						  fast, fast_size, &err),
				 &err);
			/* a fresh nonce every time */
			CHECK_OK(ward_sign_fast(key, WARD_SIG_ECDSA_SHA384, encs[e], msg, size,
						&again, &again_size, &err),
				 &err);
			CHECK(memcmp(again, fast, 48) != 0);
			/* another key's signature does not verify */
			CHECK_ERR(ward_verify_fast(other, WARD_SIG_ECDSA_SHA384, encs[e], msg, size,
						   fast, fast_size, &err),
				  -WARD_E_VERIFY);
		}
	}
}

WARD_TEST(p384_fast_sign_errors_and_fallback)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *pub = vector_pub();
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *p256 = NULL;
	AUTOBUF uint8_t *sig = NULL;
	size_t size = 0;

	CHECK(pub);
	CHECK_ERR(
	    ward_sign_fast(pub, WARD_SIG_ECDSA_SHA384, WARD_SIG_RAW_LE, "x", 1, &sig, &size, &err),
	    -WARD_E_USAGE);
	CHECK_MSG(&err, "private key");
	CHECK(sig == NULL);
	/* Other keys and encodings go through ward_sign() unchanged. */
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &p256, &err), &err);
	CHECK_OK(
	    ward_sign_fast(p256, WARD_SIG_ECDSA_SHA256, WARD_SIG_DER, "x", 1, &sig, &size, &err),
	    &err);
	CHECK_OK(
	    ward_verify_fast(p256, WARD_SIG_ECDSA_SHA256, WARD_SIG_DER, "x", 1, sig, size, &err),
	    &err);
	CHECK_ERR(ward_sign_fast(p256, WARD_SIG_ECDSA_SHA384, (enum ward_sig_encoding)9, "x", 1,
				 &sig, &size, &err),
		  -WARD_E_USAGE);
}

WARD_TEST_MAIN()
