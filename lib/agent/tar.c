/* SPDX-License-Identifier: Apache-2.0 */
/* Apply an OCI layer (an uncompressed tar in memory) to a directory.
 *
 * UNTRUSTED: every header. Even after the layer's HMAC verified, a layer
 * is only as trustworthy as whoever built the image, so every name and
 * link goes through the same checks: member names must be clean relative
 * paths, every lookup is openat2(RESOLVE_IN_ROOT) so neither "..", nor
 * absolute or relative symlinks, nor hardlink targets can leave the root,
 * and the final component is never followed. Formats: POSIX ustar, pax
 * extended headers (path, linkpath, size, uid, gid, mtime,
 * SCHILY.xattr.*), GNU long names/links and GNU base-256 numbers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ward/agent.h"
#include "ward/cleanup.h"
#include "ward/cursor.h"
#include "ward/file.h"
#include "ward/log.h"
#include "ward/util.h"

#define BLOCK 512
#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define MAX_XATTRS 64

int ward_open_in_root(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .mode = (flags & O_CREAT) ? mode : 0,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	do
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && (errno == EINTR || errno == EAGAIN));
	return fd < 0 ? -errno : (int)fd;
}

/* Paths created by the current layer: an opaque marker removes only what
 * lower layers put in its directory. Open addressing over string hashes. */
struct pathset {
	char **slot;
	size_t cap, count;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static int pathset_add(struct pathset *ps, const char *path)
{
	if (ps->count * 2 >= ps->cap) {
		size_t ncap = ps->cap ? ps->cap * 2 : 1024;
		char **ns = calloc(ncap, sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		for (size_t i = 0; i < ps->cap; i++) {
			size_t j;

			if (!ps->slot[i])
				continue;
			for (j = fnv1a(ps->slot[i]) & (ncap - 1); ns[j]; j = (j + 1) & (ncap - 1))
				;
			ns[j] = ps->slot[i];
		}
		free(ps->slot);
		ps->slot = ns;
		ps->cap = ncap;
	}
	size_t j = fnv1a(path) & (ps->cap - 1);
	for (; ps->slot[j]; j = (j + 1) & (ps->cap - 1))
		if (strcmp(ps->slot[j], path) == 0)
			return 0;
	ps->slot[j] = strdup(path);
	if (!ps->slot[j])
		return -ENOMEM;
	ps->count++;
	return 0;
}

static bool pathset_has(const struct pathset *ps, const char *path)
{
	if (!ps->cap)
		return false;
	for (size_t j = fnv1a(path) & (ps->cap - 1); ps->slot[j]; j = (j + 1) & (ps->cap - 1))
		if (strcmp(ps->slot[j], path) == 0)
			return true;
	return false;
}

static void pathset_clear(struct pathset *ps)
{
	for (size_t i = 0; i < ps->cap; i++)
		free(ps->slot[i]);
	free(ps->slot);
	*ps = (struct pathset){0};
}

struct xattr {
	char name[256];
	const uint8_t *value; /* borrowed from the tar buffer */
	size_t size;
};

/* One member, after pax/GNU overrides are merged. */
struct member {
	char type;
	char path[WARD_PATH_MAX + 1];
	char link[WARD_PATH_MAX + 1];
	mode_t mode;
	uint64_t uid, gid, size;
	int64_t mtime;
	unsigned devmajor, devminor;
	struct xattr xattrs[MAX_XATTRS];
	size_t xattr_count;
};

struct overrides {
	bool has_path, has_link, has_size, has_uid, has_gid, has_mtime;
	char path[WARD_PATH_MAX + 1];
	char link[WARD_PATH_MAX + 1];
	uint64_t size, uid, gid;
	int64_t mtime;
	struct xattr xattrs[MAX_XATTRS];
	size_t xattr_count;
};

struct unpacker {
	int rootfd;
	const struct ward_unpack_opts *opts;
	struct ward_unpack_stats stats;
	struct pathset created;
	/* cache of the last parent directory (members come sorted) */
	char parent_path[WARD_PATH_MAX + 1];
	int parent_fd;
	bool parent_setgid; /* new nodes there inherit the directory's group */
	bool root_owned;    /* we create nodes as 0:0 */
};

static void parent_cache_drop(struct unpacker *u)
{
	if (u->parent_fd >= 0)
		(void)close(u->parent_fd);
	u->parent_fd = -1;
	u->parent_path[0] = 0;
}

/* Numeric field: octal digits (leading spaces allowed, ended by space or
 * NUL) or GNU base-256 (high bit of the first byte set; negative refused). */
static int parse_num(const uint8_t *f, size_t n, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] & 0x40)
			return -WARD_E_MALFORMED; /* negative */
		v = f[0] & 0x3f;
		for (i = 1; i < n; i++) {
			if (v >> 56)
				return -WARD_E_MALFORMED;
			v = (v << 8) | f[i];
		}
		*ret = v;
		return 0;
	}
	while (i < n && (f[i] == ' ' || f[i] == 0))
		i++;
	if (i == n) {
		*ret = 0;
		return 0;
	}
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 61)
			return -WARD_E_MALFORMED;
		v = (v << 3) | (uint64_t)(f[i] - '0');
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != 0)
			return -WARD_E_MALFORMED;
	*ret = v;
	return 0;
}

