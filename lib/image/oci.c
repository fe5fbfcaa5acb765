/* SPDX-License-Identifier: Apache-2.0 */
/* The OCI / Docker JSON model: descriptors, manifests, indexes, configs and
 * docker-save manifest.json, all parsed strictly from untrusted bytes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image-internal.h"
#include "ward/cleanup.h"
#include "ward/image.h"

int ward_image_json_parse(const void *buf, size_t size, json_t **ret, struct ward_err *err)
{
	json_error_t jerr;
	json_t *j;

	if (size > WARD_IMAGE_JSON_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG, "JSON of %zu bytes exceeds %u", size,
				    WARD_IMAGE_JSON_MAX_SIZE);
	j = json_loadb(buf, size, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return ward_err_set(err, -WARD_E_MALFORMED, "JSON line %d column %d: %s",
				    jerr.line, jerr.column, jerr.text);
	*ret = j;
	return 0;
}

bool ward_oci_digest_valid(const char *s)
{
	if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + 64)
		return false;
	for (size_t i = 7; i < 7 + 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int get_str(const json_t *o, const char *what, const char *key, bool required,
		   const char **ret, struct ward_err *err)
{
	const json_t *v = json_object_get(o, key);

	if (!v) {
		if (required)
			return ward_err_set(err, -WARD_E_MALFORMED, "%s: missing \"%s\"", what, key);
		*ret = NULL;
		return 0;
	}
	if (!json_is_string(v))
		return ward_err_set(err, -WARD_E_MALFORMED, "%s: \"%s\" must be a string", what,
				    key);
	*ret = json_string_value(v);
	return 0;
}

int ward_oci_desc_parse(const json_t *j, const char *what, struct ward_oci_desc *ret,
			struct ward_err *err)
{
	struct ward_oci_desc d = {0};
	const json_t *v;
	const char *digest;
	int r;

	if (!json_is_object(j))
		return ward_err_set(err, -WARD_E_MALFORMED, "%s: descriptor must be an object",
				    what);
	r = get_str(j, what, "mediaType", true, &d.media_type, err);
	if (r < 0)
		return r;
	r = get_str(j, what, "digest", true, &digest, err);
	if (r < 0)
		return r;
	if (!ward_oci_digest_valid(digest))
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "%s: digest '%.80s' is not sha256:<64 lowercase hex>", what,
				    digest);
	memcpy(d.digest, digest, 7 + 64 + 1);
	v = json_object_get(j, "size");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "%s: \"size\" must be a non-negative integer", what);
	d.size = (uint64_t)json_integer_value(v);
	v = json_object_get(j, "annotations");
	if (v) {
		const char *k;
		const json_t *a;

		if (!json_is_object(v))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: \"annotations\" must be an object", what);
		json_object_foreach((json_t *)v, k, a)
			if (!json_is_string(a))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "%s: annotation \"%.80s\" must be a string",
						    what, k);
		d.annotations = v;
	}
	v = json_object_get(j, "platform");
	if (v) {
		if (!json_is_object(v))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: \"platform\" must be an object", what);
		if (get_str(v, what, "os", true, &d.platform_os, err) < 0 ||
		    get_str(v, what, "architecture", true, &d.platform_arch, err) < 0 ||
		    get_str(v, what, "variant", false, &d.platform_variant, err) < 0)
			return err ? err->code : -WARD_E_MALFORMED;
	}
	*ret = d;
	return 0;
}

struct ward_oci_manifest *ward_oci_manifest_free(struct ward_oci_manifest *m)
{
	if (!m)
		return NULL;
	json_decref(m->json);
	free(m);
	return NULL;
}

int ward_oci_manifest_parse(const void *buf, size_t size, struct ward_oci_manifest **ret,
			    struct ward_err *err)
{
	WARD_CLEANUP(ward_oci_manifest_freep) struct ward_oci_manifest *m = NULL;
	const json_t *v, *layers;
	const char *mt;
	size_t i;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_image_json_parse(buf, size, &m->json, err);
	if (r < 0)
		return ward_err_prefix(err, "image manifest");
	if (!json_is_object(m->json))
		return ward_err_set(err, -WARD_E_MALFORMED, "image manifest: not a JSON object");
	v = json_object_get(m->json, "schemaVersion");
	if (!json_is_integer(v) || json_integer_value(v) != 2)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "image manifest: schemaVersion must be the integer 2");
	r = get_str(m->json, "image manifest", "mediaType", false, &mt, err);
	if (r < 0)
		return r;
	if (mt && strcmp(mt, WARD_MT_OCI_MANIFEST) != 0 && strcmp(mt, WARD_MT_DOCKER_MANIFEST) != 0)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "image manifest: unsupported mediaType '%.100s'", mt);
	r = ward_oci_desc_parse(json_object_get(m->json, "config"), "image manifest config",
				&m->config, err);
	if (r < 0)
		return r;
	layers = json_object_get(m->json, "layers");
	if (!json_is_array(layers))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "image manifest: \"layers\" must be an array");
	if (json_array_size(layers) > WARD_IMAGE_MAX_LAYERS)
		return ward_err_set(err, -WARD_E_TOO_BIG, "image manifest: more than %d layers",
				    WARD_IMAGE_MAX_LAYERS);
	json_array_foreach(layers, i, v) {
		char what[48];

		snprintf(what, sizeof(what), "image manifest layer %zu", i);
		r = ward_oci_desc_parse(v, what, &m->layers[i], err);
		if (r < 0)
			return r;
		if (m->layers[i].size > WARD_IMAGE_LAYER_MAX_SIZE)
			return ward_err_set(err, -WARD_E_TOO_BIG, "%s: size %llu too large", what,
					    (unsigned long long)m->layers[i].size);
	}
	m->layer_count = json_array_size(layers);
	if (m->config.size > WARD_IMAGE_JSON_MAX_SIZE)
		return ward_err_set(err, -WARD_E_TOO_BIG, "image manifest: config size too large");
	*ret = WARD_TAKE_PTR(m);
	return 0;
}

static bool platform_matches(const struct ward_oci_desc *d, const char *platform)
{
	char os[32], arch[32], variant[32] = "";
	int n;

	n = sscanf(platform, "%31[^/]/%31[^/]/%31s", os, arch, variant);
	if (n < 2 || !d->platform_os || !d->platform_arch)
		return false;
	if (strcmp(os, d->platform_os) != 0 || strcmp(arch, d->platform_arch) != 0)
		return false;
	if (n == 3 && (!d->platform_variant || strcmp(variant, d->platform_variant) != 0))
		return false;
	return true;
}

/* Does a ref annotation match the requested tag? "name:tag" also matches
 * a bare ref.name "tag" (OCI layouts store only the tag), and a bare name
 * means name:latest (Docker writes io.containerd.image.name in full). */
