/* SPDX-License-Identifier: Apache-2.0 */
/* Volume engine tests over an in-memory backing store that models
 * durability (what survives a kill -9 vs a power cut) and can cut the I/O
 * sequence at any op. The logic runs under a trivial test cipher and under
 * the real crypto table. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vol-internal.h"
#include "ward-test.h"
#include "ward/crypto.h"
#include "ward/vol.h"

/* ---- in-memory backing store --------------------------------------------- */

struct mfile {
	uint8_t *data, *ddata; /* volatile (page cache) and durable contents */
	size_t size, dsize;
	struct mfile *next_all;
};

struct mname {
	char name[64];
	struct mfile *f;
};

#define MEM_NAMES 512
#define MEM_HANDLES 256

struct memio {
	struct ward_vol_io io;
	pthread_mutex_t mu; /* recursive: the engine calls the store from many threads */
	struct mname names[MEM_NAMES], dnames[MEM_NAMES]; /* volatile / durable */
	size_t nnames, ndnames;
	struct mfile *handles[MEM_HANDLES];
	struct mfile *all;
	long ops_left; /* < 0: unlimited; the op that takes it to 0 dies */
	bool dead;
	long ops; /* mutating ops performed */
};

static void mem_unlockp(pthread_mutex_t **p)
{
	pthread_mutex_unlock(*p);
}
#define MEMLOCK(m)                                                                                 \
	pthread_mutex_t *memlock_ __attribute__((cleanup(mem_unlockp), unused)) =                         \
		(pthread_mutex_lock(&(m)->mu), &(m)->mu)

static struct mname *mem_find(struct memio *m, const char *name)
{
	for (size_t i = 0; i < m->nnames; i++)
		if (strcmp(m->names[i].name, name) == 0)
			return &m->names[i];
	return NULL;
}

/* Account for one mutating op; false if the process "died" here. */
static bool mem_step(struct memio *m)
{
	if (m->dead)
		return false;
	m->ops++;
	if (m->ops_left >= 0 && m->ops_left-- == 0) {
		m->dead = true;
		return false;
	}
	return true;
}

static struct mfile *mem_newfile(struct memio *m)
{
	struct mfile *f = calloc(1, sizeof(*f));

	f->next_all = m->all;
	m->all = f;
	return f;
}

static int m_open(void *ctx, const char *name, int flags)
{
	struct memio *m = ctx;
	MEMLOCK(m);
	struct mname *n;
	int h;

	if (m->dead)
		return -EIO;
	n = mem_find(m, name);
	if (!n) {
		if (!(flags & WARD_VOL_IO_CREATE))
			return -ENOENT;
		if (!mem_step(m))
			return -EIO;
		if (m->nnames == MEM_NAMES)
			return -ENOSPC;
		n = &m->names[m->nnames++];
		snprintf(n->name, sizeof(n->name), "%s", name);
		n->f = mem_newfile(m);
	} else if ((flags & WARD_VOL_IO_EXCL)) {
		return -EEXIST;
	}
	for (h = 0; h < MEM_HANDLES; h++)
		if (!m->handles[h]) {
			m->handles[h] = n->f;
			return h;
		}
	return -EMFILE;
}

static int m_close(void *ctx, int h)
{
	struct memio *m = ctx;
	MEMLOCK(m);

	m->handles[h] = NULL;
	return 0;
}

static int m_pread(void *ctx, int h, void *buf, size_t size, uint64_t off, size_t *ret_n)
{
	struct memio *m = ctx;
	MEMLOCK(m);
	struct mfile *f = m->handles[h];

	if (m->dead)
		return -EIO;
	if (off >= f->size) {
		*ret_n = 0;
		return 0;
	}
	*ret_n = WARD_MIN(size, f->size - (size_t)off);
	memcpy(buf, f->data + off, *ret_n);
	return 0;
}

static void mfile_resize(struct mfile *f, size_t size)
{
	f->data = realloc(f->data, size ? size : 1);
	if (size > f->size)
		memset(f->data + f->size, 0, size - f->size);
	f->size = size;
}

static int m_pwrite(void *ctx, int h, const void *buf, size_t size, uint64_t off)
{
	struct memio *m = ctx;
	MEMLOCK(m);
	struct mfile *f = m->handles[h];
	bool ok = mem_step(m);

	if (!ok && m->ops_left != -2) {
		/* Torn write at the cut: the first half reaches the page cache. */
		size /= 2;
	}
	if (m->ops_left == -2 || (!ok && size == 0))
		return -EIO;
	if (off + size > f->size)
		mfile_resize(f, (size_t)(off + size));
	memcpy(f->data + off, buf, size);
	if (!ok) {
		m->ops_left = -2; /* tear only once */
		return -EIO;
	}
	return 0;
}

static int m_truncate(void *ctx, int h, uint64_t size)
{
	struct memio *m = ctx;
	MEMLOCK(m);

	if (!mem_step(m))
		return -EIO;
	mfile_resize(m->handles[h], (size_t)size);
	return 0;
}

static int m_fsize(void *ctx, int h, uint64_t *ret)
{
	struct memio *m = ctx;
	MEMLOCK(m);

	*ret = m->handles[h]->size;
	return 0;
}

static int m_sync(void *ctx, int h)
{
	struct memio *m = ctx;
	MEMLOCK(m);
	struct mfile *f = m->handles[h];

	if (!mem_step(m))
		return -EIO;
	free(f->ddata);
	f->ddata = malloc(f->size ? f->size : 1);
	memcpy(f->ddata, f->data, f->size);
	f->dsize = f->size;
	return 0;
}

static int m_sync_all(void *ctx)
{
	struct memio *m = ctx;
	MEMLOCK(m);

	if (!mem_step(m))
		return -EIO;
	for (struct mfile *f = m->all; f; f = f->next_all) {
		free(f->ddata);
		f->ddata = malloc(f->size ? f->size : 1);
		memcpy(f->ddata, f->data, f->size);
		f->dsize = f->size;
	}
	return 0;
}

static int m_rename(void *ctx, const char *from, const char *to)
{
	struct memio *m = ctx;
	MEMLOCK(m);
	struct mname *a, *b;

	if (!mem_step(m))
		return -EIO;
	a = mem_find(m, from);
	if (!a)
		return -ENOENT;
	b = mem_find(m, to);
	if (b) {
		b->f = a->f;
		*a = m->names[--m->nnames];
	} else {
		snprintf(a->name, sizeof(a->name), "%s", to);
	}
	return 0;
}

static int m_unlink(void *ctx, const char *name)
{
	struct memio *m = ctx;
	MEMLOCK(m);
	struct mname *a;

	if (!mem_step(m))
		return -EIO;
	a = mem_find(m, name);
	if (!a)
		return -ENOENT;
	*a = m->names[--m->nnames];
	return 0;
}

static int m_sync_dir(void *ctx)
{
	struct memio *m = ctx;
	MEMLOCK(m);

	if (!mem_step(m))
		return -EIO;
	memcpy(m->dnames, m->names, sizeof(m->names));
	m->ndnames = m->nnames;
	return 0;
}

static int m_list(void *ctx, int (*cb)(void *cb_ctx, const char *name), void *cb_ctx)
{
	struct memio *m = ctx;
	char names[MEM_NAMES][64];
	size_t n;

	pthread_mutex_lock(&m->mu);
	n = m->nnames;
	for (size_t i = 0; i < n; i++)
		memcpy(names[i], m->names[i].name, 64);
	pthread_mutex_unlock(&m->mu);
	if (m->dead)
		return -EIO;
	for (size_t i = 0; i < n; i++) {
		int r = cb(cb_ctx, names[i]);

		if (r)
			return r;
	}
	return 0;
}

static struct memio *memio_new(void)
{
	struct memio *m = calloc(1, sizeof(*m));

	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&m->mu, &a);
	pthread_mutexattr_destroy(&a);
	m->ops_left = -1;
	m->io = (struct ward_vol_io){.ctx = m,
				     .open = m_open,
				     .close = m_close,
				     .pread = m_pread,
				     .pwrite = m_pwrite,
				     .truncate = m_truncate,
				     .fsize = m_fsize,
				     .sync = m_sync,
				     .rename = m_rename,
				     .unlink = m_unlink,
				     .sync_dir = m_sync_dir,
				     .sync_all = m_sync_all,
				     .list = m_list};
	return m;
}

static void memio_free(struct memio *m)
{
	struct mfile *f = m->all, *next;

	for (; f; f = next) {
		next = f->next_all;
		free(f->data);
		free(f->ddata);
		free(f);
	}
	pthread_mutex_destroy(&m->mu);
	free(m);
}

/* After a crash: handles are gone; for a power cut, only durable state. */
static void memio_crash(struct memio *m, bool power_cut)
{
	memset(m->handles, 0, sizeof(m->handles));
	m->dead = false;
	m->ops_left = -1;
	if (!power_cut)
		return;
	memcpy(m->names, m->dnames, sizeof(m->names));
	m->nnames = m->ndnames;
	for (struct mfile *f = m->all; f; f = f->next_all) {
		free(f->data);
		f->data = malloc(f->dsize ? f->dsize : 1);
		if (f->ddata)
			memcpy(f->data, f->ddata, f->dsize);
		f->size = f->dsize;
	}
}

/* Deep copy of the current (volatile) backing state, and restore. */
struct memsnap {
	size_t n;
	char names[MEM_NAMES][64];
	uint8_t *data[MEM_NAMES];
	size_t size[MEM_NAMES];
};

static struct memsnap *memio_snap(struct memio *m)
{
	struct memsnap *s = calloc(1, sizeof(*s));

