/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ward/cleanup.h"
#include "ward/http.h"

#define MAX_LISTENERS 4

struct listener {
	struct ward_http_server *srv;
	struct evhttp *http;	  /* owned */
	struct ward_tls_ctx *tls; /* borrowed */
	ward_http_handler_fn fn;
	void *ud;
};

struct ward_http_server {
	struct event_base *base; /* owned */
	struct event *stop_ev;	 /* owned: manual stop from other threads */
	struct event *sig_ev[2]; /* owned */
	struct listener listeners[MAX_LISTENERS];
	size_t listener_count;
};

struct ward_http_req {
	struct evhttp_request *ev; /* borrowed from libevent */
	struct evkeyvalq query;
	bool query_parsed;
	char *path;	    /* owned, decoded */
	uint8_t *body_copy; /* owned: contiguous copy when the buffer is chained */
	char peer[64];
};

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ward_http_server *srv = arg;

	(void)fd;
	(void)what;
	(void)event_base_loopexit(srv->base, NULL);
}

int ward_http_server_new(struct ward_http_server **ret, struct ward_err *err)
{
	static bool threads_ready;
	struct ward_http_server *srv;

	if (!threads_ready) {
		if (evthread_use_pthreads() != 0)
			return ward_err_set(err, -WARD_E_STATE,
					    "http: libevent threads unavailable");
		threads_ready = true;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return ward_err_set(err, -ENOMEM, "http: out of memory");
	srv->base = event_base_new();
	if (!srv->base) {
		free(srv);
		return ward_err_set(err, -ENOMEM, "http: cannot create event loop");
	}
	srv->stop_ev = event_new(srv->base, -1, 0, stop_cb, srv);
	if (!srv->stop_ev) {
		ward_http_server_free(srv);
		return ward_err_set(err, -ENOMEM, "http: cannot create stop event");
	}
	*ret = srv;
	return 0;
}

struct ward_http_server *ward_http_server_free(struct ward_http_server *srv)
{
	if (!srv)
		return NULL;
	for (size_t i = 0; i < srv->listener_count; i++)
		evhttp_free(srv->listeners[i].http);
	for (size_t i = 0; i < 2; i++)
		if (srv->sig_ev[i])
			event_free(srv->sig_ev[i]);
	if (srv->stop_ev)
		event_free(srv->stop_ev);
	event_base_free(srv->base);
	free(srv);
	return NULL;
}

static struct bufferevent *bev_tls(struct event_base *base, void *arg)
{
	struct listener *l = arg;
	void *ssl = ward_tls_server_ssl_new(l->tls);

	if (!ssl)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					      BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
}

static void dispatch(struct evhttp_request *ev, void *arg)
{
	struct listener *l = arg;
	struct ward_http_req *req = calloc(1, sizeof(*req));

	if (!req) {
		evhttp_send_error(ev, 503, "out of memory");
		return;
	}
	req->ev = ev;
	{
		/* Replies go out as several TLS records: without TCP_NODELAY
		 * Nagle holds the last one for the client's delayed ACK. */
		struct evhttp_connection *conn = evhttp_request_get_connection(ev);
		struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
		evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
		int one = 1;

		if (fd >= 0)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	l->fn(req, l->ud);
}

int ward_http_server_listen(struct ward_http_server *srv, const char *addr, uint16_t port,
			    struct ward_tls_ctx *tls, size_t max_body, ward_http_handler_fn fn,
			    void *ud, uint16_t *ret_port, struct ward_err *err)
{
	struct listener *l;
	struct evhttp_bound_socket *sock;

	if (srv->listener_count >= MAX_LISTENERS)
		return ward_err_set(err, -WARD_E_TOO_BIG, "http: too many listeners");
	l = &srv->listeners[srv->listener_count];
	*l = (struct listener){.srv = srv, .tls = tls, .fn = fn, .ud = ud};
	l->http = evhttp_new(srv->base);
	if (!l->http)
		return ward_err_set(err, -ENOMEM, "http: cannot create server");
	evhttp_set_max_body_size(l->http, (ev_ssize_t)max_body);
	evhttp_set_max_headers_size(l->http, WARD_HTTP_HEADERS_MAX);
	evhttp_set_timeout(l->http, 30);
	evhttp_set_allowed_methods(l->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
						EVHTTP_REQ_DELETE);
	evhttp_set_gencb(l->http, dispatch, l);
	if (tls)
		evhttp_set_bevcb(l->http, bev_tls, l);
	sock = evhttp_bind_socket_with_handle(l->http, addr, port);
	if (!sock) {
		int e = errno ? errno : EADDRINUSE;

		evhttp_free(l->http);
		l->http = NULL;
		return ward_err_errno(err, -e, "http: cannot listen on %s:%u", addr, port);
	}
	if (ret_port) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		evutil_socket_t fd = evhttp_bound_socket_get_fd(sock);

		*ret_port = port;
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
			if (ss.ss_family == AF_INET)
				*ret_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
			else if (ss.ss_family == AF_INET6)
				*ret_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		}
	}
	srv->listener_count++;
	return 0;
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct ward_http_server *srv = arg;

	(void)what;
	(void)sig;
	(void)event_base_loopexit(srv->base, NULL);
}

