/* SPDX-License-Identifier: Apache-2.0 */
/* The wrapped image's config, layer keys, and layer verification.
 *
 * Choice (docs/running.md): each encrypted blob is copied from the
 * read-only, host-controlled rootfs into private memory ONCE; every check
 * runs on that copy (encrypted digest, HMAC before any decryption, then the
 * plaintext digests), so the host cannot swap bytes between check and use.
 * Only then is the tar handed to the unpacker, whose output is a private
 * tmpfs that is thrown away if anything later fails. */
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "ward/agent.h"
#include "ward/cleanup.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/jose.h"
#include "ward/json.h"
#include "ward/log.h"
#include "ward/util.h"

#define OCICRYPT_CIPHER "AES_256_CTR_HMAC_SHA256"
#define ENC_SUFFIX "+encrypted"

/* ---- config ---- */

static bool digest_valid(const char *s)
{
	if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 71)
		return false;
	for (size_t i = 7; i < 71; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int get_digest(const json_t *o, const char *path, const char *key, char out[72],
		      struct ward_err *err)
{
	const char *s;
	int r = ward_json_get_string(o, path, key, true, &s, err);

	if (r < 0)
		return r;
	if (!digest_valid(s))
		return ward_err_set(err, -WARD_E_MALFORMED, "%s.%s: not a sha256 digest", path,
				    key);
	memcpy(out, s, 72);
	return 0;
}

static int get_strv(const json_t *o, const char *path, const char *key, const json_t **ret,
		    struct ward_err *err)
{
	json_t *a = NULL;
	size_t i;
	json_t *v;
	int r;

	if (json_is_null(json_object_get(o, key))) {
		*ret = NULL;
		return 0;
	}
	r = ward_json_get_array(o, path, key, false, 4096, &a, err);
	if (r < 0)
		return r;
	json_array_foreach(a, i, v) if (!json_is_string(v)) return ward_err_set(
	    err, -WARD_E_MALFORMED, "%s.%s[%zu]: expected string", path, key, i);
	*ret = a;
	return 0;
}

static int get_opt_string(const json_t *o, const char *key, const char **ret, struct ward_err *err)
{
	if (json_is_null(json_object_get(o, key))) {
		*ret = NULL;
		return 0;
	}
	return ward_json_get_string(o, "$", key, false, ret, err);
}

struct ward_agent_config *ward_agent_config_free(struct ward_agent_config *c)
{
	if (!c)
		return NULL;
	json_decref(c->json);
	free(c->layers);
	free(c);
	return NULL;
}

/* Optional "rootfs": {"type": "volume", "dir", "root", "volume_id",
 * "block_size", "keys_jwe"?} (ward convert --rootfs volume) or {"type":
 * "ext4", "file", "digest", "size", "keys_jwe"?} (--rootfs ext4). */
static int parse_rootfs(struct ward_agent_config *c, struct ward_err *err)
{
	struct ward_agent_rootfs *rf = &c->rootfs;
	json_t *o = NULL;
	const char *type, *path;
	bool ext4;
	int64_t n;
	int r;

	r = ward_json_get_object(c->json, "$", "rootfs", false, &o, err);
	if (r < 0 || !o)
		return r;
	r = ward_json_get_string(o, "$.rootfs", "type", true, &type, err);
	if (r < 0)
		return r;
	ext4 = strcmp(type, "ext4") == 0;
	if (!ext4 && strcmp(type, "volume") != 0)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "$.rootfs.type: '%.40s' unknown", type);
	if (ext4) {
		if ((r = ward_json_get_string(o, "$.rootfs", "file", true, &path, err)) < 0 ||
		    (r = get_digest(o, "$.rootfs", "digest", rf->root, err)) < 0 ||
		    (r = ward_json_get_int(o, "$.rootfs", "size", true, 1, INT64_MAX, &n, err)) < 0)
			return r;
		rf->size = (uint64_t)n;
	} else if ((r = ward_json_get_string(o, "$.rootfs", "dir", true, &path, err)) < 0 ||
		   (r = get_digest(o, "$.rootfs", "root", rf->root, err)) < 0 ||
		   (r = ward_json_get_hex_fixed(o, "$.rootfs", "volume_id", true, rf->volume_id,
						sizeof(rf->volume_id), err)) < 0 ||
		   (r = ward_json_get_int(o, "$.rootfs", "block_size", false, 0, INT32_MAX, &n,
					  err)) < 0) {
		return r;
	}
	r = ward_json_get_string(o, "$.rootfs", "keys_jwe", false, &rf->keys_jwe, err);
	if (r < 0)
		return r;
	if (strlen(path) >= sizeof(rf->dir) || !ward_path_is_safe_relative(path) ||
	    strncmp(path, ".ward/", 6) != 0)
		return ward_err_set(err, -WARD_E_MALFORMED, "$.rootfs.%s: bad path",
				    ext4 ? "file" : "dir");
	if (c->layer_count)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "both layers and a root %s: which one is the root?",
				    ext4 ? "image" : "volume");
	strcpy(rf->dir, path);
	rf->volume = !ext4;
	rf->ext4 = ext4;
	return 0;
}

