/* SPDX-License-Identifier: Apache-2.0 */
/* ward-init's KBS client (Trustee's kbs_attestation_protocol, v0) and the
 * workload bundle. UNTRUSTED until decrypted: every coordinator reply is
 * size-capped JSON; resources must be JWEs that open with our own key
 * (they were encrypted to the key bound into our evidence). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ward/agent.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/jose.h"
#include "ward/json.h"
#include "ward/log.h"
#include "ward/tee.h"

#define KBS_BODY_MAX (1u << 20)
#define BUNDLE_MAX_ITEMS 1024

void ward_kbs_session_clear(struct ward_kbs_session *s)
{
	ward_pkey_free(s->key);
	if (s->token)
		ward_wipe(s->token, strlen(s->token));
	free(s->token);
	free(s->cookie);
	*s = (struct ward_kbs_session){0};
}

int ward_kbs_runtime_data_hash(const char *nonce, const json_t *jwk, uint8_t out[64],
			       struct ward_err *err)
{
	WARD_AUTOJSON json_t *j = json_pack("{s:s, s:O}", "nonce", nonce, "tee-pubkey", jwk);
	WARD_AUTOFREE char *text = NULL;
	int r;

	if (!j)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_json_dump(j, &text, err);
	if (r < 0)
		return r;
	memset(out, 0, 64);
	return ward_hash(WARD_HASH_SHA384, text, strlen(text), out, err);
}

static int evidence_json(struct ward_tee_evidence *ev, json_t **ret, struct ward_err *err)
{
	WARD_AUTOFREE char *rep = ward_base64url_encode_alloc(ev->outblob, ev->outblob_size);
	WARD_AUTOFREE char *tab =
	    ev->auxblob ? ward_base64url_encode_alloc(ev->auxblob, ev->auxblob_size) : strdup("");

	if (!rep || !tab)
		return ward_err_set(err, -ENOMEM, "out of memory");
	*ret = json_pack("{s:s, s:s}", "report", rep, "cert_table", tab);
	return *ret ? 0 : ward_err_set(err, -ENOMEM, "out of memory");
}

int ward_kbs_sim_evidence(void *ctx, const uint8_t report_data[64], json_t **ret,
			  struct ward_err *err)
{
	WARD_CLEANUP(ward_tee_evidence_freep) struct ward_tee_evidence *ev = NULL;
	int r = ward_tee_sim_collect((const char *)ctx, report_data, &ev, err);

	if (r < 0)
		return r;
	return evidence_json(ev, ret, err);
}

int ward_kbs_tee_evidence(void *ctx, const uint8_t report_data[64], json_t **ret,
			  struct ward_err *err)
{
	WARD_CLEANUP(ward_tee_evidence_freep) struct ward_tee_evidence *ev = NULL;
	int r = ward_tee_collect((const struct ward_tee_opts *)ctx, report_data, &ev, err);

	if (r < 0)
		return r;
	return evidence_json(ev, ret, err);
}

#define kbs_trace(...) ward_trace("ward-init", __VA_ARGS__)

/* A problem+json reason from a refusal body, for the message. */
static void problem_reason(const uint8_t *body, size_t size, char *out, size_t out_size)
{
	WARD_AUTOJSON json_t *j = NULL;
	const char *d;

	snprintf(out, out_size, "no reason given");
	if (!body || ward_json_parse(body, size, KBS_BODY_MAX, &j, NULL) < 0 || !json_is_object(j))
		return;
	d = json_string_value(json_object_get(j, "detail"));
	if (d)
		snprintf(out, out_size, "%.200s", d);
}

static int call(const struct ward_kbs_transport *t, const char *method, const char *path,
		const char *cookie, const char *bearer, const json_t *body, json_t **ret,
		char **ret_cookie, struct ward_err *err)
{
	WARD_AUTOFREE char *text = NULL;
	WARD_AUTOFREE uint8_t *resp = NULL;
	size_t resp_size = 0;
	int status = 0, r;

	if (body) {
		r = ward_json_dump(body, &text, err);
		if (r < 0)
			return r;
	}
	r = t->request(t->ctx, method, path, cookie, bearer, text, text ? strlen(text) : 0, &status,
		       &resp, &resp_size, ret_cookie, err);
	if (r < 0)
		return ward_err_prefix(err, "%s %s", method, path);
	kbs_trace("%s %s: %d", method, path, status);
	if (status != 200) {
		char reason[256];

		problem_reason(resp, resp_size, reason, sizeof(reason));
		return ward_err_set(err,
				    status == 401 || status == 403 ? -WARD_E_POLICY
				    : status == 404		   ? -WARD_E_NOT_FOUND
								   : -EPROTO,
				    "%s %s: the coordinator answered %d: %s", method, path, status,
				    reason);
	}
	r = ward_json_parse(resp, resp_size, KBS_BODY_MAX, ret, err);
	if (r < 0)
		return ward_err_prefix(err, "%s %s: reply", method, path);
	return 0;
}