	s->n = m->nnames;
	for (size_t i = 0; i < m->nnames; i++) {
		memcpy(s->names[i], m->names[i].name, 64);
		s->size[i] = m->names[i].f->size;
		s->data[i] = malloc(s->size[i] + 1);
		memcpy(s->data[i], m->names[i].f->data, s->size[i]);
	}
	return s;
}

static void memio_restore(struct memio *m, const struct memsnap *s)
{
	m->nnames = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct mname *n = &m->names[m->nnames++];

		memcpy(n->name, s->names[i], 64);
		n->f = mem_newfile(m);
		mfile_resize(n->f, s->size[i]);
		memcpy(n->f->data, s->data[i], s->size[i]);
	}
}

static void memsnap_free(struct memsnap *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->data[i]);
	free(s);
}

/* The file behind name; the test is broken (abort) if there is none. */
static struct mfile *memio_file(struct memio *m, const char *name)
{
	struct mname *n = name ? mem_find(m, name) : NULL;

	if (!n || !n->f)
		abort();
	return n->f;
}

/* The name of the first data file (slot suffix sfx) in the store. */
static const char *memio_blob(struct memio *m, size_t nth, char sfx)
{
	for (size_t i = 0; i < m->nnames; i++) {
		size_t len = strlen(m->names[i].name);

		if (len == 34 && m->names[i].name[33] == sfx && nth-- == 0)
			return m->names[i].name;
	}
	return NULL;
}

/* ---- test cipher ------------------------------------------------------------ */

/* NOT cryptography: a keyed stream and a keyed 128-bit checksum, enough to
 * exercise the engine's logic (any change to key, nonce, AAD or ciphertext
 * changes the tag). */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t absorb(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = mix(h ^ b[i]) + i;
	return h;
}

static void t_tag(const uint8_t key[32], const uint8_t nonce[12], const void *aad, size_t aad_size,
		  const void *ct, size_t size, uint8_t tag[16])
{
	uint64_t h1 = absorb(absorb(absorb(absorb(1, key, 32), nonce, 12), aad, aad_size), ct, size);
	uint64_t h2 = mix(h1 ^ 0x1234567);

	memcpy(tag, &h1, 8);
	memcpy(tag + 8, &h2, 8);
}

static void t_stream(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *in, size_t size,
		     uint8_t *out)
{
	uint64_t s = absorb(absorb(7, key, 32), nonce, 12);

	for (size_t i = 0; i < size; i++) {
		if (i % 8 == 0)
			s = mix(s + i);
		out[i] = in[i] ^ (uint8_t)(s >> (8 * (i % 8)));
	}
}

static int t_seal(void *ctx, const uint8_t key[32], const uint8_t nonce[12], const void *aad,
		  size_t aad_size, const void *pt, size_t size, uint8_t *ct, uint8_t tag[16])
{
	(void)ctx;
	t_stream(key, nonce, pt, size, ct);
	t_tag(key, nonce, aad, aad_size, ct, size, tag);
	return 0;
}

static int t_open(void *ctx, const uint8_t key[32], const uint8_t nonce[12], const void *aad,
		  size_t aad_size, const void *ct, size_t size, const uint8_t tag[16], uint8_t *pt)
{
	uint8_t want[16];

	(void)ctx;
	t_tag(key, nonce, aad, aad_size, ct, size, want);
	if (memcmp(want, tag, 16) != 0)
		return -WARD_E_VERIFY;
	t_stream(key, nonce, ct, size, pt);
	return 0;
}

static int t_kdf(void *ctx, const uint8_t key[32], const char *label, const void *info,
		 size_t info_size, uint8_t out[32])
{
	uint64_t h = absorb(absorb(absorb(3, key, 32), label, strlen(label)), info, info_size);

	(void)ctx;
	for (int i = 0; i < 4; i++) {
		h = mix(h + (uint64_t)i);
		memcpy(out + 8 * i, &h, 8);
	}
	return 0;
}

static int t_hash(void *ctx, const void *data, size_t size, uint8_t out[32])
{
	static const uint8_t zero[32];

	return t_kdf(ctx, zero, "hash", data, size, out);
}

static uint64_t t_rng = 42;

static int t_random(void *ctx, void *buf, size_t size)
{
	(void)ctx;
	for (size_t i = 0; i < size; i++)
		((uint8_t *)buf)[i] = (uint8_t)mix(__atomic_add_fetch(&t_rng, 1, __ATOMIC_RELAXED));
	return 0;
}

static const struct ward_vol_crypto test_crypto = {NULL, t_seal, t_open, t_kdf, t_hash, t_random};

/* ---- in-memory registry + audit capture ------------------------------------ */

struct memreg {
	struct ward_vol_registry reg;
	bool have;
	uint64_t version;
	uint8_t root[32];
	struct memio *io; /* puts fail once this "process" is dead */
};

static int r_get(void *ctx, const uint8_t id[16], uint64_t *v, uint8_t root[32],
		 struct ward_err *err)
{
	struct memreg *r = ctx;

	(void)id;
	if (!r->have)
		return ward_err_set(err, -WARD_E_NOT_FOUND, "not registered");
	*v = r->version;
	memcpy(root, r->root, 32);
	return 0;
}

static int r_put(void *ctx, const uint8_t id[16], uint64_t v, const uint8_t root[32],
		 struct ward_err *err)
{
	struct memreg *r = ctx;

	(void)id;
	if (r->io && r->io->dead)
		return ward_err_set(err, -EIO, "registry unreachable (process dead)");
	r->have = true;
	memcpy(r->root, root, 32);
	__atomic_store_n(&r->version, v, __ATOMIC_RELEASE); /* polled by a test */
	return 0;
}

static char g_audit_events[4096];

static void audit_capture(void *ctx, const char *event, const char *detail)
{
	(void)ctx;
	(void)detail;
	size_t n = strlen(g_audit_events);

	snprintf(g_audit_events + n, sizeof(g_audit_events) - n, "%s;", event);
}

static const uint8_t key1[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
static const uint8_t key2[32] = {9, 9, 9};

struct env {
	struct memio *m;
	struct memreg reg;
	struct ward_vol_opts opts;
	const struct ward_vol_crypto *cr;
};

static void env_init(struct env *e, const struct ward_vol_crypto *cr, uint32_t bs)
{
	memset(e, 0, sizeof(*e));
	e->m = memio_new();
	e->cr = cr;
	e->reg.reg = (struct ward_vol_registry){&e->reg, r_get, r_put};
	e->reg.io = e->m;
	e->opts.io = &e->m->io;
	e->opts.crypto = cr;
	e->opts.registry = &e->reg.reg;
	e->opts.audit = audit_capture;
	g_audit_events[0] = 0;
	struct ward_err err = WARD_ERR_INIT;

	if (ward_vol_create(&e->m->io, cr, &e->reg.reg, key1, bs, NULL, &err) < 0) {
		fprintf(stderr, "create: %s\n", err.msg);
		abort();
	}
}

static struct ward_vol *env_open(struct env *e)
{
	struct ward_err err = WARD_ERR_INIT;
	struct ward_vol *v = NULL;

	if (ward_vol_open(&e->opts, key1, &v, &err) < 0) {
		fprintf(stderr, "open: %s\n", err.msg);
		return NULL;
	}
	return v;
}

static uint64_t mkfile(struct ward_vol *v, uint64_t dir, const char *name, const void *data,
		       size_t size)
{
	struct ward_vol_stat st;

	if (ward_vol_create_file(v, dir, name, S_IFREG | 0644, 0, 0, &st) < 0)
		return 0;
	if (size && ward_vol_write(v, st.ino, data, size, 0) != (ssize_t)size)
		return 0;
	return st.ino;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245 + 12345;
		p[i] = (uint8_t)(seed >> 16);
	}
}

/* ---- basic behaviour ------------------------------------------------------- */

static void basic_roundtrip(bool *ward_test_failed_, const struct ward_vol_crypto *cr)
{
	struct env e;
	struct ward_err err = WARD_ERR_INIT;
	static uint8_t data[100000], back[100000];
	uint64_t ino, dir;
	struct ward_vol_stat st;
	struct ward_vol_check_result res;

	env_init(&e, cr, 4096);
	struct ward_vol *v = env_open(&e);

	CHECK(v);
	fill(data, sizeof(data), 1);
	CHECK_OK(ward_vol_mkdir(v, 1, "dir", 0755, 0, 0, &st), NULL);
	dir = st.ino;
	ino = mkfile(v, dir, "file", data, sizeof(data));
	CHECK(ino);
	CHECK_INT(ward_vol_read(v, ino, back, sizeof(back), 0), ==, sizeof(data));
	CHECK_MEM(back, data, sizeof(data));
	CHECK_OK(ward_vol_close(v, &err), &err);

	v = env_open(&e);
	CHECK(v);
	CHECK_OK(ward_vol_resolve(v, "dir/file", &ino), NULL);
	memset(back, 0, sizeof(back));
	CHECK_INT(ward_vol_read(v, ino, back, sizeof(back), 0), ==, sizeof(data));
	CHECK_MEM(back, data, sizeof(data));
	/* Partial reads across block boundaries. */
	CHECK_INT(ward_vol_read(v, ino, back, 5000, 4090), ==, 5000);
	CHECK_MEM(back, data + 4090, 5000);
	CHECK_INT(ward_vol_read(v, ino, back, 5000, sizeof(data) - 10), ==, 10);
	CHECK_INT(ward_vol_read(v, ino, back, 5000, sizeof(data) + 10), ==, 0);
	ward_vol_free(v);
	CHECK_OK(ward_vol_check(&e.opts, key1, &res, &err), &err);
	CHECK_INT(res.files, ==, 1);
	CHECK_INT(res.dirs, ==, 2);
	CHECK_INT(res.bytes, ==, sizeof(data));
	CHECK_INT(res.version, ==, e.reg.version);
	memio_free(e.m);
}

