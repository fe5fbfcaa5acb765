/* SPDX-License-Identifier: Apache-2.0 */
/* Image sources: an OCI layout directory (members opened beneath it with
 * openat2) or a tar archive (docker save, oci-archive) read with
 * libarchive. An archive is scanned once to list its members; a member is
 * streamed by reopening the archive and skipping to it, so memory stays
 * constant whatever the archive size. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image-internal.h"
#include "ward/file.h"

struct src_entry {
	char *name; /* owned, normalised (no leading "./") */
	char *link; /* owned: symlink / hardlink target, or NULL */
	char type;  /* 'f' file, 'd' dir, 's' symlink, 'h' hardlink */
	uint64_t size;
	size_t index; /* position in the archive */
};

struct img_src {
	char *path; /* owned */
	int dirfd;  /* >= 0 for a directory */
	struct src_entry *entries; /* owned (archives) */
	size_t entry_count;
};

struct img_blob {
	int fd;                 /* directory source */
	struct archive *ar;     /* archive source */
	bool ar_borrowed;
	uint64_t left;
	char name[128];
};

static const char *strip_dot(const char *n)
{
	while (n[0] == '.' && n[1] == '/')
		n += 2;
	return n;
}

static struct archive *archive_open(const char *path, struct ward_err *err)
{
	struct archive *a = archive_read_new();

	if (!a) {
		ward_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	archive_read_support_format_tar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	if (archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK) {
		ward_err_set(err, -WARD_E_MALFORMED, "'%.200s' is not a readable tar archive: %s",
			     path, archive_error_string(a) ? archive_error_string(a) : "?");
		archive_read_free(a);
		return NULL;
	}
	return a;
}

static int src_scan(struct img_src *s, struct ward_err *err)
{
	struct archive *a = archive_open(s->path, err);
	struct archive_entry *e;
	size_t cap = 0;
	int r;

	if (!a)
		return err ? err->code : -WARD_E_MALFORMED;
	for (size_t idx = 0;; idx++) {
		const char *raw, *name, *link = NULL;
		struct src_entry *se;
		mode_t ft;

		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			r = ward_err_set(err, -WARD_E_MALFORMED, "archive '%.200s': %s", s->path,
					 archive_error_string(a) ? archive_error_string(a) : "?");
			goto out;
		}
		if (idx >= IMG_ARCHIVE_MAX_ENTRIES) {
			r = ward_err_set(err, -WARD_E_TOO_BIG, "archive '%.200s': more than %d members",
					 s->path, IMG_ARCHIVE_MAX_ENTRIES);
			goto out;
		}
		raw = archive_entry_pathname(e);
		if (!raw) {
			r = ward_err_set(err, -WARD_E_MALFORMED, "archive member without a name");
			goto out;
		}
		r = ward_tar_path_check(raw, strlen(raw), err);
		if (r < 0) {
			ward_err_prefix(err, "archive '%.200s'", s->path);
			goto out;
		}
		name = strip_dot(raw);
		ft = archive_entry_filetype(e);
		if (archive_entry_hardlink(e)) {
			link = archive_entry_hardlink(e);
			r = ward_tar_path_check(link, strlen(link), err);
			if (r < 0) {
				ward_err_prefix(err, "archive '%.200s': hard link '%.100s'", s->path,
						name);
				goto out;
			}
			link = strip_dot(link);
		} else if (ft == AE_IFLNK) {
			link = archive_entry_symlink(e);
			if (!link)
				link = "";
		} else if (ft != AE_IFREG && ft != AE_IFDIR) {
			r = ward_err_set(err, -WARD_E_MALFORMED,
					 "archive '%.200s': member '%.100s' is not a file, "
					 "directory or link",
					 s->path, name);
			goto out;
		}
		if (archive_entry_size(e) < 0) {
			r = ward_err_set(err, -WARD_E_MALFORMED,
					 "archive '%.200s': member '%.100s' has a negative size",
					 s->path, name);
			goto out;
		}
		if (s->entry_count == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct src_entry *n = reallocarray(s->entries, ncap, sizeof(*n));

			if (!n) {
				r = ward_err_set(err, -ENOMEM, "out of memory");
				goto out;
			}
			s->entries = n;
			cap = ncap;
		}
		se = &s->entries[s->entry_count];
		*se = (struct src_entry){0};
		se->name = strdup(name);
		se->link = link ? strdup(link) : NULL;
		if (!se->name || (link && !se->link)) {
			free(se->name);
			free(se->link);
			r = ward_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		/* a trailing "/" on directory names */
		{
			size_t l = strlen(se->name);

			if (l > 1 && se->name[l - 1] == '/')
				se->name[l - 1] = '\0';
		}
		se->type = archive_entry_hardlink(e) ? 'h'
			   : ft == AE_IFLNK	      ? 's'
			   : ft == AE_IFDIR	      ? 'd'
						      : 'f';
		se->size = (uint64_t)archive_entry_size(e);
		se->index = idx;
		s->entry_count++;
	}
	r = 0;
out:
	archive_read_free(a);
	return r;
}

struct img_src *img_src_free(struct img_src *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->entry_count; i++) {
		free(s->entries[i].name);
		free(s->entries[i].link);
	}
	free(s->entries);
	if (s->dirfd >= 0)
		(void)close(s->dirfd);
	free(s->path);
	free(s);
	return NULL;
}