int ward_http_server_run(struct ward_http_server *srv, bool stop_on_signals, struct ward_err *err)
{
	if (stop_on_signals) {
		int sigs[2] = {SIGINT, SIGTERM};

		for (size_t i = 0; i < 2; i++) {
			if (!srv->sig_ev[i])
				srv->sig_ev[i] = evsignal_new(srv->base, sigs[i], signal_cb, srv);
			if (!srv->sig_ev[i] || event_add(srv->sig_ev[i], NULL) != 0)
				return ward_err_set(err, -ENOMEM, "http: cannot watch signals");
		}
	}
	if (event_base_dispatch(srv->base) < 0)
		return ward_err_set(err, -EIO, "http: event loop failed");
	return 0;
}

void ward_http_server_stop(struct ward_http_server *srv)
{
	event_active(srv->stop_ev, EV_READ, 0);
}

const char *ward_http_req_method(const struct ward_http_req *req)
{
	switch (evhttp_request_get_command(req->ev)) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	default:
		return "OTHER";
	}
}

const char *ward_http_req_path(struct ward_http_req *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req->ev);
	const char *p;

	if (req->path)
		return req->path;
	p = uri ? evhttp_uri_get_path(uri) : NULL;
	if (!p)
		return NULL;
	/* Decoding must not turn "%2F" into a path separator or produce NUL. */
	if (strstr(p, "%2f") || strstr(p, "%2F") || strstr(p, "%00"))
		return NULL;
	req->path = evhttp_uridecode(p, 0, NULL);
	return req->path;
}

const char *ward_http_req_query(struct ward_http_req *req, const char *name)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req->ev);

	if (!req->query_parsed) {
		const char *q = uri ? evhttp_uri_get_query(uri) : NULL;

		TAILQ_INIT(&req->query);
		if (q && evhttp_parse_query_str(q, &req->query) != 0)
			evhttp_clear_headers(&req->query);
		req->query_parsed = true;
	}
	return evhttp_find_header(&req->query, name);
}

const char *ward_http_req_header(struct ward_http_req *req, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(req->ev), name);
}

bool ward_http_req_cookie(struct ward_http_req *req, const char *name, char *buf, size_t size)
{
	const char *h = ward_http_req_header(req, "Cookie");
	size_t nlen = strlen(name);

	while (h && *h) {
		const char *end;

		while (*h == ' ' || *h == ';')
			h++;
		end = strchr(h, ';');
		if (!end)
			end = h + strlen(h);
		if ((size_t)(end - h) > nlen && strncmp(h, name, nlen) == 0 && h[nlen] == '=') {
			size_t vlen = (size_t)(end - h) - nlen - 1;

			if (vlen + 1 > size)
				return false;
			memcpy(buf, h + nlen + 1, vlen);
			buf[vlen] = '\0';
			return true;
		}
		h = end;
	}
	return false;
}

const uint8_t *ward_http_req_body(struct ward_http_req *req, size_t *ret_size)
{
	struct evbuffer *b = evhttp_request_get_input_buffer(req->ev);
	size_t n = evbuffer_get_length(b);
	const uint8_t *p;

	*ret_size = n;
	if (n == 0)
		return (const uint8_t *)"";
	p = evbuffer_pullup(b, -1);
	return p;
}

const char *ward_http_req_peer(struct ward_http_req *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req->ev);
	const char *host = NULL;
	ev_uint16_t port = 0;

	if (conn)
		evhttp_connection_get_peer(conn, (char **)&host, &port);
	(void)snprintf(req->peer, sizeof(req->peer), "%s:%u", host ? host : "?", port);
	return req->peer;
}

void ward_http_reply(struct ward_http_req *req, int status, const char *content_type,
		     const void *body, size_t size, const char *const *headers)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req->ev);
	struct evbuffer *buf = evbuffer_new();

	if (content_type)
		(void)evhttp_add_header(out, "Content-Type", content_type);
	for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
		(void)evhttp_add_header(out, headers[i], headers[i + 1]);
	if (buf && size)
		(void)evbuffer_add(buf, body, size);
	evhttp_send_reply(req->ev, status, NULL, buf);
	if (buf)
		evbuffer_free(buf);
	if (req->query_parsed)
		evhttp_clear_headers(&req->query);
	free(req->path);
	free(req->body_copy);
	free(req);
}

struct ward_http_timer {
	struct event *ev; /* owned */
	void (*fn)(void *ud);
	void *ud;
};

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ward_http_timer *t = arg;

	(void)fd;
	(void)what;
	t->fn(t->ud);
}

int ward_http_timer_new(struct ward_http_server *srv, void (*fn)(void *ud), void *ud,
			struct ward_http_timer **ret, struct ward_err *err)
{
	struct ward_http_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return ward_err_set(err, -ENOMEM, "http: out of memory");
	t->fn = fn;
	t->ud = ud;
	t->ev = evtimer_new(srv->base, timer_cb, t);
	if (!t->ev) {
		free(t);
		return ward_err_set(err, -ENOMEM, "http: cannot create timer");
	}
	*ret = t;
	return 0;
}

void ward_http_timer_arm(struct ward_http_timer *t, unsigned usec)
{
	struct timeval tv = {.tv_sec = usec / 1000000, .tv_usec = usec % 1000000};

	(void)evtimer_add(t->ev, &tv);
}

struct ward_http_timer *ward_http_timer_free(struct ward_http_timer *t)
{
	if (!t)
		return NULL;
	event_free(t->ev);
	free(t);
	return NULL;
}

void ward_http_server_replace_tls(struct ward_http_server *srv, struct ward_tls_ctx *old_tls,
				  struct ward_tls_ctx *new_tls)
{
	for (size_t i = 0; i < srv->listener_count; i++)
		if (srv->listeners[i].tls == old_tls)
			srv->listeners[i].tls = new_tls;
}
