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
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ward/cleanup.h"
#include "ward/http.h"

#define MAX_LISTENERS 4

struct listener;

/* One listener as served by one loop. */
struct listener_loop {
	struct listener *l;
	unsigned loop;
	struct evhttp *http; /* owned */
};

struct listener {
	struct ward_http_server *srv;
	struct listener_loop per_loop[WARD_HTTP_LOOPS_MAX];
	struct ward_tls_ctx *tls; /* borrowed; under srv->tls_lock */
	ward_http_handler_fn fn;
	void *ud;
};

struct ward_http_server {
	/* Loop 0 runs on the thread calling ward_http_server_run(); the
	 * others on threads of their own. Each accepts from every listening
	 * socket and serves the connections it accepted. */
	struct event_base *bases[WARD_HTTP_LOOPS_MAX]; /* owned */
	pthread_t threads[WARD_HTTP_LOOPS_MAX];
	unsigned loop_count;
	struct event_base *base; /* = bases[0] */
	struct event *stop_ev;	 /* owned: manual stop from other threads */
	struct event *sig_ev[2]; /* owned */
	pthread_mutex_t tls_lock;
	struct listener listeners[MAX_LISTENERS];
	size_t listener_count;
};

struct ward_http_req {
	struct evhttp_request *ev; /* borrowed from libevent */
	unsigned loop;
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
	pthread_mutex_init(&srv->tls_lock, NULL);
	srv->base = srv->bases[0] = event_base_new();
	srv->loop_count = 1;
	if (!srv->base) {
		pthread_mutex_destroy(&srv->tls_lock);
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
		for (unsigned j = 0; j < srv->loop_count; j++)
			if (srv->listeners[i].per_loop[j].http)
				evhttp_free(srv->listeners[i].per_loop[j].http);
	for (size_t i = 0; i < 2; i++)
		if (srv->sig_ev[i])
			event_free(srv->sig_ev[i]);
	if (srv->stop_ev)
		event_free(srv->stop_ev);
	for (unsigned j = 0; j < srv->loop_count; j++)
		event_base_free(srv->bases[j]);
	pthread_mutex_destroy(&srv->tls_lock);
	free(srv);
	return NULL;
}

int ward_http_server_set_loops(struct ward_http_server *srv, unsigned count, struct ward_err *err)
{
	if (count < 1 || count > WARD_HTTP_LOOPS_MAX)
		return ward_err_set(err, -WARD_E_USAGE, "http: %u event loops (1 to %d)", count,
				    WARD_HTTP_LOOPS_MAX);
	if (srv->listener_count > 0)
		return ward_err_set(err, -WARD_E_USAGE,
				    "http: set the loop count before adding listeners");
	while (srv->loop_count < count) {
		srv->bases[srv->loop_count] = event_base_new();
		if (!srv->bases[srv->loop_count])
			return ward_err_set(err, -ENOMEM, "http: cannot create event loop");
		srv->loop_count++;
	}
	return 0;
}

unsigned ward_http_server_loops(const struct ward_http_server *srv)
{
	return srv->loop_count;
}

static struct bufferevent *bev_tls(struct event_base *base, void *arg)
{
	struct listener *l = ((struct listener_loop *)arg)->l;
	void *ssl;

	/* The SSL takes its own reference to the context: once made, a
	 * concurrent ward_http_server_replace_tls() cannot pull it away. */
	pthread_mutex_lock(&l->srv->tls_lock);
	ssl = ward_tls_server_ssl_new(l->tls);
	pthread_mutex_unlock(&l->srv->tls_lock);

