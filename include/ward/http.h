/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* HTTP/1.1 over TLS 1.3: a server on libevent's evhttp (one or more event
 * loops, any number of listeners, each HTTPS or plain HTTP) and a small blocking
 * client with keep-alive for the CLI, tests and the load generator. TLS
 * comes from ward/tls.h; this module includes no OpenSSL header. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ward/compiler.h"
#include "ward/crypto.h"
#include "ward/error.h"
#include "ward/tls.h"

#define WARD_HTTP_BODY_MAX (4u << 20)
#define WARD_HTTP_HEADERS_MAX (64u << 10)
#define WARD_HTTP_LOOPS_MAX 8

struct ward_http_server;
struct ward_http_req; /* one request, valid until it is answered */

typedef void (*ward_http_handler_fn)(struct ward_http_req *req, void *ud);

/* A server with its event loop. Nothing listens until a listener is added. */
WARD_PUBLIC int ward_http_server_new(struct ward_http_server **ret, struct ward_err *err);
WARD_PUBLIC struct ward_http_server *ward_http_server_free(struct ward_http_server *srv);
static inline void ward_http_server_freep(struct ward_http_server **s)
{
	ward_http_server_free(*s);
}
/* Serve with count event loops (1..WARD_HTTP_LOOPS_MAX; default 1), each on
 * its own thread while ward_http_server_run() runs. Call before adding
 * listeners. Every loop accepts from every listener and serves the
 * connections it accepted: handlers and timers of different loops run
 * concurrently, those of one loop one after another. */
WARD_PUBLIC int ward_http_server_set_loops(struct ward_http_server *srv, unsigned count,
					   struct ward_err *err);
WARD_PUBLIC unsigned ward_http_server_loops(const struct ward_http_server *srv);
/* Listen on addr:port ("127.0.0.1", 0 picks a port: see *ret_port, may be
 * NULL). tls (borrowed, must outlive the server) makes it HTTPS; NULL is
 * plain HTTP (for /metrics). Bodies above max_body are refused with 413. */
WARD_PUBLIC int ward_http_server_listen(struct ward_http_server *srv, const char *addr,
					uint16_t port, struct ward_tls_ctx *tls, size_t max_body,
					ward_http_handler_fn fn, void *ud, uint16_t *ret_port,
					struct ward_err *err);
/* Run until ward_http_server_stop() or, with stop_on_signals, SIGINT/SIGTERM
 * (then in-flight replies are flushed before returning: graceful). */
WARD_PUBLIC int ward_http_server_run(struct ward_http_server *srv, bool stop_on_signals,
				     struct ward_err *err);
/* Ask the loop to stop; safe from another thread. */
WARD_PUBLIC void ward_http_server_stop(struct ward_http_server *srv);

/* The loop (0..loops-1) serving req: its reply must be sent from there. */
WARD_PUBLIC unsigned ward_http_req_loop(const struct ward_http_req *req);
/* Request accessors; strings are borrowed from the request. */
WARD_PUBLIC const char *ward_http_req_method(const struct ward_http_req *req);
/* The URI path, percent-decoded ("/kbs/v0/auth"); NULL if undecodable. */
WARD_PUBLIC const char *ward_http_req_path(struct ward_http_req *req);
/* Query parameter name, or NULL. */
WARD_PUBLIC const char *ward_http_req_query(struct ward_http_req *req, const char *name);
WARD_PUBLIC const char *ward_http_req_header(struct ward_http_req *req, const char *name);
/* Value of cookie name from the Cookie header, copied into buf (size bytes
 * incl. NUL); false if absent or too long. */
WARD_PUBLIC bool ward_http_req_cookie(struct ward_http_req *req, const char *name, char *buf,
				      size_t size);
/* The body (borrowed, contiguous; NUL-terminated copy not guaranteed). */
WARD_PUBLIC const uint8_t *ward_http_req_body(struct ward_http_req *req, size_t *ret_size);
/* The peer address as "ip:port" (static per-request buffer). */
WARD_PUBLIC const char *ward_http_req_peer(struct ward_http_req *req);
/* Answer: status, Content-Type (may be NULL), body, extra headers as a
 * NULL-terminated list of name, value pairs (may be NULL). Consumes req. */
WARD_PUBLIC void ward_http_reply(struct ward_http_req *req, int status, const char *content_type,
				 const void *body, size_t size, const char *const *headers);

/* ---- client ---- */

struct ward_http_client;
struct ward_http_response {
	int status;
	uint8_t *body; /* owned, NUL-terminated (not counted) */
	size_t body_size;
	char *set_cookie;   /* owned: first Set-Cookie header value, or NULL */
	char *content_type; /* owned or NULL */
};
WARD_PUBLIC void ward_http_response_clear(struct ward_http_response *resp);

/* A client for base_url "https://host:port" or "http://host:port". tls is
 * borrowed (required for https). Connects lazily and keeps the connection. */
WARD_PUBLIC int ward_http_client_new(const char *base_url, struct ward_tls_ctx *tls,
				     struct ward_http_client **ret, struct ward_err *err);
WARD_PUBLIC struct ward_http_client *ward_http_client_free(struct ward_http_client *c);
static inline void ward_http_client_freep(struct ward_http_client **c)
{
	ward_http_client_free(*c);
}
/* Send one request (path includes any query) with extra headers (NULL-
 * terminated name, value pairs, may be NULL) and body (may be NULL/0).
 * Any HTTP status is a success here; resp->status tells. */
WARD_PUBLIC int ward_http_request(struct ward_http_client *c, const char *method, const char *path,
				  const char *const *headers, const void *body, size_t size,
				  struct ward_http_response *ret, struct ward_err *err);
/* The server's TLS certificate (connecting first if needed; new reference). */
WARD_PUBLIC int ward_http_client_peer_cert(struct ward_http_client *c, struct ward_x509 **ret,
					   struct ward_err *err);
/* "host:port" of the base URL (borrowed). */
WARD_PUBLIC const char *ward_http_client_authority(const struct ward_http_client *c);

/* A one-shot timer on the server's loop 0 (for group commit and the like). */
struct ward_http_timer;
WARD_PUBLIC int ward_http_timer_new(struct ward_http_server *srv, void (*fn)(void *ud), void *ud,
				    struct ward_http_timer **ret, struct ward_err *err);
/* The same on a given loop (fn then runs on that loop's thread). */
WARD_PUBLIC int ward_http_timer_new_on(struct ward_http_server *srv, unsigned loop,
				       void (*fn)(void *ud), void *ud, struct ward_http_timer **ret,
				       struct ward_err *err);
/* (Re)arm to fire once after usec microseconds. */
WARD_PUBLIC void ward_http_timer_arm(struct ward_http_timer *t, unsigned usec);
WARD_PUBLIC struct ward_http_timer *ward_http_timer_free(struct ward_http_timer *t);
static inline void ward_http_timer_freep(struct ward_http_timer **t)
{
	ward_http_timer_free(*t);
}

/* Present new_tls on every listener that used old_tls, for connections
 * made from now on (both borrowed; old_tls may be freed afterwards, also
 * while other loops run). */
WARD_PUBLIC void ward_http_server_replace_tls(struct ward_http_server *srv,
					      struct ward_tls_ctx *old_tls,
					      struct ward_tls_ctx *new_tls);
