/* SPDX-License-Identifier: Apache-2.0 */
/* The header of a --rootfs ext4 image (include/ward/ext4img.h): parsed
 * from untrusted bytes with a bounded cursor, written by the converter. */
#include <string.h>

#include "ward/cursor.h"
#include "ward/ext4img.h"

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t align_up(uint64_t v)
{
	return (v + WARD_EXT4IMG_ALIGN - 1) / WARD_EXT4IMG_ALIGN * WARD_EXT4IMG_ALIGN;
}

static int check_geometry(uint32_t chunk, uint64_t fs_size, uint64_t count, struct ward_err *err)
{
	if (chunk < WARD_EXT4IMG_CHUNK_MIN || chunk > WARD_EXT4IMG_CHUNK_MAX ||
	    (chunk & (chunk - 1)) != 0)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "ext4 image: chunk size %u is not a power of two in [%u, %u]",
				    chunk, WARD_EXT4IMG_CHUNK_MIN, WARD_EXT4IMG_CHUNK_MAX);
	if (fs_size == 0 || fs_size % chunk != 0 || fs_size > WARD_EXT4IMG_FS_MAX)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "ext4 image: filesystem size %llu is not a non-zero multiple "
				    "of the chunk size up to 1 TiB",
				    (unsigned long long)fs_size);
	if (count > fs_size / chunk)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "ext4 image: %llu stored chunks but the filesystem has %llu",
				    (unsigned long long)count,
				    (unsigned long long)(fs_size / chunk));
	return 0;
}

size_t ward_ext4img_header_need(const void *buf, size_t size)
{
	const uint8_t *p = buf;
	uint64_t count;

	if (!buf || size < WARD_EXT4IMG_FIXED)
		return WARD_EXT4IMG_FIXED;
	count = get_le64(p + 40);
	if (count > WARD_EXT4IMG_FS_MAX / WARD_EXT4IMG_CHUNK_MIN)
		return 0;
	return WARD_EXT4IMG_FIXED + 8 * (size_t)count;
}

int ward_ext4img_parse(const void *buf, size_t size, uint64_t file_size,
		       struct ward_ext4img_hdr *h, struct ward_err *err)
{
	struct ward_cur c = ward_cur_make(buf, size);
	const uint8_t *magic, *index;
	uint32_t version;
	uint64_t prev = 0, total;
	int r;

	memset(h, 0, sizeof(*h));
	if (ward_cur_take(&c, 8, &magic) < 0 || ward_cur_u32le(&c, &version) < 0 ||
	    ward_cur_u32le(&c, &h->chunk_size) < 0 || ward_cur_u64le(&c, &h->fs_size) < 0 ||
	    ward_cur_copy(&c, h->id, sizeof(h->id)) < 0 || ward_cur_u64le(&c, &h->count) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "ext4 image: header shorter than %u bytes", WARD_EXT4IMG_FIXED);
	if (memcmp(magic, WARD_EXT4IMG_MAGIC, 8) != 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "ext4 image: bad magic at offset 0");
	if (version != WARD_EXT4IMG_VERSION)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "ext4 image: version %u (want %u)",
				    version, WARD_EXT4IMG_VERSION);
	r = check_geometry(h->chunk_size, h->fs_size, h->count, err);
	if (r < 0)
		return r;
	/* count <= 2^40 / 2^16, so 8*count cannot overflow */
	if (ward_cur_take(&c, 8 * (size_t)h->count, &index) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "ext4 image: header holds %zu bytes, its index needs %llu",
				    size, (unsigned long long)(WARD_EXT4IMG_FIXED + 8 * h->count));
	for (uint64_t k = 0; k < h->count; k++) {
		uint64_t i = get_le64(index + 8 * k);

		if (i >= h->fs_size / h->chunk_size || (k > 0 && i <= prev))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "ext4 image: index entry %llu (chunk %llu) is out of "
					    "range or not increasing",
					    (unsigned long long)k, (unsigned long long)i);
		prev = i;
	}
	h->index = index;
	h->header_len = WARD_EXT4IMG_FIXED + 8 * (size_t)h->count;
	h->data_off = align_up(h->header_len);
	total = h->data_off + h->count * ((uint64_t)h->chunk_size + WARD_EXT4IMG_TAG);
	if (file_size != total)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "ext4 image: %llu bytes, its header describes %llu",
				    (unsigned long long)file_size, (unsigned long long)total);
	return 0;
}

uint64_t ward_ext4img_index(const struct ward_ext4img_hdr *h, uint64_t k)
{
	return get_le64(h->index + 8 * k);
}

uint64_t ward_ext4img_chunk_off(const struct ward_ext4img_hdr *h, uint64_t k)
{
	return h->data_off + k * ((uint64_t)h->chunk_size + WARD_EXT4IMG_TAG);
}

void ward_ext4img_iv(uint64_t i, uint8_t iv[WARD_EXT4IMG_IV])
{
	memset(iv, 0, 4);
	put_le(iv + 4, i, 8);
}

void ward_ext4img_aad(const uint8_t id[WARD_EXT4IMG_ID], uint64_t i,
		      uint8_t aad[WARD_EXT4IMG_AAD])
{
	memcpy(aad, id, WARD_EXT4IMG_ID);
	put_le(aad + WARD_EXT4IMG_ID, i, 8);
}

int ward_ext4img_write_header(uint32_t chunk_size, uint64_t fs_size,
			      const uint8_t id[WARD_EXT4IMG_ID], const uint64_t *index,
			      uint64_t count, uint8_t *out, size_t out_size, struct ward_err *err)
{
	int r = check_geometry(chunk_size, fs_size, count, err);

	if (r < 0)
		return r;
	if (out_size < WARD_EXT4IMG_FIXED + 8 * count)
		return ward_err_set(err, -WARD_E_USAGE, "ext4 image: header buffer too small");
	memcpy(out, WARD_EXT4IMG_MAGIC, 8);
	put_le(out + 8, WARD_EXT4IMG_VERSION, 4);
	put_le(out + 12, chunk_size, 4);
	put_le(out + 16, fs_size, 8);
	memcpy(out + 24, id, WARD_EXT4IMG_ID);
	put_le(out + 40, count, 8);
	for (uint64_t k = 0; k < count; k++) {
		if (index[k] >= fs_size / chunk_size || (k > 0 && index[k] <= index[k - 1]))
			return ward_err_set(err, -WARD_E_USAGE,
					    "ext4 image: index not increasing or out of range");
		put_le(out + WARD_EXT4IMG_FIXED + 8 * k, index[k], 8);
	}
	return 0;
}