	if (!ssl)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					      BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
}

/* Free a listener's evhttps after a failed ward_http_server_listen(). */
static void listener_undo(struct listener *l, unsigned loops)
{
	for (unsigned j = 0; j < loops; j++) {
		if (l->per_loop[j].http)
			evhttp_free(l->per_loop[j].http);
		l->per_loop[j].http = NULL;
	}
}

static void dispatch(struct evhttp_request *ev, void *arg)
{
	struct listener_loop *ll = arg;
	struct listener *l = ll->l;
	struct ward_http_req *req = calloc(1, sizeof(*req));

	if (!req) {
		evhttp_send_error(ev, 503, "out of memory");
		return;
	}
	req->ev = ev;
	req->loop = ll->loop;
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
	evutil_socket_t fd;

	if (srv->listener_count >= MAX_LISTENERS)
		return ward_err_set(err, -WARD_E_TOO_BIG, "http: too many listeners");
	l = &srv->listeners[srv->listener_count];
	*l = (struct listener){.srv = srv, .tls = tls, .fn = fn, .ud = ud};
	for (unsigned j = 0; j < srv->loop_count; j++) {
		struct listener_loop *ll = &l->per_loop[j];
		struct evhttp *http = evhttp_new(srv->bases[j]);

		*ll = (struct listener_loop){.l = l, .loop = j, .http = http};
		if (!http) {
			listener_undo(l, srv->loop_count);
			return ward_err_set(err, -ENOMEM, "http: cannot create server");
		}
		evhttp_set_max_body_size(http, (ev_ssize_t)max_body);
		evhttp_set_max_headers_size(http, WARD_HTTP_HEADERS_MAX);
		evhttp_set_timeout(http, 30);
		evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
						     EVHTTP_REQ_DELETE);
		evhttp_set_gencb(http, dispatch, ll);
		if (tls)
			evhttp_set_bevcb(http, bev_tls, ll);
	}
	sock = evhttp_bind_socket_with_handle(l->per_loop[0].http, addr, port);
	if (!sock) {
		int e = errno ? errno : EADDRINUSE;

		listener_undo(l, srv->loop_count);
		return ward_err_errno(err, -e, "http: cannot listen on %s:%u", addr, port);
	}
	fd = evhttp_bound_socket_get_fd(sock);
	/* The other loops accept from the same socket, each through its own
	 * descriptor (evhttp closes the one it is given). */
	for (unsigned j = 1; j < srv->loop_count; j++) {
		int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);

		if (dup_fd < 0 || evutil_make_socket_nonblocking(dup_fd) < 0 ||
		    !evhttp_accept_socket_with_handle(l->per_loop[j].http, dup_fd)) {
			int e = errno ? errno : ENOMEM;

			if (dup_fd >= 0)
				(void)close(dup_fd);
			listener_undo(l, srv->loop_count);
			return ward_err_errno(err, -e, "http: cannot listen on %s:%u (loop %u)",
					      addr, port, j);
		}
	}
	if (ret_port) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);

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

static void *loop_thread(void *arg)
{
	(void)event_base_loop(arg, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
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
	int r;

	if (stop_on_signals) {
		int sigs[2] = {SIGINT, SIGTERM};

		for (size_t i = 0; i < 2; i++) {
			if (!srv->sig_ev[i])
				srv->sig_ev[i] = evsignal_new(srv->base, sigs[i], signal_cb, srv);
			if (!srv->sig_ev[i] || event_add(srv->sig_ev[i], NULL) != 0)
				return ward_err_set(err, -ENOMEM, "http: cannot watch signals");
		}
	}
	for (unsigned j = 1; j < srv->loop_count; j++) {
		int e = pthread_create(&srv->threads[j], NULL, loop_thread, srv->bases[j]);

		if (e != 0) {
			for (unsigned k = 1; k < j; k++) {
				(void)event_base_loopexit(srv->bases[k], NULL);
				(void)pthread_join(srv->threads[k], NULL);
			}
			return ward_err_errno(err, -e, "http: cannot start event loop %u", j);
		}
	}
	r = event_base_dispatch(srv->base);
	/* Loop 0 stopped (signal or ward_http_server_stop()): stop the others;
	 * each finishes the callback it is in. */
	for (unsigned j = 1; j < srv->loop_count; j++) {
		(void)event_base_loopexit(srv->bases[j], NULL);
		(void)pthread_join(srv->threads[j], NULL);
	}
	if (r < 0)
		return ward_err_set(err, -EIO, "http: event loop failed");
	return 0;
}

void ward_http_server_stop(struct ward_http_server *srv)
{
	event_active(srv->stop_ev, EV_READ, 0);
}

unsigned ward_http_req_loop(const struct ward_http_req *req)
{
	return req->loop;
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
	return ward_http_timer_new_on(srv, 0, fn, ud, ret, err);
}

int ward_http_timer_new_on(struct ward_http_server *srv, unsigned loop, void (*fn)(void *ud),
			   void *ud, struct ward_http_timer **ret, struct ward_err *err)
{
	struct ward_http_timer *t;

	if (loop >= srv->loop_count)
		return ward_err_set(err, -WARD_E_USAGE, "http: no event loop %u", loop);
	t = calloc(1, sizeof(*t));
	if (!t)
		return ward_err_set(err, -ENOMEM, "http: out of memory");
	t->fn = fn;
	t->ud = ud;
	t->ev = evtimer_new(srv->bases[loop], timer_cb, t);
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
	pthread_mutex_lock(&srv->tls_lock);
	for (size_t i = 0; i < srv->listener_count; i++)
		if (srv->listeners[i].tls == old_tls)
			srv->listeners[i].tls = new_tls;
	pthread_mutex_unlock(&srv->tls_lock);
}
