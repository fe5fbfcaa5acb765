/* SPDX-License-Identifier: Apache-2.0 */
#include "der.h"
#include "ward-test.h"

static int u64(const char *hex, uint64_t *v)
{
	uint8_t buf[32];
	size_t n = ward_test_unhex(hex, buf, sizeof(buf));

	return ward_der_uint64(buf, n, v, NULL);
}

WARD_TEST(der_uint64_valid)
{
	uint64_t v;

	CHECK_OK(u64("020100", &v), NULL);
	CHECK_INT(v, ==, 0);
	CHECK_OK(u64("020173", &v), NULL);
	CHECK_INT(v, ==, 115);
	CHECK_OK(u64("02020080", &v), NULL);
	CHECK_INT(v, ==, 128);
	CHECK_OK(u64("020900ffffffffffffffff", &v), NULL);
	CHECK(v == UINT64_MAX);
}

WARD_TEST(der_uint64_invalid)
{
	struct ward_err err = WARD_ERR_INIT;
	uint64_t v;
	uint8_t buf[8];

	CHECK_ERR(u64("", &v), -WARD_E_MALFORMED);			 /* empty input */
	CHECK_ERR(u64("02", &v), -WARD_E_MALFORMED);			 /* no length */
	CHECK_ERR(u64("0200", &v), -WARD_E_MALFORMED);			 /* empty INTEGER */
	CHECK_ERR(u64("020180", &v), -WARD_E_MALFORMED);		 /* negative */
	CHECK_ERR(u64("02020001", &v), -WARD_E_MALFORMED);		 /* not minimal */
	CHECK_ERR(u64("0201050a", &v), -WARD_E_MALFORMED);		 /* trailing byte */
	CHECK_ERR(u64("040105", &v), -WARD_E_MALFORMED);		 /* wrong tag */
	CHECK_ERR(u64("020201", &v), -WARD_E_MALFORMED);		 /* truncated */
	CHECK_ERR(u64("0209010000000000000000", &v), -WARD_E_MALFORMED); /* > 64 bits */
	CHECK_ERR(u64("02810105", &v), -WARD_E_MALFORMED); /* long form for a short length */
	CHECK_ERR(u64("0280", &v), -WARD_E_MALFORMED);	   /* indefinite length */
	CHECK_ERR(u64("1f0201", &v), -WARD_E_MALFORMED);   /* high tag number */
	CHECK_ERR(ward_der_uint64(buf, ward_test_unhex("0200", buf, sizeof(buf)), &v, &err),
		  -WARD_E_MALFORMED);
	CHECK_MSG(&err, "empty INTEGER");
}

WARD_TEST(der_next_lengths)
{
	uint8_t buf[300] = {0x04, 0x82, 0x01, 0x00};
	struct ward_cur c = ward_cur_make(buf, 4 + 256), content;
	uint8_t tag;

	CHECK_OK(ward_der_next(&c, &tag, &content), NULL);
	CHECK_INT(tag, ==, 0x04);
	CHECK_INT(content.left, ==, 256);
	CHECK(ward_cur_empty(&c));
	/* One byte short: fails and leaves the cursor unchanged. */
	c = ward_cur_make(buf, 4 + 255);
	CHECK_ERR(ward_der_next(&c, &tag, &content), -WARD_E_MALFORMED);
	CHECK_INT(c.left, ==, 259);
	/* Leading zero length octet. */
	buf[1] = 0x82;
	buf[2] = 0x00;
	buf[3] = 0x81;
	c = ward_cur_make(buf, 300);
	CHECK_ERR(ward_der_next(&c, &tag, &content), -WARD_E_MALFORMED);
	/* More than three length octets. */
	buf[1] = 0x84;
	buf[2] = 0x01;
	c = ward_cur_make(buf, 300);
	CHECK_ERR(ward_der_next(&c, &tag, &content), -WARD_E_MALFORMED);
}

WARD_TEST(der_expect_octets)
{
	uint8_t buf[16];
	size_t n = ward_test_unhex("04083b42092f69c656d3", buf, sizeof(buf));
	struct ward_err err = WARD_ERR_INIT;
	struct ward_cur content;

	CHECK_OK(ward_der_expect(buf, n, WARD_DER_TAG_OCTET_STRING, &content, &err), &err);
	CHECK_INT(content.left, ==, 8);
	CHECK_INT(content.p[0], ==, 0x3b);
	CHECK_ERR(ward_der_expect(buf, n, WARD_DER_TAG_INTEGER, &content, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "expected tag 0x02");
	CHECK_ERR(ward_der_expect(buf, n - 1, WARD_DER_TAG_OCTET_STRING, &content, &err),
		  -WARD_E_MALFORMED);
}

WARD_TEST_MAIN()
