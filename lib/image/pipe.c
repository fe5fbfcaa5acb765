/* SPDX-License-Identifier: Apache-2.0 */
/* The layer pipeline: read -> (decompress + tar check + diff_id, or
 * compress) -> AES-256-CTR -> HMAC-SHA256 -> SHA-256 -> write, in fixed
 * buffers. The expensive stage (gzip or zstd compression of uncompressed
 * layers, or decompression for the tar check) runs on worker threads.
 * Compression cuts the tar into independent chunks: 1 MiB, each a complete
 * gzip member (RFC 1952 allows concatenated members; Go's and zlib's
 * readers accept them), or 4 MiB, each a complete zstd frame (RFC 8878: a
 * zstd stream is one or more frames), so chunks compress in parallel and
 * the output is deterministic.
 *
 * gzip is ISA-L's igzip by default (level IMG_IGZIP_LEVEL, several times
 * faster than libdeflate level 1 for output a few per cent larger), or
 * libdeflate at an explicit level 1..12. gzip input is inflated with ISA-L
 * too. ISA-L is only reachable from here (the host-side convert), so the
 * static ward-init, which links none of lib/image, does not need it. */
#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "image-internal.h"

#define CHUNK IMG_BUF_SIZE
/* zstd chunks are larger: level 3 uses a 2 MiB window; against one long
 * stream, 1 MiB frames cost about 8 % of output size (Debian layer),
 * 4 MiB frames under 2 %. */
#define ZSTD_CHUNK (4 * IMG_BUF_SIZE)

