/* SPDX-License-Identifier: Apache-2.0 */
/* The protected-volume engine: an in-memory namespace loaded from one
 * authenticated metadata file, file contents in AEAD-sealed blocks kept in
 * two "slot" files per file, and an atomic commit that never overwrites a
 * block the last committed metadata refers to (shadow paging). See
 * docs/volumes.md for the format and the crash-consistency argument. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "vol-internal.h"
#include "ward/cleanup.h"
#include "ward/log.h"

#define OPEN_HANDLES_SOFT_MAX 4096
#define IO_CHUNK_BLOCKS_BYTES (1u << 20)

struct io_range;

struct pending_del {
	uint8_t file_id[16];
};

struct ward_vol {
	struct ward_vol_opts opts;
	const struct ward_vol_io *io;
	const struct ward_vol_crypto *cr;
	pthread_mutex_t lock;

	uint8_t key[32];
	uint8_t meta_key[32];
	uint8_t id[WARD_VOL_ID_SIZE];
	uint32_t bs;
	size_t rec; /* bytes of one block record */

	uint64_t version;
	uint8_t root[WARD_VOL_ROOT_SIZE];
	struct vol_ns ns;

	bool dirty;
	bool created_blobs; /* data files may have been created since the last commit */
	bool broken; /* a commit failed after it may have replaced the metadata */
	struct timespec dirty_since;
	struct pending_del *dels; /* owned */
	size_t ndels, dels_cap;
	/* Data files the last commit stopped referring to, removed by
	 * ward_vol_commit() after it drops the locks (see remove_gone). */
	struct pending_del *gone; /* owned */
	size_t ngone;
	size_t open_handles;

	struct io_range *ranges; /* in-flight block I/O (see range_acquire) */
	pthread_cond_t range_cond;
	pthread_rwlock_t commit_lock;

	pthread_t thread;
	pthread_cond_t cond;
	bool thread_started, stop;
};

/* ---- helpers ----------------------------------------------------------- */

static void audit(struct ward_vol *vol, const char *event, const char *fmt, ...)
	WARD_PRINTF(3, 4);
static void audit(struct ward_vol *vol, const char *event, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (vol->opts.audit) {
		vol->opts.audit(vol->opts.audit_ctx, event, detail);
	} else {
		const char *kv[] = {"audit", "volume", "event", event, NULL};

		ward_logkv(WARD_LOG_WARN, detail, kv);
	}
}

static bool ct_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint8_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

