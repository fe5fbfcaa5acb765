/* SPDX-License-Identifier: Apache-2.0 */
/* The KBS client against a fake coordinator transport that checks what a
 * real one checks: the session cookie, the nonce, the report-data binding
 * of nonce and tee-pubkey, the bearer token; resources come back as JWEs
 * to the attested key. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ward-test.h"
#include "ward/agent.h"
#include "ward/cleanup.h"
#include "ward/crypto.h"
#include "ward/encoding.h"
#include "ward/file.h"
#include "ward/jose.h"
#include "ward/json.h"

struct fake {
	uint8_t seen_rd[64];
	struct ward_pkey *tee_key; /* from the attest body */
	int refuse_attest;	   /* 0, or the HTTP status to answer */
	bool bad_binding;	   /* the evidence binds something else */
	int calls;
};

static int reply(json_t *j, int status, int *ret_status, uint8_t **ret_body, size_t *ret_size)
{
	char *t = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	*ret_status = status;
	*ret_body = (uint8_t *)t;
	*ret_size = strlen(t);
	return 0;
}

static int fake_request(void *ctx, const char *method, const char *path, const char *cookie,
			const char *bearer, const void *body, size_t body_size, int *ret_status,
			uint8_t **ret_body, size_t *ret_size, char **ret_set_cookie,
			struct ward_err *err)
{
	struct fake *f = ctx;
	json_t *b = NULL;

	f->calls++;
	if (body)
		b = json_loadb(body, body_size, 0, NULL);
	if (strcmp(path, "/kbs/v0/auth") == 0) {
		bool ok = strcmp(method, "POST") == 0 &&
			  strcmp(json_string_value(json_object_get(b, "tee")), "sim") == 0 &&
			  strncmp(json_string_value(json_object_get(b, "version")), "0.", 2) == 0;
		json_decref(b);
		if (ret_set_cookie)
			*ret_set_cookie = strdup("kbs-session-id=S1");
		return reply(ok ? json_pack("{s:s, s:s}", "nonce", "n0nce", "extra-params", "")
				: json_pack("{s:s}", "detail", "bad request"),
			     ok ? 200 : 400, ret_status, ret_body, ret_size);
	}
	if (strcmp(path, "/kbs/v0/attest") == 0) {
		uint8_t want[64];
		json_t *rt = json_object_get(b, "runtime-data");
		json_t *jwk = json_object_get(rt, "tee-pubkey");
		struct ward_err e2 = WARD_ERR_INIT;
		int status = 200;
		const char *detail = NULL;

		if (!cookie || strcmp(cookie, "kbs-session-id=S1") != 0)
			status = 401, detail = "no session";
		else if (strcmp(json_string_value(json_object_get(rt, "nonce")), "n0nce") != 0)
			status = 401, detail = "wrong nonce";
		else if (ward_kbs_runtime_data_hash("n0nce", jwk, want, &e2) < 0 ||
			 memcmp(want, f->seen_rd, 64) != 0 ||
			 strcmp(json_string_value(
				    json_object_get(json_object_get(b, "tee-evidence"), "report")),
				"cmVwb3J0") != 0)
			status = 401, detail = "report data does not bind the nonce and tee-pubkey";
		else if (f->refuse_attest)
			status = f->refuse_attest, detail = "measurement not in the manifest";
		else if (ward_jwk_import(jwk, &f->tee_key, &e2) < 0)
			status = 400, detail = "bad jwk";
		json_decref(b);
		if (status != 200)
			return reply(json_pack("{s:s}", "detail", detail), status, ret_status,
				     ret_body, ret_size);
		return reply(json_pack("{s:s}", "token", "T0KEN"), 200, ret_status, ret_body,
			     ret_size);
	}
	json_decref(b);
	if (strncmp(path, "/kbs/v0/resource/", 17) == 0) {
		json_t *jwe = NULL;
		const char *secret =
		    strcmp(path + 17, "ward/bundle/web") == 0
			? "{\"argv\":[\"--requirepass\",\"pw\"],\"env\":{\"K\":\"V\"},"
			  "\"files\":{\"/etc/app/key.pem\":\"c2VjcmV0\"}}"
			: NULL;

		if (!bearer || strcmp(bearer, "T0KEN") != 0)
			return reply(json_pack("{s:s}", "detail", "token"), 401, ret_status,
				     ret_body, ret_size);
		if (!secret)
			return reply(json_pack("{s:s}", "detail", "no such resource"), 404,
				     ret_status, ret_body, ret_size);
		if (ward_jwe_encrypt(f->tee_key, WARD_JWE_ECDH_ES_A256KW, secret, strlen(secret),
				     &jwe, err) < 0)
			return -1;
		return reply(jwe, 200, ret_status, ret_body, ret_size);
	}
	return ward_err_set(err, -ECONNREFUSED, "connection refused");
}