static bool checksum_ok(const uint8_t *h)
{
	uint64_t want;
	uint32_t usum = 0;
	int32_t ssum = 0;

	if (parse_num(h + 148, 8, &want) < 0)
		return false;
	for (size_t i = 0; i < BLOCK; i++) {
		uint8_t b = (i >= 148 && i < 156) ? ' ' : h[i];

		usum += b;
		ssum += (int8_t)b;
	}
	return want == usum || (int64_t)want == ssum;
}

/* Copy a NUL-padded header field into out (size > n). */
static void field_str(const uint8_t *f, size_t n, char *out)
{
	size_t len = strnlen((const char *)f, n);

	memcpy(out, f, len);
	out[len] = 0;
}

/* Normalise a member name: drop leading "./" and "/" runs and a trailing
 * "/", then require a clean relative path. Empty (the root) is returned
 * as "". */
static int normalise(char *p, struct ward_err *err)
{
	char *s = p;
	size_t len;

	for (;;) {
		if (s[0] == '/')
			s++;
		else if (s[0] == '.' && s[1] == '/')
			s += 2;
		else
			break;
	}
	if (strcmp(s, ".") == 0)
		s += 1;
	memmove(p, s, strlen(s) + 1);
	len = strlen(p);
	while (len > 0 && p[len - 1] == '/')
		p[--len] = 0;
	if (len == 0)
		return 0;
	if (!ward_path_is_safe_relative(p))
		return ward_err_set(
		    err, -WARD_E_MALFORMED,
		    "member '%.200s': unsafe path (absolute, '..' or empty component)", p);
	return 0;
}

/* Parse pax records "LEN KEY=VALUE\n" into ov. */
static int parse_pax(struct ward_cur data, struct overrides *ov, struct ward_err *err)
{
	while (!ward_cur_empty(&data)) {
		const uint8_t *rec, *eq, *sp;
		uint64_t len = 0;
		size_t i = 0;

		/* length: decimal digits, then a space */
		while (i < data.left && i < 20 && data.p[i] >= '0' && data.p[i] <= '9')
			len = len * 10 + (uint64_t)(data.p[i++] - '0');
		if (i == 0 || i >= data.left || data.p[i] != ' ' || len <= i + 1 || len > data.left)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "pax header: bad record length");
		if (ward_cur_take(&data, (size_t)len, &rec) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED, "pax header: truncated");
		if (rec[len - 1] != '\n')
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "pax header: record without newline");
		sp = rec + i + 1;
		eq = memchr(sp, '=', (size_t)(rec + len - 1 - sp));
		if (!eq)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "pax header: record without '='");
		size_t klen = (size_t)(eq - sp);
		const uint8_t *val = eq + 1;
		size_t vlen = (size_t)(rec + len - 1 - val);
		char num[24];