static void blob_name(const uint8_t file_id[16], int slot, char out[40])
{
	hex(file_id, 16, out);
	out[32] = '.';
	out[33] = (char)('0' + slot);
	out[34] = 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void mark_dirty(struct ward_vol *vol)
{
	if (!vol->dirty) {
		vol->dirty = true;
		clock_gettime(CLOCK_MONOTONIC, &vol->dirty_since);
		if (vol->thread_started)
			pthread_cond_signal(&vol->cond);
	}
}

/* Read a whole backing file of at most max bytes. */
static int io_read_all(const struct ward_vol_io *io, const char *name, size_t max, uint8_t **ret,
		       size_t *ret_size, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *buf = NULL;
	uint64_t size;
	size_t n;
	int h, r;

	h = io->open(io->ctx, name, WARD_VOL_IO_RDONLY);
	if (h < 0)
		return ward_err_errno(err, h, "open '%s'", name);
	r = io->fsize(io->ctx, h, &size);
	if (r < 0) {
		(void)io->close(io->ctx, h);
		return ward_err_errno(err, r, "size of '%s'", name);
	}
	if (size > max) {
		(void)io->close(io->ctx, h);
		return ward_err_set(err, -WARD_E_TOO_BIG, "'%s' is %" PRIu64 " bytes, limit %zu",
				    name, size, max);
	}
	buf = malloc(size ? (size_t)size : 1);
	if (!buf) {
		(void)io->close(io->ctx, h);
		return ward_err_set(err, -ENOMEM, "out of memory");
	}
	r = io->pread(io->ctx, h, buf, (size_t)size, 0, &n);
	(void)io->close(io->ctx, h);
	if (r < 0)
		return ward_err_errno(err, r, "read '%s'", name);
	if (n != size)
		return ward_err_set(err, -EIO, "'%s' changed size while read", name);
	*ret = WARD_TAKE_PTR(buf);
	*ret_size = n;
	return 0;
}

/* Write name durably (create/truncate, write, sync). */
static int io_write_file(const struct ward_vol_io *io, const char *name, const void *data,
			 size_t size, struct ward_err *err)
{
	int h, r;

	h = io->open(io->ctx, name, WARD_VOL_IO_CREATE);
	if (h < 0)
		return ward_err_errno(err, h, "create '%s'", name);
	r = io->truncate(io->ctx, h, 0);
	if (r >= 0)
		r = io->pwrite(io->ctx, h, data, size, 0);
	if (r >= 0)
		r = io->sync(io->ctx, h);
	(void)io->close(io->ctx, h);
	if (r < 0)
		return ward_err_errno(err, r, "write '%s'", name);
	return 0;
}

/* ---- keys ----------------------------------------------------------------- */

static int derive_keys(struct ward_vol *vol, const uint8_t key[32], struct ward_err *err)
{
	int r;

	memcpy(vol->key, key, 32);
	r = vol->cr->kdf(vol->cr->ctx, key, "ward-vol meta", vol->id, sizeof(vol->id),
			 vol->meta_key);
	if (r < 0)
		return ward_err_set(err, r, "derive metadata key");
	return 0;
}

static int file_key(struct ward_vol *vol, struct vol_inode *in)
{
	if (in->key_ready)
		return 0;
	uint8_t info[32];

	memcpy(info, vol->id, 16);
	memcpy(info + 16, in->file_id, 16);
	if (vol->cr->kdf(vol->cr->ctx, vol->key, "ward-vol file", info, sizeof(info), in->key) < 0)
		return -EIO;
	in->key_ready = true;
	return 0;
}

static int key_check(const struct ward_vol_crypto *cr, const uint8_t key[32],
		     const uint8_t id[16], uint8_t out[32])
{
	return cr->kdf(cr->ctx, key, "ward-vol key check", id, 16, out);
}

/* ---- metadata encode/decode --------------------------------------------- */

static int meta_build(struct ward_vol *vol, uint64_t version, uint8_t **ret, size_t *ret_size)
{
	WARD_AUTOFREE uint8_t *plain = NULL;
	struct ward_vol_meta_header mh = {.format = VOL_FORMAT, .block_size = vol->bs};
	size_t plain_size, total;
	uint8_t *buf;
	int r;

	r = vol_ns_serialize(&vol->ns, &plain, &plain_size);
	if (r < 0)
		return r;
	memcpy(mh.id, vol->id, 16);
	mh.version = version;
	mh.plain_size = plain_size;
	r = vol->cr->random(vol->cr->ctx, mh.nonce, sizeof(mh.nonce));
	if (r < 0)
		return -EIO;
	total = WARD_VOL_META_HEADER_SIZE + plain_size + WARD_VOL_TAG_SIZE;
	buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	vol_meta_header_encode(&mh, buf);
	r = vol->cr->seal(vol->cr->ctx, vol->meta_key, mh.nonce, buf, WARD_VOL_META_HEADER_SIZE,
			  plain, plain_size, buf + WARD_VOL_META_HEADER_SIZE,
			  buf + WARD_VOL_META_HEADER_SIZE + plain_size);
	ward_wipe(plain, plain_size);
	if (r < 0) {
		free(buf);
		return -EIO;
	}
	*ret = buf;
	*ret_size = total;
	return 0;
}

/* ---- block I/O ------------------------------------------------------------ */

static int blob_handle(struct ward_vol *vol, struct vol_inode *in, int slot, bool create)
{
	char name[40];
	int h;

	if (in->h[slot] >= 0)
		return in->h[slot];
	blob_name(in->file_id, slot, name);
	/* a read-only volume may sit on a read-only file system (an image) */
	h = vol->io->open(vol->io->ctx, name,
			  create ? WARD_VOL_IO_CREATE : vol->opts.read_only ? WARD_VOL_IO_RDONLY : 0);
	if (h < 0)
		return h;
	if (create)
		vol->created_blobs = true;
	in->h[slot] = h;
	vol->open_handles++;
	return h;
}

static void close_handles(struct ward_vol *vol, struct vol_inode *in)
{
	for (int s = 0; s < 2; s++)
		if (in->h[s] >= 0) {
			(void)vol->io->close(vol->io->ctx, in->h[s]);
			in->h[s] = -1;
			vol->open_handles--;
		}
}

/* Concurrency: vol->lock guards the namespace and every block table, but
 * is not held while blocks are encrypted, decrypted, read or written.
 * That work holds a range lock on the blocks it touches instead (shared
 * for reads, exclusive for writes), and the inode is pinned (busy) so it
 * is not freed meanwhile. Writers also hold commit_lock shared, so a
 * commit (exclusive) never sees a half-done write and never changes the
 * committed slots under a writer's feet. */
struct io_range {
	uint64_t ino, b0, b1;
	bool write;
	struct io_range *next;
};

static bool range_conflicts(const struct ward_vol *vol, const struct io_range *r)
{
	for (const struct io_range *x = vol->ranges; x; x = x->next)
		if (x->ino == r->ino && (x->write || r->write) && x->b0 <= r->b1 && r->b0 <= x->b1)
			return true;
	return false;
}

/* With vol->lock held: pin in and wait for the range. */
static void range_acquire(struct ward_vol *vol, struct vol_inode *in, struct io_range *r)
{
	in->busy++;
	while (range_conflicts(vol, r))
		pthread_cond_wait(&vol->range_cond, &vol->lock);
	r->next = vol->ranges;
	vol->ranges = r;
}

static void inode_destroy(struct ward_vol *vol, struct vol_inode *in)
{
	close_handles(vol, in);
	vol_inode_free(in);
}

/* With vol->lock held: release the range and unpin in (freeing it if it
 * was dropped from the namespace meanwhile). */
static void range_release(struct ward_vol *vol, struct vol_inode *in, struct io_range *r)
{
	for (struct io_range **pp = &vol->ranges; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	pthread_cond_broadcast(&vol->range_cond);
	if (--in->busy == 0 && in->zombie)
		inode_destroy(vol, in);
}

static void block_aad(struct ward_vol *vol, const uint8_t file_id[16], uint64_t idx,
		      uint8_t aad[44])
{
	memcpy(aad, "WVB1", 4);
	memcpy(aad + 4, vol->id, 16);
	memcpy(aad + 20, file_id, 16);
	vol_put_u64(aad + 36, idx);
}

/* What unlocked block I/O needs of a file: stable while the inode is
 * pinned and the range held. */
struct fview {
	uint64_t ino;
	const uint8_t *file_id;
	const uint8_t *key;
	int h[2];
};

static void integrity_fail(struct ward_vol *vol, const struct fview *fv, int slot, uint64_t idx,
			   const char *what)
{
	char name[40];

	blob_name(fv->file_id, slot, name);
	audit(vol, "integrity", "inode %" PRIu64 " block %" PRIu64 " in '%s': %s", fv->ino, idx,
	      name, what);
}

/* With vol->lock held: the view of in, opening the slot files that
 * blocks [first, first+n) of snap need. -EIO (audited) if one is missing. */
static int fview_get(struct ward_vol *vol, struct vol_inode *in, const struct vol_blk *snap,
		     uint64_t first, uint64_t n, struct fview *fv)
{
	int r = file_key(vol, in);

	if (r < 0)
		return r;
	fv->ino = in->ino;
	fv->file_id = in->file_id;
	fv->key = in->key;
	for (uint64_t i = 0; i < n; i++) {
		int slot = snap[i].flags & VOL_BLK_SLOT;

		if (snap[i].flags & VOL_BLK_HOLE || in->h[slot] >= 0)
			continue;
		r = blob_handle(vol, in, slot, false);
		if (r < 0) {
			fv->h[0] = fv->h[1] = -1;
			integrity_fail(vol, fv, slot, first + i, "data file missing");
			return -EIO;
		}
	}
	fv->h[0] = in->h[0];
	fv->h[1] = in->h[1];
	return 0;
}

/* Copy the table entries of blocks [first, first+n) (holes past nblk). */
static void snap_blocks(const struct vol_inode *in, uint64_t first, uint64_t n,
			struct vol_blk *snap)
{
	for (uint64_t i = 0; i < n; i++) {
		if (first + i < in->nblk) {
			snap[i] = in->blks[first + i];
		} else {
			snap[i].flags = VOL_BLK_HOLE;
			memset(snap[i].tag, 0, WARD_VOL_TAG_SIZE);
		}
	}
}

/* Unlocked: read, verify and decrypt blocks [first, first+n) described by
 * snap into out. */
static int blocks_read(struct ward_vol *vol, const struct fview *fv, uint64_t first, uint64_t n,
		       const struct vol_blk *snap, uint8_t *out, uint8_t *recbuf)
{
	uint8_t aad[44];
	uint64_t i = 0;
	int r;

	while (i < n) {
		uint64_t j = i + 1;
		size_t got;
		int slot;

		if (snap[i].flags & VOL_BLK_HOLE) {
			memset(out + i * vol->bs, 0, vol->bs);
			i++;
			continue;
		}
		slot = snap[i].flags & VOL_BLK_SLOT;
		while (j < n && snap[j].flags == (uint8_t)slot)
			j++;
		if (fv->h[slot] < 0)
			return -EIO;
		r = vol->io->pread(vol->io->ctx, fv->h[slot], recbuf, (size_t)(j - i) * vol->rec,
				   (first + i) * vol->rec, &got);
		if (r < 0)
			return -EIO;
		if (got != (size_t)(j - i) * vol->rec) {
			integrity_fail(vol, fv, slot, first + i + got / vol->rec,
				       "data file truncated");
			return -EIO;
		}
		for (uint64_t k = i; k < j; k++) {
			const uint8_t *rec = recbuf + (k - i) * vol->rec;

			if (!ct_eq(rec + WARD_VOL_NONCE_SIZE + vol->bs, snap[k].tag,
				   WARD_VOL_TAG_SIZE)) {
				integrity_fail(vol, fv, slot, first + k,
					       "record is not the committed one (replaced, "
					       "replayed or corrupted)");
				return -EIO;
			}
			block_aad(vol, fv->file_id, first + k, aad);
			if (vol->cr->open(vol->cr->ctx, fv->key, rec, aad, sizeof(aad),
					  rec + WARD_VOL_NONCE_SIZE, vol->bs, snap[k].tag,
					  out + k * vol->bs) < 0) {
				integrity_fail(vol, fv, slot, first + k, "authentication failed");
				return -EIO;
			}
		}
		i = j;
	}
	return 0;
}

static int target_slot(const struct vol_inode *in, uint64_t idx)
{
	if (idx < in->com_nblk && !(in->com[idx] & VOL_BLK_HOLE))
		return 1 - (in->com[idx] & VOL_BLK_SLOT);
	return 0;
}

static int blk_reserve(struct vol_inode *in, uint64_t n)
{
	if (n <= in->blk_cap)
		return 0;
	uint64_t cap = in->blk_cap ? in->blk_cap : 16;

	while (cap < n)
		cap *= 2;
	struct vol_blk *b = reallocarray(in->blks, (size_t)cap, sizeof(*b));

	if (!b)
		return -ENOMEM;
	in->blks = b;
	in->blk_cap = cap;
	return 0;
}

/* Unlocked: encrypt the plaintext blocks [first, first+n) of pt into
 * recbuf and write them to the slots given by slots[]; the new tags go to
 * out[]. */
static int blocks_write(struct ward_vol *vol, const struct fview *fv, uint64_t first, uint64_t n,
			const uint8_t *slots, const uint8_t *pt, uint8_t *recbuf,
			struct vol_blk *out)
{
	uint8_t nonces[256 * WARD_VOL_NONCE_SIZE];
	uint8_t aad[44];
	int r;

	for (uint64_t k = 0; k < n; k++) {
		uint8_t *rec = recbuf + k * vol->rec;

		/* One CSPRNG call per 256 blocks: the call costs as much as
		 * sealing a block. */
		if (k % 256 == 0 &&
		    vol->cr->random(vol->cr->ctx, nonces,
				    (size_t)WARD_MIN(256u, n - k) * WARD_VOL_NONCE_SIZE) < 0)
			return -EIO;
		memcpy(rec, nonces + (k % 256) * WARD_VOL_NONCE_SIZE, WARD_VOL_NONCE_SIZE);
		block_aad(vol, fv->file_id, first + k, aad);
		if (vol->cr->seal(vol->cr->ctx, fv->key, rec, aad, sizeof(aad), pt + k * vol->bs,
				  vol->bs, rec + WARD_VOL_NONCE_SIZE,
				  rec + WARD_VOL_NONCE_SIZE + vol->bs) < 0)
			return -EIO;
		out[k].flags = slots[k];
		memcpy(out[k].tag, rec + WARD_VOL_NONCE_SIZE + vol->bs, WARD_VOL_TAG_SIZE);
	}
	for (uint64_t i = 0; i < n;) {
		uint64_t j = i + 1;

		while (j < n && slots[j] == slots[i])
			j++;
		r = vol->io->pwrite(vol->io->ctx, fv->h[slots[i]], recbuf + i * vol->rec,
				    (size_t)(j - i) * vol->rec, (first + i) * vol->rec);
		if (r < 0)
			return r;
		i = j;
	}
	return 0;
}

/* With vol->lock held, the write range [off/bs, (off+size-1)/bs] held and
 * commit_lock held shared. Drops vol->lock while it works. */
static ssize_t file_write_ranged(struct ward_vol *vol, struct vol_inode *in, const uint8_t *buf,
				 size_t size, uint64_t off)
{
	uint64_t end = off + size, bs = vol->bs;
	size_t chunk_blocks = WARD_MAX(1u, IO_CHUNK_BLOCKS_BYTES / vol->bs);
	WARD_AUTOFREE uint8_t *pt = NULL, *recbuf = NULL, *slots = NULL;
	WARD_AUTOFREE struct vol_blk *snap = NULL, *out = NULL;
	int r = 0;

	r = blk_reserve(in, (end + bs - 1) / bs);
	if (r < 0)
		return r;
	pt = malloc(chunk_blocks * bs);
	recbuf = malloc(chunk_blocks * vol->rec);
	slots = malloc(chunk_blocks);
	snap = calloc(chunk_blocks, sizeof(*snap));
	out = calloc(chunk_blocks, sizeof(*out));
	if (!pt || !recbuf || !slots || !snap || !out)
		return -ENOMEM;
	for (uint64_t b = off / bs, last = (end - 1) / bs; b <= last;) {
		uint64_t n = WARD_MIN((uint64_t)chunk_blocks, last - b + 1);
		uint64_t cstart = b * bs, cend = (b + n) * bs;
		uint64_t from = WARD_MAX(off, cstart), to = WARD_MIN(end, cend);
		struct fview fv;

		snap_blocks(in, b, n, snap);
		for (uint64_t k = 0; k < n; k++)
			slots[k] = (uint8_t)target_slot(in, b + k);
		r = fview_get(vol, in, snap, b, n, &fv);
		for (int s = 0; r == 0 && s < 2; s++)
			if (memchr(slots, s, n) && fv.h[s] < 0) {
				r = blob_handle(vol, in, s, true);
				fv.h[s] = r;
				r = WARD_MIN(r, 0);
			}
		if (r < 0)
			return r;
		pthread_mutex_unlock(&vol->lock);
		if (from == cstart && to == cend) {
			/* Whole blocks: encrypt straight from the caller's buffer. */
			r = blocks_write(vol, &fv, b, n, slots, buf + (from - off), recbuf, out);
		} else {
			/* Partial first/last block: merge with the current contents. */
			if (from > cstart)
				r = blocks_read(vol, &fv, b, 1, snap, pt, recbuf);
			if (r == 0 && to < cend && (n > 1 || from == cstart))
				r = blocks_read(vol, &fv, b + n - 1, 1, snap + n - 1,
						pt + (n - 1) * bs, recbuf);
			if (r == 0) {
				memcpy(pt + (from - cstart), buf + (from - off),
				       (size_t)(to - from));
				r = blocks_write(vol, &fv, b, n, slots, pt, recbuf, out);
			}
		}
		pthread_mutex_lock(&vol->lock);
		if (r < 0)
			return r;
		/* Publish: the table now points at the new records. */
		for (uint64_t k = 0; k < n; k++) {
			in->hdirty[slots[k]] = true;
			if (b + k >= in->nblk) {
				for (uint64_t i = in->nblk; i < b + k; i++) {
					in->blks[i].flags = VOL_BLK_HOLE;
					memset(in->blks[i].tag, 0, WARD_VOL_TAG_SIZE);
				}
				in->nblk = b + k + 1;
				in->size = WARD_MAX(in->size, WARD_MIN(end, in->nblk * bs));
			}
			in->blks[b + k] = out[k];
		}
		b += n;
	}
	if (end > in->size)
		in->size = end;
	in->mtime = in->ctime = now_ns();
	mark_dirty(vol);
	return (ssize_t)size;
}

/* With vol->lock held and the read range held; drops the lock to work. */
static ssize_t file_read_ranged(struct ward_vol *vol, struct vol_inode *in, uint8_t *buf,
				size_t size, uint64_t off)
{
	uint64_t bs = vol->bs, end;
	size_t chunk_blocks = WARD_MAX(1u, IO_CHUNK_BLOCKS_BYTES / vol->bs), done = 0;
	WARD_AUTOFREE uint8_t *pt = NULL, *recbuf = NULL;
	WARD_AUTOFREE struct vol_blk *snap = NULL;
	int r;

	if (off >= in->size || size == 0)
		return 0;
	end = WARD_MIN(in->size, off + size);
	pt = malloc(chunk_blocks * bs);
	recbuf = malloc(chunk_blocks * vol->rec);
	snap = calloc(chunk_blocks, sizeof(*snap));
	if (!pt || !recbuf || !snap)
		return -ENOMEM;
	for (uint64_t b = off / bs, last = (end - 1) / bs; b <= last;) {
		uint64_t n = WARD_MIN((uint64_t)chunk_blocks, last - b + 1);
		uint64_t cstart = b * bs, cend = (b + n) * bs;
		uint64_t from = WARD_MAX(off, cstart), to = WARD_MIN(end, cend);
		struct fview fv;

		snap_blocks(in, b, n, snap);
		r = fview_get(vol, in, snap, b, n, &fv);
		if (r < 0)
			return r;
		pthread_mutex_unlock(&vol->lock);
		if (from == cstart && to == cend) {
			/* Whole blocks: decrypt straight into the caller's buffer.
			 * A block failing verification is wiped by the cipher and
			 * the caller gets only the error, never the buffer. */
			r = blocks_read(vol, &fv, b, n, snap, buf + (from - off), recbuf);
		} else {
			r = blocks_read(vol, &fv, b, n, snap, pt, recbuf);
			if (r == 0)
				memcpy(buf + (from - off), pt + (from - cstart),
				       (size_t)(to - from));
		}
		pthread_mutex_lock(&vol->lock);
		if (r < 0)
			return r;
		done += (size_t)(to - from);
		b += n;
	}
	return (ssize_t)done;
}

/* With vol->lock held, commit_lock shared: take the range from the
 * smaller of the sizes to the end and change the size. */
static int file_truncate(struct ward_vol *vol, struct vol_inode *in, uint64_t size)
{
	uint64_t bs = vol->bs;
	struct io_range rg = {.ino = in->ino, .b1 = UINT64_MAX, .write = true};
	int r = 0;

	if (size > WARD_VOL_FILE_MAX)
		return -EFBIG;
	if (vol->broken)
		return -EIO;
	rg.b0 = WARD_MIN(size, in->size) / bs;
	range_acquire(vol, in, &rg);
	if (size < in->size) {
		/* Keep the invariant "bytes past the size read as zero". */
		if (size % bs && !(in->blks[size / bs].flags & VOL_BLK_HOLE)) {
			uint64_t bend = WARD_MIN(in->size, (size / bs + 1) * bs);
			WARD_AUTOFREE uint8_t *zeros = calloc(1, (size_t)(bend - size));
			ssize_t w;

			if (!zeros) {
				r = -ENOMEM;
				goto out;
			}
			w = file_write_ranged(vol, in, zeros, (size_t)(bend - size), size);
			if (w < 0) {
				r = (int)w;
				goto out;
			}
		}
		in->nblk = (size + bs - 1) / bs;
		in->shrunk = true;
	} else if (size > in->size) {
		uint64_t nblk = (size + bs - 1) / bs;

		r = blk_reserve(in, nblk);
		if (r < 0)
			goto out;
		for (uint64_t i = in->nblk; i < nblk; i++) {
			in->blks[i].flags = VOL_BLK_HOLE;
			memset(in->blks[i].tag, 0, WARD_VOL_TAG_SIZE);
		}
		in->nblk = nblk;
	}
	in->size = size;
	in->mtime = in->ctime = now_ns();
	mark_dirty(vol);
out:
	range_release(vol, in, &rg);
	return r;
}

/* ---- commit --------------------------------------------------------------- */

static int queue_delete(struct ward_vol *vol, const uint8_t file_id[16])
{
	if (vol->ndels == vol->dels_cap) {
		size_t cap = vol->dels_cap ? vol->dels_cap * 2 : 16;
		struct pending_del *d = reallocarray(vol->dels, cap, sizeof(*d));

		if (!d)
			return -ENOMEM;
		vol->dels = d;
		vol->dels_cap = cap;
	}
	memcpy(vol->dels[vol->ndels++].file_id, file_id, 16);
	mark_dirty(vol);
	return 0;
}

/* Unlink the data files of dels (unlocked: an rm -rf of thousands of
 * files must not stall every other request). Their file ids are random
 * and never reused, so nothing can refer to these names again; a crash
 * before this leaves unreferenced files, which the next mount removes. */
static void remove_gone(struct ward_vol *vol, struct pending_del *dels, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (int s = 0; s < 2; s++) {
			char name[40];

			blob_name(dels[i].file_id, s, name);
			(void)vol->io->unlink(vol->io->ctx, name);
		}
}

/* After a commit: nothing uncommitted exists, so unreferenced blob files
 * and blocks past each file's end can go. The files are handed to
 * vol->gone (removed once the locks are dropped); if an earlier list is
 * still there (a commit not made through ward_vol_commit), it goes now. */
static void after_commit_cleanup(struct ward_vol *vol)
{
	if (vol->ndels) {
		if (vol->gone) {
			remove_gone(vol, vol->gone, vol->ngone);
			free(vol->gone);
		}
		vol->gone = WARD_TAKE_PTR(vol->dels);
		vol->ngone = vol->ndels;
		vol->ndels = vol->dels_cap = 0;
	}
	for (size_t b = 0; b < vol->ns.nbuckets; b++)
		for (struct vol_inode *in = vol->ns.buckets[b]; in; in = in->hnext) {
			if (in->type != VOL_T_FILE)
				continue;
			if (in->shrunk && in->busy == 0) {
				uint64_t keep[2] = {0, 0};

				for (uint64_t i = 0; i < in->nblk; i++)
					if (!(in->blks[i].flags & VOL_BLK_HOLE))
						keep[in->blks[i].flags & VOL_BLK_SLOT] = i + 1;
				for (int s = 0; s < 2; s++) {
					int h = blob_handle(vol, in, s, false);

					if (h >= 0)
						(void)vol->io->truncate(vol->io->ctx, h,
									keep[s] * vol->rec);
				}
				in->shrunk = false;
			}
			if (in->open_count == 0 && in->busy == 0)
				close_handles(vol, in);
		}
}

static int commit_locked(struct ward_vol *vol, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *meta = NULL;
	const struct ward_vol_io *io = vol->io;
	uint8_t root[WARD_VOL_ROOT_SIZE];
	size_t meta_size;
	int r;

	if (vol->broken)
		return ward_err_set(err, -EIO, "volume is read-only after a failed commit");
	if (!vol->dirty)
		return 0;
	if (vol->opts.read_only)
		return ward_err_set(err, -EROFS, "volume opened read-only");
	/* 1. Data first: every block the new metadata refers to is durable.
	 * Many dirty files (an untar): one syncfs beats a flush per file. */
	size_t ndirty = 0;

	for (size_t b = 0; b < vol->ns.nbuckets; b++)
		for (struct vol_inode *in = vol->ns.buckets[b]; in; in = in->hnext)
			ndirty += (size_t)in->hdirty[0] + in->hdirty[1];
	if (ndirty > 8 && io->sync_all) {
		r = io->sync_all(io->ctx);
		if (r < 0)
			return ward_err_errno(err, r, "sync backing store");
		for (size_t b = 0; b < vol->ns.nbuckets; b++)
			for (struct vol_inode *in = vol->ns.buckets[b]; in; in = in->hnext)
				in->hdirty[0] = in->hdirty[1] = false;
	}
	for (size_t b = 0; ndirty && b < vol->ns.nbuckets; b++)
		for (struct vol_inode *in = vol->ns.buckets[b]; in; in = in->hnext)
			for (int s = 0; s < 2; s++)
				if (in->hdirty[s] && in->h[s] >= 0) {
					r = io->sync(io->ctx, in->h[s]);
					if (r < 0)
						return ward_err_errno(err, r, "sync data of inode %" PRIu64,
								      in->ino);
					in->hdirty[s] = false;
				}
	/* 2. New metadata beside the old one. */
	r = meta_build(vol, vol->version + 1, &meta, &meta_size);
	if (r < 0)
		return ward_err_errno(err, r, "build metadata");
	r = io_write_file(io, WARD_VOL_META_TMP_NAME, meta, meta_size, err);
	if (r < 0)
		return r;
	/* The names of data files created since the last commit must be
	 * durable before metadata that refers to them can be. */
	if (vol->created_blobs) {
		r = io->sync_dir(io->ctx);
		if (r < 0)
			return ward_err_errno(err, r, "sync backing directory");
		vol->created_blobs = false;
	}
	r = vol->cr->hash(vol->cr->ctx, meta, meta_size, root);
	if (r < 0)
		return ward_err_set(err, -EIO, "hash metadata");
	/* 3. The commit point: one atomic rename. */
	r = io->rename(io->ctx, WARD_VOL_META_TMP_NAME, WARD_VOL_META_NAME);
	if (r >= 0)
		r = io->sync_dir(io->ctx);
	if (r < 0) {
		vol->broken = true;
		return ward_err_errno(err, r, "replace metadata");
	}
	vol->version++;
	memcpy(vol->root, root, sizeof(root));
	vol->dirty = false;
	/* 4. The committed block table is now the current one. */
	for (size_t b = 0; b < vol->ns.nbuckets; b++)
		for (struct vol_inode *in = vol->ns.buckets[b]; in; in = in->hnext) {
			if (in->type != VOL_T_FILE)
				continue;
			if (in->nblk > in->com_nblk || !in->com) {
				uint8_t *c = realloc(in->com, in->nblk ? (size_t)in->nblk : 1);

				if (!c) {
					vol->broken = true;
					return ward_err_set(err, -ENOMEM, "out of memory");
				}
				in->com = c;
			}
			for (uint64_t i = 0; i < in->nblk; i++)
				in->com[i] = in->blks[i].flags;
			in->com_nblk = in->nblk;
		}
	after_commit_cleanup(vol);
	/* 5. Freshness: register the new state. */
	if (vol->opts.registry) {
		r = vol->opts.registry->put(vol->opts.registry->ctx, vol->id, vol->version, vol->root,
					    err);
		if (r < 0) {
			audit(vol, "register-failed",
			      "version %" PRIu64 " committed but not registered: %s", vol->version,
			      err ? err->msg : "");
			return ward_err_prefix(err, "register version %" PRIu64, vol->version);
		}
	}
	ward_debug("volume: committed version %" PRIu64, vol->version);
	return 0;
}

int ward_vol_commit(struct ward_vol *vol, struct ward_err *err)
{
	int r;

	WARD_AUTOFREE struct pending_del *gone = NULL;
	size_t ngone;

	pthread_rwlock_wrlock(&vol->commit_lock);
	pthread_mutex_lock(&vol->lock);
	r = commit_locked(vol, err);
	gone = WARD_TAKE_PTR(vol->gone);
	ngone = vol->ngone;
	vol->ngone = 0;
	pthread_mutex_unlock(&vol->lock);
	pthread_rwlock_unlock(&vol->commit_lock);
	remove_gone(vol, gone, ngone);
	return r;
}

static void *commit_thread(void *arg)
{
	struct ward_vol *vol = arg;

	pthread_mutex_lock(&vol->lock);
	while (!vol->stop) {
		struct timespec due;

		if (!vol->dirty) {
			pthread_cond_wait(&vol->cond, &vol->lock);
			continue;
		}
		due = vol->dirty_since;
		due.tv_sec += vol->opts.commit_interval_ms / 1000;
		due.tv_nsec += (long)(vol->opts.commit_interval_ms % 1000) * 1000000;
		if (due.tv_nsec >= 1000000000) {
			due.tv_sec++;
			due.tv_nsec -= 1000000000;
		}
		if (pthread_cond_timedwait(&vol->cond, &vol->lock, &due) == ETIMEDOUT && vol->dirty &&
		    !vol->broken) {
			struct ward_err err = WARD_ERR_INIT;

			/* Lock order: commit_lock before vol->lock. */
			pthread_mutex_unlock(&vol->lock);
			if (ward_vol_commit(vol, &err) < 0) {
				ward_error("volume: background commit failed: %s", err.msg);
				/* Retry after another interval rather than spin. */
				pthread_mutex_lock(&vol->lock);
				clock_gettime(CLOCK_MONOTONIC, &vol->dirty_since);
				continue;
			}
			pthread_mutex_lock(&vol->lock);
		}
	}
	pthread_mutex_unlock(&vol->lock);
	return NULL;
}

/* ---- create / open -------------------------------------------------------- */

static struct ward_vol *vol_new(void)
{
	struct ward_vol *vol = calloc(1, sizeof(*vol));
	pthread_condattr_t ca;

	if (!vol)
		return NULL;
	pthread_rwlockattr_t ra;

	pthread_mutex_init(&vol->lock, NULL);
	pthread_cond_init(&vol->range_cond, NULL);
	pthread_rwlockattr_init(&ra);
	/* A commit must not starve behind a stream of writes. */
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&vol->commit_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&vol->cond, &ca);
	pthread_condattr_destroy(&ca);
	return vol;
}

struct ward_vol *ward_vol_free(struct ward_vol *vol)
{
	if (!vol)
		return NULL;
	if (vol->thread_started) {
		pthread_mutex_lock(&vol->lock);
		vol->stop = true;
		pthread_cond_signal(&vol->cond);
		pthread_mutex_unlock(&vol->lock);
		pthread_join(vol->thread, NULL);
	}
	if (vol->io)
		for (size_t b = 0; b < vol->ns.nbuckets; b++)
			for (struct vol_inode *in = vol->ns.buckets[b]; in; in = in->hnext)
				close_handles(vol, in);
	vol_ns_clear(&vol->ns);
	free(vol->dels);
	free(vol->gone);
	ward_wipe(vol->key, sizeof(vol->key));
	ward_wipe(vol->meta_key, sizeof(vol->meta_key));
	pthread_mutex_destroy(&vol->lock);
	pthread_cond_destroy(&vol->cond);
	pthread_cond_destroy(&vol->range_cond);
	pthread_rwlock_destroy(&vol->commit_lock);
	free(vol);
	return NULL;
}

int ward_vol_close(struct ward_vol *vol, struct ward_err *err)
{
	int r = 0;

	if (!vol)
		return 0;
	if (!vol->opts.read_only)
		r = ward_vol_commit(vol, err);
	ward_vol_free(vol);
	return r;
}

int ward_vol_create(const struct ward_vol_io *io, const struct ward_vol_crypto *crypto,
		    const struct ward_vol_registry *registry, const uint8_t key[WARD_VOL_KEY_SIZE],
		    uint32_t block_size, uint8_t ret_id[WARD_VOL_ID_SIZE], struct ward_err *err)
{
	WARD_CLEANUP(ward_vol_freep) struct ward_vol *vol = vol_new();
	struct ward_vol_header hdr = {.format = VOL_FORMAT, .block_size = block_size};
	uint8_t hbuf[WARD_VOL_HEADER_SIZE];
	struct vol_inode *root;
	int h, r;

	if (!vol)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (block_size < WARD_VOL_BLOCK_MIN || block_size > WARD_VOL_BLOCK_MAX ||
	    (block_size & (block_size - 1)))
		return ward_err_set(err, -WARD_E_USAGE,
				    "block size %u: must be a power of two from %u to %u",
				    block_size, WARD_VOL_BLOCK_MIN, WARD_VOL_BLOCK_MAX);
	vol->io = io;
	vol->cr = crypto;
	vol->opts.io = io;
	vol->opts.crypto = crypto;
	vol->opts.registry = registry;
	vol->bs = block_size;
	vol->rec = block_size + VOL_REC_OVERHEAD;
	/* Refuse to create over anything: an existing header means a volume. */
	h = io->open(io->ctx, WARD_VOL_HEADER_NAME, WARD_VOL_IO_RDONLY);
	if (h >= 0) {
		(void)io->close(io->ctx, h);
		return ward_err_set(err, -EEXIST, "a volume already exists here");
	}
	if (crypto->random(crypto->ctx, hdr.id, sizeof(hdr.id)) < 0)
		return ward_err_set(err, -WARD_E_CRYPTO, "random volume id");
	memcpy(vol->id, hdr.id, sizeof(vol->id));
	hdr.created = (uint64_t)time(NULL);
	if (key_check(crypto, key, hdr.id, hdr.key_check) < 0)
		return ward_err_set(err, -WARD_E_CRYPTO, "derive key check");
	r = derive_keys(vol, key, err);
	if (r < 0)
		return r;
	root = calloc(1, sizeof(*root));
	if (!root)
		return ward_err_set(err, -ENOMEM, "out of memory");
	root->ino = WARD_VOL_ROOT_INO;
	root->type = VOL_T_DIR;
	root->perm = 0755;
	root->nlink = 2;
	root->parent = WARD_VOL_ROOT_INO;
	root->atime = root->mtime = root->ctime = now_ns();
	root->h[0] = root->h[1] = -1;
	vol->ns.next_ino = 2;
	r = vol_ns_add(&vol->ns, root);
	if (r < 0) {
		vol_inode_free(root);
		return ward_err_set(err, r, "out of memory");
	}
	vol_header_encode(&hdr, hbuf);
	r = io_write_file(io, WARD_VOL_HEADER_NAME, hbuf, sizeof(hbuf), err);
	if (r < 0)
		return ward_err_prefix(err, "create volume");
	vol->version = 0;
	vol->dirty = true;
	r = commit_locked(vol, err);
	if (r < 0)
		return ward_err_prefix(err, "create volume");
	if (ret_id)
		memcpy(ret_id, vol->id, sizeof(vol->id));
	return 0;
}

static bool parse_blob_name(const char *name, uint8_t id[16], int *slot)
{
	if (strlen(name) != 34 || name[32] != '.' || (name[33] != '0' && name[33] != '1'))
		return false;
	for (int i = 0; i < 16; i++) {
		int v = 0;

		for (int k = 0; k < 2; k++) {
			char ch = name[2 * i + k];

			if (ch >= '0' && ch <= '9')
				v = v * 16 + (ch - '0');
			else if (ch >= 'a' && ch <= 'f')
				v = v * 16 + (ch - 'a' + 10);
			else
				return false;
		}
		id[i] = (uint8_t)v;
	}
	*slot = name[33] - '0';
	return true;
}

struct idset {
	uint8_t (*ids)[16];
	size_t n;
};

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static int idset_build(struct ward_vol *vol, struct idset *set)
{
	size_t n = 0;

	for (size_t b = 0; b < vol->ns.nbuckets; b++)
		for (struct vol_inode *in = vol->ns.buckets[b]; in; in = in->hnext)
			if (in->type == VOL_T_FILE)
				n++;
	set->ids = calloc(n ? n : 1, 16);
	if (!set->ids)
		return -ENOMEM;
	set->n = 0;
	for (size_t b = 0; b < vol->ns.nbuckets; b++)
		for (struct vol_inode *in = vol->ns.buckets[b]; in; in = in->hnext)
			if (in->type == VOL_T_FILE)
				memcpy(set->ids[set->n++], in->file_id, 16);
	qsort(set->ids, set->n, 16, id_cmp);
	return 0;
}

struct scan {
	struct ward_vol *vol;
	struct idset set;
	bool remove;
	uint64_t unreferenced;
	char first[256];
};

static int scan_cb(void *ctx, const char *name)
{
	struct scan *s = ctx;
	uint8_t id[16];
	int slot;

	if (strcmp(name, WARD_VOL_HEADER_NAME) == 0 || strcmp(name, WARD_VOL_META_NAME) == 0)
		return 0;
	if (strcmp(name, WARD_VOL_META_TMP_NAME) == 0) {
		/* Left by a commit interrupted before its rename: harmless. */
		if (s->remove)
			(void)s->vol->io->unlink(s->vol->io->ctx, name);
		return 0;
	}
	if (parse_blob_name(name, id, &slot) && bsearch(id, s->set.ids, s->set.n, 16, id_cmp))
		return 0;
	if (s->unreferenced++ == 0)
		snprintf(s->first, sizeof(s->first), "%s", name);
	if (s->remove && parse_blob_name(name, id, &slot)) {
		audit(s->vol, "unreferenced-file",
		      "removed unreferenced data file '%s' (left by a crash, or foreign)", name);
		(void)s->vol->io->unlink(s->vol->io->ctx, name);
	} else {
		audit(s->vol, "foreign-file", "unreferenced file '%s' in the backing directory",
		      name);
	}
	return 0;
}

static int scan_backing(struct ward_vol *vol, bool remove, uint64_t *ret_count, char *first,
			size_t first_size, struct ward_err *err)
{
	struct scan s = {.vol = vol, .remove = remove};
	int r;

	if (idset_build(vol, &s.set) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = vol->io->list(vol->io->ctx, scan_cb, &s);
	free(s.set.ids);
	if (r < 0)
		return ward_err_errno(err, r, "list backing directory");
	*ret_count = s.unreferenced;
	if (first)
		snprintf(first, first_size, "%s", s.first);
	return 0;
}

static int load(struct ward_vol *vol, const uint8_t key[32], struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *hbuf = NULL, *meta = NULL, *plain = NULL;
	size_t hsize, msize;
	struct ward_vol_header hdr;
	struct ward_vol_meta_header mh;
	const uint8_t *ct, *tag;
	uint8_t kc[32];
	int r;

	r = io_read_all(vol->io, WARD_VOL_HEADER_NAME, 4096, &hbuf, &hsize, err);
	if (r < 0)
		return ward_err_prefix(err, "volume header");
	r = ward_vol_header_parse(hbuf, hsize, &hdr, err);
	if (r < 0)
		return r;
	if (key_check(vol->cr, key, hdr.id, kc) < 0)
		return ward_err_set(err, -WARD_E_CRYPTO, "derive key check");
	if (!ct_eq(kc, hdr.key_check, sizeof(kc)))
		return ward_err_set(err, -WARD_E_VERIFY, "wrong key for this volume");
	memcpy(vol->id, hdr.id, sizeof(vol->id));
	vol->bs = hdr.block_size;
	vol->rec = vol->bs + VOL_REC_OVERHEAD;
	r = derive_keys(vol, key, err);
	if (r < 0)
		return r;
	r = io_read_all(vol->io, WARD_VOL_META_NAME, WARD_VOL_META_MAX + 4096, &meta, &msize, err);
	if (r < 0)
		return ward_err_prefix(err, "volume metadata");
	r = ward_vol_meta_header_parse(meta, msize, &mh, &ct, &tag, err);
	if (r < 0)
		return ward_err_prefix(err, "volume metadata");
	if (memcmp(mh.id, vol->id, 16) != 0 || mh.block_size != vol->bs)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "volume metadata belongs to another volume");
	plain = malloc(mh.plain_size ? (size_t)mh.plain_size : 1);
	if (!plain)
		return ward_err_set(err, -ENOMEM, "out of memory");
	/* The header (with version and size) is the AAD: it cannot be altered. */
	r = vol->cr->open(vol->cr->ctx, vol->meta_key, mh.nonce, meta, WARD_VOL_META_HEADER_SIZE,
			  ct, (size_t)mh.plain_size, tag, plain);
	if (r < 0)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "volume metadata failed authentication (tampered or corrupt)");
	r = vol_ns_parse(plain, (size_t)mh.plain_size, vol->bs, &vol->ns, err);
	ward_wipe(plain, (size_t)mh.plain_size);
	if (r < 0)
		return ward_err_prefix(err, "volume metadata (authenticated but invalid)");
	vol->version = mh.version;
	if (vol->cr->hash(vol->cr->ctx, meta, msize, vol->root) < 0)
		return ward_err_set(err, -WARD_E_CRYPTO, "hash metadata");
	for (size_t b = 0; b < vol->ns.nbuckets; b++)
		for (struct vol_inode *in = vol->ns.buckets[b]; in; in = in->hnext)
			in->h[0] = in->h[1] = -1;
	return 0;
}

