// SPDX-License-Identifier: Apache-2.0
/*
 * ambit-probe: a test client that reports what a socket saw, so end-to-end
 * tests can assert on it.
 *
 *   ambit-probe tcp ADDR:PORT [-n COUNT] [-m MARK] [-u STOPFILE] [-g GENFILE]
 *       connect COUNT times (default 1); per connection print one line
 *       "ok <first line from server> peer=<getpeername>" or "err <ERRNO>".
 *       -m sets SO_MARK on the socket first (as ambit-proxy does).
 *   ambit-probe http ADDR:PORT PATH [-n COUNT] [-k] [-H 'Name: value']...
 *                    [-u STOPFILE] [-g GENFILE] [-s]
 *       COUNT GET requests, each on a new connection (Connection: close),
 *       or with -k on one keep-alive connection (a new one only when the
 *       server says it closes). Per request one line:
 *       "ok <hostname> status=<code> gen=<x-gen header the backend got|->
 *        conn=<connection number>" for a 2xx answer of ambit-echo, else
 *       "err <why> status=<code|-> conn=<n>".
 *       -s waits for a line on stdin before each request (a test drives it).
 *   -u: stop (before the next attempt) once STOPFILE exists; with -u and
 *       no -n the count is unlimited.
 *   -g: GENFILE holds "BEGUN DONE", two configuration generation numbers a
 *       test's update loop rewrites (by rename) around each change. Each
 *       line then ends with " win=LO-HI": DONE read before the attempt and
 *       BEGUN read after it, so the configuration in force during the
 *       attempt was one of generations LO..HI. http adds " cwin=LO-HI",
 *       the same window for the connect() of the connection it used.
 *   ambit-probe halfclose ADDR:PORT PATH
 *       send "GET PATH" with Connection: close, shut the socket down for
 *       writing, read the answer to the end; print its status line.
 *   ambit-probe udp ADDR:PORT MESSAGE [--connect]
 *       send one datagram (sendto, or connect+send), wait 2 s for a reply,
 *       print "ok <reply> from=<source address> peer=<getpeername|->".
 *   ambit-probe hold ADDR:PORT [-t SECONDS]
 *   ambit-probe hold-udp ADDR:PORT [-t SECONDS]
 *       keep one connection (TCP, or connected UDP that first sends
 *       "hello") open: print "ok <first line or reply> peer=<getpeername>",
 *       then on each SIGUSR1 send "ping" and print "echo <answer>"; when
 *       the connection ends print "closed EOF" or "closed <ERRNO>" and
 *       exit 0. After SECONDS (default 30) still open: "timeout", exit 1.
 *   ambit-probe many ADDR:PORT COUNT SECONDS
 *       open COUNT TCP connections and keep them for SECONDS (or until
 *       SIGTERM); print "held COUNT" once all are up (benchmarks: sockets
 *       for a socket iterator to walk).
 *   ambit-probe load ADDR:PORT [-c CONNS] [-r ROUNDS] [-p PARALLEL]
 *                    [-P PATH] [-H HOLD-FILE]
 *       open CONNS keep-alive connections (default 100) and hold them all:
 *       in each of ROUNDS rounds (default 2), every open connection sends
 *       "GET PATH" and reads a 200 answer (Content-Length framed), at most
 *       PARALLEL connections busy at once (default 256); a round starts
 *       once the previous one is done on every connection, so from round 2
 *       on all CONNS are open together. Then, with -H, write HOLD-FILE and
 *       keep every connection open until the file is removed. Prints one
 *       line "conns=N requests=N ok=N errors=N open=N" (errors on stderr).
 * ADDR is IPv4 or [IPv6]. Exit 0 when every attempt succeeded, else 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	struct sockaddr_in *in4 = (void *)ss;
	struct sockaddr_in6 *in6 = (void *)ss;
	size_t n;

	if (!colon || (n = (size_t)(colon - s)) >= sizeof(host) || n < 1)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[n - 1] == ']') {
		host[n - 1] = '\0';
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)atoi(colon + 1));
		*len = sizeof(*in6);
		return inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1 ? 0 : -1;
	}
	in4->sin_family = AF_INET;
	in4->sin_port = htons((uint16_t)atoi(colon + 1));
	*len = sizeof(*in4);
	return inet_pton(AF_INET, host, &in4->sin_addr) == 1 ? 0 : -1;
}

static const char *addr_str(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in4 = (const void *)ss;

		inet_ntop(AF_INET, &in4->sin_addr, a, sizeof(a));
		snprintf(buf, size, "%s:%u", a, ntohs(in4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(buf, size, "[%s]:%u", a, ntohs(in6->sin6_port));
	} else {
		snprintf(buf, size, "-");
	}
	return buf;
}

static void peer_str(int fd, char *buf, size_t size)
{
	struct sockaddr_storage ss = {};
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		snprintf(buf, size, "-");
	else
		addr_str(&ss, buf, size);
}

/* Read up to the first newline (or EOF / 2 s). */
static int read_line(int fd, char *buf, size_t size)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;

	while (n + 1 < size && poll(&p, 1, 2000) > 0) {
		ssize_t r = read(fd, buf + n, 1);

		if (r <= 0 || buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return n ? 0 : -1;
}

/* Options of the tcp and http modes. */
struct probe_opts {
	long count;
	unsigned int mark;
	const char *stop_file;
	const char *gen_file;
	const char *path;
	const char *headers[16];
	int n_headers;
	int keep_alive;
	int stepped;
};

static struct probe_opts opt = { .count = 1 };

/* Field @idx (0: BEGUN, 1: DONE) of the generation file; -1 unreadable. */
static long gen_read(int idx)
{
	long v[2] = { -1, -1 };
	FILE *f = fopen(opt.gen_file, "re");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &v[0], &v[1]) != 2)
		v[0] = v[1] = -1;
	fclose(f);
	return v[idx];
}

