// SPDX-License-Identifier: Apache-2.0
/*
 * The metrics listener: a minimal HTTP/1.x responder inside the daemon's
 * poll loop. One client at a time (others wait in the backlog); its socket
 * is non-blocking and it has METRICS_CONN_MS from accept to the last byte,
 * so a slow or silent client never holds up the control socket. The
 * response is built once the request head is complete, then written as
 * the socket takes it; the connection closes after one response.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ambit/pin.h"
#include "daemon.h"
#include "log.h"
#include "prom.h"

static bool is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *in = (const void *)ss;
	const struct sockaddr_in6 *in6 = (const void *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
}

static int parse_port(const char *s, __u16 *port)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || !v || v > 65535)
		return -EINVAL;
	*port = (__u16)v;
	return 0;
}

int metrics_parse_addr(const char *text, bool allow_remote,
		       struct sockaddr_storage *ss, char *err, size_t errlen)
{
	struct sockaddr_in6 *in6 = (void *)ss;
	struct sockaddr_in *in = (void *)ss;
	const char *colon = strrchr(text, ':');
	char host[64];
	size_t n;
	__u16 port;

	memset(ss, 0, sizeof(*ss));
	if (!colon || parse_port(colon + 1, &port)) {
		snprintf(err, errlen, "'%s': want ADDR:PORT, e.g. %s or [::1]:15020",
			 text, METRICS_DEFAULT_ADDR);
		return -EINVAL;
	}
	n = (size_t)(colon - text);
	if (n >= 2 && text[0] == '[' && text[n - 1] == ']') {
		text++;
		n -= 2;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(n < sizeof(host) ? n : 0), text);
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
	} else {
		snprintf(err, errlen, "'%s': not a numeric IPv4 or [IPv6] address",
			 host);
		return -EINVAL;
	}
	if (!allow_remote && !is_loopback(ss)) {
		snprintf(err, errlen, "'%s' is not a loopback address: metrics name "
			 "every Service, endpoint and route of the node and are "
			 "served without TLS or authentication; pass "
			 "--metrics-allow-remote to expose them anyway", host);
		return -EINVAL;
	}
	return 0;
}

void metrics_init(struct metrics_server *m, const char *state_dir)
{
	struct timespec now;

	memset(m, 0, sizeof(*m));
	m->listen_fd = -1;
	m->conn_fd = -1;
	snprintf(m->proxy_sock, sizeof(m->proxy_sock), "%s/%s", state_dir,
		 AMBIT_PROXY_METRICS_SOCK);
	clock_gettime(CLOCK_REALTIME, &now);
	m->start_time = (double)now.tv_sec + now.tv_nsec / 1e9;
}

int metrics_listen(struct metrics_server *m, const char *addr,
		   const struct sockaddr_storage *ss)
{
	socklen_t len = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in)
						 : sizeof(struct sockaddr_in6);
	int one = 1, err, fd;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, 16) < 0) {
		err = -errno;
		close(fd);
		pr_err_kv("cannot serve metrics", LOG_STR("addr", addr),
			  LOG_STR("error", strerror(-err)));
		return err;
	}
	m->listen_fd = fd;
	snprintf(m->addr, sizeof(m->addr), "%s", addr);
	pr_info_kv("serving metrics", LOG_STR("addr", addr), LOG_STR("path", "/metrics"));
	return 0;
}

int metrics_pollfd(const struct metrics_server *m, struct pollfd *p)
{
	if (m->listen_fd < 0)
		return 0;
	p->revents = 0;
	if (m->conn_fd < 0) {
		p->fd = m->listen_fd;
		p->events = POLLIN;
	} else {
		p->fd = m->conn_fd;
		p->events = m->writing && !m->lingering ? POLLOUT : POLLIN;
	}
	return 1;
}

static void conn_end(struct metrics_server *m)
{
	if (m->conn_fd >= 0)
		close(m->conn_fd);
	m->conn_fd = -1;
	m->writing = false;
	m->lingering = false;
	m->req_len = 0;
	m->resp_off = 0;
	sb_free(&m->resp);
}

void metrics_close(struct metrics_server *m)
{
	conn_end(m);
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	m->listen_fd = -1;
}

static void respond(struct metrics_server *m, int status, const char *reason,
		    const char *type, const char *extra, const char *body,
		    size_t len, bool head_only)
{
	sb_free(&m->resp);
	sb_printf(&m->resp, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
		  "Content-Length: %zu\r\n%sConnection: close\r\n\r\n", status,
		  reason, type, len, extra ? extra : "");
	if (!head_only)
		sb_add(&m->resp, body, len);
	m->resp_off = 0;
	m->writing = true;
}

static void respond_text(struct metrics_server *m, int status,
			 const char *reason, const char *extra, const char *body)
{
	respond(m, status, reason, "text/plain; charset=utf-8", extra, body,
		strlen(body), false);
}

/* A complete head is in m->req: answer it. */
static void answer(struct daemon *d, struct metrics_server *m)
{
	char method[16], target[256], version[16];
	struct sbuf body = {};
	bool head;

	m->req[m->req_len] = '\0';
	if (sscanf(m->req, "%15s %255s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7)) {
		respond_text(m, 400, "Bad Request", NULL, "bad request\n");
		return;
	}
	head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head) {
		respond_text(m, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n",
			     "only GET /metrics\n");
		return;
	}
	if (strcmp(target, "/metrics") && strncmp(target, "/metrics?", 9)) {
		respond_text(m, 404, "Not Found", NULL, "metrics are at /metrics\n");
		return;
	}
	if (metrics_render(d, &body)) {
		sb_free(&body);
		respond_text(m, 500, "Internal Server Error", NULL, "out of memory\n");
		return;
	}
	respond(m, 200, "OK", PROM_CONTENT_TYPE, NULL, sb_str(&body), body.len,
		head);
	sb_free(&body);
}