static int check_freshness(struct ward_vol *vol, struct ward_err *err)
{
	const struct ward_vol_registry *reg = vol->opts.registry;
	uint8_t reg_root[WARD_VOL_ROOT_SIZE];
	uint64_t reg_version;
	char idhex[33];
	int r;

	if (!reg)
		return 0;
	hex(vol->id, 16, idhex);
	r = reg->get(reg->ctx, vol->id, &reg_version, reg_root, err);
	if (r == -WARD_E_NOT_FOUND) {
		ward_err_clear(err);
		audit(vol, "register", "volume %s first registered at version %" PRIu64, idhex,
		      vol->version);
		goto put;
	}
	if (r < 0)
		return ward_err_prefix(err, "freshness registry");
	if (vol->version == reg_version && ct_eq(vol->root, reg_root, sizeof(reg_root)))
		return 0;
	if (vol->version > reg_version) {
		/* A commit that completed before its registration did (crash in
		 * between, or within the commit window): newer, authentic. */
		audit(vol, "register",
		      "volume %s: on-disk version %" PRIu64 " newer than registered %" PRIu64
		      ", registering it",
		      idhex, vol->version, reg_version);
		goto put;
	}
	if (!vol->opts.accept_rollback_insecure) {
		audit(vol, "rollback",
		      "volume %s: on-disk version %" PRIu64 " but version %" PRIu64
		      " is registered: rollback detected, refused",
		      idhex, vol->version, reg_version);
		if (vol->version == reg_version)
			return ward_err_set(err, -WARD_E_POLICY,
					    "rollback detected: on-disk root hash differs from the "
					    "registered one at version %" PRIu64,
					    reg_version);
		return ward_err_set(err, -WARD_E_POLICY,
				    "rollback detected: on-disk version %" PRIu64
				    " is older than the registered version %" PRIu64,
				    vol->version, reg_version);
	}
	audit(vol, "rollback-accepted",
	      "volume %s: older on-disk version %" PRIu64 " (registered %" PRIu64
	      ") accepted by explicit request",
	      idhex, vol->version, reg_version);
	/* Continue from a version above the registered one so later states
	 * are not mistaken for the rolled-back ones. */
	if (!vol->opts.read_only) {
		vol->version = reg_version;
		vol->dirty = true;
		return commit_locked(vol, err);
	}
	return 0;
put:
	if (vol->opts.read_only)
		return 0;
	r = reg->put(reg->ctx, vol->id, vol->version, vol->root, err);
	if (r < 0)
		return ward_err_prefix(err, "freshness registry");
	return 0;
}