static int unreachable(void *ctx, const char *method, const char *path, const char *cookie,
		       const char *bearer, const void *body, size_t body_size, int *ret_status,
		       uint8_t **ret_body, size_t *ret_size, char **ret_set_cookie,
		       struct ward_err *err)
{
	((struct fake *)ctx)->calls++;
	return ward_err_set(err, -ECONNREFUSED, "connect 127.0.0.1:1: Connection refused");
}

static int fake_evidence(void *ctx, const uint8_t rd[64], json_t **ret, struct ward_err *err)
{
	struct fake *f = ctx;

	memcpy(f->seen_rd, rd, 64);
	if (f->bad_binding)
		f->seen_rd[0] ^= 1;
	*ret = json_pack("{s:s, s:s}", "report", "cmVwb3J0", "cert_table", "");
	return *ret ? 0 : ward_err_set(err, -ENOMEM, "oom");
}

WARD_TEST(kbs_attest_and_resources)
{
	struct ward_err err = WARD_ERR_INIT;
	struct fake f = {0};
	struct ward_kbs_transport t = {fake_request, &f};
	struct ward_kbs_evidence_source ev = {WARD_TEE_SIM, fake_evidence, &f};
	struct ward_kbs_session s = {0};
	WARD_CLEANUP(ward_secret_freep) struct ward_secret *bundle = NULL;
	struct ward_secret *none = NULL;

	CHECK_OK(ward_kbs_attest(&t, &ev, &s, &err), &err);
	CHECK(s.key && ward_pkey_is_private(s.key));
	CHECK_STR(s.token, "T0KEN");
	CHECK_OK(ward_kbs_resource(&t, &s, "ward/bundle/web", &bundle, &err), &err);
	CHECK(strstr((const char *)bundle->data, "requirepass") != NULL);
	CHECK_ERR(ward_kbs_resource(&t, &s, "ward/bundle/other", &none, &err), -WARD_E_NOT_FOUND);
	CHECK_MSG(&err, "no such resource");
	CHECK_ERR(ward_kbs_resource(&t, &s, "../x", &none, &err), -WARD_E_USAGE);

	/* the TLS identity files: the session key and the coordinator's cert */
	{
		const char *cj = "{\"cert\":\"-----BEGIN CERTIFICATE-----\\nX\\n\",\"ca\":\"CA\"}";
		WARD_CLEANUP(ward_secret_freep) struct ward_secret *tb = NULL;
		WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *back = NULL;
		WARD_AUTOFREE uint8_t *pem = NULL;
		char dir[] = "/tmp/ward-tls-XXXXXX", path[128];
		char **a = NULL, **e = NULL;
		size_t na, ne, size;
		int fd;

		CHECK_OK(ward_kbs_tls_bundle(&s, cj, strlen(cj), &tb, &err), &err);
		CHECK(mkdtemp(dir));
		fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		CHECK_OK(ward_agent_bundle_apply(tb->data, tb->size, fd, geteuid(), getegid(), &a,
						 &na, &e, &ne, &err),
			 &err);
		close(fd);
		CHECK_INT(na, ==, 0);
		snprintf(path, sizeof(path), "%s%s/tls.key", dir, WARD_TLS_DIR);
		CHECK_OK(ward_file_read(path, 1 << 16, &pem, &size, &err), &err);
		CHECK_OK(ward_pkey_from_pem(pem, size, &back, &err), &err);
		CHECK(ward_pkey_public_eq(back, s.key));
		snprintf(path, sizeof(path), "%s%s/ca.crt", dir, WARD_TLS_DIR);
		CHECK_INT(access(path, R_OK), ==, 0);
		CHECK_OK(ward_rm_rf(dir, &err), &err);
		CHECK_ERR(ward_kbs_tls_bundle(&s, "{}", 2, &tb, &err), -WARD_E_MALFORMED);
	}
	ward_kbs_session_clear(&s);
	ward_pkey_free(f.tee_key);
	f.tee_key = NULL;
}

