/* SPDX-License-Identifier: Apache-2.0 */
/* ward convert --rootfs ext4, the sealing side: cut a finished ext4
 * filesystem image into chunks, keep those holding a non-zero byte, seal
 * each with AES-256-GCM and stream the result (include/ward/ext4img.h)
 * into the ward layer's tar as one member.
 *
 * Two passes over the image file: the first finds the stored chunks
 * (lseek SEEK_DATA/SEEK_HOLE skips the holes of the sparse file, then the
 * bytes of each chunk in a data region are checked), because the header
 * with their index comes first; the second seals and writes them in
 * order. Memory is a few chunk buffers and the index (8 bytes per stored
 * chunk). With two threads, a worker seals every other chunk. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image-internal.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/ext4img.h"
#include "ward/file.h"

static bool all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static int read_chunk(int fd, uint64_t i, uint32_t chunk, uint8_t *buf, struct ward_err *err)
{
	int r = ward_fd_pio_all(fd, false, buf, chunk, i * chunk);

	if (r < 0)
		return ward_err_errno(err, r == -ENODATA ? -EIO : r, "ext4 image: read chunk %llu",
				      (unsigned long long)i);
	return 0;
}

/* Pass 1: the indices of the chunks holding a non-zero byte. */
static int find_chunks(int fd, uint64_t fs_size, uint32_t chunk, uint8_t *buf, uint64_t **ret_index,
		       uint64_t *ret_count, struct ward_err *err)
{
	WARD_AUTOFREE uint64_t *index = NULL;
	uint64_t count = 0, cap = 0, next = 0; /* chunks below next are done */
	off_t pos = 0;
	int r;

	while ((uint64_t)pos < fs_size) {
		off_t data = lseek(fd, pos, SEEK_DATA), hole;

		if (data < 0 && errno == ENXIO)
			break; /* only a hole is left */
		if (data < 0 && errno == EINVAL) {
			/* no SEEK_DATA here: everything counts as data */
			data = pos;
			hole = (off_t)fs_size;
		} else if (data < 0 || (hole = lseek(fd, data, SEEK_HOLE)) < 0) {
			return ward_err_errno(err, -errno, "ext4 image: find data");
		}
		if ((uint64_t)hole > fs_size)
			hole = (off_t)fs_size;
		for (uint64_t i = (uint64_t)data / chunk; i * chunk < (uint64_t)hole; i++) {
			if (i < next)
				continue; /* looked at for an earlier data region */
			next = i + 1;
			r = read_chunk(fd, i, chunk, buf, err);
			if (r < 0)
				return r;
			if (all_zero(buf, chunk))
				continue;
			if (count == cap) {
				uint64_t ncap = cap ? cap * 2 : 1024;
				uint64_t *n = reallocarray(index, ncap, sizeof(*n));

				if (!n)
					return ward_err_set(err, -ENOMEM, "out of memory");
				index = n;
				cap = ncap;
			}
			index[count++] = i;
		}
		pos = hole;
	}
	*ret_index = WARD_TAKE_PTR(index);
	*ret_count = count;
	return 0;
}

/* Sealing one stored chunk: read it, encrypt it in place, tag after it. */
struct seal_job {
	int fd;
	uint32_t chunk;
	const uint8_t *id;
	struct ward_aead_ctx *aead; /* owned; one per thread */
	uint8_t *buf;		    /* owned: chunk + tag bytes */
	uint64_t index;
	int result;
	struct ward_err err;
};

static int seal_chunk(struct seal_job *j)
{
	uint8_t iv[WARD_EXT4IMG_IV], aad[WARD_EXT4IMG_AAD];
	int r;

	r = read_chunk(j->fd, j->index, j->chunk, j->buf, &j->err);
	if (r < 0)
		return r;
	ward_ext4img_iv(j->index, iv);
	ward_ext4img_aad(j->id, j->index, aad);
	return ward_aead_ctx_seal_iv(j->aead, iv, aad, sizeof(aad), j->buf, j->chunk, j->buf,
				     j->buf + j->chunk, &j->err);
}

static int job_init(struct seal_job *j, int fd, uint32_t chunk, const uint8_t *key,
		    const uint8_t *id, struct ward_err *err)
{
	*j = (struct seal_job){.fd = fd, .chunk = chunk, .id = id, .err = WARD_ERR_INIT};
	j->buf = malloc((size_t)chunk + WARD_EXT4IMG_TAG);
	if (!j->buf)
		return ward_err_set(err, -ENOMEM, "out of memory");
	return ward_aead_ctx_new(key, &j->aead, err);
}

static void job_clear(struct seal_job *j)
{
	j->aead = ward_aead_ctx_free(j->aead);
	free(j->buf);
	j->buf = NULL;
}

/* The second thread: seals the job it is handed, one at a time. */
struct worker {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct seal_job job;
	bool pending, quit;
};

static void *worker_main(void *arg)
{
	struct worker *wk = arg;

	pthread_mutex_lock(&wk->mu);
	for (;;) {
		while (!wk->pending && !wk->quit)
			pthread_cond_wait(&wk->cv, &wk->mu);
		if (!wk->pending)
			break;
		pthread_mutex_unlock(&wk->mu);
		wk->job.result = seal_chunk(&wk->job);
		pthread_mutex_lock(&wk->mu);
		wk->pending = false;
		pthread_cond_broadcast(&wk->cv);
	}
	pthread_mutex_unlock(&wk->mu);
	return NULL;
}