/* The window of generations an attempt saw: DONE before, BEGUN after. */
struct window {
	long lo, hi;
};

static void win_open(struct window *w)
{
	w->lo = opt.gen_file ? gen_read(1) : -1;
}

static void win_close(struct window *w)
{
	w->hi = opt.gen_file ? gen_read(0) : -1;
}

static void win_print(const char *name, const struct window *w)
{
	if (opt.gen_file)
		printf(" %s=%ld-%ld", name, w->lo, w->hi);
}

static int tcp_connect(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && opt.mark)
		setsockopt(fd, SOL_SOCKET, SO_MARK, &opt.mark, sizeof(opt.mark));
	if (fd >= 0 && connect(fd, (const struct sockaddr *)ss, len) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int tcp_once(const struct sockaddr_storage *ss, socklen_t len)
{
	char line[256], peer[80];
	struct window w;
	int fd;

	win_open(&w);
	fd = tcp_connect(ss, len);
	win_close(&w);
	if (fd < 0) {
		printf("err %s", strerrorname_np(errno));
		win_print("win", &w);
		printf("\n");
		return -1;
	}
	peer_str(fd, peer, sizeof(peer));
	if (read_line(fd, line, sizeof(line)))
		snprintf(line, sizeof(line), "(no data)");
	printf("ok %s peer=%s", line, peer);
	win_print("win", &w);
	printf("\n");
	close(fd);
	return 0;
}

static int udp_once(const struct sockaddr_storage *ss, socklen_t len,
		    const char *msg, int do_connect)
{
	struct sockaddr_storage from = {};
	socklen_t flen = sizeof(from);
	struct pollfd p;
	char buf[512], f[80], peer[80] = "-";
	int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	if (fd < 0)
		return -1;
	if (do_connect ? connect(fd, (const struct sockaddr *)ss, len) < 0 ||
				 send(fd, msg, strlen(msg), 0) < 0
		       : sendto(fd, msg, strlen(msg), 0,
				(const struct sockaddr *)ss, len) < 0) {
		printf("err %s\n", strerrorname_np(errno));
		close(fd);
		return -1;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 2000) <= 0 ||
	    (n = recvfrom(fd, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from,
			  &flen)) < 0) {
		printf("err %s\n", errno ? strerrorname_np(errno) : "ETIMEDOUT");
		close(fd);
		return -1;
	}
	buf[n] = '\0';
	if (do_connect)
		peer_str(fd, peer, sizeof(peer));
	printf("ok %s from=%s peer=%s\n", buf, addr_str(&from, f, sizeof(f)), peer);
	close(fd);
	return 0;
}

