/* SPDX-License-Identifier: Apache-2.0 */
/* ward convert: an image in, a confidential image out (ocicrypt or wrapped
 * mode), plus the reference values. See docs/images.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image-internal.h"
#include "ward/crypto.h"
#include "ward/cursor.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/log.h"
#include "ward/util.h"

#define WARD_DIR_MODE 0755
#define WARD_INIT_MAX_SIZE (256u << 20)
#define WRAPPED_PATH_ENV "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *comp_media_type(enum img_layer_comp c)
{
	switch (c) {
	case IMG_COMP_GZIP:
		return WARD_MT_OCI_LAYER_GZIP;
	case IMG_COMP_ZSTD:
		return WARD_MT_OCI_LAYER_ZSTD;
	default:
		return WARD_MT_OCI_LAYER_TAR;
	}
}

int ward_image_sim_measurement(const char *config_digest, char out[97], struct ward_err *err)
{
	char msg[12 + 72];
	uint8_t d[48];
	int r;

	if (!ward_oci_digest_valid(config_digest))
		return ward_err_set(err, -WARD_E_MALFORMED, "config digest is not sha256:<hex>");
	snprintf(msg, sizeof(msg), "ward-sim-v1:%s", config_digest);
	r = ward_hash(WARD_HASH_SHA384, msg, strlen(msg), d, err);
	if (r < 0)
		return r;
	ward_hex_encode(d, sizeof(d), out);
	return 0;
}

/* Detect the compression of a docker-classic layer from its first bytes. */
static int peek_comp(struct img_src *src, const char *name, enum img_layer_comp *ret,
		     struct ward_err *err)
{
	WARD_CLEANUP(img_blob_freep) struct img_blob *b = NULL;
	uint8_t head[4];
	size_t got = 0, n;
	int r;

	r = img_blob_open(src, name, &b, NULL, err);
	if (r < 0)
		return r;
	while (got < sizeof(head)) {
		r = img_blob_read(b, head + got, sizeof(head) - got, &n, err);
		if (r < 0)
			return r;
		if (n == 0)
			break;
		got += n;
	}
	*ret = img_detect_comp(head, got);
	return 0;
}

static int json_set(json_t *o, const char *k, json_t *v, struct ward_err *err)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

