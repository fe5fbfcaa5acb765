/* SPDX-License-Identifier: Apache-2.0 */
#include "jose-internal.h"
#include "ward-test.h"
#include "ward/crypto.h"
#include "ward/encoding.h"

/* RFC 7518 Appendix C: Z from ECDH between Alice's ephemeral key and Bob's
 * key, enc "A128GCM", apu "Alice", apv "Bob", keydatalen 128. */
static const uint8_t rfc7518_z[32] = {158, 86,	217, 29,  129, 113, 53,	 211, 114, 131, 66,
				      131, 191, 132, 38,  156, 251, 49,	 110, 163, 218, 128,
				      106, 72,	246, 218, 167, 121, 140, 254, 144, 196};
static const uint8_t rfc7518_key[16] = {86, 170, 141, 234, 248, 35,  109, 32,
					92, 34,	 40,  205, 113, 167, 16,  26};

WARD_TEST(rfc7518_appendix_c)
{
	struct ward_err err = WARD_ERR_INIT;
	uint8_t out[16];
	char b64[32];

	CHECK_OK(ward_jose_concat_kdf(rfc7518_z, sizeof(rfc7518_z), "A128GCM",
				      (const uint8_t *)"Alice", 5, (const uint8_t *)"Bob", 3, out,
				      sizeof(out), &err),
		 &err);
	CHECK_MEM(out, rfc7518_key, 16);
	ward_base64url_encode(out, sizeof(out), b64);
	CHECK_STR(b64, "VqqN6vgjbSBcIijNcacQGg");
	/* every input is bound: a different party, algorithm or length differs */
	CHECK_OK(ward_jose_concat_kdf(rfc7518_z, sizeof(rfc7518_z), "A128GCM",
				      (const uint8_t *)"Alice", 5, (const uint8_t *)"Bo", 2, out,
				      sizeof(out), &err),
		 &err);
	CHECK(memcmp(out, rfc7518_key, 16) != 0);
	CHECK_OK(ward_jose_concat_kdf(rfc7518_z, sizeof(rfc7518_z), "A256GCM",
				      (const uint8_t *)"Alice", 5, (const uint8_t *)"Bob", 3, out,
				      sizeof(out), &err),
		 &err);
	CHECK(memcmp(out, rfc7518_key, 16) != 0);
	CHECK_OK(ward_jose_concat_kdf(rfc7518_z, sizeof(rfc7518_z), "A128GCM",
				      (const uint8_t *)"Bob", 3, (const uint8_t *)"Alice", 5, out,
				      sizeof(out), &err),
		 &err);
	CHECK(memcmp(out, rfc7518_key, 16) != 0);
}

/* Two rounds (48 bytes), against the construction written out by hand:
 * H(be32(i) || Z || be32(7) "A256GCM" || be32(0) || be32(0) || be32(384)). */
WARD_TEST(two_rounds_match_definition)
{
	struct ward_err err = WARD_ERR_INIT;
	uint8_t buf[4 + 32 + 4 + 7 + 4 + 4 + 4], h1[32], h2[32], out[48], out2[48];
	size_t o = 0;

	buf[o++] = 0, buf[o++] = 0, buf[o++] = 0, buf[o++] = 1;
	memcpy(buf + o, rfc7518_z, 32), o += 32;
	buf[o++] = 0, buf[o++] = 0, buf[o++] = 0, buf[o++] = 7;
	memcpy(buf + o, "A256GCM", 7), o += 7;
	memset(buf + o, 0, 8), o += 8;
	buf[o++] = 0, buf[o++] = 0, buf[o++] = 0x01, buf[o++] = 0x80; /* 384 bits */
	CHECK_INT(o, ==, sizeof(buf));
	CHECK_OK(ward_hash(WARD_HASH_SHA256, buf, sizeof(buf), h1, &err), &err);
	buf[3] = 2;
	CHECK_OK(ward_hash(WARD_HASH_SHA256, buf, sizeof(buf), h2, &err), &err);

	CHECK_OK(ward_jose_concat_kdf(rfc7518_z, 32, "A256GCM", NULL, 0, NULL, 0, out, 48, &err),
		 &err);
	CHECK_MEM(out, h1, 32);
	CHECK_MEM(out + 32, h2, 16);
	/* empty apu/apv given as pointers are the same as NULL */
	CHECK_OK(ward_jose_concat_kdf(rfc7518_z, 32, "A256GCM", (const uint8_t *)"", 0,
				      (const uint8_t *)"", 0, out2, 48, &err),
		 &err);
	CHECK_MEM(out, out2, 48);
}

WARD_TEST(ecdh_es_a256kw_kek)
{
	struct ward_err err = WARD_ERR_INIT;
	uint8_t direct[32], kw[32];

	/* the AlgorithmID differs between direct agreement and key wrapping */
	CHECK_OK(ward_jose_concat_kdf(rfc7518_z, 32, "A256GCM", NULL, 0, NULL, 0, direct, 32, &err),
		 &err);
	CHECK_OK(
	    ward_jose_concat_kdf(rfc7518_z, 32, "ECDH-ES+A256KW", NULL, 0, NULL, 0, kw, 32, &err),
	    &err);
	CHECK(memcmp(direct, kw, 32) != 0);
}

WARD_TEST(invalid_arguments)
{
	struct ward_err err = WARD_ERR_INIT;
	uint8_t out[16];

	CHECK_ERR(ward_jose_concat_kdf(rfc7518_z, 32, "A128GCM", NULL, 0, NULL, 0, out, 0, &err),
		  -WARD_E_USAGE);
	CHECK_MSG(&err, "Concat KDF");
	CHECK_ERR(ward_jose_concat_kdf(rfc7518_z, 32, NULL, NULL, 0, NULL, 0, out, 16, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_jose_concat_kdf(NULL, 32, "A128GCM", NULL, 0, NULL, 0, out, 16, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_jose_concat_kdf(rfc7518_z, 32, "A128GCM", NULL, 5, NULL, 0, out, 16, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_jose_concat_kdf(rfc7518_z, 32, "A128GCM", NULL, 0, NULL, 3, out, 16, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_jose_concat_kdf(rfc7518_z, 32, "A128GCM", NULL, 0, NULL, 0, NULL, 16, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_jose_concat_kdf(rfc7518_z, 32, "A128GCM", NULL, 0, NULL, 0, out,
				       (size_t)UINT32_MAX / 8 + 1, &err),
		  -WARD_E_USAGE);
}

WARD_TEST_MAIN()
