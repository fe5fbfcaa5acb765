/* SPDX-License-Identifier: Apache-2.0 */
/* Keyed AES-256-GCM context: McGrew & Viega test cases 13-16 (15 and 16
 * share a key, so one context serves both in turn), agreement with the
 * one-shot functions over many IVs, failure wiping, reuse after failure. */
#include <string.h>

#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"

static const char k0[] = "0000000000000000000000000000000000000000000000000000000000000000";
static const char k15[] = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
static const char p15[] = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
			  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
static const char c15[] = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
			  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad";
static const char iv15[] = "cafebabefacedbaddecaf888";
static const char aad16[] = "feedfacedeadbeeffeedfacedeadbeefabaddad2";

struct vec {
	uint8_t key[32], iv[12], pt[64], aad[32], ct[64], tag[16];
	size_t pt_n, aad_n;
};

static void load(struct vec *v, const char *key, const char *iv, const char *pt, size_t pt_n,
		 const char *aad, const char *ct, const char *tag)
{
	memset(v, 0, sizeof(*v));
	ward_test_unhex(key, v->key, 32);
	ward_test_unhex(iv, v->iv, 12);
	ward_test_unhex(pt, v->pt, sizeof(v->pt));
	v->aad_n = ward_test_unhex(aad, v->aad, sizeof(v->aad));
	ward_test_unhex(ct, v->ct, sizeof(v->ct));
	ward_test_unhex(tag, v->tag, 16);
	v->pt_n = pt_n;
}

/* Seal and open v with c (also in place); fails the calling case. */
#define CHECK_VEC(c, v)                                                                            \
	do {                                                                                       \
		check_vec(ward_test_failed_, c, v);                                                \
		if (*ward_test_failed_)                                                            \
			return;                                                                    \
	} while (0)

static void check_vec(bool *ward_test_failed_, struct ward_aead_ctx *c, const struct vec *v)
{
	struct ward_err err = WARD_ERR_INIT;
	uint8_t out[64], tag[16];

	CHECK_OK(ward_aead_ctx_seal_iv(c, v->iv, v->aad, v->aad_n, v->pt, v->pt_n, out, tag, &err),
		 &err);
	CHECK_MEM(out, v->ct, v->pt_n);
	CHECK_MEM(tag, v->tag, 16);
	CHECK_OK(
	    ward_aead_ctx_open_iv(c, v->iv, v->aad, v->aad_n, v->ct, v->pt_n, v->tag, out, &err),
	    &err);
	CHECK_MEM(out, v->pt, v->pt_n);
	/* in place */
	memcpy(out, v->pt, v->pt_n);
	CHECK_OK(ward_aead_ctx_seal_iv(c, v->iv, v->aad, v->aad_n, out, v->pt_n, out, tag, &err),
		 &err);
	CHECK_MEM(out, v->ct, v->pt_n);
	CHECK_OK(ward_aead_ctx_open_iv(c, v->iv, v->aad, v->aad_n, out, v->pt_n, tag, out, &err),
		 &err);
	CHECK_MEM(out, v->pt, v->pt_n);
}

WARD_TEST(aead_ctx_vectors)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_aead_ctx_freep) struct ward_aead_ctx *z = NULL;
	WARD_CLEANUP(ward_aead_ctx_freep) struct ward_aead_ctx *c = NULL;
	struct vec v13, v14, v15, v16;

	load(&v13, k0, "000000000000000000000000", "", 0, "", "",
	     "530f8afbc74536b9a963b4f1c4cb738b");
	load(&v14, k0, "000000000000000000000000", "00000000000000000000000000000000", 16, "",
	     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919");
	load(&v15, k15, iv15, p15, 64, "", c15, "b094dac5d93471bdec1a502270e3cc6c");
	load(&v16, k15, iv15, p15, 60, aad16, c15, "76fc6ece0f4e1768cddf8853bb2d551b");

	CHECK_OK(ward_aead_ctx_new(v13.key, &z, &err), &err);
	CHECK_VEC(z, &v13);
	CHECK_VEC(z, &v14);
	CHECK_VEC(z, &v13);
	/* one key, alternating records with and without AAD */
	CHECK_OK(ward_aead_ctx_new(v15.key, &c, &err), &err);
	for (int i = 0; i < 3; i++) {
		CHECK_VEC(c, &v15);
		CHECK_VEC(c, &v16);
	}
}

