/* SPDX-License-Identifier: Apache-2.0 */
/* The POSIX backing store: one flat directory on untrusted storage. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* syncfs, sync_file_range */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward/cleanup.h"
#include "ward/vol.h"

/* Writes at least this large start their own write-back (see px_pwrite). */
#define WRITEBACK_KICK_MIN (256u << 10)

/* Reads at least this large bypass the backing files' page cache. */
#define DIRECT_READ_MIN (256u << 10)
/* O_DIRECT alignment used for offset, length and buffer (covers 512- and
 * 4096-byte logical blocks). */
#define DIRECT_ALIGN 4096u
#define DIRECT_FD_NONE (-1)  /* not opened yet */
#define DIRECT_FD_NEVER (-2) /* O_DIRECT not supported for this file */
/* Handles (fds) at or above this get no O_DIRECT companion. */
#define FD_TABLE_MAX 65536u

/* Per handle (indexed by its fd): the name it was opened with and, once a
 * large read needed it, a second descriptor on the same file opened with
 * O_DIRECT. The engine never closes a handle while I/O on it runs, so an
 * entry changes only in open/close, except for the lazy dfd install. */
struct fd_slot {
	char *name;      /* owned */
	atomic_int dfd;  /* O_DIRECT fd, or DIRECT_FD_NONE / DIRECT_FD_NEVER */
};

struct posix_io {
	struct ward_vol_io io;
	int dirfd;
	struct fd_slot *fds; /* owned, nfds entries (may be NULL: no direct reads) */
	size_t nfds;
};

/* A thread's aligned bounce buffer for direct reads (ciphertext only). */
struct bounce {
	void *p;
	size_t size;
};
static pthread_key_t g_bounce_key;
static pthread_once_t g_bounce_once = PTHREAD_ONCE_INIT;
static bool g_bounce_ok;

static void bounce_destroy(void *v)
{
	struct bounce *b = v;

	free(b->p);
	free(b);
}

static void bounce_init(void)
{
	g_bounce_ok = pthread_key_create(&g_bounce_key, bounce_destroy) == 0;
}

static void *bounce_get(size_t size)
{
	struct bounce *b;

	(void)pthread_once(&g_bounce_once, bounce_init);
	if (!g_bounce_ok)
		return NULL;
	b = pthread_getspecific(g_bounce_key);
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return NULL;
		if (pthread_setspecific(g_bounce_key, b) != 0) {
			free(b);
			return NULL;
		}
	}
	if (b->size < size) {
		void *n = NULL;

		if (posix_memalign(&n, DIRECT_ALIGN, size) != 0)
			return NULL;
		free(b->p);
		b->p = n;
		b->size = size;
	}
	return b->p;
}