int ward_agent_config_parse(const void *buf, size_t size, struct ward_agent_config **ret,
			    struct ward_err *err)
{
	WARD_CLEANUP(ward_agent_config_freep) struct ward_agent_config *c = calloc(1, sizeof(*c));
	json_t *layers = NULL, *l;
	int64_t version;
	size_t i;
	int r;

	if (!c)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_json_parse(buf, size, WARD_AGENT_CONFIG_MAX_SIZE, &c->json, err);
	if (r < 0)
		return ward_err_prefix(err, "ward config");
	if (!json_is_object(c->json))
		return ward_err_set(err, -WARD_E_MALFORMED, "ward config: not an object");
	r = ward_json_get_int(c->json, "$", "version", true, 1, 1, &version, err);
	if (r < 0)
		return ward_err_prefix(err, "ward config");
	if ((r = get_strv(c->json, "$", "entrypoint", &c->entrypoint, err)) < 0 ||
	    (r = get_strv(c->json, "$", "cmd", &c->cmd, err)) < 0 ||
	    (r = get_strv(c->json, "$", "env", &c->env, err)) < 0 ||
	    (r = get_opt_string(c->json, "user", &c->user, err)) < 0 ||
	    (r = get_opt_string(c->json, "working_dir", &c->working_dir, err)) < 0 ||
	    (r = get_opt_string(c->json, "stop_signal", &c->stop_signal, err)) < 0 ||
	    (r = get_opt_string(c->json, "original_config_digest", &c->config_digest, err)) < 0)
		return ward_err_prefix(err, "ward config");
	r = ward_json_get_array(c->json, "$", "layers", true, WARD_AGENT_MAX_LAYERS, &layers, err);
	if (r < 0)
		return ward_err_prefix(err, "ward config");
	c->layer_count = json_array_size(layers);
	c->layers = calloc(c->layer_count ? c->layer_count : 1, sizeof(*c->layers));
	if (!c->layers)
		return ward_err_set(err, -ENOMEM, "out of memory");
	json_array_foreach(layers, i, l)
	{
		struct ward_agent_layer *L = &c->layers[i];
		char path[64];
		const char *s;
		int64_t lsize = 0;

		snprintf(path, sizeof(path), "$.layers[%zu]", i);
		if (!json_is_object(l))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "ward config: %s: not an object", path);
		if ((r = ward_json_get_string(l, path, "blob", true, &s, err)) < 0)
			return ward_err_prefix(err, "ward config");
		if (strlen(s) >= sizeof(L->blob) || !ward_path_is_safe_relative(s))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "ward config: %s.blob: bad path", path);
		strcpy(L->blob, s);
		if ((r = get_digest(l, path, "encrypted_digest", L->encrypted_digest, err)) < 0 ||
		    (r = get_digest(l, path, "plain_digest", L->plain_digest, err)) < 0 ||
		    (r = get_digest(l, path, "diff_id", L->diff_id, err)) < 0)
			return ward_err_prefix(err, "ward config");
		if ((r = ward_json_get_string(l, path, "media_type", true, &s, err)) < 0)
			return ward_err_prefix(err, "ward config");
		if (strlen(s) >= sizeof(L->media_type))
			return ward_err_set(err, -WARD_E_MALFORMED,
					    "ward config: %s.media_type: too long", path);
		strcpy(L->media_type, s);
		if ((r = ward_json_get_string(l, path, "pubopts", true, &L->pubopts, err)) < 0 ||
		    (r = ward_json_get_string(l, path, "keys_jwe", false, &L->keys_jwe, err)) < 0 ||
		    (r = ward_json_get_int(l, path, "size", false, 0, INT64_MAX, &lsize, err)) < 0)
			return ward_err_prefix(err, "ward config");
		L->size = (uint64_t)lsize;
	}
	r = parse_rootfs(c, err);
	if (r < 0)
		return ward_err_prefix(err, "ward config");
	*ret = WARD_TAKE_PTR(c);
	return 0;
}

