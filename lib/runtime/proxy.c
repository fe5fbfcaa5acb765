/* SPDX-License-Identifier: Apache-2.0 */
/* Port publishing for a container in its own network namespace: listen on
 * HOST_IP:HOST_PORT in ours, and for each connection open a socket inside
 * the container's namespace (setns on the connection's own thread; a
 * socket keeps the namespace it was created in) to 127.0.0.1:PORT, then
 * relay bytes both ways. Nothing here is secret: the app terminates TLS
 * itself if it wants confidentiality on the wire. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime-internal.h"
#include "ward/cleanup.h"
#include "ward/log.h"

#define RELAY_BUF (128u << 10)

struct listener {
	struct rt_proxy *p;
	int fd;
	uint16_t container_port;
	pthread_t thread;
	bool started;
};

struct rt_proxy {
	int nsfd;
	int stop_pipe[2];
	struct listener l[WARD_RUN_MAX_PORTS];
	size_t count;
};

struct conn {
	int client;
	int nsfd;
	uint16_t port;
};

static int relay_once(int from, int to, uint8_t *buf, bool *eof)
{
	ssize_t n = read(from, buf, RELAY_BUF);

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	if (n == 0) {
		*eof = true;
		(void)shutdown(to, SHUT_WR);
		return 0;
	}
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));

		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pw = {.fd = to, .events = POLLOUT};

				(void)poll(&pw, 1, 1000);
				continue;
			}
			return -1;
		}
		off += w;
	}
	return 0;
}

static void *conn_main(void *arg)
{
	struct conn c = *(struct conn *)arg;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(c.port)};
	uint8_t *buf = malloc(RELAY_BUF);
	bool eof_c = false, eof_s = false;
	int one = 1, s = -1;

	free(arg);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (!buf || setns(c.nsfd, CLONE_NEWNET) < 0)
		goto out;
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out;
	(void)setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(c.client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	while (!(eof_c && eof_s)) {
		struct pollfd pf[2] = {{.fd = eof_c ? -1 : c.client, .events = POLLIN},
				       {.fd = eof_s ? -1 : s, .events = POLLIN}};

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((pf[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    relay_once(c.client, s, buf, &eof_c) < 0)
			break;
		if ((pf[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    relay_once(s, c.client, buf, &eof_s) < 0)
			break;
	}
out:
	if (s >= 0)
		close(s);
	close(c.client);
	free(buf);
	return NULL;
}

static void *listen_main(void *arg)
{
	struct listener *l = arg;

	for (;;) {
		struct pollfd pf[2] = {{.fd = l->fd, .events = POLLIN},
				       {.fd = l->p->stop_pipe[0], .events = POLLIN}};
		struct conn *c;
		pthread_t t;
		pthread_attr_t attr;
		int fd;

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents)
			break;
		fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		*c = (struct conn){.client = fd, .nsfd = l->p->nsfd, .port = l->container_port};
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&attr, 256 << 10);
		if (pthread_create(&t, &attr, conn_main, c) != 0) {
			close(fd);
			free(c);
		}
		pthread_attr_destroy(&attr);
	}
	return NULL;
}

void rt_proxy_stop(struct rt_proxy *p)
{
	if (!p)
		return;
	if (p->stop_pipe[1] >= 0)
		if (write(p->stop_pipe[1], "x", 1) < 0) {
			/* a full pipe already wakes the listeners */
		}
	for (size_t i = 0; i < p->count; i++) {
		if (p->l[i].started)
			pthread_join(p->l[i].thread, NULL);
		if (p->l[i].fd >= 0)
			close(p->l[i].fd);
	}
	if (p->stop_pipe[0] >= 0)
		close(p->stop_pipe[0]);
	if (p->stop_pipe[1] >= 0)
		close(p->stop_pipe[1]);
	/* detached relays may still use nsfd: leave it open until exit */
	free(p);
}

int rt_proxy_start(const struct ward_port *ports, size_t count, pid_t container_pid,
		   struct rt_proxy **ret, struct ward_err *err)
{
	struct rt_proxy *p = calloc(1, sizeof(*p));
	char nspath[64];
	int r = 0;

	if (!p)
		return ward_err_set(err, -ENOMEM, "out of memory");
	p->stop_pipe[0] = p->stop_pipe[1] = -1;
	for (size_t i = 0; i < WARD_RUN_MAX_PORTS; i++)
		p->l[i].fd = -1;
	if (count > WARD_RUN_MAX_PORTS) {
		free(p);
		return ward_err_set(err, -WARD_E_TOO_BIG, "too many published ports");
	}
	snprintf(nspath, sizeof(nspath), "/proc/%d/ns/net", (int)container_pid);
	p->nsfd = open(nspath, O_RDONLY | O_CLOEXEC);
	if (p->nsfd < 0) {
		r = ward_err_errno(err, -errno, "open %s", nspath);
		free(p);
		return r;
	}
	if (pipe2(p->stop_pipe, O_CLOEXEC) < 0) {
		r = ward_err_errno(err, -errno, "pipe");
		goto fail;
	}
	for (size_t i = 0; i < count; i++) {
		struct listener *l = &p->l[i];
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_port = htons(ports[i].host_port)};
		int one = 1;

		p->count = i + 1;
		l->p = p;
		l->container_port = ports[i].container_port;
		if (inet_pton(AF_INET, ports[i].host_ip, &sa.sin_addr) != 1) {
			r = ward_err_set(err, -WARD_E_USAGE, "publish: bad address '%s'",
					 ports[i].host_ip);
			goto fail;
		}
		l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (l->fd < 0) {
			r = ward_err_errno(err, -errno, "socket");
			goto fail;
		}
		(void)setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l->fd, 512) < 0) {
			r = ward_err_errno(err, -errno, "publish %s:%u", ports[i].host_ip,
					   ports[i].host_port);
			goto fail;
		}
		if (pthread_create(&l->thread, NULL, listen_main, l) != 0) {
			r = ward_err_set(err, -EAGAIN, "cannot start the port proxy thread");
			goto fail;
		}
		l->started = true;
	}
	*ret = p;
	return 0;
fail:
	close(p->nsfd);
	rt_proxy_stop(p);
	return r;
}
