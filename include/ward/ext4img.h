/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The encrypted root filesystem image of `ward convert --rootfs ext4`: an
 * ext4 filesystem, cut into equal chunks, of which only the chunks holding
 * a non-zero byte are stored, each sealed with AES-256-GCM. ward-init
 * decrypts the stored chunks into a private memory file (the rest stays a
 * hole that reads as zeros) and mounts it through a loop device.
 *
 * Layout (little-endian; docs/images.md):
 *   0   8  magic "WARDEXT4"
 *   8   4  version (1)
 *   12  4  chunk size in bytes (a power of two, 64 KiB .. 16 MiB)
 *   16  8  filesystem size in bytes (a non-zero multiple of the chunk size)
 *   24 16  image id (random per conversion)
 *   40  8  count: number of stored chunks
 *   48  8*count  the stored chunks' indices, strictly increasing
 *   ...  zeros up to data_off = the header length rounded up to 4096
 *   data_off + k*(chunk+16): stored chunk k's ciphertext, then its 16-byte tag
 *
 * Chunk i is sealed under the image key with IV = 4 zero bytes || i (u64 LE)
 * and AAD = image id || i (u64 LE). The header (bytes [0, 48 + 8*count)) is
 * authenticated by its SHA-256, which the measured config carries ("digest")
 * and to which the released key is bound. So the host can change no chunk,
 * move none, drop none, add none and swap in no other image's. */

#include <stdint.h>
#include <stddef.h>

#include "ward/error.h"

#define WARD_EXT4IMG_MAGIC "WARDEXT4"
#define WARD_EXT4IMG_VERSION 1u
#define WARD_EXT4IMG_FIXED 48u		      /* header bytes before the index */
#define WARD_EXT4IMG_ALIGN 4096u	      /* data_off alignment */
#define WARD_EXT4IMG_CHUNK_MIN (64u << 10)
#define WARD_EXT4IMG_CHUNK_MAX (16u << 20)
#define WARD_EXT4IMG_CHUNK_DEFAULT (1u << 20)
#define WARD_EXT4IMG_FS_MAX (UINT64_C(1) << 40) /* 1 TiB */
#define WARD_EXT4IMG_TAG 16u
#define WARD_EXT4IMG_ID 16u
#define WARD_EXT4IMG_IV 12u
#define WARD_EXT4IMG_AAD 24u

struct ward_ext4img_hdr {
	uint32_t chunk_size;
	uint64_t fs_size;
	uint8_t id[WARD_EXT4IMG_ID];
	uint64_t count;
	const uint8_t *index; /* borrowed: count u64 LE values in the parsed buffer */
	size_t header_len;    /* 48 + 8*count: the bytes the digest covers */
	uint64_t data_off;    /* header_len rounded up to WARD_EXT4IMG_ALIGN */
};

/* Parse and check a header from the first `size` bytes of an image whose
 * total length is file_size (checked to be exactly data_off + count *
 * (chunk + 16)). Untrusted input: every field is bounded. On success h
 * borrows buf. -WARD_E_MALFORMED names the offending field; size too small
 * for the index gives -WARD_E_MALFORMED too (read at least
 * ward_ext4img_header_need() bytes first). */
WARD_PUBLIC int ward_ext4img_parse(const void *buf, size_t size, uint64_t file_size,
				   struct ward_ext4img_hdr *h, struct ward_err *err);

/* How many header bytes a parse needs, from the first 48: 0 if those are
 * already malformed (then parse them for the error). */
WARD_PUBLIC size_t ward_ext4img_header_need(const void *buf, size_t size);

/* Stored chunk k's index (k < h->count). */
WARD_PUBLIC uint64_t ward_ext4img_index(const struct ward_ext4img_hdr *h, uint64_t k);

/* Where stored chunk k's ciphertext starts in the image. */
WARD_PUBLIC uint64_t ward_ext4img_chunk_off(const struct ward_ext4img_hdr *h, uint64_t k);

/* The IV and AAD of chunk index i of the image with this id. */
WARD_PUBLIC void ward_ext4img_iv(uint64_t i, uint8_t iv[WARD_EXT4IMG_IV]);
WARD_PUBLIC void ward_ext4img_aad(const uint8_t id[WARD_EXT4IMG_ID], uint64_t i,
				  uint8_t aad[WARD_EXT4IMG_AAD]);

/* Write the header for these values into out (header_len bytes, where
 * header_len = 48 + 8*count); index holds count strictly increasing values. */
WARD_PUBLIC int ward_ext4img_write_header(uint32_t chunk_size, uint64_t fs_size,
					  const uint8_t id[WARD_EXT4IMG_ID], const uint64_t *index,
					  uint64_t count, uint8_t *out, size_t out_size,
					  struct ward_err *err);

/* Decrypt the image in fd (UNTRUSTED bytes) into out_fd (a private memory
 * file): check the header and that its SHA-256 is want_digest
 * ("sha256:<hex>", from the measured config), size out_fd to the
 * filesystem, then read every stored chunk into a private buffer, open it
 * under key and write it into place (`threads` threads, 1 or 2). Chunks not stored
 * stay holes (zeros, no memory). Any failed tag fails the whole call
 * (-WARD_E_VERIFY naming the chunk); out_fd must then be discarded. The
 * filesystem size is returned in *ret_fs_size. */
WARD_PUBLIC int ward_ext4img_unseal(int fd, const char *want_digest, const uint8_t key[32],
				    int out_fd, unsigned threads, uint64_t *ret_fs_size,
				    struct ward_err *err);