enum img_layer_comp img_detect_comp(const uint8_t *p, size_t size)
{
	if (size >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return IMG_COMP_GZIP;
	if (size >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
		return IMG_COMP_ZSTD;
	return IMG_COMP_NONE;
}

/* ---- checking the uncompressed tar stream ------------------------------
 *
 * For a compressed input layer the decompressor is the slowest stage, so
 * with threads it only decompresses: the pieces it produces go through a
 * small ring (TS_NBUF buffers) to a checker thread that hashes them for
 * the diff_id and feeds the tar checker, in order. */

#define TS_NBUF 3

struct tarside {
	enum img_layer_comp comp;
	struct inflate_state *gz; /* ISA-L inflate state (about 85 KiB) */
	struct isal_gzip_header gz_hdr; /* the current member's header, while read */
	bool z_in_member, z_any, gz_full, gz_hdr_done;
	uint64_t gz_in_done; /* compressed bytes before the current piece */
	ZSTD_DStream *zs;
	struct ward_tar_check *tc;
	struct ward_hash *h; /* diff_id */
	uint8_t *out;        /* CHUNK bytes (synchronous mode) */
	const uint8_t *in;   /* job input (borrowed) */
	size_t in_size;
	struct ward_err err; /* the decompressor's error */
	/* asynchronous mode: decompressed pieces go to the checker thread */
	bool async, a_started;
	pthread_mutex_t amu;
	pthread_cond_t acv;
	uint8_t *abuf[TS_NBUF];
	size_t asize[TS_NBUF];
	uint64_t produced, consumed;
	bool a_quit;           /* no more pieces will come */
	int a_failed;          /* the checker's first error */
	struct ward_err a_err; /* its message */
	pthread_t ath;
};

static int tarside_feed(struct tarside *t, const uint8_t *p, size_t n, struct ward_err *err)
{
	int r = ward_hash_update(t->h, p, n, err);

	if (r < 0)
		return r;
	return ward_tar_check_feed(t->tc, p, n, err);
}

static int tarside_plain(struct tarside *t, const uint8_t *p, size_t n)
{
	return tarside_feed(t, p, n, &t->err);
}

/* The buffer to decompress the next piece into (CHUNK bytes). Async: waits
 * for a free one; fails with the checker's error once it has failed. */
static int tarside_out_get(struct tarside *t, uint8_t **ret)
{
	int r = 0;

	if (!t->async) {
		*ret = t->out;
		return 0;
	}
	pthread_mutex_lock(&t->amu);
	while (t->produced - t->consumed >= TS_NBUF && !t->a_failed)
		pthread_cond_wait(&t->acv, &t->amu);
	if (t->a_failed) {
		r = t->a_failed;
		t->err = t->a_err;
	} else {
		*ret = t->abuf[t->produced % TS_NBUF];
	}
	pthread_mutex_unlock(&t->amu);
	return r;
}

/* Hand over n decompressed bytes in the buffer from tarside_out_get(). */
static int tarside_out_put(struct tarside *t, const uint8_t *p, size_t n)
{
	if (!t->async)
		return tarside_plain(t, p, n);
	pthread_mutex_lock(&t->amu);
	t->asize[t->produced % TS_NBUF] = n;
	t->produced++;
	pthread_cond_broadcast(&t->acv);
	pthread_mutex_unlock(&t->amu);
	return 0;
}

static void *tarside_checker(void *p)
{
	struct tarside *t = p;

	pthread_mutex_lock(&t->amu);
	for (;;) {
		size_t i;
		int r;

		while (t->consumed == t->produced && !t->a_quit)
			pthread_cond_wait(&t->acv, &t->amu);
		if (t->consumed == t->produced)
			break; /* told to stop, and everything is checked */
		i = t->consumed % TS_NBUF;
		pthread_mutex_unlock(&t->amu);
		r = tarside_feed(t, t->abuf[i], t->asize[i], &t->a_err);
		pthread_mutex_lock(&t->amu);
		if (r < 0) {
			t->a_failed = r;
			pthread_cond_broadcast(&t->acv);
			break;
		}
		t->consumed++;
		pthread_cond_broadcast(&t->acv);
	}
	pthread_mutex_unlock(&t->amu);
	return NULL;
}

/* Start the checker thread (threaded check of a compressed layer). */
static int tarside_start_async(struct tarside *t, struct ward_err *err)
{
	for (int i = 0; i < TS_NBUF; i++) {
		t->abuf[i] = malloc(CHUNK);
		if (!t->abuf[i])
			return ward_err_set(err, -ENOMEM, "out of memory");
	}
	pthread_mutex_init(&t->amu, NULL);
	pthread_cond_init(&t->acv, NULL);
	t->async = true;
	if (pthread_create(&t->ath, NULL, tarside_checker, t) != 0)
		return ward_err_set(err, -EAGAIN, "cannot start a worker thread");
	t->a_started = true;
	return 0;
}

/* Wait until the checker has seen every piece (the decompressor must be
 * idle) and stop it. Returns its error, if any, with err set. */
static int tarside_drain(struct tarside *t, struct ward_err *err)
{
	if (!t->a_started)
		return 0;
	pthread_mutex_lock(&t->amu);
	t->a_quit = true;
	pthread_cond_broadcast(&t->acv);
	pthread_mutex_unlock(&t->amu);
	pthread_join(t->ath, NULL);
	t->a_started = false;
	if (t->a_failed) {
		*err = t->a_err;
		return t->a_failed;
	}
	return 0;
}

static const char *isal_inflate_strerror(int r)
{
	switch (r) {
	case ISAL_INVALID_BLOCK:
		return "invalid deflate block";
	case ISAL_INVALID_SYMBOL:
		return "invalid Huffman code";
	case ISAL_INVALID_LOOKBACK:
		return "distance too far back";
	case ISAL_INVALID_WRAPPER:
		return "invalid gzip header";
	case ISAL_UNSUPPORTED_METHOD:
		return "unsupported compression method";
	case ISAL_INCORRECT_CHECKSUM:
		return "CRC-32 or length check failed";
	case ISAL_NEED_DICT:
		return "needs a preset dictionary";
	default:
		return "inflate error";
	}
}

/* The error for ISA-L result zr, with the compressed offset reached. */
static int gzip_corrupt(struct tarside *t, int zr)
{
	return ward_err_set(&t->err, -WARD_E_MALFORMED,
			    "gzip layer is corrupt: %s (near compressed byte %llu)",
			    isal_inflate_strerror(zr),
			    (unsigned long long)(t->gz_in_done + t->in_size - t->gz->avail_in));
}

/* Inflate one piece of a gzip layer (one or more members, RFC 1952 2.2),
 * streaming across pieces. ISA-L verifies each member's CRC-32 and length,
 * and at a member's end returns the bytes it read ahead, so next_in is at
 * the next member.
 *
 * Each member's header is read with isal_read_gzip_header() into a header
 * kept in t, not by isal_inflate(): ISA-L 2.30 (Debian 12) parses the
 * header into a fresh local on every call and does not set its flags
 * (fixed in 2.31), so a header cut by a piece boundary after FEXTRA, FNAME
 * or FCOMMENT resumed with garbage flags and a valid layer could be
 * rejected, depending on stack contents. */
static int tarside_gzip(struct tarside *t)
{
	struct inflate_state *s = t->gz;

	s->next_in = (uint8_t *)t->in;
	s->avail_in = (uint32_t)t->in_size;
	for (;;) {
		uint8_t *buf;
		size_t n;
		int zr, r;

		if (!t->z_in_member) {
			if (s->avail_in == 0)
				break;
			/* a new member must start with the gzip magic */
			if (s->next_in[0] != 0x1f)
				return ward_err_set(&t->err, -WARD_E_MALFORMED,
						    "gzip layer: trailing garbage after the last "
						    "member");
			isal_inflate_reset(s);
			s->crc_flag = ISAL_GZIP;
			isal_gzip_header_init(&t->gz_hdr);
			t->gz_hdr.flags = 0;
			t->gz_hdr_done = false;
			t->z_in_member = true;
		} else if (s->avail_in == 0 && !t->gz_full) {
			break; /* everything inflated; the member goes on in the next piece */
		}
		if (!t->gz_hdr_done) {
			zr = isal_read_gzip_header(s, &t->gz_hdr);
			if (zr == ISAL_END_INPUT && s->avail_in == 0)
				break; /* the header goes on in the next piece */
			if (zr != ISAL_DECOMP_OK)
				return gzip_corrupt(t, zr);
			t->gz_hdr_done = true; /* isal_inflate() now skips the header */
		}
		r = tarside_out_get(t, &buf);
		if (r < 0)
			return r;
		s->next_out = buf;
		s->avail_out = CHUNK;
		zr = isal_inflate(s);
		if (zr != ISAL_DECOMP_OK)
			return gzip_corrupt(t, zr);
		n = CHUNK - s->avail_out;
		/* a full buffer may leave output behind even with no input left */
		t->gz_full = s->avail_out == 0;
		if (n > 0) {
			r = tarside_out_put(t, buf, n);
			if (r < 0)
				return r;
		}
		if (s->block_state == ISAL_BLOCK_FINISH) {
			t->z_in_member = false;
			t->z_any = true;
			t->gz_full = false;
		}
	}
	t->gz_in_done += t->in_size;
	return 0;
}

static int tarside_zstd(struct tarside *t)
{
	ZSTD_inBuffer in = {t->in, t->in_size, 0};

	while (in.pos < in.size) {
		uint8_t *buf;
		int r = tarside_out_get(t, &buf);
		ZSTD_outBuffer out;
		size_t zr;

		if (r < 0)
			return r;
		out = (ZSTD_outBuffer){buf, CHUNK, 0};
		zr = ZSTD_decompressStream(t->zs, &out, &in);
		if (ZSTD_isError(zr))
			return ward_err_set(&t->err, -WARD_E_MALFORMED, "zstd layer is corrupt: %s",
					    ZSTD_getErrorName(zr));
		t->z_in_member = zr != 0;
		if (out.pos) {
			r = tarside_out_put(t, buf, out.pos);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int tarside_job(void *arg)
{
	struct tarside *t = arg;

	switch (t->comp) {
	case IMG_COMP_GZIP:
		return tarside_gzip(t);
	case IMG_COMP_ZSTD:
		return tarside_zstd(t);
	default:
		return tarside_plain(t, t->in, t->in_size);
	}
}

static void tarside_free(struct tarside *t)
{
	struct ward_err ignored;

	(void)tarside_drain(t, &ignored);
	if (t->async) {
		pthread_mutex_destroy(&t->amu);
		pthread_cond_destroy(&t->acv);
	}
	for (int i = 0; i < TS_NBUF; i++)
		free(t->abuf[i]);
	free(t->gz);
	if (t->zs)
		ZSTD_freeDStream(t->zs);
	ward_tar_check_free(t->tc);
	ward_hash_free(t->h);
	free(t->out);
}

static int tarside_init(struct tarside *t, enum img_layer_comp comp, bool allow_devices,
			struct ward_err *err)
{
	struct ward_tar_check_opts o = {.allow_devices = allow_devices};
	int r;

	t->comp = comp;
	r = ward_tar_check_new(&o, &t->tc, err);
	if (r < 0)
		return r;
	r = ward_hash_new(WARD_HASH_SHA256, &t->h, err);
	if (r < 0)
		return r;
	if (comp == IMG_COMP_GZIP) {
		t->out = malloc(CHUNK);
		t->gz = malloc(sizeof(*t->gz));
		if (!t->out || !t->gz)
			return ward_err_set(err, -ENOMEM, "out of memory");
		isal_inflate_init(t->gz);
		t->z_in_member = false; /* the first piece must start a member */
	} else if (comp == IMG_COMP_ZSTD) {
		t->out = malloc(CHUNK);
		t->zs = ZSTD_createDStream();
		if (!t->out || !t->zs || ZSTD_isError(ZSTD_initDStream(t->zs)))
			return ward_err_set(err, -ENOMEM, "out of memory");
		t->z_in_member = true;
	}
	return 0;
}

static int tarside_finish(struct tarside *t, char diff_id[72], uint64_t *entries,
			  struct ward_err *err)
{
	uint8_t d[32];
	int r;

	if (t->comp == IMG_COMP_GZIP && (t->z_in_member || !t->z_any))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "gzip layer is truncated (stream ends inside a member)");
	if (t->comp == IMG_COMP_ZSTD && t->z_in_member)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "zstd layer is truncated (stream ends inside a frame)");
	r = ward_tar_check_finish(t->tc, err);
	if (r < 0)
		return r;
	r = ward_hash_final(t->h, d, err);
	if (r < 0)
		return r;
	img_digest_str(d, diff_id);
	*entries = ward_tar_check_entries(t->tc);
	return 0;
}

/* ---- the encrypting sink side ------------------------------------------- */

struct encside {
	bool hash_plain;       /* plaintext digest differs from the input's */
	struct ward_cipher *c; /* NULL: no encryption */
	struct ward_hmac *m;
	struct ward_hash *plain_h, *enc_h;
	uint8_t *buf; /* CHUNK + compress bound */
	size_t buf_cap;
	uint64_t plain_size, enc_size;
	struct img_out_blob *sink;
};

static int encside_put(struct encside *e, const uint8_t *p, size_t n, struct ward_err *err)
{
	int r;

	while (n) {
		size_t k = n < e->buf_cap ? n : e->buf_cap;
		const uint8_t *w = p;

		if (e->hash_plain) {
			r = ward_hash_update(e->plain_h, p, k, err);
			if (r < 0)
				return r;
		}
		if (e->c) {
			r = ward_cipher_update(e->c, p, k, e->buf, err);
			if (r < 0)
				return r;
			r = ward_hmac_update(e->m, e->buf, k, err);
			if (r < 0)
				return r;
			w = e->buf;
		}
		r = ward_hash_update(e->enc_h, w, k, err);
		if (r < 0)
			return r;
		r = img_out_blob_write(e->sink, w, k, err);
		if (r < 0)
			return r;
		e->plain_size += k;
		e->enc_size += k;
		p += k;
		n -= k;
	}
	return 0;
}

static void encside_free(struct encside *e)
{
	ward_cipher_free(e->c);
	ward_hmac_free(e->m);
	ward_hash_free(e->plain_h);
	ward_hash_free(e->enc_h);
	free(e->buf);
}

static int read_full(struct img_blob *in, uint8_t *buf, size_t size, size_t *ret,
		     struct ward_err *err)
{
	size_t off = 0, got;
	int r;

	while (off < size) {
		r = img_blob_read(in, buf + off, size - off, &got, err);
		if (r < 0)
			return r;
		if (got == 0)
			break;
		off += got;
	}
	*ret = off;
	return 0;
}

/* ---- chunk compressors ---------------------------------------------------
 *
 * One per thread: each compresses a whole chunk into one gzip member or one
 * zstd frame (content size in the header, no checksum: the layer digest
 * and the HMAC cover the bytes). */

/* The gzip member header ward writes (RFC 1952 2.3): deflate, no flags,
 * MTIME 0, XFL 0, OS 255 (unknown): the same bytes on every machine. */
static const uint8_t gzip_header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};

#define STORED_MAX 65535u /* bytes in one stored deflate block */

size_t img_gzip_stored_size(size_t in_size)
{
	size_t blocks = in_size ? (in_size + STORED_MAX - 1) / STORED_MAX : 1;

	return sizeof(gzip_header) + in_size + 5 * blocks + 8;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

int img_gzip_stored_member(const uint8_t *in, size_t in_size, uint8_t *out, size_t out_cap,
			   size_t *ret_size)
{
	size_t need = img_gzip_stored_size(in_size), off = 0;
	uint8_t *p = out;

	if (out_cap < need)
		return -ENOSPC;
	memcpy(p, gzip_header, sizeof(gzip_header));
	p += sizeof(gzip_header);
	do {
		size_t k = in_size - off < STORED_MAX ? in_size - off : STORED_MAX;

		/* RFC 1951 3.2.4: BFINAL, BTYPE 00, byte-aligned LEN and NLEN */
		p[0] = off + k == in_size ? 1 : 0;
		p[1] = (uint8_t)k;
		p[2] = (uint8_t)(k >> 8);
		p[3] = (uint8_t)~k;
		p[4] = (uint8_t)(~k >> 8);
		if (k)
			memcpy(p + 5, in + off, k);
		p += 5 + k;
		off += k;
	} while (off < in_size);
	put_le32(p, (uint32_t)libdeflate_crc32(0, in, in_size));
	put_le32(p + 4, (uint32_t)in_size); /* ISIZE: the size modulo 2^32 */
	p += 8;
	*ret_size = (size_t)(p - out);
	return 0;
}

struct chunk_comp {
	enum img_layer_comp kind; /* IMG_COMP_GZIP or IMG_COMP_ZSTD */
	struct libdeflate_compressor *gz; /* gzip at an explicit level */
	struct isal_zstream *igz;         /* gzip by default (ISA-L igzip) */
	uint8_t *igz_buf;                 /* igzip's level buffer */
	ZSTD_CCtx *zs;
};

static void chunk_comp_free(struct chunk_comp *c)
{
	if (c->gz)
		libdeflate_free_compressor(c->gz);
	if (c->zs)
		ZSTD_freeCCtx(c->zs);
	free(c->igz);
	free(c->igz_buf);
	c->gz = NULL;
	c->zs = NULL;
	c->igz = NULL;
	c->igz_buf = NULL;
}

/* igzip's level buffer size (ISA-L's suggested default for the level). */
#define IGZIP_LEVEL_BUF                                                                            \
	(IMG_IGZIP_LEVEL == 1	? ISAL_DEF_LVL1_DEFAULT                                          \
	 : IMG_IGZIP_LEVEL == 2 ? ISAL_DEF_LVL2_DEFAULT                                          \
				: ISAL_DEF_LVL3_DEFAULT)

/* level: for gzip, 0 is igzip (the default) and 1..12 libdeflate; for
 * zstd, the zstd level. */
static int chunk_comp_init(struct chunk_comp *c, enum img_layer_comp kind, int level)
{
	c->kind = kind;
	if (kind == IMG_COMP_GZIP && level == 0) {
		/* allocated once per thread, reused for every member */
		c->igz = malloc(sizeof(*c->igz));
		c->igz_buf = malloc(IGZIP_LEVEL_BUF);
		if (!c->igz || !c->igz_buf) {
			chunk_comp_free(c);
			return -ENOMEM;
		}
		return 0;
	}
	if (kind == IMG_COMP_GZIP) {
		c->gz = libdeflate_alloc_compressor(level);
		return c->gz ? 0 : -ENOMEM;
	}
	c->zs = ZSTD_createCCtx();
	if (!c->zs)
		return -ENOMEM;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(c->zs, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c->zs, ZSTD_c_checksumFlag, 0)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c->zs, ZSTD_c_contentSizeFlag, 1))) {
		chunk_comp_free(c);
		return -EINVAL;
	}
	return 0;
}

