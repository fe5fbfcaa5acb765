/* SPDX-License-Identifier: Apache-2.0 */
/* FUSE front end (libfuse3 low-level API): maps kernel requests onto the
 * engine's inode operations. Inode numbers are the engine's own, so no
 * translation table is needed; the engine's lock serialises the work and
 * libfuse's worker threads overlap the kernel round trips. */
#define FUSE_USE_VERSION 312
#include <errno.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "ward/cleanup.h"
#include "ward/log.h"
#include "ward/vol.h"

#define TIMEOUT 60.0 /* the volume changes only through us */
#define MAX_IO (1u << 20)
/* Kernel readahead window: four MAX_IO requests, so sequential reads keep
 * several requests (and backing-store reads) in flight at once. */
#define READAHEAD_KB (4 * MAX_IO / 1024)

struct fs {
	struct ward_vol *vol;
	const struct ward_vol_fuse_opts *opts;
	bool no_open; /* read-only: the kernel opens files without asking us */
};

static struct ward_vol *VOL(fuse_req_t req)
{
	return ((struct fs *)fuse_req_userdata(req))->vol;
}

/* Negative errno or -WARD_E_* -> positive errno for the kernel (0 stays 0). */
static int fuse_errno(int r)
{
	if (r >= 0)
		return 0;
	return -r < WARD_E_BASE ? -r : EIO;
}

static void to_stat(const struct ward_vol_stat *s, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = s->ino;
	st->st_mode = s->mode;
	st->st_nlink = s->nlink;
	st->st_uid = s->uid;
	st->st_gid = s->gid;
	st->st_size = (off_t)s->size;
	st->st_blocks = (blkcnt_t)s->blocks;
	st->st_blksize = 1 << 16;
	st->st_atim.tv_sec = s->atime_ns / 1000000000;
	st->st_atim.tv_nsec = s->atime_ns % 1000000000;
	st->st_mtim.tv_sec = s->mtime_ns / 1000000000;
	st->st_mtim.tv_nsec = s->mtime_ns % 1000000000;
	st->st_ctim.tv_sec = s->ctime_ns / 1000000000;
	st->st_ctim.tv_nsec = s->ctime_ns % 1000000000;
}

