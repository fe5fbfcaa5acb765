/* SPDX-License-Identifier: Apache-2.0 */
/* Output of an OCI image, written next to the destination under a
 * temporary name and renamed into place only on commit; until then,
 * freeing the writer removes everything.
 *
 * Layout directory: blobs go to temporary files in blobs/sha256, hashed
 * while written, and are renamed to their digest when complete.
 * Archives (oci-archive, docker-archive): blobs are streamed straight into
 * the tar file. Each member starts with a placeholder header that is
 * filled in (name = digest, size) once the blob is complete, so no layer
 * is ever copied; index.json, oci-layout (and manifest.json) come last. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image-internal.h"
#include "ward/file.h"

struct img_out {
	char *final;   /* owned: destination path */
	char *tmpdir;  /* owned: layout being written, or NULL */
	char *tmpfile; /* owned: archive being written, or NULL */
	enum ward_image_format format;
	int dirfd;  /* tmpdir */
	int blobfd; /* tmpdir/blobs/sha256 */
	int arfd;   /* tmpfile */
	uint64_t ar_size;
	bool blob_open; /* archives: one blob at a time */
	bool broken;    /* archives: a blob was abandoned mid-way */
	bool committed;
	unsigned seq;
};

struct img_out_blob {
	struct img_out *o; /* borrowed */
	int fd;            /* layout: own temp file; archive: borrowed o->arfd */
	char tmpname[64];
	uint64_t hdr_off; /* archives: offset of the member header */
	struct ward_hash *h; /* owned */
	uint64_t size;
	bool patched; /* pwrite used: rehash at commit */
	bool hashing; /* hash while writing (else: known digest or rehash) */
	bool known;   /* digest given by img_out_blob_set_digest */
	bool done;
	char known_digest[72];
};

static bool is_archive(const struct img_out *o)
{
	return o->format != WARD_IMAGE_FORMAT_OCI_DIR;
}

struct img_out *img_out_free(struct img_out *o)
{
	if (!o)
		return NULL;
	if (o->blobfd >= 0)
		(void)close(o->blobfd);
	if (o->dirfd >= 0)
		(void)close(o->dirfd);
	if (o->arfd >= 0)
		(void)close(o->arfd);
	if (o->tmpdir && !o->committed)
		(void)ward_rm_rf(o->tmpdir, NULL);
	if (o->tmpfile && !o->committed)
		(void)unlink(o->tmpfile);
	free(o->final);
	free(o->tmpdir);
	free(o->tmpfile);
	free(o);
	return NULL;
}

static int ar_write(struct img_out *o, const void *data, size_t size, struct ward_err *err)
{
	int r = ward_fd_write_all(o->arfd, data, size, err);

	if (r < 0)
		return ward_err_prefix(err, "write '%.200s'", o->tmpfile);
	o->ar_size += size;
	return 0;
}

static int ar_pad(struct img_out *o, struct ward_err *err)
{
	static const uint8_t zeros[512];

	if (o->ar_size % 512 == 0)
		return 0;
	return ar_write(o, zeros, 512 - (size_t)(o->ar_size % 512), err);
}

/* A whole small member (directory when data is NULL and type '5'). */
static int ar_member(struct img_out *o, const char *name, char type, const void *data,
		     size_t size, struct ward_err *err)
{
	uint8_t hdr[512];
	int r;

	r = img_tar_header(hdr, name, type, type == '5' ? 0755 : 0644, size, 0, err);
	if (r >= 0)
		r = ar_write(o, hdr, sizeof(hdr), err);
	if (r >= 0 && size)
		r = ar_write(o, data, size, err);
	if (r >= 0)
		r = ar_pad(o, err);
	return r;
}

int img_out_open(const char *path, enum ward_image_format format, struct img_out **ret,
		 struct ward_err *err)
{
	WARD_CLEANUP(img_out_freep) struct img_out *o = calloc(1, sizeof(*o));
	struct stat st;
	int r;

