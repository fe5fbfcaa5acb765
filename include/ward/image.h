/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Container images: read Docker/OCI images (docker-archive, oci-archive,
 * OCI layout directory), convert them into confidential images (layers
 * encrypted with the ocicrypt layer cipher, either as standard ocicrypt
 * layers or wrapped inside a plaintext ward layer next to ward-init),
 * decrypt them again, sign the manifest digest and produce reference
 * values. See docs/images.md for the formats.
 *
 * Everything read from an image is untrusted: JSON is size-capped and
 * parsed with duplicate keys rejected, every blob is checked against its
 * digest while streaming, tar entries are checked for path traversal,
 * absolute paths, link escapes, device nodes and bad sizes. Outputs are
 * written to a temporary name and renamed into place only on success. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/compiler.h"
#include "ward/crypto.h"
#include "ward/error.h"

/* Limits for untrusted image metadata. */
#define WARD_IMAGE_JSON_MAX_SIZE (4u << 20) /* manifest, index, config, manifest.json */
#define WARD_IMAGE_MAX_LAYERS 256
#define WARD_IMAGE_MAX_MANIFESTS 256 /* entries of an index */
#define WARD_IMAGE_LAYER_MAX_SIZE (64ull << 30)

#define WARD_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define WARD_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define WARD_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define WARD_MT_OCI_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define WARD_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define WARD_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define WARD_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define WARD_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define WARD_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define WARD_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define WARD_ENC_SUFFIX "+encrypted"
#define WARD_ANNOT_ENC_KEYS_JWE "org.opencontainers.image.enc.keys.jwe"
#define WARD_ANNOT_ENC_PUBOPTS "org.opencontainers.image.enc.pubopts"
#define WARD_ANNOT_SIGNATURE "dev.ward.image.signature"
#define WARD_ANNOT_SIGNATURE_ALG "dev.ward.image.signature.alg"
#define WARD_ANNOT_REF_NAME "org.opencontainers.image.ref.name"

/* ---- tar entry checks (hostile layer content) ------------------------- */

/* Check one tar member path taken from an image: relative (a leading "./"
 * or "/" is NOT tolerated except the root entry "./"), no ".." component,
 * no NUL, at most WARD_PATH_MAX bytes. Returns 0 or -WARD_E_MALFORMED. */
WARD_PUBLIC int ward_tar_path_check(const char *path, size_t size, struct ward_err *err);

/* Streaming tar checker: feed it the bytes of an uncompressed tar stream in
 * chunks of any size; it parses every 512-byte header (ustar, GNU long
 * names, pax extended headers) and rejects absolute paths, "..", symlinks
 * whose target leaves the root, hardlinks to unsafe paths, device nodes and
 * FIFOs (unless allowed), bad checksums, negative or oversized sizes,
 * garbage after the end-of-archive blocks, and a stream that ends inside an
 * entry. */
struct ward_tar_check;
struct ward_tar_check_opts {
	bool allow_devices;   /* character/block devices and FIFOs */
	uint64_t max_entry_size; /* 0: WARD_IMAGE_LAYER_MAX_SIZE */
};
WARD_PUBLIC int ward_tar_check_new(const struct ward_tar_check_opts *opts,
				   struct ward_tar_check **ret, struct ward_err *err);
WARD_PUBLIC int ward_tar_check_feed(struct ward_tar_check *t, const void *data, size_t size,
				    struct ward_err *err);
/* The stream ended: it must end on an entry boundary (end-of-archive blocks
 * optional, as Go writers sometimes omit them). */
WARD_PUBLIC int ward_tar_check_finish(struct ward_tar_check *t, struct ward_err *err);
/* Number of entries seen so far. */
WARD_PUBLIC uint64_t ward_tar_check_entries(const struct ward_tar_check *t);
WARD_PUBLIC struct ward_tar_check *ward_tar_check_free(struct ward_tar_check *t);
static inline void ward_tar_check_freep(struct ward_tar_check **t)
{
	ward_tar_check_free(*t);
}

/* ---- OCI JSON model ---------------------------------------------------- */

