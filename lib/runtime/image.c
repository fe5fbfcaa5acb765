/* SPDX-License-Identifier: Apache-2.0 */
/* Resolve an image for `ward run` and prepare the container's read-only
 * rootfs: /.ward with ward-init's config and the encrypted layer blobs,
 * plus empty mount points. Inputs: an OCI layout directory, an
 * oci-archive or a docker-archive, each optionally ":tag". A converted
 * (wrapped) image is used as it is; a plain image is encrypted on the fly
 * (development only: the keys are made, and so known, on this host). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "ward/agent.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/json.h"
#include "ward/log.h"
#include "ward/util.h"

#define JSON_MAX (4u << 20)
#define BLOB_MAX (8ull << 30)

struct layer_ref {
	char path[PATH_MAX];
	char media_type[128];
	char digest[72]; /* descriptor digest; "" for docker-archive (computed) */
	char diff_id[72];
};

struct src {
	char dir[PATH_MAX]; /* layout directory (maybe a temporary extraction) */
	bool tmp;
	json_t *config; /* owned */
	char config_digest[72];
	struct layer_ref *layers;
	size_t layer_count;
};

static void src_clear(struct src *s)
{
	struct ward_err e = WARD_ERR_INIT;

	json_decref(s->config);
	free(s->layers);
	if (s->tmp)
		(void)ward_rm_rf(s->dir, &e);
	memset(s, 0, sizeof(*s));
}

static int digest_path(const char *dir, const char *digest, char *out, size_t size,
		       struct ward_err *err)
{
	if (strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 71 ||
	    strspn(digest + 7, "0123456789abcdef") != 64)
		return ward_err_set(err, -WARD_E_MALFORMED, "bad digest '%.80s'", digest);
	snprintf(out, size, "%s/blobs/sha256/%s", dir, digest + 7);
	return 0;
}

static int load_json_checked(const char *path, const char *digest, json_t **ret,
			     struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *raw = NULL;
	size_t size;
	char hex[65];
	int r;

	r = ward_file_read(path, JSON_MAX, &raw, &size, err);
	if (r < 0)
		return r;
	if (digest) {
		r = ward_sha256_hex(raw, size, hex, err);
		if (r < 0)
			return r;
		if (strcmp(hex, digest + 7) != 0)
			return ward_err_set(err, -WARD_E_VERIFY, "%s: digest mismatch", path);
	}
	return ward_json_parse(raw, size, JSON_MAX, ret, err);
}

static int oci_open(struct src *s, const char *tag, struct ward_err *err)
{
	WARD_AUTOJSON json_t *index = NULL, *manifest = NULL;
	char path[PATH_MAX + 128];
	const char *mdigest = NULL, *cdigest;
	json_t *manifests, *m, *layers, *diff_ids, *l;
	size_t i, count = 0;
	int r;

	snprintf(path, sizeof(path), "%s/index.json", s->dir);
	r = load_json_checked(path, NULL, &index, err);
	if (r < 0)
		return ward_err_prefix(err, "OCI layout");
	manifests = json_object_get(index, "manifests");
	if (!json_is_array(manifests))
		return ward_err_set(err, -WARD_E_MALFORMED, "%s: no manifests", path);
	json_array_foreach(manifests, i, m)
	{
		const char *ref = json_string_value(json_object_get(
		    json_object_get(m, "annotations"), "org.opencontainers.image.ref.name"));
		const char *d = json_string_value(json_object_get(m, "digest"));

		if (!d)
			continue;
		count++;
		if (tag ? (ref && strcmp(ref, tag) == 0) : true)
			mdigest = d;
		if (tag && mdigest)
			break;
	}
	if (!mdigest)
		return ward_err_set(err, -WARD_E_NOT_FOUND, "%s: no image tagged '%s'", s->dir,
				    tag ? tag : "");
	if (!tag && count > 1)
		return ward_err_set(err, -WARD_E_USAGE,
				    "%s holds %zu images: name one with IMAGE:TAG", s->dir, count);
	r = digest_path(s->dir, mdigest, path, sizeof(path), err);
	if (r < 0 || (r = load_json_checked(path, mdigest, &manifest, err)) < 0)
		return ward_err_prefix(err, "image manifest");
	cdigest = json_string_value(json_object_get(json_object_get(manifest, "config"), "digest"));
	if (!cdigest)
		return ward_err_set(err, -WARD_E_MALFORMED, "image manifest: no config");
	r = digest_path(s->dir, cdigest, path, sizeof(path), err);
	if (r < 0 || (r = load_json_checked(path, cdigest, &s->config, err)) < 0)
		return ward_err_prefix(err, "image config");
	snprintf(s->config_digest, sizeof(s->config_digest), "%s", cdigest);
	layers = json_object_get(manifest, "layers");
	diff_ids = json_object_get(json_object_get(s->config, "rootfs"), "diff_ids");
	if (!json_is_array(layers) || !json_is_array(diff_ids) ||
	    json_array_size(layers) != json_array_size(diff_ids) ||
	    json_array_size(layers) > WARD_AGENT_MAX_LAYERS)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "image: layers and rootfs.diff_ids do not match");
	s->layer_count = json_array_size(layers);
	s->layers = calloc(s->layer_count + 1, sizeof(*s->layers));
	if (!s->layers)
		return ward_err_set(err, -ENOMEM, "out of memory");
	json_array_foreach(layers, i, l)
	{
		const char *d = json_string_value(json_object_get(l, "digest"));
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		const char *di = json_string_value(json_array_get(diff_ids, i));

		if (!d || !mt || !di || strlen(mt) >= sizeof(s->layers[i].media_type) ||
		    strlen(di) != 71)
			return ward_err_set(err, -WARD_E_MALFORMED, "image: layer %zu malformed",
					    i);
		r = digest_path(s->dir, d, s->layers[i].path, sizeof(s->layers[i].path), err);
		if (r < 0)
			return r;
		strcpy(s->layers[i].media_type, mt);
		strcpy(s->layers[i].digest, d);
		strcpy(s->layers[i].diff_id, di);
	}
	return 0;
}