	if (!o)
		return ward_err_set(err, -ENOMEM, "out of memory");
	o->dirfd = o->blobfd = o->arfd = -1;
	o->format = format;
	if (lstat(path, &st) == 0)
		return ward_err_set(err, -EEXIST, "output '%.200s' already exists", path);
	o->final = strdup(path);
	if (!o->final)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (is_archive(o)) {
		if (asprintf(&o->tmpfile, "%s.ward-tmp-XXXXXX", path) < 0) {
			o->tmpfile = NULL;
			return ward_err_set(err, -ENOMEM, "out of memory");
		}
		o->arfd = mkostemp(o->tmpfile, O_CLOEXEC);
		if (o->arfd < 0) {
			r = ward_err_errno(err, -errno, "create '%.200s'", o->tmpfile);
			free(o->tmpfile);
			o->tmpfile = NULL;
			return r;
		}
		(void)fchmod(o->arfd, 0644);
		r = ar_member(o, "blobs/", '5', NULL, 0, err);
		if (r >= 0)
			r = ar_member(o, "blobs/sha256/", '5', NULL, 0, err);
		if (r < 0)
			return r;
		*ret = WARD_TAKE_PTR(o);
		return 0;
	}
	if (asprintf(&o->tmpdir, "%s.ward-tmp-XXXXXX", path) < 0) {
		o->tmpdir = NULL;
		return ward_err_set(err, -ENOMEM, "out of memory");
	}
	r = ward_mkdtemp(o->tmpdir, err);
	if (r < 0) {
		free(o->tmpdir);
		o->tmpdir = NULL;
		return ward_err_prefix(err, "output '%.200s'", path);
	}
	(void)chmod(o->tmpdir, 0755);
	o->dirfd = open(o->tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->dirfd < 0)
		return ward_err_errno(err, -errno, "open '%.200s'", o->tmpdir);
	if (mkdirat(o->dirfd, "blobs", 0755) < 0 || mkdirat(o->dirfd, "blobs/sha256", 0755) < 0)
		return ward_err_errno(err, -errno, "mkdir in '%.200s'", o->tmpdir);
	o->blobfd = openat(o->dirfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->blobfd < 0)
		return ward_err_errno(err, -errno, "open blobs dir");
	*ret = WARD_TAKE_PTR(o);
	return 0;
}

struct img_out_blob *img_out_blob_free(struct img_out_blob *b)
{
	if (!b)
		return NULL;
	if (is_archive(b->o)) {
		if (!b->done) {
			b->o->broken = true; /* its bytes sit in the archive */
			b->o->blob_open = false;
		}
	} else if (b->fd >= 0) {
		(void)close(b->fd);
		(void)unlinkat(b->o->blobfd, b->tmpname, 0);
	}
	ward_hash_free(b->h);
	free(b);
	return NULL;
}

