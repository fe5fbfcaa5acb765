/* SPDX-License-Identifier: Apache-2.0 */
/* ward convert --rootfs volume: the image's root filesystem as a Ward
 * protected volume (lib/vol: encrypted names and blocks, authenticated
 * metadata, one root hash) instead of encrypted tar layers.
 *
 * The layers are applied in order straight from their (compressed) tar
 * streams into a new volume under a fresh random key, with OCI layer
 * semantics: whiteouts, opaque directories, hard links (shared inodes in
 * the volume), symlinks, modes, owners and mtimes. Device nodes, FIFOs and
 * sockets cannot live in a volume and are skipped with a warning (as
 * rootless unpackers do); extended attributes are dropped with a warning.
 * Each layer blob is hashed while it is read and checked against the
 * manifest digest (or, for uncompressed docker-save layers, the diff_id):
 * a mismatch fails the conversion.
 *
 * The volume's backing files (ciphertext) are then carried in the ward
 * layer under .ward/rootfs/, and the volume key travels like a layer key:
 * ocicrypt private options {"symkey": key, "digest": "sha256:<root hash>"}
 * wrapped as a JWE for each recipient (and/or in --export-keys under the
 * name "sha256:<root hash>"). docs/images.md describes the format.
 *
 * --rootfs ext4 (rootfs-ext4.c) builds the same volume, as a temporary
 * step, and copies it into an ext4 filesystem image: the layer rules live
 * here only. The key wrapping, config and key export below serve both. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image-internal.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/log.h"
#include "ward/vol.h"

#define ROOTFS_SYMLINK_HOPS 40
#define ROOTFS_DEPTH_MAX 1024 /* directory levels */

WARD_DEFINE_FREEP(struct archive, archive_read_free)

/* Inode numbers created or replaced by the layer being applied: an opaque
 * marker removes everything else in its directory. Open addressing; the
 * engine never reuses an inode number, so a stale entry cannot alias. */
struct ino_set {
	uint64_t *slot;
	size_t cap, count;
};

static void ino_set_clear(struct ino_set *s)
{
	free(s->slot);
	*s = (struct ino_set){0};
}

static bool ino_set_has(const struct ino_set *s, uint64_t ino)
{
	if (!s->cap)
		return false;
	for (size_t i = (size_t)(ino * 0x9E3779B97F4A7C15ull) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (s->slot[i] == 0)
			return false;
		if (s->slot[i] == ino)
			return true;
	}
}