int ward_vol_open(const struct ward_vol_opts *opts, const uint8_t key[WARD_VOL_KEY_SIZE],
		  struct ward_vol **ret, struct ward_err *err)
{
	WARD_CLEANUP(ward_vol_freep) struct ward_vol *vol = vol_new();
	int r;

	if (!vol)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (!opts->io || !opts->crypto)
		return ward_err_set(err, -WARD_E_USAGE, "volume: io and crypto are required");
	vol->opts = *opts;
	vol->io = opts->io;
	vol->cr = opts->crypto;
	r = load(vol, key, err);
	if (r < 0)
		return r;
	r = check_freshness(vol, err);
	if (r < 0)
		return r;
	if (!opts->read_only) {
		uint64_t n;

		r = scan_backing(vol, true, &n, NULL, 0, err);
		if (r < 0)
			return r;
	}
	if (opts->commit_interval_ms && !opts->read_only) {
		if (pthread_create(&vol->thread, NULL, commit_thread, vol) != 0)
			return ward_err_set(err, -EAGAIN, "start commit thread");
		vol->thread_started = true;
	}
	*ret = WARD_TAKE_PTR(vol);
	return 0;
}

void ward_vol_state(struct ward_vol *vol, uint8_t ret_id[WARD_VOL_ID_SIZE], uint64_t *ret_version,
		    uint8_t ret_root[WARD_VOL_ROOT_SIZE])
{
	pthread_mutex_lock(&vol->lock);
	if (ret_id)
		memcpy(ret_id, vol->id, WARD_VOL_ID_SIZE);
	if (ret_version)
		*ret_version = vol->version;
	if (ret_root)
		memcpy(ret_root, vol->root, WARD_VOL_ROOT_SIZE);
	pthread_mutex_unlock(&vol->lock);
}