/* Input chunk size for a compressor. */
static size_t chunk_comp_size(enum img_layer_comp kind)
{
	return kind == IMG_COMP_ZSTD ? ZSTD_CHUNK : CHUNK;
}

/* Worst-case output size for one chunk of input: for gzip, libdeflate's
 * bound or a stored member's size, whichever is larger. */
static size_t chunk_comp_bound(enum img_layer_comp kind)
{
	size_t gz = libdeflate_gzip_compress_bound(NULL, CHUNK);

	if (kind == IMG_COMP_ZSTD)
		return ZSTD_compressBound(ZSTD_CHUNK);
	return gz > img_gzip_stored_size(CHUNK) ? gz : img_gzip_stored_size(CHUNK);
}

/* One gzip member with igzip: our fixed header, then igzip's deflate
 * stream and trailer (CRC-32, ISIZE). Should the output not fit (igzip
 * itself falls back to stored blocks, so it should not happen), the
 * member is written with stored blocks: never a partial member. */
static int igzip_member(struct chunk_comp *c, const uint8_t *in, size_t in_size, uint8_t *out,
			size_t out_cap, size_t *ret_size)
{
	struct isal_zstream *s = c->igz;
	int r;

	isal_deflate_stateless_init(s);
	s->level = IMG_IGZIP_LEVEL;
	s->level_buf = c->igz_buf;
	s->level_buf_size = IGZIP_LEVEL_BUF;
	s->gzip_flag = IGZIP_GZIP_NO_HDR;
	s->flush = NO_FLUSH;
	s->end_of_stream = 1;
	s->next_in = (uint8_t *)in;
	s->avail_in = (uint32_t)in_size;
	memcpy(out, gzip_header, sizeof(gzip_header));
	s->next_out = out + sizeof(gzip_header);
	s->avail_out = (uint32_t)(out_cap - sizeof(gzip_header));
	r = isal_deflate_stateless(s);
	if (r == STATELESS_OVERFLOW)
		return img_gzip_stored_member(in, in_size, out, out_cap, ret_size);
	if (r != COMP_OK)
		return -EIO;
	*ret_size = sizeof(gzip_header) + s->total_out;
	return 0;
}