static int docker_open(struct src *s, const char *tag, struct ward_err *err)
{
	WARD_AUTOJSON json_t *mj = NULL;
	char path[PATH_MAX + 128], hex[65];
	json_t *e, *sel = NULL, *layers, *diff_ids, *l;
	size_t i;
	int r;

	snprintf(path, sizeof(path), "%s/manifest.json", s->dir);
	r = load_json_checked(path, NULL, &mj, err);
	if (r < 0)
		return ward_err_prefix(err, "docker-archive");
	if (!json_is_array(mj) || json_array_size(mj) == 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "docker-archive: empty manifest.json");
	json_array_foreach(mj, i, e)
	{
		json_t *t;
		size_t k;

		if (!tag) {
			sel = e;
			break;
		}
		json_array_foreach(json_object_get(e, "RepoTags"), k, t)
		{
			const char *rt = json_string_value(t);
			const char *colon = rt ? strrchr(rt, ':') : NULL;

			if (rt && (strcmp(rt, tag) == 0 || (colon && strcmp(colon + 1, tag) == 0)))
				sel = e;
		}
	}
	if (!sel)
		return ward_err_set(err, -WARD_E_NOT_FOUND, "docker-archive: no image '%s'", tag);
	const char *cfg = json_string_value(json_object_get(sel, "Config"));
	if (!cfg || !ward_path_is_safe_relative(cfg))
		return ward_err_set(err, -WARD_E_MALFORMED, "docker-archive: bad Config");
	snprintf(path, sizeof(path), "%s/%s", s->dir, cfg);
	{
		WARD_AUTOFREE uint8_t *raw = NULL;
		size_t size;

		r = ward_file_read(path, JSON_MAX, &raw, &size, err);
		if (r < 0 || (r = ward_sha256_hex(raw, size, hex, err)) < 0 ||
		    (r = ward_json_parse(raw, size, JSON_MAX, &s->config, err)) < 0)
			return ward_err_prefix(err, "docker-archive config");
	}
	snprintf(s->config_digest, sizeof(s->config_digest), "sha256:%s", hex);
	layers = json_object_get(sel, "Layers");
	diff_ids = json_object_get(json_object_get(s->config, "rootfs"), "diff_ids");
	if (!json_is_array(layers) || !json_is_array(diff_ids) ||
	    json_array_size(layers) != json_array_size(diff_ids) ||
	    json_array_size(layers) > WARD_AGENT_MAX_LAYERS)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "docker-archive: Layers and rootfs.diff_ids do not match");
	s->layer_count = json_array_size(layers);
	s->layers = calloc(s->layer_count + 1, sizeof(*s->layers));
	if (!s->layers)
		return ward_err_set(err, -ENOMEM, "out of memory");
	json_array_foreach(layers, i, l)
	{
		const char *p = json_string_value(l);
		const char *di = json_string_value(json_array_get(diff_ids, i));

		if (!p || !ward_path_is_safe_relative(p) || !di || strlen(di) != 71)
			return ward_err_set(err, -WARD_E_MALFORMED, "docker-archive: layer %zu", i);
		snprintf(s->layers[i].path, sizeof(s->layers[i].path), "%s/%s", s->dir, p);
		/* media type decided by content (gzip magic) when the blob is read */
		s->layers[i].media_type[0] = 0;
		strcpy(s->layers[i].diff_id, di);
	}
	return 0;
}

