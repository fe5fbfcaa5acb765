/* SPDX-License-Identifier: Apache-2.0 */
/* The POSIX backing store: one flat directory on untrusted storage. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* syncfs */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward/cleanup.h"
#include "ward/vol.h"

struct posix_io {
	struct ward_vol_io io;
	int dirfd;
};

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
	return fd;
}

static int px_close(void *ctx, int h)
{
	(void)ctx;
	return close(h) < 0 ? -errno : 0;
}

static int px_pread(void *ctx, int h, void *buf, size_t size, uint64_t off, size_t *ret_n)
{
	size_t done = 0;

	(void)ctx;
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

	if (p->dirfd >= 0)
		close(p->dirfd);
	free(p);
	return NULL;
}