static int chunk_comp_run(struct chunk_comp *c, const uint8_t *in, size_t in_size, uint8_t *out,
			  size_t *ret_size)
{
	size_t n;

	if (c->igz)
		return igzip_member(c, in, in_size, out, chunk_comp_bound(c->kind), ret_size);
	if (c->kind == IMG_COMP_GZIP) {
		n = libdeflate_gzip_compress(c->gz, in, in_size, out, chunk_comp_bound(c->kind));
		if (n == 0)
			return -ENOSPC;
	} else {
		n = ZSTD_compress2(c->zs, out, chunk_comp_bound(c->kind), in, in_size);
		if (ZSTD_isError(n))
			return -EIO;
	}
	*ret_size = n;
	return 0;
}

/* ---- the ring: NSLOTS chunk buffers shared by main and worker threads ----
 *
 * Compress mode: main reads chunk k into a slot and queues it; a checker
 * thread checks the tar and hashes the chunks (diff_id) in order; two
 * workers compress queued chunks (any order); main encrypts, MACs, hashes
 * and writes the compressed chunks in order. (With igzip, compression is
 * no longer the slowest stage: main's SHA-256 passes are, so the tar check
 * and diff_id leave main.)
 * Check mode (compressed input): main reads, hashes, encrypts and writes
 * each chunk at once; one worker decompresses the chunks in order for the
 * tar check and diff_id. A slot is reused only when both are done with it.
 * With threads == 1 the same steps run inline on main. */