/* A content descriptor (borrowed strings point into the JSON it came from). */
struct ward_oci_desc {
	const char *media_type;
	char digest[72]; /* "sha256:" + 64 lowercase hex */
	uint64_t size;
	const json_t *annotations; /* borrowed, may be NULL */
	const char *platform_os;   /* index entries only, may be NULL */
	const char *platform_arch;
	const char *platform_variant;
};

/* Parse JSON with the image rules: at most WARD_IMAGE_JSON_MAX_SIZE,
 * duplicate keys rejected, exactly one value. *ret is a new reference. */
WARD_PUBLIC int ward_image_json_parse(const void *buf, size_t size, json_t **ret,
				      struct ward_err *err);
/* Parse a descriptor object; what names it in error messages. */
WARD_PUBLIC int ward_oci_desc_parse(const json_t *j, const char *what, struct ward_oci_desc *ret,
				    struct ward_err *err);
/* Is s "sha256:<64 lowercase hex>"? */
WARD_PUBLIC bool ward_oci_digest_valid(const char *s);

/* A parsed image manifest: config + layers (views into json). */
struct ward_oci_manifest {
	json_t *json; /* owned */
	struct ward_oci_desc config;
	struct ward_oci_desc layers[WARD_IMAGE_MAX_LAYERS];
	size_t layer_count;
};
WARD_PUBLIC int ward_oci_manifest_parse(const void *buf, size_t size,
					struct ward_oci_manifest **ret, struct ward_err *err);
WARD_PUBLIC struct ward_oci_manifest *ward_oci_manifest_free(struct ward_oci_manifest *m);
static inline void ward_oci_manifest_freep(struct ward_oci_manifest **m)
{
	ward_oci_manifest_free(*m);
}

/* Select a manifest from an index: entries whose media type is an image
 * manifest; the one with ref name tag (if tag non-NULL), else the only one,
 * else the one for platform ("os/arch[/variant]", default linux/amd64).
 * *ret views into the index JSON. */
WARD_PUBLIC int ward_oci_index_select(const void *buf, size_t size, const char *tag,
				      const char *platform, json_t **ret_index,
				      struct ward_oci_desc *ret, struct ward_err *err);

/* Check an image config blob: an object with rootfs.type "layers" and
 * rootfs.diff_ids an array of digests (count returned). */
WARD_PUBLIC int ward_oci_config_parse(const void *buf, size_t size, json_t **ret,
				      size_t *ret_diff_id_count, struct ward_err *err);

/* Parse a docker-save manifest.json (array of {Config, RepoTags, Layers}),
 * selecting the entry tagged tag (when non-NULL; a bare name matches
 * "name:latest") or the only entry. *ret_entry is borrowed from *ret_json. */
WARD_PUBLIC int ward_docker_manifest_parse(const void *buf, size_t size, const char *tag,
					   json_t **ret_json, const json_t **ret_entry,
					   struct ward_err *err);

/* ---- conversion --------------------------------------------------------- */

enum ward_image_mode {
	WARD_IMAGE_MODE_WRAPPED,  /* encrypted layers inside a plaintext ward layer */
	WARD_IMAGE_MODE_OCICRYPT, /* standard ocicrypt encrypted layers */
};

/* How wrapped mode carries the root filesystem (docs/images.md). */
enum ward_image_rootfs {
	WARD_IMAGE_ROOTFS_LAYERS, /* the original layers, each encrypted (default) */
	WARD_IMAGE_ROOTFS_VOLUME, /* one read-only protected volume (lib/vol) */
	WARD_IMAGE_ROOTFS_EXT4,   /* one sealed ext4 image (include/ward/ext4img.h) */
};

enum ward_image_format {
	WARD_IMAGE_FORMAT_OCI_DIR,
	WARD_IMAGE_FORMAT_OCI_ARCHIVE,
	WARD_IMAGE_FORMAT_DOCKER_ARCHIVE,
};

/* Compression of layers that are stored uncompressed in the input (classic
 * docker save); compressed input layers are passed through as they are. */
enum ward_image_compression {
	WARD_IMAGE_COMPRESSION_GZIP, /* default: what every runtime reads */
	WARD_IMAGE_COMPRESSION_ZSTD, /* tar+zstd: faster, smaller; newer runtimes */
};

