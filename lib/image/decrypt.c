/* SPDX-License-Identifier: Apache-2.0 */
/* ward convert --decrypt: turn a converted image (ocicrypt or wrapped)
 * back into a plain image, and verify image signatures. Each layer's
 * plaintext goes to a temporary blob that is renamed into place only after
 * its HMAC (over the whole ciphertext) and plaintext digest verify; the
 * image itself appears only when every layer did. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image-internal.h"
#include "ward/encoding.h"
#include "ward/file.h"

#define KEYS_FILE_MAX (4u << 20)
#define WARD_CONFIG_MAX (4u << 20)

/* Look up the keys for an encrypted blob in an --export-keys file. */
static int keys_from_file(const json_t *kf, const char *enc_digest, struct img_layer_keys *ret,
			  char ret_digest[72], struct ward_err *err)
{
	const json_t *e = json_object_get(json_object_get(kf, "layers"), enc_digest);
	const json_t *k, *n, *d;
	WARD_AUTOFREE uint8_t *kb = NULL, *nb = NULL;
	size_t ks, ns;
	int r;

	if (!json_is_object(e))
		return ward_err_set(err, -WARD_E_NOT_FOUND, "keys file has no entry for %s",
				    enc_digest);
	k = json_object_get(e, "symkey");
	n = json_object_get(e, "nonce");
	d = json_object_get(e, "digest");
	if (!json_is_string(k) || !json_is_string(n) || !json_is_string(d) ||
	    !ward_oci_digest_valid(json_string_value(d)))
		return ward_err_set(err, -WARD_E_MALFORMED, "keys file entry for %s is malformed",
				    enc_digest);
	r = ward_base64_decode(json_string_value(k), json_string_length(k), &kb, &ks, err);
	if (r >= 0)
		r = ward_base64_decode(json_string_value(n), json_string_length(n), &nb, &ns, err);
	if (r < 0 || ks != 32 || ns != 16) {
		if (kb)
			ward_wipe(kb, ks);
		return ward_err_set(err, -WARD_E_MALFORMED, "keys file entry for %s: bad key/nonce",
				    enc_digest);
	}
	memcpy(ret->symkey, kb, 32);
	memcpy(ret->nonce, nb, 16);
	ward_wipe(kb, ks);
	memcpy(ret_digest, json_string_value(d), 72);
	return 0;
}

static int layer_keys(const struct ward_image_decrypt_opts *opts, const json_t *kf,
		      const char *enc_digest, const char *jwe, struct img_layer_keys *ret,
		      char ret_digest[72], struct ward_err *err)
{
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *priv = NULL;
	int r;

	if (kf)
		return keys_from_file(kf, enc_digest, ret, ret_digest, err);
	if (!jwe)
		return ward_err_set(err, -WARD_E_NOT_FOUND,
				    "layer %s has no wrapped keys (keys.jwe); use --keys", enc_digest);
	r = img_jwe_unwrap(opts->keys, opts->key_count, jwe, &priv, err);
	if (r < 0)
		return r;
	return img_privopts_decode(priv->data, priv->size, ret, ret_digest, err);
}

static char *strip_enc(const char *mt)
{
	size_t n = strlen(mt), s = strlen(WARD_ENC_SUFFIX);

	if (n > s && strcmp(mt + n - s, WARD_ENC_SUFFIX) == 0)
		return strndup(mt, n - s);
	return strdup(mt);
}

static int add_layer_desc(json_t *layers, const char *mt, const char *digest, uint64_t size,
			  const char **ret_digest, struct ward_err *err)
{
	json_t *d = json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", digest, "size",
			      (json_int_t)size);

	if (!d || json_array_append_new(layers, d) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	*ret_digest = json_string_value(json_object_get(d, "digest"));
	return 0;
}

