/* SPDX-License-Identifier: Apache-2.0 */
/* Load an input image: detect the format, select the manifest (tag,
 * platform), read and check the manifest and config against their digests,
 * and describe each layer. Layer bytes are streamed later. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image-internal.h"
#include "ward/encoding.h"

void img_digest_str(const uint8_t d[32], char out[72])
{
	memcpy(out, "sha256:", 7);
	ward_hex_encode(d, 32, out + 7);
}

int img_sha256_str(const void *data, size_t size, char out[72], struct ward_err *err)
{
	uint8_t d[32];
	int r = ward_hash(WARD_HASH_SHA256, data, size, d, err);

	if (r < 0)
		return r;
	img_digest_str(d, out);
	return 0;
}

void img_blob_name(const char *digest, char out[96])
{
	snprintf(out, 96, "blobs/sha256/%s", digest + 7);
}

struct img_image *img_image_free(struct img_image *im)
{
	if (!im)
		return NULL;
	for (size_t i = 0; i < im->layer_count; i++) {
		free(im->layers[i].name);
		free(im->layers[i].media_type);
		json_decref(im->layers[i].annotations);
	}
	img_src_free(im->src);
	free(im->config_raw);
	free(im->config_media_type);
	json_decref(im->config);
	json_decref(im->manifest);
	free(im->tag);
	json_decref(im->desc_annotations);
	free(im);
	return NULL;
}

/* Read a small blob by digest and check its size and digest. */
static int read_blob_checked(struct img_src *s, const struct ward_oci_desc *d, const char *what,
			     uint8_t **ret, size_t *ret_size, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *buf = NULL;
	char name[96], got[72];
	size_t size;
	int r;

	if (d->size > WARD_IMAGE_JSON_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG, "%s: size %llu exceeds %u", what,
				    (unsigned long long)d->size, WARD_IMAGE_JSON_MAX_SIZE);
	img_blob_name(d->digest, name);
	r = img_src_read(s, name, WARD_IMAGE_JSON_MAX_SIZE, &buf, &size, err);
	if (r < 0)
		return ward_err_prefix(err, "%s", what);
	r = img_sha256_str(buf, size, got, err);
	if (r < 0)
		return r;
	if (strcmp(got, d->digest) != 0)
		return ward_err_set(err, -WARD_E_VERIFY, "%s: digest mismatch: blob is %s, expected %s",
				    what, got, d->digest);
	if (size != d->size)
		return ward_err_set(err, -WARD_E_VERIFY, "%s: size %zu, descriptor says %llu", what,
				    size, (unsigned long long)d->size);
	*ret = WARD_TAKE_PTR(buf);
	*ret_size = size;
	return 0;
}

static int layer_media_type(struct img_layer *l, struct ward_err *err)
{
	const char *mt = l->media_type;
	char base[160];
	size_t n = strlen(mt), sl = strlen(WARD_ENC_SUFFIX);

	if (n >= sizeof(base))
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "layer media type too long");
	memcpy(base, mt, n + 1);
	if (n > sl && strcmp(mt + n - sl, WARD_ENC_SUFFIX) == 0) {
		l->encrypted = true;
		base[n - sl] = '\0';
	}
	if (!strcmp(base, WARD_MT_OCI_LAYER_GZIP) || !strcmp(base, WARD_MT_DOCKER_LAYER_GZIP))
		l->comp = IMG_COMP_GZIP;
	else if (!strcmp(base, WARD_MT_OCI_LAYER_ZSTD))
		l->comp = IMG_COMP_ZSTD;
	else if (!strcmp(base, WARD_MT_OCI_LAYER_TAR) ||
		 !strcmp(base, "application/vnd.docker.image.rootfs.diff.tar"))
		l->comp = IMG_COMP_NONE;
	else
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "unsupported layer media type '%.100s' (non-distributable "
				    "and foreign layers are not converted)",
				    mt);
	return 0;
}

static int load_config(struct img_image *im, struct ward_err *err)
{
	size_t n_ids;
	int r;

	r = ward_oci_config_parse(im->config_raw, im->config_size, &im->config, &n_ids, err);
	if (r < 0)
		return r;
	if (n_ids != im->layer_count)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "image config lists %zu diff_ids for %zu layers", n_ids,
				    im->layer_count);
	for (size_t i = 0; i < n_ids; i++)
		snprintf(im->layers[i].diff_id, sizeof(im->layers[i].diff_id), "%s",
			 json_string_value(json_array_get(
				 json_object_get(json_object_get(im->config, "rootfs"), "diff_ids"),
				 i)));
	return 0;
}