int ward_vol_check(const struct ward_vol_opts *opts, const uint8_t key[WARD_VOL_KEY_SIZE],
		   struct ward_vol_check_result *ret, struct ward_err *err)
{
	WARD_CLEANUP(ward_vol_freep) struct ward_vol *vol = NULL;
	struct ward_vol_opts o = *opts;
	struct ward_vol_check_result res = {0};
	WARD_AUTOFREE uint8_t *pt = NULL, *recbuf = NULL;
	size_t chunk = WARD_MAX(1u, IO_CHUNK_BLOCKS_BYTES / WARD_VOL_BLOCK_MIN);
	uint64_t unref;
	char first[256];
	int r;

	o.read_only = true;
	o.commit_interval_ms = 0;
	r = ward_vol_open(&o, key, &vol, err);
	if (r < 0)
		return r;
	chunk = WARD_MAX(1u, IO_CHUNK_BLOCKS_BYTES / vol->bs);
	pt = malloc(chunk * vol->bs);
	recbuf = malloc(chunk * vol->rec);
	if (!pt || !recbuf)
		return ward_err_set(err, -ENOMEM, "out of memory");
	for (size_t b = 0; b < vol->ns.nbuckets; b++)
		for (struct vol_inode *in = vol->ns.buckets[b]; in; in = in->hnext) {
			if (in->type == VOL_T_DIR) {
				res.dirs++;
				continue;
			}
			if (in->type == VOL_T_LNK) {
				res.symlinks++;
				continue;
			}
			res.files++;
			res.bytes += in->size;
			for (uint64_t i = 0; i < in->nblk; i += chunk) {
				uint64_t n = WARD_MIN((uint64_t)chunk, in->nblk - i);

				struct fview fv;

				r = fview_get(vol, in, in->blks + i, i, n, &fv);
				if (r == 0)
					r = blocks_read(vol, &fv, i, n, in->blks + i, pt, recbuf);
				if (r < 0)
					return ward_err_set(
						err, -WARD_E_VERIFY,
						"inode %" PRIu64 ": blocks %" PRIu64 "..%" PRIu64
						" fail verification (see the audit record)",
						in->ino, i, i + n - 1);
				res.blocks += n;
			}
			close_handles(vol, in);
		}
	r = scan_backing(vol, false, &unref, first, sizeof(first), err);
	if (r < 0)
		return r;
	if (unref)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "%" PRIu64 " unreferenced file(s) in the backing directory, "
				    "first '%s' (foreign, or left by a crash: a mount removes "
				    "crash leftovers)",
				    unref, first);
	res.version = vol->version;
	memcpy(res.id, vol->id, 16);
	memcpy(res.root, vol->root, 32);
	if (ret)
		*ret = res;
	return 0;
}

