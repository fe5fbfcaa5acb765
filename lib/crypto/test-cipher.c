/* SPDX-License-Identifier: Apache-2.0 */
/* AES-256-GCM (McGrew & Viega test cases 13-16), AES-256-CTR (NIST SP
 * 800-38A F.5.5/F.5.6) and AES key wrap (RFC 3394 §4.6). */
#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"

struct gcm_case {
	const char *key, *iv, *pt, *aad, *ct, *tag;
};

static const char k15[] = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
static const char p15[] = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
			  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
static const char c15[] = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
			  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad";

static const struct gcm_case gcm[] = {
    /* 13 */
    {"0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
     "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    /* 14 */
    {"0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
     "00000000000000000000000000000000", "", "cea7403d4d606b6e074ec5d3baf39d18",
     "d0d1c8a799996bf0265b98b5d48ab919"},
    /* 15 */
    {k15, "cafebabefacedbaddecaf888", p15, "", c15, "b094dac5d93471bdec1a502270e3cc6c"},
    /* 16: 60-byte plaintext with AAD */
    {k15, "cafebabefacedbaddecaf888", NULL, "feedfacedeadbeeffeedfacedeadbeefabaddad2", NULL,
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

struct bufs {
	uint8_t key[32], iv[64], pt[64], aad[64], ct[64], tag[16];
	size_t iv_n, pt_n, aad_n, ct_n;
};

static void load(const struct gcm_case *c, struct bufs *b)
{
	(void)ward_test_unhex(c->key, b->key, 32);
	b->iv_n = ward_test_unhex(c->iv, b->iv, sizeof(b->iv));
	b->pt_n = ward_test_unhex(c->pt ? c->pt : p15, b->pt, sizeof(b->pt));
	b->aad_n = ward_test_unhex(c->aad, b->aad, sizeof(b->aad));
	b->ct_n = ward_test_unhex(c->ct ? c->ct : c15, b->ct, sizeof(b->ct));
	ward_test_unhex(c->tag, b->tag, 16);
	if (!c->pt) /* case 16 drops the last 4 bytes */
		b->pt_n = b->ct_n = 60;
}

WARD_TEST(gcm_oneshot_vectors)
{
	struct ward_err err = WARD_ERR_INIT;

	for (size_t i = 0; i < WARD_ARRAY_SIZE(gcm); i++) {
		struct bufs b;
		uint8_t out[64], tag[16];

		load(&gcm[i], &b);
		CHECK_OK(ward_aes256gcm_seal(b.key, b.iv, b.iv_n, b.aad, b.aad_n, b.pt, b.pt_n, out,
					     tag, &err),
			 &err);
		CHECK_MEM(out, b.ct, b.ct_n);
		CHECK_MEM(tag, b.tag, 16);
		CHECK_OK(ward_aes256gcm_open(b.key, b.iv, b.iv_n, b.aad, b.aad_n, b.ct, b.ct_n,
					     b.tag, out, &err),
			 &err);
		CHECK_MEM(out, b.pt, b.pt_n);
		/* in place */
		memcpy(out, b.pt, b.pt_n);
		CHECK_OK(ward_aes256gcm_seal(b.key, b.iv, b.iv_n, b.aad, b.aad_n, out, b.pt_n, out,
					     tag, &err),
			 &err);
		CHECK_MEM(out, b.ct, b.ct_n);
		CHECK_OK(ward_aes256gcm_open(b.key, b.iv, b.iv_n, b.aad, b.aad_n, out, b.ct_n, tag,
					     out, &err),
			 &err);
		CHECK_MEM(out, b.pt, b.pt_n);
	}
}

WARD_TEST(gcm_tag_failure_wipes)
{
	struct ward_err err = WARD_ERR_INIT;
	struct bufs b;
	uint8_t out[64], zero[64] = {0}, tag[16];

	load(&gcm[3], &b);
	/* flipped tag bit, ciphertext bit, AAD bit, IV bit: all fail and wipe */
	for (int what = 0; what < 4; what++) {
		struct bufs m = b;

		switch (what) {
		case 0:
			m.tag[15] ^= 1;
			break;
		case 1:
			m.ct[0] ^= 0x80;
			break;
		case 2:
			m.aad[19] ^= 1;
			break;
		case 3:
			m.iv[0] ^= 1;
			break;
		}
		memset(out, 0x5a, sizeof(out));
		CHECK_ERR(ward_aes256gcm_open(m.key, m.iv, m.iv_n, m.aad, m.aad_n, m.ct, m.ct_n,
					      m.tag, out, &err),
			  -WARD_E_VERIFY);
		CHECK_MSG(&err, "tag mismatch");
		CHECK_MEM(out, zero, m.ct_n);
	}
	/* bad IV sizes */
	CHECK_ERR(ward_aes256gcm_seal(b.key, b.iv, 0, NULL, 0, b.pt, 1, out, tag, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_aes256gcm_open(b.key, b.iv, 0, NULL, 0, b.ct, 1, tag, out, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_aes256gcm_seal(b.key, NULL, 12, NULL, 0, b.pt, 1, out, tag, &err),
		  -WARD_E_USAGE);
	/* a non-96-bit IV works (GHASH-derived counter) and round-trips */
	CHECK_OK(ward_aes256gcm_seal(b.key, b.iv, 8, NULL, 0, b.pt, 60, out, tag, &err), &err);
	CHECK_OK(ward_aes256gcm_open(b.key, b.iv, 8, NULL, 0, out, 60, tag, out, &err), &err);
	CHECK_MEM(out, b.pt, 60);
}

WARD_TEST(gcm_streaming)
{
	struct ward_err err = WARD_ERR_INIT;

	for (size_t i = 0; i < WARD_ARRAY_SIZE(gcm); i++) {
		struct bufs b;

		load(&gcm[i], &b);
		for (size_t split = 0; split <= b.pt_n; split += 7) {
			WARD_CLEANUP(ward_cipher_freep) struct ward_cipher *e = NULL;
			WARD_CLEANUP(ward_cipher_freep) struct ward_cipher *d = NULL;
			uint8_t out[64], back[64], tag[16];

			CHECK_OK(ward_cipher_new(WARD_CIPHER_AES256_GCM_ENCRYPT, b.key, b.iv,
						 b.iv_n, &e, &err),
				 &err);
			CHECK_OK(ward_cipher_aad(e, b.aad, 5 < b.aad_n ? 5 : b.aad_n, &err), &err);
			if (b.aad_n > 5)
				CHECK_OK(ward_cipher_aad(e, b.aad + 5, b.aad_n - 5, &err), &err);
			CHECK_OK(ward_cipher_update(e, b.pt, split, out, &err), &err);
			CHECK_OK(
			    ward_cipher_update(e, b.pt + split, b.pt_n - split, out + split, &err),
			    &err);
			CHECK_ERR(ward_cipher_aad(e, "x", 1, &err), -WARD_E_STATE);
			CHECK_OK(ward_cipher_final(e, tag, &err), &err);
			CHECK_MEM(out, b.ct, b.ct_n);
			CHECK_MEM(tag, b.tag, 16);
			CHECK_ERR(ward_cipher_final(e, tag, &err), -WARD_E_STATE);
			CHECK_ERR(ward_cipher_update(e, b.pt, 1, out, &err), -WARD_E_STATE);

			CHECK_OK(ward_cipher_new(WARD_CIPHER_AES256_GCM_DECRYPT, b.key, b.iv,
						 b.iv_n, &d, &err),
				 &err);
			CHECK_OK(ward_cipher_aad(d, b.aad, b.aad_n, &err), &err);
			CHECK_OK(ward_cipher_update(d, out, split, back, &err), &err);
			CHECK_OK(
			    ward_cipher_update(d, out + split, b.ct_n - split, back + split, &err),
			    &err);
			CHECK_OK(ward_cipher_final(d, b.tag, &err), &err);
			CHECK_MEM(back, b.pt, b.pt_n);
		}
	}
}

WARD_TEST(gcm_streaming_bad_tag)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_cipher_freep) struct ward_cipher *d = NULL;
	struct bufs b;
	uint8_t out[64];

	load(&gcm[2], &b);
	b.tag[0] ^= 1;
	CHECK_OK(ward_cipher_new(WARD_CIPHER_AES256_GCM_DECRYPT, b.key, b.iv, b.iv_n, &d, &err),
		 &err);
	CHECK_OK(ward_cipher_update(d, b.ct, b.ct_n, out, &err), &err);
	CHECK_ERR(ward_cipher_final(d, b.tag, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "tag mismatch");
	CHECK_ERR(ward_cipher_final(d, b.tag, &err), -WARD_E_STATE);
	d = ward_cipher_free(d);
	CHECK_OK(ward_cipher_new(WARD_CIPHER_AES256_GCM_DECRYPT, b.key, b.iv, b.iv_n, &d, &err),
		 &err);
	CHECK_ERR(ward_cipher_final(d, NULL, &err), -WARD_E_USAGE);
}

/* NIST SP 800-38A F.5.5 (encrypt) / F.5.6 (decrypt), CTR-AES256. */
static const char ctr_key[] = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
static const char ctr_iv[] = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
static const char ctr_pt[] = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
			     "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
static const char ctr_ct[] = "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
			     "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6";

WARD_TEST(ctr_sp800_38a)
{
	struct ward_err err = WARD_ERR_INIT;
	uint8_t key[32], iv[16], pt[64], ct[64];

	ward_test_unhex(ctr_key, key, 32);
	ward_test_unhex(ctr_iv, iv, 16);
	ward_test_unhex(ctr_pt, pt, 64);
	ward_test_unhex(ctr_ct, ct, 64);
	for (int dir = 0; dir < 2; dir++) {
		const uint8_t *in = dir ? ct : pt, *want = dir ? pt : ct;

		/* block by block, odd splits, then one shot */
		for (size_t step = 1; step <= 64; step = step * 2 + 1) {
			WARD_CLEANUP(ward_cipher_freep) struct ward_cipher *c = NULL;
			uint8_t out[64];

			CHECK_OK(ward_cipher_new(WARD_CIPHER_AES256_CTR, key, iv, 16, &c, &err),
				 &err);
			for (size_t off = 0; off < 64; off += step)
				CHECK_OK(ward_cipher_update(c, in + off,
							    off + step > 64 ? 64 - off : step,
							    out + off, &err),
					 &err);
			CHECK_OK(ward_cipher_final(c, NULL, &err), &err);
			CHECK_MEM(out, want, 64);
		}
	}
}

WARD_TEST(cipher_new_errors)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_cipher *c = NULL;
	uint8_t key[32] = {0}, iv[16] = {0};

	CHECK_ERR(ward_cipher_new(WARD_CIPHER_AES256_CTR, key, iv, 12, &c, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_cipher_new(WARD_CIPHER_AES256_GCM_ENCRYPT, key, iv, 0, &c, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_cipher_new((enum ward_cipher_mode)9, key, iv, 12, &c, &err), -WARD_E_USAGE);
	CHECK(c == NULL);
	CHECK_OK(ward_cipher_new(WARD_CIPHER_AES256_CTR, key, iv, 16, &c, &err), &err);
	CHECK_ERR(ward_cipher_aad(c, "x", 1, &err), -WARD_E_USAGE);
	c = ward_cipher_free(c);
	CHECK(ward_cipher_free(NULL) == NULL);
}

/* RFC 3394 §4.6: 256 bits of key data with a 256-bit KEK. */
static const char kw_kek[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char kw_key[] = "00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f";
static const char kw_out[] = "28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43b"
			     "fb988b9b7a02dd21";

WARD_TEST(keywrap_rfc3394)
{
	struct ward_err err = WARD_ERR_INIT;
	uint8_t kek[32], key[32], want[40], out[40], back[32];

	ward_test_unhex(kw_kek, kek, 32);
	ward_test_unhex(kw_key, key, 32);
	CHECK_INT(ward_test_unhex(kw_out, want, 40), ==, 40);
	CHECK_OK(ward_aes256kw_wrap(kek, key, 32, out, &err), &err);
	CHECK_MEM(out, want, 40);
	CHECK_OK(ward_aes256kw_unwrap(kek, want, 40, back, &err), &err);
	CHECK_MEM(back, key, 32);

	/* integrity failure: any flipped bit, or the wrong KEK */
	for (size_t i = 0; i < 40; i += 13) {
		want[i] ^= 0x01;
		memset(back, 0x77, sizeof(back));
		CHECK_ERR(ward_aes256kw_unwrap(kek, want, 40, back, &err), -WARD_E_VERIFY);
		CHECK_MSG(&err, "integrity");
		for (size_t j = 0; j < sizeof(back); j++) /* out untouched on failure */
			CHECK_INT(back[j], ==, 0x77);
		want[i] ^= 0x01;
	}
	kek[0] ^= 1;
	CHECK_ERR(ward_aes256kw_unwrap(kek, want, 40, back, &err), -WARD_E_VERIFY);

	/* sizes */
	CHECK_ERR(ward_aes256kw_wrap(kek, key, 8, out, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_aes256kw_wrap(kek, key, 20, out, &err), -WARD_E_USAGE);
	CHECK_OK(ward_aes256kw_wrap(kek, key, 16, out, &err), &err);
	CHECK_OK(ward_aes256kw_unwrap(kek, out, 24, back, &err), &err);
	CHECK_MEM(back, key, 16);
	CHECK_ERR(ward_aes256kw_unwrap(kek, out, 16, back, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_aes256kw_unwrap(kek, out, 25, back, &err), -WARD_E_MALFORMED);
}

WARD_TEST_MAIN()