#define KEY(s) (klen == sizeof(s) - 1 && memcmp(sp, s, klen) == 0)
		if (KEY("path") || KEY("linkpath")) {
			bool path = KEY("path");
			char *dst = path ? ov->path : ov->link;

			if (vlen > WARD_PATH_MAX || memchr(val, 0, vlen))
				return ward_err_set(err, -WARD_E_MALFORMED, "pax header: bad %s",
						    path ? "path" : "linkpath");
			memcpy(dst, val, vlen);
			dst[vlen] = 0;
			if (path)
				ov->has_path = true;
			else
				ov->has_link = true;
		} else if (KEY("size") || KEY("uid") || KEY("gid") || KEY("mtime")) {
			uint64_t v;
			size_t nlen = vlen;
			const uint8_t *dot = memchr(val, '.', vlen);

			if (KEY("mtime") && dot)
				nlen = (size_t)(dot - val); /* fractional seconds dropped */
			if (nlen == 0 || nlen >= sizeof(num))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "pax header: bad number");
			memcpy(num, val, nlen);
			num[nlen] = 0;
			if (ward_parse_u64(num, &v) < 0)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "pax header: bad number '%s'", num);
			if (KEY("size"))
				ov->size = v, ov->has_size = true;
			else if (KEY("uid"))
				ov->uid = v, ov->has_uid = true;
			else if (KEY("gid"))
				ov->gid = v, ov->has_gid = true;
			else
				ov->mtime = (int64_t)v, ov->has_mtime = true;
		} else if (klen > 13 && memcmp(sp, "SCHILY.xattr.", 13) == 0) {
			struct xattr *x;

			if (ov->xattr_count == MAX_XATTRS)
				return ward_err_set(err, -WARD_E_TOO_BIG,
						    "pax header: too many xattrs");
			if (klen - 13 >= sizeof(x->name) || memchr(sp + 13, 0, klen - 13) ||
			    vlen > WARD_AGENT_XATTR_MAX_SIZE)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "pax header: bad xattr");
			x = &ov->xattrs[ov->xattr_count++];
			memcpy(x->name, sp + 13, klen - 13);
			x->name[klen - 13] = 0;
			x->value = val;
			x->size = vlen;
		}
		/* other keys (atime, ctime, uname, gname, comment, ...) are ignored */
#undef KEY
	}
	return 0;
}

/* Has the GNU/pax long-name data a proper string (NUL-terminated or not)? */
static int long_name(struct ward_cur data, char *out, struct ward_err *err)
{
	size_t len = strnlen((const char *)data.p, data.left);

	if (len == 0 || len > WARD_PATH_MAX)
		return ward_err_set(err, -WARD_E_MALFORMED, "GNU long name: bad length");
	memcpy(out, data.p, len);
	out[len] = 0;
	return 0;
}

static int split(const char *path, char *parent, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		strcpy(parent, ".");
		*base = path;
	} else {
		memcpy(parent, path, (size_t)(slash - path));
		parent[slash - path] = 0;
		*base = slash + 1;
	}
	return 0;
}

/* Open (creating missing directories, 0755) the parent of a member. */
static int open_parent(struct unpacker *u, const char *parent, struct ward_err *err)
{
	char prefix[WARD_PATH_MAX + 1];
	int fd;

	if (u->parent_fd >= 0 && strcmp(parent, u->parent_path) == 0)
		return u->parent_fd;
	parent_cache_drop(u);
	fd = ward_open_in_root(u->rootfd, parent, O_PATH | O_DIRECTORY, 0);
	if (fd == -ENOENT) {
		/* mkdir -p, one component at a time, each resolved in the root */
		size_t len = strlen(parent);

		for (size_t i = 0; i <= len; i++) {
			if (parent[i] != '/' && parent[i] != 0)
				continue;
			memcpy(prefix, parent, i);
			prefix[i] = 0;
			fd = ward_open_in_root(u->rootfd, prefix, O_PATH | O_DIRECTORY, 0);
			if (fd == -ENOENT) {
				char pp[WARD_PATH_MAX + 1];
				const char *b;
				int pfd;

				split(prefix, pp, &b);
				pfd = ward_open_in_root(u->rootfd, pp, O_PATH | O_DIRECTORY, 0);
				if (pfd < 0)
					return ward_err_errno(err, pfd, "open directory '%s'", pp);
				if (mkdirat(pfd, b, 0755) < 0 && errno != EEXIST) {
					int e = -errno;

					(void)close(pfd);
					return ward_err_errno(err, e, "mkdir '%s'", prefix);
				}
				(void)close(pfd);
				fd = ward_open_in_root(u->rootfd, prefix, O_PATH | O_DIRECTORY, 0);
			}
			if (fd < 0)
				return ward_err_errno(err, fd, "open directory '%s'", prefix);
			if (i < len)
				(void)close(fd);
		}
	}
	if (fd < 0)
		return ward_err_errno(err, fd, "open directory '%s'", parent);
	u->parent_fd = fd;
	snprintf(u->parent_path, sizeof(u->parent_path), "%s", parent);
	{
		struct stat st;

		u->parent_setgid = fstat(fd, &st) < 0 || (st.st_mode & S_ISGID);
	}
	return fd;
}

