/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ward-test.h"
#include "ward/cleanup.h"
#include "ward/http.h"

struct fixture {
	struct ward_pkey *key;
	struct ward_x509 *cert;
	struct ward_tls_ctx *server_tls;
	struct ward_http_server *srv;
	uint16_t port;
	pthread_t thread;
	bool running;
};

static void handler(struct ward_http_req *req, void *ud)
{
	const char *path = ward_http_req_path(req);
	const char *q = ward_http_req_query(req, "x");
	char cookie[32], out[256];
	size_t size;
	const uint8_t *body = ward_http_req_body(req, &size);
	int n;

	(void)ud;
	if (!path) {
		ward_http_reply(req, 400, "text/plain", "bad path", 8, NULL);
		return;
	}
	if (!ward_http_req_cookie(req, "sid", cookie, sizeof(cookie)))
		strcpy(cookie, "-");
	n = snprintf(out, sizeof(out), "%s %s x=%s cookie=%s body=%zu:%.*s",
		     ward_http_req_method(req), path, q ? q : "-", cookie, size,
		     (int)WARD_MIN(size, 32), (const char *)body);
	ward_http_reply(req, strcmp(path, "/missing") == 0 ? 404 : 200, "text/plain", out,
			(size_t)n, (const char *const[]){"Set-Cookie", "sid=abc; Path=/", NULL});
}

static void *run_thread(void *arg)
{
	struct fixture *f = arg;
	struct ward_err err = WARD_ERR_INIT;

	(void)ward_http_server_run(f->srv, false, &err);
	return NULL;
}

static int fixture_start(struct fixture *f, struct ward_err *err)
{
	time_t now = time(NULL);
	struct ward_x509_template t = {.subject = "CN=test",
				       .not_before = now - 60,
				       .not_after = now + 3600,
				       .path_len = -1,
				       .key_usage = WARD_KU_DIGITAL_SIGNATURE,
				       .ext_key_usage = WARD_EKU_SERVER_AUTH,
				       .ip_addresses = (const char *const[]){"127.0.0.1"},
				       .ip_count = 1};
	int r;

	signal(SIGPIPE, SIG_IGN);
	r = ward_pkey_generate(WARD_KEY_EC_P256, 0, &f->key, err);
	if (r >= 0)
		r = ward_x509_create(&t, f->key, NULL, f->key, WARD_SIG_ECDSA_SHA256, &f->cert,
				     err);
	if (r >= 0)
		r = ward_tls_server_new(f->key, f->cert, NULL, 0, &f->server_tls, err);
	if (r >= 0)
		r = ward_http_server_new(&f->srv, err);
	if (r >= 0)
		r = ward_http_server_listen(f->srv, "127.0.0.1", 0, f->server_tls, 1024, handler,
					    NULL, &f->port, err);
	if (r < 0)
		return r;
	if (pthread_create(&f->thread, NULL, run_thread, f) != 0)
		return -EAGAIN;
	f->running = true;
	return 0;
}

static void fixture_stop(struct fixture *f)
{
	if (f->running) {
		ward_http_server_stop(f->srv);
		pthread_join(f->thread, NULL);
	}
	ward_http_server_free(f->srv);
	ward_tls_ctx_free(f->server_tls);
	ward_x509_free(f->cert);
	ward_pkey_free(f->key);
}

WARD_TEST(https_roundtrip_keepalive_and_pin)
{
	WARD_CLEANUP(fixture_stop) struct fixture f = {0};
	WARD_CLEANUP(ward_tls_ctx_freep) struct ward_tls_ctx *ctls = NULL;
	WARD_CLEANUP(ward_http_client_freep) struct ward_http_client *c = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *peer = NULL;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_http_response resp = {0};
	char url[64];

	CHECK_OK(fixture_start(&f, &err), &err);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", f.port);
	CHECK_OK(ward_tls_client_new(f.cert, &ctls, &err), &err);
	CHECK_OK(ward_http_client_new(url, ctls, &c, &err), &err);
	CHECK_OK(ward_http_client_peer_cert(c, &peer, &err), &err);
	CHECK_OK(ward_http_request(c, "POST", "/a%20b?x=1%262",
				   (const char *const[]){"Cookie", "z=1; sid=s1", NULL}, "hello", 5,
				   &resp, &err),
		 &err);
	CHECK_INT(resp.status, ==, 200);
	CHECK_STR((char *)resp.body, "POST /a b x=1&2 cookie=s1 body=5:hello");
	CHECK_STR(resp.set_cookie, "sid=abc; Path=/");
	ward_http_response_clear(&resp);
	for (int i = 0; i < 20; i++) {
		CHECK_OK(ward_http_request(c, "GET", "/missing", NULL, NULL, 0, &resp, &err), &err);
		CHECK_INT(resp.status, ==, 404);
		ward_http_response_clear(&resp);
	}
	/* Body over the limit: 413 */
	{
		WARD_AUTOFREE char *big = calloc(1, 4096);

		CHECK_OK(ward_http_request(c, "POST", "/x", NULL, big, 4096, &resp, &err), &err);
		CHECK_INT(resp.status, ==, 413);
		ward_http_response_clear(&resp);
	}
	/* encoded slash refused */
	CHECK_OK(ward_http_request(c, "GET", "/a%2fb", NULL, NULL, 0, &resp, &err), &err);
	CHECK_INT(resp.status, ==, 400);
	ward_http_response_clear(&resp);
}

