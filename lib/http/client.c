/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <event2/http.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "ward/cleanup.h"
#include "ward/http.h"
#include "ward/util.h"

struct ward_http_client {
	char host[256];
	char port[8];
	char authority[272];
	bool https;
	struct ward_tls_ctx *tls;   /* borrowed */
	struct ward_tls_conn *conn; /* owned, may be NULL */
	int fd;			    /* plain HTTP connection, or -1 */
	/* Bytes read past the end of the previous response. */
	uint8_t *rbuf;
	size_t rlen, rcap;
};

void ward_http_response_clear(struct ward_http_response *resp)
{
	free(resp->body);
	free(resp->set_cookie);
	free(resp->content_type);
	*resp = (struct ward_http_response){0};
}

int ward_http_client_new(const char *base_url, struct ward_tls_ctx *tls,
			 struct ward_http_client **ret, struct ward_err *err)
{
	struct evhttp_uri *uri = evhttp_uri_parse(base_url);
	struct ward_http_client *c;
	const char *scheme, *host;
	int port;

	if (!uri)
		return ward_err_set(err, -WARD_E_USAGE, "http: cannot parse URL '%s'", base_url);
	scheme = evhttp_uri_get_scheme(uri);
	host = evhttp_uri_get_host(uri);
	port = evhttp_uri_get_port(uri);
	if (!scheme || !host || !host[0] ||
	    (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0) ||
	    strlen(host) >= sizeof(c->host)) {
		evhttp_uri_free(uri);
		return ward_err_set(err, -WARD_E_USAGE,
				    "http: URL '%s' is not http(s)://HOST[:PORT]", base_url);
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		evhttp_uri_free(uri);
		return ward_err_set(err, -ENOMEM, "http: out of memory");
	}
	c->fd = -1;
	c->https = strcmp(scheme, "https") == 0;
	if (port < 0)
		port = c->https ? 443 : 80;
	snprintf(c->host, sizeof(c->host), "%s", host);
	snprintf(c->port, sizeof(c->port), "%d", port);
	snprintf(c->authority, sizeof(c->authority), "%s:%d", host, port);
	evhttp_uri_free(uri);
	if (c->https && !tls) {
		free(c);
		return ward_err_set(err, -WARD_E_USAGE, "http: https needs a TLS context");
	}
	c->tls = tls;
	*ret = c;
	return 0;
}

static void disconnect(struct ward_http_client *c)
{
	c->conn = ward_tls_conn_free(c->conn);
	if (c->fd >= 0)
		(void)close(c->fd);
	c->fd = -1;
	c->rlen = 0;
}

struct ward_http_client *ward_http_client_free(struct ward_http_client *c)
{
	if (!c)
		return NULL;
	disconnect(c);
	free(c->rbuf);
	free(c);
	return NULL;
}

const char *ward_http_client_authority(const struct ward_http_client *c)
{
	return c->authority;
}

static int connect_tcp(struct ward_http_client *c, int *ret_fd, struct ward_err *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *ai = NULL;
	int fd = -1, e = ECONNREFUSED, one = 1;

	if (getaddrinfo(c->host, c->port, &hints, &ai) != 0 || !ai)
		return ward_err_set(err, -EHOSTUNREACH, "http: cannot resolve '%s'", c->host);
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		e = errno;
		(void)close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return ward_err_errno(err, -e, "http: cannot connect to %s", c->authority);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*ret_fd = fd;
	return 0;
}

static int ensure_connected(struct ward_http_client *c, struct ward_err *err)
{
	int fd = -1, r;

	if (c->conn || c->fd >= 0)
		return 0;
	r = connect_tcp(c, &fd, err);
	if (r < 0)
		return r;
	c->rlen = 0;
	if (!c->https) {
		c->fd = fd;
		return 0;
	}
	r = ward_tls_connect(c->tls, fd, c->host, &c->conn, err);
	if (r < 0)
		return ward_err_prefix(err, "%s", c->authority);
	return 0;
}

int ward_http_client_peer_cert(struct ward_http_client *c, struct ward_x509 **ret,
			       struct ward_err *err)
{
	int r;

