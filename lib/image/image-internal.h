/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* Private interfaces of lib/image: image sources (directory or tar archive),
 * the loaded image model, the output writer and the layer pipeline. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/error.h"
#include "ward/image.h"

static inline void img_json_decrefp(json_t **j)
{
	if (*j)
		json_decref(*j);
}
#define WARD_AUTOJSON_IMG WARD_CLEANUP(img_json_decrefp)

#define IMG_BUF_SIZE (1u << 20)      /* streaming buffer */
#define IMG_ARCHIVE_MAX_ENTRIES 100000 /* members of an image archive */

/* ---- sources: an OCI layout dir, or a tar archive read with libarchive -- */

struct img_src;
/* Open an image directory or archive (an archive is scanned once to list
 * its members, every name checked). *ret is owned by the caller. */
int img_src_open(const char *path, struct img_src **ret, struct ward_err *err);
/* Free a source; accepts NULL, returns NULL. */
struct img_src *img_src_free(struct img_src *s);
static inline void img_src_freep(struct img_src **s)
{
	img_src_free(*s);
}
/* Is there a member called name (no links followed)? */
bool img_src_exists(struct img_src *s, const char *name);
/* Read a whole member of at most max bytes (NUL appended). */
int img_src_read(struct img_src *s, const char *name, size_t max, uint8_t **ret,
		 size_t *ret_size, struct ward_err *err);

/* A blob being streamed out of a source. */
struct img_blob;
/* Open member name for streaming (archive links are resolved inside the
 * archive only); *ret_size (optional) gets its size. */
int img_blob_open(struct img_src *s, const char *name, struct img_blob **ret,
		  uint64_t *ret_size, struct ward_err *err);
/* Read up to size bytes; *ret_got == 0 means end of blob. */
int img_blob_read(struct img_blob *b, void *buf, size_t size, size_t *ret_got,
		  struct ward_err *err);
/* A blob reading the current entry of an archive owned by someone else. */
int img_blob_borrow_archive(void *archive, uint64_t size, const char *name,
			    struct img_blob **ret, struct ward_err *err);
/* A blob reading size bytes of fd from its current offset (a file or
 * memfd, e.g. a layer held in memory). On success the blob owns fd and
 * img_blob_free() closes it; on failure the caller still owns it. Reading
 * past the end of the file before size bytes fails as truncated. */
int img_blob_from_fd(int fd, uint64_t size, const char *name, struct img_blob **ret,
		     struct ward_err *err);
/* Free a blob reader; accepts NULL, returns NULL. */
struct img_blob *img_blob_free(struct img_blob *b);
static inline void img_blob_freep(struct img_blob **b)
{
	img_blob_free(*b);
}

/* ---- the loaded input image ------------------------------------------ */

enum img_layer_comp {
	IMG_COMP_UNKNOWN, /* detect from the first bytes (docker classic) */
	IMG_COMP_NONE,
	IMG_COMP_GZIP,
	IMG_COMP_ZSTD,
};

struct img_layer {
	char *name;          /* owned: member name in the source */
	char *media_type;    /* owned: input media type (may be "" for docker classic) */
	char digest[72];     /* expected blob digest, "" when unknown (docker classic) */
	uint64_t size;       /* expected size, 0 when unknown */
	char diff_id[72];    /* from the config */
	json_t *annotations; /* owned ref, may be NULL */
	bool encrypted;      /* media type ends in +encrypted */
	enum img_layer_comp comp;
};

struct img_image {
	struct img_src *src;  /* owned */
	bool docker_classic;  /* docker-save manifest.json without OCI blobs layout */
	uint8_t *config_raw;  /* owned */
	size_t config_size;
	char config_digest[72];
	char *config_media_type; /* owned */
	json_t *config;          /* owned */
	json_t *manifest;        /* owned, NULL for docker classic */
	char manifest_digest[72];
	char *tag; /* owned: the selected tag, or NULL */
	json_t *desc_annotations; /* owned: annotations of the selected index entry, or NULL */
	struct img_layer layers[WARD_IMAGE_MAX_LAYERS];
	size_t layer_count;
};

/* Detect the input format, select the image (tag, platform) and load its
 * manifest and config, checked against their digests. */
