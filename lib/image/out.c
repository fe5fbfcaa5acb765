/* SPDX-License-Identifier: Apache-2.0 */
/* Output: an OCI image layout built in a private temporary directory next
 * to the destination. Blobs are written to temporary files while their
 * digest is computed and renamed to blobs/sha256/<hex> when complete. On
 * commit the directory is renamed into place (or, for the archive formats,
 * written as a tar to a temporary file that is renamed into place). Until
 * then, freeing the writer removes everything. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "image-internal.h"
#include "ward/file.h"

static void closedirp_img(DIR **d)
{
	if (*d)
		(void)closedir(*d);
}

struct img_out {
	char *final;  /* owned: destination path */
	char *tmpdir; /* owned: "<final>.ward-tmp-XXXXXX" */
	char *tmpfile; /* owned: archive being written, or NULL */
	enum ward_image_format format;
	int dirfd;  /* tmpdir */
	int blobfd; /* tmpdir/blobs/sha256 */
	bool committed;
	unsigned seq;
};

struct img_out_blob {
	struct img_out *o; /* borrowed */
	int fd;
	char tmpname[64];
	struct ward_hash *h; /* owned */
	uint64_t size;
	bool patched; /* pwrite used: rehash at commit */
	bool hashing; /* hash while writing (else: known digest or rehash) */
	bool known;   /* digest given by img_out_blob_set_digest */
	char known_digest[72];
};

struct img_out *img_out_free(struct img_out *o)
{
	if (!o)
		return NULL;
	if (o->blobfd >= 0)
		(void)close(o->blobfd);
	if (o->dirfd >= 0)
		(void)close(o->dirfd);
	if (o->tmpdir && !(o->committed && o->format == WARD_IMAGE_FORMAT_OCI_DIR))
		(void)ward_rm_rf(o->tmpdir, NULL);
	if (o->tmpfile && !o->committed)
		(void)unlink(o->tmpfile);
	free(o->final);
	free(o->tmpdir);
	free(o->tmpfile);
	free(o);
	return NULL;
}

int img_out_open(const char *path, enum ward_image_format format, struct img_out **ret,
		 struct ward_err *err)
{
	WARD_CLEANUP(img_out_freep) struct img_out *o = calloc(1, sizeof(*o));
	struct stat st;
	int r;