	if (!c->https)
		return ward_err_set(err, -WARD_E_USAGE, "http: plain HTTP has no certificate");
	r = ensure_connected(c, err);
	if (r < 0)
		return r;
	return ward_tls_conn_peer_cert(c->conn, ret, err);
}

static int io_write(struct ward_http_client *c, const void *buf, size_t size, struct ward_err *err)
{
	size_t done = 0;

	if (c->conn)
		return ward_tls_write(c->conn, buf, size, err);
	while (done < size) {
		ssize_t n = send(c->fd, (const uint8_t *)buf + done, size - done, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ward_err_errno(err, -errno, "http: write failed");
		done += (size_t)n;
	}
	return 0;
}

/* Read more bytes into rbuf; 0 bytes at EOF. */
static int io_fill(struct ward_http_client *c, size_t *ret_n, struct ward_err *err)
{
	size_t n = 0;

	if (c->rcap - c->rlen < 16384) {
		size_t cap = c->rcap ? c->rcap * 2 : 32768;
		uint8_t *p;

		if (cap > WARD_HTTP_BODY_MAX + WARD_HTTP_HEADERS_MAX + 65536)
			return ward_err_set(err, -WARD_E_TOO_BIG, "http: response too large");
		p = realloc(c->rbuf, cap);
		if (!p)
			return ward_err_set(err, -ENOMEM, "http: out of memory");
		c->rbuf = p;
		c->rcap = cap;
	}
	if (c->conn) {
		int r = ward_tls_read(c->conn, c->rbuf + c->rlen, c->rcap - c->rlen - 1, &n, err);

		if (r < 0)
			return r;
	} else {
		ssize_t k;

		do
			k = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen - 1, 0);
		while (k < 0 && errno == EINTR);
		if (k < 0)
			return ward_err_errno(err, -errno, "http: read failed");
		n = (size_t)k;
	}
	c->rlen += n;
	*ret_n = n;
	return 0;
}