int img_image_load(const char *path, const char *tag, const char *platform,
		   struct img_image **ret, struct ward_err *err);
/* Free an image; accepts NULL, returns NULL. */
struct img_image *img_image_free(struct img_image *im);
static inline void img_image_freep(struct img_image **im)
{
	img_image_free(*im);
}
/* OCI blob member name for a digest: "blobs/sha256/<hex>". */
void img_blob_name(const char *digest, char out[96]);

/* ---- output ----------------------------------------------------------- */

struct img_out;
struct img_out_blob;
/* Start writing an image to path (which must not exist) in format. */
int img_out_open(const char *path, enum ward_image_format format, struct img_out **ret,
		 struct ward_err *err);
/* Remove everything written so far (unless committed) and free. */
struct img_out *img_out_free(struct img_out *o);
static inline void img_out_freep(struct img_out **o)
{
	img_out_free(*o);
}
/* Start a blob (archives: one at a time). */
int img_out_blob_begin(struct img_out *o, struct img_out_blob **ret, struct ward_err *err);
/* Append bytes to the blob (hashed unless img_out_blob_nohash). */
int img_out_blob_write(struct img_out_blob *b, const void *data, size_t size,
		       struct ward_err *err);
/* pwrite at an absolute offset without hashing (tar header patching);
 * the digest is then computed by re-reading the file at commit. */
int img_out_blob_pwrite(struct img_out_blob *b, const void *data, size_t size, uint64_t off,
			struct ward_err *err);
/* Bytes written to the blob so far. */
uint64_t img_out_blob_size(const struct img_out_blob *b);
/* Do not hash while writing: the digest comes from img_out_blob_set_digest()
 * (the caller hashed exactly the bytes written) or, failing that, from
 * re-reading the file at commit. */
void img_out_blob_nohash(struct img_out_blob *b);
/* The blob's digest, computed by the caller over exactly the bytes written. */
void img_out_blob_set_digest(struct img_out_blob *b, const char digest[72]);
/* Finish the blob: name it by its digest (returned in ret_digest). */
int img_out_blob_commit(struct img_out_blob *b, char ret_digest[72], uint64_t *ret_size,
			struct ward_err *err);
/* Free a blob; an uncommitted one is deleted (archives: the output is
 * marked broken). Accepts NULL, returns NULL. */
struct img_out_blob *img_out_blob_free(struct img_out_blob *b);
static inline void img_out_blob_freep(struct img_out_blob **b)
{
	img_out_blob_free(*b);
}
/* Write a whole small blob (config, manifest). */
int img_out_bytes(struct img_out *o, const void *data, size_t size, char ret_digest[72],
		  struct ward_err *err);
/* Write index.json (manifest descriptor with ref name and annotations),
 * manifest.json for docker-archive, then move everything into place. */
int img_out_commit(struct img_out *o, const json_t *manifest_desc, const char *ref_name,
		   const char *config_digest, const char *const *layer_digests,
		   size_t layer_count, struct ward_err *err);

/* ---- tar writing (ustar, deterministic) ------------------------------- */

/* Fill a 512-byte ustar header. type '0' file, '5' dir. A size of 8 GiB
 * or more is written in GNU base-256. */
int img_tar_header(uint8_t hdr[512], const char *name, char type, unsigned mode, uint64_t size,
		   int64_t mtime, struct ward_err *err);

/* ---- hashing helpers --------------------------------------------------- */

/* "sha256:" + hex of a 32-byte digest. */
void img_digest_str(const uint8_t d[32], char out[72]);
int img_sha256_str(const void *data, size_t size, char out[72], struct ward_err *err);

/* ---- layer cipher (ocicrypt AES_256_CTR_HMAC_SHA256) ------------------- */

struct img_layer_keys {
	uint8_t symkey[32];
	uint8_t nonce[16];
};

/* ---- the layer pipeline ----------------------------------------------- */