WARD_TEST(roundtrip_test_cipher)
{
	basic_roundtrip(ward_test_failed_, &test_crypto);
}

WARD_TEST(roundtrip_real_crypto)
{
	basic_roundtrip(ward_test_failed_, ward_vol_crypto_default());
}

WARD_TEST(real_crypto_ciphertext_hides_plaintext)
{
	struct env e;
	struct ward_err err = WARD_ERR_INIT;
	uint8_t data[8192];

	memset(data, 'A', sizeof(data));
	env_init(&e, ward_vol_crypto_default(), 4096);
	struct ward_vol *v = env_open(&e);

	CHECK(v);
	CHECK(mkfile(v, 1, "secret-name.txt", data, sizeof(data)));
	CHECK_OK(ward_vol_close(v, &err), &err);
	for (size_t i = 0; i < e.m->nnames; i++) {
		struct mfile *f = e.m->names[i].f;

		CHECK(!memmem(f->data, f->size, "AAAAAAAA", 8));
		CHECK(!memmem(f->data, f->size, "secret-name", 11));
		CHECK(!strstr(e.m->names[i].name, "secret"));
	}
	/* Blob sizes are whole records: the size leaks only to block granularity. */
	CHECK_INT(memio_file(e.m, memio_blob(e.m, 0, '0'))->size, ==, 2 * (4096 + 28));
	memio_free(e.m);
}