static int halfclose(const struct sockaddr_storage *ss, socklen_t len,
		     const char *path)
{
	char req[512], resp[4096];
	size_t got = 0;
	ssize_t n;
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)ss, len) < 0) {
		printf("err %s\n", strerrorname_np(errno));
		return 1;
	}
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: probe\r\n"
		 "Connection: close\r\n\r\n", path);
	if (send(fd, req, strlen(req), 0) < 0 || shutdown(fd, SHUT_WR) < 0) {
		printf("err %s\n", strerrorname_np(errno));
		close(fd);
		return 1;
	}
	while (got < sizeof(resp) - 1 &&
	       (n = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
		got += (size_t)n;
	resp[got] = '\0';
	close(fd);
	resp[strcspn(resp, "\r\n")] = '\0';
	printf("%s\n", got ? resp : "(no answer)");
	return got ? 0 : 1;
}

static volatile sig_atomic_t ping_requested;

static void on_usr1(int sig)
{
	ping_requested = 1;
}

/* One answer: a line (TCP) or a datagram (UDP). Length, 0 at EOF, -errno. */
static ssize_t recv_answer(int fd, int type, char *buf, size_t size)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;
	ssize_t r;

	if (type == SOCK_DGRAM) {
		if (poll(&p, 1, 2000) <= 0)
			return -ETIMEDOUT;
		r = recv(fd, buf, size - 1, 0);
		if (r < 0)
			return -errno;
		buf[r] = '\0';
		return r ? r : 1;
	}
	while (n + 1 < size && poll(&p, 1, 2000) > 0) {
		r = read(fd, buf + n, 1);
		if (r < 0)
			return -errno;
		if (r == 0 || buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return n ? (ssize_t)n : 0;
}

static int hold_loop(int fd, int type, time_t end)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	const char *ping = type == SOCK_DGRAM ? "ping" : "ping\n";
	char buf[512];
	ssize_t r;

	while (time(NULL) < end) {
		if (ping_requested) {
			ping_requested = 0;
			if (send(fd, ping, strlen(ping), MSG_NOSIGNAL) < 0) {
				printf("closed %s\n", strerrorname_np(errno));
				return 0;
			}
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		r = recv_answer(fd, type, buf, sizeof(buf));
		if (r <= 0) {
			printf("closed %s\n", r ? strerrorname_np((int)-r) : "EOF");
			return 0;
		}
		printf("echo %s\n", buf);
	}
	printf("timeout\n");
	return 1;
}

static int hold(const struct sockaddr_storage *ss, socklen_t len, int type,
		long secs)
{
	struct sigaction sa = { .sa_handler = on_usr1 }; /* no SA_RESTART */
	char first[512], peer[80];
	int fd = socket(ss->ss_family, type | SOCK_CLOEXEC, 0), ret;

	sigaction(SIGUSR1, &sa, NULL);
	if (fd < 0 || connect(fd, (const struct sockaddr *)ss, len) < 0 ||
	    (type == SOCK_DGRAM && send(fd, "hello", 5, 0) < 0)) {
		printf("err %s\n", strerrorname_np(errno));
		return 1;
	}
	peer_str(fd, peer, sizeof(peer));
	if (recv_answer(fd, type, first, sizeof(first)) <= 0)
		snprintf(first, sizeof(first), "(no data)");
	printf("ok %s peer=%s\n", first, peer);
	ret = hold_loop(fd, type, time(NULL) + secs);
	close(fd);
	return ret;
}

static int many(const struct sockaddr_storage *ss, socklen_t len, long count,
		long secs)
{
	struct rlimit rl = {};
	long i;
	int fd;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)count + 64) {
		rl.rlim_cur = (rlim_t)count + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (i = 0; i < count; i++) {
		fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (const struct sockaddr *)ss, len) < 0) {
			printf("err %s after %ld\n", strerrorname_np(errno), i);
			return 1;
		}
	}
	printf("held %ld\n", count);
	sleep((unsigned int)secs);
	return 0;
}