static int ino_set_add(struct ino_set *s, uint64_t ino)
{
	if (ino_set_has(s, ino))
		return 0;
	if ((s->count + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 1024;
		uint64_t *n = calloc(ncap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (size_t i = 0; i < s->cap; i++) {
			uint64_t v = s->slot[i];

			if (!v)
				continue;
			for (size_t j = (size_t)(v * 0x9E3779B97F4A7C15ull) & (ncap - 1);; j = (j + 1) & (ncap - 1))
				if (!n[j]) {
					n[j] = v;
					break;
				}
		}
		free(s->slot);
		s->slot = n;
		s->cap = ncap;
	}
	for (size_t i = (size_t)(ino * 0x9E3779B97F4A7C15ull) & (s->cap - 1);; i = (i + 1) & (s->cap - 1))
		if (!s->slot[i]) {
			s->slot[i] = ino;
			s->count++;
			return 0;
		}
}

struct dir_time {
	uint64_t ino;
	int64_t mtime_ns;
};

struct apply {
	struct ward_vol *vol;
	struct ino_set layer; /* touched by the current layer */
	struct dir_time *dirs; /* directory mtimes, set when the layer ends */
	size_t dir_count, dir_cap;
	uint8_t *buf;
	struct img_rootfs_stats *stats;
	size_t layer_index;
};

static int vol_errno(struct ward_err *err, int r, const char *what, const char *path)
{
	return ward_err_set(err, r < 0 ? r : -EIO, "%s '%.200s': %s", what, path, strerror(-r));
}

/* Names of a directory's entries (for removal). */
struct names {
	char **v;
	size_t count, cap;
};

static void names_clear(struct names *n)
{
	for (size_t i = 0; i < n->count; i++)
		free(n->v[i]);
	free(n->v);
	*n = (struct names){0};
}

static int names_cb(void *ctx, const char *name, uint64_t ino, uint32_t mode, uint64_t next_off)
{
	struct names *n = ctx;

	(void)ino;
	(void)mode;
	(void)next_off;
	if (n->count == n->cap) {
		size_t ncap = n->cap ? n->cap * 2 : 16;
		char **v = reallocarray(n->v, ncap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		n->v = v;
		n->cap = ncap;
	}
	n->v[n->count] = strdup(name);
	if (!n->v[n->count])
		return -ENOMEM;
	n->count++;
	return 0;
}

/* Remove dir/name and, for a directory, everything below it. */
static int rm_rf(struct ward_vol *vol, uint64_t dir, const char *name, unsigned depth)
{
	struct ward_vol_stat st;
	int r;

	if (depth > 1024)
		return -ELOOP;
	r = ward_vol_lookup(vol, dir, name, &st);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	if ((st.mode & S_IFMT) == S_IFDIR) {
		struct names n = {0};

		r = ward_vol_readdir(vol, st.ino, 0, names_cb, &n);
		for (size_t i = 0; r >= 0 && i < n.count; i++)
			r = rm_rf(vol, st.ino, n.v[i], depth + 1);
		names_clear(&n);
		if (r < 0)
			return r;
		return ward_vol_rmdir(vol, dir, name);
	}
	return ward_vol_unlink(vol, dir, name);
}

/* Resolve path (relative to the root, '/'-separated, already checked)
 * to a directory, following symlinks inside the volume as a runtime
 * resolves paths inside a container's root: an absolute target restarts at
 * the volume's root and ".." stops there. Missing directories are created
 * (0755, root) when create is set. */
static int resolve_dir(struct apply *a, const char *path, bool create, uint64_t *ret)
{
	uint64_t stack[ROOTFS_DEPTH_MAX];
	size_t depth = 1;
	unsigned hops = 0;
	WARD_AUTOFREE char *work = strdup(path);
	const char *p;
	int r;

	if (!work)
		return -ENOMEM;
	stack[0] = WARD_VOL_ROOT_INO;
	p = work;
	while (*p) {
		char comp[WARD_VOL_NAME_MAX + 1];
		size_t len = strcspn(p, "/");
		struct ward_vol_stat st;

		if (len == 0) {
			p++;
			continue;
		}
		if (len > WARD_VOL_NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, p, len);
		comp[len] = '\0';
		p += len;
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			if (depth > 1)
				depth--;
			continue;
		}
		r = ward_vol_lookup(a->vol, stack[depth - 1], comp, &st);
		if (r == -ENOENT && create) {
			r = ward_vol_mkdir(a->vol, stack[depth - 1], comp, 0755, 0, 0, &st);
			if (r >= 0)
				r = ino_set_add(&a->layer, st.ino);
		}
		if (r < 0)
			return r;
		if ((st.mode & S_IFMT) == S_IFLNK) {
			char target[WARD_VOL_SYMLINK_MAX + 1];
			char *next = NULL;

			if (++hops > ROOTFS_SYMLINK_HOPS)
				return -ELOOP;
			r = ward_vol_readlink(a->vol, st.ino, target, sizeof(target));
			if (r < 0)
				return r;
			if (target[0] == '/')
				depth = 1;
			/* continue with "target/rest" from the symlink's directory */
			if (asprintf(&next, "%s/%s", target, p) < 0)
				return -ENOMEM;
			free(work);
			work = next;
			p = work;
			continue;
		}
		if ((st.mode & S_IFMT) != S_IFDIR)
			return -ENOTDIR;
		if (depth == ROOTFS_DEPTH_MAX)
			return -ENAMETOOLONG;
		stack[depth++] = st.ino;
	}
	*ret = stack[depth - 1];
	return 0;
}

/* Split "a/b/c" into parent "a/b" (in buf) and name "c". */
static const char *split(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		buf[0] = '\0';
		return path;
	}
	snprintf(buf, size, "%.*s", (int)(slash - path), path);
	return slash + 1;
}

static int note_dir_time(struct apply *a, uint64_t ino, int64_t mtime_ns)
{
	if (a->dir_count == a->dir_cap) {
		size_t ncap = a->dir_cap ? a->dir_cap * 2 : 256;
		struct dir_time *d = reallocarray(a->dirs, ncap, sizeof(*d));

		if (!d)
			return -ENOMEM;
		a->dirs = d;
		a->dir_cap = ncap;
	}
	a->dirs[a->dir_count++] = (struct dir_time){ino, mtime_ns};
	return 0;
}

static int set_times(struct ward_vol *vol, uint64_t ino, int64_t mtime_ns)
{
	struct ward_vol_setattr sa = {.mask = WARD_VOL_SET_MTIME | WARD_VOL_SET_ATIME,
				      .atime_ns = mtime_ns,
				      .mtime_ns = mtime_ns};

	return ward_vol_setattr(vol, ino, &sa, NULL);
}

/* Normalise a member name: strip leading "./" (and a lone "."), trailing
 * '/'. Returns "" for the root. */
static int member_name(const char *raw, char *out, size_t size, struct ward_err *err)
{
	size_t len;

	while (raw[0] == '.' && raw[1] == '/')
		raw += 2;
	while (raw[0] == '/' && raw[1] == '\0')
		raw++;
	if (strcmp(raw, ".") == 0)
		raw = "";
	len = strlen(raw);
	while (len && raw[len - 1] == '/')
		len--;
	if (len >= size)
		return ward_err_set(err, -WARD_E_MALFORMED, "tar member name too long");
	memcpy(out, raw, len);
	out[len] = '\0';
	if (len && ward_tar_path_check(out, len, err) < 0)
		return err->code;
	return 0;
}

static int apply_entry(struct apply *a, struct archive *ar, struct archive_entry *e,
		       struct ward_err *err)
{
	char path[WARD_PATH_MAX + 1], parent_path[WARD_PATH_MAX + 1];
	const char *name, *hardlink = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	uint32_t perm = (uint32_t)archive_entry_perm(e) & 07777;
	uint32_t uid = (uint32_t)archive_entry_uid(e), gid = (uint32_t)archive_entry_gid(e);
	int64_t mtime_ns = (int64_t)archive_entry_mtime(e) * 1000000000 +
			   (archive_entry_mtime_is_set(e) ? archive_entry_mtime_nsec(e) : 0);
	struct ward_vol_stat st, old;
	uint64_t dir;
	bool exists, whiteout;
	int r;

	r = member_name(archive_entry_pathname(e) ? archive_entry_pathname(e) : "", path,
			sizeof(path), err);
	if (r < 0)
		return r;
	if (archive_entry_xattr_count(e) > 0)
		a->stats->xattrs_dropped++;
	if (path[0] == '\0') {
		/* the root directory itself: its attributes */
		struct ward_vol_setattr sa = {.mask = WARD_VOL_SET_MODE | WARD_VOL_SET_UID |
						      WARD_VOL_SET_GID,
					      .mode = perm,
					      .uid = uid,
					      .gid = gid};

		if (type != AE_IFDIR)
			return ward_err_set(err, -WARD_E_MALFORMED, "the root entry is not a directory");
		r = ward_vol_setattr(a->vol, WARD_VOL_ROOT_INO, &sa, NULL);
		if (r >= 0)
			r = note_dir_time(a, WARD_VOL_ROOT_INO, mtime_ns);
		return r < 0 ? vol_errno(err, r, "set attributes of", "/") : 0;
	}
	name = split(path, parent_path, sizeof(parent_path));
	/* whiteouts apply to what the lower layers left and create nothing,
	 * not even a missing parent */
	whiteout = strncmp(name, ".wh.", 4) == 0;
	r = resolve_dir(a, parent_path, !whiteout, &dir);
	if (whiteout && (r == -ENOENT || r == -ENOTDIR)) {
		a->stats->whiteouts++;
		return 0;
	}
	if (r < 0)
		return vol_errno(err, r, "parent directory of", path);

	if (whiteout) {
		a->stats->whiteouts++;
		if (strcmp(name, ".wh..wh..opq") == 0) {
			struct names n = {0};

			r = ward_vol_readdir(a->vol, dir, 0, names_cb, &n);
			for (size_t i = 0; r >= 0 && i < n.count; i++) {
				if (ward_vol_lookup(a->vol, dir, n.v[i], &old) >= 0 &&
				    ino_set_has(&a->layer, old.ino))
					continue;
				r = rm_rf(a->vol, dir, n.v[i], 0);
			}
			names_clear(&n);
		} else {
			if (name[4] == '\0' || strcmp(name + 4, ".") == 0 || strcmp(name + 4, "..") == 0)
				return ward_err_set(err, -WARD_E_MALFORMED, "bad whiteout '%.200s'", path);
			r = rm_rf(a->vol, dir, name + 4, 0);
		}
		return r < 0 ? vol_errno(err, r, "whiteout", path) : 0;
	}

	if (!hardlink && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
		ward_warn("layer %zu: '%.200s': device nodes, FIFOs and sockets cannot be stored "
			  "in a volume root; skipped",
			  a->layer_index, path);
		a->stats->skipped++;
		return 0;
	}
	r = ward_vol_lookup(a->vol, dir, name, &old);
	exists = r >= 0;
	if (r < 0 && r != -ENOENT)
		return vol_errno(err, r, "look up", path);
	if (exists && type == AE_IFDIR && !hardlink && (old.mode & S_IFMT) == S_IFDIR) {
		/* a directory over a directory: merge, take the new attributes */
		struct ward_vol_setattr sa = {.mask = WARD_VOL_SET_MODE | WARD_VOL_SET_UID |
						      WARD_VOL_SET_GID,
					      .mode = perm,
					      .uid = uid,
					      .gid = gid};

		r = ward_vol_setattr(a->vol, old.ino, &sa, NULL);
		if (r >= 0)
			r = ino_set_add(&a->layer, old.ino);
		if (r >= 0)
			r = note_dir_time(a, old.ino, mtime_ns);
		a->stats->entries++;
		return r < 0 ? vol_errno(err, r, "update directory", path) : 0;
	}
	if (hardlink) {
		char tpath[WARD_PATH_MAX + 1], tparent[WARD_PATH_MAX + 1];
		const char *tname;
		uint64_t tdir;

		r = member_name(hardlink, tpath, sizeof(tpath), err);
		if (r < 0)
			return ward_err_prefix(err, "hard link '%.200s'", path);
		if (!tpath[0])
			return ward_err_set(err, -WARD_E_MALFORMED, "hard link '%.200s' to the root",
					    path);
		if (strcmp(tpath, path) == 0) {
			a->stats->entries++;
			return 0; /* a link to itself: nothing to do */
		}
		tname = split(tpath, tparent, sizeof(tparent));
		r = resolve_dir(a, tparent, false, &tdir);
		if (r >= 0)
			r = ward_vol_lookup(a->vol, tdir, tname, &st);
		if (r < 0)
			return vol_errno(err, r, "hard link target", tpath);
		if ((st.mode & S_IFMT) == S_IFDIR)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "hard link '%.200s' to the directory '%.200s'", path,
					    tpath);
		if (exists && (r = rm_rf(a->vol, dir, name, 0)) < 0)
			return vol_errno(err, r, "replace", path);
		r = ward_vol_link(a->vol, st.ino, dir, name, &st);
		if (r < 0)
			return vol_errno(err, r, "hard link", path);
		a->stats->entries++;
		return ino_set_add(&a->layer, st.ino);
	}
	if (exists && (r = rm_rf(a->vol, dir, name, 0)) < 0)
		return vol_errno(err, r, "replace", path);
	switch (type) {
	case AE_IFDIR:
		r = ward_vol_mkdir(a->vol, dir, name, perm, uid, gid, &st);
		if (r >= 0)
			r = note_dir_time(a, st.ino, mtime_ns);
		break;
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);

		if (!target || !target[0] || strlen(target) > WARD_VOL_SYMLINK_MAX)
			return ward_err_set(err, -WARD_E_MALFORMED, "symlink '%.200s': bad target",
					    path);
		r = ward_vol_symlink(a->vol, dir, name, target, uid, gid, &st);
		if (r >= 0)
			r = set_times(a->vol, st.ino, mtime_ns);
		break;
	}
	default: { /* regular file */
		uint64_t off = 0;
		la_ssize_t n;

		r = ward_vol_create_file(a->vol, dir, name, S_IFREG | perm, uid, gid, &st);
		if (r < 0)
			break;
		while ((n = archive_read_data(ar, a->buf, IMG_BUF_SIZE)) > 0) {
			ssize_t w = ward_vol_write(a->vol, st.ino, a->buf, (size_t)n, off);

			if (w < 0) {
				r = (int)w;
				break;
			}
			off += (uint64_t)n;
		}
		if (n < 0)
			return ward_err_set(err, -WARD_E_MALFORMED, "layer %zu: '%.200s': %s",
					    a->layer_index, path,
					    archive_error_string(ar) ? archive_error_string(ar)
								     : "read error");
		a->stats->bytes += off;
		a->stats->files++;
		if (r >= 0)
			r = set_times(a->vol, st.ino, mtime_ns);
		break;
	}
	}
	if (r < 0)
		return vol_errno(err, r, "create", path);
	a->stats->entries++;
	return ino_set_add(&a->layer, st.ino);
}