#define NSLOTS 4

enum { SLOT_FREE, SLOT_READY, SLOT_BUSY, SLOT_DONE };

struct slot {
	uint8_t *in, *out;
	size_t in_size, out_size;
	int state;
	int result;
	bool emitted;
	bool checking; /* queued for the checker, not yet checked */
};

struct ring {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct slot slots[NSLOTS];
	uint64_t next_work, queued;
	bool quit, compress;
	int failed; /* first worker error: later slots will never be done */
	enum img_layer_comp out_comp;
	int level;
	struct tarside *ts;
	pthread_t th[2];
	int nth;
	/* compress mode with threads: the in-order tar checker */
	uint64_t next_check;
	bool check_failed; /* g->failed came from the checker (error in ts->err) */
	bool cth_started;
	pthread_t cth;
};

static int ring_work(struct ring *g, struct slot *sl, struct chunk_comp *c)
{
	if (g->compress)
		return chunk_comp_run(c, sl->in, sl->in_size, sl->out, &sl->out_size);
	g->ts->in = sl->in;
	g->ts->in_size = sl->in_size;
	return tarside_job(g->ts);
}

static void *ring_main(void *p)
{
	struct ring *g = p;
	struct chunk_comp c = {0};
	int init_r = g->compress ? chunk_comp_init(&c, g->out_comp, g->level) : 0;

	pthread_mutex_lock(&g->mu);
	for (;;) {
		struct slot *sl;
		int r;

		while (!g->quit && g->next_work == g->queued)
			pthread_cond_wait(&g->cv, &g->mu);
		if (g->quit)
			break;
		sl = &g->slots[g->next_work++ % NSLOTS];
		sl->state = SLOT_BUSY;
		pthread_mutex_unlock(&g->mu);
		r = init_r < 0 ? init_r : ring_work(g, sl, &c);
		pthread_mutex_lock(&g->mu);
		sl->result = r;
		sl->state = SLOT_DONE;
		pthread_cond_broadcast(&g->cv);
		if (r < 0) {
			if (!g->failed)
				g->failed = r;
			break; /* stop at the first error; main sees g->failed */
		}
	}
	pthread_mutex_unlock(&g->mu);
	chunk_comp_free(&c);
	return NULL;
}