static int finish_image(struct img_out *out, const uint8_t *cfg, size_t cfg_size,
			const char *cfg_mt, json_t *layers, const char *tag,
			const char *const *digests, size_t n, struct ward_err *err)
{
	WARD_AUTOJSON_IMG json_t *m = NULL, *desc = NULL;
	WARD_AUTOFREE char *ms = NULL;
	char cd[72], md[72];
	int r;

	r = img_out_bytes(out, cfg, cfg_size, cd, err);
	if (r < 0)
		return r;
	m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:O}", "schemaVersion", 2, "mediaType",
		      WARD_MT_OCI_MANIFEST, "config", "mediaType", cfg_mt, "digest", cd, "size",
		      (json_int_t)cfg_size, "layers", layers);
	if (!m || !(ms = json_dumps(m, JSON_COMPACT)))
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = img_out_bytes(out, ms, strlen(ms), md, err);
	if (r < 0)
		return r;
	desc = json_pack("{s:s, s:s, s:I}", "mediaType", WARD_MT_OCI_MANIFEST, "digest", md, "size",
			 (json_int_t)strlen(ms));
	if (!desc)
		return ward_err_set(err, -ENOMEM, "out of memory");
	return img_out_commit(out, desc, tag, cd, digests, n, err);
}

/* ---- ocicrypt layers ------------------------------------------------------ */

static int decrypt_ocicrypt(const struct ward_image_decrypt_opts *opts, struct img_image *im,
			    const json_t *kf, struct img_out *out, struct ward_err *err)
{
	WARD_AUTOJSON_IMG json_t *layers = json_array();
	const char *digests[WARD_IMAGE_MAX_LAYERS];
	const char *cfg_mt = im->config_media_type;
	int r;

	if (!layers)
		return ward_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < im->layer_count; i++) {
		struct img_layer *l = &im->layers[i];
		WARD_CLEANUP(img_blob_freep) struct img_blob *b = NULL;
		WARD_CLEANUP(img_out_blob_freep) struct img_out_blob *w = NULL;
		WARD_AUTOFREE char *mt = strip_enc(l->media_type);
		struct img_layer_keys keys;
		uint8_t hmac[32];
		char want[72], got[72], committed[72];
		uint64_t size, psize;

		WARD_CLEANUP_ERASE(keys);
		if (!mt)
			return ward_err_set(err, -ENOMEM, "out of memory");
		r = img_blob_open(im->src, l->name, &b, &size, err);
		if (r < 0)
			return ward_err_prefix(err, "layer %zu", i);
		r = img_out_blob_begin(out, &w, err);
		if (r < 0)
			return r;
		if (!l->encrypted) {
			struct img_pipe_opts po = {.in_comp = l->comp == IMG_COMP_UNKNOWN ? IMG_COMP_GZIP
											  : l->comp,
						   .threads = 1};
			struct img_pipe_result res;

			if (l->comp == IMG_COMP_UNKNOWN || l->comp == IMG_COMP_NONE)
				return ward_err_set(err, -WARD_E_UNSUPPORTED,
						    "layer %zu is neither encrypted nor compressed", i);
			r = img_pipe_run(b, size, w, &po, &res, err);
			if (r < 0)
				return ward_err_prefix(err, "layer %zu", i);
			if (l->digest[0] && strcmp(res.in_digest, l->digest) != 0)
				return ward_err_set(err, -WARD_E_VERIFY, "layer %zu: digest mismatch", i);
			memcpy(got, res.in_digest, 72);
			psize = res.in_size;
		} else {
			const json_t *pub = l->annotations ? json_object_get(l->annotations,
									     WARD_ANNOT_ENC_PUBOPTS)
							   : NULL;
			const json_t *jwe = l->annotations ? json_object_get(l->annotations,
									     WARD_ANNOT_ENC_KEYS_JWE)
							   : NULL;

			if (!pub)
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "layer %zu: encrypted but no %s annotation", i,
						    WARD_ANNOT_ENC_PUBOPTS);
			r = img_pubopts_decode(json_string_value(pub), hmac, err);
			if (r < 0)
				return ward_err_prefix(err, "layer %zu", i);
			r = layer_keys(opts, kf, l->digest, jwe ? json_string_value(jwe) : NULL, &keys,
				       want, err);
			if (r < 0)
				return ward_err_prefix(err, "layer %zu", i);
			r = img_pipe_decrypt(b, size, w, &keys, hmac, l->digest, want, i, im->layer_count,
					     opts->progress, opts->progress_ctx, got, &psize, err);
			if (r < 0)
				return ward_err_prefix(err, "layer %zu", i);
		}
		r = img_out_blob_commit(w, committed, NULL, err);
		if (r < 0)
			return r;
		r = add_layer_desc(layers, mt, committed, psize, &digests[i], err);
		if (r < 0)
			return r;
	}
	if (!strcmp(cfg_mt, WARD_MT_DOCKER_CONFIG))
		cfg_mt = WARD_MT_OCI_CONFIG;
	return finish_image(out, im->config_raw, im->config_size, cfg_mt, layers,
			    opts->output_tag ? opts->output_tag : (im->tag ? im->tag : "latest"),
			    digests, im->layer_count, err);
}