struct inspect_ctx {
	const struct ward_vol_io *io;
	struct ward_vol_info *info;
};

static int inspect_cb(void *ctx, const char *name)
{
	struct inspect_ctx *c = ctx;
	uint8_t id[16];
	int slot;

	if (strcmp(name, WARD_VOL_HEADER_NAME) == 0 || strcmp(name, WARD_VOL_META_NAME) == 0 ||
	    strcmp(name, WARD_VOL_META_TMP_NAME) == 0)
		return 0;
	if (parse_blob_name(name, id, &slot)) {
		uint64_t size = 0;
		int h = c->io->open(c->io->ctx, name, WARD_VOL_IO_RDONLY);

		if (h >= 0) {
			(void)c->io->fsize(c->io->ctx, h, &size);
			(void)c->io->close(c->io->ctx, h);
		}
		c->info->blobs++;
		c->info->blob_bytes += size;
	} else {
		c->info->other_files++;
	}
	return 0;
}

int ward_vol_inspect(const struct ward_vol_io *io, struct ward_vol_info *ret, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *hbuf = NULL, *meta = NULL;
	size_t hsize, msize;
	struct ward_vol_header hdr;
	struct ward_vol_meta_header mh;
	struct ward_vol_info info = {0};
	struct inspect_ctx ic = {io, &info};
	const uint8_t *ct, *tag;
	int r;

	r = io_read_all(io, WARD_VOL_HEADER_NAME, 4096, &hbuf, &hsize, err);
	if (r < 0)
		return ward_err_prefix(err, "volume header");
	r = ward_vol_header_parse(hbuf, hsize, &hdr, err);
	if (r < 0)
		return r;
	info.format = hdr.format;
	info.block_size = hdr.block_size;
	memcpy(info.id, hdr.id, 16);
	info.created = hdr.created;
	r = io_read_all(io, WARD_VOL_META_NAME, WARD_VOL_META_MAX + 4096, &meta, &msize, err);
	if (r < 0)
		return ward_err_prefix(err, "volume metadata");
	r = ward_vol_meta_header_parse(meta, msize, &mh, &ct, &tag, err);
	if (r < 0)
		return ward_err_prefix(err, "volume metadata");
	info.version = mh.version;
	info.meta_size = msize;
	r = io->list(io->ctx, inspect_cb, &ic);
	if (r < 0)
		return ward_err_errno(err, r, "list backing directory");
	*ret = info;
	return 0;
}

/* ---- filesystem operations ------------------------------------------------ */

static void fill_stat(struct ward_vol *vol, const struct vol_inode *in, struct ward_vol_stat *st)
{
	memset(st, 0, sizeof(*st));
	st->ino = in->ino;
	st->mode = in->perm | (in->type == VOL_T_DIR   ? S_IFDIR
			       : in->type == VOL_T_LNK ? S_IFLNK
						       : S_IFREG);
	st->nlink = in->nlink;
	st->uid = in->uid;
	st->gid = in->gid;
	if (in->type == VOL_T_FILE) {
		uint64_t used = 0;

		st->size = in->size;
		for (uint64_t i = 0; i < in->nblk; i++)
			if (!(in->blks[i].flags & VOL_BLK_HOLE))
				used++;
		st->blocks = used * (vol->bs / 512);
	} else if (in->type == VOL_T_LNK) {
		st->size = strlen(in->target);
	} else {
		st->size = vol->bs;
		st->blocks = vol->bs / 512;
	}
	st->atime_ns = in->atime;
	st->mtime_ns = in->mtime;
	st->ctime_ns = in->ctime;
}

static struct vol_inode *get_locked(struct ward_vol *vol, uint64_t ino)
{
	return vol_ns_get(&vol->ns, ino);
}

static struct vol_dent *dir_find(struct vol_inode *dir, const char *name, size_t *ret_idx)
{
	for (size_t i = 0; i < dir->nents; i++)
		if (strcmp(dir->ents[i].name, name) == 0) {
			if (ret_idx)
				*ret_idx = i;
			return &dir->ents[i];
		}
	return NULL;
}

static int dir_add(struct vol_inode *dir, const char *name, uint64_t ino)
{
	if (dir->nents == dir->ents_cap) {
		size_t cap = dir->ents_cap ? dir->ents_cap * 2 : 8;
		struct vol_dent *e = reallocarray(dir->ents, cap, sizeof(*e));

		if (!e)
			return -ENOMEM;
		dir->ents = e;
		dir->ents_cap = cap;
	}
	char *n = strdup(name);

	if (!n)
		return -ENOMEM;
	dir->ents[dir->nents].name = n;
	dir->ents[dir->nents].ino = ino;
	dir->nents++;
	return 0;
}

static void dir_del(struct vol_inode *dir, size_t idx)
{
	free(dir->ents[idx].name);
	memmove(&dir->ents[idx], &dir->ents[idx + 1], (dir->nents - idx - 1) * sizeof(*dir->ents));
	dir->nents--;
}

static int lookup_dir(struct ward_vol *vol, uint64_t ino, struct vol_inode **ret)
{
	struct vol_inode *d = get_locked(vol, ino);

	if (!d || d->nlink == 0)
		return -ENOENT;
	if (d->type != VOL_T_DIR)
		return -ENOTDIR;
	*ret = d;
	return 0;
}

/* Drop one link of in; free it (and queue its data) when unused. */
static int drop_link(struct ward_vol *vol, struct vol_inode *in)
{
	if (in->type == VOL_T_DIR)
		in->nlink = 0;
	else if (in->nlink > 0)
		in->nlink--;
	in->ctime = now_ns();
	if (in->nlink > 0 || in->open_count > 0)
		return 0;
	if (in->type == VOL_T_FILE) {
		int r = queue_delete(vol, in->file_id);

		if (r < 0)
			return r;
	}
	vol_ns_remove(&vol->ns, in);
	if (in->busy)
		in->zombie = true; /* freed by the last range_release */
	else
		inode_destroy(vol, in);
	return 0;
}

