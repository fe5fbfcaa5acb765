/* SPDX-License-Identifier: Apache-2.0 */
/* The --rootfs ext4 image header: written, parsed back, and every field
 * the parser bounds refused with a message naming it. */
#include <string.h>

#include "ward-test.h"
#include "ward/ext4img.h"

static const uint8_t id[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint64_t idx[3] = {0, 5, 1023};

static size_t make(uint8_t *buf, size_t size)
{
	struct ward_err err = WARD_ERR_INIT;

	memset(buf, 0, size);
	if (ward_ext4img_write_header(1u << 20, UINT64_C(1) << 30, id, idx, 3, buf, size, &err) < 0)
		return 0;
	return WARD_EXT4IMG_FIXED + 3 * 8;
}

/* The file size the header describes: one 4 KiB header page, 3 chunks. */
#define FILE_SIZE (4096 + 3 * ((UINT64_C(1) << 20) + 16))

WARD_TEST(ext4img_roundtrip)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_ext4img_hdr h;
	uint8_t buf[128], iv[12], aad[24];
	size_t n = make(buf, sizeof(buf));

	CHECK_INT(n, ==, 72);
	CHECK_INT(ward_ext4img_header_need(buf, 48), ==, 72);
	CHECK_OK(ward_ext4img_parse(buf, n, FILE_SIZE, &h, &err), &err);
	CHECK_INT(h.chunk_size, ==, 1u << 20);
	CHECK_INT(h.fs_size, ==, UINT64_C(1) << 30);
	CHECK_INT(h.count, ==, 3);
	CHECK_INT(h.header_len, ==, 72);
	CHECK_INT(h.data_off, ==, 4096);
	CHECK_MEM(h.id, id, 16);
	CHECK_INT(ward_ext4img_index(&h, 2), ==, 1023);
	CHECK_INT(ward_ext4img_chunk_off(&h, 1), ==, 4096 + (1u << 20) + 16);
	ward_ext4img_iv(0x0102, iv);
	CHECK_MEM(iv, "\0\0\0\0\x02\x01\0\0\0\0\0\0", 12);
	ward_ext4img_aad(id, 7, aad);
	CHECK_MEM(aad, id, 16);
	CHECK_MEM(aad + 16, "\x07\0\0\0\0\0\0\0", 8);
}

WARD_TEST(ext4img_refusals)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_ext4img_hdr h;
	uint8_t buf[128], bad[128];
	size_t n = make(buf, sizeof(buf));

	CHECK_ERR(ward_ext4img_parse(buf, 40, FILE_SIZE, &h, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "shorter");
	CHECK_ERR(ward_ext4img_parse(buf, n - 1, FILE_SIZE, &h, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "index needs 72");
	CHECK_ERR(ward_ext4img_parse(buf, n, FILE_SIZE - 1, &h, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "describes");

	memcpy(bad, buf, n);
	bad[0] = 'X';
	CHECK_ERR(ward_ext4img_parse(bad, n, FILE_SIZE, &h, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "magic");
	memcpy(bad, buf, n);
	bad[8] = 2;
	CHECK_ERR(ward_ext4img_parse(bad, n, FILE_SIZE, &h, &err), -WARD_E_UNSUPPORTED);
	memcpy(bad, buf, n);
	bad[12] = 1; /* chunk size 1 MiB + 1 */
	CHECK_ERR(ward_ext4img_parse(bad, n, FILE_SIZE, &h, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "chunk size");
	memcpy(bad, buf, n);
	bad[16] = 1; /* fs size not a chunk multiple */
	CHECK_ERR(ward_ext4img_parse(bad, n, FILE_SIZE, &h, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "filesystem size");
	memcpy(bad, buf, n);
	bad[40] = 0;
	bad[46] = 1; /* a huge count */
	CHECK_INT(ward_ext4img_header_need(bad, n), ==, 0);
	CHECK_ERR(ward_ext4img_parse(bad, n, FILE_SIZE, &h, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "stored chunks");
	memcpy(bad, buf, n);
	bad[56] = 0; /* entries 0, 0: not increasing */
	CHECK_ERR(ward_ext4img_parse(bad, n, FILE_SIZE, &h, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "index entry 1");
	memcpy(bad, buf, n);
	bad[64] = 0;
	bad[65] = 4; /* entry 2 = 1024: past the 1024 chunks */
	CHECK_ERR(ward_ext4img_parse(bad, n, FILE_SIZE, &h, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "index entry 2");
	CHECK_ERR(ward_ext4img_write_header(1u << 20, UINT64_C(1) << 30, id, (uint64_t[]){3, 3}, 2,
					    bad, sizeof(bad), &err),
		  -WARD_E_USAGE);
}

WARD_TEST_MAIN()
