/* SPDX-License-Identifier: Apache-2.0 */
/* The --rootfs ext4 image header: written, parsed back, and every field
 * the parser bounds refused with a message naming it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
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

/* A 1 MiB filesystem of 16 chunks of 64 KiB; chunks 1, 7 and 15 hold
 * data. Sealed here independently of the converter, as the header file
 * describes it, into a memory file; the digest of its header returned. */
#define CH (64u << 10)
static const uint64_t stored[3] = {1, 7, 15};
static const uint8_t key[32] = {7};

/* Non-zero everywhere in the stored chunks but for their second 4 KiB
 * page, which the unseal must leave as a hole. */
static uint8_t plain_byte(uint64_t off)
{
	if (off % CH >= 4096 && off % CH < 8192)
		return 0;
	return (uint8_t)(off * 131 + 7) | 1;
}

static int seal(char digest[80])
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_aead_ctx *ctx = NULL;
	uint8_t hdr[4096] = {0}, *buf = malloc(CH), tag[16], iv[12], aad[24];
	char hex[65];
	int fd = memfd_create("sealed", MFD_CLOEXEC);

	if (fd < 0 || !buf ||
	    ward_ext4img_write_header(CH, 16 * CH, id, stored, 3, hdr, sizeof(hdr), &err) < 0 ||
	    ward_sha256_hex(hdr, 48 + 3 * 8, hex, &err) < 0 || ward_aead_ctx_new(key, &ctx, &err) < 0 ||
	    write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr))
		abort();
	snprintf(digest, 80, "sha256:%s", hex);
	for (unsigned k = 0; k < 3; k++) {
		for (unsigned b = 0; b < CH; b++)
			buf[b] = plain_byte(stored[k] * CH + b);
		ward_ext4img_iv(stored[k], iv);
		ward_ext4img_aad(id, stored[k], aad);
		if (ward_aead_ctx_seal_iv(ctx, iv, aad, sizeof(aad), buf, CH, buf, tag, &err) < 0 ||
		    write(fd, buf, CH) != (ssize_t)CH || write(fd, tag, 16) != 16)
			abort();
	}
	ward_aead_ctx_free(ctx);
	free(buf);
	return fd;
}

static int unseal(int fd, const char *digest, unsigned threads, struct ward_err *err)
{
	int out = memfd_create("fs", MFD_CLOEXEC);
	uint64_t fs_size = 0;
	int r;

	r = ward_ext4img_unseal(fd, digest, key, out, threads, &fs_size, err);
	if (r < 0) {
		close(out);
		return r;
	}
	if (fs_size != 16 * CH)
		abort();
	return out;
}

WARD_TEST(ext4img_unseal)
{
	struct ward_err err = WARD_ERR_INIT;
	char digest[80];
	WARD_AUTOCLOSE int fd = seal(digest);

	for (unsigned threads = 1; threads <= 2; threads++) {
		WARD_AUTOCLOSE int out = unseal(fd, digest, threads, &err);
		uint8_t *m;

		if (out < 0)
			CHECK_OK(out, &err);
		/* the zero page of a stored chunk and the chunks not stored are
		 * holes (checked before the reads below, which fill them) */
		CHECK_INT(lseek(out, 7 * CH, SEEK_HOLE), ==, 7 * CH + 4096);
		CHECK_INT(lseek(out, 7 * CH + 4096, SEEK_DATA), ==, 7 * CH + 8192);
		CHECK_INT(lseek(out, 2 * CH, SEEK_DATA), ==, 7 * CH);
		m = mmap(NULL, 16 * CH, PROT_READ, MAP_SHARED, out, 0);
		CHECK(m != MAP_FAILED);
		for (uint64_t off = 0; off < 16 * CH; off++) {
			uint64_t c = off / CH;
			uint8_t want = (c == 1 || c == 7 || c == 15) ? plain_byte(off) : 0;

			if (m[off] != want) {
				fprintf(stderr, "byte %llu: %u, want %u\n", (unsigned long long)off,
					m[off], want);
				CHECK(0);
				break;
			}
		}
		munmap(m, 16 * CH);
	}
}

WARD_TEST(ext4img_unseal_refusals)
{
	struct ward_err err = WARD_ERR_INIT;
	char digest[80], other[80];
	WARD_AUTOCLOSE int fd = seal(digest);
	uint8_t b;

	/* another image's header */
	snprintf(other, sizeof(other), "sha256:%064d", 0);
	CHECK_ERR(unseal(fd, other, 1, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "another image");
	/* one flipped ciphertext byte in the second stored chunk (index 7) */
	CHECK(pread(fd, &b, 1, 4096 + CH + 16 + 100) == 1);
	b ^= 1;
	CHECK(pwrite(fd, &b, 1, 4096 + CH + 16 + 100) == 1);
	CHECK_ERR(unseal(fd, digest, 2, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "chunk 7 ");
	b ^= 1;
	CHECK(pwrite(fd, &b, 1, 4096 + CH + 16 + 100) == 1);
	CHECK_OK(close(unseal(fd, digest, 1, &err)), &err);
	/* a chunk moved: swap the index entries' meaning by editing the
	 * header changes its digest */
	CHECK(pwrite(fd, "\x02", 1, 48) == 1);
	CHECK_ERR(unseal(fd, digest, 1, &err), -WARD_E_VERIFY);
	CHECK(pwrite(fd, "\x01", 1, 48) == 1);
	/* a truncated file */
	CHECK(ftruncate(fd, 4096 + 2 * (CH + 16)) == 0);
	CHECK_ERR(unseal(fd, digest, 1, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "describes");
}

WARD_TEST_MAIN()