struct img_pipe_opts {
	const struct img_layer_keys *keys; /* encrypt with these (NULL: no encryption) */
	enum img_layer_comp in_comp;       /* compression of the input blob (not UNKNOWN) */
	bool check_tar;                    /* decompress to check tar entries + diff_id */
	bool allow_devices;
	enum img_layer_comp out_comp; /* IMG_COMP_GZIP (default) or IMG_COMP_ZSTD when recompressing */
	int level;        /* when recompressing: zstd level; gzip: 0 is ISA-L igzip at
			   * IMG_IGZIP_LEVEL (the default), 1..12 libdeflate */
	unsigned threads; /* 1 or 2 */
	size_t piece;     /* read the input in pieces of at most this many bytes, at
			   * least 4 (0: whole chunks): tests and fuzzing of piece
			   * boundaries */
	size_t layer_index, layer_count;
	ward_image_progress_fn progress;
	void *progress_ctx;
};

struct img_pipe_result {
	char in_digest[72];    /* digest of the input blob as read */
	uint64_t in_size;
	char plain_digest[72]; /* the compressed plaintext blob (== in_digest unless recompressed) */
	uint64_t plain_size;
	char diff_id[72];      /* uncompressed tar digest ("" unless check_tar or in NONE) */
	char enc_digest[72];   /* digest of what went to the sink */
	uint64_t enc_size;
	uint8_t hmac[32];      /* HMAC-SHA256(symkey, ciphertext) when encrypting */
	enum img_layer_comp out_comp;
	uint64_t tar_entries;
};

/* Stream in (in_size bytes, 0 if unknown) through: tar checks/diff_id,
 * gzip or zstd compression when the input is an uncompressed tar, AES-256-CTR +
 * HMAC, hashing, into sink. Memory is bounded: about 12 MiB, 36 MiB with
 * zstd output (four slots of 4 MiB chunks). */
int img_pipe_run(struct img_blob *in, uint64_t in_size, struct img_out_blob *sink,
		 const struct img_pipe_opts *opts, struct img_pipe_result *res,
		 struct ward_err *err);

/* Decrypt in (ocicrypt layer cipher) into sink: HMAC over the whole
 * ciphertext checked in constant time at the end, plaintext digest checked
 * against want_digest. The caller commits sink only when this returns 0. */
int img_pipe_decrypt(struct img_blob *in, uint64_t in_size, struct img_out_blob *sink,
		     const struct img_layer_keys *keys, const uint8_t hmac[32],
		     const char *want_enc_digest, const char *want_digest, size_t layer_index, size_t layer_count,
		     ward_image_progress_fn progress, void *progress_ctx, char ret_plain_digest[72],
		     uint64_t *ret_plain_size, struct ward_err *err);

/* Detect compression from the first bytes of a blob. */
enum img_layer_comp img_detect_comp(const uint8_t *p, size_t size);

/* The igzip level (ISA-L 0..3) ward's default gzip output uses. */
#define IMG_IGZIP_LEVEL 1

/* Size of the gzip member img_gzip_stored_member() writes for in_size
 * bytes. */
size_t img_gzip_stored_size(size_t in_size);
/* Write in as one complete gzip member of stored (uncompressed) deflate
 * blocks, with ward's fixed header: the fallback when compressed output
 * would not fit. -ENOSPC if out_cap < img_gzip_stored_size(in_size). */
int img_gzip_stored_member(const uint8_t *in, size_t in_size, uint8_t *out, size_t out_cap,
			   size_t *ret_size);

/* ---- keys: generation, ocicrypt options, JWE wrapping ------------------- */

/* Random keys, or derived from the insecure test seed and the layer's
 * identity (diff_id + index), so distinct content never shares a key. */
int img_keys_make(const uint8_t *seed, size_t seed_size, const char *diff_id, size_t index,
		  struct img_layer_keys *ret, struct ward_err *err);
/* base64 of {"cipher":"AES_256_CTR_HMAC_SHA256","hmac":...,"cipheroptions":{}}. */
int img_pubopts_encode(const uint8_t hmac[32], char **ret, struct ward_err *err);
int img_pubopts_decode(const char *b64, uint8_t hmac[32], struct ward_err *err);
/* privopts JSON {"symkey","digest","cipheroptions":{"nonce"}} (a secret). */
int img_privopts_encode(const struct img_layer_keys *k, const char *digest,
			struct ward_secret **ret, struct ward_err *err);
int img_privopts_decode(const void *buf, size_t size, struct img_layer_keys *ret_keys,
			char ret_digest[72], struct ward_err *err);