int img_out_blob_begin(struct img_out *o, struct img_out_blob **ret, struct ward_err *err)
{
	WARD_CLEANUP(img_out_blob_freep) struct img_out_blob *b = NULL;
	int r;

	if (is_archive(o) && (o->blob_open || o->broken))
		return ward_err_set(err, -WARD_E_STATE, "archive output: one blob at a time");
	b = calloc(1, sizeof(*b));
	if (!b)
		return ward_err_set(err, -ENOMEM, "out of memory");
	b->o = o;
	b->fd = -1;
	b->hashing = true;
	r = ward_hash_new(WARD_HASH_SHA256, &b->h, err);
	if (r < 0)
		return r;
	if (is_archive(o)) {
		static const uint8_t placeholder[512];

		b->hdr_off = o->ar_size;
		r = ar_write(o, placeholder, sizeof(placeholder), err);
		if (r < 0)
			return r;
		b->fd = o->arfd;
		o->blob_open = true;
	} else {
		snprintf(b->tmpname, sizeof(b->tmpname), ".tmp-%u", o->seq++);
		b->fd = openat(o->blobfd, b->tmpname, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (b->fd < 0)
			return ward_err_errno(err, -errno, "create blob in '%.200s'", o->tmpdir);
	}
	*ret = WARD_TAKE_PTR(b);
	return 0;
}

int img_out_blob_write(struct img_out_blob *b, const void *data, size_t size,
		       struct ward_err *err)
{
	int r;

	if (b->hashing && !b->patched) {
		r = ward_hash_update(b->h, data, size, err);
		if (r < 0)
			return r;
	}
	if (is_archive(b->o))
		r = ar_write(b->o, data, size, err);
	else
		r = ward_fd_write_all(b->fd, data, size, err);
	if (r < 0)
		return ward_err_prefix(err, "write output blob");
	b->size += size;
	return 0;
}

/* Offset in the file where the blob's data starts. */
static uint64_t data_start(const struct img_out_blob *b)
{
	return is_archive(b->o) ? b->hdr_off + 512 : 0;
}

int img_out_blob_pwrite(struct img_out_blob *b, const void *data, size_t size, uint64_t off,
			struct ward_err *err)
{
	ssize_t n;

	if (off > b->size || size > b->size - off)
		return ward_err_set(err, -WARD_E_STATE, "blob patch outside written range");
	n = pwrite(b->fd, data, size, (off_t)(data_start(b) + off));
	if (n < 0 || (size_t)n != size)
		return ward_err_errno(err, n < 0 ? -errno : -EIO, "write output blob");
	b->patched = true;
	return 0;
}

void img_out_blob_nohash(struct img_out_blob *b)
{
	b->hashing = false;
}

void img_out_blob_set_digest(struct img_out_blob *b, const char digest[72])
{
	memcpy(b->known_digest, digest, 72);
	b->known = true;
}

uint64_t img_out_blob_size(const struct img_out_blob *b)
{
	return b->size;
}

int img_out_blob_commit(struct img_out_blob *b, char ret_digest[72], uint64_t *ret_size,
			struct ward_err *err)
{
	uint8_t d[32];
	char digest[72];
	int r;

	if (b->known && !b->patched) {
		memcpy(digest, b->known_digest, sizeof(digest));
	} else {
		if (b->patched || !b->hashing) {
			/* re-read the finished blob to hash it */
			WARD_AUTOFREE uint8_t *buf = malloc(IMG_BUF_SIZE);
			uint64_t off = 0, start = data_start(b);

			if (!buf)
				return ward_err_set(err, -ENOMEM, "out of memory");
			r = ward_hash_reset(b->h, err);
			if (r < 0)
				return r;
			while (off < b->size) {
				size_t want = b->size - off < IMG_BUF_SIZE ? (size_t)(b->size - off)
									    : IMG_BUF_SIZE;
				ssize_t n = pread(b->fd, buf, want, (off_t)(start + off));

				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0)
					return ward_err_errno(err, n < 0 ? -errno : -EIO,
							      "re-read blob");
				r = ward_hash_update(b->h, buf, (size_t)n, err);
				if (r < 0)
					return r;
				off += (uint64_t)n;
			}
		}
		r = ward_hash_final(b->h, d, err);
		if (r < 0)
			return r;
		img_digest_str(d, digest);
	}
	if (is_archive(b->o)) {
		uint8_t hdr[512];
		char name[96];
		ssize_t n;

		img_blob_name(digest, name);
		r = img_tar_header(hdr, name, '0', 0644, b->size, 0, err);
		if (r < 0)
			return r;
		n = pwrite(b->fd, hdr, sizeof(hdr), (off_t)b->hdr_off);
		if (n != (ssize_t)sizeof(hdr))
			return ward_err_errno(err, n < 0 ? -errno : -EIO, "write archive header");
		r = ar_pad(b->o, err);
		if (r < 0)
			return r;
	} else {
		/* the same content twice (identical layers) is fine: rename replaces it */
		if (renameat(b->o->blobfd, b->tmpname, b->o->blobfd, digest + 7) < 0)
			return ward_err_errno(err, -errno, "rename blob");
		(void)close(b->fd);
		b->fd = -1;
	}
	b->done = true;
	if (is_archive(b->o))
		b->o->blob_open = false;
	memcpy(ret_digest, digest, 72);
	if (ret_size)
		*ret_size = b->size;
	return 0;
}

int img_out_bytes(struct img_out *o, const void *data, size_t size, char ret_digest[72],
		  struct ward_err *err)
{
	WARD_CLEANUP(img_out_blob_freep) struct img_out_blob *b = NULL;
	int r;

	r = img_out_blob_begin(o, &b, err);
	if (r < 0)
		return r;
	r = img_out_blob_write(b, data, size, err);
	if (r < 0)
		return r;
	return img_out_blob_commit(b, ret_digest, NULL, err);
}

static int write_file_at(int dirfd, const char *name, const void *data, size_t size,
			 struct ward_err *err)
{
	WARD_AUTOCLOSE int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		return ward_err_errno(err, -errno, "create '%s'", name);
	return ward_fd_write_all(fd, data, size, err);
}