/* Remove dirfd/name recursively (no symlink is followed). */
static int remove_tree_at(int dirfd, const char *name, struct ward_err *err);

static int empty_dir_fd(int fd, const char *what, const struct pathset *keep, const char *dirpath,
			struct ward_err *err)
{
	int dfd = dup(fd);
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (dfd < 0)
		return ward_err_errno(err, -errno, "dup");
	d = fdopendir(dfd);
	if (!d) {
		(void)close(dfd);
		return ward_err_errno(err, -errno, "open directory '%s'", what);
	}
	/* removing while reading may skip entries: repeat until a pass removes nothing */
	for (bool removed = true; removed && r == 0;) {
		removed = false;
		rewinddir(d);
		while ((de = readdir(d))) {
			char full[WARD_PATH_MAX + 1];

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if (keep) {
				if (dirpath[0])
					snprintf(full, sizeof(full), "%s/%s", dirpath, de->d_name);
				else
					snprintf(full, sizeof(full), "%s", de->d_name);
				if (pathset_has(keep, full))
					continue;
			}
			r = remove_tree_at(fd, de->d_name, err);
			if (r < 0)
				break;
			removed = true;
		}
	}
	closedir(d);
	return r;
}

static int remove_tree_at(int dirfd, const char *name, struct ward_err *err)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return ward_err_errno(err, -errno, "stat '%s'", name);
	}
	if (S_ISDIR(st.st_mode)) {
		WARD_AUTOCLOSE int fd =
		    openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int r;

		if (fd < 0)
			return ward_err_errno(err, -errno, "open directory '%s'", name);
		r = empty_dir_fd(fd, name, NULL, NULL, err);
		if (r < 0)
			return r;
		if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			return ward_err_errno(err, -errno, "rmdir '%s'", name);
		return 0;
	}
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return ward_err_errno(err, -errno, "unlink '%s'", name);
	return 0;
}

/* Ownership, mode, xattrs and mtime. fresh: we just created the node with
 * mode & 0777 (umask 0) as root, so chown and chmod are only needed when
 * they change something (a set-gid parent passes its group on). */