/* ---- http ---------------------------------------------------------------- */

#define HTTP_BUF 65536

struct http_answer {
	int status;
	int closes;      /* the server said Connection: close */
	char host[128];  /* ambit-echo's "hostname" */
	char gen[32];    /* the x-gen request header the backend got */
	const char *err; /* why the exchange failed; NULL when complete */
};

/* The value of header @name in @head (lines ending in CRLF, then NUL). */
static int head_field(const char *head, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);
	const char *p = strstr(head, "\r\n");

	for (; p && p[2]; p = strstr(p, "\r\n")) {
		p += 2;
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1, *e = strstr(v, "\r\n");

			while (*v == ' ' || *v == '\t')
				v++;
			snprintf(out, size, "%.*s", (int)(e - v), v);
			return 0;
		}
	}
	return -1;
}

/* The string after @key in ambit-echo's one-line JSON body, or "-". */
static void json_pick(const char *body, const char *key, char *out, size_t size)
{
	const char *p = strstr(body, key);
	size_t n = 0;

	if (p)
		p += strlen(key);
	while (p && p[n] && p[n] != '"' && n + 1 < size)
		n++;
	snprintf(out, size, "%.*s", p ? (int)n : 1, p ? p : "-");
}

/* More bytes within 5 s: >0, 0 at EOF, -1 with errno. */
static ssize_t read_some(int fd, char *buf, size_t room)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, 5000);

	if (n == 0)
		errno = ETIMEDOUT;
	return n > 0 ? read(fd, buf, room) : -1;
}

static int fill(int fd, char *buf, size_t *got, size_t want, struct http_answer *a)
{
	while (*got < want) {
		ssize_t n = read_some(fd, buf + *got, want - *got);

		if (n <= 0) {
			a->err = n ? strerrorname_np(errno) : "EOF";
			return -1;
		}
		*got += (size_t)n;
	}
	return 0;
}

/* Head fields that matter: status, framing, Connection: close. */
static long parse_head(char *head, struct http_answer *a)
{
	char v[64];
	long clen = -1;

	if (sscanf(head, "HTTP/1.%*d %d", &a->status) != 1)
		a->err = "bad-status-line";
	if (!head_field(head, "transfer-encoding", v, sizeof(v)))
		a->err = "chunked"; /* ambit-echo always sends Content-Length */
	if (!head_field(head, "content-length", v, sizeof(v)))
		clen = strtol(v, NULL, 10);
	if (!head_field(head, "connection", v, sizeof(v)) && !strcasecmp(v, "close"))
		a->closes = 1;
	if (clen < 0 && !a->err)
		a->err = "no-content-length";
	return clen;
}