int ward_kbs_attest(const struct ward_kbs_transport *t, const struct ward_kbs_evidence_source *ev,
		    struct ward_kbs_session *ret, struct ward_err *err)
{
	WARD_CLEANUP(ward_kbs_session_clear) struct ward_kbs_session s = {0};
	WARD_AUTOJSON json_t *req = NULL, *chal = NULL, *jwk = NULL, *evidence = NULL, *att = NULL,
			     *resp = NULL;
	WARD_AUTOFREE char *cookie2 = NULL;
	const char *nonce, *token;
	uint8_t rd[64];
	int r;

	req = json_pack("{s:s, s:s, s:s}", "version", "0.1.0", "tee", ward_tee_name(ev->tee),
			"extra-params", "");
	if (!req)
		return ward_err_set(err, -ENOMEM, "out of memory");
	/* The coordinator may still be starting, or briefly unreachable: retry
	 * transport failures (never refusals) a bounded number of times. */
	kbs_trace("begin");
	for (unsigned attempt = 1;; attempt++) {
		r = call(t, "POST", "/kbs/v0/auth", NULL, NULL, req, &chal, &s.cookie, err);
		if (r >= 0 || r == -WARD_E_POLICY || r == -WARD_E_NOT_FOUND || r == -EPROTO ||
		    r == -WARD_E_MALFORMED || r == -ENOMEM || attempt >= WARD_KBS_RETRIES)
			break;
		ward_debug("KBS auth attempt %u failed (%s); retrying", attempt, err->msg);
		usleep(WARD_KBS_RETRY_BASE_MS * 1000u << (attempt - 1));
	}
	if (r < 0)
		return ward_err_prefix(err, "coordinator unreachable or failing after %u attempts",
				       WARD_KBS_RETRIES);
	nonce = json_string_value(json_object_get(chal, "nonce"));
	if (!nonce || !nonce[0] || strlen(nonce) > 512)
		return ward_err_set(err, -WARD_E_MALFORMED, "KBS challenge without a nonce");
	if (!s.cookie)
		return ward_err_set(err, -WARD_E_MALFORMED,
				    "KBS challenge without a session cookie");

	/* the key that receives every secret: generated here, never leaves */
	r = ward_pkey_generate(WARD_KEY_EC_P256, 0, &s.key, err);
	if (r < 0)
		return ward_err_prefix(err, "TEE key");
	r = ward_jwk_export_public(s.key, &jwk, err);
	if (r < 0)
		return r;
	if (json_object_set_new(jwk, "alg", json_string("ECDH-ES+A256KW")) < 0)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_kbs_runtime_data_hash(nonce, jwk, rd, err);
	if (r < 0)
		return r;
	kbs_trace("TEE key generated");
	r = ev->collect(ev->ctx, rd, &evidence, err);
	if (r < 0)
		return ward_err_prefix(err, "%s evidence", ward_tee_name(ev->tee));
	kbs_trace("%s evidence collected", ward_tee_name(ev->tee));
	att = json_pack("{s:{s:s, s:O}, s:O}", "runtime-data", "nonce", nonce, "tee-pubkey", jwk,
			"tee-evidence", evidence);
	if (!att)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = call(t, "POST", "/kbs/v0/attest", s.cookie, NULL, att, &resp, &cookie2, err);
	if (r < 0)
		return r;
	token = json_string_value(json_object_get(resp, "token"));
	if (!token || !token[0])
		return ward_err_set(err, -WARD_E_MALFORMED, "KBS attest reply without a token");
	s.token = strdup(token);
	if (!s.token)
		return ward_err_set(err, -ENOMEM, "out of memory");
	if (cookie2) {
		free(s.cookie);
		s.cookie = WARD_TAKE_PTR(cookie2);
	}
	*ret = s;
	s = (struct ward_kbs_session){0};
	return 0;
}