int img_src_open(const char *path, struct img_src **ret, struct ward_err *err)
{
	WARD_CLEANUP(img_src_freep) struct img_src *s = NULL;
	struct stat st;
	int r;

	if (stat(path, &st) < 0)
		return ward_err_errno(err, -errno, "input '%.200s'", path);
	s = calloc(1, sizeof(*s));
	if (!s)
		return ward_err_set(err, -ENOMEM, "out of memory");
	s->dirfd = -1;
	s->path = strdup(path);
	if (!s->path)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (S_ISDIR(st.st_mode)) {
		s->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (s->dirfd < 0)
			return ward_err_errno(err, -errno, "input '%.200s'", path);
	} else if (S_ISREG(st.st_mode)) {
		r = src_scan(s, err);
		if (r < 0)
			return r;
	} else {
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "input '%.200s' is neither a directory nor a file", path);
	}
	*ret = WARD_TAKE_PTR(s);
	return 0;
}

/* Normalise "dir/../x" style link targets relative to the link's directory;
 * fail if the result leaves the archive root. */
static int resolve_link(const char *from, const char *target, char *out, size_t out_size)
{
	char buf[1024];
	size_t n = 0;
	const char *p;

	if (target[0] == '/')
		return -1;
	/* start from the directory of from */
	p = strrchr(from, '/');
	if (p) {
		n = (size_t)(p - from);
		if (n >= sizeof(buf))
			return -1;
		memcpy(buf, from, n);
	}
	buf[n] = '\0';
	p = target;
	while (*p) {
		const char *sl = strchr(p, '/');
		size_t len = sl ? (size_t)(sl - p) : strlen(p);

		if (len == 0 || (len == 1 && p[0] == '.')) {
			/* skip */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			char *last;

			if (n == 0)
				return -1;
			last = strrchr(buf, '/');
			n = last ? (size_t)(last - buf) : 0;
			buf[n] = '\0';
		} else {
			if (n + 1 + len + 1 > sizeof(buf))
				return -1;
			if (n)
				buf[n++] = '/';
			memcpy(buf + n, p, len);
			n += len;
			buf[n] = '\0';
		}
		p += len + (sl ? 1 : 0);
	}
	if (n == 0 || n + 1 > out_size)
		return -1;
	memcpy(out, buf, n + 1);
	return 0;
}

/* Find a regular-file member, following up to 8 links. */
static const struct src_entry *src_find(struct img_src *s, const char *name, struct ward_err *err)
{
	char cur[1024];

	if (strlen(name) >= sizeof(cur)) {
		ward_err_set(err, -WARD_E_MALFORMED, "member name too long");
		return NULL;
	}
	strcpy(cur, strip_dot(name));
	for (int hop = 0; hop < 8; hop++) {
		const struct src_entry *e = NULL;

		for (size_t i = 0; i < s->entry_count; i++)
			if (strcmp(s->entries[i].name, cur) == 0) {
				if (e) {
					ward_err_set(err, -WARD_E_MALFORMED,
						     "archive member '%.100s' appears twice", cur);
					return NULL;
				}
				e = &s->entries[i];
			}
		if (!e) {
			ward_err_set(err, -WARD_E_NOT_FOUND, "no member '%.200s' in '%.200s'", cur,
				     s->path);
			return NULL;
		}
		if (e->type == 'f')
			return e;
		if (e->type == 'd') {
			ward_err_set(err, -WARD_E_MALFORMED, "member '%.200s' is a directory", cur);
			return NULL;
		}
		if (e->type == 'h') {
			snprintf(cur, sizeof(cur), "%s", e->link);
			continue;
		}
		if (resolve_link(e->name, e->link, cur, sizeof(cur)) < 0) {
			ward_err_set(err, -WARD_E_MALFORMED,
				     "symlink '%.100s' -> '%.100s' leaves the archive", e->name,
				     e->link);
			return NULL;
		}
	}
	ward_err_set(err, -WARD_E_MALFORMED, "too many links resolving '%.200s'", name);
	return NULL;
}

bool img_src_exists(struct img_src *s, const char *name)
{
	if (s->dirfd >= 0) {
		struct stat st;

		if (!ward_path_is_safe_relative(name))
			return false;
		return fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	}
	for (size_t i = 0; i < s->entry_count; i++)
		if (strcmp(s->entries[i].name, strip_dot(name)) == 0)
			return true;
	return false;
}

struct img_blob *img_blob_free(struct img_blob *b)
{
	if (!b)
		return NULL;
	if (b->fd >= 0)
		(void)close(b->fd);
	if (b->ar && !b->ar_borrowed)
		archive_read_free(b->ar);
	free(b);
	return NULL;
}