WARD_TEST(kbs_refusals)
{
	struct ward_err err = WARD_ERR_INIT;
	struct fake f = {.refuse_attest = 401};
	struct ward_kbs_transport t = {fake_request, &f};
	struct ward_kbs_evidence_source ev = {WARD_TEE_SIM, fake_evidence, &f};
	struct ward_kbs_session s = {0};

	CHECK_ERR(ward_kbs_attest(&t, &ev, &s, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "measurement not in the manifest");
	f.refuse_attest = 0;
	f.bad_binding = true;
	CHECK_ERR(ward_kbs_attest(&t, &ev, &s, &err), -WARD_E_POLICY);
	CHECK_MSG(&err, "does not bind");
	CHECK(s.key == NULL && s.token == NULL);
	/* unreachable: bounded retries, then a clear error */
	{
		struct fake dead = {0};
		struct ward_kbs_transport tdead = {unreachable, &dead};

		CHECK_ERR(ward_kbs_attest(&tdead, &ev, &s, &err), -ECONNREFUSED);
		CHECK_INT(dead.calls, ==, WARD_KBS_RETRIES);
		CHECK_MSG(&err, "unreachable");
	}
	/* another tee name: the fake refuses with 400 */
	ev.tee = WARD_TEE_SNP;
	f.bad_binding = false;
	CHECK_ERR(ward_kbs_attest(&t, &ev, &s, &err), -EPROTO);
	CHECK_MSG(&err, "400");
}

WARD_TEST(bundle_apply)
{
	struct ward_err err = WARD_ERR_INIT;
	char dir[] = "/tmp/ward-bundle-XXXXXX", path[128];
	char **argv = NULL, **env = NULL;
	size_t argc, envc;
	struct stat st;
	const char *b =
	    "{\"workload\":\"web\",\"argv\":[\"--requirepass\",\"pw\"],\"env\":{\"A\":\"1\"},"
	    "\"files\":{\"/etc/app/key.pem\":\"c2VjcmV0\",\"/top\":\"eA==\"},\"manifest\":\"h\"}";
	int fd;

	CHECK(mkdtemp(dir));
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_OK(ward_agent_bundle_apply(b, strlen(b), fd, geteuid(), getegid(), &argv, &argc, &env,
					 &envc, &err),
		 &err);
	CHECK_INT(argc, ==, 2);
	CHECK_STR(argv[1], "pw");
	CHECK_INT(envc, ==, 1);
	CHECK_STR(env[0], "A=1");
	ward_agent_strv_free(argv);
	ward_agent_strv_free(env);
	snprintf(path, sizeof(path), "%s/etc/app/key.pem", dir);
	CHECK_INT(stat(path, &st), ==, 0);
	CHECK_INT(st.st_mode & 0777, ==, 0400);
	CHECK_INT(st.st_size, ==, 6);
	const char *bad[] = {"{\"files\":{\"rel\":\"eA==\"}}",
			     "{\"files\":{\"/a/../b\":\"eA==\"}}",
			     "{\"files\":{\"/x\":1}}",
			     "{\"argv\":[1]}",
			     "{\"env\":{\"A=B\":\"1\"}}",
			     "{\"files\":{\"/x\":\"!!\"}}",
			     "[]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(ward_agent_bundle_apply(bad[i], strlen(bad[i]), fd, 0, 0, &argv, &argc, &env,
					      &envc, &err) < 0);
	close(fd);
	CHECK_OK(ward_rm_rf(dir, &err), &err);
}

WARD_TEST_MAIN()