/* Progress callback: layer index (0-based) of count, bytes of the input
 * layer read so far and its total size (0 if unknown); done on the last
 * call for that layer. */
typedef void (*ward_image_progress_fn)(void *ctx, size_t layer, size_t count, uint64_t done,
				       uint64_t total, bool finished);

struct ward_image_convert_opts {
	const char *input;    /* docker-archive, oci-archive or OCI layout dir */
	const char *tag;      /* select this tag in the input (may be NULL) */
	const char *platform; /* "os/arch[/variant]"; NULL: linux/amd64 */
	const char *output;
	const char *output_tag; /* ref name in the output; NULL: input tag or "latest" */
	enum ward_image_format format;
	enum ward_image_mode mode;
	struct ward_pkey *const *recipients; /* borrowed: JWE recipients */
	size_t recipient_count;
	const char *export_keys; /* write plaintext layer keys here (mode 0600), or NULL */
	const struct ward_pkey *sign_key; /* borrowed, may be NULL */
	const char *ward_init;  /* wrapped mode: path of the ward-init binary */
	const char *coordinator_pin; /* wrapped mode: PEM certificate of the coordinator,
				      * measured into the image as /.ward/coordinator.pem
				      * (ward-init's TLS pin), or NULL */
	int64_t source_date_epoch; /* -1: now (wrapped-mode config "created") */
	const uint8_t *insecure_seed; /* TEST ONLY: derive keys and nonces from it */
	size_t insecure_seed_size;
	enum ward_image_compression compression;
	int gzip_level; /* 0: ISA-L igzip (default); 1..12: libdeflate at that level */
	int zstd_level; /* 1..19, 0: default 3 (zstd's own default) */
	unsigned threads; /* compression threads: 1 or 2; 0: default 2 */
	ward_image_progress_fn progress;
	void *progress_ctx;
	enum ward_image_rootfs rootfs; /* wrapped mode: layers (default), volume or ext4 */
	uint64_t rootfs_size; /* --rootfs ext4: filesystem size in bytes, rounded up to
			       * the chunk size; 0: the larger of 8 GiB and twice
			       * the content */
};

/* Convert an image. On success the output exists (renamed into place) and
 * *ret_reference (optional) holds the reference values object (new
 * reference; see docs/images.md). On failure nothing is left at output. */
WARD_PUBLIC int ward_image_convert(const struct ward_image_convert_opts *opts,
				   json_t **ret_reference, struct ward_err *err);

struct ward_image_decrypt_opts {
	const char *input; /* a converted image (any of the three formats) */
	const char *tag;
	const char *platform;
	const char *output;
	const char *output_tag;
	enum ward_image_format format;
	struct ward_pkey *const *keys; /* borrowed private keys for the JWEs */
	size_t key_count;
	const char *keys_file; /* --export-keys file (alternative to keys), or NULL */
	ward_image_progress_fn progress;
	void *progress_ctx;
};

/* Decrypt a converted image (either mode) back into a plain image whose
 * layers are the original compressed blobs. Every layer's HMAC is checked
 * over the whole ciphertext and its plaintext digest against the wrapped
 * private options before the output is renamed into place. */
WARD_PUBLIC int ward_image_decrypt(const struct ward_image_decrypt_opts *opts,
				   struct ward_err *err);

/* The message signed by --sign: the ASCII manifest digest "sha256:<hex>". */
/* Verify the signature annotation of an OCI layout/archive image's
 * manifest with pub, recomputing the manifest digest from its blob. On
 * success *ret_manifest_digest (optional, 72 bytes) receives it. */
WARD_PUBLIC int ward_image_verify_signature(const char *image, const char *tag,
					    const struct ward_pkey *pub,
					    char ret_manifest_digest[72], struct ward_err *err);

/* The simulated TEE measurement for a converted image: SHA-384 of
 * "ward-sim-v1:" || config_digest ("sha256:<hex>"), as 96 hex chars. */
WARD_PUBLIC int ward_image_sim_measurement(const char *config_digest, char out[97],
					   struct ward_err *err);