static int dump_json(const json_t *j, char **ret, struct ward_err *err)
{
	*ret = json_dumps(j, JSON_COMPACT);
	if (!*ret)
		return ward_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* Append a small file member to a tar being written into w. */
static int tar_put(struct img_out_blob *w, const char *name, char type, unsigned mode,
		   const void *data, size_t size, int64_t mtime, struct ward_err *err)
{
	static const uint8_t zeros[512];
	uint8_t hdr[512];
	int r;

	r = img_tar_header(hdr, name, type, mode, size, mtime, err);
	if (r < 0)
		return r;
	r = img_out_blob_write(w, hdr, sizeof(hdr), err);
	if (r >= 0 && size)
		r = img_out_blob_write(w, data, size, err);
	if (r >= 0 && size % 512)
		r = img_out_blob_write(w, zeros, 512 - size % 512, err);
	return r;
}

/* Is the ELF executable in head (its first bytes) dynamically linked, i.e.
 * does it have a PT_INTERP program header? Such a ward-init needs the
 * loader and libraries at fixed paths, which scratch or musl images lack.
 * Returns 1 dynamic, 0 static, -WARD_E_MALFORMED if not a readable ELF64. */
static int elf_is_dynamic(const uint8_t *head, size_t size)
{
	struct ward_cur c = ward_cur_make(head, size), ph;
	const uint8_t *ident;
	uint64_t phoff;
	uint16_t phentsize, phnum;

	if (ward_cur_take(&c, 16, &ident) < 0 || memcmp(ident, "\x7f" "ELF", 4) != 0 ||
	    ident[4] != 2 /* ELFCLASS64 */ || ident[5] != 1 /* little endian */)
		return -WARD_E_MALFORMED;
	c = ward_cur_make(head, size);
	if (ward_cur_skip(&c, 32) < 0 || ward_cur_u64le(&c, &phoff) < 0 ||
	    ward_cur_skip(&c, 14) < 0 || ward_cur_u16le(&c, &phentsize) < 0 ||
	    ward_cur_u16le(&c, &phnum) < 0 || phentsize < 56)
		return -WARD_E_MALFORMED;
	ph = ward_cur_make(head, size);
	if (ward_cur_skip(&ph, phoff) < 0)
		return -WARD_E_MALFORMED;
	for (uint16_t i = 0; i < phnum; i++) {
		struct ward_cur e;
		uint32_t type;

		if (ward_cur_sub(&ph, phentsize, &e) < 0 || ward_cur_u32le(&e, &type) < 0)
			return -WARD_E_MALFORMED;
		if (type == 3 /* PT_INTERP */)
			return 1;
	}
	return 0;
}

/* Stream a file (ward-init) into the tar, hashing it. */
static int tar_put_file(struct img_out_blob *w, const char *name, const char *path,
			int64_t mtime, char ret_digest[72], bool *ret_static, struct ward_err *err)
{
	WARD_AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC);
	WARD_CLEANUP(ward_hash_freep) struct ward_hash *h = NULL;
	WARD_AUTOFREE uint8_t *buf = NULL;
	static const uint8_t zeros[512];
	uint8_t hdr[512], d[32];
	struct stat st;
	uint64_t left;
	int r;

	if (fd < 0 || fstat(fd, &st) < 0)
		return ward_err_errno(err, -errno, "ward-init '%.200s'", path);
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > WARD_INIT_MAX_SIZE)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "ward-init '%.200s' is not a regular file of sensible size",
				    path);
	r = ward_hash_new(WARD_HASH_SHA256, &h, err);
	if (r < 0)
		return r;
	r = img_tar_header(hdr, name, '0', 0755, (uint64_t)st.st_size, mtime, err);
	if (r < 0)
		return r;
	r = img_out_blob_write(w, hdr, sizeof(hdr), err);
	if (r < 0)
		return r;
	buf = malloc(IMG_BUF_SIZE);
	if (!buf)
		return ward_err_set(err, -ENOMEM, "out of memory");
	for (left = (uint64_t)st.st_size; left;) {
		ssize_t n = read(fd, buf, left < IMG_BUF_SIZE ? (size_t)left : IMG_BUF_SIZE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ward_err_errno(err, n < 0 ? -errno : -EIO, "read '%.200s'", path);
		if (left == (uint64_t)st.st_size) {
			int dyn = elf_is_dynamic(buf, (size_t)n);

			if (dyn < 0)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "ward-init '%.200s' is not an x86-64/ELF64 "
						    "executable",
						    path);
			*ret_static = dyn == 0;
		}
		r = ward_hash_update(h, buf, (size_t)n, err);
		if (r >= 0)
			r = img_out_blob_write(w, buf, (size_t)n, err);
		if (r < 0)
			return r;
		left -= (uint64_t)n;
	}
	if (st.st_size % 512) {
		r = img_out_blob_write(w, zeros, 512 - (size_t)(st.st_size % 512), err);
		if (r < 0)
			return r;
	}
	r = ward_hash_final(h, d, err);
	if (r < 0)
		return r;
	img_digest_str(d, ret_digest);
	return 0;
}

struct conv_layer {
	struct img_pipe_result res;
	char *pubopts; /* owned, base64 */
	char *jwe;     /* owned, base64 JWE list, or NULL */
	const char *out_media_type;
	struct img_layer_keys keys;
};

static void conv_layers_free(struct conv_layer *cl, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(cl[i].pubopts);
		free(cl[i].jwe);
		ward_wipe(&cl[i].keys, sizeof(cl[i].keys));
	}
	free(cl);
}

/* Encrypt one layer of im into sink; fills cl. */
static int convert_layer(const struct ward_image_convert_opts *opts, struct img_image *im,
			 size_t i, struct img_out_blob *sink, struct conv_layer *cl,
			 struct ward_err *err)
{
	WARD_CLEANUP(img_blob_freep) struct img_blob *b = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *priv = NULL;
	struct img_layer *l = &im->layers[i];
	struct img_pipe_opts po = {0};
	uint64_t size;
	int r;