/* The keys.jwe annotation: one base64(flattened JWE JSON) per recipient,
 * joined with ','. */
int img_jwe_wrap(struct ward_pkey *const *recipients, size_t count, const void *privopts,
		 size_t size, char **ret, struct ward_err *err);
/* Try each private key on each JWE of the annotation; returns the privopts. */
int img_jwe_unwrap(struct ward_pkey *const *keys, size_t key_count, const char *annotation,
		   struct ward_secret **ret, struct ward_err *err);

/* ---- --rootfs volume: the root filesystem as a protected volume -------- */

#define IMG_ROOTFS_DIR ".ward/rootfs" /* the volume's backing files in the ward layer */

struct img_rootfs_stats {
	uint64_t members;        /* tar members read, all layers */
	uint64_t entries;        /* files, directories, links created */
	uint64_t files, bytes;   /* regular files and their bytes */
	uint64_t whiteouts;      /* whiteouts and opaque markers applied */
	uint64_t skipped;        /* device nodes, FIFOs, sockets (not storable) */
	uint64_t xattrs_dropped; /* entries whose extended attributes were dropped */
};

/* What a root filesystem holds, as counted for (and by) the ext4 image. */
struct img_ext4_census {
	uint64_t entries;      /* names below the root */
	uint64_t inodes;       /* distinct inodes, the root included */
	uint64_t dirs, files, symlinks, hardlinks; /* hardlinks: names beyond the first */
	uint64_t file_bytes;   /* regular files' sizes */
	uint64_t dirent_bytes; /* directory entries (ext4 record sizes) */
	uint64_t bytes;        /* estimate of the data blocks needed, in bytes */
};

struct img_rootfs {
	enum ward_image_rootfs type; /* WARD_IMAGE_ROOTFS_VOLUME or _EXT4 */
	uint8_t key[32]; /* SECRET: the volume key, or the ext4 image key; wipe after use */
	uint8_t id[16];  /* volume id, or ext4 image id */
	uint8_t root[32];     /* volume: SHA-256 of the committed metadata file;
			       * ext4: SHA-256 of the image header */
	char root_digest[72]; /* "sha256:<hex of root>": what the key is bound to */
	uint32_t block_size;  /* volume */
	uint64_t fs_size;     /* ext4: filesystem size in bytes */
	uint32_t chunk_size;  /* ext4 */
	uint64_t chunks_stored; /* ext4 */
	struct img_ext4_census census; /* ext4: what went into the filesystem */
	struct img_rootfs_stats stats;
};

/* Apply the layers of im in order into a new volume in the empty
 * directory backing_dir under a fresh random key (ret->key) and commit it.
 * Every layer blob is checked against its digest. progress (may be NULL)
 * is called as each layer blob is read. */
int img_rootfs_build(struct img_image *im, const char *backing_dir, uint32_t block_size,
		     ward_image_progress_fn progress, void *progress_ctx, struct img_rootfs *ret,
		     struct ward_err *err);
/* The same into the empty backing store io (which the caller keeps). */
struct ward_vol_io;
int img_rootfs_build_io(struct img_image *im, const struct ward_vol_io *io, uint32_t block_size,
			ward_image_progress_fn progress, void *progress_ctx, struct img_rootfs *ret,
			struct ward_err *err);
/* Append IMG_ROOTFS_DIR/ and every backing file (sorted, 0444) to the tar
 * being written into w. */
int img_rootfs_put(struct img_out_blob *w, const char *backing_dir, int64_t mtime,
		   struct ward_err *err);
/* The root's key (volume or ext4 image) as ocicrypt private options
 * {"symkey": key, "digest": root_digest, "cipheroptions": {"nonce":
 * zeros}} wrapped for each recipient (same format as a layer's keys_jwe).
 * *ret_jwe malloc'ed. */
int img_rootfs_wrap_key(const struct img_rootfs *rf, struct ward_pkey *const *recipients,
			size_t count, char **ret_jwe, struct ward_err *err);
/* The "rootfs" object of /.ward/config.json (new reference, or NULL). */
json_t *img_rootfs_config(const struct img_rootfs *rf, const char *jwe);
/* Add the root's key to an --export-keys "layers" object under the name
 * root_digest. */