/* libarchive reads the layer blob through this, hashing every byte. */
struct blob_reader {
	struct img_blob *blob;
	struct ward_hash *hash;
	uint8_t *buf;
	struct ward_err *err;
	int failed;
	uint64_t done, total; /* progress */
	size_t layer, count;
	ward_image_progress_fn progress;
	void *progress_ctx;
};

static la_ssize_t blob_read_cb(struct archive *ar, void *ctx, const void **ret)
{
	struct blob_reader *br = ctx;
	size_t got = 0;
	int r;

	(void)ar;
	r = img_blob_read(br->blob, br->buf, IMG_BUF_SIZE, &got, br->err);
	if (r >= 0 && got)
		r = ward_hash_update(br->hash, br->buf, got, br->err);
	if (r < 0) {
		br->failed = r;
		return -1;
	}
	br->done += got;
	if (br->progress && got)
		br->progress(br->progress_ctx, br->layer, br->count, br->done, br->total, false);
	*ret = br->buf;
	return (la_ssize_t)got;
}

static int apply_layer(struct apply *a, struct img_image *im, size_t i,
		       ward_image_progress_fn progress, void *progress_ctx, struct ward_err *err)
{
	struct img_layer *l = &im->layers[i];
	WARD_CLEANUP(img_blob_freep) struct img_blob *b = NULL;
	WARD_CLEANUP(ward_hash_freep) struct ward_hash *h = NULL;
	WARD_CLEANUP(archive_read_freep) struct archive *ar = NULL;
	WARD_AUTOFREE uint8_t *rbuf = malloc(IMG_BUF_SIZE);
	struct blob_reader br = {0};
	struct archive_entry *e;
	uint8_t d[32];
	char digest[72];
	uint64_t size;
	int r;

	if (!rbuf)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (l->encrypted)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "layer %zu is already encrypted", i);
	if (!l->digest[0] && l->comp != IMG_COMP_NONE && l->comp != IMG_COMP_UNKNOWN)
		return ward_err_set(err, -WARD_E_VERIFY, "layer %zu: no digest to check it against",
				    i);
	r = img_blob_open(im->src, l->name, &b, &size, err);
	if (r < 0)
		return ward_err_prefix(err, "layer %zu", i);
	if (l->size && size != l->size)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "layer %zu: blob is %llu bytes, descriptor says %llu", i,
				    (unsigned long long)size, (unsigned long long)l->size);
	r = ward_hash_new(WARD_HASH_SHA256, &h, err);
	if (r < 0)
		return r;
	br = (struct blob_reader){.blob = b,
				  .hash = h,
				  .buf = rbuf,
				  .err = err,
				  .total = size,
				  .layer = i,
				  .count = im->layer_count,
				  .progress = progress,
				  .progress_ctx = progress_ctx};
	ar = archive_read_new();
	if (!ar)
		return ward_err_set(err, -ENOMEM, "out of memory");
	archive_read_support_format_tar(ar);
	archive_read_support_filter_gzip(ar);
	archive_read_support_filter_zstd(ar);
	if (archive_read_open(ar, &br, NULL, blob_read_cb, NULL) != ARCHIVE_OK)
		goto bad;
	a->layer_index = i;
	ino_set_clear(&a->layer);
	a->dir_count = 0;
	for (;;) {
		r = archive_read_next_header(ar, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			goto bad;
		if (++a->stats->members > WARD_VOL_INODES_MAX)
			return ward_err_set(err, -WARD_E_TOO_BIG, "layer %zu: too many entries", i);
		r = apply_entry(a, ar, e, err);
		if (r < 0)
			return ward_err_prefix(err, "layer %zu", i);
	}
	/* directory times last: adding entries changed them */
	for (size_t k = 0; k < a->dir_count; k++) {
		r = set_times(a->vol, a->dirs[k].ino, a->dirs[k].mtime_ns);
		if (r < 0 && r != -ENOENT)
			return vol_errno(err, r, "set directory times in layer", "");
	}
	/* the rest of the blob (end-of-archive padding) counts for the digest */
	for (;;) {
		size_t got = 0;

		r = img_blob_read(b, rbuf, IMG_BUF_SIZE, &got, err);
		if (r < 0)
			return ward_err_prefix(err, "layer %zu", i);
		if (!got)
			break;
		r = ward_hash_update(h, rbuf, got, err);
		if (r < 0)
			return r;
		br.done += got;
	}
	if (progress)
		progress(progress_ctx, i, im->layer_count, br.done, size, true);
	r = ward_hash_final(h, d, err);
	if (r < 0)
		return r;
	img_digest_str(d, digest);
	if (l->digest[0] ? strcmp(digest, l->digest) != 0 : strcmp(digest, l->diff_id) != 0)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "layer %zu: digest mismatch: blob is %s, the image says %s", i,
				    digest, l->digest[0] ? l->digest : l->diff_id);
	return 0;