static int src_open(const char *image, const char *cache_root, struct src *s, struct ward_err *err)
{
	char path[PATH_MAX], probe[PATH_MAX + 32];
	const char *tag = NULL;
	struct stat st;
	int r;

	memset(s, 0, sizeof(*s));
	if (strlen(image) >= sizeof(path))
		return ward_err_set(err, -WARD_E_USAGE, "image path too long");
	strcpy(path, image);
	if (stat(path, &st) < 0) {
		char *colon = strrchr(path, ':');

		if (colon) {
			*colon = 0;
			tag = image + (colon - path) + 1;
		}
		if (stat(path, &st) < 0)
			return ward_err_errno(err, -errno, "image '%s'", image);
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(s->dir, sizeof(s->dir), "%s", path);
	} else {
		WARD_AUTOFREE uint8_t *raw = NULL;
		WARD_AUTOCLOSE int fd = -1;
		struct ward_unpack_opts uo = {.no_chown = true, .no_devices = true};
		size_t size;

		/* an archive: extract it to a private temporary directory */
		snprintf(s->dir, sizeof(s->dir), "%s/extract-XXXXXX", cache_root);
		r = ward_mkdtemp(s->dir, err);
		if (r < 0)
			return ward_err_prefix(err, "cache '%s'", cache_root);
		s->tmp = true;
		r = ward_file_read(path, BLOB_MAX, &raw, &size, err);
		if (r < 0)
			return ward_err_prefix(err, "image '%s'", path);
		fd = open(s->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return ward_err_errno(err, -errno, "open %s", s->dir);
		r = ward_unpack_tar(fd, raw, size, &uo, NULL, err);
		if (r < 0)
			return ward_err_prefix(err, "image archive '%s'", path);
	}
	snprintf(probe, sizeof(probe), "%s/index.json", s->dir);
	if (access(probe, F_OK) == 0)
		return oci_open(s, tag, err);
	snprintf(probe, sizeof(probe), "%s/manifest.json", s->dir);
	if (access(probe, F_OK) == 0)
		return docker_open(s, tag, err);
	return ward_err_set(err, -WARD_E_MALFORMED,
			    "'%s' is neither an OCI layout, an oci-archive nor a docker-archive",
			    image);
}

static int mkdirs(const char *rootfs, struct ward_err *err)
{
	WARD_AUTOCLOSE int fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	static const char *const dirs[] = {"proc",	 "dev",	      "sys",
					   ".ward/root", ".ward/run", ".ward/layers"};

	if (fd < 0)
		return ward_err_errno(err, -errno, "open %s", rootfs);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		int r = ward_mkdirat_beneath(fd, dirs[i], 0755, err);

		if (r < 0)
			return r;
	}
	return 0;
}

static json_t *config_field(const json_t *config, const char *key)
{
	const json_t *c = json_object_get(config, "config");
	json_t *v = json_is_object(c) ? json_object_get(c, key) : NULL;

	return v ? json_deep_copy(v) : json_null();
}

/* Development conversion: encrypt each layer with a fresh key into
 * dir/rootfs/.ward/layers, write /.ward/config.json and dir/keys.json. */