int img_rootfs_export_key(json_t *layers, const struct img_rootfs *rf, struct ward_err *err);
/* All of --rootfs volume or ext4 (opts->rootfs) for ward_image_convert:
 * build the root in a temporary directory next to opts->output, append it
 * to w, wrap its key for opts->recipients (*ret_jwe, NULL without
 * recipients), remove the temporary directory (on every path). */
int img_rootfs_write(const struct ward_image_convert_opts *opts, struct img_image *im,
		     struct img_out_blob *w, int64_t mtime, struct img_rootfs *ret,
		     char **ret_jwe, struct ward_err *err);

/* ---- --rootfs ext4: the root filesystem as a sealed ext4 image --------- */

#define IMG_ROOTFS_EXT4_FILE IMG_ROOTFS_DIR "/root.ext4"
#define IMG_EXT4_SIZE_DEFAULT (8ull << 30) /* at least this, or twice the content */
#define IMG_EXT4_INODES_MIN 16384

struct ward_vol;

/* rootfs-ext4.c: build the volume (img_rootfs_build), copy it into a new
 * ext4 filesystem, seal that as IMG_ROOTFS_EXT4_FILE (after the
 * IMG_ROOTFS_DIR/ entry) into w under a fresh random key and image id.
 * ret->root is the SHA-256 of the image header. Temporary files live in
 * tmp_dir (an empty directory the caller removes). */
int img_rootfs_build_ext4(const struct ward_image_convert_opts *opts, struct img_image *im,
			  const char *tmp_dir, struct img_out_blob *w, int64_t mtime,
			  struct img_rootfs *ret, struct ward_err *err);

/* volstore.c: a backing store for a temporary volume kept in one unlinked
 * file in dir (pages allocated on first write, nothing synced), instead of
 * one file per volume file. Free with img_volstore_free (accepts NULL,
 * returns NULL). */
int img_volstore_new(const char *dir, struct ward_vol_io **ret, struct ward_err *err);
struct ward_vol_io *img_volstore_free(struct ward_vol_io *io);
static inline void img_volstore_freep(struct ward_vol_io **io)
{
	img_volstore_free(*io);
}

/* ext4fs.c, the only file calling libext2fs (conversion only: the static
 * ward-init must not pull it in). */
/* Count what the volume's tree holds (for the filesystem's size). */
int img_ext4_census(struct ward_vol *vol, struct img_ext4_census *ret, struct ward_err *err);
/* Make an empty ext4 filesystem of size bytes (a multiple of 4096) with
 * room for inodes inodes in the existing file path, running mke2fs (from
 * PATH, /usr/sbin or /sbin; no shell). */
int img_ext4_mkfs(const char *path, uint64_t size, uint64_t inodes, struct ward_err *err);
/* Copy the volume's tree into the filesystem made by img_ext4_mkfs (whose
 * lost+found is removed first): directories, files (blocks of zeros left
 * as holes), symlinks, hard links; mode, owner, mtime (atime, ctime and
 * crtime = mtime). *ret counts what was written. Running out of space is
 * -ENOSPC. */
int img_ext4_populate(const char *path, struct ward_vol *vol, struct img_ext4_census *ret,
		      struct ward_err *err);

/* ext4seal.c */
struct img_ext4_sealed {
	uint8_t header_digest[32]; /* SHA-256 of the header bytes [0, header_len) */
	size_t header_len;
	uint64_t chunks_stored;
	uint64_t member_size; /* bytes of the sealed image */
};
/* Seal the filesystem image in fd (fs_size bytes) per
 * include/ward/ext4img.h: chunks of chunk bytes holding a non-zero byte,
 * AES-256-GCM under key with IV/AAD from chunk index and id, header
 * first. Appends one tar member (name member, mode 0444, mtime) to w.
 * threads 2: a second thread seals every other chunk. */
int img_ext4_seal(int fd, uint64_t fs_size, uint32_t chunk, const uint8_t key[32],
		  const uint8_t id[16], unsigned threads, struct img_out_blob *w,
		  const char *member, int64_t mtime, struct img_ext4_sealed *ret,
		  struct ward_err *err);