bad:
	if (br.failed)
		return ward_err_prefix(err, "layer %zu", i);
	return ward_err_set(err, -WARD_E_MALFORMED, "layer %zu: not a readable tar stream: %s", i,
			    archive_error_string(ar) ? archive_error_string(ar) : "?");
}

/* The volume is an intermediate file of the conversion, copied into the
 * output afterwards (which is not fsynced either): skip the commit's
 * durability syncs, which cost seconds for thousands of files. */
static int no_sync(void *ctx, int h)
{
	(void)ctx;
	(void)h;
	return 0;
}

static int no_sync_dir(void *ctx)
{
	(void)ctx;
	return 0;
}

int img_rootfs_build_io(struct img_image *im, const struct ward_vol_io *io, uint32_t block_size,
			ward_image_progress_fn progress, void *progress_ctx, struct img_rootfs *ret,
			struct ward_err *err)
{
	WARD_CLEANUP(ward_vol_freep) struct ward_vol *vol = NULL;
	const struct ward_vol_crypto *cr = ward_vol_crypto_default();
	struct ward_vol_opts vo = {0};
	struct apply a = {0};
	uint64_t version;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->type = WARD_IMAGE_ROOTFS_VOLUME;
	r = ward_random(ret->key, sizeof(ret->key), err);
	if (r < 0)
		return r;
	r = ward_vol_create(io, cr, NULL, ret->key, block_size, ret->id, err);
	if (r < 0)
		return ward_err_prefix(err, "root volume");
	vo.io = io;
	vo.crypto = cr;
	r = ward_vol_open(&vo, ret->key, &vol, err);
	if (r < 0)
		return ward_err_prefix(err, "root volume");
	a.vol = vol;
	a.stats = &ret->stats;
	a.buf = malloc(IMG_BUF_SIZE);
	if (!a.buf)
		return ward_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < im->layer_count && r >= 0; i++)
		r = apply_layer(&a, im, i, progress, progress_ctx, err);
	ino_set_clear(&a.layer);
	free(a.dirs);
	free(a.buf);
	if (r < 0)
		return r;
	r = ward_vol_commit(vol, err);
	if (r < 0)
		return ward_err_prefix(err, "root volume");
	ward_vol_state(vol, ret->id, &version, ret->root);
	r = ward_vol_close(WARD_TAKE_PTR(vol), err);
	if (r < 0)
		return ward_err_prefix(err, "root volume");
	ret->block_size = block_size;
	img_digest_str(ret->root, ret->root_digest);
	if (ret->stats.skipped)
		ward_warn("%llu device node(s), FIFO(s) or socket(s) skipped: a volume root cannot "
			  "hold them",
			  (unsigned long long)ret->stats.skipped);
	if (ret->stats.xattrs_dropped)
		ward_warn("%llu entr%s with extended attributes (e.g. file capabilities): dropped, "
			  "a volume root has none",
			  (unsigned long long)ret->stats.xattrs_dropped,
			  ret->stats.xattrs_dropped == 1 ? "y" : "ies");
	return 0;
}