int ward_vol_getattr(struct ward_vol *vol, uint64_t ino, struct ward_vol_stat *ret)
{
	int r = -ENOENT;

	pthread_mutex_lock(&vol->lock);
	struct vol_inode *in = get_locked(vol, ino);

	if (in) {
		fill_stat(vol, in, ret);
		r = 0;
	}
	pthread_mutex_unlock(&vol->lock);
	return r;
}

int ward_vol_setattr(struct ward_vol *vol, uint64_t ino, const struct ward_vol_setattr *sa,
		     struct ward_vol_stat *ret)
{
	int r = 0;

	pthread_rwlock_rdlock(&vol->commit_lock);
	pthread_mutex_lock(&vol->lock);
	struct vol_inode *in = get_locked(vol, ino);

	if (!in) {
		r = -ENOENT;
		goto out;
	}
	if (vol->opts.read_only) {
		r = -EROFS;
		goto out;
	}
	if (sa->mask & WARD_VOL_SET_SIZE) {
		if (in->type == VOL_T_DIR)
			r = -EISDIR;
		else if (in->type != VOL_T_FILE)
			r = -EINVAL;
		else
			r = file_truncate(vol, in, sa->size);
		if (r < 0)
			goto out;
	}
	if (sa->mask & WARD_VOL_SET_MODE)
		in->perm = sa->mode & 07777;
	if (sa->mask & WARD_VOL_SET_UID)
		in->uid = sa->uid;
	if (sa->mask & WARD_VOL_SET_GID)
		in->gid = sa->gid;
	if (sa->mask & WARD_VOL_SET_ATIME)
		in->atime = sa->atime_ns;
	if (sa->mask & WARD_VOL_SET_MTIME)
		in->mtime = sa->mtime_ns;
	in->ctime = now_ns();
	mark_dirty(vol);
	if (ret)
		fill_stat(vol, in, ret);
out:
	pthread_mutex_unlock(&vol->lock);
	pthread_rwlock_unlock(&vol->commit_lock);
	return r;
}

int ward_vol_lookup(struct ward_vol *vol, uint64_t dir, const char *name,
		    struct ward_vol_stat *ret)
{
	struct vol_inode *d;
	struct vol_dent *e;
	int r;

	pthread_mutex_lock(&vol->lock);
	r = lookup_dir(vol, dir, &d);
	if (r == 0) {
		if (strcmp(name, ".") == 0) {
			fill_stat(vol, d, ret);
		} else if (strcmp(name, "..") == 0) {
			fill_stat(vol, get_locked(vol, d->parent), ret);
		} else if ((e = dir_find(d, name, NULL))) {
			fill_stat(vol, get_locked(vol, e->ino), ret);
		} else {
			r = -ENOENT;
		}
	}
	pthread_mutex_unlock(&vol->lock);
	return r;
}

static int new_inode(struct ward_vol *vol, uint64_t dir, const char *name, uint8_t type,
		     uint32_t perm, uint32_t uid, uint32_t gid, const char *target,
		     struct ward_vol_stat *ret)
{
	struct vol_inode *d, *in;
	int r;

	if (vol->opts.read_only)
		return -EROFS;
	if (vol->broken)
		return -EIO;
	if (!vol_name_valid(name, strlen(name)))
		return strlen(name) > WARD_VOL_NAME_MAX ? -ENAMETOOLONG : -EINVAL;
	r = lookup_dir(vol, dir, &d);
	if (r < 0)
		return r;
	if (dir_find(d, name, NULL))
		return -EEXIST;
	if (vol->ns.count >= WARD_VOL_INODES_MAX)
		return -ENOSPC;
	in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	in->h[0] = in->h[1] = -1;
	in->ino = vol->ns.next_ino++;
	in->type = type;
	in->perm = perm & 07777;
	in->uid = uid;
	in->gid = gid;
	in->nlink = type == VOL_T_DIR ? 2 : 1;
	in->atime = in->mtime = in->ctime = now_ns();
	if (type == VOL_T_FILE && vol->cr->random(vol->cr->ctx, in->file_id, 16) < 0) {
		vol_inode_free(in);
		return -EIO;
	}
	if (type == VOL_T_DIR)
		in->parent = dir;
	if (target && !(in->target = strdup(target))) {
		vol_inode_free(in);
		return -ENOMEM;
	}
	r = dir_add(d, name, in->ino);
	if (r < 0) {
		vol_inode_free(in);
		return r;
	}
	r = vol_ns_add(&vol->ns, in);
	if (r < 0) {
		dir_del(d, d->nents - 1);
		vol_inode_free(in);
		return r;
	}
	if (type == VOL_T_DIR)
		d->nlink++;
	d->mtime = d->ctime = in->ctime;
	mark_dirty(vol);
	if (ret)
		fill_stat(vol, in, ret);
	return 0;
}

int ward_vol_create_file(struct ward_vol *vol, uint64_t dir, const char *name, uint32_t mode,
			 uint32_t uid, uint32_t gid, struct ward_vol_stat *ret)
{
	int r;

	if (!S_ISREG(mode) && (mode & S_IFMT) != 0)
		return -EPERM; /* no device nodes, FIFOs or sockets */
	pthread_mutex_lock(&vol->lock);
	r = new_inode(vol, dir, name, VOL_T_FILE, mode, uid, gid, NULL, ret);
	pthread_mutex_unlock(&vol->lock);
	return r;
}

int ward_vol_mkdir(struct ward_vol *vol, uint64_t dir, const char *name, uint32_t mode,
		   uint32_t uid, uint32_t gid, struct ward_vol_stat *ret)
{
	int r;

	pthread_mutex_lock(&vol->lock);
	r = new_inode(vol, dir, name, VOL_T_DIR, mode, uid, gid, NULL, ret);
	pthread_mutex_unlock(&vol->lock);
	return r;
}

int ward_vol_symlink(struct ward_vol *vol, uint64_t dir, const char *name, const char *target,
		     uint32_t uid, uint32_t gid, struct ward_vol_stat *ret)
{
	int r;
	size_t n = strlen(target);

	if (n == 0 || n > WARD_VOL_SYMLINK_MAX)
		return n ? -ENAMETOOLONG : -ENOENT;
	pthread_mutex_lock(&vol->lock);
	r = new_inode(vol, dir, name, VOL_T_LNK, 0777, uid, gid, target, ret);
	pthread_mutex_unlock(&vol->lock);
	return r;
}

int ward_vol_readlink(struct ward_vol *vol, uint64_t ino, char *buf, size_t size)
{
	int r;

	pthread_mutex_lock(&vol->lock);
	struct vol_inode *in = get_locked(vol, ino);

	if (!in)
		r = -ENOENT;
	else if (in->type != VOL_T_LNK)
		r = -EINVAL;
	else if (strlen(in->target) + 1 > size)
		r = -ENAMETOOLONG;
	else {
		strcpy(buf, in->target);
		r = (int)strlen(in->target);
	}
	pthread_mutex_unlock(&vol->lock);
	return r;
}

int ward_vol_link(struct ward_vol *vol, uint64_t ino, uint64_t dir, const char *name,
		  struct ward_vol_stat *ret)
{
	struct vol_inode *d, *in;
	int r;

	pthread_mutex_lock(&vol->lock);
	in = get_locked(vol, ino);
	if (vol->opts.read_only)
		r = -EROFS;
	else if (!in || in->nlink == 0)
		r = -ENOENT;
	else if (in->type == VOL_T_DIR)
		r = -EPERM;
	else if (!vol_name_valid(name, strlen(name)))
		r = -EINVAL;
	else if (in->nlink >= 65000)
		r = -EMLINK;
	else if ((r = lookup_dir(vol, dir, &d)) == 0) {
		if (dir_find(d, name, NULL))
			r = -EEXIST;
		else if ((r = dir_add(d, name, ino)) == 0) {
			in->nlink++;
			in->ctime = d->mtime = d->ctime = now_ns();
			mark_dirty(vol);
			if (ret)
				fill_stat(vol, in, ret);
		}
	}
	pthread_mutex_unlock(&vol->lock);
	return r;
}

static int remove_entry(struct ward_vol *vol, uint64_t dir, const char *name, bool want_dir)
{
	struct vol_inode *d, *in;
	size_t idx;
	int r;

	if (vol->opts.read_only)
		return -EROFS;
	r = lookup_dir(vol, dir, &d);
	if (r < 0)
		return r;
	struct vol_dent *e = dir_find(d, name, &idx);

	if (!e)
		return -ENOENT;
	in = get_locked(vol, e->ino);
	if (want_dir && in->type != VOL_T_DIR)
		return -ENOTDIR;
	if (!want_dir && in->type == VOL_T_DIR)
		return -EISDIR;
	if (want_dir && in->nents > 0)
		return -ENOTEMPTY;
	dir_del(d, idx);
	if (want_dir)
		d->nlink--;
	d->mtime = d->ctime = now_ns();
	mark_dirty(vol);
	return drop_link(vol, in);
}

int ward_vol_unlink(struct ward_vol *vol, uint64_t dir, const char *name)
{
	int r;

	pthread_mutex_lock(&vol->lock);
	r = remove_entry(vol, dir, name, false);
	pthread_mutex_unlock(&vol->lock);
	return r;
}

int ward_vol_rmdir(struct ward_vol *vol, uint64_t dir, const char *name)
{
	int r;

	pthread_mutex_lock(&vol->lock);
	r = remove_entry(vol, dir, name, true);
	pthread_mutex_unlock(&vol->lock);
	return r;
}