/* ---- keys ---- */

static int b64_fixed(const json_t *o, const char *path, const char *key, uint8_t *out, size_t size,
		     struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *raw = NULL;
	size_t raw_size = 0;
	const char *s;
	int r;

	r = ward_json_get_string(o, path, key, true, &s, err);
	if (r < 0)
		return r;
	r = ward_base64_decode(s, strlen(s), &raw, &raw_size, err);
	if (r < 0)
		return ward_err_prefix(err, "%s.%s", path, key);
	if (raw_size != size) {
		ward_wipe(raw, raw_size);
		return ward_err_set(err, -WARD_E_MALFORMED, "%s.%s: expected %zu bytes", path, key,
				    size);
	}
	memcpy(out, raw, size);
	ward_wipe(raw, raw_size);
	return 0;
}

int ward_agent_insecure_keyfile_load(const void *buf, size_t size, json_t **ret_ctx,
				     struct ward_err *err)
{
	WARD_AUTOJSON json_t *j = NULL;
	json_t *layers = NULL;
	int64_t version;
	int r;

	r = ward_json_parse(buf, size, WARD_AGENT_CONFIG_MAX_SIZE, &j, err);
	if (r < 0)
		return ward_err_prefix(err, "insecure key file");
	if (!json_is_object(j))
		return ward_err_set(err, -WARD_E_MALFORMED, "insecure key file: not an object");
	if ((r = ward_json_get_int(j, "$", "version", true, 1, 1, &version, err)) < 0 ||
	    (r = ward_json_get_object(j, "$", "layers", true, &layers, err)) < 0)
		return ward_err_prefix(err, "insecure key file");
	*ret_ctx = WARD_TAKE_PTR(j);
	return 0;
}

int ward_agent_insecure_keyfile_key(void *ctx, const struct ward_agent_layer *layer,
				    struct ward_layer_key *ret, struct ward_err *err)
{
	const json_t *layers = json_object_get((const json_t *)ctx, "layers");
	const json_t *k = json_object_get(layers, layer->encrypted_digest);
	struct ward_layer_key key;
	char path[96];
	int r;

	WARD_CLEANUP_ERASE(key);
	if (!json_is_object(k))
		return ward_err_set(err, -WARD_E_NOT_FOUND, "no key for layer %s",
				    layer->encrypted_digest);
	snprintf(path, sizeof(path), "$.layers[\"%.20s...\"]", layer->encrypted_digest);
	if ((r = b64_fixed(k, path, "symkey", key.symkey, 32, err)) < 0 ||
	    (r = b64_fixed(k, path, "nonce", key.nonce, 16, err)) < 0 ||
	    (r = get_digest(k, path, "digest", key.digest, err)) < 0)
		return ward_err_prefix(err, "insecure key file");
	*ret = key;
	return 0;
}