/* One response, exactly (nothing may follow it: we never pipeline). */
static void http_read(int fd, struct http_answer *a)
{
	static char buf[HTTP_BUF + 1];
	size_t got = 0, head_len, want;
	char *end = NULL;
	long clen;

	while (!(end = memmem(buf, got, "\r\n\r\n", 4))) {
		if (got == HTTP_BUF) {
			a->err = "head-too-large";
			return;
		}
		if (fill(fd, buf, &got, got + 1, a))
			return;
	}
	head_len = (size_t)(end + 4 - buf);
	buf[head_len - 2] = '\0';
	clen = parse_head(buf, a);
	if (a->err)
		return;
	if (clen > (long)(HTTP_BUF - head_len)) {
		a->err = "body-too-large";
		return;
	}
	want = head_len + (size_t)clen;
	if (got > want)
		a->err = "bytes-after-response";
	if (a->err || fill(fd, buf, &got, want, a))
		return;
	buf[want] = '\0';
	json_pick(buf + head_len, "\"hostname\":\"", a->host, sizeof(a->host));
	json_pick(buf + head_len, "\"x-gen\":[\"", a->gen, sizeof(a->gen));
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The connection requests go on, reopened when needed. */
struct http_conn {
	int fd;
	long n;          /* connections opened so far */
	struct window w; /* generations during its connect() */
};

static void http_connect(const struct sockaddr_storage *ss, socklen_t len,
			 struct http_conn *c, struct http_answer *a)
{
	int e;

	win_open(&c->w);
	c->fd = tcp_connect(ss, len);
	e = errno;
	win_close(&c->w);
	c->n++;
	if (c->fd < 0)
		a->err = strerrorname_np(e);
}

static void http_print(const struct http_answer *a, const struct http_conn *c,
		       const struct window *w, int ok)
{
	if (ok)
		printf("ok %s status=%d gen=%s", a->host, a->status, a->gen);
	else
		printf("err %s status=%d", a->err ? a->err : "http", a->status);
	printf(" conn=%ld", c->n);
	win_print("win", w);
	win_print("cwin", &c->w);
	printf("\n");
}

static int http_once(const struct sockaddr_storage *ss, socklen_t len,
		     struct http_conn *c, const char *req)
{
	struct http_answer a = { .status = -1 };
	struct window w;
	int ok;

	win_open(&w);
	if (c->fd < 0)
		http_connect(ss, len, c, &a);
	if (c->fd >= 0 && send_all(c->fd, req, strlen(req)))
		a.err = strerrorname_np(errno);
	if (c->fd >= 0 && !a.err)
		http_read(c->fd, &a);
	win_close(&w);
	ok = !a.err && a.status >= 200 && a.status < 300;
	http_print(&a, c, &w, ok);
	if (c->fd >= 0 && (!ok || a.closes || !opt.keep_alive)) {
		close(c->fd);
		c->fd = -1;
	}
	return ok ? 0 : -1;
}

/* Another attempt? Count, stop file, and (-s) a line on stdin. */
static int more(long done)
{
	char line[64];

	if (opt.count >= 0 && done >= opt.count)
		return 0;
	if (opt.stop_file && !access(opt.stop_file, F_OK))
		return 0;
	return !opt.stepped || fgets(line, sizeof(line), stdin);
}

static int run_http(const struct sockaddr_storage *ss, socklen_t len)
{
	struct http_conn c = { .fd = -1 };
	char req[4096];
	long i, fails = 0;
	int n, k;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: probe\r\n%s",
		     opt.path, opt.keep_alive ? "" : "Connection: close\r\n");
	for (k = 0; k < opt.n_headers && n > 0 && (size_t)n < sizeof(req); k++)
		n += snprintf(req + n, sizeof(req) - (size_t)n, "%s\r\n", opt.headers[k]);
	if (n <= 0 || (size_t)n + 3 > sizeof(req))
		return 2;
	strcat(req, "\r\n");
	for (i = 0; more(i); i++)
		fails += http_once(ss, len, &c, req) ? 1 : 0;
	if (c.fd >= 0)
		close(c.fd);
	return fails ? 1 : 0;
}

static int run_tcp(const struct sockaddr_storage *ss, socklen_t len)
{
	long i, fails = 0;

	for (i = 0; more(i); i++)
		fails += tcp_once(ss, len) ? 1 : 0;
	return fails ? 1 : 0;
}

/* ---- load: many keep-alive connections held at once ---------------------- */