WARD_TEST(aead_ctx_matches_oneshot)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_aead_ctx_freep) struct ward_aead_ctx *c = NULL;
	static uint8_t pt[4096], ct1[4096], ct2[4096], back[4096];
	uint8_t key[32], iv[12], aad[44], tag1[16], tag2[16];

	CHECK_OK(ward_random(key, sizeof(key), &err), &err);
	CHECK_OK(ward_random(pt, sizeof(pt), &err), &err);
	CHECK_OK(ward_random(aad, sizeof(aad), &err), &err);
	CHECK_OK(ward_aead_ctx_new(key, &c, &err), &err);
	for (int i = 0; i < 64; i++) {
		size_t n = i == 0 ? sizeof(pt) : (size_t)(i * 61) % sizeof(pt);

		CHECK_OK(ward_random(iv, sizeof(iv), &err), &err);
		aad[0] = (uint8_t)i;
		CHECK_OK(ward_aes256gcm_seal(key, iv, 12, aad, sizeof(aad), pt, n, ct1, tag1, &err),
			 &err);
		CHECK_OK(ward_aead_ctx_seal_iv(c, iv, aad, sizeof(aad), pt, n, ct2, tag2, &err),
			 &err);
		CHECK_MEM(ct2, ct1, n);
		CHECK_MEM(tag2, tag1, 16);
		CHECK_OK(ward_aead_ctx_open_iv(c, iv, aad, sizeof(aad), ct1, n, tag1, back, &err),
			 &err);
		CHECK_MEM(back, pt, n);
	}
}

WARD_TEST(aead_ctx_failure_wipes_and_recovers)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_aead_ctx_freep) struct ward_aead_ctx *c = NULL;
	uint8_t out[64], zero[64] = {0}, other[32];
	struct vec v;

	load(&v, k15, iv15, p15, 60, aad16, c15, "76fc6ece0f4e1768cddf8853bb2d551b");
	CHECK_OK(ward_aead_ctx_new(v.key, &c, &err), &err);
	/* flipped tag, ciphertext, AAD, IV bit: each fails, wipes, and the
	 * context still opens the genuine record afterwards */
	for (int what = 0; what < 4; what++) {
		struct vec m = v;

		switch (what) {
		case 0:
			m.tag[15] ^= 1;
			break;
		case 1:
			m.ct[0] ^= 0x80;
			break;
		case 2:
			m.aad[3] ^= 2;
			break;
		default:
			m.iv[11] ^= 1;
			break;
		}
		memset(out, 0xaa, sizeof(out));
		CHECK_ERR(
		    ward_aead_ctx_open_iv(c, m.iv, m.aad, m.aad_n, m.ct, m.pt_n, m.tag, out, &err),
		    -WARD_E_VERIFY);
		CHECK_MSG(&err, "tag mismatch");
		CHECK_MEM(out, zero, v.pt_n);
		CHECK_OK(
		    ward_aead_ctx_open_iv(c, v.iv, v.aad, v.aad_n, v.ct, v.pt_n, v.tag, out, &err),
		    &err);
		CHECK_MEM(out, v.pt, v.pt_n);
	}
	/* another key's context cannot open it */
	memcpy(other, v.key, 32);
	other[0] ^= 1;
	{
		WARD_CLEANUP(ward_aead_ctx_freep) struct ward_aead_ctx *o = NULL;

		CHECK_OK(ward_aead_ctx_new(other, &o, &err), &err);
		CHECK_ERR(
		    ward_aead_ctx_open_iv(o, v.iv, v.aad, v.aad_n, v.ct, v.pt_n, v.tag, out, &err),
		    -WARD_E_VERIFY);
	}
}

WARD_TEST(aead_ctx_usage_errors)
{
	struct ward_err err = WARD_ERR_INIT;
	WARD_CLEANUP(ward_aead_ctx_freep) struct ward_aead_ctx *c = NULL;
	uint8_t key[32] = {1}, iv[12] = {2}, buf[16] = {0}, tag[16] = {0};

	CHECK_OK(ward_aead_ctx_new(key, &c, &err), &err);
	CHECK_ERR(ward_aead_ctx_seal_iv(NULL, iv, NULL, 0, buf, sizeof(buf), buf, tag, &err),
		  -WARD_E_USAGE);
	CHECK_MSG(&err, "no context or IV");
	CHECK_ERR(ward_aead_ctx_seal_iv(c, NULL, NULL, 0, buf, sizeof(buf), buf, tag, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_aead_ctx_open_iv(NULL, iv, NULL, 0, buf, sizeof(buf), tag, buf, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_aead_ctx_open_iv(c, NULL, NULL, 0, buf, sizeof(buf), tag, buf, &err),
		  -WARD_E_USAGE);
	CHECK(ward_aead_ctx_free(NULL) == NULL);
	c = ward_aead_ctx_free(WARD_TAKE_PTR(c));
	CHECK(c == NULL);
}

WARD_TEST_MAIN()