/* ---- wrapped mode ---------------------------------------------------------- */

struct ar_ctx {
	struct img_blob *b;
	struct ward_hash *h; /* NULL: do not hash */
	uint8_t *buf;
	struct ward_err err;
	bool failed;
};

static la_ssize_t ar_read(struct archive *a, void *p, const void **out)
{
	struct ar_ctx *c = p;
	size_t got;

	(void)a;
	if (img_blob_read(c->b, c->buf, IMG_BUF_SIZE, &got, &c->err) < 0 ||
	    (c->h && got && ward_hash_update(c->h, c->buf, got, &c->err) < 0)) {
		c->failed = true;
		return -1;
	}
	*out = c->buf;
	return (la_ssize_t)got;
}

static int ward_layer_open(struct img_image *im, struct ar_ctx *c, struct archive **ret,
			   struct ward_err *err)
{
	struct archive *a;
	int r;

	r = img_blob_open(im->src, im->layers[0].name, &c->b, NULL, err);
	if (r < 0)
		return r;
	a = archive_read_new();
	if (!a)
		return ward_err_set(err, -ENOMEM, "out of memory");
	archive_read_support_format_tar(a);
	if (archive_read_open(a, c, NULL, ar_read, NULL) != ARCHIVE_OK) {
		r = ward_err_set(err, -WARD_E_MALFORMED, "ward layer: %s",
				 archive_error_string(a) ? archive_error_string(a) : "not a tar");
		archive_read_free(a);
		return r;
	}
	*ret = a;
	return 0;
}

static int read_entry(struct archive *a, struct archive_entry *e, size_t max, uint8_t **ret,
		      size_t *ret_size, struct ward_err *err)
{
	int64_t size = archive_entry_size(e);
	WARD_AUTOFREE uint8_t *buf = NULL;
	la_ssize_t n;

	if (size < 0 || (uint64_t)size > max)
		return ward_err_set(err, -WARD_E_TOO_BIG, "ward layer: '%s' too large",
				    archive_entry_pathname(e));
	buf = malloc((size_t)size + 1);
	if (!buf)
		return ward_err_set(err, -ENOMEM, "out of memory");
	n = archive_read_data(a, buf, (size_t)size);
	if (n != size)
		return ward_err_set(err, -WARD_E_MALFORMED, "ward layer: '%s' truncated",
				    archive_entry_pathname(e));
	buf[size] = '\0';
	*ret = WARD_TAKE_PTR(buf);
	*ret_size = (size_t)size;
	return 0;
}

