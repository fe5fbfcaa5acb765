/* SPDX-License-Identifier: Apache-2.0 */
/* ward convert --rootfs ext4, the filesystem side: make an empty ext4
 * filesystem with mke2fs and copy a built root volume (rootfs.c, where the
 * OCI layer rules live) into it with libext2fs: directories, regular
 * files, symlinks and hard links, with mode (set-id and sticky bits
 * included), owner and mtime (atime, ctime and crtime = mtime).
 *
 * This is the only file of libward that calls libext2fs. It is reached
 * only from the conversion path (ward_image_convert), so the static
 * ward-init, which links libward.a without libext2fs, never pulls it in. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ext2fs/ext2fs.h>

#include "image-internal.h"
#include "ward/cleanup.h"
#include "ward/file.h"
#include "ward/vol.h"

#define EXT4_DEPTH_MAX 1024 /* directory levels */
#define EXT4_INODE_SIZE 256 /* mke2fs's default for ext4 */

static void e2fs_freep(ext2_filsys *fs)
{
	if (*fs)
		(void)ext2fs_free(*fs);
}

static void register_e2_messages(void)
{
	initialize_ext2_error_table();
}

/* An errcode_t from libext2fs as a negative code with a message. Running
 * out of blocks or inodes is -ENOSPC, so the caller can say the
 * filesystem is too small; small values are errno values from the I/O
 * layer. */
static int e2err(struct ward_err *err, errcode_t e, const char *what, const char *path)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int code;

	/* com_err knows libext2fs's messages once its table is registered */
	(void)pthread_once(&once, register_e2_messages);
	if (e == EXT2_ET_BLOCK_ALLOC_FAIL || e == EXT2_ET_INODE_ALLOC_FAIL ||
	    e == EXT2_ET_DIR_NO_SPACE || e == ENOSPC)
		code = -ENOSPC;
	else if (e > 0 && e < 4096)
		code = -(int)e;
	else
		code = -EIO;
	return ward_err_set(err, code, "ext4 image: %s '%.200s': %s", what, path, error_message(e));
}

/* ---- mke2fs ---------------------------------------------------------------- */