static void reply_entry(fuse_req_t req, int r, const struct ward_vol_stat *s)
{
	struct fuse_entry_param e;

	if (r < 0) {
		fuse_reply_err(req, fuse_errno(r));
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = s->ino;
	e.generation = 1;
	e.attr_timeout = TIMEOUT;
	e.entry_timeout = TIMEOUT;
	to_stat(s, &e.attr);
	fuse_reply_entry(req, &e);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fs *fs = userdata;

	conn->max_write = MAX_IO;
	conn->max_read = MAX_IO;
	conn->max_readahead = MAX_IO;
	conn->max_background = 64;
	conn->congestion_threshold = 48;
	if (fs->opts->writeback_cache && (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	/* A read-only volume has no unlink-while-open to track, so opens
	 * need no round trip: answering ENOSYS to the first one makes the
	 * kernel open (and release) files by itself from then on, keeping
	 * their cached pages. nginx opens a file per request. */
	if (fs->opts->read_only && (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT)) {
		conn->want |= FUSE_CAP_NO_OPEN_SUPPORT;
		fs->no_open = true;
	}
	/* The kernel caches contents: it must not drop them on mtime
	 * changes it made itself (write-back). */
	conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct ward_vol_stat s;
	int r = ward_vol_lookup(VOL(req), parent, name, &s);

	if (r == -ENOENT) {
		/* Negative entry, cached by the kernel. */
		struct fuse_entry_param e;

		memset(&e, 0, sizeof(e));
		e.entry_timeout = TIMEOUT;
		fuse_reply_entry(req, &e);
		return;
	}
	reply_entry(req, r, &s);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino;
	(void)nlookup;
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ward_vol_stat s;
	struct stat st;
	int r = ward_vol_getattr(VOL(req), ino, &s);

	(void)fi;
	if (r < 0) {
		fuse_reply_err(req, fuse_errno(r));
		return;
	}
	to_stat(&s, &st);
	fuse_reply_attr(req, &st, TIMEOUT);
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct ward_vol_setattr sa = {0};
	struct ward_vol_stat s;
	struct timespec now;
	struct stat st;
	int r;

	(void)fi;
	clock_gettime(CLOCK_REALTIME, &now);
	if (to_set & FUSE_SET_ATTR_MODE) {
		sa.mask |= WARD_VOL_SET_MODE;
		sa.mode = attr->st_mode;
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		sa.mask |= WARD_VOL_SET_UID;
		sa.uid = attr->st_uid;
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		sa.mask |= WARD_VOL_SET_GID;
		sa.gid = attr->st_gid;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		sa.mask |= WARD_VOL_SET_SIZE;
		sa.size = (uint64_t)attr->st_size;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW)) {
		sa.mask |= WARD_VOL_SET_ATIME;
		sa.atime_ns = (to_set & FUSE_SET_ATTR_ATIME_NOW) ? ts_ns(&now) : ts_ns(&attr->st_atim);
	}
	if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)) {
		sa.mask |= WARD_VOL_SET_MTIME;
		sa.mtime_ns = (to_set & FUSE_SET_ATTR_MTIME_NOW) ? ts_ns(&now) : ts_ns(&attr->st_mtim);
	}
	r = ward_vol_setattr(VOL(req), ino, &sa, &s);
	if (r < 0) {
		fuse_reply_err(req, fuse_errno(r));
		return;
	}
	to_stat(&s, &st);
	fuse_reply_attr(req, &st, TIMEOUT);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[WARD_VOL_SYMLINK_MAX + 1];
	int r = ward_vol_readlink(VOL(req), ino, buf, sizeof(buf));

	if (r < 0)
		fuse_reply_err(req, fuse_errno(r));
	else
		fuse_reply_readlink(req, buf);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	const struct fuse_ctx *c = fuse_req_ctx(req);
	struct ward_vol_stat s;
	int r;

	(void)rdev;
	if (!S_ISREG(mode)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	r = ward_vol_create_file(VOL(req), parent, name, mode, c->uid, c->gid, &s);
	reply_entry(req, r, &s);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	const struct fuse_ctx *c = fuse_req_ctx(req);
	struct ward_vol_stat s;
	int r = ward_vol_mkdir(VOL(req), parent, name, mode, c->uid, c->gid, &s);

	reply_entry(req, r, &s);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	const struct fuse_ctx *c = fuse_req_ctx(req);
	struct ward_vol_stat s;
	int r = ward_vol_symlink(VOL(req), parent, name, link, c->uid, c->gid, &s);

	reply_entry(req, r, &s);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct ward_vol_stat s;
	int r = ward_vol_link(VOL(req), ino, newparent, newname, &s);

	reply_entry(req, r, &s);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, fuse_errno(ward_vol_unlink(VOL(req), parent, name)));
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, fuse_errno(ward_vol_rmdir(VOL(req), parent, name)));
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	fuse_reply_err(req,
		       fuse_errno(ward_vol_rename(VOL(req), parent, name, newparent, newname, flags)));
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int r;

	if (((struct fs *)fuse_req_userdata(req))->no_open) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	r = ward_vol_open_ino(VOL(req), ino);
	if (r < 0) {
		fuse_reply_err(req, fuse_errno(r));
		return;
	}
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	const struct fuse_ctx *c = fuse_req_ctx(req);
	struct fuse_entry_param e;
	struct ward_vol_stat s;
	int r = ward_vol_create_file(VOL(req), parent, name, S_IFREG | (mode & 07777), c->uid,
				     c->gid, &s);

	if (r == 0)
		r = ward_vol_open_ino(VOL(req), s.ino);
	if (r < 0) {
		fuse_reply_err(req, fuse_errno(r));
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = s.ino;
	e.generation = 1;
	e.attr_timeout = TIMEOUT;
	e.entry_timeout = TIMEOUT;
	to_stat(&s, &e.attr);
	fi->keep_cache = 1;
	if (fuse_reply_create(req, &e, fi) != 0)
		ward_vol_release_ino(VOL(req), s.ino);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	WARD_AUTOFREE uint8_t *buf = NULL;
	ssize_t n;

	(void)fi;
	if (size > MAX_IO)
		size = MAX_IO;
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = ward_vol_read(VOL(req), ino, buf, size, (uint64_t)off);
	if (n < 0)
		fuse_reply_err(req, fuse_errno((int)n));
	else
		fuse_reply_buf(req, (const char *)buf, (size_t)n);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	ssize_t n;

	(void)fi;
	n = ward_vol_write(VOL(req), ino, buf, size, (uint64_t)off);
	if (n < 0)
		fuse_reply_err(req, fuse_errno((int)n));
	else
		fuse_reply_write(req, (size_t)n);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	/* Nothing to do at close (data is committed by the commit timer and
	 * fsync): ENOSYS tells the kernel to stop sending flushes, saving a
	 * round trip per close(). */
	fuse_reply_err(req, ENOSYS);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	ward_vol_release_ino(VOL(req), ino);
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct ward_err err = WARD_ERR_INIT;
	int r;

	(void)ino;
	(void)datasync;
	(void)fi;
	r = ward_vol_commit(VOL(req), &err);
	if (r < 0)
		ward_error("volume: fsync: %s", err.msg);
	fuse_reply_err(req, r < 0 ? EIO : 0);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ward_vol_stat s;
	int r = ward_vol_getattr(VOL(req), ino, &s);

	if (r == 0 && !S_ISDIR(s.mode))
		r = -ENOTDIR;
	if (r < 0) {
		fuse_reply_err(req, fuse_errno(r));
		return;
	}
	fuse_reply_open(req, fi);
}