	if (!o)
		return ward_err_set(err, -ENOMEM, "out of memory");
	o->dirfd = o->blobfd = -1;
	o->format = format;
	if (lstat(path, &st) == 0)
		return ward_err_set(err, -EEXIST, "output '%.200s' already exists", path);
	o->final = strdup(path);
	if (!o->final || asprintf(&o->tmpdir, "%s.ward-tmp-XXXXXX", path) < 0) {
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
	if (b->fd >= 0) {
		(void)close(b->fd);
		(void)unlinkat(b->o->blobfd, b->tmpname, 0);
	}
	ward_hash_free(b->h);
	free(b);
	return NULL;
}

int img_out_blob_begin(struct img_out *o, struct img_out_blob **ret, struct ward_err *err)
{
	WARD_CLEANUP(img_out_blob_freep) struct img_out_blob *b = calloc(1, sizeof(*b));
	int r;

	if (!b)
		return ward_err_set(err, -ENOMEM, "out of memory");
	b->o = o;
	b->fd = -1;
	b->hashing = true;
	snprintf(b->tmpname, sizeof(b->tmpname), ".tmp-%u", o->seq++);
	r = ward_hash_new(WARD_HASH_SHA256, &b->h, err);
	if (r < 0)
		return r;
	b->fd = openat(o->blobfd, b->tmpname, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (b->fd < 0)
		return ward_err_errno(err, -errno, "create blob in '%.200s'", o->tmpdir);
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
	r = ward_fd_write_all(b->fd, data, size, err);
	if (r < 0)
		return ward_err_prefix(err, "write output blob");
	b->size += size;
	return 0;
}

int img_out_blob_pwrite(struct img_out_blob *b, const void *data, size_t size, uint64_t off,
			struct ward_err *err)
{
	ssize_t n;

	if (off > b->size || size > b->size - off)
		return ward_err_set(err, -WARD_E_STATE, "blob patch outside written range");
	n = pwrite(b->fd, data, size, (off_t)off);
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
		goto rename;
	}
	if (b->patched || !b->hashing) {
		/* re-read the finished file to hash it */
		WARD_AUTOFREE uint8_t *buf = malloc(IMG_BUF_SIZE);
		uint64_t off = 0;

		if (!buf)
			return ward_err_set(err, -ENOMEM, "out of memory");
		r = ward_hash_reset(b->h, err);
		if (r < 0)
			return r;
		while (off < b->size) {
			ssize_t n = pread(b->fd, buf, IMG_BUF_SIZE, (off_t)off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return ward_err_errno(err, n < 0 ? -errno : -EIO, "re-read blob");
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
rename:
	/* the same content twice (identical layers) is fine: rename replaces it */
	if (renameat(b->o->blobfd, b->tmpname, b->o->blobfd, digest + 7) < 0)
		return ward_err_errno(err, -errno, "rename blob");
	(void)close(b->fd);
	b->fd = -1;
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
	if (size > 077777777777ull || mtime < 0 || mtime > 077777777777ll)
		return ward_err_set(err, -WARD_E_TOO_BIG, "tar member '%s' too large", name);
	memset(hdr, 0, 512);
	memcpy(hdr, name, n);
	snprintf((char *)hdr + 100, 8, "%07o", mode & 07777);
	snprintf((char *)hdr + 108, 8, "%07o", 0);
	snprintf((char *)hdr + 116, 8, "%07o", 0);
	snprintf((char *)hdr + 124, 12, "%011llo", (unsigned long long)size);
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

/* Append one member (a file under dirfd) to the archive fd. */
static int tar_add_file(int out, int dirfd, const char *name, struct ward_err *err)
{
	WARD_AUTOCLOSE int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	WARD_AUTOFREE uint8_t *buf = NULL;
	uint8_t hdr[512];
	struct stat st;
	uint64_t left;
	int r;

	if (fd < 0 || fstat(fd, &st) < 0)
		return ward_err_errno(err, -errno, "open '%s'", name);
	r = img_tar_header(hdr, name, '0', 0644, (uint64_t)st.st_size, 0, err);
	if (r < 0)
		return r;
	r = ward_fd_write_all(out, hdr, sizeof(hdr), err);
	if (r < 0)
		return r;
	buf = malloc(IMG_BUF_SIZE);
	if (!buf)
		return ward_err_set(err, -ENOMEM, "out of memory");
	left = (uint64_t)st.st_size;
	while (left) {
		ssize_t n = read(fd, buf, IMG_BUF_SIZE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (uint64_t)n > left)
			return ward_err_errno(err, n < 0 ? -errno : -EIO, "read '%s'", name);
		r = ward_fd_write_all(out, buf, (size_t)n, err);
		if (r < 0)
			return r;
		left -= (uint64_t)n;
	}
	if (st.st_size % 512) {
		static const uint8_t zeros[512];

		r = ward_fd_write_all(out, zeros, 512 - (size_t)(st.st_size % 512), err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int tar_add_dir(int out, const char *name, struct ward_err *err)
{
	uint8_t hdr[512];
	int r = img_tar_header(hdr, name, '5', 0755, 0, 0, err);

	if (r < 0)
		return r;
	return ward_fd_write_all(out, hdr, sizeof(hdr), err);
}

/* Write the layout as a tar archive: fixed order, deterministic headers. */
static int write_archive(struct img_out *o, const char *const *names, size_t count,
			 struct ward_err *err)
{
	WARD_AUTOCLOSE int fd = -1;
	static const uint8_t zeros[1024];
	int r;

	if (asprintf(&o->tmpfile, "%s.ward-tmp-XXXXXX", o->final) < 0) {
		o->tmpfile = NULL;
		return ward_err_set(err, -ENOMEM, "out of memory");
	}
	fd = mkostemp(o->tmpfile, O_CLOEXEC);
	if (fd < 0)
		return ward_err_errno(err, -errno, "create '%.200s'", o->tmpfile);
	(void)fchmod(fd, 0644);
	r = tar_add_dir(fd, "blobs/", err);
	if (r >= 0)
		r = tar_add_dir(fd, "blobs/sha256/", err);
	for (size_t i = 0; r >= 0 && i < count; i++)
		r = tar_add_file(fd, o->dirfd, names[i], err);
	if (r >= 0)
		r = ward_fd_write_all(fd, zeros, sizeof(zeros), err);
	if (r < 0)
		return ward_err_prefix(err, "write archive '%.200s'", o->final);
	if (fsync(fd) < 0)
		return ward_err_errno(err, -errno, "fsync '%.200s'", o->tmpfile);
	return 0;
}

int img_out_commit(struct img_out *o, const json_t *manifest_desc, const char *ref_name,
		   const char *config_digest, const char *const *layer_digests,
		   size_t layer_count, struct ward_err *err)
{
	WARD_AUTOJSON_IMG json_t *index = NULL, *desc = NULL, *dman = NULL;
	WARD_AUTOFREE char *index_s = NULL, *dman_s = NULL;
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	const char *names[WARD_IMAGE_MAX_LAYERS + 8];
	char name_buf[WARD_IMAGE_MAX_LAYERS + 4][96];
	size_t n = 0;
	int r;

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
	r = write_file_at(o->dirfd, "oci-layout", layout, sizeof(layout) - 1, err);
	if (r >= 0)
		r = write_file_at(o->dirfd, "index.json", index_s, strlen(index_s), err);
	if (r < 0)
		return ward_err_prefix(err, "output '%.200s'", o->final);

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
		r = write_file_at(o->dirfd, "manifest.json", dman_s, strlen(dman_s), err);
		if (r < 0)
			return r;
	}

	if (o->format == WARD_IMAGE_FORMAT_OCI_DIR) {
		if (fsync(o->dirfd) < 0)
			return ward_err_errno(err, -errno, "fsync '%.200s'", o->tmpdir);
		if (rename(o->tmpdir, o->final) < 0)
			return ward_err_errno(err, -errno, "rename to '%.200s'", o->final);
		o->committed = true;
		return 0;
	}

	/* archives: blobs in a fixed order (config, layers, manifest...) */
	{
		WARD_CLEANUP(closedirp_img) DIR *d = NULL;
		struct dirent *de;
		int dfd = openat(o->blobfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd < 0 || !(d = fdopendir(dfd))) {
			if (dfd >= 0)
				(void)close(dfd);
			return ward_err_errno(err, -errno, "list blobs");
		}
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			if (n >= WARD_IMAGE_MAX_LAYERS + 4)
				return ward_err_set(err, -WARD_E_TOO_BIG, "too many blobs");
			snprintf(name_buf[n], sizeof(name_buf[n]), "blobs/sha256/%.64s", de->d_name);
			n++;
		}
		qsort(name_buf, n, sizeof(name_buf[0]),
		      (int (*)(const void *, const void *))strcmp);
		for (size_t i = 0; i < n; i++)
			names[i] = name_buf[i];
	}
	names[n++] = "oci-layout";
	names[n++] = "index.json";
	if (dman_s)
		names[n++] = "manifest.json";
	r = write_archive(o, names, n, err);
	if (r < 0)
		return r;
	if (rename(o->tmpfile, o->final) < 0)
		return ward_err_errno(err, -errno, "rename to '%.200s'", o->final);
	o->committed = true;
	return 0;
}