static int decrypt_wrapped(const struct ward_image_decrypt_opts *opts, struct img_image *im,
			   const json_t *kf, struct img_out *out, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *wcfg_raw = NULL, *orig_cfg = NULL, *buf = malloc(IMG_BUF_SIZE);
	WARD_AUTOJSON_IMG json_t *wcfg = NULL, *out_layers = json_array();
	WARD_CLEANUP(ward_hash_freep) struct ward_hash *h = NULL;
	const char *digests[WARD_IMAGE_MAX_LAYERS];
	size_t wcfg_size = 0, orig_size = 0, n_layers, i;
	const json_t *layers, *l = NULL;
	char layer_digest[72], cfg_digest[72];
	uint8_t d[32];
	struct archive_entry *e;
	int r;

	if (!buf || !out_layers)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_hash_new(WARD_HASH_SHA256, &h, err);
	if (r < 0)
		return r;
	/* pass 1: read the ward config and the original config, hash the layer */
	{
		struct ar_ctx c = {.h = h, .buf = buf};
		struct archive *a = NULL;

		r = ward_layer_open(im, &c, &a, err);
		if (r < 0) {
			img_blob_free(c.b);
			return r;
		}
		for (;;) {
			const char *name;

			r = archive_read_next_header(a, &e);
			if (r == ARCHIVE_EOF)
				break;
			if (r != ARCHIVE_OK) {
				r = c.failed ? (*err = c.err, c.err.code)
					     : ward_err_set(err, -WARD_E_MALFORMED, "ward layer: %s",
							    archive_error_string(a));
				break;
			}
			name = archive_entry_pathname(e);
			r = 0;
			if (!strcmp(name, ".ward/config.json") && !wcfg_raw)
				r = read_entry(a, e, WARD_CONFIG_MAX, &wcfg_raw, &wcfg_size, err);
			else if (!strcmp(name, ".ward/image-config.json") && !orig_cfg)
				r = read_entry(a, e, WARD_IMAGE_JSON_MAX_SIZE, &orig_cfg, &orig_size,
					       err);
			if (r < 0)
				break;
		}
		/* drain to the end so the whole blob is hashed */
		while (r == ARCHIVE_EOF && !c.failed) {
			const void *p;
			if (ar_read(a, &c, &p) <= 0)
				break;
		}
		archive_read_free(a);
		img_blob_free(c.b);
		if (c.failed)
			return *err = c.err, ward_err_prefix(err, "ward layer");
		if (r < 0 && r != ARCHIVE_EOF)
			return r;
	}
	r = ward_hash_final(h, d, err);
	if (r < 0)
		return r;
	img_digest_str(d, layer_digest);
	if (strcmp(layer_digest, im->layers[0].digest) != 0)
		return ward_err_set(err, -WARD_E_VERIFY, "ward layer digest mismatch: %s, manifest says %s",
				    layer_digest, im->layers[0].digest);
	if (!wcfg_raw || !orig_cfg)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "ward layer lacks .ward/config.json or .ward/image-config.json");
	r = ward_image_json_parse(wcfg_raw, wcfg_size, &wcfg, err);
	if (r < 0)
		return ward_err_prefix(err, ".ward/config.json");
	r = img_sha256_str(orig_cfg, orig_size, cfg_digest, err);
	if (r < 0)
		return r;
	if (!json_is_object(wcfg) ||
	    !json_is_string(json_object_get(wcfg, "original_config_digest")) ||
	    strcmp(cfg_digest, json_string_value(json_object_get(wcfg, "original_config_digest"))))
		return ward_err_set(err, -WARD_E_VERIFY,
				    ".ward/config.json: original config digest mismatch or missing");
	if (json_object_get(wcfg, "rootfs")) {
		const char *type = json_string_value(
			json_object_get(json_object_get(wcfg, "rootfs"), "type"));

		if (type && !strcmp(type, "ext4"))
			return ward_err_set(err, -WARD_E_UNSUPPORTED,
					    "a --rootfs ext4 image holds no layers to decrypt (its "
					    "root is one sealed ext4 filesystem image)");
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "a --rootfs volume image holds no layers to decrypt (its root "
				    "is a protected volume: 'ward volume mount' it with its key)");
	}
	layers = json_object_get(wcfg, "layers");
	if (!json_is_array(layers) || json_array_size(layers) == 0 ||
	    json_array_size(layers) > WARD_IMAGE_MAX_LAYERS)
		return ward_err_set(err, -WARD_E_MALFORMED, ".ward/config.json: bad \"layers\"");
	n_layers = json_array_size(layers);
	json_array_foreach(layers, i, l) {
		static const char *const keys[] = {"blob", "encrypted_digest", "plain_digest",
						   "media_type", "pubopts"};

		for (size_t k = 0; k < 5; k++)
			if (!json_is_string(json_object_get(l, keys[k])))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    ".ward/config.json: layers[%zu].%s must be a "
						    "string",
						    i, keys[k]);
		{
			const char *mt = json_string_value(json_object_get(l, "media_type"));

			if (strcmp(mt, WARD_MT_OCI_LAYER_GZIP) && strcmp(mt, WARD_MT_OCI_LAYER_ZSTD) &&
			    strcmp(mt, WARD_MT_OCI_LAYER_TAR) && strcmp(mt, WARD_MT_DOCKER_LAYER_GZIP))
				return ward_err_set(err, -WARD_E_UNSUPPORTED,
						    ".ward/config.json: layers[%zu].media_type '%.100s' "
						    "is not a layer type",
						    i, mt);
			if (!ward_oci_digest_valid(json_string_value(json_object_get(l, "plain_digest"))) ||
			    !ward_oci_digest_valid(
				    json_string_value(json_object_get(l, "encrypted_digest"))))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    ".ward/config.json: layers[%zu]: bad digest", i);
		}
		if (json_object_get(l, "keys_jwe") && !json_is_string(json_object_get(l, "keys_jwe")))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    ".ward/config.json: layers[%zu].keys_jwe must be a string",
					    i);
		digests[i] = NULL;
	}

	/* pass 2: decrypt each layer blob as it streams by */
	{
		struct ar_ctx c = {.buf = buf};
		struct archive *a = NULL;
		size_t done = 0;

		r = ward_layer_open(im, &c, &a, err);
		if (r < 0) {
			img_blob_free(c.b);
			return r;
		}
		for (;;) {
			const char *name;
			WARD_CLEANUP(img_blob_freep) struct img_blob *eb = NULL;
			WARD_CLEANUP(img_out_blob_freep) struct img_out_blob *w = NULL;
			struct img_layer_keys keys;
			uint8_t hmac[32];
			char want[72], got[72], committed[72];
			uint64_t psize;
			const json_t *jwe;

			WARD_CLEANUP_ERASE(keys);
			r = archive_read_next_header(a, &e);
			if (r == ARCHIVE_EOF) {
				r = 0;
				break;
			}
			if (r != ARCHIVE_OK) {
				r = ward_err_set(err, -WARD_E_MALFORMED, "ward layer: %s",
						 archive_error_string(a));
				break;
			}
			name = archive_entry_pathname(e);
			json_array_foreach(layers, i, l)
				if (!digests[i] && !strcmp(name, json_string_value(json_object_get(l, "blob"))))
					break;
			if (i >= n_layers)
				continue;
			r = img_pubopts_decode(json_string_value(json_object_get(l, "pubopts")), hmac,
					       err);
			if (r < 0)
				break;
			jwe = json_object_get(l, "keys_jwe");
			r = layer_keys(opts, kf, json_string_value(json_object_get(l, "encrypted_digest")),
				       jwe ? json_string_value(jwe) : NULL, &keys, want, err);
			if (r >= 0 && strcmp(want, json_string_value(json_object_get(l, "plain_digest"))))
				r = ward_err_set(err, -WARD_E_VERIFY,
						 "wrapped plaintext digest disagrees with the ward config");
			if (r >= 0)
				r = img_blob_borrow_archive(a, (uint64_t)archive_entry_size(e), name, &eb, err);
			if (r >= 0)
				r = img_out_blob_begin(out, &w, err);
			if (r >= 0)
				r = img_pipe_decrypt(eb, (uint64_t)archive_entry_size(e), w, &keys, hmac,
						     json_string_value(json_object_get(l, "encrypted_digest")),
						     want, i, n_layers, opts->progress,
						     opts->progress_ctx, got, &psize, err);
			if (r >= 0)
				r = img_out_blob_commit(w, committed, NULL, err);
			if (r >= 0)
				r = add_layer_desc(out_layers,
						   json_string_value(json_object_get(l, "media_type")),
						   committed, psize, &digests[i], err);
			if (r < 0) {
				ward_err_prefix(err, "wrapped layer %zu", i);
				break;
			}
			done++;
		}
		archive_read_free(a);
		img_blob_free(c.b);
		if (r < 0)
			return r;
		if (done != n_layers)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "ward layer holds %zu of %zu encrypted layers", done,
					    n_layers);
	}
	/* layer descriptors in the original order */
	{
		WARD_AUTOJSON_IMG json_t *ordered = json_array();

		if (!ordered)
			return ward_err_set(err, -ENOMEM, "out of memory");
		for (i = 0; i < n_layers; i++) {
			size_t k;
			json_t *d2 = NULL, *found = NULL;

			json_array_foreach(out_layers, k, d2)
				if (json_string_value(json_object_get(d2, "digest")) == digests[i])
					found = d2;
			if (!found || json_array_append(ordered, found) < 0)
				return ward_err_set(err, -WARD_E_STATE, "lost a decrypted layer");
			digests[i] = json_string_value(json_object_get(found, "digest"));
		}
		return finish_image(out, orig_cfg, orig_size, WARD_MT_OCI_CONFIG, ordered,
				    opts->output_tag ? opts->output_tag : (im->tag ? im->tag : "latest"),
				    digests, n_layers, err);
	}
}

