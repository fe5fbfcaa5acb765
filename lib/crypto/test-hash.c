/* SPDX-License-Identifier: Apache-2.0 */
/* Randomness, secrets, hashes, HMAC and HKDF against published vectors:
 * FIPS 180-4 examples, RFC 4231 and RFC 5869. */
#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/log.h"

static const char abc448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

struct hash_vec {
	enum ward_hash_alg alg;
	const char *msg;
	const char *hex;
};

static const struct hash_vec fips180[] = {
    {WARD_HASH_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {WARD_HASH_SHA256, abc448, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {WARD_HASH_SHA384, "abc",
     "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
     "8086072ba1e7cc2358baeca134c825a7"},
    {WARD_HASH_SHA384, abc448,
     "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6"
     "b0455a8520bc4e6f5fe95b1fe3c8452b"},
    {WARD_HASH_SHA512, "abc",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
    {WARD_HASH_SHA512, abc448,
     "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
     "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445"},
    {WARD_HASH_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
};

WARD_TEST(random_and_ct_eq)
{
	struct ward_err err = WARD_ERR_INIT;
	uint8_t a[64] = {0}, b[64] = {0};

	CHECK_OK(ward_random(a, sizeof(a), &err), &err);
	CHECK_OK(ward_random(b, sizeof(b), &err), &err);
	CHECK(!ward_ct_eq(a, b, sizeof(a))); /* 2^-512 chance of a false failure */
	CHECK_OK(ward_random(a, 0, &err), &err);
	memcpy(b, a, sizeof(a));
	CHECK(ward_ct_eq(a, b, sizeof(a)));
	b[63] ^= 1;
	CHECK(!ward_ct_eq(a, b, sizeof(a)));
	CHECK(ward_ct_eq(a, b, 63));
	CHECK(ward_ct_eq(a, b, 0));
}

WARD_TEST(secret)
{
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *s = ward_secret_new(0);
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *d = ward_secret_dup("key!", 4);
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *z = ward_secret_new(16);

	CHECK(s && s->size == 0);
	CHECK(d && d->size == 4);
	CHECK_MEM(d->data, "key!", 4);
	CHECK(z && z->size == 16);
	for (size_t i = 0; i < 16; i++)
		CHECK_INT(z->data[i], ==, 0);
	CHECK(ward_secret_free(NULL) == NULL);
	CHECK(ward_secret_new(SIZE_MAX) == NULL);
}

WARD_TEST(hash_fips180)
{
	struct ward_err err = WARD_ERR_INIT;
	uint8_t want[64], got[64];

	for (size_t i = 0; i < WARD_ARRAY_SIZE(fips180); i++) {
		const struct hash_vec *v = &fips180[i];
		size_t n = ward_test_unhex(v->hex, want, sizeof(want));

		CHECK_INT(n, ==, ward_hash_size(v->alg));
		CHECK_OK(ward_hash(v->alg, v->msg, strlen(v->msg), got, &err), &err);
		CHECK_MEM(got, want, n);
	}
	CHECK_STR(ward_hash_name(WARD_HASH_SHA384), "sha384");
	CHECK_INT(ward_hash_size(WARD_HASH_SHA1), ==, 20);
	CHECK_INT(ward_hash_size((enum ward_hash_alg)99), ==, 0);
	CHECK_STR(ward_hash_name((enum ward_hash_alg)99), "unknown");
	CHECK_ERR(ward_hash((enum ward_hash_alg)99, "abc", 3, got, &err), -WARD_E_USAGE);
}

WARD_TEST(hash_empty_and_hex)
{
	struct ward_err err = WARD_ERR_INIT;
	char hex[65];

	/* FIPS 180 SHA-256 of the empty message */
	CHECK_OK(ward_sha256_hex(NULL, 0, hex, &err), &err);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK_OK(ward_sha256_hex("abc", 3, hex, &err), &err);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

WARD_TEST(hash_streaming)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_hash_freep) struct ward_hash *h = NULL;
	size_t len = strlen(abc448);
	uint8_t one[64], got[64];

	for (size_t a = 0; a < WARD_ARRAY_SIZE(fips180); a++) {
		enum ward_hash_alg alg = fips180[a].alg;

		CHECK_OK(ward_hash(alg, abc448, len, one, &err), &err);
		CHECK_OK(ward_hash_new(alg, &h, &err), &err);
		/* every two-way split, plus byte-at-a-time */
		for (size_t split = 0; split <= len; split++) {
			CHECK_OK(ward_hash_update(h, abc448, split, &err), &err);
			CHECK_OK(ward_hash_update(h, abc448 + split, len - split, &err), &err);
			CHECK_OK(ward_hash_final(h, got, &err), &err);
			CHECK_MEM(got, one, ward_hash_size(alg));
			CHECK_OK(ward_hash_reset(h, &err), &err);
		}
		for (size_t i = 0; i < len; i++)
			CHECK_OK(ward_hash_update(h, abc448 + i, 1, &err), &err);
		CHECK_OK(ward_hash_final(h, got, &err), &err);
		CHECK_MEM(got, one, ward_hash_size(alg));
		/* spent context refuses more input until reset */
		CHECK_ERR(ward_hash_update(h, "x", 1, &err), -WARD_E_STATE);
		CHECK_ERR(ward_hash_final(h, got, &err), -WARD_E_STATE);
		h = ward_hash_free(h);
	}
	CHECK_ERR(ward_hash_new((enum ward_hash_alg) - 1, &h, &err), -WARD_E_USAGE);
	CHECK(h == NULL);
}

struct hmac_case {
	const char *key_hex;
	const char *data_hex;
	const char *sha256, *sha384, *sha512;
};

/* RFC 4231 §4.2-4.8 (case 5 is the truncated one and is left out). */
static const struct hmac_case rfc4231[] = {
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
     "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
     "faea9ea9076ede7f4af152e8b2fa9cb6",
     "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
     "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
    {"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
     "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
     "8e2240ca5e69e2c78b3239ecfab21649",
     "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
     "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
     "dddddddddddddddddddddddddddddddddddd",
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
     "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
     "2a5ab39dc13814b94e3ab6e101a34f27",
     "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
     "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"},
    {"0102030405060708090a0b0c0d0e0f10111213141516171819",
     "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
     "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
     "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
     "6801dd23c4a7d679ccf8a386c674cffb",
     "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
     "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd"},
    {NULL /* 131 x 0xaa */,
     "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a"
     "65204b6579202d2048617368204b6579204669727374",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
     "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
     "0c2ef6ab4030fe8296248df163f44952",
     "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
     "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
    {NULL /* 131 x 0xaa */,
     "5468697320697320612074657374207573696e672061206c6172676572207468"
     "616e20626c6f636b2d73697a65206b657920616e642061206c61726765722074"
     "68616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565"
     "647320746f20626520686173686564206265666f7265206265696e6720757365"
     "642062792074686520484d414320616c676f726974686d2e",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
     "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
     "a678cc31e799176d3860e6110c46523e",
     "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
     "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"},
};

WARD_TEST(hmac_rfc4231)
{
	struct ward_err err = WARD_ERR_INIT;

	for (size_t i = 0; i < WARD_ARRAY_SIZE(rfc4231); i++) {
		const struct hmac_case *c = &rfc4231[i];
		const enum ward_hash_alg algs[] = {WARD_HASH_SHA256, WARD_HASH_SHA384,
						   WARD_HASH_SHA512};
		const char *want_hex[] = {c->sha256, c->sha384, c->sha512};
		uint8_t key[131], data[256], want[64], got[64];
		size_t key_size, data_size;

		if (c->key_hex) {
			key_size = ward_test_unhex(c->key_hex, key, sizeof(key));
		} else {
			memset(key, 0xaa, sizeof(key));
			key_size = sizeof(key);
		}
		data_size = ward_test_unhex(c->data_hex, data, sizeof(data));
		for (size_t a = 0; a < 3; a++) {
			WARD_CLEANUP(ward_hmac_freep) struct ward_hmac *m = NULL;

			CHECK_INT(ward_test_unhex(want_hex[a], want, sizeof(want)), ==,
				  ward_hash_size(algs[a]));
			CHECK_OK(ward_hmac(algs[a], key, key_size, data, data_size, got, &err),
				 &err);
			if (memcmp(got, want, ward_hash_size(algs[a])) != 0)
				WARD_FAIL_("RFC 4231 case %zu, %s differs", i,
					   ward_hash_name(algs[a]));
			/* streaming in two pieces gives the same */
			CHECK_OK(ward_hmac_new(algs[a], key, key_size, &m, &err), &err);
			CHECK_OK(ward_hmac_update(m, data, 3, &err), &err);
			CHECK_OK(ward_hmac_update(m, data + 3, data_size - 3, &err), &err);
			CHECK_OK(ward_hmac_final(m, got, &err), &err);
			CHECK_MEM(got, want, ward_hash_size(algs[a]));
			CHECK_ERR(ward_hmac_update(m, data, 1, &err), -WARD_E_STATE);
			CHECK_ERR(ward_hmac_final(m, got, &err), -WARD_E_STATE);
		}
	}
}

WARD_TEST(hmac_errors_and_empty_key)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_hmac_freep) struct ward_hmac *m = NULL;
	uint8_t a[32], b[32];

	CHECK_ERR(ward_hmac_new((enum ward_hash_alg)42, "k", 1, &m, &err), -WARD_E_USAGE);
	CHECK(m == NULL);
	CHECK_ERR(ward_hmac((enum ward_hash_alg)42, "k", 1, "d", 1, a, &err), -WARD_E_USAGE);
	/* HMAC with an empty key equals HMAC with a block of zeros (RFC 2104 padding) */
	CHECK_OK(ward_hmac(WARD_HASH_SHA256, NULL, 0, "data", 4, a, &err), &err);
	CHECK_OK(ward_hmac(WARD_HASH_SHA256, (uint8_t[64]){0}, 64, "data", 4, b, &err), &err);
	CHECK_MEM(a, b, 32);
	CHECK_OK(ward_hmac(WARD_HASH_SHA256, (uint8_t[1]){0}, 1, "data", 4, b, &err), &err);
	CHECK_MEM(a, b, 32);
	CHECK_OK(ward_hmac(WARD_HASH_SHA256, (uint8_t[1]){1}, 1, "data", 4, b, &err), &err);
	CHECK(memcmp(a, b, 32) != 0);
}

struct hkdf_case {
	const char *ikm, *salt, *info, *prk, *okm;
};

/* RFC 5869 appendix A.1-A.3 (SHA-256). */
static const struct hkdf_case rfc5869[] = {
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
     "f0f1f2f3f4f5f6f7f8f9", "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
    {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
     "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
     "404142434445464748494a4b4c4d4e4f",
     "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
     "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
     "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
     "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
     "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
     "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
     "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
     "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
     "cc30c58179ec3e87c14c01d5c1f3434f1d87"},
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
     "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
};

WARD_TEST(hkdf_rfc5869)
{
	struct ward_err err = WARD_ERR_INIT;

	for (size_t i = 0; i < WARD_ARRAY_SIZE(rfc5869); i++) {
		const struct hkdf_case *c = &rfc5869[i];
		uint8_t ikm[80], salt[80], info[80], prk[32], okm[82], got[82];
		size_t ikm_n = ward_test_unhex(c->ikm, ikm, sizeof(ikm));
		size_t salt_n = ward_test_unhex(c->salt, salt, sizeof(salt));
		size_t info_n = ward_test_unhex(c->info, info, sizeof(info));
		size_t okm_n = ward_test_unhex(c->okm, okm, sizeof(okm));

		CHECK_INT(ward_test_unhex(c->prk, prk, sizeof(prk)), ==, 32);
		CHECK_OK(ward_hkdf(WARD_HASH_SHA256, ikm, ikm_n, salt_n ? salt : NULL, salt_n, info,
				   info_n, got, okm_n, &err),
			 &err);
		CHECK_MEM(got, okm, okm_n);
		/* PRK = HMAC(salt, IKM); expand alone reproduces OKM */
		uint8_t prk_got[32];
		CHECK_OK(ward_hmac(WARD_HASH_SHA256, salt, salt_n, ikm, ikm_n, prk_got, &err),
			 &err);
		CHECK_MEM(prk_got, prk, 32);
		CHECK_OK(
		    ward_hkdf_expand(WARD_HASH_SHA256, prk, 32, info, info_n, got, okm_n, &err),
		    &err);
		CHECK_MEM(got, okm, okm_n);
	}
}

WARD_TEST(hkdf_errors)
{
	struct ward_err err = WARD_ERR_INIT;
	static uint8_t out[255 * 32 + 1];
	uint8_t prk[32] = {1};

	CHECK_ERR(ward_hkdf(WARD_HASH_SHA256, "k", 1, NULL, 0, NULL, 0, out, 0, &err),
		  -WARD_E_USAGE);
	CHECK_OK(ward_hkdf(WARD_HASH_SHA256, "k", 1, NULL, 0, NULL, 0, out, 255 * 32, &err), &err);
	CHECK_ERR(ward_hkdf(WARD_HASH_SHA256, "k", 1, NULL, 0, NULL, 0, out, 255 * 32 + 1, &err),
		  -WARD_E_USAGE);
	CHECK_MSG(&err, "HKDF output size");
	CHECK_ERR(ward_hkdf((enum ward_hash_alg)7, "k", 1, NULL, 0, NULL, 0, out, 16, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_hkdf_expand(WARD_HASH_SHA256, prk, 31, NULL, 0, out, 16, &err),
		  -WARD_E_USAGE);
	CHECK_OK(ward_hkdf_expand(WARD_HASH_SHA256, prk, 32, NULL, 0, out, 16, &err), &err);
	/* empty IKM is legal */
	CHECK_OK(ward_hkdf(WARD_HASH_SHA384, NULL, 0, "salt", 4, "info", 4, out, 48, &err), &err);
}

WARD_TEST(log_key_id)
{
	char id[WARD_KEY_ID_STR_SIZE];

	ward_log_key_id("abc", 3, id);
	CHECK_STR(id, "ba7816bf8f01cfea"); /* first 8 bytes of SHA-256("abc") */
	ward_log_key_id(NULL, 0, id);
	CHECK_STR(id, "e3b0c44298fc1c14");
}

WARD_TEST(versions)
{
	CHECK(strstr(ward_crypto_library_version(), "OpenSSL 3") != NULL);
	CHECK(strstr(ward_crypto_build_version(), "OpenSSL 3") != NULL);
}

WARD_TEST_MAIN()