static bool ref_matches(const json_t *name, const char *tag)
{
	const char *n, *colon, *slash;
	size_t nl, tl;

	if (!json_is_string(name))
		return false;
	n = json_string_value(name);
	if (strcmp(n, tag) == 0)
		return true;
	colon = strrchr(tag, ':');
	slash = strrchr(tag, '/');
	if (colon && (!slash || colon > slash) && strcmp(n, colon + 1) == 0 && !strchr(n, '/'))
		return true;
	nl = strlen(n);
	tl = strlen(tag);
	return (!colon || (slash && colon < slash)) && nl == tl + 7 && strncmp(n, tag, tl) == 0 &&
	       strcmp(n + tl, ":latest") == 0;
}

static bool is_manifest_type(const char *mt)
{
	return strcmp(mt, WARD_MT_OCI_MANIFEST) == 0 || strcmp(mt, WARD_MT_DOCKER_MANIFEST) == 0;
}

int ward_oci_index_select(const void *buf, size_t size, const char *tag, const char *platform,
			  json_t **ret_index, struct ward_oci_desc *ret, struct ward_err *err)
{
	WARD_AUTOJSON_IMG json_t *j = NULL;
	const json_t *list, *v;
	struct ward_oci_desc found = {0}, d;
	size_t i, n_found = 0, n_manifests = 0;
	const char *plat = platform ? platform : "linux/amd64";
	int r;

	r = ward_image_json_parse(buf, size, &j, err);
	if (r < 0)
		return ward_err_prefix(err, "image index");
	if (!json_is_object(j))
		return ward_err_set(err, -WARD_E_MALFORMED, "image index: not a JSON object");
	v = json_object_get(j, "schemaVersion");
	if (!json_is_integer(v) || json_integer_value(v) != 2)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "image index: schemaVersion must be the integer 2");
	list = json_object_get(j, "manifests");
	if (!json_is_array(list))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "image index: \"manifests\" must be an array");
	if (json_array_size(list) > WARD_IMAGE_MAX_MANIFESTS)
		return ward_err_set(err, -WARD_E_TOO_BIG, "image index: more than %d manifests",
				    WARD_IMAGE_MAX_MANIFESTS);
	/* pass 1: by tag, or the only manifest */
	json_array_foreach(list, i, v) {
		char what[40];
		const json_t *name;

		snprintf(what, sizeof(what), "image index entry %zu", i);
		r = ward_oci_desc_parse(v, what, &d, err);
		if (r < 0)
			return r;
		if (!is_manifest_type(d.media_type) && strcmp(d.media_type, WARD_MT_OCI_INDEX) &&
		    strcmp(d.media_type, WARD_MT_DOCKER_LIST))
			continue;
		n_manifests++;
		name = d.annotations ? json_object_get(d.annotations, WARD_ANNOT_REF_NAME) : NULL;
		if (tag && (ref_matches(name, tag) ||
			    ref_matches(d.annotations ? json_object_get(d.annotations,
									"io.containerd.image.name")
						      : NULL,
					tag))) {
			found = d;
			n_found++;
		}
	}
	if (tag && n_found > 1)
		return ward_err_set(err, -WARD_E_MALFORMED, "image index: tag '%.100s' appears %zu times",
				    tag, n_found);
	if (!tag && n_manifests == 1) {
		json_array_foreach(list, i, v) {
			r = ward_oci_desc_parse(v, "image index entry", &d, err);
			if (r < 0)
				return r;
			if (is_manifest_type(d.media_type) || !strcmp(d.media_type, WARD_MT_OCI_INDEX) ||
			    !strcmp(d.media_type, WARD_MT_DOCKER_LIST)) {
				found = d;
				n_found = 1;
			}
		}
	}
	if (n_found == 0 && !tag) {
		/* pass 2: a multi-platform index: pick the platform */
		json_array_foreach(list, i, v) {
			r = ward_oci_desc_parse(v, "image index entry", &d, err);
			if (r < 0)
				return r;
			if (is_manifest_type(d.media_type) && platform_matches(&d, plat)) {
				found = d;
				n_found++;
			}
		}
		if (n_found > 1)
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "image index: %zu manifests for platform %s", n_found,
					    plat);
	}
	if (n_found == 0) {
		if (tag)
			return ward_err_set(err, -WARD_E_NOT_FOUND, "image index: no tag '%.100s'",
					    tag);
		return ward_err_set(err, -WARD_E_NOT_FOUND,
				    "image index: %zu images and none for platform %s (use --tag "
				    "or --platform)",
				    n_manifests, plat);
	}
	*ret = found;
	*ret_index = WARD_TAKE_PTR(j);
	return 0;
}