int ward_kbs_resource(const struct ward_kbs_transport *t, const struct ward_kbs_session *s,
		      const char *path, struct ward_secret **ret, struct ward_err *err)
{
	WARD_AUTOJSON json_t *jwe = NULL;
	char url[512];
	int r;

	if (strlen(path) > 300 || strstr(path, "..") || path[0] == '/')
		return ward_err_set(err, -WARD_E_USAGE, "bad resource path '%.40s'", path);
	snprintf(url, sizeof(url), "/kbs/v0/resource/%s", path);
	r = call(t, "GET", url, s->cookie, s->token, NULL, &jwe, NULL, err);
	if (r < 0)
		return r;
	r = ward_jwe_decrypt(s->key, jwe, ret, err);
	if (r < 0)
		return ward_err_prefix(err, "resource %s", path);
	kbs_trace("resource %s decrypted", path);
	return 0;
}

int ward_kbs_tls_bundle(const struct ward_kbs_session *s, const void *cert_json, size_t size,
			struct ward_secret **ret, struct ward_err *err)
{
	WARD_AUTOJSON json_t *j = NULL, *out = NULL;
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *key = NULL;
	WARD_AUTOFREE char *k64 = NULL, *c64 = NULL, *a64 = NULL, *text = NULL;
	const char *cert, *ca;
	int r;

	r = ward_json_parse(cert_json, size, KBS_BODY_MAX, &j, err);
	if (r < 0)
		return ward_err_prefix(err, "workload certificate");
	if (!json_is_object(j) ||
	    (r = ward_json_get_string(j, "$", "cert", true, &cert, err)) < 0 ||
	    (r = ward_json_get_string(j, "$", "ca", true, &ca, err)) < 0)
		return r < 0 ? ward_err_prefix(err, "workload certificate")
			     : ward_err_set(err, -WARD_E_MALFORMED,
					    "workload certificate: not an object");
	r = ward_pkey_private_pem(s->key, &key, err);
	if (r < 0)
		return r;
	k64 = ward_base64_encode_alloc(key->data, key->size);
	c64 = ward_base64_encode_alloc(cert, strlen(cert));
	a64 = ward_base64_encode_alloc(ca, strlen(ca));
	if (!k64 || !c64 || !a64)
		return ward_err_set(err, -ENOMEM, "out of memory");
	/* the key for the app user only; the certificates readable by all */
	out = json_pack("{s:{s:s}, s:{s:s, s:s}}", "files", WARD_TLS_DIR "/tls.key", k64,
			"public_files", WARD_TLS_DIR "/tls.crt", c64, WARD_TLS_DIR "/ca.crt", a64);
	ward_wipe(k64, strlen(k64));
	if (!out)
		return ward_err_set(err, -ENOMEM, "out of memory");
	r = ward_json_dump(out, &text, err);
	json_decref(WARD_TAKE_PTR(out)); /* holds the key: drop it now */
	if (r < 0)
		return r;
	*ret = ward_secret_dup(text, strlen(text));
	ward_wipe(text, strlen(text));
	return *ret ? 0 : ward_err_set(err, -ENOMEM, "out of memory");
}