static void worker_submit(struct worker *wk, uint64_t index)
{
	pthread_mutex_lock(&wk->mu);
	wk->job.index = index;
	wk->pending = true;
	pthread_cond_broadcast(&wk->cv);
	pthread_mutex_unlock(&wk->mu);
}

static void worker_wait(struct worker *wk)
{
	pthread_mutex_lock(&wk->mu);
	while (wk->pending)
		pthread_cond_wait(&wk->cv, &wk->mu);
	pthread_mutex_unlock(&wk->mu);
}

static void worker_stop(struct worker *wk)
{
	pthread_mutex_lock(&wk->mu);
	wk->quit = true;
	pthread_cond_broadcast(&wk->cv);
	pthread_mutex_unlock(&wk->mu);
	pthread_join(wk->thread, NULL);
}

/* Pass 2: seal the stored chunks in order into w. */
static int seal_all(int fd, uint32_t chunk, const uint8_t *key, const uint8_t *id,
		    const uint64_t *index, uint64_t count, unsigned threads, struct img_out_blob *w,
		    struct ward_err *err)
{
	struct seal_job mj;
	struct worker wk = {0};
	bool two = threads > 1 && count > 1, started = false;
	int r;

	r = job_init(&mj, fd, chunk, key, id, err);
	if (r >= 0 && two)
		r = job_init(&wk.job, fd, chunk, key, id, err);
	if (r >= 0 && two) {
		pthread_mutex_init(&wk.mu, NULL);
		pthread_cond_init(&wk.cv, NULL);
		r = -pthread_create(&wk.thread, NULL, worker_main, &wk);
		if (r < 0)
			ward_err_errno(err, r, "ext4 image: start the sealing thread");
		else
			started = true;
	}
	for (uint64_t k = 0; r >= 0 && k < count; k += started ? 2 : 1) {
		bool pair = started && k + 1 < count;

		if (pair)
			worker_submit(&wk, index[k + 1]);
		mj.index = index[k];
		r = seal_chunk(&mj);
		if (pair)
			worker_wait(&wk);
		if (r < 0) {
			*err = mj.err;
			break;
		}
		r = img_out_blob_write(w, mj.buf, (size_t)chunk + WARD_EXT4IMG_TAG, err);
		if (r >= 0 && pair) {
			r = wk.job.result;
			if (r < 0)
				*err = wk.job.err;
			else
				r = img_out_blob_write(w, wk.job.buf,
						       (size_t)chunk + WARD_EXT4IMG_TAG, err);
		}
	}
	if (started) {
		worker_stop(&wk);
		pthread_cond_destroy(&wk.cv);
		pthread_mutex_destroy(&wk.mu);
	}
	/* the buffers held plaintext of the image */
	if (mj.buf)
		ward_wipe(mj.buf, (size_t)chunk + WARD_EXT4IMG_TAG);
	if (wk.job.buf)
		ward_wipe(wk.job.buf, (size_t)chunk + WARD_EXT4IMG_TAG);
	job_clear(&mj);
	job_clear(&wk.job);
	return r;
}

int img_ext4_seal(int fd, uint64_t fs_size, uint32_t chunk, const uint8_t key[32],
		  const uint8_t id[WARD_EXT4IMG_ID], unsigned threads, struct img_out_blob *w,
		  const char *member, int64_t mtime, struct img_ext4_sealed *ret,
		  struct ward_err *err)
{
	static const uint8_t zeros[512];
	WARD_AUTOFREE uint64_t *index = NULL;
	WARD_AUTOFREE uint8_t *buf = NULL, *header = NULL;
	uint64_t count = 0, total, data_off;
	size_t header_len;
	uint8_t hdr[512];
	int r;

	memset(ret, 0, sizeof(*ret));
	if (chunk < WARD_EXT4IMG_CHUNK_MIN || chunk > WARD_EXT4IMG_CHUNK_MAX ||
	    fs_size % chunk != 0 || fs_size == 0 || fs_size > WARD_EXT4IMG_FS_MAX)
		return ward_err_set(err, -WARD_E_USAGE, "ext4 image: bad geometry");
	buf = malloc(chunk);
	if (!buf)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = find_chunks(fd, fs_size, chunk, buf, &index, &count, err);
	ward_wipe(buf, chunk);
	if (r < 0)
		return r;
	header_len = WARD_EXT4IMG_FIXED + 8 * (size_t)count;
	data_off = (header_len + WARD_EXT4IMG_ALIGN - 1) / WARD_EXT4IMG_ALIGN * WARD_EXT4IMG_ALIGN;
	header = calloc(1, (size_t)data_off);
	if (!header)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_ext4img_write_header(chunk, fs_size, id, index, count, header, header_len, err);
	if (r < 0)
		return r;
	r = ward_hash(WARD_HASH_SHA256, header, header_len, ret->header_digest, err);
	if (r < 0)
		return r;
	total = data_off + count * ((uint64_t)chunk + WARD_EXT4IMG_TAG);
	r = img_tar_header(hdr, member, '0', 0444, total, mtime, err);
	if (r >= 0)
		r = img_out_blob_write(w, hdr, sizeof(hdr), err);
	if (r >= 0)
		r = img_out_blob_write(w, header, (size_t)data_off, err);
	if (r >= 0)
		r = seal_all(fd, chunk, key, id, index, count, threads, w, err);
	if (r >= 0 && total % 512)
		r = img_out_blob_write(w, zeros, 512 - (size_t)(total % 512), err);
	if (r < 0)
		return r;
	ret->chunks_stored = count;
	ret->header_len = header_len;
	ret->member_size = total;
	return 0;
}