/* Compress mode: check the tar and hash the queued chunks, in order. */
static void *ring_checker(void *p)
{
	struct ring *g = p;

	pthread_mutex_lock(&g->mu);
	for (;;) {
		struct slot *sl;
		int r;

		while (!g->quit && !g->failed && g->next_check == g->queued)
			pthread_cond_wait(&g->cv, &g->mu);
		if (g->quit || g->failed)
			break;
		sl = &g->slots[g->next_check % NSLOTS];
		pthread_mutex_unlock(&g->mu);
		g->ts->in = sl->in;
		g->ts->in_size = sl->in_size;
		r = tarside_job(g->ts);
		pthread_mutex_lock(&g->mu);
		sl->checking = false;
		g->next_check++;
		pthread_cond_broadcast(&g->cv);
		if (r < 0) {
			if (!g->failed) {
				g->failed = r;
				g->check_failed = true;
			}
			break;
		}
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

static void ring_stop(struct ring *g)
{
	pthread_mutex_lock(&g->mu);
	g->quit = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	for (int i = 0; i < g->nth; i++)
		pthread_join(g->th[i], NULL);
	g->nth = 0;
	if (g->cth_started)
		pthread_join(g->cth, NULL);
	g->cth_started = false;
}

/* Wait until the workers are done with slot sl (or it was never queued);
 * with checked, until the checker is done with it too. */
static int ring_wait_done(struct ring *g, struct slot *sl, bool checked)
{
	int r;

	pthread_mutex_lock(&g->mu);
	while ((sl->state == SLOT_READY || sl->state == SLOT_BUSY || (checked && sl->checking)) &&
	       !g->failed)
		pthread_cond_wait(&g->cv, &g->mu);
	r = g->failed ? g->failed : sl->result;
	pthread_mutex_unlock(&g->mu);
	return r;
}

int img_pipe_run(struct img_blob *in, uint64_t in_size, struct img_out_blob *sink,
		 const struct img_pipe_opts *opts, struct img_pipe_result *res,
		 struct ward_err *err)
{
	struct tarside ts = {0};
	struct encside es = {.sink = sink};
	struct ring g = {0};
	struct chunk_comp inline_c = {0};
	struct ward_hash *in_h = NULL;
	bool compress = opts->in_comp == IMG_COMP_NONE;
	bool check = opts->check_tar || compress;
	bool threaded = opts->threads > 1 && (compress || check);
	enum img_layer_comp out_comp = opts->out_comp == IMG_COMP_ZSTD ? IMG_COMP_ZSTD : IMG_COMP_GZIP;
	size_t chunk = compress ? chunk_comp_size(out_comp) : CHUNK;
	size_t piece = opts->piece && opts->piece < chunk ? opts->piece : chunk;
	uint64_t done = 0, seq_read = 0, seq_emit = 0;
	bool eof = false;
	uint8_t d[32];
	int r;

	memset(res, 0, sizeof(*res));
	if (piece < 4)
		piece = 4; /* room for the compression magic */
	es.hash_plain = compress;
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.cv, NULL);
	g.compress = compress;
	g.out_comp = out_comp;
	g.level = opts->level;
	g.ts = &ts;
	r = ward_hash_new(WARD_HASH_SHA256, &in_h, err);
	if (r < 0)
		goto out;
	r = ward_hash_new(WARD_HASH_SHA256, &es.plain_h, err);
	if (r < 0)
		goto out;
	r = ward_hash_new(WARD_HASH_SHA256, &es.enc_h, err);
	if (r < 0)
		goto out;
	if (opts->keys) {
		r = ward_cipher_new(WARD_CIPHER_AES256_CTR, opts->keys->symkey, opts->keys->nonce,
				    sizeof(opts->keys->nonce), &es.c, err);
		if (r < 0)
			goto out;
		r = ward_hmac_new(WARD_HASH_SHA256, opts->keys->symkey, sizeof(opts->keys->symkey),
				  &es.m, err);
		if (r < 0)
			goto out;
	}
	es.buf_cap = CHUNK;
	es.buf = malloc(es.buf_cap);
	if (!es.buf) {
		r = ward_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (compress && !threaded) {
		r = chunk_comp_init(&inline_c, g.out_comp, opts->level);
		if (r < 0) {
			r = ward_err_set(err, r, "cannot set up %s compression (level %d)",
					 g.out_comp == IMG_COMP_ZSTD ? "zstd" : "gzip", opts->level);
			goto out;
		}
	}
	for (int i = 0; i < NSLOTS; i++) {
		g.slots[i].in = malloc(chunk);
		g.slots[i].out = compress ? malloc(chunk_comp_bound(out_comp)) : NULL;
		g.slots[i].emitted = true;
		if (!g.slots[i].in || (compress && !g.slots[i].out)) {
			r = ward_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	if (check) {
		r = tarside_init(&ts, compress ? IMG_COMP_NONE : opts->in_comp, opts->allow_devices,
				 err);
		if (r < 0)
			goto out;
		if (threaded && !compress) {
			r = tarside_start_async(&ts, err);
			if (r < 0)
				goto out;
		}
	}
	if (threaded) {
		int want = compress ? 2 : 1;

		for (int i = 0; i < want; i++) {
			if (pthread_create(&g.th[i], NULL, ring_main, &g) != 0) {
				r = ward_err_set(err, -EAGAIN, "cannot start a worker thread");
				goto out;
			}
			g.nth++;
		}
		if (compress) {
			if (pthread_create(&g.cth, NULL, ring_checker, &g) != 0) {
				r = ward_err_set(err, -EAGAIN, "cannot start a worker thread");
				goto out;
			}
			g.cth_started = true;
		}
	}

	for (;;) {
		/* fill free slots */
		while (!eof && seq_read - seq_emit < NSLOTS) {
			struct slot *sl = &g.slots[seq_read % NSLOTS];
			size_t n;

			r = ring_wait_done(&g, sl, true);
			if (r < 0)
				goto worker_failed;
			r = read_full(in, sl->in, piece, &n, err);
			if (r < 0)
				goto out;
			if (n == 0) {
				eof = true;
				break;
			}
			if (done == 0 && !compress && opts->in_comp != img_detect_comp(sl->in, n)) {
				r = ward_err_set(err, -WARD_E_MALFORMED,
						 "layer content does not match its media type "
						 "(compression)");
				goto out;
			}
			done += n;
			sl->in_size = n;
			sl->emitted = false;
			if (compress && !threaded) {
				/* tar check + diff_id on the raw tar, in order */
				ts.in = sl->in;
				ts.in_size = n;
				r = tarside_job(&ts);
				if (r < 0) {
					*err = ts.err;
					goto out;
				}
			} else if (!compress) {
				r = ward_hash_update(in_h, sl->in, n, err);
				if (r < 0)
					goto out;
			}
			if (threaded) {
				pthread_mutex_lock(&g.mu);
				sl->state = SLOT_READY;
				sl->checking = compress;
				g.queued = seq_read + 1;
				pthread_cond_broadcast(&g.cv);
				pthread_mutex_unlock(&g.mu);
			} else if (compress || check) {
				sl->result = ring_work(&g, sl, &inline_c);
				sl->state = SLOT_DONE;
				if (sl->result < 0) {
					r = sl->result;
					goto worker_failed;
				}
			}
			seq_read++;
			if (!compress) {
				/* encrypt right away; the checker catches up */
				r = encside_put(&es, sl->in, n, err);
				if (r < 0)
					goto out;
				sl->emitted = true;
				seq_emit++;
			}
			if (opts->progress)
				opts->progress(opts->progress_ctx, opts->layer_index,
					       opts->layer_count, done, in_size, false);
		}
		if (seq_emit == seq_read)
			break;
		/* compress mode: emit the oldest chunk once compressed */
		{
			struct slot *sl = &g.slots[seq_emit % NSLOTS];

			r = ring_wait_done(&g, sl, false);
			if (r < 0)
				goto worker_failed;
			r = encside_put(&es, sl->out, sl->out_size, err);
			if (r < 0)
				goto out;
			sl->emitted = true;
			seq_emit++;
		}
	}
	/* the checker must have seen every chunk */
	for (int i = 0; i < NSLOTS; i++) {
		r = ring_wait_done(&g, &g.slots[i], true);
		if (r < 0)
			goto worker_failed;
	}
	if (in_size && done != in_size) {
		r = ward_err_set(err, -WARD_E_MALFORMED, "layer is %llu bytes, expected %llu",
				 (unsigned long long)done, (unsigned long long)in_size);
		goto out;
	}
	if (check) {
		/* the decompressor is idle: let the checker catch up */
		r = tarside_drain(&ts, err);
		if (r < 0)
			goto out;
		r = tarside_finish(&ts, res->diff_id, &res->tar_entries, err);
		if (r < 0)
			goto out;
	}
	if (compress) {
		memcpy(res->in_digest, res->diff_id, sizeof(res->in_digest));
		r = ward_hash_final(es.plain_h, d, err);
		if (r < 0)
			goto out;
		img_digest_str(d, res->plain_digest);
	} else {
		r = ward_hash_final(in_h, d, err);
		if (r < 0)
			goto out;
		img_digest_str(d, res->in_digest);
		memcpy(res->plain_digest, res->in_digest, sizeof(res->plain_digest));
	}
	res->in_size = done;
	res->plain_size = es.plain_size;
	r = ward_hash_final(es.enc_h, d, err);
	if (r < 0)
		goto out;
	img_digest_str(d, res->enc_digest);
	res->enc_size = es.enc_size;
	if (es.c) {
		r = ward_hmac_final(es.m, res->hmac, err);
		if (r < 0)
			goto out;
	}
	res->out_comp = compress ? g.out_comp : opts->in_comp;
	if (opts->progress)
		opts->progress(opts->progress_ctx, opts->layer_index, opts->layer_count, done,
			       in_size, true);
	r = 0;
	goto out;
worker_failed:
	if (compress && g.check_failed)
		*err = ts.err;
	else if (compress)
		r = ward_err_set(err, r, "%s compression failed",
				 g.out_comp == IMG_COMP_ZSTD ? "zstd" : "gzip");
	else
		*err = ts.err;
out:
	ring_stop(&g);
	for (int i = 0; i < NSLOTS; i++) {
		free(g.slots[i].in);
		free(g.slots[i].out);
	}
	pthread_mutex_destroy(&g.mu);
	pthread_cond_destroy(&g.cv);
	chunk_comp_free(&inline_c);
	tarside_free(&ts);
	encside_free(&es);
	ward_hash_free(in_h);
	return r;
}

int img_pipe_decrypt(struct img_blob *in, uint64_t in_size, struct img_out_blob *sink,
		     const struct img_layer_keys *keys, const uint8_t hmac[32],
		     const char *want_enc_digest, const char *want_digest, size_t layer_index, size_t layer_count,
		     ward_image_progress_fn progress, void *progress_ctx, char ret_plain_digest[72],
		     uint64_t *ret_plain_size, struct ward_err *err)
{
	WARD_CLEANUP(ward_cipher_freep) struct ward_cipher *c = NULL;
	WARD_CLEANUP(ward_hmac_freep) struct ward_hmac *m = NULL;
	WARD_CLEANUP(ward_hash_freep) struct ward_hash *h = NULL, *eh = NULL;
	WARD_AUTOFREE uint8_t *buf = malloc(CHUNK);
	uint8_t mac[32], d[32];
	char digest[72];
	uint64_t done = 0;
	int r;

	if (!buf)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_cipher_new(WARD_CIPHER_AES256_CTR, keys->symkey, keys->nonce, sizeof(keys->nonce),
			    &c, err);
	if (r < 0)
		return r;
	r = ward_hmac_new(WARD_HASH_SHA256, keys->symkey, sizeof(keys->symkey), &m, err);
	if (r < 0)
		return r;
	r = ward_hash_new(WARD_HASH_SHA256, &h, err);
	if (r < 0)
		return r;
	r = ward_hash_new(WARD_HASH_SHA256, &eh, err);
	if (r < 0)
		return r;
	for (;;) {
		size_t n;

		r = read_full(in, buf, CHUNK, &n, err);
		if (r < 0)
			return r;
		if (n == 0)
			break;
		r = ward_hash_update(eh, buf, n, err);
		if (r < 0)
			return r;
		r = ward_hmac_update(m, buf, n, err);
		if (r < 0)
			return r;
		r = ward_cipher_update(c, buf, n, buf, err);
		if (r < 0)
			return r;
		r = ward_hash_update(h, buf, n, err);
		if (r < 0)
			return r;
		/* written to a temporary blob that is only renamed into place by
		 * the caller after the HMAC and digest below verify */
		r = img_out_blob_write(sink, buf, n, err);
		if (r < 0)
			return r;
		done += n;
		if (progress)
			progress(progress_ctx, layer_index, layer_count, done, in_size, false);
	}
	r = ward_hash_final(eh, d, err);
	if (r < 0)
		return r;
	img_digest_str(d, digest);
	if (want_enc_digest && strcmp(digest, want_enc_digest) != 0)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "encrypted layer digest mismatch: blob is %s, expected %s", digest,
				    want_enc_digest);
	r = ward_hmac_final(m, mac, err);
	if (r < 0)
		return r;
	if (!ward_ct_eq(mac, hmac, 32))
		return ward_err_set(err, -WARD_E_VERIFY,
				    "layer HMAC does not verify (wrong key, or the encrypted layer "
				    "was modified)");
	r = ward_hash_final(h, d, err);
	if (r < 0)
		return r;
	img_digest_str(d, digest);
	if (want_digest && strcmp(digest, want_digest) != 0)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "decrypted layer digest %s does not match the wrapped digest %s",
				    digest, want_digest);
	if (progress)
		progress(progress_ctx, layer_index, layer_count, done, in_size, true);
	memcpy(ret_plain_digest, digest, 72);
	*ret_plain_size = done;
	return 0;
}