static int find_mke2fs(char *out, size_t size)
{
	const char *path = getenv("PATH");
	static const char *const fallback[] = {"/usr/sbin", "/sbin"};
	struct stat st;

	while (path && *path) {
		size_t len = strcspn(path, ":");

		if (len > 0 && len < size - 8) {
			snprintf(out, size, "%.*s/mke2fs", (int)len, path);
			if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
				return 0;
		}
		path += len;
		if (*path == ':')
			path++;
	}
	for (size_t i = 0; i < sizeof(fallback) / sizeof(fallback[0]); i++) {
		snprintf(out, size, "%s/mke2fs", fallback[i]);
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

int img_ext4_mkfs(const char *path, uint64_t size, uint64_t inodes, struct ward_err *err)
{
	char prog[WARD_PATH_MAX + 16], n_arg[32], size_arg[32], msg[512];
	char *const envp[] = {(char *)"LC_ALL=C", NULL};
	char *argv[] = {prog,
			(char *)"-q",
			(char *)"-F",
			(char *)"-t",
			(char *)"ext4",
			(char *)"-b",
			(char *)"4096",
			(char *)"-m",
			(char *)"0",
			/* the feature set pinned, not taken from the host's
			 * mke2fs.conf: "none" clears its defaults first. Every
			 * kernel since 3.18 mounts it; no journal, no resize inode */
			(char *)"-O",
			(char *)"none,ext_attr,dir_index,filetype,extent,64bit,flex_bg,"
				"sparse_super,large_file,huge_file,dir_nlink,extra_isize,"
				"metadata_csum",
			(char *)"-I",
			(char *)"256",
			(char *)"-E",
			(char *)"lazy_itable_init=1,nodiscard,root_owner=0:0",
			(char *)"-N",
			n_arg,
			(char *)path,
			size_arg,
			NULL};
	posix_spawn_file_actions_t fa;
	int pipefd[2], status, r;
	size_t got = 0;
	pid_t pid;

	if (size == 0 || size % 4096 != 0 || inodes == 0 || inodes > UINT32_MAX)
		return ward_err_set(err, -WARD_E_USAGE, "ext4 image: bad geometry");
	if (find_mke2fs(prog, sizeof(prog)) < 0)
		return ward_err_set(err, -ENOENT,
				    "ext4 image: mke2fs not found in PATH, /usr/sbin or /sbin "
				    "(install e2fsprogs)");
	snprintf(n_arg, sizeof(n_arg), "%llu", (unsigned long long)inodes);
	snprintf(size_arg, sizeof(size_arg), "%lluk", (unsigned long long)(size / 1024));
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return ward_err_errno(err, -errno, "ext4 image: pipe");
	r = posix_spawn_file_actions_init(&fa);
	if (r == 0)
		r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (r == 0)
		r = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (r == 0)
		r = posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	if (r == 0)
		r = posix_spawn(&pid, prog, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	(void)close(pipefd[1]);
	if (r != 0) {
		(void)close(pipefd[0]);
		return ward_err_errno(err, -r, "ext4 image: run '%s'", prog);
	}
	/* keep the start of what it says; drain the rest so it never blocks */
	for (;;) {
		char tmp[512];
		ssize_t n = read(pipefd[0], tmp, sizeof(tmp));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n && got < sizeof(msg) - 1; i++)
			msg[got++] = tmp[i] == '\n' ? ' ' : tmp[i];
	}
	msg[got] = '\0';
	(void)close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return ward_err_errno(err, -errno, "ext4 image: wait for mke2fs");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return ward_err_set(err, -EIO, "ext4 image: '%s' failed (%s %d): %.300s", prog,
				    WIFEXITED(status) ? "exit status" : "signal",
				    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
				    got ? msg : "no message");
	return 0;
}

/* ---- the walk over the volume ---------------------------------------------- */

/* Volume inode -> ext4 inode of files with more than one name. Open
 * addressing; volume inode numbers are never 0. */
struct link_map {
	struct {
		uint64_t vino;
		uint32_t ino;
	} * slot;
	size_t cap, count;
};

static size_t link_hash(uint64_t v, size_t cap)
{
	return (size_t)(v * 0x9E3779B97F4A7C15ull) & (cap - 1);
}

static uint32_t link_get(const struct link_map *m, uint64_t vino)
{
	if (!m->cap)
		return 0;
	for (size_t i = link_hash(vino, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->slot[i].vino == 0)
			return 0;
		if (m->slot[i].vino == vino)
			return m->slot[i].ino;
	}
}

static int link_put(struct link_map *m, uint64_t vino, uint32_t ino)
{
	if ((m->count + 1) * 2 > m->cap) {
		size_t ncap = m->cap ? m->cap * 2 : 256;
		__typeof__(m->slot) n = calloc(ncap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (size_t i = 0; i < m->cap; i++) {
			size_t j;

			if (!m->slot[i].vino)
				continue;
			for (j = link_hash(m->slot[i].vino, ncap); n[j].vino;
			     j = (j + 1) & (ncap - 1))
				;
			n[j] = m->slot[i];
		}
		free(m->slot);
		m->slot = n;
		m->cap = ncap;
	}
	for (size_t i = link_hash(vino, m->cap);; i = (i + 1) & (m->cap - 1))
		if (!m->slot[i].vino) {
			m->slot[i].vino = vino;
			m->slot[i].ino = ino;
			m->count++;
			return 0;
		}
}

struct dent {
	char *name; /* owned */
	uint64_t vino;
	uint32_t ino; /* ext4 inode, once made */
	int type;     /* EXT2_FT_* */
};

struct dents {
	struct dent *v;
	size_t count, cap;
};

static void dents_clear(struct dents *d)
{
	for (size_t i = 0; i < d->count; i++)
		free(d->v[i].name);
	free(d->v);
	*d = (struct dents){0};
}

static void dents_clearp(struct dents *d)
{
	dents_clear(d);
}

static int dents_cb(void *ctx, const char *name, uint64_t ino, uint32_t mode, uint64_t next_off)
{
	struct dents *d = ctx;

	(void)mode;
	(void)next_off;
	if (d->count == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 16;
		struct dent *v = reallocarray(d->v, ncap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = ncap;
	}
	d->v[d->count].name = strdup(name);
	if (!d->v[d->count].name)
		return -ENOMEM;
	d->v[d->count++].vino = ino;
	return 0;
}

static int dent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name, ((const struct dent *)b)->name);
}

struct walk {
	ext2_filsys fs;	      /* NULL: census only */
	struct ward_vol *vol; /* borrowed */
	struct img_ext4_census *census;
	struct link_map links;
	uint8_t *buf;		      /* IMG_BUF_SIZE */
	char path[WARD_PATH_MAX + 1]; /* of the entry at hand, for messages */
	size_t path_len;
};

static int vol_err(struct ward_err *err, int r, const char *what, const char *path)
{
	return ward_err_set(err, r < 0 ? r : -EIO, "root volume: %s '%.200s': %s", what, path,
			    strerror(r < 0 ? -r : EIO));
}

static int path_push(struct walk *w, const char *name, size_t *ret_old, struct ward_err *err)
{
	size_t len = strlen(name);

	*ret_old = w->path_len;
	if (w->path_len + 1 + len > WARD_PATH_MAX)
		return ward_err_set(err, -ENAMETOOLONG, "ext4 image: path '%.200s/%.50s' too long",
				    w->path, name);
	w->path[w->path_len++] = '/';
	memcpy(w->path + w->path_len, name, len + 1);
	w->path_len += len;
	return 0;
}

static void path_pop(struct walk *w, size_t old)
{
	w->path_len = old;
	w->path[old] = '\0';
}

/* Seconds and nanoseconds of ns, the seconds clamped to what the inode
 * can hold (with the extra epoch bits: 1901..2446). */
static void put_time(int64_t ns, bool extra, __u32 *lo, __u32 *hi)
{
	int64_t sec = ns / 1000000000, nsec = ns % 1000000000;
	int64_t max = extra ? INT64_C(0x37fffffff) : INT32_MAX;

	if (nsec < 0) {
		nsec += 1000000000;
		sec--;
	}
	if (sec < INT32_MIN) {
		sec = INT32_MIN;
		nsec = 0;
	} else if (sec > max) {
		sec = max;
		nsec = 0;
	}
	*lo = (__u32)(uint32_t)sec;
	if (extra)
		*hi = (__u32)((((uint64_t)(sec - (int32_t)(uint32_t)sec) >> 32) & EXT4_EPOCH_MASK) |
			      (uint64_t)nsec << EXT4_EPOCH_BITS);
}

/* Mode bits (not the type), owner and times of an inode from st. */
static int set_attrs(struct walk *w, ext2_ino_t ino, const struct ward_vol_stat *st,
		     struct ward_err *err)
{
	struct ext2_inode_large in;
	bool extra;
	errcode_t e;

	memset(&in, 0, sizeof(in));
	e = ext2fs_read_inode_full(w->fs, ino, (struct ext2_inode *)&in, sizeof(in));
	if (e)
		return e2err(err, e, "read inode of", w->path_len ? w->path : "/");
	if (!LINUX_S_ISLNK(in.i_mode))
		in.i_mode = (__u16)((in.i_mode & LINUX_S_IFMT) | (st->mode & 07777));
	in.i_uid = (__u16)(st->uid & 0xffff);
	ext2fs_set_i_uid_high(in, st->uid >> 16);
	in.i_gid = (__u16)(st->gid & 0xffff);
	ext2fs_set_i_gid_high(in, st->gid >> 16);
	extra = in.i_extra_isize >= offsetof(struct ext2_inode_large, i_crtime_extra) +
					sizeof(in.i_crtime_extra) - EXT2_GOOD_OLD_INODE_SIZE;
	put_time(st->mtime_ns, extra, &in.i_mtime, &in.i_mtime_extra);
	put_time(st->mtime_ns, extra, &in.i_atime, &in.i_atime_extra);
	put_time(st->mtime_ns, extra, &in.i_ctime, &in.i_ctime_extra);
	if (extra)
		put_time(st->mtime_ns, extra, &in.i_crtime, &in.i_crtime_extra);
	e = ext2fs_write_inode_full(w->fs, ino, (struct ext2_inode *)&in, sizeof(in));
	if (e)
		return e2err(err, e, "write inode of", w->path_len ? w->path : "/");
	return 0;
}

/* Copy the volume file vino into the (empty) ext4 file ino in 1 MiB
 * pieces; blocks of zeros are left as holes. */
static int copy_data(struct walk *w, uint64_t vino, ext2_ino_t ino, uint64_t size,
		     struct ward_err *err)
{
	ext2_file_t f = NULL;
	unsigned bs = w->fs->blocksize;
	uint64_t off = 0;
	errcode_t e;
	int r = 0;

	e = ext2fs_file_open(w->fs, ino, EXT2_FILE_WRITE, &f);
	if (e)
		return e2err(err, e, "open", w->path);
	while (off < size && r >= 0) {
		size_t want = size - off < IMG_BUF_SIZE ? (size_t)(size - off) : IMG_BUF_SIZE;
		ssize_t n = ward_vol_read(w->vol, vino, w->buf, want, off);

		if (n <= 0) {
			r = vol_err(err, n < 0 ? (int)n : -EIO, n < 0 ? "read" : "short read of",
				    w->path);
			break;
		}
		for (size_t b = 0; b < (size_t)n && r >= 0;) {
			size_t end = b, len;
			unsigned got = 0;

			/* a run of blocks holding a non-zero byte */
			while (end < (size_t)n) {
				size_t blen = (size_t)n - end < bs ? (size_t)n - end : bs;

				if (w->buf[end] == 0 &&
				    memcmp(w->buf + end, w->buf + end + 1, blen - 1) == 0)
					break;
				end += blen;
			}
			len = end - b;
			if (len) {
				e = ext2fs_file_llseek(f, off + b, EXT2_SEEK_SET, NULL);
				if (!e)
					e = ext2fs_file_write(f, w->buf + b, (unsigned)len, &got);
				if (!e && got != len)
					e = EXT2_ET_SHORT_WRITE;
				if (e)
					r = e2err(err, e, "write", w->path);
				b = end;
			} else {
				b += (size_t)n - b < bs ? (size_t)n - b : bs; /* a hole */
			}
		}
		off += (uint64_t)n;
	}
	if (r >= 0) {
		/* a trailing hole: the size comes from the volume, not the writes */
		e = ext2fs_file_set_size2(f, size);
		if (e)
			r = e2err(err, e, "set size of", w->path);
	}
	e = ext2fs_file_close(f);
	if (e && r >= 0)
		r = e2err(err, e, "close", w->path);
	return r;
}

/* Census: what the filesystem must hold (ext4 sizes). */
static void count_entry(struct walk *w, const struct ward_vol_stat *st, size_t name_len,
			bool linked)
{
	struct img_ext4_census *c = w->census;

	c->entries++;
	c->dirent_bytes += 8 + ((name_len + 3) & ~(size_t)3);
	if (linked) {
		c->hardlinks++;
		return;
	}
	c->inodes++;
	switch (st->mode & S_IFMT) {
	case S_IFDIR:
		c->dirs++;
		break;
	case S_IFLNK:
		c->symlinks++;
		if (st->size >= 60) /* longer targets take a block */
			c->bytes += 4096;
		break;
	default:
		c->files++;
		c->file_bytes += st->size;
		c->bytes += (st->size + 4095) / 4096 * 4096;
		break;
	}
}

static int walk_dir(struct walk *w, uint64_t vdir, ext2_ino_t dir, ext2_ino_t parent,
		    unsigned depth, struct ward_err *err);

/* Make the inode of one entry of dir (not yet named in dir: walk_dir
 * writes the directory's blocks once all its entries exist) and record it
 * in d. */
static int walk_entry(struct walk *w, ext2_ino_t dir, struct dent *d, unsigned depth,
		      struct ward_err *err)
{
	struct ward_vol_stat st;
	ext2_ino_t ino = 0, linked = 0;
	errcode_t e;
	int r;

	r = ward_vol_getattr(w->vol, d->vino, &st);
	if (r < 0)
		return vol_err(err, r, "stat", w->path);
	if ((st.mode & S_IFMT) != S_IFDIR && st.nlink > 1)
		linked = link_get(&w->links, d->vino);
	if (!w->fs) {
		count_entry(w, &st, strlen(d->name), linked != 0);
		if (!linked && (st.mode & S_IFMT) != S_IFDIR && st.nlink > 1 &&
		    link_put(&w->links, d->vino, 1) < 0)
			return ward_err_set(err, -ENOMEM, "out of memory");
		if ((st.mode & S_IFMT) == S_IFDIR)
			return walk_dir(w, d->vino, 0, 0, depth + 1, err);
		return 0;
	}
	if (linked) {
		/* another name of a file already copied */
		struct ext2_inode in;

		e = ext2fs_read_inode(w->fs, linked, &in);
		if (!e && in.i_links_count >= EXT2_LINK_MAX)
			e = EXT2_ET_TOO_MANY_REFS;
		if (!e) {
			in.i_links_count++;
			e = ext2fs_write_inode(w->fs, linked, &in);
		}
		if (e)
			return e2err(err, e, "hard link", w->path);
		d->ino = linked;
		d->type = LINUX_S_ISLNK(in.i_mode) ? EXT2_FT_SYMLINK : EXT2_FT_REG_FILE;
		w->census->hardlinks++;
		return 0;
	}
	switch (st.mode & S_IFMT) {
	case S_IFDIR:
		/* no name: ext2fs_mkdir then only counts dir's new ".." */
		e = ext2fs_new_inode(w->fs, dir, LINUX_S_IFDIR | 0755, NULL, &ino);
		if (!e)
			e = ext2fs_mkdir(w->fs, dir, ino, NULL);
		if (e)
			return e2err(err, e, "make directory", w->path);
		d->ino = ino;
		d->type = EXT2_FT_DIR;
		w->census->dirs++;
		w->census->inodes++;
		r = walk_dir(w, d->vino, ino, dir, depth + 1, err);
		if (r < 0)
			return r;
		/* after its entries: writing them touched it */
		return set_attrs(w, ino, &st, err);
	case S_IFLNK: {
		char target[WARD_VOL_SYMLINK_MAX + 1];

		r = ward_vol_readlink(w->vol, d->vino, target, sizeof(target));
		if (r < 0)
			return vol_err(err, r, "read symlink", w->path);
		e = ext2fs_new_inode(w->fs, dir, LINUX_S_IFLNK | 0777, NULL, &ino);
		if (!e)
			e = ext2fs_symlink(w->fs, dir, ino, NULL, target);
		if (e)
			return e2err(err, e, "make symlink", w->path);
		d->type = EXT2_FT_SYMLINK;
		w->census->symlinks++;
		break;
	}
	case S_IFREG: {
		struct ext2_inode in;

		e = ext2fs_new_inode(w->fs, dir, LINUX_S_IFREG | 0644, NULL, &ino);
		if (e)
			return e2err(err, e, "create", w->path);
		ext2fs_inode_alloc_stats2(w->fs, ino, +1, 0);
		memset(&in, 0, sizeof(in));
		in.i_mode = (__u16)(LINUX_S_IFREG | (st.mode & 07777));
		in.i_links_count = 1;
		if (ext2fs_has_feature_extents(w->fs->super)) {
			/* an empty extent tree in i_block, as the library expects */
			ext2_extent_handle_t h;

			e = ext2fs_extent_open2(w->fs, ino, &in, &h);
			if (e)
				return e2err(err, e, "set up extents of", w->path);
			ext2fs_extent_free(h);
		}
		e = ext2fs_write_new_inode(w->fs, ino, &in);
		if (e)
			return e2err(err, e, "write inode of", w->path);
		if (st.size && (r = copy_data(w, d->vino, ino, st.size, err)) < 0)
			return r;
		d->type = EXT2_FT_REG_FILE;
		w->census->files++;
		w->census->file_bytes += st.size;
		break;
	}
	default:
		/* the volume holds only directories, files and symlinks */
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "root volume: '%.200s' has unexpected mode 0%o", w->path,
				    (unsigned)st.mode);
	}
	d->ino = ino;
	w->census->inodes++;
	if (st.nlink > 1 && link_put(&w->links, d->vino, ino) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	return set_attrs(w, ino, &st, err);
}

/* The blocks of a directory being written. */
struct dir_writer {
	ext2_filsys fs;
	ext2_ino_t dir;
	struct ext2_inode *inode;
	char *buf;	 /* one block */
	unsigned usable; /* block size less the checksum tail */
	unsigned used;	 /* bytes of buf holding entries */
	unsigned last;	 /* offset of the last entry in buf */
	blk64_t lblk;	 /* logical block being filled */
};

/* Write the block being filled (its last entry stretched to the end) at
 * logical block lblk: block 0 is mkdir's, the others are allocated. */
static errcode_t dw_flush(struct dir_writer *dw)
{
	struct ext2_dir_entry *last = (struct ext2_dir_entry *)(dw->buf + dw->last);
	blk64_t pblk = 0;
	errcode_t e;

	e = ext2fs_set_rec_len(dw->fs, dw->usable - dw->last, last);
	if (e)
		return e;
	if (dw->usable < dw->fs->blocksize)
		ext2fs_initialize_dirent_tail(dw->fs, EXT2_DIRENT_TAIL(dw->buf, dw->fs->blocksize));
	e = ext2fs_bmap2(dw->fs, dw->dir, dw->inode, NULL, dw->lblk ? BMAP_ALLOC : 0, dw->lblk,
			 NULL, &pblk);
	if (!e && !pblk)
		e = EXT2_ET_DIR_CORRUPTED; /* block 0 must exist */
	if (!e)
		e = ext2fs_write_dir_block4(dw->fs, pblk, dw->buf, 0, dw->dir);
	if (e)
		return e;
	dw->lblk++;
	dw->used = 0;
	memset(dw->buf, 0, dw->fs->blocksize);
	return 0;
}

static errcode_t dw_add(struct dir_writer *dw, const char *name, ext2_ino_t ino, int type)
{
	size_t len = strlen(name);
	unsigned rec = (unsigned)EXT2_DIR_REC_LEN(len);
	struct ext2_dir_entry *de;
	errcode_t e;

	if (dw->used + rec > dw->usable && (e = dw_flush(dw)) != 0)
		return e;
	de = (struct ext2_dir_entry *)(dw->buf + dw->used);
	de->inode = ino;
	ext2fs_dirent_set_name_len(de, (int)len);
	ext2fs_dirent_set_file_type(de, ext2fs_has_feature_filetype(dw->fs->super) ? type : 0);
	memcpy(de->name, name, len);
	e = ext2fs_set_rec_len(dw->fs, rec, de);
	if (e)
		return e;
	dw->last = dw->used;
	dw->used += rec;
	return 0;
}

/* Write directory dir's entries ("." and ".." first) as linear blocks in
 * one pass: libext2fs's ext2fs_link scans the whole directory for each
 * name, which made a directory of 30,000 names take seconds. */
static int write_dir(struct walk *w, ext2_ino_t dir, ext2_ino_t parent, const struct dents *d,
		     struct ward_err *err)
{
	WARD_AUTOFREE char *buf = calloc(1, w->fs->blocksize);
	struct ext2_inode in;
	struct dir_writer dw = {.fs = w->fs, .dir = dir, .inode = &in, .buf = buf};
	uint64_t old_size;
	errcode_t e;

	if (!buf)
		return ward_err_set(err, -ENOMEM, "out of memory");
	dw.usable = w->fs->blocksize;
	if (ext2fs_has_feature_metadata_csum(w->fs->super))
		dw.usable -= (unsigned)sizeof(struct ext2_dir_entry_tail);
	e = ext2fs_read_inode(w->fs, dir, &in);
	if (e)
		return e2err(err, e, "read directory", w->path_len ? w->path : "/");
	old_size = EXT2_I_SIZE(&in);
	e = dw_add(&dw, ".", dir, EXT2_FT_DIR);
	if (!e)
		e = dw_add(&dw, "..", parent, EXT2_FT_DIR);
	for (size_t i = 0; !e && i < d->count; i++)
		e = dw_add(&dw, d->v[i].name, d->v[i].ino, d->v[i].type);
	if (!e)
		e = dw_flush(&dw);
	if (!e)
		e = ext2fs_read_inode(w->fs, dir, &in); /* bmap2 wrote it */
	if (!e) {
		/* ".", the parent's entry and each subdirectory's ".."; past
		 * the limit, 1 means "many" (dir_nlink), as the kernel does */
		uint64_t links = 2;

		for (size_t i = 0; i < d->count; i++)
			links += d->v[i].type == EXT2_FT_DIR;
		if (links > EXT2_LINK_MAX && !ext2fs_has_feature_dir_nlink(w->fs->super))
			e = EXT2_ET_TOO_MANY_REFS;
		in.i_links_count = (__u16)(links > EXT2_LINK_MAX ? 1 : links);
	}
	if (!e && old_size > (uint64_t)dw.lblk * w->fs->blocksize)
		e = ext2fs_punch(w->fs, dir, &in, NULL, dw.lblk, ~(blk64_t)0);
	if (!e)
		e = ext2fs_inode_size_set(w->fs, &in, (uint64_t)dw.lblk * w->fs->blocksize);
	if (!e)
		e = ext2fs_write_inode(w->fs, dir, &in);
	if (e)
		return e2err(err, e, "write directory", w->path_len ? w->path : "/");
	return 0;
}

static int walk_dir(struct walk *w, uint64_t vdir, ext2_ino_t dir, ext2_ino_t parent,
		    unsigned depth, struct ward_err *err)
{
	WARD_CLEANUP(dents_clearp) struct dents d = {0};
	int r;

	if (depth > EXT4_DEPTH_MAX)
		return ward_err_set(err, -ELOOP, "root volume: '%.200s' nested too deep", w->path);
	r = ward_vol_readdir(w->vol, vdir, 0, dents_cb, &d);
	if (r < 0)
		return vol_err(err, r, "list", w->path_len ? w->path : "/");
	/* sorted: the same volume always gives the same inode numbers */
	if (d.count)
		qsort(d.v, d.count, sizeof(*d.v), dent_cmp);
	for (size_t i = 0; i < d.count; i++) {
		size_t old;

		r = path_push(w, d.v[i].name, &old, err);
		if (r >= 0)
			r = walk_entry(w, dir, &d.v[i], depth, err);
		path_pop(w, old);
		if (r < 0)
			return r;
	}
	return w->fs ? write_dir(w, dir, parent, &d, err) : 0;
}

int img_ext4_census(struct ward_vol *vol, struct img_ext4_census *ret, struct ward_err *err)
{
	WARD_AUTOFREE struct walk *w = calloc(1, sizeof(*w));
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!w)
		return ward_err_set(err, -ENOMEM, "out of memory");
	w->vol = vol;
	w->census = ret;
	r = walk_dir(w, WARD_VOL_ROOT_INO, 0, 0, 0, err);
	free(w->links.slot);
	if (r < 0)
		return r;
	ret->inodes++; /* the root */
	ret->dirs++;
	ret->bytes += (uint64_t)ret->dirs * 4096 + ret->dirent_bytes;
	return 0;
}

/* mke2fs made lost+found; a container's root has none unless the image
 * brings one (then the walk makes it again). */
static int drop_lost_found(ext2_filsys fs, struct ward_err *err)
{
	struct ext2_inode in, root;
	ext2_ino_t ino;
	errcode_t e;

	e = ext2fs_lookup(fs, EXT2_ROOT_INO, "lost+found", 10, NULL, &ino);
	if (e == EXT2_ET_FILE_NOT_FOUND)
		return 0;
	if (!e)
		e = ext2fs_read_inode(fs, ino, &in);
	if (!e && !LINUX_S_ISDIR(in.i_mode))
		e = EXT2_ET_NO_DIRECTORY;
	if (!e)
		e = ext2fs_punch(fs, ino, &in, NULL, 0, ~(blk64_t)0);
	if (!e)
		e = ext2fs_unlink(fs, EXT2_ROOT_INO, "lost+found", ino, 0);
	if (!e)
		e = ext2fs_read_inode(fs, ino, &in);
	if (!e) {
		in.i_links_count = 0;
		in.i_size = 0;
		in.i_dtime = (__u32)time(NULL);
		e = ext2fs_write_inode(fs, ino, &in);
	}
	if (!e) {
		ext2fs_inode_alloc_stats2(fs, ino, -1, 1);
		e = ext2fs_read_inode(fs, EXT2_ROOT_INO, &root);
	}
	if (!e) {
		root.i_links_count--;
		e = ext2fs_write_inode(fs, EXT2_ROOT_INO, &root);
	}
	if (e)
		return e2err(err, e, "remove", "/lost+found");
	return 0;
}

int img_ext4_populate(const char *path, struct ward_vol *vol, struct img_ext4_census *ret,
		      struct ward_err *err)
{
	WARD_CLEANUP(e2fs_freep) ext2_filsys fs = NULL;
	WARD_AUTOFREE struct walk *w = calloc(1, sizeof(*w));
	WARD_AUTOFREE uint8_t *buf = malloc(IMG_BUF_SIZE);
	struct ward_vol_stat st;
	errcode_t e;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!w || !buf)
		return ward_err_set(err, -ENOMEM, "out of memory");
	e = ext2fs_open2(path, NULL, EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0, unix_io_manager, &fs);
	if (e)
		return e2err(err, e, "open", path);
	e = ext2fs_read_bitmaps(fs);
	if (e)
		return e2err(err, e, "read bitmaps of", path);
	if (fs->blocksize != 4096 || EXT2_INODE_SIZE(fs->super) < EXT4_INODE_SIZE)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "ext4 image: mke2fs made %u-byte blocks and %u-byte inodes "
				    "(want 4096 and %u)",
				    fs->blocksize, EXT2_INODE_SIZE(fs->super), EXT4_INODE_SIZE);
	r = drop_lost_found(fs, err);
	if (r < 0)
		return r;
	w->fs = fs;
	w->vol = vol;
	w->buf = buf;
	w->census = ret;
	r = walk_dir(w, WARD_VOL_ROOT_INO, EXT2_ROOT_INO, EXT2_ROOT_INO, 0, err);
	if (r >= 0) {
		r = ward_vol_getattr(vol, WARD_VOL_ROOT_INO, &st);
		if (r < 0)
			r = vol_err(err, r, "stat", "/");
		else
			r = set_attrs(w, EXT2_ROOT_INO, &st, err);
	}
	free(w->links.slot);
	if (r < 0)
		return r;
	ret->inodes++;
	ret->dirs++;
	e = ext2fs_close_free(&fs);
	if (e)
		return e2err(err, e, "write", path);
	return 0;
}