	if (l->encrypted)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "layer %zu is already encrypted", i);
	if (l->comp == IMG_COMP_UNKNOWN) {
		r = peek_comp(im->src, l->name, &l->comp, err);
		if (r < 0)
			return ward_err_prefix(err, "layer %zu", i);
	}
	r = img_keys_make(opts->insecure_seed, opts->insecure_seed_size, l->diff_id, i, &cl->keys,
			  err);
	if (r < 0)
		return r;
	r = img_blob_open(im->src, l->name, &b, &size, err);
	if (r < 0)
		return ward_err_prefix(err, "layer %zu", i);
	if (l->size && size != l->size)
		return ward_err_set(err, -WARD_E_VERIFY, "layer %zu: blob is %llu bytes, descriptor says %llu",
				    i, (unsigned long long)size, (unsigned long long)l->size);
	po.keys = &cl->keys;
	po.in_comp = l->comp;
	po.check_tar = true;
	if (opts->compression == WARD_IMAGE_COMPRESSION_ZSTD) {
		po.out_comp = IMG_COMP_ZSTD;
		po.level = opts->zstd_level ? opts->zstd_level : 3;
	} else {
		po.out_comp = IMG_COMP_GZIP;
		po.level = opts->gzip_level; /* 0: igzip, the default */
	}
	po.threads = opts->threads ? opts->threads : 2;
	po.layer_index = i;
	po.layer_count = im->layer_count;
	po.progress = opts->progress;
	po.progress_ctx = opts->progress_ctx;
	r = img_pipe_run(b, size, sink, &po, &cl->res, err);
	if (r < 0)
		return ward_err_prefix(err, "layer %zu", i);
	if (l->digest[0] && strcmp(cl->res.in_digest, l->digest) != 0)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "layer %zu: digest mismatch: blob is %s, manifest says %s", i,
				    cl->res.in_digest, l->digest);
	if (cl->res.diff_id[0] && strcmp(cl->res.diff_id, l->diff_id) != 0)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "layer %zu: uncompressed digest %s does not match the config's "
				    "diff_id %s",
				    i, cl->res.diff_id, l->diff_id);
	cl->out_media_type = l->comp == IMG_COMP_NONE ? comp_media_type(cl->res.out_comp)
			     : l->media_type[0]       ? l->media_type
						      : comp_media_type(l->comp);
	r = img_pubopts_encode(cl->res.hmac, &cl->pubopts, err);
	if (r < 0)
		return r;
	if (opts->recipient_count) {
		r = img_privopts_encode(&cl->keys, cl->res.plain_digest, &priv, err);
		if (r < 0)
			return r;
		r = img_jwe_wrap(opts->recipients, opts->recipient_count, priv->data, priv->size,
				 &cl->jwe, err);
		if (r < 0)
			return ward_err_prefix(err, "layer %zu", i);
	}
	return 0;
}

static json_t *layer_annotations(const struct conv_layer *cl)
{
	json_t *a = json_object();

	if (!a)
		return NULL;
	if (cl->jwe && json_object_set_new(a, WARD_ANNOT_ENC_KEYS_JWE, json_string(cl->jwe)) < 0)
		goto fail;
	if (json_object_set_new(a, WARD_ANNOT_ENC_PUBOPTS, json_string(cl->pubopts)) < 0)
		goto fail;
	return a;
fail:
	json_decref(a);
	return NULL;
}

static int write_export_keys(const char *path, const struct conv_layer *cl, size_t n,
			     const struct img_rootfs *rootfs, struct ward_err *err)
{
	WARD_AUTOJSON_IMG json_t *j = json_object(), *layers = json_object();
	char *txt;
	int r;

	if (!j || !layers)
		return ward_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char k[45], nn[25];

		WARD_CLEANUP_ERASE(k);
		ward_base64_encode(cl[i].keys.symkey, 32, k);
		ward_base64_encode(cl[i].keys.nonce, 16, nn);
		if (json_object_set_new(layers, cl[i].res.enc_digest,
					json_pack("{s:s, s:s, s:s}", "symkey", k, "nonce", nn,
						  "digest", cl[i].res.plain_digest)) < 0)
			return ward_err_set(err, -ENOMEM, "out of memory");
	}
	if (rootfs && (r = img_rootfs_export_key(layers, rootfs, err)) < 0)
		return r;
	if (json_object_set_new(j, "version", json_integer(1)) < 0 ||
	    json_object_set(j, "layers", layers) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	txt = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	if (!txt)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_file_write_atomic(path, txt, strlen(txt), 0600, err);
	ward_wipe(txt, strlen(txt));
	free(txt);
	if (r < 0)
		return ward_err_prefix(err, "export keys");
	return 0;
}