static bool is_wrapped(const struct img_image *im)
{
	const json_t *labels = json_object_get(json_object_get(im->config, "config"), "Labels");
	const json_t *m = json_object_get(labels, "dev.ward.mode");

	return im->layer_count == 1 && json_is_string(m) &&
	       strcmp(json_string_value(m), "wrapped") == 0;
}

int ward_image_decrypt(const struct ward_image_decrypt_opts *opts, struct ward_err *err)
{
	WARD_CLEANUP(img_image_freep) struct img_image *im = NULL;
	WARD_CLEANUP(img_out_freep) struct img_out *out = NULL;
	WARD_AUTOJSON_IMG json_t *kf = NULL;
	int r;

	if (opts->key_count == 0 && !opts->keys_file)
		return ward_err_set(err, -WARD_E_USAGE, "decrypting needs --key or --keys");
	if (opts->keys_file) {
		WARD_AUTOFREE uint8_t *raw = NULL;
		size_t size;

		r = ward_file_read(opts->keys_file, KEYS_FILE_MAX, &raw, &size, err);
		if (r < 0)
			return ward_err_prefix(err, "keys file");
		r = ward_image_json_parse(raw, size, &kf, err);
		ward_wipe(raw, size);
		if (r < 0)
			return ward_err_prefix(err, "keys file '%.200s'", opts->keys_file);
		if (!json_is_object(json_object_get(kf, "layers")))
			return ward_err_set(err, -WARD_E_MALFORMED, "keys file: no \"layers\" object");
	}
	r = img_image_load(opts->input, opts->tag, opts->platform, &im, err);
	if (r < 0)
		return r;
	r = img_out_open(opts->output, opts->format, &out, err);
	if (r < 0)
		return r;
	if (is_wrapped(im))
		r = decrypt_wrapped(opts, im, kf, out, err);
	else
		r = decrypt_ocicrypt(opts, im, kf, out, err);
	if (r < 0)
		return ward_err_prefix(err, "decrypt '%.200s'", opts->input);
	return 0;
}