static bool head_complete(const struct metrics_server *m)
{
	return memmem(m->req, m->req_len, "\r\n\r\n", 4) ||
	       memmem(m->req, m->req_len, "\n\n", 2);
}

static void read_request(struct daemon *d, struct metrics_server *m)
{
	ssize_t n = recv(m->conn_fd, m->req + m->req_len,
			 sizeof(m->req) - 1 - m->req_len, MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* gone, or closed before a whole head */
		conn_end(m);
		return;
	}
	m->req_len += (size_t)n;
	if (head_complete(m))
		answer(d, m);
	else if (m->req_len == sizeof(m->req) - 1)
		respond_text(m, 431, "Request Header Fields Too Large", NULL,
			     "request head too large\n");
}

static void write_response(struct metrics_server *m)
{
	ssize_t n = send(m->conn_fd, m->resp.buf + m->resp_off,
			 m->resp.len - m->resp_off, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		conn_end(m);
		return;
	}
	m->resp_off += (size_t)n;
	if (m->resp_off == m->resp.len) {
		/*
		 * Lingering close: closing with unread input (a request body,
		 * the rest of an oversized head) makes the kernel answer with
		 * a reset that can destroy the response before the client
		 * reads it. Send FIN, read until the client closes.
		 */
		shutdown(m->conn_fd, SHUT_WR);
		m->lingering = true;
		sb_free(&m->resp);
		if (m->deadline_ms > now_ms() + 1000) /* the next scrape waits */
			m->deadline_ms = now_ms() + 1000;
	}
}

static void linger(struct metrics_server *m)
{
	char buf[4096];
	ssize_t n;

	while ((n = recv(m->conn_fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		;
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		conn_end(m);
}

static void accept_one(struct metrics_server *m)
{
	int fd = accept4(m->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	m->conn_fd = fd;
	m->req_len = 0;
	m->writing = false;
	m->deadline_ms = now_ms() + METRICS_CONN_MS;
}

void metrics_event(struct daemon *d, short revents)
{
	struct metrics_server *m = &d->metrics;

	if (!revents)
		return;
	if (m->conn_fd < 0) {
		accept_one(m);
		if (m->conn_fd < 0)
			return;
		/* and read at once: the request is often there already */
	}
	if (m->lingering) {
		linger(m);
		return;
	}
	if (!m->writing)
		read_request(d, m);
	if (m->conn_fd >= 0 && m->writing)
		write_response(m);
}

void metrics_tick(struct daemon *d, __u64 now)
{
	struct metrics_server *m = &d->metrics;

	if (m->conn_fd >= 0 && now >= m->deadline_ms) {
		if (!m->lingering)
			pr_debug_kv("metrics client too slow, closed",
				    LOG_UINT("sent", m->resp_off));
		conn_end(m);
	}
	if (now >= m->next_prune_ms) {
		metrics_prune(d);
		m->next_prune_ms = now + METRICS_PRUNE_MS;
	}
}
