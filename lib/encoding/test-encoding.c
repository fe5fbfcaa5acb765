/* SPDX-License-Identifier: Apache-2.0 */
#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"

/* RFC 4648 §10 test vectors. */
static const char *const rfc_in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const rfc_b64[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
				      "Zm9vYmFy"};
static const char *const rfc_b64url[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
static const char *const rfc_hex[] = {"", "66", "666f", "666f6f", "666f6f62", "666f6f6261",
				      "666f6f626172"};

WARD_TEST(rfc4648_encode)
{
	for (size_t i = 0; i < 7; i++) {
		char buf[32];
		size_t n = strlen(rfc_in[i]);

		ward_base64_encode(rfc_in[i], n, buf);
		CHECK_STR(buf, rfc_b64[i]);
		CHECK_INT(strlen(buf), ==, ward_base64_size(n));
		ward_base64url_encode(rfc_in[i], n, buf);
		CHECK_STR(buf, rfc_b64url[i]);
		CHECK_INT(strlen(buf), ==, ward_base64url_size(n));
		ward_hex_encode(rfc_in[i], n, buf);
		CHECK_STR(buf, rfc_hex[i]);
	}
}

WARD_TEST(rfc4648_decode)
{
	struct ward_err err = WARD_ERR_INIT;

	for (size_t i = 0; i < 7; i++) {
		size_t n;
		uint8_t *out;

		CHECK_OK(ward_base64_decode(rfc_b64[i], strlen(rfc_b64[i]), &out, &n, &err), &err);
		CHECK_INT(n, ==, strlen(rfc_in[i]));
		CHECK_MEM(out, rfc_in[i], n);
		free(out);
		CHECK_OK(ward_base64url_decode(rfc_b64url[i], strlen(rfc_b64url[i]), &out, &n, &err),
			 &err);
		CHECK_MEM(out, rfc_in[i], n);
		free(out);
		CHECK_OK(ward_hex_decode(rfc_hex[i], strlen(rfc_hex[i]), &out, &n, &err), &err);
		CHECK_MEM(out, rfc_in[i], n);
		free(out);
	}
}

WARD_TEST(all_bytes_round_trip)
{
	struct ward_err err = WARD_ERR_INIT;
	uint8_t in[256];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	for (size_t n = 0; n <= sizeof(in); n += 1) {
		WARD_AUTOFREE char *b = ward_base64_encode_alloc(in, n);
		WARD_AUTOFREE char *u = ward_base64url_encode_alloc(in, n);
		WARD_AUTOFREE char *h = ward_hex_encode_alloc(in, n);
		WARD_AUTOFREE uint8_t *o1 = NULL;
		WARD_AUTOFREE uint8_t *o2 = NULL;
		WARD_AUTOFREE uint8_t *o3 = NULL;
		size_t s1, s2, s3;

		CHECK(b && u && h);
		CHECK_OK(ward_base64_decode(b, strlen(b), &o1, &s1, &err), &err);
		CHECK_OK(ward_base64url_decode(u, strlen(u), &o2, &s2, &err), &err);
		CHECK_OK(ward_hex_decode(h, strlen(h), &o3, &s3, &err), &err);
		CHECK(s1 == n && s2 == n && s3 == n);
		CHECK(n == 0 || (!memcmp(o1, in, n) && !memcmp(o2, in, n) && !memcmp(o3, in, n)));
	}
}

static int b64(const char *s)
{
	uint8_t *out = NULL;
	size_t n;
	int r = ward_base64_decode(s, strlen(s), &out, &n, NULL);

	free(out);
	return r;
}

static int b64u(const char *s)
{
	uint8_t *out = NULL;
	size_t n;
	int r = ward_base64url_decode(s, strlen(s), &out, &n, NULL);

	free(out);
	return r;
}

WARD_TEST(base64_strict)
{
	CHECK_ERR(b64("Zg="), -WARD_E_MALFORMED);      /* length not multiple of 4 */
	CHECK_ERR(b64("Zg"), -WARD_E_MALFORMED);       /* padding required */
	CHECK_ERR(b64("Zh=="), -WARD_E_MALFORMED);     /* non-zero unused bits */
	CHECK_ERR(b64("Zm9=v"), -WARD_E_MALFORMED);    /* padding inside */
	CHECK_ERR(b64("Z==="), -WARD_E_MALFORMED);     /* three pads */
	CHECK_ERR(b64("Zm9v\n"), -WARD_E_MALFORMED);   /* whitespace */
	CHECK_ERR(b64("Zm-_"), -WARD_E_MALFORMED);     /* url alphabet */
	CHECK_ERR(b64("===="), -WARD_E_MALFORMED);
	CHECK_OK(b64("Zm+/"), NULL);
}

WARD_TEST(base64url_strict)
{
	struct ward_err err = WARD_ERR_INIT;
	uint8_t *out = NULL;
	size_t n;

	CHECK_ERR(b64u("Zg=="), -WARD_E_MALFORMED); /* no padding in base64url */
	CHECK_ERR(b64u("Z"), -WARD_E_MALFORMED);    /* impossible length */
	CHECK_ERR(b64u("Zh"), -WARD_E_MALFORMED);   /* non-zero trailing bits */
	CHECK_ERR(b64u("Zm+/"), -WARD_E_MALFORMED); /* std alphabet */
	CHECK_OK(b64u("Zm-_"), NULL);
	CHECK_ERR(ward_base64url_decode("ab\0d", 4, &out, &n, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "offset 2");
}

WARD_TEST(hex_strict)
{
	struct ward_err err = WARD_ERR_INIT;
	uint8_t out[4], *p = NULL;
	size_t n;

	CHECK_ERR(ward_hex_decode("abc", 3, &p, &n, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "odd length");
	CHECK_ERR(ward_hex_decode("0g", 2, &p, &n, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "offset 1");
	CHECK_OK(ward_hex_decode("ABcd", 4, &p, &n, &err), &err);
	CHECK(n == 2 && p[0] == 0xab && p[1] == 0xcd);
	free(p);
	CHECK_OK(ward_hex_decode_fixed("01020304", 8, out, 4, &err), &err);
	CHECK(out[3] == 4);
	CHECK_ERR(ward_hex_decode_fixed("010203", 6, out, 4, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "expected 8 digits, got 6");
	CHECK_ERR(ward_hex_decode_fixed("0102030x", 8, out, 4, &err), -WARD_E_MALFORMED);
}

WARD_TEST_MAIN()