int img_rootfs_build(struct img_image *im, const char *backing_dir, uint32_t block_size,
		     ward_image_progress_fn progress, void *progress_ctx, struct img_rootfs *ret,
		     struct ward_err *err)
{
	WARD_CLEANUP(ward_vol_io_posix_freep) struct ward_vol_io *io = NULL;
	struct ward_vol_io fast;
	int r;

	memset(ret, 0, sizeof(*ret));
	r = ward_vol_io_posix(backing_dir, &io, err);
	if (r < 0)
		return r;
	fast = *io;
	fast.sync = no_sync;
	fast.sync_dir = no_sync_dir;
	fast.sync_all = NULL;
	return img_rootfs_build_io(im, &fast, block_size, progress, progress_ctx, ret, err);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Stream one backing file into the tar as .ward/rootfs/<name> (0444). */
static int put_file(struct img_out_blob *w, int dfd, const char *name, int64_t mtime,
		    uint8_t *buf, struct ward_err *err)
{
	static const uint8_t zeros[512];
	WARD_AUTOCLOSE int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	char member[128];
	uint8_t hdr[512];
	struct stat st;
	uint64_t left;
	int r;

	if (fd < 0 || fstat(fd, &st) < 0)
		return ward_err_errno(err, -errno, "root volume file '%s'", name);
	if (!S_ISREG(st.st_mode))
		return ward_err_set(err, -WARD_E_MALFORMED, "root volume: '%s' is not a file", name);
	snprintf(member, sizeof(member), IMG_ROOTFS_DIR "/%s", name);
	r = img_tar_header(hdr, member, '0', 0444, (uint64_t)st.st_size, mtime, err);
	if (r >= 0)
		r = img_out_blob_write(w, hdr, sizeof(hdr), err);
	if (r < 0)
		return r;
	for (left = (uint64_t)st.st_size; left;) {
		ssize_t n = read(fd, buf, left < IMG_BUF_SIZE ? (size_t)left : IMG_BUF_SIZE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ward_err_errno(err, n < 0 ? -errno : -EIO, "read '%s'", name);
		r = img_out_blob_write(w, buf, (size_t)n, err);
		if (r < 0)
			return r;
		left -= (uint64_t)n;
	}
	if (st.st_size % 512)
		return img_out_blob_write(w, zeros, 512 - (size_t)(st.st_size % 512), err);
	return 0;
}

int img_rootfs_put(struct img_out_blob *w, const char *backing_dir, int64_t mtime,
		   struct ward_err *err)
{
	WARD_AUTOCLOSE int dfd = open(backing_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	WARD_AUTOFREE uint8_t *buf = malloc(IMG_BUF_SIZE);
	struct names n = {0};
	DIR *d;
	struct dirent *de;
	uint8_t hdr[512];
	int r = 0;

	if (!buf)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (dfd < 0)
		return ward_err_errno(err, -errno, "open '%s'", backing_dir);
	d = fdopendir(dup(dfd));
	if (!d)
		return ward_err_errno(err, -errno, "list '%s'", backing_dir);
	while ((de = readdir(d)) != NULL && r >= 0) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		r = names_cb(&n, de->d_name, 0, 0, 0);
	}
	closedir(d);
	if (r < 0) {
		names_clear(&n);
		return ward_err_set(err, -ENOMEM, "out of memory");
	}
	/* sorted: the same volume always gives the same tar */
	if (n.count)
		qsort(n.v, n.count, sizeof(*n.v), cmp_str);
	r = img_tar_header(hdr, IMG_ROOTFS_DIR "/", '5', 0755, 0, mtime, err);
	if (r >= 0)
		r = img_out_blob_write(w, hdr, sizeof(hdr), err);
	for (size_t i = 0; r >= 0 && i < n.count; i++)
		r = put_file(w, dfd, n.v[i], mtime, buf, err);
	names_clear(&n);
	return r;
}

int img_rootfs_wrap_key(const struct img_rootfs *rf, struct ward_pkey *const *recipients,
			size_t count, char **ret_jwe, struct ward_err *err)
{
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *priv = NULL;
	struct img_layer_keys k = {0};
	int r;

	WARD_CLEANUP_ERASE(k);
	memcpy(k.symkey, rf->key, sizeof(k.symkey));
	r = img_privopts_encode(&k, rf->root_digest, &priv, err);
	if (r < 0)
		return r;
	r = img_jwe_wrap(recipients, count, priv->data, priv->size, ret_jwe, err);
	if (r < 0)
		return ward_err_prefix(err, rf->type == WARD_IMAGE_ROOTFS_EXT4 ? "ext4 image key"
									   : "root volume key");
	return 0;
}

json_t *img_rootfs_config(const struct img_rootfs *rf, const char *jwe)
{
	char id[2 * WARD_VOL_ID_SIZE + 1];
	json_t *o;

	if (rf->type == WARD_IMAGE_ROOTFS_EXT4) {
		/* the header digest covers chunk size, size, image id and index */
		o = json_pack("{s:s, s:s, s:s, s:I}", "type", "ext4", "file", IMG_ROOTFS_EXT4_FILE,
			      "digest", rf->root_digest, "size", (json_int_t)rf->fs_size);
	} else {
		ward_hex_encode(rf->id, sizeof(rf->id), id);
		o = json_pack("{s:s, s:s, s:s, s:s, s:i}", "type", "volume", "dir", IMG_ROOTFS_DIR,
			      "root", rf->root_digest, "volume_id", id, "block_size",
			      (int)rf->block_size);
	}
	if (o && jwe && json_object_set_new(o, "keys_jwe", json_string(jwe)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int img_rootfs_export_key(json_t *layers, const struct img_rootfs *rf, struct ward_err *err)
{
	static const uint8_t zero_nonce[16];
	char k[45], nn[25];

	WARD_CLEANUP_ERASE(k);
	ward_base64_encode(rf->key, 32, k);
	ward_base64_encode(zero_nonce, 16, nn);
	if (json_object_set_new(layers, rf->root_digest,
				json_pack("{s:s, s:s, s:s}", "symkey", k, "nonce", nn, "digest",
					  rf->root_digest)) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

int img_rootfs_write(const struct ward_image_convert_opts *opts, struct img_image *im,
		     struct img_out_blob *w, int64_t mtime, struct img_rootfs *ret,
		     char **ret_jwe, struct ward_err *err)
{
	WARD_AUTOFREE char *tmp = NULL;
	struct ward_err e2 = WARD_ERR_INIT;
	int r;

	*ret_jwe = NULL;
	if (asprintf(&tmp, "%s.ward-rootfs-XXXXXX", opts->output) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_mkdtemp(tmp, err);
	if (r < 0)
		return ward_err_prefix(err, "root volume");
	if (opts->rootfs == WARD_IMAGE_ROOTFS_EXT4) {
		r = img_rootfs_build_ext4(opts, im, tmp, w, mtime, ret, err);
	} else {
		r = img_rootfs_build(im, tmp, WARD_VOL_BLOCK_DEFAULT, opts->progress,
				     opts->progress_ctx, ret, err);
		if (r >= 0)
			r = img_rootfs_put(w, tmp, mtime, err);
	}
	if (r >= 0 && opts->recipient_count)
		r = img_rootfs_wrap_key(ret, opts->recipients, opts->recipient_count, ret_jwe, err);
	(void)ward_rm_rf(tmp, &e2);
	if (r < 0) {
		free(WARD_TAKE_PTR(*ret_jwe));
		ward_wipe(ret->key, sizeof(ret->key));
	}
	return r;
}