static int sign_digest(const struct ward_pkey *key, const char *digest, char **ret_b64,
		       const char **ret_alg, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *sig = NULL;
	size_t sig_size;
	enum ward_sig_alg alg;
	int r;

	switch (ward_pkey_type(key)) {
	case WARD_KEY_EC_P256:
		alg = WARD_SIG_ECDSA_SHA256;
		*ret_alg = "ecdsa-p256-sha256";
		break;
	case WARD_KEY_EC_P384:
		alg = WARD_SIG_ECDSA_SHA384;
		*ret_alg = "ecdsa-p384-sha384";
		break;
	case WARD_KEY_RSA:
		alg = WARD_SIG_RSA_PKCS1_SHA256;
		*ret_alg = "rsa-pkcs1-sha256";
		break;
	default:
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "signing key must be EC P-256, P-384 or RSA");
	}
	if (!ward_pkey_is_private(key))
		return ward_err_set(err, -WARD_E_USAGE, "signing key is not a private key");
	r = ward_sign(key, alg, WARD_SIG_DER, digest, strlen(digest), &sig, &sig_size, err);
	if (r < 0)
		return ward_err_prefix(err, "sign manifest digest");
	*ret_b64 = ward_base64_encode_alloc(sig, sig_size);
	if (!*ret_b64)
		return ward_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* Build the wrapped-mode ward config (/.ward/config.json). */
static int wrapped_config_json(struct img_image *im, struct conv_layer *cl, const json_t *rootfs,
			       char **ret, struct ward_err *err)
{
	WARD_AUTOJSON_IMG json_t *j = json_object();
	const json_t *cfg = json_object_get(im->config, "config");
	json_t *layers, *ports;
	static const struct {
		const char *from, *to;
	} copy[] = {
		{"Entrypoint", "entrypoint"}, {"Cmd", "cmd"},		   {"Env", "env"},
		{"User", "user"},	      {"WorkingDir", "working_dir"}, {"StopSignal", "stop_signal"},
		{"Labels", "labels"},
	};
	int r;

	if (!j)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = json_set(j, "version", json_integer(1), err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(copy) / sizeof(copy[0]); i++) {
		const json_t *v = json_is_object(cfg) ? json_object_get(cfg, copy[i].from) : NULL;

		r = json_set(j, copy[i].to, v && !json_is_null(v) ? json_deep_copy(v) : json_null(),
			     err);
		if (r < 0)
			return r;
	}
	ports = json_array();
	r = json_set(j, "exposed_ports", ports, err);
	if (r < 0)
		return r;
	if (json_is_object(cfg) && json_is_object(json_object_get(cfg, "ExposedPorts"))) {
		const char *k;
		json_t *v;

		json_object_foreach(json_object_get(cfg, "ExposedPorts"), k, v)
			json_array_append_new(ports, json_string(k));
	}
	r = json_set(j, "original_config_digest", json_string(im->config_digest), err);
	if (r < 0)
		return r;
	r = json_set(j, "original_config", json_string(".ward/image-config.json"), err);
	if (r < 0)
		return r;
	layers = json_array();
	r = json_set(j, "layers", layers, err);
	if (r < 0)
		return r;
	/* --rootfs volume or ext4: no layers to apply, the root instead */
	if (rootfs && (r = json_set(j, "rootfs", json_incref((json_t *)rootfs), err)) < 0)
		return r;
	for (size_t i = 0; !rootfs && i < im->layer_count; i++) {
		char blob[96];
		json_t *o;

		snprintf(blob, sizeof(blob), ".ward/layers/%s", cl[i].res.enc_digest + 7);
		o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "blob", blob,
			      "encrypted_digest", cl[i].res.enc_digest, "plain_digest",
			      cl[i].res.plain_digest, "size", (json_int_t)cl[i].res.plain_size,
			      "diff_id", im->layers[i].diff_id, "media_type", cl[i].out_media_type,
			      "pubopts", cl[i].pubopts);
		if (!o || (cl[i].jwe && json_object_set_new(o, "keys_jwe", json_string(cl[i].jwe)) < 0) ||
		    json_array_append_new(layers, o) < 0)
			return ward_err_set(err, -ENOMEM, "out of memory");
	}
	*ret = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	if (!*ret)
		return ward_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