static int dev_convert(const struct src *s, const char *dir, struct ward_err *err)
{
	WARD_AUTOJSON json_t *cfg = NULL, *keys = NULL, *klayers = NULL, *layers = NULL;
	WARD_AUTOFREE char *txt = NULL;
	char path[PATH_MAX + 256], rootfs[PATH_MAX + 16];
	int r;

	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
	if (mkdir(rootfs, 0755) < 0)
		return ward_err_errno(err, -errno, "mkdir %s", rootfs);
	r = mkdirs(rootfs, err);
	if (r < 0)
		return r;
	layers = json_array();
	klayers = json_object();
	if (!layers || !klayers)
		return ward_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < s->layer_count; i++) {
		const struct layer_ref *L = &s->layers[i];
		WARD_AUTOFREE uint8_t *pt = NULL, *ct = NULL;
		WARD_AUTOFREE char *pubopts = NULL;
		struct ward_layer_key key;
		char hex[65], enc[72], k64[45], n64[25], mt[160];
		size_t size;

		WARD_CLEANUP_ERASE(key);
		r = ward_file_read(L->path, BLOB_MAX, &pt, &size, err);
		if (r < 0)
			return ward_err_prefix(err, "layer %zu", i);
		r = ward_sha256_hex(pt, size, hex, err);
		if (r < 0)
			return r;
		snprintf(key.digest, sizeof(key.digest), "sha256:%s", hex);
		if (L->digest[0] && strcmp(L->digest, key.digest) != 0)
			return ward_err_set(err, -WARD_E_VERIFY, "layer %zu: blob digest mismatch",
					    i);
		/* as `ward convert` records it: the original (plain) media type */
		if (L->media_type[0])
			snprintf(mt, sizeof(mt), "%s", L->media_type);
		else if (size >= 2 && pt[0] == 0x1f && pt[1] == 0x8b)
			snprintf(mt, sizeof(mt), "application/vnd.oci.image.layer.v1.tar+gzip");
		else
			snprintf(mt, sizeof(mt), "application/vnd.oci.image.layer.v1.tar");
		r = ward_random(key.symkey, 32, err);
		if (r < 0 || (r = ward_random(key.nonce, 16, err)) < 0)
			return r;
		ct = malloc(size ? size : 1);
		if (!ct)
			return ward_err_set(err, -ENOMEM, "out of memory");
		r = ward_agent_layer_encrypt(&key, pt, size, ct, &pubopts, err);
		if (r < 0)
			return ward_err_prefix(err, "layer %zu", i);
		r = ward_sha256_hex(ct, size, hex, err);
		if (r < 0)
			return r;
		snprintf(enc, sizeof(enc), "sha256:%s", hex);
		snprintf(path, sizeof(path), "%s/.ward/layers/%s", rootfs, hex);
		r = ward_file_write_atomic(path, ct, size, 0444, err);
		if (r < 0)
			return ward_err_prefix(err, "layer %zu", i);
		snprintf(path, sizeof(path), ".ward/layers/%s", hex);
		ward_base64_encode(key.symkey, 32, k64);
		WARD_CLEANUP_ERASE(k64);
		ward_base64_encode(key.nonce, 16, n64);
		if (json_array_append_new(
			layers, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "blob", path,
					  "encrypted_digest", enc, "plain_digest", key.digest,
					  "diff_id", L->diff_id, "size", (json_int_t)size,
					  "media_type", mt, "pubopts", pubopts)) < 0 ||
		    json_object_set_new(klayers, enc,
					json_pack("{s:s, s:s, s:s}", "symkey", k64, "nonce", n64,
						  "digest", key.digest)) < 0)
			return ward_err_set(err, -ENOMEM, "out of memory");
	}
	cfg = json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:s, s:O}", "version", 1, "entrypoint",
			config_field(s->config, "Entrypoint"), "cmd",
			config_field(s->config, "Cmd"), "env", config_field(s->config, "Env"),
			"user", config_field(s->config, "User"), "working_dir",
			config_field(s->config, "WorkingDir"), "stop_signal",
			config_field(s->config, "StopSignal"), "original_config_digest",
			s->config_digest, "layers", layers);
	if (!cfg)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_json_dump(cfg, &txt, err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/.ward/config.json", rootfs);
	r = ward_file_write_atomic(path, txt, strlen(txt), 0444, err);
	if (r < 0)
		return r;
	free(WARD_TAKE_PTR(txt));
	keys = json_pack("{s:i, s:O}", "version", 1, "layers", klayers);
	if (!keys)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_json_dump(keys, &txt, err);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/keys.json", dir);
	r = ward_file_write_atomic(path, txt, strlen(txt), 0600, err);
	ward_wipe(txt, strlen(txt));
	return r;
}