#define HC_BUF 2048     /* an echo answer is a few hundred bytes */
#define HC_IDLE_MS 10000 /* no event at all for this long: a round is stuck */
#define HC_SHOWN 10     /* errors printed; the rest are only counted */

struct hconn {
	int fd;
	int busy;        /* connecting, or a request of this round in flight */
	int connecting;
	size_t n;        /* bytes in buf */
	char buf[HC_BUF];
};

struct hload {
	struct sockaddr_storage ss;
	socklen_t len;
	const char *path;
	const char *hold;
	long conns, rounds, parallel;
	struct hconn *c;
	int ep;
	long ok, errs;
	char req[512];
	size_t req_len;
};

/* The connection failed: say why (the first few), close it for good. */
static void hc_fail(struct hload *x, struct hconn *c, int round, const char *why)
{
	if (x->errs++ < HC_SHOWN)
		fprintf(stderr, "err conn %ld round %d: %s\n", (long)(c - x->c),
			round + 1, why);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->busy = 0;
}

static int hc_watch(struct hload *x, struct hconn *c, int op, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = c };

	return epoll_ctl(x->ep, op, c->fd, &e);
}

static void hc_send(struct hload *x, struct hconn *c, int round)
{
	ssize_t n = send(c->fd, x->req, x->req_len, MSG_NOSIGNAL);

	if (n != (ssize_t)x->req_len) {
		hc_fail(x, c, round, n < 0 ? strerrorname_np(errno) : "short send");
		return;
	}
	c->n = 0;
	c->busy = 1;
	if (hc_watch(x, c, EPOLL_CTL_MOD, EPOLLIN))
		hc_fail(x, c, round, strerrorname_np(errno));
}

/* Start this round on @c. 1: in flight; 0: already done with (failed). */
static int hc_start(struct hload *x, struct hconn *c, int round)
{
	if (c->fd < 0 && round > 0) { /* lost in an earlier round */
		x->errs++;
		return 0;
	}
	if (c->fd >= 0) {
		hc_send(x, c, round);
		return c->busy;
	}
	c->fd = socket(x->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || hc_watch(x, c, EPOLL_CTL_ADD, EPOLLOUT) ||
	    (connect(c->fd, (struct sockaddr *)&x->ss, x->len) < 0 &&
	     errno != EINPROGRESS)) {
		hc_fail(x, c, round, strerrorname_np(errno));
		return 0;
	}
	c->busy = 1;
	c->connecting = 1;
	return 1;
}

/* A whole answer in c->buf? 1 yes (and it is a 200), 0 not yet, -1 bad. */
static int hc_answer(struct hconn *c, const char **why)
{
	char *end, *cl;
	size_t head, body;

	c->buf[c->n] = '\0';
	end = strstr(c->buf, "\r\n\r\n");
	*why = "answer larger than the buffer";
	if (!end)
		return c->n + 1 >= HC_BUF ? -1 : 0;
	head = (size_t)(end - c->buf) + 4;
	*why = "not a 200";
	if (strncmp(c->buf, "HTTP/1.1 200 ", 13))
		return -1;
	*why = "no Content-Length";
	cl = strcasestr(c->buf, "\r\ncontent-length:");
	if (!cl || cl > end)
		return -1;
	body = strtoul(cl + 17, NULL, 10);
	*why = "bytes after the answer";
	if (c->n > head + body)
		return -1;
	*why = "answer larger than the buffer";
	if (head + body + 1 > HC_BUF)
		return -1;
	return c->n == head + body;
}

