/* SPDX-License-Identifier: Apache-2.0 */
#include "ward/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ward/cleanup.h"

int ward_fd_read_all(int fd, size_t max_size, uint8_t **ret, size_t *ret_size,
		     struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *buf = NULL;
	size_t size = 0, cap = 0;

	for (;;) {
		ssize_t n;

		if (size == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			uint8_t *nbuf;

			if (ncap > max_size + 1)
				ncap = max_size + 1; /* room to detect "one byte too many" */
			if (ncap <= size)
				return ward_err_set(err, -WARD_E_TOO_BIG,
						    "larger than the limit of %zu bytes", max_size);
			nbuf = realloc(buf, ncap + 1);
			if (!nbuf)
				return ward_err_set(err, -ENOMEM, "out of memory");
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + size, cap - size);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ward_err_errno(err, -errno, "read");
		}
		if (n == 0)
			break;
		if ((size_t)n > cap - size) /* a reader reporting more than asked: refuse */
			return ward_err_set(err, -EIO, "read returned more than requested");
		size += (size_t)n;
		if (size > max_size)
			return ward_err_set(err, -WARD_E_TOO_BIG,
					    "larger than the limit of %zu bytes", max_size);
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return ward_err_set(err, -ENOMEM, "out of memory");
	}
	buf[size] = 0;
	*ret = WARD_TAKE_PTR(buf);
	*ret_size = size;
	return 0;
}

int ward_file_read(const char *path, size_t max_size, uint8_t **ret, size_t *ret_size,
		   struct ward_err *err)
{
	WARD_AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	int r;

	if (fd < 0)
		return ward_err_errno(err, -errno, "open '%s'", path);
	if (fstat(fd, &st) < 0)
		return ward_err_errno(err, -errno, "stat '%s'", path);
	if (S_ISDIR(st.st_mode))
		return ward_err_set(err, -EISDIR, "'%s' is a directory", path);
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_size)
		return ward_err_set(err, -WARD_E_TOO_BIG,
				    "'%s' is %lld bytes, larger than the limit of %zu", path,
				    (long long)st.st_size, max_size);
	r = ward_fd_read_all(fd, max_size, ret, ret_size, err);
	if (r < 0)
		return ward_err_prefix(err, "'%s'", path);
	return 0;
}

int ward_fd_pio_all(int fd, bool write, void *buf, size_t size, uint64_t off)
{
	uint8_t *p = buf;

	while (size > 0) {
		ssize_t n = write ? pwrite(fd, p, size, (off_t)off) : pread(fd, p, size, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return write ? -EIO : -ENODATA;
		p += n;
		size -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int ward_fd_write_all(int fd, const void *buf, size_t size, struct ward_err *err)
{
	const uint8_t *p = buf;

	while (size > 0) {
		ssize_t n = write(fd, p, size);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ward_err_errno(err, -errno, "write");
		}
		p += n;
		size -= (size_t)n;
	}
	return 0;
}

static int fsync_parent(const char *path, struct ward_err *err)
{
	char tmp[PATH_MAX];
	WARD_AUTOCLOSE int dfd = -1;

	if (strlen(path) >= sizeof(tmp))
		return ward_err_set(err, -ENAMETOOLONG, "path too long");
	strcpy(tmp, path);
	dfd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ward_err_errno(err, -errno, "open directory of '%s'", path);
	if (fsync(dfd) < 0)
		return ward_err_errno(err, -errno, "fsync directory of '%s'", path);
	return 0;
}

/* Temp file + rename; with durable, fsync of the file before the rename
 * and of the directory after it. */
static int write_replace(const char *path, const void *data, size_t size, mode_t mode,
			 bool durable, struct ward_err *err)
{
	char tmp[PATH_MAX];
	WARD_AUTOCLOSE int fd = -1;
	int r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp))
		return ward_err_set(err, -ENAMETOOLONG, "path '%s' too long", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return ward_err_errno(err, -errno, "create temp file for '%s'", path);
	if (fchmod(fd, mode) < 0) {
		r = ward_err_errno(err, -errno, "chmod '%s'", tmp);
		goto fail;
	}
	r = ward_fd_write_all(fd, data, size, err);
	if (r < 0) {
		ward_err_prefix(err, "write '%s'", tmp);
		goto fail;
	}
	if (durable && fsync(fd) < 0) {
		r = ward_err_errno(err, -errno, "fsync '%s'", tmp);
		goto fail;
	}
	if (close(WARD_TAKE_FD(fd)) < 0) {
		r = ward_err_errno(err, -errno, "close '%s'", tmp);
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		r = ward_err_errno(err, -errno, "rename to '%s'", path);
		goto fail;
	}
	return durable ? fsync_parent(path, err) : 0;
fail:
	(void)unlink(tmp);
	return r;
}

int ward_file_write_atomic(const char *path, const void *data, size_t size, mode_t mode,
			   struct ward_err *err)
{
	return write_replace(path, data, size, mode, true, err);
}

int ward_file_write_volatile(const char *path, const void *data, size_t size, mode_t mode,
			     struct ward_err *err)
{
	return write_replace(path, data, size, mode, false, err);
}

bool ward_path_is_safe_relative(const char *p)
{
	size_t len;
	const char *c;

	if (!p || !*p || p[0] == '/')
		return false;
	len = strnlen(p, WARD_PATH_MAX + 1);
	if (len > WARD_PATH_MAX)
		return false;
	c = p;
	for (;;) {
		const char *slash = strchr(c, '/');
		size_t n = slash ? (size_t)(slash - c) : strlen(c);

		if (n == 0 && slash)
			return false; /* "a//b" */
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!slash)
			break;
		c = slash + 1;
		if (!*c)
			break; /* one trailing slash ("dir/") is fine */
	}
	return true;
}