static int apply_meta(struct unpacker *u, int pfd, const char *base, int fd, const struct member *m,
		      bool fresh, struct ward_err *err)
{
	struct timespec ts[2] = {{.tv_sec = m->mtime}, {.tv_sec = m->mtime}};
	bool is_link = m->type == '2', chowned = false;

	if (!u->opts->no_chown) {
		if (m->uid > UINT32_MAX - 1 || m->gid > UINT32_MAX - 1)
			return ward_err_set(err, -WARD_E_MALFORMED, "member '%s': bad uid/gid",
					    m->path);
		if (!fresh || m->uid != 0 || m->gid != 0 || !u->root_owned || u->parent_setgid) {
			if (fd >= 0 ? fchown(fd, (uid_t)m->uid, (gid_t)m->gid) < 0
				    : fchownat(pfd, base, (uid_t)m->uid, (gid_t)m->gid,
					       AT_SYMLINK_NOFOLLOW) < 0)
				return ward_err_errno(err, -errno, "chown '%s'", m->path);
			chowned = true;
		}
	}
	/* after chown, which clears set-id bits */
	if (!is_link && (!fresh || chowned || (m->mode & 07000))) {
		if (fd >= 0 ? fchmod(fd, m->mode & 07777) < 0
			    : fchmodat(pfd, base, m->mode & 07777, 0) < 0)
			return ward_err_errno(err, -errno, "chmod '%s'", m->path);
	}
	if (!u->opts->no_xattrs && fd >= 0) {
		for (size_t i = 0; i < m->xattr_count; i++)
			if (fsetxattr(fd, m->xattrs[i].name, m->xattrs[i].value, m->xattrs[i].size,
				      0) < 0)
				ward_debug("unpack: xattr %s on '%s': %s", m->xattrs[i].name,
					   m->path, strerror(errno));
	}
	if (m->type == '5')
		return 0; /* directory times change as children arrive */
	if (fd >= 0 && m->type != '5' ? futimens(fd, ts) < 0
				      : utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return ward_err_errno(err, -errno, "set times of '%s'", m->path);
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n, const char *path, struct ward_err *err)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n > (1u << 30) ? (1u << 30) : n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return ward_err_errno(err, -errno, "write '%s'", path);
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Create the node for m in pfd/base. Returns 0 (with *ret_fd for regular
 * files and directories), 1 when skipped, -EEXIST when something is in the
 * way, or another negative code with err set. */
static int create_node(struct unpacker *u, int pfd, const char *base, const struct member *m,
		       const uint8_t *data, int *ret_fd, struct ward_err *err)
{
	mode_t perm = m->mode & 0777;
	int fd, r;

	switch (m->type) {
	case '0':
	case '7':
		fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm);
		if (fd < 0)
			return errno == EEXIST
				   ? -EEXIST
				   : ward_err_errno(err, -errno, "create '%s'", m->path);
		*ret_fd = fd;
		r = write_all(fd, data, m->size, m->path, err);
		if (r < 0)
			return r;
		u->stats.bytes += m->size;
		return 0;
	case '5':
		if (mkdirat(pfd, base, perm) < 0)
			return errno == EEXIST ? -EEXIST
					       : ward_err_errno(err, -errno, "mkdir '%s'", m->path);
		fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return ward_err_errno(err, -errno, "open directory '%s'", m->path);
		*ret_fd = fd;
		return 0;
	case '2':
		if (!m->link[0])
			return ward_err_set(err, -WARD_E_MALFORMED, "symlink '%s': empty target",
					    m->path);
		if (symlinkat(m->link, pfd, base) < 0)
			return errno == EEXIST
				   ? -EEXIST
				   : ward_err_errno(err, -errno, "symlink '%s'", m->path);
		return 0;
	case '1': {
		char target[WARD_PATH_MAX + 1], tparent[WARD_PATH_MAX + 1];
		const char *tbase;
		WARD_AUTOCLOSE int tpfd = -1;

		snprintf(target, sizeof(target), "%s", m->link);
		r = normalise(target, err);
		if (r < 0 || !target[0])
			return ward_err_set(err, -WARD_E_MALFORMED, "hardlink '%s': bad target",
					    m->path);
		split(target, tparent, &tbase);
		tpfd = ward_open_in_root(u->rootfd, tparent, O_PATH | O_DIRECTORY, 0);
		if (tpfd < 0)
			return ward_err_errno(err, tpfd, "hardlink '%s': target '%s'", m->path,
					      target);
		/* no AT_SYMLINK_FOLLOW: a symlink target is linked as the symlink */
		if (linkat(tpfd, tbase, pfd, base, 0) < 0)
			return errno == EEXIST
				   ? -EEXIST
				   : ward_err_errno(err, -errno, "hardlink '%s' -> '%s'", m->path,
						    target);
		return 1; /* a hardlink shares the target's metadata */
	}
	case '3':
	case '4':
	case '6': {
		mode_t type = m->type == '3' ? S_IFCHR : m->type == '4' ? S_IFBLK : S_IFIFO;

		if (type != S_IFIFO && u->opts->no_devices) {
			ward_debug("unpack: skipping device '%s'", m->path);
			return 1;
		}
		if (mknodat(pfd, base, type | perm, makedev(m->devmajor, m->devminor)) < 0)
			return errno == EEXIST ? -EEXIST
					       : ward_err_errno(err, -errno, "mknod '%s'", m->path);
		return 0;
	}
	default:
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "member '%s': unsupported type '%c'",
				    m->path, m->type);
	}
}

static int apply_member(struct unpacker *u, struct member *m, const uint8_t *data,
			struct ward_err *err)
{
	char parent[WARD_PATH_MAX + 1];
	const char *base;
	struct stat st;
	WARD_AUTOCLOSE int fd = -1;
	bool fresh = true;
	int pfd, r;

	split(m->path, parent, &base);