int ward_agent_privopts_parse(const void *buf, size_t size, struct ward_layer_key *ret,
			      struct ward_err *err)
{
	WARD_AUTOJSON json_t *j = NULL;
	json_t *co = NULL;
	struct ward_layer_key key;
	int r;

	WARD_CLEANUP_ERASE(key);
	r = ward_json_parse(buf, size, 64 << 10, &j, err);
	if (r < 0)
		return ward_err_prefix(err, "layer private options");
	if (!json_is_object(j))
		return ward_err_set(err, -WARD_E_MALFORMED, "layer private options: not an object");
	if ((r = b64_fixed(j, "$", "symkey", key.symkey, 32, err)) < 0 ||
	    (r = get_digest(j, "$", "digest", key.digest, err)) < 0 ||
	    (r = ward_json_get_object(j, "$", "cipheroptions", true, &co, err)) < 0 ||
	    (r = b64_fixed(co, "$.cipheroptions", "nonce", key.nonce, 16, err)) < 0)
		return ward_err_prefix(err, "layer private options");
	*ret = key;
	return 0;
}

int ward_agent_jwe_layer_key(void *ctx, const struct ward_agent_layer *layer,
			     struct ward_layer_key *ret, struct ward_err *err)
{
	const struct ward_agent_jwe_keys *k = ctx;
	WARD_AUTOFREE uint8_t *raw = NULL;
	WARD_AUTOJSON json_t *jwe = NULL;
	size_t raw_size;
	int r;