static bool name_ok(const char *name)
{
	return name[0] && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static int px_open(void *ctx, const char *name, int flags)
{
	struct posix_io *p = ctx;
	int o = O_CLOEXEC | O_NOFOLLOW;
	int fd;

	if (!name_ok(name))
		return -EINVAL;
	o |= (flags & WARD_VOL_IO_RDONLY) ? O_RDONLY : O_RDWR;
	if (flags & WARD_VOL_IO_CREATE)
		o |= O_CREAT;
	if (flags & WARD_VOL_IO_EXCL)
		o |= O_EXCL;
	fd = openat(p->dirfd, name, o, 0600);
	if (fd < 0)
		return -errno;
	if ((size_t)fd < p->nfds) {
		/* Without the name no direct reads: that is all a failed
		 * strdup costs. */
		free(p->fds[fd].name);
		p->fds[fd].name = strdup(name);
		atomic_store(&p->fds[fd].dfd, DIRECT_FD_NONE);
	}
	return fd;
}

static void slot_clear(struct fd_slot *slot)
{
	int dfd = atomic_exchange(&slot->dfd, DIRECT_FD_NONE);

	if (dfd >= 0)
		(void)close(dfd);
	free(slot->name);
	slot->name = NULL;
}

static int px_close(void *ctx, int h)
{
	struct posix_io *p = ctx;

	if (h >= 0 && (size_t)h < p->nfds)
		slot_clear(&p->fds[h]);
	return close(h) < 0 ? -errno : 0;
}

/* The O_DIRECT companion of handle h, opened on first use; -1 if there
 * is none (unsupported, not tracked, or the open failed). */
static int direct_fd(struct posix_io *p, int h)
{
	struct stat dst, hst;
	struct fd_slot *slot;
	int dfd, expected = DIRECT_FD_NONE;

	if (h < 0 || (size_t)h >= p->nfds)
		return -1;
	slot = &p->fds[h];
	dfd = atomic_load(&slot->dfd);
	if (dfd != DIRECT_FD_NONE)
		return dfd;
	if (!slot->name) {
		atomic_store(&slot->dfd, DIRECT_FD_NEVER);
		return -1;
	}
	/* By name, so the host may have put something else there since h
	 * was opened: use it only if it is the very same regular file
	 * (O_NONBLOCK: opening a FIFO must not hang). */
	dfd = openat(p->dirfd, slot->name,
		     O_RDONLY | O_DIRECT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (dfd < 0 || fstat(dfd, &dst) < 0 || fstat(h, &hst) < 0 || !S_ISREG(dst.st_mode) ||
	    dst.st_dev != hst.st_dev || dst.st_ino != hst.st_ino) {
		if (dfd >= 0)
			(void)close(dfd);
		atomic_store(&slot->dfd, DIRECT_FD_NEVER);
		return -1;
	}
	/* Two readers may race to open it: one wins, the other closes its own. */
	if (!atomic_compare_exchange_strong(&slot->dfd, &expected, dfd)) {
		(void)close(dfd);
		return expected;
	}
	return dfd;
}

/* Read [off, off+size) of h through its O_DIRECT companion: the aligned
 * range around it goes into this thread's bounce buffer, then the wanted
 * bytes are copied out. Returns the bytes delivered (short at end of file),
 * or -1 to make the caller read through the page cache instead. The kernel
 * writes back dirty cached pages of the range before a direct read, so
 * data written through h (not yet synced) is read back correctly. */
static ssize_t direct_read(struct posix_io *p, int h, void *buf, size_t size, uint64_t off)
{
	uint64_t a = off & ~(uint64_t)(DIRECT_ALIGN - 1);
	uint64_t e = (off + size + DIRECT_ALIGN - 1) & ~(uint64_t)(DIRECT_ALIGN - 1);
	size_t span = (size_t)(e - a), lead = (size_t)(off - a), got = 0;
	int dfd = direct_fd(p, h);
	uint8_t *b;

	if (dfd < 0 || !(b = bounce_get(span)))
		return -1;
	while (got < span) {
		ssize_t n = pread(dfd, b + got, span - got, (off_t)(a + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) /* e.g. EINVAL: alignment not accepted here */
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
		if (got % DIRECT_ALIGN) /* short, unaligned: end of file */
			break;
	}
	if (got <= lead)
		return 0;
	got = WARD_MIN(got - lead, size);
	memcpy(buf, b + lead, got);
	return (ssize_t)got;
}

static int px_pread(void *ctx, int h, void *buf, size_t size, uint64_t off, size_t *ret_n)
{
	struct posix_io *p = ctx;
	size_t done = 0;

	/* Large reads (sequential, from the FUSE front end) skip the page
	 * cache: the records are decrypted into the kernel's cache of the
	 * plaintext anyway, and copying them out of a second cache costs more
	 * than the decryption. Anything the direct read did not deliver is
	 * read the ordinary way below. */
	if (size >= DIRECT_READ_MIN) {
		ssize_t n = direct_read(p, h, buf, size, off);

		if (n >= 0)
			done = (size_t)n;
	}
	while (done < size) {
		ssize_t n = pread(h, (uint8_t *)buf + done, size - done, (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*ret_n = done;
	return 0;
}

static int px_pwrite(void *ctx, int h, const void *buf, size_t size, uint64_t off)
{
	size_t done = 0;

	(void)ctx;
	while (done < size) {
		ssize_t n = pwrite(h, (const uint8_t *)buf + done, size - done, (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	/* Start writing large runs of records back now, in the background,
	 * so the disk works while the next requests are encrypted and the
	 * commit's fdatasync finds little left to do. Only a hint: the
	 * commit still syncs everything it relies on, and a failure here
	 * changes nothing. */
	if (size >= WRITEBACK_KICK_MIN)
		(void)sync_file_range(h, (off_t)off, (off_t)size, SYNC_FILE_RANGE_WRITE);
	return 0;
}

static int px_truncate(void *ctx, int h, uint64_t size)
{
	(void)ctx;
	return ftruncate(h, (off_t)size) < 0 ? -errno : 0;
}

static int px_fsize(void *ctx, int h, uint64_t *ret)
{
	struct stat st;

	(void)ctx;
	if (fstat(h, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*ret = (uint64_t)st.st_size;
	return 0;
}

static int px_sync(void *ctx, int h)
{
	(void)ctx;
	return fdatasync(h) < 0 ? -errno : 0;
}

static int px_rename(void *ctx, const char *from, const char *to)
{
	struct posix_io *p = ctx;

	if (!name_ok(from) || !name_ok(to))
		return -EINVAL;
	return renameat(p->dirfd, from, p->dirfd, to) < 0 ? -errno : 0;
}

static int px_unlink(void *ctx, const char *name)
{
	struct posix_io *p = ctx;

	if (!name_ok(name))
		return -EINVAL;
	return unlinkat(p->dirfd, name, 0) < 0 ? -errno : 0;
}

static int px_sync_dir(void *ctx)
{
	struct posix_io *p = ctx;

	return fsync(p->dirfd) < 0 ? -errno : 0;
}

static int px_sync_all(void *ctx)
{
	struct posix_io *p = ctx;

	return syncfs(p->dirfd) < 0 ? -errno : 0;
}

static int px_list(void *ctx, int (*cb)(void *cb_ctx, const char *name), void *cb_ctx)
{
	struct posix_io *p = ctx;
	int fd = openat(p->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;
	int r = 0;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	for (;;) {
		struct dirent *e;

		errno = 0;
		e = readdir(d);
		if (!e) {
			r = errno ? -errno : 0;
			break;
		}
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		r = cb(cb_ctx, e->d_name);
		if (r)
			break;
	}
	closedir(d);
	return r;
}

int ward_vol_io_posix(const char *dir, struct ward_vol_io **ret, struct ward_err *err)
{
	struct posix_io *p = calloc(1, sizeof(*p));

	if (!p)
		return ward_err_set(err, -ENOMEM, "out of memory");
	p->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->dirfd < 0) {
		int e = -errno;

		free(p);
		return ward_err_errno(err, e, "open backing directory '%s'", dir);
	}
	/* One slot per possible descriptor; without the table (no memory)
	 * every read goes through the page cache. */
	{
		struct rlimit rl;
		size_t n = FD_TABLE_MAX;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n)
			n = (size_t)rl.rlim_cur;
		p->fds = calloc(n, sizeof(*p->fds));
		if (p->fds) {
			p->nfds = n;
			for (size_t i = 0; i < n; i++)
				atomic_init(&p->fds[i].dfd, DIRECT_FD_NONE);
		}
	}
	p->io = (struct ward_vol_io){
		.ctx = p,
		.open = px_open,
		.close = px_close,
		.pread = px_pread,
		.pwrite = px_pwrite,
		.truncate = px_truncate,
		.fsize = px_fsize,
		.sync = px_sync,
		.rename = px_rename,
		.unlink = px_unlink,
		.sync_dir = px_sync_dir,
		.sync_all = px_sync_all,
		.list = px_list,
	};
	*ret = &p->io;
	return 0;
}

struct ward_vol_io *ward_vol_io_posix_free(struct ward_vol_io *io)
{
	if (!io)
		return NULL;
	struct posix_io *p = io->ctx;

	for (size_t i = 0; i < p->nfds; i++)
		slot_clear(&p->fds[i]);
	free(p->fds);
	if (p->dirfd >= 0)
		close(p->dirfd);
	free(p);
	return NULL;
}