int ward_oci_config_parse(const void *buf, size_t size, json_t **ret, size_t *ret_diff_id_count,
			  struct ward_err *err)
{
	WARD_AUTOJSON_IMG json_t *j = NULL;
	const json_t *rootfs, *ids, *v, *cfg;
	const char *type;
	size_t i;
	int r;

	r = ward_image_json_parse(buf, size, &j, err);
	if (r < 0)
		return ward_err_prefix(err, "image config");
	if (!json_is_object(j))
		return ward_err_set(err, -WARD_E_MALFORMED, "image config: not a JSON object");
	rootfs = json_object_get(j, "rootfs");
	if (!json_is_object(rootfs))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "image config: \"rootfs\" must be an object");
	r = get_str(rootfs, "image config rootfs", "type", true, &type, err);
	if (r < 0)
		return r;
	if (strcmp(type, "layers") != 0)
		return ward_err_set(err, -WARD_E_UNSUPPORTED,
				    "image config: rootfs.type '%.40s' is not \"layers\"", type);
	ids = json_object_get(rootfs, "diff_ids");
	if (!json_is_array(ids))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "image config: rootfs.diff_ids must be an array");
	if (json_array_size(ids) > WARD_IMAGE_MAX_LAYERS)
		return ward_err_set(err, -WARD_E_TOO_BIG, "image config: more than %d diff_ids",
				    WARD_IMAGE_MAX_LAYERS);
	json_array_foreach(ids, i, v)
		if (!json_is_string(v) || !ward_oci_digest_valid(json_string_value(v)))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "image config: rootfs.diff_ids[%zu] is not a sha256 "
					    "digest",
					    i);
	cfg = json_object_get(j, "config");
	if (cfg && !json_is_object(cfg) && !json_is_null(cfg))
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "image config: \"config\" must be an object");
	if (json_is_object(cfg)) {
		static const char *const arrays[] = {"Entrypoint", "Cmd", "Env"};
		static const char *const strings[] = {"User", "WorkingDir", "StopSignal"};

		for (i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
			const json_t *a = json_object_get(cfg, arrays[i]), *e;
			size_t k;

			if (!a || json_is_null(a))
				continue;
			if (!json_is_array(a))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "image config: config.%s must be an array of "
						    "strings",
						    arrays[i]);
			json_array_foreach(a, k, e)
				if (!json_is_string(e))
					return ward_err_set(err, -WARD_E_MALFORMED,
							    "image config: config.%s[%zu] must be "
							    "a string",
							    arrays[i], k);
		}
		for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
			const json_t *s = json_object_get(cfg, strings[i]);

			if (s && !json_is_string(s))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "image config: config.%s must be a string",
						    strings[i]);
		}
		v = json_object_get(cfg, "ExposedPorts");
		if (v && !json_is_object(v) && !json_is_null(v))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "image config: config.ExposedPorts must be an object");
		v = json_object_get(cfg, "Labels");
		if (v && !json_is_object(v) && !json_is_null(v))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "image config: config.Labels must be an object");
	}
	*ret_diff_id_count = json_array_size(ids);
	*ret = WARD_TAKE_PTR(j);
	return 0;
}

