/* SPDX-License-Identifier: Apache-2.0 */
/* A backing store (struct ward_vol_io) for the temporary volume of
 * --rootfs ext4: all of the volume's files live in one unlinked temporary
 * file, in 64 KiB pages allocated as they are first written.
 *
 * The POSIX store makes one file per volume file (thousands for an OS
 * image), starts write-back of large writes and reads large runs with
 * O_DIRECT: right for a volume served to an app, slow for an intermediate
 * that is written once, read once and thrown away (creating and removing
 * ~7,000 files took seconds on a disk). Here nothing is synced, reads come
 * from the page cache, and the one file vanishes when the store is freed
 * (or the process dies). Names live in a search tree; the engine's calls
 * are serialised by a mutex. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image-internal.h"
#include "ward/file.h"
#include "ward/cleanup.h"
#include "ward/vol.h"

#define VS_PAGE (64u << 10)
#define VS_NO_PAGE UINT64_MAX

struct vs_file {
	char *name;	 /* owned */
	uint64_t size;	 /* bytes */
	uint64_t *pages; /* owned: offset of page i in the store file, or VS_NO_PAGE */
	size_t npages;
	bool linked; /* has a name in the tree */
};

struct volstore {
	struct ward_vol_io io;
	pthread_mutex_t mu;
	int fd;
	uint64_t end;		/* next free page offset in fd */
	void *names;		/* tsearch tree of linked struct vs_file * */
	struct vs_file **files; /* owned: every file ever made */
	size_t nfiles, files_cap;
	struct vs_file **handles; /* borrowed: open handles (NULL: free) */
	size_t nhandles;
	int *free_handles; /* owned: closed handle numbers, reused first */
	size_t nfree;	   /* the engine keeps one handle per file open */
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vs_file *)a)->name, ((const struct vs_file *)b)->name);
}

static struct vs_file *find(struct volstore *s, const char *name)
{
	struct vs_file key = {.name = (char *)name};
	struct vs_file **f = tfind(&key, &s->names, name_cmp);

	return f ? *f : NULL;
}

static void unlink_file(struct volstore *s, struct vs_file *f)
{
	if (f->linked)
		(void)tdelete(f, &s->names, name_cmp);
	f->linked = false;
}

static int link_file(struct volstore *s, struct vs_file *f)
{
	if (!tsearch(f, &s->names, name_cmp))
		return -ENOMEM;
	f->linked = true;
	return 0;
}

static struct vs_file *handle_file(struct volstore *s, int h)
{
	return h >= 0 && (size_t)h < s->nhandles ? s->handles[h] : NULL;
}