static int strv_add(char ***v, size_t *n, const char *s, size_t len)
{
	char **nv = reallocarray(*v, *n + 2, sizeof(char *));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strndup(s, len);
	if (!nv[*n])
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

static void strv_freep(char ***v)
{
	ward_agent_strv_free(*v);
}

/* Write one bundle file beneath rootfd, creating its parents. */
static int write_file(int rootfd, const char *abs, const uint8_t *data, size_t size, uid_t uid,
		      gid_t gid, mode_t mode, struct ward_err *err)
{
	char rel[WARD_PATH_MAX + 1], parent[WARD_PATH_MAX + 1];
	WARD_AUTOCLOSE int fd = -1;
	char *slash;
	int r;

	if (abs[0] != '/' || strlen(abs) > WARD_PATH_MAX || !ward_path_is_safe_relative(abs + 1))
		return ward_err_set(err, -WARD_E_MALFORMED, "bundle file '%.80s': bad path", abs);
	snprintf(rel, sizeof(rel), "%s", abs + 1);
	snprintf(parent, sizeof(parent), "%s", rel);
	slash = strrchr(parent, '/');
	if (slash) {
		*slash = 0;
		r = ward_mkdirat_beneath(rootfd, parent, 0755, err);
		if (r < 0)
			return ward_err_prefix(err, "bundle file '%s'", abs);
	}
	/* replace whatever the image had there (a symlink is not followed) */
	fd = ward_open_in_root(rootfd, slash ? parent : ".", O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return ward_err_errno(err, fd, "bundle file '%s'", abs);
	{
		const char *base = slash ? slash + 1 : rel;
		WARD_AUTOCLOSE int ffd = -1;

		if (unlinkat(fd, base, 0) < 0 && errno != ENOENT)
			return ward_err_errno(err, -errno, "bundle file '%s'", abs);
		ffd = openat(fd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
		if (ffd < 0)
			return ward_err_errno(err, -errno, "bundle file '%s'", abs);
		r = ward_fd_write_all(ffd, data, size, err);
		if (r < 0)
			return ward_err_prefix(err, "bundle file '%s'", abs);
		if (fchown(ffd, uid, gid) < 0 || fchmod(ffd, mode) < 0)
			return ward_err_errno(err, -errno, "bundle file '%s'", abs);
	}
	return 0;
}

int ward_agent_bundle_apply(const void *bundle, size_t size, int rootfd, uid_t uid, gid_t gid,
			    char ***ret_argv, size_t *ret_argc, char ***ret_env, size_t *ret_envc,
			    struct ward_err *err)
{
	WARD_AUTOJSON json_t *j = NULL;
	WARD_CLEANUP(strv_freep) char **argv = NULL, **env = NULL;
	json_t *a = NULL, *e = NULL, *f = NULL, *pub = NULL, *v;
	size_t argc = 0, envc = 0, i;
	const char *k;
	int r;

	r = ward_json_parse(bundle, size, 16u << 20, &j, err);
	if (r < 0)
		return ward_err_prefix(err, "workload bundle");
	if (!json_is_object(j))
		return ward_err_set(err, -WARD_E_MALFORMED, "workload bundle: not an object");
	if ((r = ward_json_get_array(j, "$", "argv", false, BUNDLE_MAX_ITEMS, &a, err)) < 0 ||
	    (r = ward_json_get_object(j, "$", "env", false, &e, err)) < 0 ||
	    (r = ward_json_get_object(j, "$", "files", false, &f, err)) < 0 ||
	    (r = ward_json_get_object(j, "$", "public_files", false, &pub, err)) < 0)
		return ward_err_prefix(err, "workload bundle");
	if (a)
		json_array_foreach(a, i, v)
		{
			if (!json_is_string(v))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "workload bundle: $.argv[%zu]: not a string",
						    i);
			if (strv_add(&argv, &argc, json_string_value(v), json_string_length(v)) < 0)
				return ward_err_set(err, -ENOMEM, "out of memory");
		}
	if (e)
		json_object_foreach(e, k, v)
		{
			WARD_AUTOFREE char *kv = NULL;

			if (!json_is_string(v) || !k[0] || strchr(k, '='))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "workload bundle: $.env.%.40s: bad entry", k);
			if (asprintf(&kv, "%s=%s", k, json_string_value(v)) < 0) {
				kv = NULL;
				return ward_err_set(err, -ENOMEM, "out of memory");
			}
			r = strv_add(&env, &envc, kv, strlen(kv));
			ward_wipe(kv, strlen(kv));
			if (r < 0)
				return ward_err_set(err, -ENOMEM, "out of memory");
		}
	for (int pass = 0; pass < 2; pass++) {
		json_t *files = pass == 0 ? f : pub;

		if (!files)
			continue;
		json_object_foreach(files, k, v)
		{
			WARD_AUTOFREE uint8_t *data = NULL;
			size_t dsize = 0;

			if (!json_is_string(v))
				return ward_err_set(
				    err, -WARD_E_MALFORMED,
				    "workload bundle: $.files[\"%.60s\"]: not a string", k);
			r = ward_base64_decode(json_string_value(v), json_string_length(v), &data,
					       &dsize, err);
			if (r < 0)
				return ward_err_prefix(err, "workload bundle: file '%.60s'", k);
			r = write_file(rootfd, k, data, dsize, uid, gid, pass == 0 ? 0400 : 0444,
				       err);
			ward_wipe(data, dsize);
			if (r < 0)
				return r;
		}
	}
	*ret_argv = WARD_TAKE_PTR(argv);
	*ret_argc = argc;
	*ret_env = WARD_TAKE_PTR(env);
	*ret_envc = envc;
	return 0;
}