/* Does the RepoTags entry t name the requested tag? */
static bool repo_tag_matches(const char *t, const char *want)
{
	size_t wl = strlen(want);
	const char *slash, *colon;

	if (strcmp(t, want) == 0)
		return true;
	/* "name" means "name:latest" */
	slash = strrchr(want, '/');
	colon = strrchr(want, ':');
	if (!colon || (slash && colon < slash))
		return strncmp(t, want, wl) == 0 && strcmp(t + wl, ":latest") == 0;
	return false;
}

int ward_docker_manifest_parse(const void *buf, size_t size, const char *tag, json_t **ret_json,
			       const json_t **ret_entry, struct ward_err *err)
{
	WARD_AUTOJSON_IMG json_t *j = NULL;
	const json_t *e, *found = NULL;
	size_t i, n_found = 0;
	int r;

	r = ward_image_json_parse(buf, size, &j, err);
	if (r < 0)
		return ward_err_prefix(err, "docker manifest.json");
	if (!json_is_array(j) || json_array_size(j) == 0)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "docker manifest.json: must be a non-empty array");
	if (json_array_size(j) > WARD_IMAGE_MAX_MANIFESTS)
		return ward_err_set(err, -WARD_E_TOO_BIG, "docker manifest.json: too many images");
	json_array_foreach(j, i, e) {
		const json_t *tags, *layers, *t, *l;
		const char *cfg;
		size_t k;
		bool match = false;
		char what[48];

		snprintf(what, sizeof(what), "docker manifest.json[%zu]", i);
		if (!json_is_object(e))
			return ward_err_set(err, -WARD_E_MALFORMED, "%s: must be an object", what);
		r = get_str(e, what, "Config", true, &cfg, err);
		if (r < 0)
			return r;
		layers = json_object_get(e, "Layers");
		if (!json_is_array(layers))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: \"Layers\" must be an array", what);
		if (json_array_size(layers) > WARD_IMAGE_MAX_LAYERS)
			return ward_err_set(err, -WARD_E_TOO_BIG, "%s: more than %d layers", what,
					    WARD_IMAGE_MAX_LAYERS);
		json_array_foreach(layers, k, l)
			if (!json_is_string(l))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "%s: Layers[%zu] must be a string", what, k);
		tags = json_object_get(e, "RepoTags");
		if (tags && !json_is_null(tags) && !json_is_array(tags))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "%s: \"RepoTags\" must be an array", what);
		json_array_foreach(tags, k, t) {
			if (!json_is_string(t))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "%s: RepoTags[%zu] must be a string", what, k);
			if (tag && repo_tag_matches(json_string_value(t), tag))
				match = true;
		}
		if (!tag || match) {
			found = e;
			n_found++;
		}
	}
	if (n_found == 0)
		return ward_err_set(err, -WARD_E_NOT_FOUND,
				    "docker manifest.json: no image tagged '%.100s'", tag);
	if (n_found > 1)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "docker manifest.json: %zu images%s%.100s (use --tag)", n_found,
				    tag ? " match " : "", tag ? tag : "");
	*ret_entry = found;
	*ret_json = WARD_TAKE_PTR(j);
	return 0;
}