/* The converted config for wrapped mode: entrypoint /.ward/init, one layer. */
static int wrapped_image_config(struct img_image *im, const char *ward_layer_digest,
				int64_t created, char **ret, struct ward_err *err)
{
	WARD_AUTOJSON_IMG json_t *j = NULL, *c = NULL;
	const json_t *cfg = json_object_get(im->config, "config");
	const json_t *v;
	char ts[WARD_RFC3339_SIZE];
	int r;

	ward_time_format_rfc3339((time_t)created, ts);
	c = json_pack("{s:[s], s:[], s:[s]}", "Entrypoint", "/.ward/init", "Cmd", "Env",
		      WRAPPED_PATH_ENV);
	if (!c)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (json_is_object(cfg)) {
		v = json_object_get(cfg, "ExposedPorts");
		if (json_is_object(v) && (r = json_set(c, "ExposedPorts", json_deep_copy(v), err)) < 0)
			return r;
		v = json_object_get(cfg, "StopSignal");
		if (json_is_string(v) && (r = json_set(c, "StopSignal", json_deep_copy(v), err)) < 0)
			return r;
	}
	r = json_set(c, "Labels", json_pack("{s:s}", "dev.ward.mode", "wrapped"), err);
	if (r < 0)
		return r;
	v = json_object_get(im->config, "architecture");
	j = json_pack("{s:s, s:s, s:s, s:O, s:{s:s, s:[s]}, s:[{s:s, s:s}]}", "created", ts,
		      "architecture", json_is_string(v) ? json_string_value(v) : "amd64", "os",
		      json_is_string(json_object_get(im->config, "os"))
			      ? json_string_value(json_object_get(im->config, "os"))
			      : "linux",
		      "config", c, "rootfs", "type", "layers", "diff_ids", ward_layer_digest,
		      "history", "created", ts, "created_by", "ward convert --mode wrapped");
	if (!j)
		return ward_err_set(err, -ENOMEM, "out of memory");
	return dump_json(j, ret, err);
}

static int build_reference(const struct ward_image_convert_opts *opts, struct img_image *im,
			   struct conv_layer *cl, const char *manifest_digest,
			   const char *config_digest, const char *ward_layer_digest,
			   const char *ward_init_digest, bool ward_init_static, const char *sig_b64,
			   const char *sig_alg, json_t **ret, struct ward_err *err)
{
	WARD_AUTOJSON_IMG json_t *j = NULL;
	json_t *layers, *m;
	char meas[97];
	int r;

	r = ward_image_sim_measurement(config_digest, meas, err);
	if (r < 0)
		return r;
	j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s*, s:{s:s}}", "version", 1, "name",
		      opts->output_tag ? opts->output_tag : (im->tag ? im->tag : "latest"), "mode",
		      opts->mode == WARD_IMAGE_MODE_WRAPPED ? "wrapped" : "ocicrypt",
		      "image_digest", manifest_digest, "config_digest", config_digest,
		      "ward_init_digest", ward_init_digest, "measurements", "sim", meas);
	if (!j)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (ward_layer_digest && (r = json_set(j, "ward_layer_digest", json_string(ward_layer_digest), err)) < 0)
		return r;
	/* a dynamically linked ward-init only runs where its loader and
	 * libraries exist (not in scratch, distroless-static or musl images) */
	if (ward_init_digest &&
	    (r = json_set(j, "ward_init_static", json_boolean(ward_init_static), err)) < 0)
		return r;
	r = json_set(j, "source", json_pack("{s:s, s:s}", "manifest_digest",
					    im->manifest_digest[0] ? im->manifest_digest : "",
					    "config_digest", im->config_digest),
		     err);
	if (r < 0)
		return r;
	layers = json_array();
	r = json_set(j, "layers", layers, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < im->layer_count; i++) {
		m = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I}", "index", (json_int_t)i, "media_type",
			      cl[i].out_media_type, "plain_digest", cl[i].res.plain_digest,
			      "encrypted_digest", cl[i].res.enc_digest, "diff_id",
			      im->layers[i].diff_id, "size", (json_int_t)cl[i].res.enc_size);
		if (!m || json_array_append_new(layers, m) < 0)
			return ward_err_set(err, -ENOMEM, "out of memory");
	}
	if (sig_b64) {
		r = json_set(j, "signature",
			     json_pack("{s:s, s:s, s:s}", "alg", sig_alg, "message", manifest_digest,
				       "value", sig_b64),
			     err);
		if (r < 0)
			return r;
	}
	*ret = WARD_TAKE_PTR(j);
	return 0;
}

/* Read the coordinator's certificate for the ward layer: one PEM
 * certificate (what ward-init pins), refused if it does not parse. */
static int pin_load(const char *path, uint8_t **ret, size_t *ret_size, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *pem = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *cert = NULL;
	size_t size;
	int r;

	r = ward_file_read(path, 1 << 16, &pem, &size, err);
	if (r >= 0)
		r = ward_x509_from_pem(pem, size, &cert, err);
	if (r < 0)
		return ward_err_prefix(err, "coordinator pin '%s'", path);
	*ret = WARD_TAKE_PTR(pem);
	*ret_size = size;
	return 0;
}