static bool name_ok(const char *name)
{
	return name[0] && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static int vs_open(void *ctx, const char *name, int flags)
{
	struct volstore *s = ctx;
	struct vs_file *f;
	int r = 0;

	if (!name_ok(name))
		return -EINVAL;
	pthread_mutex_lock(&s->mu);
	f = find(s, name);
	if (f && (flags & WARD_VOL_IO_CREATE) && (flags & WARD_VOL_IO_EXCL))
		r = -EEXIST;
	else if (!f && !(flags & WARD_VOL_IO_CREATE))
		r = -ENOENT;
	if (r == 0 && !f) {
		if (s->nfiles == s->files_cap) {
			size_t ncap = s->files_cap ? s->files_cap * 2 : 256;
			struct vs_file **n = reallocarray(s->files, ncap, sizeof(*n));

			if (!n) {
				r = -ENOMEM;
				goto out;
			}
			s->files = n;
			s->files_cap = ncap;
		}
		f = calloc(1, sizeof(*f));
		if (!f || !(f->name = strdup(name))) {
			free(f);
			r = -ENOMEM;
			goto out;
		}
		s->files[s->nfiles++] = f;
		r = link_file(s, f);
		if (r < 0)
			goto out;
	}
	if (r == 0) {
		/* a closed handle's number, else a new one: constant time, as
		 * the engine holds a handle on every file it has touched */
		size_t h;

		if (s->nfree) {
			h = (size_t)s->free_handles[--s->nfree];
		} else {
			size_t ncap = s->nhandles ? s->nhandles * 2 : 16;
			struct vs_file **n =
			    ncap > INT32_MAX ? NULL : reallocarray(s->handles, ncap, sizeof(*n));
			int *fr = n ? reallocarray(s->free_handles, ncap, sizeof(*fr)) : NULL;

			if (n)
				s->handles = n;
			if (!n || !fr) {
				r = -ENOMEM;
				goto out;
			}
			s->free_handles = fr;
			memset(n + s->nhandles, 0, (ncap - s->nhandles) * sizeof(*n));
			/* the new numbers but the first, lowest on top */
			for (size_t k = ncap; k > s->nhandles + 1; k--)
				s->free_handles[s->nfree++] = (int)(k - 1);
			h = s->nhandles;
			s->nhandles = ncap;
		}
		s->handles[h] = f;
		r = (int)h;
	}
out:
	pthread_mutex_unlock(&s->mu);
	return r;
}

static int vs_close(void *ctx, int h)
{
	struct volstore *s = ctx;
	int r = 0;

	pthread_mutex_lock(&s->mu);
	if (handle_file(s, h)) {
		s->handles[h] = NULL;
		s->free_handles[s->nfree++] = h; /* room: one slot per handle */
	} else {
		r = -EBADF;
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* The store file is never shorter than its pages: a short read is EIO. */
static int io_all(int fd, void *buf, size_t size, uint64_t off, bool write)
{
	int r = ward_fd_pio_all(fd, write, buf, size, off);

	return r == -ENODATA ? -EIO : r;
}

static int vs_pread(void *ctx, int h, void *buf, size_t size, uint64_t off, size_t *ret_n)
{
	struct volstore *s = ctx;
	struct vs_file *f;
	size_t n = 0;
	int r = 0;

	pthread_mutex_lock(&s->mu);
	f = handle_file(s, h);
	if (!f) {
		r = -EBADF;
		goto out;
	}
	if (off < f->size)
		n = f->size - off < size ? (size_t)(f->size - off) : size;
	for (size_t done = 0; done < n && r >= 0;) {
		uint64_t pos = off + done, page = pos / VS_PAGE;
		size_t in = (size_t)(pos % VS_PAGE), len = VS_PAGE - in;

		if (len > n - done)
			len = n - done;
		if (page >= f->npages || f->pages[page] == VS_NO_PAGE)
			memset((uint8_t *)buf + done, 0, len);
		else
			r = io_all(s->fd, (uint8_t *)buf + done, len, f->pages[page] + in, false);
		done += len;
	}
	if (r >= 0)
		*ret_n = n;
out:
	pthread_mutex_unlock(&s->mu);
	return r;
}

static int grow_pages(struct vs_file *f, size_t want)
{
	size_t ncap = f->npages ? f->npages : 16;
	uint64_t *n;

	while (ncap < want)
		ncap *= 2;
	n = reallocarray(f->pages, ncap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (size_t i = f->npages; i < ncap; i++)
		n[i] = VS_NO_PAGE;
	f->pages = n;
	f->npages = ncap;
	return 0;
}

static int vs_pwrite(void *ctx, int h, const void *buf, size_t size, uint64_t off)
{
	struct volstore *s = ctx;
	struct vs_file *f;
	int r = 0;

	pthread_mutex_lock(&s->mu);
	f = handle_file(s, h);
	if (!f) {
		r = -EBADF;
		goto out;
	}
	if (off > UINT64_MAX / 2 || size > UINT64_MAX / 2 - off) {
		r = -EFBIG;
		goto out;
	}
	for (size_t done = 0; done < size && r >= 0;) {
		uint64_t pos = off + done, page = pos / VS_PAGE;
		size_t in = (size_t)(pos % VS_PAGE), len = VS_PAGE - in;

		if (len > size - done)
			len = size - done;
		if (page >= f->npages)
			r = grow_pages(f, (size_t)page + 1);
		if (r >= 0 && f->pages[page] == VS_NO_PAGE) {
			f->pages[page] = s->end;
			s->end += VS_PAGE;
		}
		if (r >= 0)
			r = io_all(s->fd, (void *)((const uint8_t *)buf + done), len,
				   f->pages[page] + in, true);
		done += len;
	}
	if (r >= 0 && off + size > f->size)
		f->size = off + size;
out:
	pthread_mutex_unlock(&s->mu);
	return r;
}

static int vs_truncate(void *ctx, int h, uint64_t size)
{
	static const uint8_t zeros[4096];
	struct volstore *s = ctx;
	struct vs_file *f;
	int r = 0;

	pthread_mutex_lock(&s->mu);
	f = handle_file(s, h);
	if (!f) {
		r = -EBADF;
		goto out;
	}
	if (size < f->size) {
		/* what lies beyond must read as zeros if the file grows again */
		uint64_t first = (size + VS_PAGE - 1) / VS_PAGE;

		for (uint64_t p = first; p < f->npages; p++)
			f->pages[p] = VS_NO_PAGE;
		if (size % VS_PAGE && size / VS_PAGE < f->npages &&
		    f->pages[size / VS_PAGE] != VS_NO_PAGE) {
			uint64_t base = f->pages[size / VS_PAGE];

			for (uint64_t o = size % VS_PAGE; o < VS_PAGE && r >= 0;) {
				size_t len = VS_PAGE - o < sizeof(zeros) ? (size_t)(VS_PAGE - o)
									 : sizeof(zeros);

				r = io_all(s->fd, (void *)zeros, len, base + o, true);
				o += len;
			}
		}
	}
	if (r >= 0)
		f->size = size;
out:
	pthread_mutex_unlock(&s->mu);
	return r;
}

static int vs_fsize(void *ctx, int h, uint64_t *ret_size)
{
	struct volstore *s = ctx;
	struct vs_file *f;
	int r = 0;

	pthread_mutex_lock(&s->mu);
	f = handle_file(s, h);
	if (f)
		*ret_size = f->size;
	else
		r = -EBADF;
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* An intermediate: nothing needs to be durable. */
static int vs_sync(void *ctx, int h)
{
	(void)ctx;
	(void)h;
	return 0;
}

static int vs_sync_dir(void *ctx)
{
	(void)ctx;
	return 0;
}

static int vs_rename(void *ctx, const char *from, const char *to)
{
	struct volstore *s = ctx;
	struct vs_file *f, *old;
	char *n;
	int r = 0;

	if (!name_ok(to))
		return -EINVAL;
	pthread_mutex_lock(&s->mu);
	f = find(s, from);
	if (!f) {
		r = -ENOENT;
		goto out;
	}
	if (f == find(s, to))
		goto out;
	n = strdup(to);
	if (!n) {
		r = -ENOMEM;
		goto out;
	}
	old = find(s, to);
	if (old)
		unlink_file(s, old);
	unlink_file(s, f);
	free(f->name);
	f->name = n;
	r = link_file(s, f);
out:
	pthread_mutex_unlock(&s->mu);
	return r;
}

static int vs_unlink(void *ctx, const char *name)
{
	struct volstore *s = ctx;
	struct vs_file *f;

	pthread_mutex_lock(&s->mu);
	f = find(s, name);
	if (f)
		unlink_file(s, f);
	pthread_mutex_unlock(&s->mu);
	return f ? 0 : -ENOENT;
}

static int vs_list(void *ctx, int (*cb)(void *cb_ctx, const char *name), void *cb_ctx)
{
	struct volstore *s = ctx;
	int r = 0;

	/* from the list of all files, not the tree: cb may not re-enter */
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nfiles && r == 0; i++)
		if (s->files[i]->linked)
			r = cb(cb_ctx, s->files[i]->name);
	pthread_mutex_unlock(&s->mu);
	return r;
}

static void no_free(void *p)
{
	(void)p;
}

struct ward_vol_io *img_volstore_free(struct ward_vol_io *io)
{
	struct volstore *s;

	if (!io)
		return NULL;
	s = io->ctx;
	tdestroy(s->names, no_free);
	for (size_t i = 0; i < s->nfiles; i++) {
		free(s->files[i]->name);
		free(s->files[i]->pages);
		free(s->files[i]);
	}
	free(s->files);
	free(s->handles);
	free(s->free_handles);
	if (s->fd >= 0)
		(void)close(s->fd);
	pthread_mutex_destroy(&s->mu);
	free(s);
	return NULL;
}

int img_volstore_new(const char *dir, struct ward_vol_io **ret, struct ward_err *err)
{
	struct volstore *s = calloc(1, sizeof(*s));

	if (!s)
		return ward_err_set(err, -ENOMEM, "out of memory");
	pthread_mutex_init(&s->mu, NULL);
	s->io = (struct ward_vol_io){
	    .ctx = s,
	    .open = vs_open,
	    .close = vs_close,
	    .pread = vs_pread,
	    .pwrite = vs_pwrite,
	    .truncate = vs_truncate,
	    .fsize = vs_fsize,
	    .sync = vs_sync,
	    .rename = vs_rename,
	    .unlink = vs_unlink,
	    .sync_dir = vs_sync_dir,
	    .sync_all = NULL,
	    .list = vs_list,
	};
	/* no name at all, so nothing is left behind whatever happens */
	s->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		WARD_AUTOFREE char *tmpl = NULL;

		if (asprintf(&tmpl, "%s/volstore-XXXXXX", dir) < 0) {
			tmpl = NULL;
			img_volstore_free(&s->io);
			return ward_err_set(err, -ENOMEM, "out of memory");
		}
		s->fd = mkostemp(tmpl, O_CLOEXEC);
		if (s->fd >= 0)
			(void)unlink(tmpl);
	}
	if (s->fd < 0) {
		int e = -errno;

		img_volstore_free(&s->io);
		return ward_err_errno(err, e, "temporary volume store in '%.200s'", dir);
	}
	*ret = &s->io;
	return 0;
}