static int load_oci(struct img_image *im, const char *tag, const char *platform,
		    struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *index_raw = NULL, *man_raw = NULL;
	WARD_AUTOJSON_IMG json_t *index = NULL;
	WARD_CLEANUP(ward_oci_manifest_freep) struct ward_oci_manifest *m = NULL;
	struct ward_oci_desc d;
	size_t size, man_size;
	const json_t *name;
	int r;

	r = img_src_read(im->src, "index.json", WARD_IMAGE_JSON_MAX_SIZE, &index_raw, &size, err);
	if (r < 0)
		return r;
	r = ward_oci_index_select(index_raw, size, tag, platform, &index, &d, err);
	if (r < 0)
		return r;
	if (d.annotations)
		im->desc_annotations = json_deep_copy(d.annotations);
	name = d.annotations ? json_object_get(d.annotations, WARD_ANNOT_REF_NAME) : NULL;
	if (name) {
		im->tag = strdup(json_string_value(name));
		if (!im->tag)
			return ward_err_set(err, -ENOMEM, "out of memory");
	}
	/* a nested index (multi-platform image): select by platform */
	for (int depth = 0; !strcmp(d.media_type, WARD_MT_OCI_INDEX) ||
			    !strcmp(d.media_type, WARD_MT_DOCKER_LIST);
	     depth++) {
		WARD_AUTOFREE uint8_t *sub = NULL;
		size_t sub_size;

		if (depth >= 2)
			return ward_err_set(err, -WARD_E_MALFORMED, "image indexes nested too deeply");
		r = read_blob_checked(im->src, &d, "image index", &sub, &sub_size, err);
		if (r < 0)
			return r;
		json_decref(index);
		index = NULL;
		r = ward_oci_index_select(sub, sub_size, NULL, platform, &index, &d, err);
		if (r < 0)
			return r;
	}
	r = read_blob_checked(im->src, &d, "image manifest", &man_raw, &man_size, err);
	if (r < 0)
		return r;
	snprintf(im->manifest_digest, sizeof(im->manifest_digest), "%s", d.digest);
	r = ward_oci_manifest_parse(man_raw, man_size, &m, err);
	if (r < 0)
		return r;
	r = read_blob_checked(im->src, &m->config, "image config", &im->config_raw,
			      &im->config_size, err);
	if (r < 0)
		return r;
	snprintf(im->config_digest, sizeof(im->config_digest), "%s", m->config.digest);
	im->config_media_type = strdup(m->config.media_type);
	if (!im->config_media_type)
		return ward_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < m->layer_count; i++) {
		struct img_layer *l = &im->layers[i];
		char bn[96];

		img_blob_name(m->layers[i].digest, bn);
		l->name = strdup(bn);
		l->media_type = strdup(m->layers[i].media_type);
		im->layer_count = i + 1;
		if (!l->name || !l->media_type)
			return ward_err_set(err, -ENOMEM, "out of memory");
		memcpy(l->digest, m->layers[i].digest, sizeof(l->digest));
		l->size = m->layers[i].size;
		l->annotations = m->layers[i].annotations ? json_incref((json_t *)m->layers[i].annotations)
							  : NULL;
		r = layer_media_type(l, err);
		if (r < 0)
			return ward_err_prefix(err, "layer %zu", i);
	}
	im->layer_count = m->layer_count;
	im->manifest = json_incref(m->json);
	return load_config(im, err);
}

static int load_docker(struct img_image *im, const char *tag, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *raw = NULL;
	WARD_AUTOJSON_IMG json_t *j = NULL;
	const json_t *entry, *layers, *l, *tags;
	const char *cfg;
	size_t size, i;
	int r;

	r = img_src_read(im->src, "manifest.json", WARD_IMAGE_JSON_MAX_SIZE, &raw, &size, err);
	if (r < 0)
		return r;
	r = ward_docker_manifest_parse(raw, size, tag, &j, &entry, err);
	if (r < 0)
		return r;
	cfg = json_string_value(json_object_get(entry, "Config"));
	r = ward_tar_path_check(cfg, strlen(cfg), err);
	if (r < 0)
		return ward_err_prefix(err, "docker manifest.json Config");
	r = img_src_read(im->src, cfg, WARD_IMAGE_JSON_MAX_SIZE, &im->config_raw, &im->config_size,
			 err);
	if (r < 0)
		return ward_err_prefix(err, "image config");
	r = img_sha256_str(im->config_raw, im->config_size, im->config_digest, err);
	if (r < 0)
		return r;
	im->config_media_type = strdup(WARD_MT_OCI_CONFIG);
	if (!im->config_media_type)
		return ward_err_set(err, -ENOMEM, "out of memory");
	tags = json_object_get(entry, "RepoTags");
	if (json_is_array(tags) && json_array_size(tags) > 0) {
		const char *t = json_string_value(json_array_get(tags, 0));
		const char *c = strrchr(t, ':'), *s = strrchr(t, '/');

		im->tag = strdup(c && (!s || c > s) ? c + 1 : "latest");
		if (!im->tag)
			return ward_err_set(err, -ENOMEM, "out of memory");
	}
	layers = json_object_get(entry, "Layers");
	json_array_foreach(layers, i, l) {
		struct img_layer *ly = &im->layers[i];
		const char *n = json_string_value(l);

		r = ward_tar_path_check(n, strlen(n), err);
		if (r < 0)
			return ward_err_prefix(err, "docker manifest.json Layers[%zu]", i);
		ly->name = strdup(n);
		ly->media_type = strdup("");
		im->layer_count = i + 1;
		if (!ly->name || !ly->media_type)
			return ward_err_set(err, -ENOMEM, "out of memory");
		ly->comp = IMG_COMP_UNKNOWN;
	}
	im->docker_classic = true;
	return load_config(im, err);
}

int img_image_load(const char *path, const char *tag, const char *platform,
		   struct img_image **ret, struct ward_err *err)
{
	WARD_CLEANUP(img_image_freep) struct img_image *im = calloc(1, sizeof(*im));
	int r;

	if (!im)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = img_src_open(path, &im->src, err);
	if (r < 0)
		return r;
	if (img_src_exists(im->src, "oci-layout") && img_src_exists(im->src, "index.json"))
		r = load_oci(im, tag, platform, err);
	else if (img_src_exists(im->src, "manifest.json"))
		r = load_docker(im, tag, err);
	else
		r = ward_err_set(err, -WARD_E_UNSUPPORTED,
				 "'%.200s' is not an OCI layout, oci-archive or docker-archive "
				 "(no oci-layout + index.json, no manifest.json)",
				 path);
	if (r < 0)
		return ward_err_prefix(err, "input '%.200s'", path);
	*ret = WARD_TAKE_PTR(im);
	return 0;
}