int ward_openat_beneath(int dirfd, const char *path, int flags, mode_t mode,
			struct ward_err *err)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (!ward_path_is_safe_relative(path))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "unsafe path '%.200s' (absolute, empty or with '..')", path);
	fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (fd < 0) {
		if (errno == EXDEV)
			return ward_err_set(err, -EXDEV, "path '%.200s' escapes its root", path);
		return ward_err_errno(err, -errno, "open '%.200s'", path);
	}
	return (int)fd;
}

int ward_mkdirat_beneath(int dirfd, const char *p, mode_t mode, struct ward_err *err)
{
	char buf[WARD_PATH_MAX + 1];
	size_t len;

	if (!ward_path_is_safe_relative(p))
		return ward_err_set(err, -WARD_E_MALFORMED, "unsafe path '%.200s'", p);
	len = strlen(p);
	memcpy(buf, p, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char saved = buf[i];
		int parent, fd;
		char *leaf;

		buf[i] = '\0';
		/* Resolve the parent beneath dirfd, then mkdirat the last component in it. */
		leaf = strrchr(buf, '/');
		if (leaf) {
			*leaf = '\0';
			parent = ward_openat_beneath(dirfd, buf, O_RDONLY | O_DIRECTORY, 0, err);
			*leaf = '/';
			if (parent < 0)
				return parent;
			leaf++;
		} else {
			parent = dup(dirfd);
			if (parent < 0)
				return ward_err_errno(err, -errno, "dup");
			leaf = buf;
		}
		fd = mkdirat(parent, leaf, mode);
		if (fd < 0 && errno != EEXIST) {
			int e = -errno;
			(void)close(parent);
			return ward_err_errno(err, e, "mkdir '%.200s'", buf);
		}
		(void)close(parent);
		buf[i] = saved;
		if (saved == '\0')
			break;
	}
	/* Finally make sure the whole path is a directory beneath dirfd. */
	int fd = ward_openat_beneath(dirfd, p, O_RDONLY | O_DIRECTORY, 0, err);
	if (fd < 0)
		return fd;
	(void)close(fd);
	return 0;
}

static int rm_rf_at(int parent, const char *name, struct ward_err *err)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int fd, r = 0;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : ward_err_errno(err, -errno, "stat '%s'", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
			return ward_err_errno(err, -errno, "unlink '%s'", name);
		return 0;
	}
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ward_err_errno(err, -errno, "open '%s'", name);
	d = fdopendir(fd);
	if (!d) {
		(void)close(fd);
		return ward_err_errno(err, -errno, "opendir '%s'", name);
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		r = rm_rf_at(dirfd(d), de->d_name, err);
		if (r < 0)
			break;
	}
	closedir(d);
	if (r < 0)
		return r;
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return ward_err_errno(err, -errno, "rmdir '%s'", name);
	return 0;
}

int ward_rm_rf(const char *path, struct ward_err *err)
{
	return rm_rf_at(AT_FDCWD, path, err);
}

int ward_mkdtemp(char *tmpl, struct ward_err *err)
{
	if (!mkdtemp(tmpl))
		return ward_err_errno(err, -errno, "mkdtemp '%s'", tmpl);
	return 0;
}