/* An event on a busy connection. 1 when its request is finished. */
static int hc_event(struct hload *x, struct hconn *c, int round)
{
	const char *why;
	int err = 0, r;
	socklen_t elen = sizeof(err);
	ssize_t n;

	if (c->connecting) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) || err) {
			hc_fail(x, c, round, strerrorname_np(err ? err : errno));
			return 1;
		}
		c->connecting = 0;
		hc_send(x, c, round);
		return !c->busy;
	}
	n = read(c->fd, c->buf + c->n, HC_BUF - 1 - c->n);
	if (n <= 0) {
		hc_fail(x, c, round, n ? strerrorname_np(errno) : "EOF");
		return 1;
	}
	c->n += (size_t)n;
	r = hc_answer(c, &why);
	if (r < 0)
		hc_fail(x, c, round, why);
	if (r > 0) {
		x->ok++;
		c->busy = 0;
		hc_watch(x, c, EPOLL_CTL_MOD, 0); /* idle until the next round */
	}
	return r != 0;
}

/* Nothing moved for HC_IDLE_MS: every busy connection has failed. */
static long hc_expire(struct hload *x, int round)
{
	long i, n = 0;

	for (i = 0; i < x->conns; i++) {
		if (x->c[i].busy) {
			hc_fail(x, &x->c[i], round, "ETIMEDOUT");
			n++;
		}
	}
	return n;
}

static void hload_round(struct hload *x, int round)
{
	struct epoll_event ev[256];
	long next = 0, busy = 0, done = 0;
	int i, n;

	while (done < x->conns) {
		for (; busy < x->parallel && next < x->conns; next++) {
			if (hc_start(x, &x->c[next], round))
				busy++;
			else
				done++;
		}
		n = epoll_wait(x->ep, ev, 256, HC_IDLE_MS);
		if (n <= 0) {
			n = (int)hc_expire(x, round);
			busy -= n;
			done += n;
			continue;
		}
		for (i = 0; i < n; i++) {
			struct hconn *c = ev[i].data.ptr;

			if (c->fd < 0)
				continue; /* failed earlier in this batch */
			if (!c->busy) { /* only a hang-up reports on an idle one */
				hc_fail(x, c, round, "closed while idle");
				continue;
			}
			if (hc_event(x, c, round)) {
				busy--;
				done++;
			}
		}
	}
}

/* Hold every connection open until the test removes @path. */
static void hload_hold(const char *path, long open)
{
	struct stat st;
	FILE *f = fopen(path, "we");
	int i;

	if (!f)
		return;
	fprintf(f, "open %ld\n", open);
	fclose(f);
	for (i = 0; i < 6000 && !stat(path, &st); i++)
		usleep(20000);
}

static int hload_run(struct hload *x)
{
	struct rlimit rl;
	long i, open = 0;

	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	x->req_len = (size_t)snprintf(x->req, sizeof(x->req),
				      "GET %s HTTP/1.1\r\nHost: probe\r\n\r\n", x->path);
	x->c = calloc((size_t)x->conns, sizeof(*x->c));
	x->ep = epoll_create1(EPOLL_CLOEXEC);
	if (!x->c || x->ep < 0 || x->req_len >= sizeof(x->req)) {
		perror("ambit-probe load");
		return 1;
	}
	for (i = 0; i < x->conns; i++)
		x->c[i].fd = -1;
	for (i = 0; i < x->rounds; i++)
		hload_round(x, (int)i);
	for (i = 0; i < x->conns; i++)
		open += x->c[i].fd >= 0;
	printf("conns=%ld requests=%ld ok=%ld errors=%ld open=%ld\n", x->conns,
	       x->conns * x->rounds, x->ok, x->errs, open);
	if (x->hold)
		hload_hold(x->hold, open);
	for (i = 0; i < x->conns; i++)
		if (x->c[i].fd >= 0)
			close(x->c[i].fd);
	free(x->c);
	close(x->ep);
	return x->errs || open != x->conns ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: ambit-probe tcp ADDR:PORT [-n COUNT] [-m MARK] [-u STOPFILE] [-g GENFILE]\n"
			"       ambit-probe http ADDR:PORT PATH [-n COUNT] [-k] [-H 'Name: value']...\n"
			"                        [-u STOPFILE] [-g GENFILE] [-s]\n"
			"       ambit-probe halfclose ADDR:PORT PATH\n"
			"       ambit-probe udp ADDR:PORT MESSAGE [--connect]\n"
			"       ambit-probe hold|hold-udp ADDR:PORT [-t SECONDS]\n"
			"       ambit-probe many ADDR:PORT COUNT SECONDS\n"
			"       ambit-probe load ADDR:PORT [-c CONNS] [-r ROUNDS] [-p PARALLEL]\n"
			"                        [-P PATH] [-H HOLD-FILE]\n"
			"(the comment at the top of tests/tools/ambit-probe.c says more)\n");
	exit(2);
}

