/* SPDX-License-Identifier: Apache-2.0 */
#include "ward-test.h"
#include "ward/cursor.h"

static const uint8_t buf[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};

WARD_TEST(take_bounds)
{
	struct ward_cur c = ward_cur_make(buf, sizeof(buf));
	const uint8_t *p;

	CHECK_OK(ward_cur_take(&c, 0, &p), NULL);
	CHECK(p == buf);
	CHECK_OK(ward_cur_take(&c, 9, &p), NULL);
	CHECK(ward_cur_empty(&c));
	CHECK_ERR(ward_cur_take(&c, 1, &p), -WARD_E_MALFORMED);
	c = ward_cur_make(buf, sizeof(buf));
	CHECK_ERR(ward_cur_take(&c, 10, &p), -WARD_E_MALFORMED);
	CHECK_INT(c.left, ==, 9); /* unchanged on failure */
	CHECK_ERR(ward_cur_take(&c, SIZE_MAX, &p), -WARD_E_MALFORMED);
}

WARD_TEST(make_null)
{
	struct ward_cur c = ward_cur_make(NULL, 5);

	CHECK(ward_cur_empty(&c));
}

WARD_TEST(integers)
{
	struct ward_cur c = ward_cur_make(buf, sizeof(buf));
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	CHECK_OK(ward_cur_u8(&c, &u8), NULL);
	CHECK_INT(u8, ==, 1);
	CHECK_OK(ward_cur_u16le(&c, &u16), NULL);
	CHECK_INT(u16, ==, 0x0302);
	CHECK_OK(ward_cur_u16be(&c, &u16), NULL);
	CHECK_INT(u16, ==, 0x0405);
	CHECK_OK(ward_cur_u32le(&c, &u32), NULL);
	CHECK_INT(u32, ==, 0x09080706);
	CHECK_ERR(ward_cur_u8(&c, &u8), -WARD_E_MALFORMED);

	c = ward_cur_make(buf, sizeof(buf));
	CHECK_OK(ward_cur_u64le(&c, &u64), NULL);
	CHECK(u64 == 0x0807060504030201ull);
	c = ward_cur_make(buf, sizeof(buf));
	CHECK_OK(ward_cur_u64be(&c, &u64), NULL);
	CHECK(u64 == 0x0102030405060708ull);
	CHECK_OK(ward_cur_u32be(&(struct ward_cur){buf, 4}, &u32), NULL);
	CHECK_INT(u32, ==, 0x01020304);
	/* short reads fail and leave the cursor alone */
	c = ward_cur_make(buf, 3);
	CHECK_ERR(ward_cur_u32le(&c, &u32), -WARD_E_MALFORMED);
	CHECK_ERR(ward_cur_u32be(&c, &u32), -WARD_E_MALFORMED);
	CHECK_ERR(ward_cur_u64le(&c, &u64), -WARD_E_MALFORMED);
	CHECK_ERR(ward_cur_u64be(&c, &u64), -WARD_E_MALFORMED);
	CHECK_INT(c.left, ==, 3);
	c = ward_cur_make(buf, 1);
	CHECK_ERR(ward_cur_u16le(&c, &u16), -WARD_E_MALFORMED);
	CHECK_ERR(ward_cur_u16be(&c, &u16), -WARD_E_MALFORMED);
}

WARD_TEST(skip_copy_sub)
{
	struct ward_cur c = ward_cur_make(buf, sizeof(buf)), s;
	uint8_t out[3];

	CHECK_OK(ward_cur_skip(&c, 2), NULL);
	CHECK_OK(ward_cur_copy(&c, out, 3), NULL);
	CHECK_MEM(out, buf + 2, 3);
	CHECK_OK(ward_cur_sub(&c, 2, &s), NULL);
	CHECK_INT(s.left, ==, 2);
	CHECK(s.p == buf + 5);
	CHECK_INT(c.left, ==, 2);
	CHECK_ERR(ward_cur_sub(&c, 3, &s), -WARD_E_MALFORMED);
	CHECK_ERR(ward_cur_copy(&c, out, 3), -WARD_E_MALFORMED);
	CHECK_ERR(ward_cur_skip(&c, 3), -WARD_E_MALFORMED);
	CHECK_OK(ward_cur_copy(&c, out, 0), NULL);
}

WARD_TEST(zeros)
{
	static const uint8_t z[] = {0, 0, 0, 1};
	struct ward_cur c = ward_cur_make(z, sizeof(z));

	CHECK_OK(ward_cur_zeros(&c, 3), NULL);
	CHECK_ERR(ward_cur_zeros(&c, 1), -WARD_E_MALFORMED);
	CHECK_INT(c.left, ==, 1);
	CHECK_ERR(ward_cur_zeros(&c, 2), -WARD_E_MALFORMED);
	c = ward_cur_make(z, sizeof(z));
	CHECK_ERR(ward_cur_zeros(&c, 4), -WARD_E_MALFORMED);
	CHECK_INT(c.left, ==, 4);
}

WARD_TEST(prefixed)
{
	static const uint8_t d[] = {0x03, 0x00, 'a', 'b', 'c', 0x05, 0x00, 'x'};
	static const uint8_t d32[] = {0x00, 0x00, 0x00, 0x02, 'h', 'i', 0x02, 0, 0, 0, 'y', 'z'};
	struct ward_cur c = ward_cur_make(d, sizeof(d)), s;

	CHECK_OK(ward_cur_sub_u16le(&c, 3, &s), NULL);
	CHECK_INT(s.left, ==, 3);
	CHECK_MEM(s.p, "abc", 3);
	/* declared length past the end: fails and restores */
	CHECK_ERR(ward_cur_sub_u16le(&c, 100, &s), -WARD_E_MALFORMED);
	CHECK_INT(c.left, ==, 3);
	/* length above the named maximum */
	c = ward_cur_make(d, sizeof(d));
	CHECK_ERR(ward_cur_sub_u16le(&c, 2, &s), -WARD_E_MALFORMED);
	CHECK_INT(c.left, ==, sizeof(d));
	c = ward_cur_make(d32, sizeof(d32));
	CHECK_OK(ward_cur_sub_u32be(&c, 2, &s), NULL);
	CHECK_MEM(s.p, "hi", 2);
	CHECK_OK(ward_cur_sub_u32le(&c, 2, &s), NULL);
	CHECK_MEM(s.p, "yz", 2);
	CHECK(ward_cur_empty(&c));
	CHECK_ERR(ward_cur_sub_u32le(&c, 2, &s), -WARD_E_MALFORMED);
}

WARD_TEST(offset)
{
	struct ward_cur base = ward_cur_make(buf, sizeof(buf)), c = base;

	CHECK_OK(ward_cur_skip(&c, 4), NULL);
	CHECK_INT(ward_cur_offset(&c, &base), ==, 4);
}

WARD_TEST_MAIN()