	if (!layer->keys_jwe)
		return ward_err_set(err, -WARD_E_NOT_FOUND,
				    "layer %s has no wrapped key (keys_jwe)",
				    layer->encrypted_digest);
	if (k->count == 0)
		return ward_err_set(err, -WARD_E_NOT_FOUND, "no private key to open layer keys");
	/* one JWE per recipient, comma-separated (as ocicrypt's annotation) */
	for (const char *p = layer->keys_jwe; *p;) {
		size_t len = strcspn(p, ",");

		free(WARD_TAKE_PTR(raw));
		json_decref(WARD_TAKE_PTR(jwe));
		r = ward_base64_decode(p, len, &raw, &raw_size, err);
		if (r < 0 || (r = ward_json_parse(raw, raw_size, 1 << 20, &jwe, err)) < 0)
			return ward_err_prefix(err, "layer %s: keys_jwe", layer->encrypted_digest);
		for (size_t i = 0; i < k->count; i++) {
			WARD_CLEANUP(ward_secret_freep) struct ward_secret *pt = NULL;

			r = ward_jwe_decrypt(k->keys[i], jwe, &pt, err);
			if (r == -WARD_E_VERIFY || r == -WARD_E_UNSUPPORTED)
				continue; /* not for this key: try the next */
			if (r < 0)
				return ward_err_prefix(err, "layer %s: keys_jwe",
						       layer->encrypted_digest);
			return ward_agent_privopts_parse(pt->data, pt->size, ret, err);
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return ward_err_set(err, -WARD_E_VERIFY, "layer %s: no key opens its keys_jwe",
			    layer->encrypted_digest);
}

/* ---- cipher ---- */

static int hash_hex(const uint8_t *p, size_t n, char out[72], struct ward_err *err)
{
	char hex[65];
	int r = ward_sha256_hex(p, n, hex, err);

	if (r < 0)
		return r;
	snprintf(out, 72, "sha256:%s", hex);
	return 0;
}

/* A digest computed on a second thread while this one does other work
 * (the machine's second core halves the time to first exec). */
struct hash_job {
	const uint8_t *p;
	size_t n;
	char out[72];
	int r;
	struct ward_err err;
	pthread_t thread;
	bool threaded;
};

static void *hash_job_main(void *arg)
{
	struct hash_job *j = arg;

	j->r = hash_hex(j->p, j->n, j->out, &j->err);
	return NULL;
}

static void hash_job_start(struct hash_job *j, const uint8_t *p, size_t n)
{
	*j = (struct hash_job){.p = p, .n = n, .err = WARD_ERR_INIT};
	/* small inputs, or no thread: compute now */
	j->threaded = n >= (1u << 20) && pthread_create(&j->thread, NULL, hash_job_main, j) == 0;
	if (!j->threaded)
		hash_job_main(j);
}

static int hash_job_finish(struct hash_job *j, struct ward_err *err)
{
	if (j->threaded) {
		pthread_join(j->thread, NULL);
		j->threaded = false;
	}
	if (j->r < 0) {
		if (err)
			*err = j->err;
		return j->r;
	}
	return 0;
}

int ward_agent_layer_encrypt(const struct ward_layer_key *key, const uint8_t *pt, size_t size,
			     uint8_t *ct, char **ret_pubopts, struct ward_err *err)
{
	WARD_CLEANUP(ward_cipher_freep) struct ward_cipher *c = NULL;
	WARD_AUTOJSON json_t *j = NULL;
	WARD_AUTOFREE char *txt = NULL;
	uint8_t mac[32];
	char mac_b64[45];
	int r;

	r = ward_cipher_new(WARD_CIPHER_AES256_CTR, key->symkey, key->nonce, 16, &c, err);
	if (r < 0)
		return r;
	r = ward_cipher_update(c, pt, size, ct, err);
	if (r < 0)
		return r;
	r = ward_hmac(WARD_HASH_SHA256, key->symkey, 32, ct, size, mac, err);
	if (r < 0)
		return r;
	ward_base64_encode(mac, 32, mac_b64);
	j = json_pack("{s:s, s:s, s:{}}", "cipher", OCICRYPT_CIPHER, "hmac", mac_b64,
		      "cipheroptions");
	if (!j)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_json_dump(j, &txt, err);
	if (r < 0)
		return r;
	*ret_pubopts = ward_base64_encode_alloc(txt, strlen(txt));
	if (!*ret_pubopts)
		return ward_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

static int pubopts_hmac(const char *b64, uint8_t hmac[32], struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *raw = NULL;
	WARD_AUTOJSON json_t *j = NULL;
	size_t raw_size;
	const char *cipher;
	int r;

	r = ward_base64_decode(b64, strlen(b64), &raw, &raw_size, err);
	if (r < 0)
		return ward_err_prefix(err, "pubopts");
	r = ward_json_parse(raw, raw_size, 64 << 10, &j, err);
	if (r < 0)
		return ward_err_prefix(err, "pubopts");
	if (!json_is_object(j))
		return ward_err_set(err, -WARD_E_MALFORMED, "pubopts: not an object");
	r = ward_json_get_string(j, "$", "cipher", true, &cipher, err);
	if (r < 0)
		return ward_err_prefix(err, "pubopts");
	if (strcmp(cipher, OCICRYPT_CIPHER) != 0)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "pubopts: cipher '%.40s' (want %s)",
				    cipher, OCICRYPT_CIPHER);
	r = b64_fixed(j, "$", "hmac", hmac, 32, err);
	if (r < 0)
		return ward_err_prefix(err, "pubopts");
	return 0;
}

static int gunzip(const uint8_t *in, size_t in_size, uint8_t **ret, size_t *ret_size,
		  struct ward_err *err)
{
	struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
	WARD_AUTOFREE uint8_t *out = NULL;
	size_t cap = 0, used = 0, pos = 0;
	int r = 0;

	if (!d)
		return ward_err_set(err, -ENOMEM, "out of memory");
	/* ISIZE (untrusted, mod 2^32) of the last member is only a first guess */
	if (in_size >= 18)
		cap = (size_t)in[in_size - 4] | (size_t)in[in_size - 3] << 8 |
		      (size_t)in[in_size - 2] << 16 | (size_t)in[in_size - 1] << 24;
	if (cap < in_size * 2)
		cap = in_size * 2 + 4096;
	if (cap > WARD_AGENT_TAR_MAX_SIZE)
		cap = WARD_AGENT_TAR_MAX_SIZE;
	while (pos < in_size) {
		size_t in_used = 0, n = 0;
		enum libdeflate_result res;

		if (!out || cap - used < 4096) {
			size_t ncap = out ? cap * 2 : cap;
			uint8_t *o;

			if (ncap > WARD_AGENT_TAR_MAX_SIZE) {
				r = ward_err_set(err, -WARD_E_TOO_BIG,
						 "layer larger than %llu bytes",
						 (unsigned long long)WARD_AGENT_TAR_MAX_SIZE);
				break;
			}
			o = realloc(out, ncap);
			if (!o) {
				r = ward_err_set(err, -ENOMEM, "out of memory");
				break;
			}
			out = o;
			cap = ncap;
		}
		res = libdeflate_gzip_decompress_ex(d, in + pos, in_size - pos, out + used,
						    cap - used, &in_used, &n);
		if (res == LIBDEFLATE_INSUFFICIENT_SPACE) {
			if (cap >= WARD_AGENT_TAR_MAX_SIZE) {
				r = ward_err_set(err, -WARD_E_TOO_BIG,
						 "layer larger than %llu bytes",
						 (unsigned long long)WARD_AGENT_TAR_MAX_SIZE);
				break;
			}
			size_t ncap =
			    cap * 2 > WARD_AGENT_TAR_MAX_SIZE ? WARD_AGENT_TAR_MAX_SIZE : cap * 2;
			uint8_t *o = realloc(out, ncap);

			if (!o) {
				r = ward_err_set(err, -ENOMEM, "out of memory");
				break;
			}
			out = o;
			cap = ncap;
			continue;
		}
		if (res != LIBDEFLATE_SUCCESS) {
			r = ward_err_set(err, -WARD_E_MALFORMED, "gzip stream corrupt at byte %zu",
					 pos);
			break;
		}
		pos += in_used;
		used += n;
	}
	libdeflate_free_decompressor(d);
	if (r < 0)
		return r;
	*ret = WARD_TAKE_PTR(out);
	*ret_size = used;
	return 0;
}

static int unzstd(const uint8_t *in, size_t in_size, uint8_t **ret, size_t *ret_size,
		  struct ward_err *err)
{
	ZSTD_DStream *z = ZSTD_createDStream();
	WARD_AUTOFREE uint8_t *out = NULL;
	ZSTD_inBuffer ib = {in, in_size, 0};
	size_t cap = in_size * 3 + 4096, used = 0;
	int r = 0;

	if (!z)
		return ward_err_set(err, -ENOMEM, "out of memory");
	for (;;) {
		if (!out || cap - used < 65536) {
			size_t ncap = out ? cap * 2 : cap;
			uint8_t *o;

			if (ncap > WARD_AGENT_TAR_MAX_SIZE) {
				r = ward_err_set(err, -WARD_E_TOO_BIG, "layer too large");
				break;
			}
			o = realloc(out, ncap);
			if (!o) {
				r = ward_err_set(err, -ENOMEM, "out of memory");
				break;
			}
			out = o;
			cap = ncap;
		}
		ZSTD_outBuffer ob = {out + used, cap - used, 0};
		size_t rc = ZSTD_decompressStream(z, &ob, &ib);

		used += ob.pos;
		if (ZSTD_isError(rc)) {
			r = ward_err_set(err, -WARD_E_MALFORMED, "zstd stream corrupt: %s",
					 ZSTD_getErrorName(rc));
			break;
		}
		if (ib.pos == ib.size && ob.pos < ob.size) {
			if (rc != 0)
				r = ward_err_set(err, -WARD_E_MALFORMED, "zstd stream truncated");
			break;
		}
	}
	ZSTD_freeDStream(z);
	if (r < 0)
		return r;
	*ret = WARD_TAKE_PTR(out);
	*ret_size = used;
	return 0;
}

/* Everything up to the decompressed tar; the diff_id digest is started on
 * *diff_job (to be finished by the caller) when diff_job is non-NULL,
 * otherwise checked here. */
static int layer_open(const struct ward_agent_layer *layer, const uint8_t *ct, size_t ct_size,
		      const struct ward_layer_key *key, uint8_t **ret_tar, size_t *ret_tar_size,
		      struct hash_job *diff_job, struct ward_err *err)
{
	WARD_CLEANUP(ward_cipher_freep) struct ward_cipher *c = NULL;
	WARD_AUTOFREE uint8_t *pt = NULL;
	struct hash_job job;
	uint8_t want_mac[32], mac[32];
	char mt[128];
	size_t mtlen, tar_size = 0;
	int r;

	/* The media type decides the decompressor: known types only. Wrapped
	 * images record the original (plain) type, ocicrypt ones the
	 * "+encrypted" type; either way the blob is encrypted, and the HMAC
	 * below decides whether it is ours. */
	mtlen = strlen(layer->media_type);
	if (mtlen > strlen(ENC_SUFFIX) &&
	    strcmp(layer->media_type + mtlen - strlen(ENC_SUFFIX), ENC_SUFFIX) == 0)
		mtlen -= strlen(ENC_SUFFIX);
	snprintf(mt, sizeof(mt), "%.*s", (int)mtlen, layer->media_type);
	bool gz = ward_endswith(mt, "tar+gzip") || ward_endswith(mt, "tar.gzip");
	bool zst = ward_endswith(mt, "tar+zstd");
	bool plain = ward_endswith(mt, "layer.v1.tar") || ward_endswith(mt, "diff.tar");
	if (!gz && !zst && !plain)
		return ward_err_set(err, -WARD_E_UNSUPPORTED, "layer %s: media type '%s'",
				    layer->encrypted_digest, layer->media_type);
	r = pubopts_hmac(layer->pubopts, want_mac, err);
	if (r < 0)
		return ward_err_prefix(err, "layer %s", layer->encrypted_digest);

	/* encrypted digest (second core) and HMAC: both before any decryption */
	hash_job_start(&job, ct, ct_size);
	r = ward_hmac(WARD_HASH_SHA256, key->symkey, 32, ct, ct_size, mac, err);
	if (hash_job_finish(&job, r < 0 ? NULL : err) < 0 && r >= 0)
		return job.r;
	if (r < 0)
		return r;
	if (strcmp(job.out, layer->encrypted_digest) != 0)
		return ward_err_set(err, -WARD_E_VERIFY,
				    "layer %s: encrypted blob digest mismatch (got %s)",
				    layer->encrypted_digest, job.out);
	if (!ward_ct_eq(mac, want_mac, 32))
		return ward_err_set(err, -WARD_E_VERIFY, "layer %s: HMAC verification failed",
				    layer->encrypted_digest);

	pt = malloc(ct_size ? ct_size : 1);
	if (!pt)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_cipher_new(WARD_CIPHER_AES256_CTR, key->symkey, key->nonce, 16, &c, err);
	if (r < 0)
		return r;
	r = ward_cipher_update(c, ct, ct_size, pt, err);
	if (r < 0)
		return r;

	/* plaintext digest (second core) while decompressing */
	hash_job_start(&job, pt, ct_size);
	if (plain) {
		tar_size = ct_size;
	} else {
		WARD_AUTOFREE uint8_t *tar = NULL;

		r = gz ? gunzip(pt, ct_size, &tar, &tar_size, err)
		       : unzstd(pt, ct_size, &tar, &tar_size, err);
		if (r < 0) {
			(void)hash_job_finish(&job, NULL);
			return ward_err_prefix(err, "layer %s", layer->encrypted_digest);
		}
		r = hash_job_finish(&job, err);
		if (r < 0)
			return r;
		free(pt);
		pt = WARD_TAKE_PTR(tar);
	}
	r = hash_job_finish(&job, err);
	if (r < 0)
		return r;
	if (strcmp(job.out, key->digest) != 0 || strcmp(job.out, layer->plain_digest) != 0)
		return ward_err_set(err, -WARD_E_VERIFY, "layer %s: plaintext digest mismatch",
				    layer->encrypted_digest);

	if (diff_job) {
		hash_job_start(diff_job, pt, tar_size);
	} else {
		char digest[72];

		r = hash_hex(pt, tar_size, digest, err);
		if (r < 0)
			return r;
		if (strcmp(digest, layer->diff_id) != 0)
			return ward_err_set(err, -WARD_E_VERIFY, "layer %s: diff_id mismatch",
					    layer->encrypted_digest);
	}
	*ret_tar_size = tar_size;
	*ret_tar = WARD_TAKE_PTR(pt);
	return 0;
}

int ward_agent_layer_open(const struct ward_agent_layer *layer, const uint8_t *ct, size_t ct_size,
			  const struct ward_layer_key *key, uint8_t **ret_tar, size_t *ret_tar_size,
			  struct ward_err *err)
{
	return layer_open(layer, ct, ct_size, key, ret_tar, ret_tar_size, NULL, err);
}

int ward_agent_layer_apply(int dirfd, const struct ward_agent_layer *layer,
			   const struct ward_agent_keysource *keys, int rootfd,
			   const struct ward_unpack_opts *opts, struct ward_unpack_stats *stats,
			   struct ward_err *err)
{
	WARD_AUTOFREE uint8_t *ct = NULL, *tar = NULL;
	WARD_AUTOCLOSE int fd = -1;
	struct ward_layer_key key;
	struct hash_job diff_job;
	size_t ct_size, tar_size;
	struct stat st;
	int r;

	WARD_CLEANUP_ERASE(key);
	fd = ward_open_in_root(dirfd, layer->blob, O_RDONLY | O_NOFOLLOW, 0);
	if (fd < 0)
		return ward_err_errno(err, fd, "layer blob '/%s'", layer->blob);
	if (fstat(fd, &st) < 0)
		return ward_err_errno(err, -errno, "layer blob '/%s'", layer->blob);
	if (!S_ISREG(st.st_mode))
		return ward_err_set(err, -WARD_E_MALFORMED, "layer blob '/%s': not a regular file",
				    layer->blob);
	/* copy, then check: the host may rewrite the file under us */
	r = ward_fd_read_all(fd, WARD_AGENT_LAYER_MAX_SIZE, &ct, &ct_size, err);
	if (r < 0)
		return ward_err_prefix(err, "layer blob '/%s'", layer->blob);
	r = keys->layer_key(keys->ctx, layer, &key, err);
	if (r < 0)
		return ward_err_prefix(err, "layer key (%s)", keys->name);
	r = layer_open(layer, ct, ct_size, &key, &tar, &tar_size, &diff_job, err);
	if (r < 0)
		return r;
	free(WARD_TAKE_PTR(ct));
	/* The diff_id is hashed on the second core while the tar (already
	 * authenticated by the HMAC) is unpacked into the private tmpfs; a
	 * mismatch fails the layer, and the caller discards the tmpfs before
	 * anything runs. Not wiped: the same plaintext now lives in the
	 * tmpfs, and large buffers go back to the kernel, which zeroes pages
	 * before reuse. */
	r = ward_unpack_tar(rootfd, tar, tar_size, opts, stats, err);
	if (hash_job_finish(&diff_job, r < 0 ? NULL : err) < 0 && r >= 0)
		return diff_job.r;
	if (r < 0)
		return ward_err_prefix(err, "layer %s", layer->encrypted_digest);
	if (strcmp(diff_job.out, layer->diff_id) != 0)
		return ward_err_set(err, -WARD_E_VERIFY, "layer %s: diff_id mismatch",
				    layer->encrypted_digest);
	return 0;
}