	/* whiteouts: apply to what lower layers left, never create anything */
	if (strcmp(base, WH_OPAQUE) == 0) {
		int dfd;

		dfd = ward_open_in_root(u->rootfd, parent, O_RDONLY | O_DIRECTORY, 0);
		if (dfd == -ENOENT)
			return 0;
		if (dfd < 0)
			return ward_err_errno(err, dfd, "opaque directory '%s'", parent);
		r = empty_dir_fd(dfd, parent, &u->created, strcmp(parent, ".") ? parent : "", err);
		(void)close(dfd);
		parent_cache_drop(u);
		u->stats.whiteouts++;
		return r;
	}
	if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0) {
		const char *victim = base + strlen(WH_PREFIX);

		if (!victim[0] || strcmp(victim, ".") == 0 || strcmp(victim, "..") == 0 ||
		    strchr(victim, '/'))
			return ward_err_set(err, -WARD_E_MALFORMED, "member '%s': bad whiteout",
					    m->path);
		pfd = ward_open_in_root(u->rootfd, parent, O_PATH | O_DIRECTORY, 0);
		if (pfd == -ENOENT)
			return 0;
		if (pfd < 0)
			return ward_err_errno(err, pfd, "whiteout '%s'", m->path);
		r = remove_tree_at(pfd, victim, err);
		(void)close(pfd);
		parent_cache_drop(u);
		u->stats.whiteouts++;
		return r < 0 ? ward_err_prefix(err, "whiteout '%s'", m->path) : 0;
	}

	pfd = open_parent(u, parent, err);
	if (pfd < 0)
		return ward_err_prefix(err, "member '%s'", m->path);

	/* create; if something is in the way (from a lower layer), replace it,
	 * except that a directory over a directory keeps it */
	for (int attempt = 0;; attempt++) {
		r = create_node(u, pfd, base, m, data, &fd, err);
		if (r != -EEXIST)
			break;
		if (attempt > 0 || fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return ward_err_errno(err, -EEXIST, "create '%s'", m->path);
		if (m->type == '5' && S_ISDIR(st.st_mode)) {
			fresh = false;
			fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			r = fd < 0 ? ward_err_errno(err, -errno, "open directory '%s'", m->path)
				   : 0;
			break;
		}
		r = remove_tree_at(pfd, base, err);
		if (r < 0)
			return ward_err_prefix(err, "member '%s'", m->path);
		/* what was removed may have been (or led to) the cached parent of
		 * later members: resolve again */
		parent_cache_drop(u);
		pfd = open_parent(u, parent, err);
		if (pfd < 0)
			return ward_err_prefix(err, "member '%s'", m->path);
	}
	if (r < 0)
		return r;
	if (r == 1 && m->type != '1')
		return 0; /* a device skipped with no_devices */
	if (r == 0) {
		r = apply_meta(u, pfd, base, fd, m, fresh, err);
		if (r < 0)
			return r;
	}
	if (m->type == '5')
		parent_cache_drop(u); /* a directory may have replaced a cached path */
	u->stats.entries++;
	return pathset_add(&u->created, m->path) < 0 ? ward_err_set(err, -ENOMEM, "out of memory")
						     : 0;
}