static char *dup_range(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

/* Parse one response from rbuf (reading more as needed). */
static int read_response(struct ward_http_client *c, struct ward_http_response *resp,
			 bool *ret_close, struct ward_err *err)
{
	char *hdr_end = NULL;
	size_t hdr_size, body_size = 0, n;
	bool have_length = false, conn_close = false;
	const char *line, *end;
	int r;

	for (;;) {
		if (c->rlen >= 4) {
			c->rbuf[c->rlen] = '\0';
			hdr_end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
			if (hdr_end)
				break;
		}
		if (c->rlen > WARD_HTTP_HEADERS_MAX)
			return ward_err_set(err, -WARD_E_TOO_BIG,
					    "http: response headers too large");
		r = io_fill(c, &n, err);
		if (r < 0)
			return r;
		if (n == 0)
			return ward_err_set(err, -ECONNRESET,
					    "http: %s closed the connection before a response",
					    c->authority);
	}
	hdr_size = (size_t)(hdr_end - (char *)c->rbuf) + 4;
	line = (const char *)c->rbuf;
	if (strncmp(line, "HTTP/1.", 7) != 0 || hdr_size < 12 || line[8] != ' ')
		return ward_err_set(err, -WARD_E_MALFORMED, "http: malformed status line");
	resp->status = atoi(line + 9);
	if (resp->status < 100 || resp->status > 599)
		return ward_err_set(err, -WARD_E_MALFORMED, "http: malformed status code");
	line = strstr(line, "\r\n") + 2;
	while (line < hdr_end) {
		const char *colon, *v;

		end = strstr(line, "\r\n");
		colon = memchr(line, ':', (size_t)(end - line));
		if (!colon)
			return ward_err_set(err, -WARD_E_MALFORMED, "http: malformed header line");
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if ((size_t)(colon - line) == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
			char num[24];
			uint64_t len;
			size_t vl = (size_t)(end - v);

			if (vl == 0 || vl >= sizeof(num))
				return ward_err_set(err, -WARD_E_MALFORMED,
						    "http: bad Content-Length");
			memcpy(num, v, vl);
			num[vl] = '\0';
			if (ward_parse_u64(num, &len) < 0 || len > WARD_HTTP_BODY_MAX)
				return ward_err_set(err, -WARD_E_TOO_BIG,
						    "http: bad Content-Length");
			body_size = (size_t)len;
			have_length = true;
		} else if ((size_t)(colon - line) == 10 &&
			   strncasecmp(line, "Set-Cookie", 10) == 0) {
			if (!resp->set_cookie)
				resp->set_cookie = dup_range(v, (size_t)(end - v));
		} else if ((size_t)(colon - line) == 12 &&
			   strncasecmp(line, "Content-Type", 12) == 0) {
			free(resp->content_type);
			resp->content_type = dup_range(v, (size_t)(end - v));
		} else if ((size_t)(colon - line) == 10 &&
			   strncasecmp(line, "Connection", 10) == 0) {
			if ((size_t)(end - v) == 5 && strncasecmp(v, "close", 5) == 0)
				conn_close = true;
		} else if ((size_t)(colon - line) == 17 &&
			   strncasecmp(line, "Transfer-Encoding", 17) == 0) {
			return ward_err_set(err, -WARD_E_UNSUPPORTED,
					    "http: chunked responses are not supported");
		}
		line = end + 2;
	}
	if (!have_length) {
		/* Read to EOF. */
		conn_close = true;
		for (;;) {
			r = io_fill(c, &n, err);
			if (r < 0)
				return r;
			if (n == 0)
				break;
		}
		body_size = c->rlen - hdr_size;
	}
	while (c->rlen - hdr_size < body_size) {
		r = io_fill(c, &n, err);
		if (r < 0)
			return r;
		if (n == 0)
			return ward_err_set(err, -ECONNRESET, "http: response body truncated");
	}
	resp->body = malloc(body_size + 1);
	if (!resp->body)
		return ward_err_set(err, -ENOMEM, "http: out of memory");
	memcpy(resp->body, c->rbuf + hdr_size, body_size);
	resp->body[body_size] = 0;
	resp->body_size = body_size;
	memmove(c->rbuf, c->rbuf + hdr_size + body_size, c->rlen - hdr_size - body_size);
	c->rlen -= hdr_size + body_size;
	*ret_close = conn_close;
	return 0;
}

int ward_http_request(struct ward_http_client *c, const char *method, const char *path,
		      const char *const *headers, const void *body, size_t size,
		      struct ward_http_response *ret, struct ward_err *err)
{
	char head[8192];
	int len, r;

	len = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %zu\r\n",
		       method, path, c->authority, size);
	for (size_t i = 0;
	     headers && headers[i] && headers[i + 1] && len > 0 && (size_t)len < sizeof(head);
	     i += 2)
		len += snprintf(head + len, sizeof(head) - (size_t)len, "%s: %s\r\n", headers[i],
				headers[i + 1]);
	if (len < 0 || (size_t)len + 3 > sizeof(head))
		return ward_err_set(err, -WARD_E_TOO_BIG, "http: request headers too large");
	len += snprintf(head + len, sizeof(head) - (size_t)len, "\r\n");

	for (int attempt = 0; attempt < 2; attempt++) {
		struct ward_http_response resp = {0};
		bool reused = c->conn || c->fd >= 0, close_after = false;

		r = ensure_connected(c, err);
		if (r < 0)
			return r;
		r = io_write(c, head, (size_t)len, err);
		if (r >= 0 && size)
			r = io_write(c, body, size, err);
		if (r >= 0)
			r = read_response(c, &resp, &close_after, err);
		if (r < 0) {
			ward_http_response_clear(&resp);
			disconnect(c);
			/* A kept-alive connection the server has closed meanwhile:
			 * retry once on a fresh one. */
			if (reused && (r == -ECONNRESET || r == -EIO))
				continue;
			return ward_err_prefix(err, "%s %s", method, path);
		}
		if (close_after)
			disconnect(c);
		*ret = resp;
		return 0;
	}
	return ward_err_prefix(err, "%s %s", method, path);
}