struct dirbuf {
	fuse_req_t req;
	char *buf;
	size_t size, used;
};

static int add_dirent(void *ctx, const char *name, uint64_t ino, uint32_t mode, uint64_t next_off)
{
	struct dirbuf *d = ctx;
	struct stat st;
	size_t need;

	memset(&st, 0, sizeof(st));
	st.st_ino = ino;
	st.st_mode = mode;
	need = fuse_add_direntry(d->req, d->buf + d->used, d->size - d->used, name, &st,
				 (off_t)(next_off + 2));
	if (need > d->size - d->used)
		return 1;
	d->used += need;
	return 0;
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	WARD_AUTOFREE char *buf = malloc(size ? size : 1);
	struct dirbuf d = {req, buf, size, 0};
	int r = 0;

	(void)fi;
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* Offsets: 1 after ".", 2 after "..", 2 + n after the n-th entry. */
	if (off < 1 && add_dirent(&d, ".", ino, S_IFDIR, (uint64_t)-1) == 0)
		off = 1;
	if (off < 2) {
		uint64_t parent = ino;

		(void)ward_vol_parent(VOL(req), ino, &parent);
		if (add_dirent(&d, "..", parent, S_IFDIR, 0) == 0)
			off = 2;
	}
	if (off >= 2)
		r = ward_vol_readdir(VOL(req), ino, (uint64_t)off - 2, add_dirent, &d);
	if (r < 0)
		fuse_reply_err(req, fuse_errno(r));
	else
		fuse_reply_buf(req, buf, d.used);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	op_fsync(req, ino, datasync, fi);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct ward_vol_statfs s;
	struct statvfs st;
	uint64_t total = 1ull << 40;

	(void)ino;
	ward_vol_statfs(VOL(req), &s);
	memset(&st, 0, sizeof(st));
	st.f_bsize = s.block_size;
	st.f_frsize = s.block_size;
	st.f_blocks = total / s.block_size;
	st.f_bfree = st.f_bavail = (total - WARD_MIN(total, s.bytes)) / s.block_size;
	st.f_files = WARD_VOL_INODES_MAX;
	st.f_ffree = st.f_favail = WARD_VOL_INODES_MAX - WARD_MIN(s.files, WARD_VOL_INODES_MAX);
	st.f_namemax = WARD_VOL_NAME_MAX;
	fuse_reply_statfs(req, &st);
}