static int unpack(struct unpacker *u, const uint8_t *tar, size_t size, struct ward_err *err)
{
	struct ward_cur c = ward_cur_make(tar, size);
	struct overrides ov = {0};
	uint64_t max = u->opts->max_entries ? u->opts->max_entries : WARD_AGENT_MAX_ENTRIES;
	uint64_t headers = 0;
	static struct member m; /* large; the agent is single-threaded while unpacking */
	int r;

	for (;;) {
		const uint8_t *h, *data;
		uint64_t v, padded;
		struct ward_cur payload;
		char type;

		if (ward_cur_empty(&c))
			break; /* tolerated: writers that omit the end blocks */
		if (ward_cur_take(&c, BLOCK, &h) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED, "truncated tar header at %zu",
					    size - c.left);
		if (h[0] == 0) {
			bool zero = true;

			for (size_t i = 0; i < BLOCK && zero; i++)
				zero = h[i] == 0;
			if (zero)
				break; /* end of archive */
		}
		if (++headers > max)
			return ward_err_set(err, -WARD_E_TOO_BIG, "more than %llu tar entries",
					    (unsigned long long)max);
		if (!checksum_ok(h))
			return ward_err_set(err, -WARD_E_MALFORMED, "tar header checksum at %zu",
					    size - c.left - BLOCK);
		type = (char)h[156];
		if (type == 0)
			type = '0';
		if (parse_num(h + 124, 12, &v) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED, "tar header: bad size");
		if (ov.has_size && type != 'x' && type != 'g' && type != 'L' && type != 'K')
			v = ov.size;
		if (type == '1' || type == '2' || type == '3' || type == '4' || type == '5' ||
		    type == '6')
			v = 0; /* header-only types carry no data (as Go and GNU tar read them) */
		if (v > c.left)
			return ward_err_set(err, -WARD_E_MALFORMED, "tar member data truncated");
		padded = (v + BLOCK - 1) / BLOCK * BLOCK;
		if (ward_cur_sub(&c, (size_t)v, &payload) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED, "tar member data truncated");
		data = payload.p;
		if (padded - v > c.left)
			(void)ward_cur_skip(&c, c.left); /* tolerate a missing last padding */
		else
			(void)ward_cur_skip(&c, (size_t)(padded - v));

		switch (type) {
		case 'x':
			if (v > WARD_AGENT_PAX_MAX_SIZE)
				return ward_err_set(err, -WARD_E_TOO_BIG, "pax header too big");
			r = parse_pax(payload, &ov, err);
			if (r < 0)
				return r;
			continue;
		case 'g':
			continue; /* global pax: nothing we use */
		case 'L':
			r = long_name(payload, ov.path, err);
			if (r < 0)
				return r;
			ov.has_path = true;
			continue;
		case 'K':
			r = long_name(payload, ov.link, err);
			if (r < 0)
				return r;
			ov.has_link = true;
			continue;
		default:
			break;
		}

		memset(&m, 0, sizeof(m));
		m.type = type;
		if (ov.has_path) {
			memcpy(m.path, ov.path, sizeof(m.path));
		} else {
			char name[101], prefix[156];

			field_str(h, 100, name);
			field_str(h + 345, 155, prefix);
			/* ustar prefix only with the POSIX magic ("ustar\0"), not GNU's */
			if (memcmp(h + 257, "ustar\0", 6) == 0 && prefix[0])
				snprintf(m.path, sizeof(m.path), "%s/%s", prefix, name);
			else
				snprintf(m.path, sizeof(m.path), "%s", name);
		}
		if (ov.has_link)
			memcpy(m.link, ov.link, sizeof(m.link));
		else
			field_str(h + 157, 100, m.link);
		if (parse_num(h + 100, 8, &v) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED, "member '%.200s': bad mode",
					    m.path);
		m.mode = (mode_t)(v & 07777);
		if (parse_num(h + 108, 8, &m.uid) < 0 || parse_num(h + 116, 8, &m.gid) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED, "member '%.200s': bad uid/gid",
					    m.path);
		if (parse_num(h + 136, 12, &v) < 0)
			return ward_err_set(err, -WARD_E_MALFORMED, "member '%.200s': bad mtime",
					    m.path);
		m.mtime = (int64_t)v;
		if (ov.has_uid)
			m.uid = ov.uid;
		if (ov.has_gid)
			m.gid = ov.gid;
		if (ov.has_mtime)
			m.mtime = ov.mtime;
		m.size = payload.left;
		if (type == '3' || type == '4') {
			uint64_t ma, mi;

			if (parse_num(h + 329, 8, &ma) < 0 || parse_num(h + 337, 8, &mi) < 0 ||
			    ma > 0xfff || mi > 0xfffff)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "member '%.200s': bad device numbers", m.path);
			m.devmajor = (unsigned)ma;
			m.devminor = (unsigned)mi;
		}
		memcpy(m.xattrs, ov.xattrs, sizeof(m.xattrs));
		m.xattr_count = ov.xattr_count;
		memset(&ov, 0, sizeof(ov));

		r = normalise(m.path, err);
		if (r < 0)
			return r;
		if (!m.path[0])
			continue; /* the root itself */
		r = apply_member(u, &m, data, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int ward_unpack_tar(int rootfd, const uint8_t *tar, size_t size,
		    const struct ward_unpack_opts *opts, struct ward_unpack_stats *stats,
		    struct ward_err *err)
{
	static const struct ward_unpack_opts defaults = {0};
	struct unpacker u = {
	    .rootfd = rootfd,
	    .opts = opts ? opts : &defaults,
	    .parent_fd = -1,
	};
	mode_t old_umask;
	int r;

	/* nodes are created with their final permission bits */
	u.root_owned = geteuid() == 0 && getegid() == 0;
	old_umask = umask(0);
	r = unpack(&u, tar, size, err);
	umask(old_umask);
	parent_cache_drop(&u);
	pathset_clear(&u.created);
	if (r < 0)
		return r;
	if (stats) {
		stats->entries += u.stats.entries;
		stats->whiteouts += u.stats.whiteouts;
		stats->bytes += u.stats.bytes;
	}
	return 0;
}