int img_tar_header(uint8_t hdr[512], const char *name, char type, unsigned mode, uint64_t size,
		   int64_t mtime, struct ward_err *err)
{
	size_t n = strlen(name);
	unsigned sum = 0;

	if (n == 0 || n > 99)
		return ward_err_set(err, -WARD_E_STATE, "tar name '%.120s' too long", name);
	if (mtime < 0 || mtime > 077777777777ll)
		return ward_err_set(err, -WARD_E_TOO_BIG, "tar member '%s': mtime out of range",
				    name);
	memset(hdr, 0, 512);
	memcpy(hdr, name, n);
	snprintf((char *)hdr + 100, 8, "%07o", mode & 07777);
	snprintf((char *)hdr + 108, 8, "%07o", 0);
	snprintf((char *)hdr + 116, 8, "%07o", 0);
	if (size > 077777777777ull) {
		/* 8 GiB or more (a --rootfs ext4 image, a huge blob): GNU
		 * base-256, high bit set, big-endian in the other 11 bytes; read
		 * by GNU tar, libarchive, Go's archive/tar and ward's readers */
		hdr[124] = 0x80;
		for (int i = 11; i >= 1; i--, size >>= 8)
			hdr[124 + i] = (uint8_t)size;
	} else {
		snprintf((char *)hdr + 124, 12, "%011llo", (unsigned long long)size);
	}
	snprintf((char *)hdr + 136, 12, "%011llo", (unsigned long long)mtime);
	hdr[156] = (uint8_t)type;
	memcpy(hdr + 257, "ustar", 6);
	memcpy(hdr + 263, "00", 2);
	memset(hdr + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += hdr[i];
	snprintf((char *)hdr + 148, 8, "%06o", sum);
	hdr[155] = ' ';
	return 0;
}

/* Write a metadata file into the layout dir or append it to the archive. */
static int put_file(struct img_out *o, const char *name, const char *text, struct ward_err *err)
{
	int r = is_archive(o) ? ar_member(o, name, '0', text, strlen(text), err)
			      : write_file_at(o->dirfd, name, text, strlen(text), err);

	if (r < 0)
		return ward_err_prefix(err, "output '%.200s'", o->final);
	return 0;
}

int img_out_commit(struct img_out *o, const json_t *manifest_desc, const char *ref_name,
		   const char *config_digest, const char *const *layer_digests,
		   size_t layer_count, struct ward_err *err)
{
	WARD_AUTOJSON_IMG json_t *index = NULL, *desc = NULL, *dman = NULL;
	WARD_AUTOFREE char *index_s = NULL, *dman_s = NULL;
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	int r;

	if (o->broken || o->blob_open)
		return ward_err_set(err, -WARD_E_STATE, "output has an unfinished blob");
	desc = json_deep_copy(manifest_desc);
	if (!desc)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (ref_name) {
		json_t *a = json_object_get(desc, "annotations");

		if (!a) {
			a = json_object();
			if (!a || json_object_set_new(desc, "annotations", a) < 0)
				return ward_err_set(err, -ENOMEM, "out of memory");
		}
		if (json_object_set_new(a, WARD_ANNOT_REF_NAME, json_string(ref_name)) < 0)
			return ward_err_set(err, -ENOMEM, "out of memory");
	}
	index = json_pack("{s:i, s:s, s:[O]}", "schemaVersion", 2, "mediaType", WARD_MT_OCI_INDEX,
			  "manifests", desc);
	if (!index)
		return ward_err_set(err, -ENOMEM, "out of memory");
	index_s = json_dumps(index, JSON_COMPACT | JSON_SORT_KEYS);
	if (!index_s)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = put_file(o, "oci-layout", layout, err);
	if (r >= 0)
		r = put_file(o, "index.json", index_s, err);
	if (r < 0)
		return r;

	if (o->format == WARD_IMAGE_FORMAT_DOCKER_ARCHIVE) {
		/* docker save (OCI layout inside): manifest.json names the blobs */
		json_t *layers = json_array(), *tags = json_array();
		char cfg[96];

		if (!layers || !tags) {
			json_decref(layers);
			json_decref(tags);
			return ward_err_set(err, -ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < layer_count; i++) {
			char bn[96];

			img_blob_name(layer_digests[i], bn);
			json_array_append_new(layers, json_string(bn));
		}
		if (ref_name) {
			char t[300];

			snprintf(t, sizeof(t), "localhost/ward:%s", ref_name);
			json_array_append_new(tags, json_string(t));
		}
		img_blob_name(config_digest, cfg);
		dman = json_pack("[{s:s, s:o, s:o}]", "Config", cfg, "RepoTags", tags, "Layers",
				 layers);
		if (!dman)
			return ward_err_set(err, -ENOMEM, "out of memory");
		dman_s = json_dumps(dman, JSON_COMPACT);
		if (!dman_s)
			return ward_err_set(err, -ENOMEM, "out of memory");
		r = put_file(o, "manifest.json", dman_s, err);
		if (r < 0)
			return r;
	}

	if (!is_archive(o)) {
		if (fsync(o->dirfd) < 0)
			return ward_err_errno(err, -errno, "fsync '%.200s'", o->tmpdir);
		if (rename(o->tmpdir, o->final) < 0)
			return ward_err_errno(err, -errno, "rename to '%.200s'", o->final);
		o->committed = true;
		return 0;
	}
	{
		static const uint8_t zeros[1024];

		r = ar_write(o, zeros, sizeof(zeros), err);
		if (r < 0)
			return r;
	}
	if (fsync(o->arfd) < 0)
		return ward_err_errno(err, -errno, "fsync '%.200s'", o->tmpfile);
	if (rename(o->tmpfile, o->final) < 0)
		return ward_err_errno(err, -errno, "rename to '%.200s'", o->final);
	o->committed = true;
	return 0;
}