int ward_image_convert(const struct ward_image_convert_opts *opts, json_t **ret_reference,
		       struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *pin = NULL;
	size_t pin_size = 0;
	WARD_CLEANUP(img_image_freep) struct img_image *im = NULL;
	WARD_CLEANUP(img_out_freep) struct img_out *out = NULL;
	WARD_AUTOJSON_IMG json_t *manifest = NULL, *layers = NULL, *desc = NULL, *ref = NULL;
	WARD_AUTOFREE char *man_s = NULL, *cfg_s = NULL, *sig_b64 = NULL;
	struct conv_layer *cl = NULL;
	struct img_rootfs rootfs = {0};
	WARD_AUTOFREE char *rootfs_jwe = NULL;
	WARD_AUTOJSON_IMG json_t *rootfs_json = NULL;
	const char *sig_alg = NULL;
	char cfg_digest[72], man_digest[72], ward_layer_digest[72] = "", init_digest[72] = "";
	bool init_static = false;
	const char *out_layer_digests[WARD_IMAGE_MAX_LAYERS];
	size_t out_layer_count = 0;
	const char *cfg_mt;
	int64_t created = opts->source_date_epoch >= 0 ? opts->source_date_epoch : (int64_t)time(NULL);
	int64_t mtime = opts->source_date_epoch >= 0 ? opts->source_date_epoch : 0;
	int r;

	if (opts->recipient_count == 0 && !opts->export_keys)
		return ward_err_set(err, -WARD_E_USAGE,
				    "no recipient and no --export-keys: the layer keys would be "
				    "lost");
	if (opts->mode == WARD_IMAGE_MODE_WRAPPED && !opts->ward_init)
		return ward_err_set(err, -WARD_E_USAGE, "wrapped mode needs the ward-init binary");
	if (opts->rootfs != WARD_IMAGE_ROOTFS_LAYERS && opts->rootfs != WARD_IMAGE_ROOTFS_VOLUME &&
	    opts->rootfs != WARD_IMAGE_ROOTFS_EXT4)
		return ward_err_set(err, -WARD_E_USAGE, "unknown root filesystem layout %d",
				    (int)opts->rootfs);
	if (opts->rootfs != WARD_IMAGE_ROOTFS_LAYERS && opts->mode != WARD_IMAGE_MODE_WRAPPED)
		return ward_err_set(err, -WARD_E_USAGE,
				    "--rootfs %s needs wrapped mode (ward-init mounts it)",
				    opts->rootfs == WARD_IMAGE_ROOTFS_EXT4 ? "ext4" : "volume");
	if (opts->rootfs_size && opts->rootfs != WARD_IMAGE_ROOTFS_EXT4)
		return ward_err_set(err, -WARD_E_USAGE, "--rootfs-size is for --rootfs ext4");
	if (opts->coordinator_pin && opts->mode != WARD_IMAGE_MODE_WRAPPED)
		return ward_err_set(err, -WARD_E_USAGE,
				    "the coordinator pin goes into the ward layer: wrapped mode only");
	if (opts->compression != WARD_IMAGE_COMPRESSION_GZIP &&
	    opts->compression != WARD_IMAGE_COMPRESSION_ZSTD)
		return ward_err_set(err, -WARD_E_USAGE, "unknown layer compression %d",
				    (int)opts->compression);
	if (opts->gzip_level < 0 || opts->gzip_level > 12)
		return ward_err_set(err, -WARD_E_USAGE, "gzip level %d is not 1..12",
				    opts->gzip_level);
	if (opts->zstd_level < 0 || opts->zstd_level > 19)
		return ward_err_set(err, -WARD_E_USAGE, "zstd level %d is not 1..19",
				    opts->zstd_level);
	if (opts->coordinator_pin) {
		r = pin_load(opts->coordinator_pin, &pin, &pin_size, err);
		if (r < 0)
			return r;
	}

	r = img_image_load(opts->input, opts->tag, opts->platform, &im, err);
	if (r < 0)
		return r;
	if (im->layer_count == 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "input image has no layers");
	/* a wrapped image has no encrypted layer to notice: its label says it */
	if (json_is_string(json_object_get(
		json_object_get(json_object_get(im->config, "config"), "Labels"), "dev.ward.mode")))
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "the input is already converted (label dev.ward.mode)");
	r = img_out_open(opts->output, opts->format, &out, err);
	if (r < 0)
		return r;
	cl = calloc(im->layer_count, sizeof(*cl));
	if (!cl)
		return ward_err_set(err, -ENOMEM, "out of memory");

	layers = json_array();
	if (!layers) {
		r = ward_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (opts->mode == WARD_IMAGE_MODE_OCICRYPT) {
		/* config unchanged; each layer its own encrypted blob */
		r = img_out_bytes(out, im->config_raw, im->config_size, cfg_digest, err);
		if (r < 0)
			goto out;
		for (size_t i = 0; i < im->layer_count; i++) {
			WARD_CLEANUP(img_out_blob_freep) struct img_out_blob *b = NULL;
			char d[72];
			char mt[200];
			json_t *ld, *ann;

			r = img_out_blob_begin(out, &b, err);
			if (r < 0)
				goto out;
			/* the pipeline hashes exactly what it writes */
			img_out_blob_nohash(b);
			r = convert_layer(opts, im, i, b, &cl[i], err);
			if (r < 0)
				goto out;
			img_out_blob_set_digest(b, cl[i].res.enc_digest);
			r = img_out_blob_commit(b, d, NULL, err);
			if (r < 0)
				goto out;
			snprintf(mt, sizeof(mt), "%s" WARD_ENC_SUFFIX, cl[i].out_media_type);
			ann = layer_annotations(&cl[i]);
			ld = json_pack("{s:s, s:s, s:I, s:o}", "mediaType", mt, "digest", d, "size",
				       (json_int_t)cl[i].res.enc_size, "annotations", ann);
			if (!ld || json_array_append_new(layers, ld) < 0) {
				r = ward_err_set(err, -ENOMEM, "out of memory");
				goto out;
			}
			out_layer_digests[out_layer_count++] =
				json_string_value(json_object_get(ld, "digest"));
		}
		cfg_mt = im->config_media_type;
		if (!strcmp(cfg_mt, WARD_MT_DOCKER_CONFIG))
			cfg_mt = WARD_MT_OCI_CONFIG;
		r = json_set(manifest = json_object(), "schemaVersion", json_integer(2), err);
	} else {
		WARD_CLEANUP(img_out_blob_freep) struct img_out_blob *w = NULL;
		WARD_AUTOFREE char *wcfg = NULL;
		uint64_t wsize;
		static const uint8_t zeros[1024];
		json_t *ld;

		r = img_out_blob_begin(out, &w, err);
		if (r < 0)
			goto out;
		/* headers are patched after each blob: hashed by re-reading at commit */
		img_out_blob_nohash(w);
		r = tar_put(w, ".ward/", '5', WARD_DIR_MODE, NULL, 0, mtime, err);
		if (r >= 0)
			r = tar_put_file(w, ".ward/init", opts->ward_init, mtime, init_digest,
					 &init_static, err);
		if (r >= 0)
			r = tar_put(w, ".ward/image-config.json", '0', 0644, im->config_raw,
				    im->config_size, mtime, err);
		if (r >= 0 && pin)
			r = tar_put(w, ".ward/coordinator.pem", '0', 0444, pin, pin_size, mtime,
				    err);
		if (r >= 0)
			r = tar_put(w, ".ward/layers/", '5', WARD_DIR_MODE, NULL, 0, mtime, err);
		if (r < 0)
			goto out;
		if (opts->rootfs != WARD_IMAGE_ROOTFS_LAYERS) {
			r = img_rootfs_write(opts, im, w, mtime, &rootfs, &rootfs_jwe, err);
			if (r < 0)
				goto out;
			rootfs_json = img_rootfs_config(&rootfs, rootfs_jwe);
			if (!rootfs_json) {
				r = ward_err_set(err, -ENOMEM, "out of memory");
				goto out;
			}
			for (size_t i = 0; i < im->layer_count; i++) {
				/* reference values: the source layers, nothing encrypted */
				struct img_layer *l = &im->layers[i];

				snprintf(cl[i].res.plain_digest, sizeof(cl[i].res.plain_digest), "%s",
					 l->digest[0] ? l->digest : l->diff_id);
				cl[i].out_media_type = l->media_type[0] ? l->media_type
									: comp_media_type(l->comp);
			}
		}
		for (size_t i = 0; opts->rootfs == WARD_IMAGE_ROOTFS_LAYERS && i < im->layer_count;
		     i++) {
			uint64_t off = img_out_blob_size(w);
			uint8_t hdr[512];
			char name[100];

			r = img_out_blob_write(w, zeros, 512, err);
			if (r < 0)
				goto out;
			r = convert_layer(opts, im, i, w, &cl[i], err);
			if (r < 0)
				goto out;
			if (cl[i].res.enc_size % 512)
				r = img_out_blob_write(w, zeros, 512 - cl[i].res.enc_size % 512, err);
			if (r < 0)
				goto out;
			snprintf(name, sizeof(name), ".ward/layers/%s", cl[i].res.enc_digest + 7);
			r = img_tar_header(hdr, name, '0', 0400, cl[i].res.enc_size, mtime, err);
			if (r >= 0)
				r = img_out_blob_pwrite(w, hdr, sizeof(hdr), off, err);
			if (r < 0)
				goto out;
		}
		r = wrapped_config_json(im, cl, rootfs_json, &wcfg, err);
		if (r >= 0)
			r = tar_put(w, ".ward/config.json", '0', 0644, wcfg, strlen(wcfg), mtime, err);
		if (r >= 0)
			r = img_out_blob_write(w, zeros, sizeof(zeros), err);
		if (r >= 0)
			r = img_out_blob_commit(w, ward_layer_digest, &wsize, err);
		if (r < 0)
			goto out;
		r = wrapped_image_config(im, ward_layer_digest, created, &cfg_s, err);
		if (r >= 0)
			r = img_out_bytes(out, cfg_s, strlen(cfg_s), cfg_digest, err);
		if (r < 0)
			goto out;
		ld = json_pack("{s:s, s:s, s:I}", "mediaType", WARD_MT_OCI_LAYER_TAR, "digest",
			       ward_layer_digest, "size", (json_int_t)wsize);
		if (!ld || json_array_append_new(layers, ld) < 0) {
			r = ward_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		out_layer_digests[out_layer_count++] = ward_layer_digest;
		cfg_mt = WARD_MT_OCI_CONFIG;
		r = json_set(manifest = json_object(), "schemaVersion", json_integer(2), err);
	}
	if (r < 0)
		goto out;
	/* manifest */
	{
		json_t *c = json_pack("{s:s, s:s, s:I}", "mediaType", cfg_mt, "digest", cfg_digest,
				      "size",
				      (json_int_t)(cfg_s ? strlen(cfg_s) : im->config_size));

		r = json_set(manifest, "mediaType", json_string(WARD_MT_OCI_MANIFEST), err);
		if (r >= 0)
			r = json_set(manifest, "config", c, err);
		if (r >= 0)
			r = json_set(manifest, "layers", json_incref(layers), err);
		if (r < 0)
			goto out;
	}
	r = dump_json(manifest, &man_s, err);
	if (r >= 0)
		r = img_out_bytes(out, man_s, strlen(man_s), man_digest, err);
	if (r < 0)
		goto out;
	desc = json_pack("{s:s, s:s, s:I}", "mediaType", WARD_MT_OCI_MANIFEST, "digest", man_digest,
			 "size", (json_int_t)strlen(man_s));
	if (!desc) {
		r = ward_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (opts->sign_key) {
		r = sign_digest(opts->sign_key, man_digest, &sig_b64, &sig_alg, err);
		if (r < 0)
			goto out;
		r = json_set(desc, "annotations",
			     json_pack("{s:s, s:s}", WARD_ANNOT_SIGNATURE, sig_b64,
				       WARD_ANNOT_SIGNATURE_ALG, sig_alg),
			     err);
		if (r < 0)
			goto out;
	}
	r = build_reference(opts, im, cl, man_digest, cfg_digest,
			    ward_layer_digest[0] ? ward_layer_digest : NULL,
			    init_digest[0] ? init_digest : NULL, init_static, sig_b64, sig_alg, &ref,
			    err);
	if (r < 0)
		goto out;
	if (rootfs_json && (r = json_set(ref, "rootfs", json_incref(rootfs_json), err)) < 0)
		goto out;
	if (opts->export_keys) {
		r = write_export_keys(opts->export_keys, cl, rootfs_json ? 0 : im->layer_count,
				      rootfs_json ? &rootfs : NULL, err);
		if (r < 0)
			goto out;
	}
	r = img_out_commit(out, desc,
			   opts->output_tag ? opts->output_tag : (im->tag ? im->tag : "latest"),
			   cfg_digest, out_layer_digests, out_layer_count, err);
	if (r < 0) {
		if (opts->export_keys)
			(void)unlink(opts->export_keys);
		goto out;
	}
	if (ret_reference)
		*ret_reference = WARD_TAKE_PTR(ref);
	r = 0;
out:
	ward_wipe(rootfs.key, sizeof(rootfs.key));
	conv_layers_free(cl, im->layer_count);
	if (r < 0)
		ward_err_prefix(err, "convert '%.200s'", opts->input);
	return r;
}