WARD_TEST(wrong_key_and_tampered_header)
{
	struct env e;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_vol *v = NULL;

	env_init(&e, &test_crypto, 4096);
	CHECK_ERR(ward_vol_open(&e.opts, key2, &v, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "wrong key");
	/* Invalid block sizes in the header. */
	struct mfile *h = memio_file(e.m, WARD_VOL_HEADER_NAME);

	h->data[13] ^= 0x20; /* 4096 -> 4096 | 8192 (not a power of two) */
	CHECK_ERR(ward_vol_open(&e.opts, key1, &v, &err), -WARD_E_MALFORMED);
	h->data[13] ^= 0x20;
	h->data[14] ^= 0x01; /* 4096 + 65536: not a power of two either */
	CHECK_ERR(ward_vol_open(&e.opts, key1, &v, &err), -WARD_E_MALFORMED);
	h->data[14] ^= 0x01;
	/* Flip the metadata ciphertext. */
	struct mfile *m = memio_file(e.m, WARD_VOL_META_NAME);

	m->data[WARD_VOL_META_HEADER_SIZE + 3] ^= 1;
	CHECK_ERR(ward_vol_open(&e.opts, key1, &v, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "authentication");
	m->data[WARD_VOL_META_HEADER_SIZE + 3] ^= 1;
	/* Flip the (authenticated) version in the metadata header. */
	m->data[32] ^= 2;
	CHECK_ERR(ward_vol_open(&e.opts, key1, &v, &err), -WARD_E_VERIFY);
	m->data[32] ^= 2;
	/* Another valid block size in the header: the metadata binds it. */
	h->data[13] ^= 0x30;
	CHECK_ERR(ward_vol_open(&e.opts, key1, &v, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "another volume");
	h->data[13] ^= 0x30;
	v = env_open(&e);
	CHECK(v);
	ward_vol_free(v);
	memio_free(e.m);
}

WARD_TEST(create_refuses_existing_and_bad_block_size)
{
	struct env e;
	struct ward_err err = WARD_ERR_INIT;

	env_init(&e, &test_crypto, 4096);
	CHECK_ERR(ward_vol_create(&e.m->io, &test_crypto, NULL, key1, 4096, NULL, &err), -EEXIST);
	struct memio *m2 = memio_new();

	CHECK_ERR(ward_vol_create(&m2->io, &test_crypto, NULL, key1, 3000, NULL, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_vol_create(&m2->io, &test_crypto, NULL, key1, 2048, NULL, &err),
		  -WARD_E_USAGE);
	CHECK_ERR(ward_vol_create(&m2->io, &test_crypto, NULL, key1, 1u << 21, NULL, &err),
		  -WARD_E_USAGE);
	CHECK_OK(ward_vol_create(&m2->io, &test_crypto, NULL, key1, 1u << 20, NULL, &err), &err);
	memio_free(m2);
	memio_free(e.m);
}

WARD_TEST(posix_semantics)
{
	struct env e;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_vol_stat st, st2;
	uint8_t buf[20000], back[20000];
	uint64_t a, b, d1, d2, x;
	char target[64];

	env_init(&e, &test_crypto, 4096);
	struct ward_vol *v = env_open(&e);

	CHECK(v);
	fill(buf, sizeof(buf), 7);
	a = mkfile(v, 1, "a", buf, 10000);
	b = mkfile(v, 1, "b", "bbb", 3);
	CHECK(a && b);
	CHECK_ERR(ward_vol_create_file(v, 1, "a", S_IFREG | 0644, 0, 0, &st), -EEXIST);
	CHECK_ERR(ward_vol_create_file(v, 1, "x/y", S_IFREG | 0644, 0, 0, &st), -EINVAL);
	CHECK_ERR(ward_vol_create_file(v, 1, "..", S_IFREG | 0644, 0, 0, &st), -EINVAL);
	CHECK_ERR(ward_vol_create_file(v, 1, "fifo", S_IFIFO | 0644, 0, 0, &st), -EPERM);
	CHECK_ERR(ward_vol_create_file(v, 99, "z", S_IFREG | 0644, 0, 0, &st), -ENOENT);
	CHECK_ERR(ward_vol_create_file(v, a, "z", S_IFREG | 0644, 0, 0, &st), -ENOTDIR);
	/* Append. */
	CHECK_INT(ward_vol_write(v, a, buf + 10000, 5000, 10000), ==, 5000);
	CHECK_INT(ward_vol_read(v, a, back, sizeof(back), 0), ==, 15000);
	CHECK_MEM(back, buf, 15000);
	/* Shrink to a non-block boundary, then grow: the tail reads as zeros. */
	struct ward_vol_setattr sa = {.mask = WARD_VOL_SET_SIZE, .size = 5000};

	CHECK_OK(ward_vol_setattr(v, a, &sa, &st), NULL);
	CHECK_INT(st.size, ==, 5000);
	sa.size = 12000;
	CHECK_OK(ward_vol_setattr(v, a, &sa, &st), NULL);
	CHECK_INT(ward_vol_read(v, a, back, sizeof(back), 0), ==, 12000);
	CHECK_MEM(back, buf, 5000);
	for (int i = 5000; i < 12000; i++)
		CHECK_INT(back[i], ==, 0);
	/* Write far past the end leaves a hole. */
	CHECK_INT(ward_vol_write(v, b, "Z", 1, 100000), ==, 1);
	CHECK_INT(ward_vol_read(v, b, back, 10, 50000), ==, 10);
	CHECK_INT(back[0] | back[9], ==, 0);
	CHECK_OK(ward_vol_getattr(v, b, &st), NULL);
	CHECK_INT(st.size, ==, 100001);
	CHECK_INT(st.blocks, <, 100001 / 512);
	/* chmod / chown. */
	sa = (struct ward_vol_setattr){.mask = WARD_VOL_SET_MODE | WARD_VOL_SET_UID, .mode = 0600,
				       .uid = 1000};
	CHECK_OK(ward_vol_setattr(v, a, &sa, &st), NULL);
	CHECK_INT(st.mode, ==, S_IFREG | 0600);
	CHECK_INT(st.uid, ==, 1000);
	sa = (struct ward_vol_setattr){.mask = WARD_VOL_SET_SIZE, .size = 1};
	CHECK_OK(ward_vol_mkdir(v, 1, "d1", 0755, 0, 0, &st), NULL);
	d1 = st.ino;
	CHECK_ERR(ward_vol_setattr(v, d1, &sa, &st), -EISDIR);
	CHECK_OK(ward_vol_mkdir(v, d1, "d2", 0700, 0, 0, &st), NULL);
	d2 = st.ino;
	CHECK_OK(ward_vol_getattr(v, d1, &st), NULL);
	CHECK_INT(st.nlink, ==, 3);
	/* Rename over an existing file; the old target goes away. */
	CHECK_OK(ward_vol_rename(v, 1, "b", 1, "a", 0), NULL);
	CHECK_ERR(ward_vol_lookup(v, 1, "b", &st), -ENOENT);
	CHECK_OK(ward_vol_lookup(v, 1, "a", &st), NULL);
	CHECK_INT(st.ino, ==, b);
	CHECK_ERR(ward_vol_getattr(v, a, &st), -ENOENT);
	/* RENAME_NOREPLACE, directory into itself, dir over file. */
	x = mkfile(v, 1, "x", "x", 1);
	CHECK(x);
	CHECK_ERR(ward_vol_rename(v, 1, "x", 1, "a", 1), -EEXIST);
	CHECK_ERR(ward_vol_rename(v, 1, "d1", d2, "loop", 0), -EINVAL);
	CHECK_ERR(ward_vol_rename(v, 1, "d1", 1, "x", 0), -ENOTDIR);
	CHECK_ERR(ward_vol_rename(v, 1, "x", 1, "d1", 0), -EISDIR);
	CHECK_ERR(ward_vol_rename(v, 1, "x", 1, "x", 2), -EINVAL);
	/* Move a directory across parents. */
	CHECK_OK(ward_vol_rename(v, d1, "d2", 1, "d2moved", 0), NULL);
	CHECK_OK(ward_vol_getattr(v, d1, &st), NULL);
	CHECK_INT(st.nlink, ==, 2);
	uint64_t par;

	CHECK_OK(ward_vol_parent(v, d2, &par), NULL);
	CHECK_INT(par, ==, 1);
	/* rmdir. */
	CHECK_OK(ward_vol_rename(v, 1, "x", d1, "inner", 0), NULL);
	CHECK_ERR(ward_vol_rmdir(v, 1, "d1"), -ENOTEMPTY);
	CHECK_ERR(ward_vol_rmdir(v, 1, "a"), -ENOTDIR);
	CHECK_ERR(ward_vol_unlink(v, 1, "d1"), -EISDIR);
	CHECK_OK(ward_vol_unlink(v, d1, "inner"), NULL);
	CHECK_OK(ward_vol_rmdir(v, 1, "d1"), NULL);
	/* Hard links. */
	CHECK_OK(ward_vol_link(v, b, 1, "b2", &st), NULL);
	CHECK_INT(st.nlink, ==, 2);
	CHECK_ERR(ward_vol_link(v, d2, 1, "dl", &st), -EPERM);
	CHECK_OK(ward_vol_unlink(v, 1, "a"), NULL);
	CHECK_OK(ward_vol_lookup(v, 1, "b2", &st), NULL);
	CHECK_INT(st.nlink, ==, 1);
	CHECK_INT(st.size, ==, 100001);
	/* Symlinks. */
	CHECK_OK(ward_vol_symlink(v, 1, "ln", "b2/../target", 0, 0, &st), NULL);
	CHECK_INT(ward_vol_readlink(v, st.ino, target, sizeof(target)), ==, 12);
	CHECK_STR(target, "b2/../target");
	CHECK_ERR(ward_vol_readlink(v, b, target, sizeof(target)), -EINVAL);
	CHECK_ERR(ward_vol_readlink(v, st.ino, target, 4), -ENAMETOOLONG);
	/* Unlinked while open: still readable until released. */
	CHECK_OK(ward_vol_open_ino(v, b), NULL);
	CHECK_OK(ward_vol_unlink(v, 1, "b2"), NULL);
	CHECK_INT(ward_vol_read(v, b, back, 1, 100000), ==, 1);
	CHECK_INT(back[0], ==, 'Z');
	CHECK_OK(ward_vol_commit(v, &err), &err);
	CHECK_INT(ward_vol_read(v, b, back, 1, 100000), ==, 1);
	ward_vol_release_ino(v, b);
	CHECK_ERR(ward_vol_getattr(v, b, &st), -ENOENT);
	CHECK_OK(ward_vol_close(v, &err), &err);
	/* Everything survives a reopen; deleted data files are gone. */
	v = env_open(&e);
	CHECK(v);
	CHECK_OK(ward_vol_lookup(v, 1, "ln", &st), NULL);
	CHECK_OK(ward_vol_lookup(v, 1, "d2moved", &st2), NULL);
	CHECK_INT(st2.mode, ==, S_IFDIR | 0700);
	CHECK_ERR(ward_vol_lookup(v, 1, "b2", &st), -ENOENT);
	CHECK_OK(ward_vol_close(v, &err), &err);
	CHECK_OK(ward_vol_check(&e.opts, key1, NULL, &err), &err);
	CHECK(memio_blob(e.m, 0, '0') == NULL); /* every file was deleted */
	memio_free(e.m);
}

/* Random reads, writes and truncates cross-checked against a plain buffer,
 * with commits and reopens in between (the engine-level fsx). */
WARD_TEST(fsx_against_model)
{
	struct env e;
	struct ward_err err = WARD_ERR_INIT;
	enum { MAXSZ = 300000 };
	static uint8_t model[MAXSZ], buf[MAXSZ], back[MAXSZ];
	size_t msize = 0;
	uint32_t seed = 99;
	uint64_t ino;

	env_init(&e, &test_crypto, 4096);
	struct ward_vol *v = env_open(&e);

	CHECK(v);
	ino = mkfile(v, 1, "f", NULL, 0);
	CHECK(ino);
	for (int op = 0; op < 600; op++) {
		seed = seed * 1664525 + 1013904223;
		unsigned kind = (seed >> 24) % 10;
		size_t off = (seed >> 4) % (MAXSZ - 1), len;

		seed = seed * 1664525 + 1013904223;
		len = 1 + (seed >> 8) % (kind < 2 ? 3 * 4096 : 64);
		if (off + len > MAXSZ)
			len = MAXSZ - off;
		if (kind < 5) { /* write */
			fill(buf, len, seed);
			CHECK_INT(ward_vol_write(v, ino, buf, len, off), ==, len);
			memcpy(model + off, buf, len);
			if (off > msize)
				memset(model + msize, 0, off - msize);
			if (off + len > msize)
				msize = off + len;
		} else if (kind < 7) { /* truncate */
			size_t ns = off % (msize + 5000 + 1);
			struct ward_vol_setattr sa = {.mask = WARD_VOL_SET_SIZE, .size = ns};

			CHECK_OK(ward_vol_setattr(v, ino, &sa, NULL), NULL);
			if (ns > msize)
				memset(model + msize, 0, ns - msize);
			msize = ns;
		} else if (kind == 7) { /* commit */
			CHECK_OK(ward_vol_commit(v, &err), &err);
		} else if (kind == 8 && op % 7 == 0) { /* reopen */
			CHECK_OK(ward_vol_close(v, &err), &err);
			v = env_open(&e);
			CHECK(v);
		} else { /* read */
			ssize_t n = ward_vol_read(v, ino, back, len, off);
			size_t want = off >= msize ? 0 : WARD_MIN(len, msize - off);

			CHECK_INT(n, ==, want);
			CHECK_MEM(back, model + off, want);
		}
	}
	CHECK_INT(ward_vol_read(v, ino, back, MAXSZ, 0), ==, msize);
	CHECK_MEM(back, model, msize);
	CHECK_OK(ward_vol_close(v, &err), &err);
	CHECK_OK(ward_vol_check(&e.opts, key1, NULL, &err), &err);
	memio_free(e.m);
}


/* Threads writing disjoint ranges of one file and whole other files,
 * readers checking what they see, and commits in between: exercises the
 * range locks, inode pinning and the commit lock. Each writer owns a
 * 64 KiB region (16 blocks) of the shared file and one private file. */
struct mt_ctx {
	struct ward_vol *v;
	uint64_t shared, own;
	int id;
	bool fail;
};

static void *mt_writer(void *arg)
{
	struct mt_ctx *c = arg;
	uint8_t buf[20000], back[20000];

	for (int i = 0; i < 60 && !c->fail; i++) {
		size_t len = 1 + (size_t)(i * 7919 % 16000);
		uint64_t off = (uint64_t)c->id * 65536 + (uint64_t)(i * 104729 % (65536 - 16001));

		memset(buf, c->id * 16 + i % 16, len);
		if (ward_vol_write(c->v, c->shared, buf, len, off) != (ssize_t)len ||
		    ward_vol_read(c->v, c->shared, back, len, off) != (ssize_t)len ||
		    memcmp(buf, back, len) != 0)
			c->fail = true;
		if (ward_vol_write(c->v, c->own, buf, len, 0) != (ssize_t)len ||
		    ward_vol_read(c->v, c->own, back, len, 0) != (ssize_t)len ||
		    memcmp(buf, back, len) != 0)
			c->fail = true;
	}
	return NULL;
}

static void *mt_committer(void *arg)
{
	struct mt_ctx *c = arg;
	struct ward_err err = WARD_ERR_INIT;

	for (int i = 0; i < 20; i++)
		if (ward_vol_commit(c->v, &err) < 0)
			c->fail = true;
	return NULL;
}

WARD_TEST(threads_write_read_commit)
{
	struct env e;
	struct ward_err err = WARD_ERR_INIT;
	struct mt_ctx ctx[5];
	pthread_t th[5];
	uint64_t shared;
	char name[16];

	env_init(&e, &test_crypto, 4096);
	struct ward_vol *v = env_open(&e);

	CHECK(v);
	shared = mkfile(v, 1, "shared", NULL, 0);
	CHECK(shared);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "own%d", i);
		ctx[i] = (struct mt_ctx){.v = v, .shared = shared, .own = mkfile(v, 1, name, NULL, 0),
					 .id = i};
		CHECK(ctx[i].own);
	}
	for (int i = 0; i < 5; i++)
		CHECK_INT(pthread_create(&th[i], NULL, i == 4 ? mt_committer : mt_writer, &ctx[i]),
			  ==, 0);
	for (int i = 0; i < 5; i++) {
		pthread_join(th[i], NULL);
		CHECK(!ctx[i].fail);
	}
	CHECK_OK(ward_vol_close(v, &err), &err);
	CHECK_OK(ward_vol_check(&e.opts, key1, NULL, &err), &err);
	memio_free(e.m);
}

/* ---- attacks on the backing store ----------------------------------------- */

static int read_all_files(struct ward_vol *v)
{
	static uint8_t back[200000];
	uint64_t ino;
	int bad = 0;
	const char *names[] = {"one", "two", "dir/three"};

	for (size_t i = 0; i < 3; i++) {
		if (ward_vol_resolve(v, names[i], &ino) < 0)
			return -ENOENT;
		if (ward_vol_read(v, ino, back, sizeof(back), 0) < 0)
			bad++;
	}
	return bad;
}

static void attack_setup(struct env *e)
{
	static uint8_t data[50000];
	struct ward_err err = WARD_ERR_INIT;
	struct ward_vol_stat st;

	env_init(e, &test_crypto, 4096);
	struct ward_vol *v = env_open(e);

	fill(data, sizeof(data), 5);
	mkfile(v, 1, "one", data, 20000);
	mkfile(v, 1, "two", data + 1, 30000);
	ward_vol_mkdir(v, 1, "dir", 0755, 0, 0, &st);
	mkfile(v, st.ino, "three", data + 2, 5000);
	if (ward_vol_close(v, &err) < 0)
		abort();
	g_audit_events[0] = 0;
}

static int check_result(struct env *e, struct ward_err *err)
{
	return ward_vol_check(&e->opts, key1, NULL, err);
}

WARD_TEST(attack_flip_byte)
{
	struct env e;
	struct ward_err err = WARD_ERR_INIT;

	attack_setup(&e);
	struct mfile *f = memio_file(e.m, memio_blob(e.m, 0, '0'));

	f->data[4096 + 28 + 100] ^= 0x40; /* in block 1's ciphertext */
	struct ward_vol *v = env_open(&e);

	CHECK(v);
	CHECK_INT(read_all_files(v), ==, 1);
	CHECK(strstr(g_audit_events, "integrity;"));
	ward_vol_free(v);
	CHECK_ERR(check_result(&e, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "block");
	/* The stored tag itself. */
	f->data[4096 + 28 + 100] ^= 0x40;
	CHECK_OK(check_result(&e, &err), &err);
	f->data[4096 + 28 + 4096 + 20] ^= 1;
	CHECK_ERR(check_result(&e, &err), -WARD_E_VERIFY);
	memio_free(e.m);
}

WARD_TEST(attack_swap_blobs)
{
	struct env e;
	struct ward_err err = WARD_ERR_INIT;
	char a[64], b[64];

	attack_setup(&e);
	snprintf(a, sizeof(a), "%s", memio_blob(e.m, 0, '0'));
	snprintf(b, sizeof(b), "%s", memio_blob(e.m, 1, '0'));
	struct mname *na = mem_find(e.m, a), *nb = mem_find(e.m, b);
	CHECK(na && nb);
	struct mfile *t = na->f;

	na->f = nb->f;
	nb->f = t;
	struct ward_vol *v = env_open(&e);

	CHECK(v);
	CHECK_INT(read_all_files(v), >=, 2);
	CHECK(strstr(g_audit_events, "integrity;"));
	ward_vol_free(v);
	CHECK_ERR(check_result(&e, &err), -WARD_E_VERIFY);
	memio_free(e.m);
}

WARD_TEST(attack_replay_one_file)
{
	struct env e;
	struct ward_err err = WARD_ERR_INIT;
	uint8_t newdata[20000];
	uint64_t ino;

	attack_setup(&e);
	struct ward_vol *v = env_open(&e);

	/* Two rewrites: each lands in the slot the last commit did not use,
	 * so both slot files hold a complete, authentic older copy. */
	CHECK(v);
	memset(newdata, 'n', sizeof(newdata));
	CHECK_OK(ward_vol_resolve(v, "one", &ino), NULL);
	CHECK_INT(ward_vol_write(v, ino, newdata, sizeof(newdata), 0), ==, sizeof(newdata));
	CHECK_OK(ward_vol_commit(v, &err), &err);
	struct memsnap *old = memio_snap(e.m);

	memset(newdata, 'm', sizeof(newdata));
	CHECK_INT(ward_vol_write(v, ino, newdata, sizeof(newdata), 0), ==, sizeof(newdata));
	CHECK_OK(ward_vol_close(v, &err), &err);
	/* Put back the old copies of every data file (both slots). */
	for (size_t i = 0; i < old->n; i++) {
		struct mname *n = mem_find(e.m, old->names[i]);

		if (strlen(old->names[i]) != 34 || !n)
			continue;
		mfile_resize(n->f, old->size[i]);
		memcpy(n->f->data, old->data[i], old->size[i]);
	}
	v = env_open(&e);
	CHECK(v);
	CHECK_INT(read_all_files(v), ==, 1);
	ward_vol_free(v);
	CHECK_ERR(check_result(&e, &err), -WARD_E_VERIFY);
	memsnap_free(old);
	memio_free(e.m);
}

WARD_TEST(attack_rollback_whole_volume)
{
	struct env e;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_vol *v = NULL;
	uint64_t ino;

	attack_setup(&e);
	struct memsnap *old = memio_snap(e.m);
	uint64_t old_version = e.reg.version;

	v = env_open(&e);
	CHECK_OK(ward_vol_resolve(v, "one", &ino), NULL);
	CHECK_INT(ward_vol_write(v, ino, "new", 3, 0), ==, 3);
	CHECK_OK(ward_vol_close(v, &err), &err);
	CHECK_INT(e.reg.version, ==, old_version + 1);
	memio_restore(e.m, old);
	CHECK_ERR(ward_vol_open(&e.opts, key1, &v, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "rollback detected");
	CHECK(strstr(g_audit_events, "rollback;"));
	CHECK_ERR(check_result(&e, &err), -WARD_E_POLICY);
	/* Without a registry there is nothing to compare with. */
	struct ward_vol_opts o = e.opts;

	o.registry = NULL;
	CHECK_OK(ward_vol_check(&o, key1, NULL, &err), &err);
	/* Same version, different root: also refused. */
	e.reg.version = old_version;
	e.reg.root[0] ^= 1;
	CHECK_ERR(ward_vol_open(&e.opts, key1, &v, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "root hash");
	e.reg.root[0] ^= 1;
	e.reg.version = old_version + 1;
	/* An explicit, audited acceptance continues above the registered version. */
	e.opts.accept_rollback_insecure = true;
	v = env_open(&e);
	CHECK(v);
	CHECK(strstr(g_audit_events, "rollback-accepted;"));
	CHECK_INT(e.reg.version, ==, old_version + 2);
	ward_vol_free(v);
	e.opts.accept_rollback_insecure = false;
	v = env_open(&e);
	CHECK(v);
	ward_vol_free(v);
	memsnap_free(old);
	memio_free(e.m);
}

WARD_TEST(attack_replay_old_metadata_only)
{
	struct env e;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_vol *v = NULL;

	attack_setup(&e);
	struct mfile *m = memio_file(e.m, WARD_VOL_META_NAME);
	size_t size = m->size;
	uint8_t *copy = malloc(size);

	if (!copy)
		abort();

	memcpy(copy, m->data, size);
	v = env_open(&e);
	CHECK_OK(ward_vol_unlink(v, 1, "two"), NULL);
	CHECK_OK(ward_vol_close(v, &err), &err);
	m = memio_file(e.m, WARD_VOL_META_NAME);
	mfile_resize(m, size);
	memcpy(m->data, copy, size);
	free(copy);
	CHECK_ERR(ward_vol_open(&e.opts, key1, &v, &err), -WARD_E_POLICY);
	memio_free(e.m);
}

WARD_TEST(attack_delete_blob)
{
	struct env e;
	struct ward_err err = WARD_ERR_INIT;

	attack_setup(&e);
	CHECK_OK(e.m->io.unlink(e.m, memio_blob(e.m, 1, '0')), NULL);
	struct ward_vol *v = env_open(&e);

	CHECK(v);
	CHECK_INT(read_all_files(v), ==, 1);
	CHECK(strstr(g_audit_events, "integrity;"));
	ward_vol_free(v);
	CHECK_ERR(check_result(&e, &err), -WARD_E_VERIFY);
	memio_free(e.m);
}

WARD_TEST(attack_truncate_blob)
{
	struct env e;
	struct ward_err err = WARD_ERR_INIT;

	attack_setup(&e);
	struct mfile *f = memio_file(e.m, memio_blob(e.m, 0, '0'));

	CHECK_INT(f->size, >, 4124);
	mfile_resize(f, f->size - 4124);
	struct ward_vol *v = env_open(&e);

	CHECK(v);
	CHECK_INT(read_all_files(v), ==, 1);
	ward_vol_free(v);
	CHECK_ERR(check_result(&e, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "fail verification");
	memio_free(e.m);
}

WARD_TEST(attack_foreign_file)
{
	struct env e;
	struct ward_err err = WARD_ERR_INIT;
	int h;

	attack_setup(&e);
	h = e.m->io.open(e.m, "evil.txt", WARD_VOL_IO_CREATE);
	CHECK_INT(h, >=, 0);
	CHECK_OK(e.m->io.pwrite(e.m, h, "x", 1, 0), NULL);
	e.m->io.close(e.m, h);
	CHECK_ERR(check_result(&e, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "evil.txt");
	struct ward_vol *v = env_open(&e);

	CHECK(v);
	CHECK(strstr(g_audit_events, "foreign-file;"));
	CHECK_INT(read_all_files(v), ==, 0);
	ward_vol_free(v);
	/* A file named like a data file is removed at mount, with a record. */
	e.m->io.unlink(e.m, "evil.txt");
	h = e.m->io.open(e.m, "0123456789abcdef0123456789abcdef.1", WARD_VOL_IO_CREATE);
	e.m->io.close(e.m, h);
	CHECK_ERR(check_result(&e, &err), -WARD_E_VERIFY);
	g_audit_events[0] = 0;
	v = env_open(&e);
	CHECK(v);
	CHECK(strstr(g_audit_events, "unreferenced-file;"));
	ward_vol_free(v);
	CHECK_OK(check_result(&e, &err), &err);
	memio_free(e.m);
}

WARD_TEST(attack_duplicate_blob_over_other)
{
	struct env e;
	struct ward_err err = WARD_ERR_INIT;

	attack_setup(&e);
	/* Copy file one's data over file two's: bound to the file id, rejected. */
	struct mfile *a = memio_file(e.m, memio_blob(e.m, 0, '0'));
	struct mfile *b = memio_file(e.m, memio_blob(e.m, 1, '0'));

	CHECK(a && b);
	mfile_resize(b, a->size);
	memcpy(b->data, a->data, a->size);
	CHECK_ERR(check_result(&e, &err), -WARD_E_VERIFY);
	memio_free(e.m);
}

/* ---- crash consistency: cut the I/O sequence at every op ------------------ */

static uint64_t h64(const void *p, size_t n)
{
	return absorb(17, p, n);
}

struct dumpctx {
	struct ward_vol *v;
	char *out;
	size_t size, used;
	const char *prefix;
};

static void dump_dir(struct ward_vol *v, uint64_t dir, const char *prefix, char *out, size_t size);

struct dent_list {
	char names[64][64];
	uint64_t inos[64];
	int n;
};

static int collect(void *ctx, const char *name, uint64_t ino, uint32_t mode, uint64_t next)
{
	struct dent_list *l = ctx;

	(void)mode;
	(void)next;
	if (l->n < 64) {
		snprintf(l->names[l->n], 64, "%s", name);
		l->inos[l->n++] = ino;
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void dump_dir(struct ward_vol *v, uint64_t dir, const char *prefix, char *out, size_t size)
{
	struct dent_list l = {.n = 0};
	static uint8_t buf[400000];

	ward_vol_readdir(v, dir, 0, collect, &l);
	/* Sort by name (inode numbers follow their names). */
	for (int i = 0; i < l.n; i++)
		for (int j = i + 1; j < l.n; j++)
			if (name_cmp(l.names[i], l.names[j]) > 0) {
				char t[64];
				uint64_t ti = l.inos[i];

				memcpy(t, l.names[i], 64);
				memcpy(l.names[i], l.names[j], 64);
				memcpy(l.names[j], t, 64);
				l.inos[i] = l.inos[j];
				l.inos[j] = ti;
			}
	for (int i = 0; i < l.n; i++) {
		struct ward_vol_stat st;
		char path[256];
		size_t u = strlen(out);

		snprintf(path, sizeof(path), "%s/%s", prefix, l.names[i]);
		ward_vol_getattr(v, l.inos[i], &st);
		if (S_ISDIR(st.mode)) {
			snprintf(out + u, size - u, "%s d\n", path);
			dump_dir(v, l.inos[i], path, out, size);
		} else if (S_ISLNK(st.mode)) {
			char t[256];

			ward_vol_readlink(v, l.inos[i], t, sizeof(t));
			snprintf(out + u, size - u, "%s l %s\n", path, t);
		} else {
			ssize_t n = ward_vol_read(v, l.inos[i], buf, sizeof(buf), 0);

			snprintf(out + u, size - u, "%s f %lld %llx n%u\n", path, (long long)n,
				 n >= 0 ? (unsigned long long)h64(buf, (size_t)n) : 0ull, st.nlink);
		}
	}
}

#define MAX_VERSIONS 64

struct snapshots {
	char *dump[MAX_VERSIONS];
};

static void snapshot(struct ward_vol *v, struct snapshots *s)
{
	uint64_t version;
	char *out = calloc(1, 16384);

	ward_vol_state(v, NULL, &version, NULL);
	dump_dir(v, 1, "", out, 16384);
	if (version < MAX_VERSIONS) {
		free(s->dump[version]);
		s->dump[version] = out;
	} else {
		free(out);
	}
}

/* The state a commit is about to write, recorded under the version it
 * will get (the commit may reach the disk even if the process dies
 * before it returns). */
static void snapshot_next(struct ward_vol *v, struct snapshots *s)
{
	uint64_t version;
	char *out = calloc(1, 16384);

	ward_vol_state(v, NULL, &version, NULL);
	dump_dir(v, 1, "", out, 16384);
	if (version + 1 < MAX_VERSIONS) {
		free(s->dump[version + 1]);
		s->dump[version + 1] = out;
	} else {
		free(out);
	}
}

/* A workload touching every kind of change, committing in between. Returns
 * false once an op fails (the process "died"). */
static bool workload(struct ward_vol *v, struct snapshots *s)
{
	static uint8_t data[70000];
	struct ward_err err = WARD_ERR_INIT;
	struct ward_vol_stat st;
	struct ward_vol_setattr sa = {.mask = WARD_VOL_SET_SIZE};
	uint64_t a, b, d;

	fill(data, sizeof(data), 3);
#define STEP(x)                                                                                    \
	do {                                                                                       \
		if ((x) < 0)                                                                       \
			return false;                                                      \
	} while (0)
#define COMMIT()                                                                                   \
	do {                                                                                       \
		snapshot_next(v, s);                                                               \
		if (ward_vol_commit(v, &err) < 0)                                                  \
			return false;                                                      \
	} while (0)
	STEP(ward_vol_create_file(v, 1, "a", S_IFREG | 0644, 0, 0, &st));
	a = st.ino;
	STEP(ward_vol_write(v, a, data, 30000, 0));
	COMMIT();
	STEP(ward_vol_mkdir(v, 1, "d", 0755, 0, 0, &st));
	d = st.ino;
	STEP(ward_vol_create_file(v, d, "b", S_IFREG | 0600, 0, 0, &st));
	b = st.ino;
	STEP(ward_vol_write(v, b, data + 5, 9000, 0));
	STEP(ward_vol_write(v, a, data + 100, 5000, 2000)); /* overwrite committed blocks */
	for (int i = 0; i < 10; i++) { /* many new files: one syncfs */
		char name[8] = {'m', (char)('0' + i), 0};

		STEP(ward_vol_create_file(v, d, name, S_IFREG | 0644, 0, 0, &st));
		STEP(ward_vol_write(v, st.ino, data + i, 100 + (size_t)i, 0));
	}
	COMMIT();
	STEP(ward_vol_write(v, a, data + 200, 5000, 2100)); /* again: other slot */
	STEP(ward_vol_write(v, a, data + 300, 100, 2100));  /* and again before commit */
	sa.size = 9000;
	STEP(ward_vol_setattr(v, b, &sa, NULL));
	STEP(ward_vol_rename(v, d, "b", 1, "b-moved", 0));
	STEP(ward_vol_symlink(v, 1, "ln", "a", 0, 0, NULL));
	COMMIT();
	sa.size = 1000;
	STEP(ward_vol_setattr(v, a, &sa, NULL));
	STEP(ward_vol_write(v, a, data + 400, 20000, 1500)); /* regrow over committed blocks */
	STEP(ward_vol_link(v, a, d, "a-link", NULL));
	STEP(ward_vol_rename(v, 1, "b-moved", 1, "a", 0)); /* replace a name (a keeps a link) */
	COMMIT();
	STEP(ward_vol_unlink(v, d, "a-link"));
	STEP(ward_vol_create_file(v, 1, "c", S_IFREG | 0644, 0, 0, &st));
	STEP(ward_vol_write(v, st.ino, data, 65000, 3));
	COMMIT();
	STEP(ward_vol_rename(v, 1, "c", d, "c", 0));
	STEP(ward_vol_unlink(v, 1, "ln"));
	COMMIT();
#undef STEP
#undef COMMIT
	return true;
}

static void crash_cut_run(bool *ward_test_failed_, bool power_cut)
{
	int cuts = 0;

	for (long cut = 0;; cut++) {
		struct env e;
		struct snapshots s = {{0}};
		struct ward_err err = WARD_ERR_INIT;
		uint64_t version;
		char *now = calloc(1, 16384);
		bool done;

		env_init(&e, &test_crypto, 4096);
		struct ward_vol *v = env_open(&e);

		CHECK(v);
		snapshot(v, &s);
		e.m->ops_left = cut;
		done = workload(v, &s);
		ward_vol_free(v); /* the process dies: nothing more is written */
		memio_crash(e.m, power_cut);
		v = env_open(&e);
		if (!v)
			WARD_FAIL_("cut at op %ld: volume does not open after the crash", cut);
		ward_vol_state(v, NULL, &version, NULL);
		/* Never older than registered; equal to a committed state. */
		CHECK_INT(version, >=, e.reg.version);
		dump_dir(v, 1, "", now, 16384);
		if (version >= MAX_VERSIONS || !s.dump[version])
			WARD_FAIL_("cut at op %ld: opened unknown version %llu", cut,
				   (unsigned long long)version);
		if (strcmp(now, s.dump[version]) != 0)
			WARD_FAIL_("cut at op %ld: version %llu differs:\n%s---\n%s", cut,
				   (unsigned long long)version, now, s.dump[version]);
		/* Writable again, and the whole volume verifies. */
		CHECK_INT(mkfile(v, 1, "after-crash", "x", 1), >, 0);
		CHECK_OK(ward_vol_close(v, &err), &err);
		CHECK_OK(ward_vol_check(&e.opts, key1, NULL, &err), &err);
		for (int i = 0; i < MAX_VERSIONS; i++)
			free(s.dump[i]);
		free(now);
		memio_free(e.m);
		cuts++;
		if (done)
			break;
	}
	CHECK_INT(cuts, >, 50);
}

WARD_TEST(crash_cut_every_op_process_kill)
{
	crash_cut_run(ward_test_failed_, false);
}

WARD_TEST(crash_cut_every_op_power_cut)
{
	crash_cut_run(ward_test_failed_, true);
}

WARD_TEST(commit_thread_commits_within_interval)
{
	struct env e;
	struct ward_err err = WARD_ERR_INIT;

	env_init(&e, &test_crypto, 4096);
	e.opts.commit_interval_ms = 20;
	struct ward_vol *v = env_open(&e);
	uint64_t before = e.reg.version;

	CHECK(v);
	CHECK(mkfile(v, 1, "f", "data", 4));
	for (int i = 0; i < 200 && __atomic_load_n(&e.reg.version, __ATOMIC_ACQUIRE) == before;
	     i++) {
		struct timespec ts = {0, 5000000};

		nanosleep(&ts, NULL);
	}
	CHECK_INT(__atomic_load_n(&e.reg.version, __ATOMIC_ACQUIRE), ==, before + 1);
	CHECK_OK(ward_vol_close(v, &err), &err);
	memio_free(e.m);
}

/* ---- parsers ------------------------------------------------------------- */

WARD_TEST(header_parse_errors)
{
	struct ward_vol_header h = {.format = 1, .block_size = 4096}, out;
	uint8_t buf[WARD_VOL_HEADER_SIZE + 1];
	struct ward_err err = WARD_ERR_INIT;

	vol_header_encode(&h, buf);
	CHECK_OK(ward_vol_header_parse(buf, WARD_VOL_HEADER_SIZE, &out, &err), &err);
	CHECK_INT(out.block_size, ==, 4096);
	CHECK_ERR(ward_vol_header_parse(buf, WARD_VOL_HEADER_SIZE - 1, &out, &err),
		  -WARD_E_MALFORMED);
	CHECK_ERR(ward_vol_header_parse(buf, WARD_VOL_HEADER_SIZE + 1, &out, &err),
		  -WARD_E_MALFORMED);
	buf[0] = 'X';
	CHECK_ERR(ward_vol_header_parse(buf, WARD_VOL_HEADER_SIZE, &out, &err), -WARD_E_MALFORMED);
	CHECK_MSG(&err, "magic");
	h.format = 2;
	vol_header_encode(&h, buf);
	CHECK_ERR(ward_vol_header_parse(buf, WARD_VOL_HEADER_SIZE, &out, &err),
		  -WARD_E_UNSUPPORTED);
}

WARD_TEST(meta_header_parse_errors)
{
	struct ward_vol_meta_header h = {.format = 1, .block_size = 4096, .version = 3,
					 .plain_size = 4};
	uint8_t buf[WARD_VOL_META_HEADER_SIZE + 4 + 16 + 1] = {0};
	struct ward_vol_meta_header out;
	const uint8_t *ct, *tag;
	struct ward_err err = WARD_ERR_INIT;
	size_t n = WARD_VOL_META_HEADER_SIZE + 4 + 16;

	vol_meta_header_encode(&h, buf);
	CHECK_OK(ward_vol_meta_header_parse(buf, n, &out, &ct, &tag, &err), &err);
	CHECK_INT(out.version, ==, 3);
	CHECK(ct == buf + WARD_VOL_META_HEADER_SIZE);
	CHECK_ERR(ward_vol_meta_header_parse(buf, n - 1, &out, &ct, &tag, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_vol_meta_header_parse(buf, n + 1, &out, &ct, &tag, &err), -WARD_E_MALFORMED);
	h.version = 0;
	vol_meta_header_encode(&h, buf);
	CHECK_ERR(ward_vol_meta_header_parse(buf, n, &out, &ct, &tag, &err), -WARD_E_MALFORMED);
	h.version = 1;
	h.plain_size = (uint64_t)WARD_VOL_META_MAX + 1;
	vol_meta_header_encode(&h, buf);
	CHECK_ERR(ward_vol_meta_header_parse(buf, n, &out, &ct, &tag, &err), -WARD_E_TOO_BIG);
}

/* Build a namespace by hand and check that validation rejects each kind of
 * inconsistency. */
struct nsb {
	uint8_t buf[4096];
	size_t n;
};

static void nsb_u8(struct nsb *b, uint8_t v)
{
	b->buf[b->n++] = v;
}
static void nsb_u16(struct nsb *b, uint16_t v)
{
	vol_put_u16(b->buf + b->n, v);
	b->n += 2;
}
static void nsb_u32(struct nsb *b, uint32_t v)
{
	vol_put_u32(b->buf + b->n, v);
	b->n += 4;
}
static void nsb_u64(struct nsb *b, uint64_t v)
{
	vol_put_u64(b->buf + b->n, v);
	b->n += 8;
}
static void nsb_inode(struct nsb *b, uint64_t ino, uint8_t type, uint32_t nlink)
{
	nsb_u64(b, ino);
	nsb_u8(b, type);
	nsb_u32(b, 0755);
	nsb_u32(b, 0);
	nsb_u32(b, 0);
	nsb_u32(b, nlink);
	nsb_u64(b, 0);
	nsb_u64(b, 0);
	nsb_u64(b, 0);
}
static void nsb_dir(struct nsb *b, uint64_t parent, uint32_t n)
{
	nsb_u64(b, parent);
	nsb_u32(b, n);
}
static void nsb_ent(struct nsb *b, const char *name, uint64_t ino)
{
	nsb_u16(b, (uint16_t)strlen(name));
	memcpy(b->buf + b->n, name, strlen(name));
	b->n += strlen(name);
	nsb_u64(b, ino);
}

/* root(1) with entries; a dir 2 and a symlink 3. variant selects a defect. */
static void build_ns(struct nsb *b, int variant)
{
	b->n = 0;
	nsb_u64(b, variant == 1 ? 3 : 10); /* next_ino */
	nsb_u32(b, 3);
	nsb_inode(b, 1, VOL_T_DIR, variant == 2 ? 2 : 3);
	nsb_dir(b, 1, variant == 3 ? 3 : 2);
	nsb_ent(b, variant == 4 ? ".." : "sub", 2);
	nsb_ent(b, variant == 5 ? "sub" : "ln", variant == 6 ? 9 : 3);
	if (variant == 3)
		nsb_ent(b, "again", 2);
	nsb_inode(b, 2, VOL_T_DIR, 2);
	nsb_dir(b, variant == 7 ? 2 : 1, 0);
	nsb_inode(b, 3, VOL_T_LNK, variant == 8 ? 2 : 1);
	nsb_u16(b, 1);
	nsb_u8(b, 'x');
	if (variant == 9)
		nsb_u8(b, 0);
}

WARD_TEST(namespace_validation)
{
	struct nsb b;
	struct ward_err err = WARD_ERR_INIT;

	build_ns(&b, 0);
	CHECK_OK(ward_vol_namespace_validate(b.buf, b.n, 4096, &err), &err);
	for (int v = 1; v <= 9; v++) {
		build_ns(&b, v);
		if (ward_vol_namespace_validate(b.buf, b.n, 4096, &err) != -WARD_E_MALFORMED)
			WARD_FAIL_("variant %d accepted (%s)", v, err.msg);
	}
	/* Every truncation fails. */
	build_ns(&b, 0);
	for (size_t n = 0; n < b.n; n++)
		CHECK_ERR(ward_vol_namespace_validate(b.buf, n, 4096, &err), -WARD_E_MALFORMED);
	CHECK_ERR(ward_vol_namespace_validate(b.buf, b.n, 1000, &err), -WARD_E_USAGE);
}

/* The fuzz seeds are valid inputs, so fuzzing starts deep in the parsers. */
WARD_TEST(fuzz_seeds_are_valid)
{
	const char *names[] = {"fuzz/vol-namespace/valid-4k", "fuzz/vol-namespace/valid-64k"};
	struct ward_err err = WARD_ERR_INIT;
	uint8_t buf[1024];

	for (size_t i = 0; i < 2; i++) {
		FILE *f = fopen(ward_test_data(names[i]), "rb");
		size_t n;

		CHECK(f);
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		CHECK_INT(n, >, 1);
		CHECK_OK(ward_vol_namespace_validate(buf + 1, n - 1, WARD_VOL_BLOCK_MIN << (buf[0] % 9),
						     &err),
			 &err);
	}
	FILE *f = fopen(ward_test_data("fuzz/vol-header/valid"), "rb");
	struct ward_vol_header h;
	size_t n;

	CHECK(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	CHECK_OK(ward_vol_header_parse(buf, n, &h, &err), &err);
}

WARD_TEST(registry_parse)
{
	uint8_t id[16] = {0xab};
	uint8_t root[32];
	uint64_t version;
	bool found;
	struct ward_err err = WARD_ERR_INIT;
	const char *ok = "ab000000000000000000000000000000 7 "
			 "0102030405060708091011121314151617181920212223242526272829303132\n";
	char bad[256];

	CHECK_OK(ward_vol_registry_parse((const uint8_t *)ok, strlen(ok), id, &found, &version,
					 root, &err),
		 &err);
	CHECK(found);
	CHECK_INT(version, ==, 7);
	CHECK_INT(root[31], ==, 0x32);
	id[0] = 1;
	CHECK_OK(ward_vol_registry_parse((const uint8_t *)ok, strlen(ok), id, &found, &version,
					 root, &err),
		 &err);
	CHECK(!found);
	CHECK_ERR(ward_vol_registry_parse((const uint8_t *)ok, strlen(ok) - 1, id, &found, &version,
					  root, &err),
		  -WARD_E_MALFORMED);
	snprintf(bad, sizeof(bad), "%s", ok);
	bad[33] = '-';
	CHECK_ERR(ward_vol_registry_parse((const uint8_t *)bad, strlen(bad), id, &found, &version,
					  root, &err),
		  -WARD_E_MALFORMED);
	snprintf(bad, sizeof(bad), "%s", ok);
	bad[40] = 'G';
	CHECK_ERR(ward_vol_registry_parse((const uint8_t *)bad, strlen(bad), id, &found, &version,
					  root, &err),
		  -WARD_E_MALFORMED);
	snprintf(bad, sizeof(bad), "%s%s", ok, ok);
	id[0] = 0xab;
	CHECK_ERR(ward_vol_registry_parse((const uint8_t *)bad, strlen(bad), id, &found, &version,
					  root, &err),
		  -WARD_E_MALFORMED);
}

WARD_TEST(registry_file_roundtrip)
{
	char dir[] = "/tmp/ward-vol-reg-XXXXXX", path[64];
	struct ward_vol_registry *reg = NULL;
	struct ward_err err = WARD_ERR_INIT;
	uint8_t id1[16] = {1}, id2[16] = {2}, root[32] = {7}, got[32];
	uint64_t v;

	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/reg", dir);
	CHECK_OK(ward_vol_registry_file(path, &reg, &err), &err);
	CHECK_ERR(reg->get(reg->ctx, id1, &v, got, &err), -WARD_E_NOT_FOUND);
	CHECK_OK(reg->put(reg->ctx, id1, 1, root, &err), &err);
	CHECK_OK(reg->put(reg->ctx, id2, 5, root, &err), &err);
	root[0] = 8;
	CHECK_OK(reg->put(reg->ctx, id1, 2, root, &err), &err);
	CHECK_OK(reg->get(reg->ctx, id1, &v, got, &err), &err);
	CHECK_INT(v, ==, 2);
	CHECK_INT(got[0], ==, 8);
	CHECK_OK(reg->get(reg->ctx, id2, &v, got, &err), &err);
	CHECK_INT(v, ==, 5);
	ward_vol_registry_file_free(reg);
	unlink(path);
	rmdir(dir);
}

WARD_TEST(posix_io_end_to_end)
{
	char dir[] = "/tmp/ward-vol-px-XXXXXX", cmd[128];
	struct ward_vol_io *io = NULL;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_vol_opts o = {0};
	struct ward_vol *v = NULL;
	struct ward_vol_info info;
	uint8_t back[10];

	CHECK(mkdtemp(dir));
	CHECK_OK(ward_vol_io_posix(dir, &io, &err), &err);
	CHECK_OK(ward_vol_create(io, ward_vol_crypto_default(), NULL, key1, 8192, NULL, &err),
		 &err);
	o.io = io;
	o.crypto = ward_vol_crypto_default();
	CHECK_OK(ward_vol_open(&o, key1, &v, &err), &err);
	CHECK(mkfile(v, 1, "hello", "hello world", 11));
	CHECK_OK(ward_vol_close(v, &err), &err);
	CHECK_OK(ward_vol_inspect(io, &info, &err), &err);
	CHECK_INT(info.block_size, ==, 8192);
	CHECK_INT(info.version, ==, 2);
	CHECK_INT(info.blobs, ==, 1);
	CHECK_INT(info.blob_bytes, ==, 8192 + 28);
	CHECK_OK(ward_vol_open(&o, key1, &v, &err), &err);
	uint64_t ino;

	CHECK_OK(ward_vol_resolve(v, "hello", &ino), NULL);
	CHECK_INT(ward_vol_read(v, ino, back, 5, 6), ==, 5);
	CHECK_MEM(back, "world", 5);
	ward_vol_free(v);
	ward_vol_io_posix_free(io);
	CHECK_ERR(ward_vol_io_posix("/nonexistent/ward", &io, &err), -ENOENT);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), ==, 0);
}

/* Large reads bypass the page cache (O_DIRECT through a second descriptor,
 * aligned bounce buffer): they must return exactly what the handle holds,
 * also data not yet synced, short at end of file, and fall back to the
 * handle when the name now points at another file. */
WARD_TEST(posix_io_direct_reads)
{
	char dir[] = "/tmp/ward-vol-dio-XXXXXX", cmd[128];
	struct ward_vol_io *io = NULL;
	struct ward_err err = WARD_ERR_INIT;
	size_t size = (3u << 20) + 123, got = 0;
	uint8_t *data = malloc(size), *back = malloc(size), *other = malloc(size);
	int h, h2;

	CHECK(data && back && other);
	fill(data, size, 7);
	fill(other, size, 8);
	CHECK(mkdtemp(dir));
	CHECK_OK(ward_vol_io_posix(dir, &io, &err), &err);
	h = io->open(io->ctx, "f", WARD_VOL_IO_CREATE);
	CHECK_INT(h, >=, 0);
	CHECK_OK(io->pwrite(io->ctx, h, data, size, 0), NULL);
	/* not synced: still dirty in the page cache */
	for (int pass = 0; pass < 2; pass++) {
		memset(back, 0, size);
		CHECK_OK(io->pread(io->ctx, h, back, (1u << 20) + 5, 4124 * 3, &got), NULL);
		CHECK_INT(got, ==, (1u << 20) + 5);
		CHECK_MEM(back, data + 4124 * 3, got);
		CHECK_OK(io->pread(io->ctx, h, back, size, 0, &got), NULL);
		CHECK_INT(got, ==, size);
		CHECK_MEM(back, data, size);
		/* across the end of the file: short */
		CHECK_OK(io->pread(io->ctx, h, back, 1u << 20, size - 1000, &got), NULL);
		CHECK_INT(got, ==, 1000);
		CHECK_MEM(back, data + size - 1000, 1000);
		CHECK_OK(io->pread(io->ctx, h, back, 1u << 20, size + 4096, &got), NULL);
		CHECK_INT(got, ==, 0);
		CHECK_OK(io->sync(io->ctx, h), NULL);
	}
	/* The host replaces the name: reads still come from the handle's file. */
	h2 = io->open(io->ctx, "g", WARD_VOL_IO_CREATE);
	CHECK_INT(h2, >=, 0);
	CHECK_OK(io->pwrite(io->ctx, h2, other, size, 0), NULL);
	CHECK_OK(io->close(io->ctx, h2), NULL);
	CHECK_OK(io->close(io->ctx, h), NULL);
	h = io->open(io->ctx, "f", 0);
	CHECK_INT(h, >=, 0);
	CHECK_OK(io->rename(io->ctx, "g", "f"), NULL);
	CHECK_OK(io->pread(io->ctx, h, back, 1u << 20, 77, &got), NULL);
	CHECK_INT(got, ==, 1u << 20);
	CHECK_MEM(back, data + 77, got);
	CHECK_OK(io->close(io->ctx, h), NULL);
	ward_vol_io_posix_free(io);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), ==, 0);
	free(data);
	free(back);
	free(other);
}

static int find_slot0(void *ctx, const char *name)
{
	size_t n = strlen(name);

	if (n == 34 && strcmp(name + 32, ".0") == 0) {
		memcpy(ctx, name, n + 1);
		return 1;
	}
	return 0;
}

/* The engine over the POSIX store: large reads (the direct path) decrypt
 * what was written, and a flipped byte in the middle of one is caught. */
WARD_TEST(posix_io_large_reads_verified)
{
	char dir[] = "/tmp/ward-vol-big-XXXXXX", cmd[128], name[40] = "", path[128];
	struct ward_vol_io *io = NULL;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_vol_opts o = {0};
	struct ward_vol *v = NULL;
	size_t size = (3u << 20) + 999;
	uint8_t *data = malloc(size), *back = malloc(size), byte;
	uint64_t ino;
	int fd;

	CHECK(data && back);
	fill(data, size, 9);
	CHECK(mkdtemp(dir));
	CHECK_OK(ward_vol_io_posix(dir, &io, &err), &err);
	CHECK_OK(ward_vol_create(io, ward_vol_crypto_default(), NULL, key1, 4096, NULL, &err),
		 &err);
	o.io = io;
	o.crypto = ward_vol_crypto_default();
	CHECK_OK(ward_vol_open(&o, key1, &v, &err), &err);
	ino = mkfile(v, 1, "big", data, size);
	CHECK(ino != 0);
	/* before the commit (records not synced) and after reopening */
	CHECK_INT(ward_vol_read(v, ino, back, 1u << 20, 5000), ==, 1u << 20);
	CHECK_MEM(back, data + 5000, 1u << 20);
	CHECK_OK(ward_vol_close(v, &err), &err);
	CHECK_OK(ward_vol_open(&o, key1, &v, &err), &err);
	CHECK_OK(ward_vol_resolve(v, "big", &ino), NULL);
	CHECK_INT(ward_vol_read(v, ino, back, size, 0), ==, (ssize_t)size);
	CHECK_MEM(back, data, size);
	CHECK_INT(ward_vol_read(v, ino, back, 1u << 20, size - 4000), ==, 4000);
	CHECK_MEM(back, data + size - 4000, 4000);
	ward_vol_free(v);
	/* flip one ciphertext byte of block 100 */
	CHECK_INT(io->list(io->ctx, find_slot0, name), ==, 1);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	CHECK_INT(fd, >=, 0);
	CHECK_INT(pread(fd, &byte, 1, 100 * 4124 + 12 + 100), ==, 1);
	byte ^= 0xff;
	CHECK_INT(pwrite(fd, &byte, 1, 100 * 4124 + 12 + 100), ==, 1);
	close(fd);
	CHECK_OK(ward_vol_open(&o, key1, &v, &err), &err);
	CHECK_OK(ward_vol_resolve(v, "big", &ino), NULL);
	CHECK_INT(ward_vol_read(v, ino, back, 1u << 20, 0), ==, -EIO);
	CHECK_INT(ward_vol_read(v, ino, back, 1u << 20, 2u << 20), ==, 1u << 20);
	CHECK_MEM(back, data + (2u << 20), 1u << 20);
	ward_vol_free(v);
	ward_vol_io_posix_free(io);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), ==, 0);
	free(data);
	free(back);
}

WARD_TEST_MAIN()