int img_blob_open(struct img_src *s, const char *name, struct img_blob **ret,
		  uint64_t *ret_size, struct ward_err *err)
{
	WARD_CLEANUP(img_blob_freep) struct img_blob *b = calloc(1, sizeof(*b));
	int r;

	if (!b)
		return ward_err_set(err, -ENOMEM, "out of memory");
	b->fd = -1;
	snprintf(b->name, sizeof(b->name), "%s", name);
	if (s->dirfd >= 0) {
		struct stat st;

		r = ward_openat_beneath(s->dirfd, name, O_RDONLY | O_NOFOLLOW, 0, err);
		if (r < 0)
			return ward_err_prefix(err, "image '%.200s'", s->path);
		b->fd = r;
		if (fstat(b->fd, &st) < 0)
			return ward_err_errno(err, -errno, "stat '%.200s'", name);
		if (!S_ISREG(st.st_mode))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "image member '%.200s' is not a regular file", name);
		b->left = (uint64_t)st.st_size;
	} else {
		const struct src_entry *e = src_find(s, name, err);
		struct archive_entry *ae;

		if (!e)
			return err ? err->code : -WARD_E_NOT_FOUND;
		b->ar = archive_open(s->path, err);
		if (!b->ar)
			return err ? err->code : -WARD_E_MALFORMED;
		for (size_t i = 0; i <= e->index; i++) {
			r = archive_read_next_header(b->ar, &ae);
			if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "archive '%.200s' changed while reading",
						    s->path);
		}
		if (strcmp(strip_dot(archive_entry_pathname(ae)), e->name) != 0)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "archive '%.200s' changed while reading", s->path);
		b->left = e->size;
	}
	if (ret_size)
		*ret_size = b->left;
	*ret = WARD_TAKE_PTR(b);
	return 0;
}

int img_blob_borrow_archive(void *archive, uint64_t size, const char *name,
			    struct img_blob **ret, struct ward_err *err)
{
	struct img_blob *b = calloc(1, sizeof(*b));

	if (!b)
		return ward_err_set(err, -ENOMEM, "out of memory");
	b->fd = -1;
	b->ar = archive;
	b->ar_borrowed = true;
	b->left = size;
	snprintf(b->name, sizeof(b->name), "%s", name);
	*ret = b;
	return 0;
}

int img_blob_from_fd(int fd, uint64_t size, const char *name, struct img_blob **ret,
		     struct ward_err *err)
{
	struct img_blob *b;

	if (fd < 0)
		return ward_err_set(err, -EBADF, "blob '%.100s': no file descriptor", name);
	b = calloc(1, sizeof(*b));
	if (!b)
		return ward_err_set(err, -ENOMEM, "out of memory");
	b->fd = fd;
	b->left = size;
	snprintf(b->name, sizeof(b->name), "%s", name);
	*ret = b;
	return 0;
}

int img_blob_read(struct img_blob *b, void *buf, size_t size, size_t *ret_got,
		  struct ward_err *err)
{
	ssize_t n;

	if (size > b->left)
		size = (size_t)b->left;
	if (size == 0) {
		*ret_got = 0;
		return 0;
	}
	if (b->fd >= 0) {
		do
			n = read(b->fd, buf, size);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return ward_err_errno(err, -errno, "read '%.100s'", b->name);
	} else {
		n = archive_read_data(b->ar, buf, size);
		if (n < 0)
			return ward_err_set(err, -WARD_E_MALFORMED, "read '%.100s': %s", b->name,
					    archive_error_string(b->ar) ? archive_error_string(b->ar)
									: "?");
	}
	if (n == 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "'%.100s' is truncated", b->name);
	if ((size_t)n > size)
		return ward_err_set(err, -WARD_E_MALFORMED, "read '%.100s': too many bytes",
				    b->name);
	b->left -= (uint64_t)n;
	*ret_got = (size_t)n;
	return 0;
}

int img_src_read(struct img_src *s, const char *name, size_t max, uint8_t **ret,
		 size_t *ret_size, struct ward_err *err)
{
	WARD_CLEANUP(img_blob_freep) struct img_blob *b = NULL;
	WARD_AUTOFREE uint8_t *buf = NULL;
	uint64_t size;
	size_t off = 0, got;
	int r;

	r = img_blob_open(s, name, &b, &size, err);
	if (r < 0)
		return r;
	if (size > max)
		return ward_err_set(err, -WARD_E_TOO_BIG, "'%.200s' is %llu bytes, limit %zu", name,
				    (unsigned long long)size, max);
	buf = malloc((size_t)size + 1);
	if (!buf)
		return ward_err_set(err, -ENOMEM, "out of memory");
	while (off < size) {
		r = img_blob_read(b, buf + off, (size_t)size - off, &got, err);
		if (r < 0)
			return r;
		off += got;
	}
	buf[size] = '\0';
	*ret = WARD_TAKE_PTR(buf);
	*ret_size = (size_t)size;
	return 0;
}