static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.statfs = op_statfs,
	.create = op_create,
};

/* The kernel caps FUSE readahead at the backing-device default (128 KiB)
 * whatever max_readahead says; raise this mount's bdi readahead so
 * sequential reads arrive as 1 MiB requests, four at a time. Found via mountinfo (a stat
 * of our own mount point would wait for the loop that has not started).
 * Best effort: needs root and sysfs. */
static void raise_readahead(const char *mountpoint)
{
	char real[4096], line[8192], path[128];
	unsigned maj = 0, min = 0;
	bool found = false;
	FILE *f;

	if (!realpath(mountpoint, real) || !(f = fopen("/proc/self/mountinfo", "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned a, b;
		char mnt[4096];

		/* "id parent maj:min root mountpoint ..." (no escapes needed
		 * for the paths we compare: a mismatch only skips the tweak) */
		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &a, &b, mnt) == 3 &&
		    strcmp(mnt, real) == 0 && strstr(line, " fuse.ward")) {
			maj = a;
			min = b;
			found = true;
		}
	}
	fclose(f);
	if (!found)
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", maj, min);
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "%u\n", READAHEAD_KB);
		fclose(f);
	}
}

WARD_PRINTF(2, 0)
static void fuse_log_to_ward(enum fuse_log_level level, const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = 0;
	ward_log(level <= FUSE_LOG_ERR ? WARD_LOG_ERROR : WARD_LOG_DEBUG, "fuse: %s", line);
}

int ward_vol_fuse_serve(struct ward_vol *vol, const char *mountpoint,
			const struct ward_vol_fuse_opts *opts, struct ward_err *err)
{
	char optstr[256];
	char *argv[5];
	int argc = 0;
	struct fuse_args args;
	struct fs fs = {.vol = vol, .opts = opts};
	struct fuse_session *se;
	struct fuse_loop_config *cfg;
	int r;

	fuse_set_log_func(fuse_log_to_ward);
	snprintf(optstr, sizeof(optstr), "default_permissions,fsname=ward-volume,subtype=ward,max_read=%u%s%s",
		 MAX_IO, opts->allow_other ? ",allow_other" : "", opts->read_only ? ",ro" : "");
	argv[argc++] = (char *)"ward-volume";
	argv[argc++] = (char *)"-o";
	argv[argc++] = optstr;
	if (opts->debug)
		argv[argc++] = (char *)"-d";
	argv[argc] = NULL;
	args = (struct fuse_args)FUSE_ARGS_INIT(argc, argv);
	se = fuse_session_new(&args, &ops, sizeof(ops), &fs);
	fuse_opt_free_args(&args);
	if (!se)
		return ward_err_set(err, -EIO, "cannot create the FUSE session");
	if (fuse_set_signal_handlers(se) != 0) {
		fuse_session_destroy(se);
		return ward_err_set(err, -EIO, "cannot install signal handlers");
	}
	if (fuse_session_mount(se, mountpoint) != 0) {
		fuse_remove_signal_handlers(se);
		fuse_session_destroy(se);
		return ward_err_set(err, -EIO, "cannot mount at '%s' (is /dev/fuse usable?)",
				    mountpoint);
	}
	raise_readahead(mountpoint);
	if (opts->ready)
		opts->ready(opts->ready_ctx);
	cfg = fuse_loop_cfg_create();
	if (!cfg) {
		r = -ENOMEM;
	} else {
		fuse_loop_cfg_set_clone_fd(cfg, 1);
		if (opts->max_threads)
			fuse_loop_cfg_set_max_threads(cfg, opts->max_threads);
		r = fuse_session_loop_mt(se, cfg);
		fuse_loop_cfg_destroy(cfg);
	}
	fuse_session_unmount(se);
	fuse_remove_signal_handlers(se);
	fuse_session_destroy(se);
	if (r < 0)
		return ward_err_set(err, -EIO, "FUSE loop failed (%d)", r);
	r = ward_vol_commit(vol, err);
	if (r < 0)
		return ward_err_prefix(err, "final commit");
	return 0;
}