WARD_TEST(pin_mismatch_refused)
{
	WARD_CLEANUP(fixture_stop) struct fixture f = {0};
	WARD_CLEANUP(ward_pkey_freep) struct ward_pkey *other = NULL;
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *other_cert = NULL;
	WARD_CLEANUP(ward_tls_ctx_freep) struct ward_tls_ctx *ctls = NULL;
	WARD_CLEANUP(ward_http_client_freep) struct ward_http_client *c = NULL;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_http_response resp = {0};
	time_t now = time(NULL);
	struct ward_x509_template t = {
	    .subject = "CN=other", .not_before = now - 60, .not_after = now + 3600, .path_len = -1};
	char url[64];

	CHECK_OK(fixture_start(&f, &err), &err);
	CHECK_OK(ward_pkey_generate(WARD_KEY_EC_P256, 0, &other, &err), &err);
	CHECK_OK(ward_x509_create(&t, other, NULL, other, WARD_SIG_ECDSA_SHA256, &other_cert, &err),
		 &err);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", f.port);
	CHECK_OK(ward_tls_client_new(other_cert, &ctls, &err), &err);
	CHECK_OK(ward_http_client_new(url, ctls, &c, &err), &err);
	CHECK_ERR(ward_http_request(c, "GET", "/", NULL, NULL, 0, &resp, &err), -WARD_E_VERIFY);
	CHECK_MSG(&err, "not the pinned one");
}

WARD_TEST(pin_is_the_key_not_the_certificate)
{
	WARD_CLEANUP(fixture_stop) struct fixture f = {0};
	WARD_CLEANUP(ward_x509_freep) struct ward_x509 *reissued = NULL;
	WARD_CLEANUP(ward_tls_ctx_freep) struct ward_tls_ctx *ctls = NULL;
	WARD_CLEANUP(ward_http_client_freep) struct ward_http_client *c = NULL;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_http_response resp = {0};
	time_t now = time(NULL);
	struct ward_x509_template t = {.subject = "CN=renamed",
				       .not_before = now - 60,
				       .not_after = now + 3600,
				       .path_len = -1};
	char url[64];

	CHECK_OK(fixture_start(&f, &err), &err);
	/* Another certificate for the same key: the pin still matches. */
	CHECK_OK(ward_x509_create(&t, f.key, NULL, f.key, WARD_SIG_ECDSA_SHA256, &reissued, &err),
		 &err);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", f.port);
	CHECK_OK(ward_tls_client_new(reissued, &ctls, &err), &err);
	CHECK_OK(ward_http_client_new(url, ctls, &c, &err), &err);
	CHECK_OK(ward_http_request(c, "GET", "/", NULL, NULL, 0, &resp, &err), &err);
	CHECK_INT(resp.status, ==, 200);
	ward_http_response_clear(&resp);
}

WARD_TEST(client_errors)
{
	WARD_CLEANUP(ward_http_client_freep) struct ward_http_client *c = NULL;
	struct ward_err err = WARD_ERR_INIT;
	struct ward_http_response resp = {0};

	CHECK_ERR(ward_http_client_new("ftp://x", NULL, &c, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_http_client_new("nonsense", NULL, &c, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_http_client_new("https://127.0.0.1:1", NULL, &c, &err), -WARD_E_USAGE);
	CHECK_MSG(&err, "needs a TLS context");
	CHECK_OK(ward_http_client_new("http://127.0.0.1:1", NULL, &c, &err), &err);
	CHECK_ERR(ward_http_request(c, "GET", "/", NULL, NULL, 0, &resp, &err), -ECONNREFUSED);
	CHECK_MSG(&err, "127.0.0.1:1");
}

WARD_TEST_MAIN()