static int load_main(int argc, char **argv, struct hload *x)
{
	for (int a = 3; a + 1 < argc; a += 2) {
		const char *v = argv[a + 1];

		if (!strcmp(argv[a], "-c"))
			x->conns = atol(v);
		else if (!strcmp(argv[a], "-r"))
			x->rounds = atol(v);
		else if (!strcmp(argv[a], "-p"))
			x->parallel = atol(v);
		else if (!strcmp(argv[a], "-P"))
			x->path = v;
		else if (!strcmp(argv[a], "-H"))
			x->hold = v;
		else
			usage();
	}
	if ((argc - 3) % 2 || x->conns < 1 || x->rounds < 1 || x->parallel < 1)
		usage();
	return hload_run(x);
}

/* Options of tcp and http, after MODE and ADDR. */
static void parse_opts(int argc, char **argv, int http)
{
	int c, count_set = 0;

	optind = 3;
	while ((c = getopt(argc, argv, http ? "n:u:g:H:ks" : "n:m:u:g:")) != -1) {
		switch (c) {
		case 'n': opt.count = atol(optarg); count_set = 1; break;
		case 'm': opt.mark = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'u': opt.stop_file = optarg; break;
		case 'g': opt.gen_file = optarg; break;
		case 'k': opt.keep_alive = 1; break;
		case 's': opt.stepped = 1; break;
		case 'H':
			if (opt.n_headers == 16)
				usage();
			opt.headers[opt.n_headers++] = optarg;
			break;
		default: usage();
		}
	}
	if (!count_set && (opt.stop_file || opt.stepped))
		opt.count = -1; /* until told to stop */
	if (http && optind + 1 == argc && argv[optind][0] == '/')
		opt.path = argv[optind++];
	if (optind != argc || (http && !opt.path))
		usage();
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (argc < 3 || parse_addr(argv[2], &ss, &len))
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "udp")) {
		if (argc < 4)
			usage();
		return udp_once(&ss, len, argv[3],
				argc > 4 && !strcmp(argv[4], "--connect")) ? 1 : 0;
	}
	if (!strcmp(argv[1], "hold") || !strcmp(argv[1], "hold-udp")) {
		long secs = argc == 5 && !strcmp(argv[3], "-t") ? atol(argv[4]) : 30;

		if (argc != 3 && argc != 5)
			usage();
		return hold(&ss, len, strcmp(argv[1], "hold") ? SOCK_DGRAM
							       : SOCK_STREAM, secs);
	}
	if (!strcmp(argv[1], "many"))
		return argc == 5 ? many(&ss, len, atol(argv[3]), atol(argv[4]))
				 : (usage(), 2);
	if (!strcmp(argv[1], "load")) {
		struct hload x = { .ss = ss, .len = len, .path = "/", .conns = 100,
				   .rounds = 2, .parallel = 256 };

		return load_main(argc, argv, &x);
	}
	if (!strcmp(argv[1], "halfclose"))
		return argc == 4 ? halfclose(&ss, len, argv[3]) : (usage(), 2);
	if (strcmp(argv[1], "tcp") && strcmp(argv[1], "http"))
		usage();
	parse_opts(argc, argv, !strcmp(argv[1], "http"));
	return !strcmp(argv[1], "tcp") ? run_tcp(&ss, len) : run_http(&ss, len);
}
