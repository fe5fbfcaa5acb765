/* SPDX-License-Identifier: Apache-2.0 */
/* The header of a --rootfs ext4 image (include/ward/ext4img.h): parsed
 * from untrusted bytes with a bounded cursor, written by the converter. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/cursor.h"
#include "ward/encoding.h"
#include "ward/ext4img.h"
#include "ward/file.h"

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

/* pread or pwrite exactly n bytes at off: a short image is malformed
 * input; a short write to the memory file is an error. */
static int pio_full(int fd, bool write_, void *buf, size_t n, uint64_t off, struct ward_err *err)
{
	int r = ward_fd_pio_all(fd, write_, buf, n, off);

	if (r == -ENODATA)
		return ward_err_set(err, -WARD_E_MALFORMED, "ext4 image: ends before %llu",
				    (unsigned long long)(off + n));
	if (r < 0)
		return ward_err_errno(err, r, "ext4 image: %s at %llu",
				      write_ ? "write to memory" : "read", (unsigned long long)off);
	return 0;
}

static bool page_is_zero(const uint8_t *p)
{
	uint64_t acc = 0, w;

	for (size_t i = 0; i < 4096; i += 8) {
		memcpy(&w, p + i, 8);
		acc |= w;
	}
	return acc == 0;
}

/* Write the chunk's runs of non-zero 4 KiB pages; its zero pages stay holes
 * in the memory file (they read as zeros and cost no memory; an ext4 image
 * has many inside the chunks that hold data). */
static int write_nonzero(int fd, const uint8_t *buf, size_t size, uint64_t off,
			 struct ward_err *err)
{
	size_t start = 0;

	while (start < size) {
		size_t end;

		while (start < size && page_is_zero(buf + start))
			start += 4096;
		for (end = start; end < size && !page_is_zero(buf + end); end += 4096)
			;
		if (end > start) {
			int r = pio_full(fd, true, (void *)(buf + start), end - start, off + start,
					 err);

			if (r < 0)
				return r;
		}
		start = end;
	}
	return 0;
}

struct unseal_job {
	int fd, out_fd;
	const struct ward_ext4img_hdr *h;
	const uint8_t *key;
	uint64_t first, step;
	int r;
	struct ward_err err;
};

/* Every step-th stored chunk from first: ciphertext and tag read into a
 * private buffer (the host cannot change them after this read), opened in
 * place, the plaintext written to its place in the memory file. Writing
 * whole pages with pwrite lets the kernel skip zeroing them, which makes
 * this about a third faster than decrypting into a shared mapping. */
static void *unseal_run(void *arg)
{
	struct unseal_job *j = arg;
	WARD_CLEANUP(ward_aead_ctx_freep) struct ward_aead_ctx *ctx = NULL;
	const struct ward_ext4img_hdr *h = j->h;
	WARD_AUTOFREE uint8_t *buf = malloc((size_t)h->chunk_size + WARD_EXT4IMG_TAG);

	if (!buf) {
		j->r = ward_err_set(&j->err, -ENOMEM, "out of memory");
		return NULL;
	}
	j->r = ward_aead_ctx_new(j->key, &ctx, &j->err);
	for (uint64_t k = j->first; j->r == 0 && k < h->count; k += j->step) {
		uint64_t i = ward_ext4img_index(h, k);
		uint8_t iv[WARD_EXT4IMG_IV], aad[WARD_EXT4IMG_AAD];

		j->r = pio_full(j->fd, false, buf, (size_t)h->chunk_size + WARD_EXT4IMG_TAG,
				ward_ext4img_chunk_off(h, k), &j->err);
		if (j->r < 0)
			break;
		ward_ext4img_iv(i, iv);
		ward_ext4img_aad(h->id, i, aad);
		j->r = ward_aead_ctx_open_iv(ctx, iv, aad, sizeof(aad), buf, h->chunk_size,
					     buf + h->chunk_size, buf, &j->err);
		if (j->r < 0) {
			j->r = ward_err_set(&j->err, -WARD_E_VERIFY,
					    "ext4 image: chunk %llu (stored as %llu) fails its "
					    "authentication tag",
					    (unsigned long long)i, (unsigned long long)k);
			break;
		}
		j->r = write_nonzero(j->out_fd, buf, h->chunk_size, i * h->chunk_size, &j->err);
	}
	ward_wipe(buf, (size_t)h->chunk_size + WARD_EXT4IMG_TAG);
	return NULL;
}

int ward_ext4img_unseal(int fd, const char *want_digest, const uint8_t key[32], int out_fd,
			unsigned threads, uint64_t *ret_fs_size, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *hbuf = NULL;
	struct ward_ext4img_hdr h;
	struct unseal_job jobs[2];
	pthread_t tid;
	bool started = false;
	uint8_t fixed[WARD_EXT4IMG_FIXED];
	char hex[65], got[80];
	struct stat st;
	size_t need;
	int r;

	if (fstat(fd, &st) < 0)
		return ward_err_errno(err, -errno, "ext4 image: stat");
	r = pio_full(fd, false, fixed, sizeof(fixed), 0, err);
	if (r < 0)
		return r;
	need = ward_ext4img_header_need(fixed, sizeof(fixed));
	if (need == 0 || need > (uint64_t)st.st_size)
		need = sizeof(fixed); /* let the parser name what is wrong */
	hbuf = malloc(need);
	if (!hbuf)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = pio_full(fd, false, hbuf, need, 0, err);
	if (r < 0)
		return r;
	r = ward_ext4img_parse(hbuf, need, (uint64_t)st.st_size, &h, err);
	if (r < 0)
		return r;
	r = ward_sha256_hex(hbuf, h.header_len, hex, err);
	if (r < 0)
		return r;
	snprintf(got, sizeof(got), "sha256:%s", hex);
	if (!want_digest || strcmp(got, want_digest) != 0)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "ext4 image: header digest %s is not the image's %s: another "
				    "image was substituted",
				    got, want_digest ? want_digest : "(none)");
	if (ftruncate(out_fd, (off_t)h.fs_size) < 0)
		return ward_err_errno(err, -errno, "ext4 image: size the memory file to %llu",
				      (unsigned long long)h.fs_size);
	if (threads < 1)
		threads = 1;
	if (threads > 2)
		threads = 2;
	for (unsigned t = 0; t < threads; t++)
		jobs[t] = (struct unseal_job){.fd = fd, .out_fd = out_fd, .h = &h, .key = key,
					      .first = t, .step = threads, .err = WARD_ERR_INIT};
	if (threads == 2) {
		started = pthread_create(&tid, NULL, unseal_run, &jobs[1]) == 0;
		if (!started) { /* no second thread: do it all here */
			jobs[0].step = 1;
			threads = 1;
		}
	}
	unseal_run(&jobs[0]);
	if (started)
		pthread_join(tid, NULL);
	for (unsigned t = 0; t < threads; t++)
		if (jobs[t].r < 0) {
			ward_err_set(err, jobs[t].r, "%s", jobs[t].err.msg);
			return jobs[t].r;
		}
	if (ret_fs_size)
		*ret_fs_size = h.fs_size;
	return 0;
}