int ward_image_verify_signature(const char *image, const char *tag, const struct ward_pkey *pub,
				char ret_manifest_digest[72], struct ward_err *err)
{
	WARD_CLEANUP(img_image_freep) struct img_image *im = NULL;
	WARD_AUTOFREE uint8_t *sig = NULL;
	const json_t *s, *alg;
	enum ward_sig_alg sa;
	size_t sig_size;
	int r;

	r = img_image_load(image, tag, NULL, &im, err);
	if (r < 0)
		return r;
	if (!im->manifest_digest[0])
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "'%.200s' is a docker-archive: signatures live in OCI indexes",
				    image);
	s = im->desc_annotations ? json_object_get(im->desc_annotations, WARD_ANNOT_SIGNATURE) : NULL;
	alg = im->desc_annotations ? json_object_get(im->desc_annotations, WARD_ANNOT_SIGNATURE_ALG)
				   : NULL;
	if (!json_is_string(s) || !json_is_string(alg))
		return ward_err_set(err, -WARD_E_NOT_FOUND, "image '%.200s' is not signed", image);
	switch (ward_pkey_type(pub)) {
	case WARD_KEY_EC_P256:
		sa = WARD_SIG_ECDSA_SHA256;
		break;
	case WARD_KEY_EC_P384:
		sa = WARD_SIG_ECDSA_SHA384;
		break;
	case WARD_KEY_RSA:
		sa = WARD_SIG_RSA_PKCS1_SHA256;
		break;
	default:
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "unsupported verification key type");
	}
	r = ward_base64_decode(json_string_value(s), json_string_length(s), &sig, &sig_size, err);
	if (r < 0)
		return ward_err_prefix(err, "signature annotation");
	r = ward_verify(pub, sa, WARD_SIG_DER, im->manifest_digest, strlen(im->manifest_digest), sig,
			sig_size, err);
	if (r < 0)
		return ward_err_prefix(err, "signature over %s", im->manifest_digest);
	if (ret_manifest_digest)
		memcpy(ret_manifest_digest, im->manifest_digest, 72);
	return 0;
}