/* Is a an ancestor of (or equal to) b? */
static bool is_ancestor(struct ward_vol *vol, uint64_t a, uint64_t b)
{
	for (size_t steps = 0; steps <= vol->ns.count; steps++) {
		if (a == b)
			return true;
		if (b == WARD_VOL_ROOT_INO)
			return false;
		struct vol_inode *p = get_locked(vol, b);

		if (!p)
			return false;
		b = p->parent;
	}
	return true;
}

static int rename_locked(struct ward_vol *vol, uint64_t dir, const char *name, uint64_t newdir,
			 const char *newname, unsigned flags)
{
	struct vol_inode *d, *nd, *in, *victim = NULL;
	struct vol_dent *e, *ne;
	size_t idx, nidx;
	int r;

	if (vol->opts.read_only)
		return -EROFS;
	if (flags & ~1u) /* RENAME_NOREPLACE only */
		return -EINVAL;
	if (!vol_name_valid(newname, strlen(newname)))
		return strlen(newname) > WARD_VOL_NAME_MAX ? -ENAMETOOLONG : -EINVAL;
	if ((r = lookup_dir(vol, dir, &d)) < 0 || (r = lookup_dir(vol, newdir, &nd)) < 0)
		return r;
	e = dir_find(d, name, &idx);
	if (!e)
		return -ENOENT;
	in = get_locked(vol, e->ino);
	if (in->type == VOL_T_DIR && is_ancestor(vol, in->ino, newdir))
		return -EINVAL;
	ne = dir_find(nd, newname, &nidx);
	if (ne) {
		if (ne->ino == in->ino)
			return 0; /* same file: POSIX says do nothing */
		if (flags & 1u)
			return -EEXIST;
		victim = get_locked(vol, ne->ino);
		if (in->type == VOL_T_DIR && victim->type != VOL_T_DIR)
			return -ENOTDIR;
		if (in->type != VOL_T_DIR && victim->type == VOL_T_DIR)
			return -EISDIR;
		if (victim->type == VOL_T_DIR && victim->nents > 0)
			return -ENOTEMPTY;
		/* Replace the target entry in place. */
		ne->ino = in->ino;
		if (victim->type == VOL_T_DIR)
			nd->nlink--;
	} else {
		r = dir_add(nd, newname, in->ino);
		if (r < 0)
			return r;
	}
	/* dir_add may have moved d's entries if d == nd: find it again. */
	e = NULL;
	for (size_t i = 0; i < d->nents; i++)
		if (d->ents[i].ino == in->ino && strcmp(d->ents[i].name, name) == 0) {
			idx = i;
			e = &d->ents[i];
			break;
		}
	if (e)
		dir_del(d, idx);
	if (in->type == VOL_T_DIR && d != nd) {
		d->nlink--;
		nd->nlink++;
		in->parent = nd->ino;
	}
	d->mtime = d->ctime = nd->mtime = nd->ctime = in->ctime = now_ns();
	mark_dirty(vol);
	if (victim)
		return drop_link(vol, victim);
	return 0;
}

int ward_vol_rename(struct ward_vol *vol, uint64_t dir, const char *name, uint64_t newdir,
		    const char *newname, unsigned flags)
{
	int r;

	pthread_mutex_lock(&vol->lock);
	r = rename_locked(vol, dir, name, newdir, newname, flags);
	pthread_mutex_unlock(&vol->lock);
	return r;
}

ssize_t ward_vol_read(struct ward_vol *vol, uint64_t ino, void *buf, size_t size, uint64_t off)
{
	ssize_t r;

	pthread_mutex_lock(&vol->lock);
	struct vol_inode *in = get_locked(vol, ino);

	if (!in)
		r = -ENOENT;
	else if (in->type != VOL_T_FILE)
		r = in->type == VOL_T_DIR ? -EISDIR : -EINVAL;
	else if (off >= in->size || size == 0)
		r = 0;
	else {
		uint64_t end = WARD_MIN(in->size, off + size);
		struct io_range rg = {.ino = ino, .b0 = off / vol->bs, .b1 = (end - 1) / vol->bs};

		range_acquire(vol, in, &rg);
		/* The size may have shrunk while waiting; it cannot grow past
		 * the range in a way that matters (we read up to the old end). */
		r = file_read_ranged(vol, in, buf, (size_t)(WARD_MIN(end, in->size) > off
								    ? WARD_MIN(end, in->size) - off
								    : 0),
				     off);
		range_release(vol, in, &rg);
	}
	pthread_mutex_unlock(&vol->lock);
	return r;
}

ssize_t ward_vol_write(struct ward_vol *vol, uint64_t ino, const void *buf, size_t size,
		       uint64_t off)
{
	ssize_t r;
	bool commit = false;

	if (size == 0)
		return 0;
	if (off > WARD_VOL_FILE_MAX || size > WARD_VOL_FILE_MAX - off)
		return -EFBIG;
	pthread_rwlock_rdlock(&vol->commit_lock);
	pthread_mutex_lock(&vol->lock);
	struct vol_inode *in = get_locked(vol, ino);

	if (vol->opts.read_only)
		r = -EROFS;
	else if (vol->broken)
		r = -EIO;
	else if (!in)
		r = -ENOENT;
	else if (in->type != VOL_T_FILE)
		r = in->type == VOL_T_DIR ? -EISDIR : -EINVAL;
	else {
		struct io_range rg = {.ino = ino,
				      .b0 = off / vol->bs,
				      .b1 = (off + size - 1) / vol->bs,
				      .write = true};

		range_acquire(vol, in, &rg);
		r = file_write_ranged(vol, in, buf, size, off);
		range_release(vol, in, &rg);
	}
	commit = r >= 0 && vol->open_handles > OPEN_HANDLES_SOFT_MAX;
	pthread_mutex_unlock(&vol->lock);
	pthread_rwlock_unlock(&vol->commit_lock);
	if (commit) {
		struct ward_err err = WARD_ERR_INIT;

		if (ward_vol_commit(vol, &err) < 0)
			ward_error("volume: commit failed: %s", err.msg);
	}
	return r;
}

int ward_vol_open_ino(struct ward_vol *vol, uint64_t ino)
{
	int r = 0;

	pthread_mutex_lock(&vol->lock);
	struct vol_inode *in = get_locked(vol, ino);

	if (!in || in->nlink == 0)
		r = -ENOENT;
	else
		in->open_count++;
	pthread_mutex_unlock(&vol->lock);
	return r;
}

void ward_vol_release_ino(struct ward_vol *vol, uint64_t ino)
{
	pthread_mutex_lock(&vol->lock);
	struct vol_inode *in = get_locked(vol, ino);

	if (in && in->open_count > 0 && --in->open_count == 0 && in->nlink == 0) {
		if (in->type == VOL_T_FILE)
			(void)queue_delete(vol, in->file_id);
		vol_ns_remove(&vol->ns, in);
		if (in->busy)
			in->zombie = true;
		else
			inode_destroy(vol, in);
	}
	pthread_mutex_unlock(&vol->lock);
}

int ward_vol_readdir(struct ward_vol *vol, uint64_t dir, uint64_t off, ward_vol_dirent_fn cb,
		     void *ctx)
{
	struct vol_inode *d;
	int r;

	pthread_mutex_lock(&vol->lock);
	r = lookup_dir(vol, dir, &d);
	for (uint64_t i = off; r == 0 && i < d->nents; i++) {
		struct vol_inode *in = get_locked(vol, d->ents[i].ino);
		uint32_t mode = in->type == VOL_T_DIR ? S_IFDIR : in->type == VOL_T_LNK ? S_IFLNK
											: S_IFREG;

		if (cb(ctx, d->ents[i].name, in->ino, mode | in->perm, i + 1))
			break;
	}
	pthread_mutex_unlock(&vol->lock);
	return r;
}

int ward_vol_parent(struct ward_vol *vol, uint64_t dir, uint64_t *ret)
{
	struct vol_inode *d;
	int r;

	pthread_mutex_lock(&vol->lock);
	r = lookup_dir(vol, dir, &d);
	if (r == 0)
		*ret = d->parent;
	pthread_mutex_unlock(&vol->lock);
	return r;
}

int ward_vol_resolve(struct ward_vol *vol, const char *path, uint64_t *ret_ino)
{
	uint64_t cur = WARD_VOL_ROOT_INO;
	const char *p = path;
	int r = 0;

	pthread_mutex_lock(&vol->lock);
	while (*p) {
		char comp[WARD_VOL_NAME_MAX + 1];
		size_t n = strcspn(p, "/");
		struct vol_inode *d;
		struct vol_dent *e;

		if (n == 0) {
			p++;
			continue;
		}
		if (n > WARD_VOL_NAME_MAX) {
			r = -ENAMETOOLONG;
			break;
		}
		memcpy(comp, p, n);
		comp[n] = 0;
		r = lookup_dir(vol, cur, &d);
		if (r < 0)
			break;
		e = dir_find(d, comp, NULL);
		if (!e) {
			r = -ENOENT;
			break;
		}
		cur = e->ino;
		p += n;
	}
	pthread_mutex_unlock(&vol->lock);
	if (r == 0)
		*ret_ino = cur;
	return r;
}

void ward_vol_statfs(struct ward_vol *vol, struct ward_vol_statfs *ret)
{
	uint64_t bytes = 0;

	pthread_mutex_lock(&vol->lock);
	for (size_t b = 0; b < vol->ns.nbuckets; b++)
		for (struct vol_inode *in = vol->ns.buckets[b]; in; in = in->hnext)
			if (in->type == VOL_T_FILE)
				bytes += in->size;
	ret->files = vol->ns.count;
	ret->bytes = bytes;
	ret->block_size = vol->bs;
	pthread_mutex_unlock(&vol->lock);
}