/* Converted image: its single plaintext layer holds /.ward. */
static int wrapped_extract(const struct src *s, const char *dir, struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *raw = NULL;
	WARD_AUTOCLOSE int fd = -1;
	char rootfs[PATH_MAX + 16];
	size_t size;
	int r;

	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
	if (mkdir(rootfs, 0755) < 0)
		return ward_err_errno(err, -errno, "mkdir %s", rootfs);
	fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return ward_err_errno(err, -errno, "open %s", rootfs);
	for (size_t i = 0; i < s->layer_count; i++) {
		if (strstr(s->layers[i].media_type, "gzip") ||
		    strstr(s->layers[i].media_type, "zstd"))
			return ward_err_set(
			    err, -WARD_E_UNSUPPORTED,
			    "converted image: the ward layer must be an uncompressed tar");
		r = ward_file_read(s->layers[i].path, BLOB_MAX, &raw, &size, err);
		if (r < 0)
			return ward_err_prefix(err, "ward layer");
		r = ward_unpack_tar(fd, raw, size, &(struct ward_unpack_opts){.no_devices = true},
				    NULL, err);
		free(WARD_TAKE_PTR(raw));
		if (r < 0)
			return ward_err_prefix(err, "ward layer");
	}
	return mkdirs(rootfs, err);
}

int rt_image_prepare(const struct ward_run_opts *o, const char *cache_root, struct rt_image *ret,
		     struct ward_err *err)
{
	struct src s;
	char dir[PATH_MAX], tmp[PATH_MAX];
	const json_t *labels;
	const char *mode, *stop;
	bool wrapped;
	int r;

	(void)mkdir(cache_root, 0700);
	r = src_open(o->image, cache_root, &s, err);
	if (r < 0) {
		src_clear(&s);
		return r;
	}
	labels = json_object_get(json_object_get(s.config, "config"), "Labels");
	mode = json_string_value(json_object_get(labels, "dev.ward.mode"));
	wrapped = mode && strcmp(mode, "wrapped") == 0;
	if (!wrapped && !o->insecure_host_keys) {
		src_clear(&s);
		return ward_err_set(
		    err, -WARD_E_POLICY,
		    "'%s' is not a converted image: convert it with 'ward convert', "
		    "or run it in INSECURE development mode with --insecure-host-keys "
		    "(converted on the fly, keys known to this host)",
		    o->image);
	}
	memset(ret, 0, sizeof(*ret));
	ret->wrapped = wrapped;
	snprintf(ret->config_digest, sizeof(ret->config_digest), "%s", s.config_digest);
	stop =
	    json_string_value(json_object_get(json_object_get(s.config, "config"), "StopSignal"));
	snprintf(ret->stop_signal, sizeof(ret->stop_signal), "%s", stop ? stop : "SIGTERM");

	snprintf(dir, sizeof(dir), "%s/%s-%.64s", cache_root, wrapped ? "wrapped" : "dev",
		 s.config_digest + 7);
	if (access(dir, F_OK) < 0) {
		snprintf(tmp, sizeof(tmp), "%s/tmp-XXXXXX", cache_root);
		r = ward_mkdtemp(tmp, err);
		if (r >= 0) {
			(void)chmod(tmp, 0700);
			r = wrapped ? wrapped_extract(&s, tmp, err) : dev_convert(&s, tmp, err);
		}
		if (r >= 0 && rename(tmp, dir) < 0 && errno != EEXIST && errno != ENOTEMPTY)
			r = ward_err_errno(err, -errno, "rename %s", dir);
		if (r < 0 || access(tmp, F_OK) == 0) {
			struct ward_err e2 = WARD_ERR_INIT;

			(void)ward_rm_rf(tmp, &e2);
		}
		if (r < 0) {
			src_clear(&s);
			return ward_err_prefix(err, "prepare '%s'", o->image);
		}
	}
	src_clear(&s);
	snprintf(ret->rootfs, sizeof(ret->rootfs), "%s/rootfs", dir);
	if (!wrapped)
		snprintf(ret->keys_path, sizeof(ret->keys_path), "%s/keys.json", dir);
	return 0;
}
