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
	unsigned loops;		 /* 0: default */
	ward_http_handler_fn fn; /* NULL: handler */
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
	if (r >= 0 && f->loops)
		r = ward_http_server_set_loops(f->srv, f->loops, err);
	if (r >= 0)
		r = ward_http_server_listen(f->srv, "127.0.0.1", 0, f->server_tls, 1024,
					    f->fn ? f->fn : handler, NULL, &f->port, err);
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

static unsigned g_loop_hits[WARD_HTTP_LOOPS_MAX];

static void loop_handler(struct ward_http_req *req, void *ud)
{
	unsigned loop = ward_http_req_loop(req);
	char out[16];
	int n = snprintf(out, sizeof(out), "%u", loop);

	(void)ud;
	__atomic_add_fetch(&g_loop_hits[loop % WARD_HTTP_LOOPS_MAX], 1, __ATOMIC_RELAXED);
	ward_http_reply(req, 200, "text/plain", out, (size_t)n, NULL);
}

struct timer_probe {
	pthread_t thread;
	int fired;
};

static void timer_probe_cb(void *ud)
{
	struct timer_probe *p = ud;

	p->thread = pthread_self();
	__atomic_store_n(&p->fired, 1, __ATOMIC_RELEASE);
}

WARD_TEST(https_two_loops)
{
	WARD_CLEANUP(fixture_stop) struct fixture f = {.loops = 2, .fn = loop_handler};
	WARD_CLEANUP(ward_tls_ctx_freep) struct ward_tls_ctx *ctls = NULL;
	WARD_CLEANUP(ward_http_timer_freep) struct ward_http_timer *t = NULL;
	struct ward_http_client *clients[16] = {0};
	struct ward_err err = WARD_ERR_INIT;
	struct timer_probe probe = {0};
	char url[64];

	CHECK_OK(fixture_start(&f, &err), &err);
	CHECK_INT(ward_http_server_loops(f.srv), ==, 2);
	/* A timer on loop 1 runs on loop 1's thread, not on loop 0's. */
	CHECK_OK(ward_http_timer_new_on(f.srv, 1, timer_probe_cb, &probe, &t, &err), &err);
	ward_http_timer_arm(t, 1000);
	for (int i = 0; i < 2000 && !__atomic_load_n(&probe.fired, __ATOMIC_ACQUIRE); i++)
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	CHECK(__atomic_load_n(&probe.fired, __ATOMIC_ACQUIRE));
	CHECK(!pthread_equal(probe.thread, f.thread));
	CHECK(!pthread_equal(probe.thread, pthread_self()));
	/* Connections are served by either loop, each keeping its own. */
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", f.port);
	CHECK_OK(ward_tls_client_new(f.cert, &ctls, &err), &err);
	for (size_t i = 0; i < 16; i++) {
		struct ward_http_response resp = {0};
		char first[16];

		CHECK_OK(ward_http_client_new(url, ctls, &clients[i], &err), &err);
		CHECK_OK(ward_http_request(clients[i], "GET", "/", NULL, NULL, 0, &resp, &err),
			 &err);
		CHECK_INT(resp.status, ==, 200);
		CHECK(strcmp((char *)resp.body, "0") == 0 || strcmp((char *)resp.body, "1") == 0);
		snprintf(first, sizeof(first), "%s", (char *)resp.body);
		ward_http_response_clear(&resp);
		CHECK_OK(ward_http_request(clients[i], "GET", "/", NULL, NULL, 0, &resp, &err),
			 &err);
		CHECK_STR((char *)resp.body, first);
		ward_http_response_clear(&resp);
	}
	CHECK_INT(__atomic_load_n(&g_loop_hits[0], __ATOMIC_RELAXED) +
		      __atomic_load_n(&g_loop_hits[1], __ATOMIC_RELAXED),
		  ==, 32);
	for (size_t i = 0; i < 16; i++)
		ward_http_client_free(clients[i]);
}

WARD_TEST(http_loops_errors)
{
	WARD_CLEANUP(ward_http_server_freep) struct ward_http_server *srv = NULL;
	WARD_CLEANUP(ward_http_timer_freep) struct ward_http_timer *t = NULL;
	struct ward_err err = WARD_ERR_INIT;

	CHECK_OK(ward_http_server_new(&srv, &err), &err);
	CHECK_INT(ward_http_server_loops(srv), ==, 1);
	CHECK_ERR(ward_http_server_set_loops(srv, 0, &err), -WARD_E_USAGE);
	CHECK_ERR(ward_http_server_set_loops(srv, WARD_HTTP_LOOPS_MAX + 1, &err), -WARD_E_USAGE);
	CHECK_MSG(&err, "event loops");
	CHECK_ERR(ward_http_timer_new_on(srv, 1, timer_probe_cb, NULL, &t, &err), -WARD_E_USAGE);
	CHECK_MSG(&err, "no event loop 1");
	CHECK_OK(ward_http_server_set_loops(srv, 3, &err), &err);
	CHECK_INT(ward_http_server_loops(srv), ==, 3);
	CHECK_OK(ward_http_timer_new_on(srv, 2, timer_probe_cb, NULL, &t, &err), &err);
	CHECK_OK(ward_http_server_listen(srv, "127.0.0.1", 0, NULL, 1024, loop_handler, NULL, NULL,
					 &err),
		 &err);
	CHECK_ERR(ward_http_server_set_loops(srv, 4, &err), -WARD_E_USAGE);
	CHECK_MSG(&err, "before adding listeners");
}

WARD_TEST_MAIN()
