// SPDX-License-Identifier: Apache-2.0
/*
 * ambit-echo - test backend and probe for ambit's end-to-end tests and
 * benchmarks.
 *
 * Server: HTTP/1.1 (or raw TCP echo) listeners plus UDP responders.  Every
 * answer names the backend, so a test can tell where ambit sent traffic.
 * Clients: --tcp-client / --udp-client probe a target N times and print one
 * line per attempt, so a test can count answers per backend and failures.
 *
 * One file, libc and pthreads only, so any test host can build it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* strerrorname_np, accept4, pktinfo */
#endif
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX	(64 * 1024)	/* request line + headers, else 431 */
#define IN_MIN		4096
#define IN_MAX		(2 * HEAD_MAX)	/* a full head plus what follows */
#define HDR_MAX		1024		/* header fields in one request */
#define CHUNK_LINE_MAX	4096		/* chunk-size and trailer lines */
#define OUT_HIGH	(256 * 1024)	/* stop reading above this backlog */
#define TCP_READ	(16 * 1024)
#define UDP_BUF		65536
#define UDP_REPLY_MAX	65507		/* largest IPv4 UDP payload */
#define DELAY_MAX_MS	600000
#define LINGER_MS	2000
#define ADDR_STRLEN	64
#define MAX_SPECS	64
#define MAX_WORKERS	256
#define NAME_MAX_LEN	255
#define ACCEPT_BATCH	64
#define LINE_MAX_LEN	4096
#define NOFILE_WANT	(1 << 20)
#define ERR_EOF		(-1)		/* client: peer closed, no line */

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

enum mode { MODE_HTTP, MODE_TCP };
enum client { CLIENT_NONE, CLIENT_TCP, CLIENT_UDP };

struct spec {
	struct sockaddr_storage ss;
	socklen_t len;
	bool udp;
};

static struct config {
	const char *name;
	size_t name_len;
	struct spec specs[MAX_SPECS];
	int nspecs;
	enum mode mode;
	int workers;
	const char *ready_file;
	int log_fd;          /* --log: one line per request answered, or -1 */
	enum client client;
	struct spec target;
	const char *message;
	long count;
	long timeout_ms;
	bool client_opts;
} cfg = {
	.mode = MODE_HTTP,
	.workers = 1,
	.log_fd = -1,
	.count = 1,
	.timeout_ms = 2000,
};

struct buf {
	char *p;
	size_t len, cap;
};

enum ev_kind { EV_STOP, EV_LISTEN, EV_UDP, EV_CONN, EV_TIMER };

/* What an epoll event points at: the kind says which struct embeds it. */
struct ev {
	enum ev_kind kind;
	int fd;
};

struct lsock {
	struct ev ev;
	struct sockaddr_storage local;
	bool wildcard;
};

struct hdr {
	const char *name, *val;
	size_t name_len, val_len;
};

enum cstate { ST_HEAD, ST_BODY, ST_READY, ST_DELAY, ST_LINGER };
enum body_kind { BODY_NONE, BODY_LENGTH, BODY_CHUNKED };
enum chunk_state { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER };

struct worker;

/*
 * Input layout: [start, start + head_len) is the current request's head,
 * kept until its response is built; [pos, len) is not yet parsed.  Body
 * bytes between them are counted and dropped at the next compaction.
 */
struct conn {
	struct ev sock, timer;
	struct worker *w;
	struct conn *prev, *next;
	bool dead, rd_eof, closing, have_addrs;
	bool tunnel; /* after 101: echo bytes, like --mode tcp */
	uint32_t events;
	enum cstate st;
	struct buf in;
	size_t start, head_len, pos, scan;
	enum body_kind body;
	enum chunk_state chunk;
	uint64_t remain, body_bytes;
	size_t trailer_bytes;
	long delay_ms;
	struct buf out;
	size_t out_off;
	char local[ADDR_STRLEN], peer[ADDR_STRLEN];
};

struct req {
	const char *method, *target, *proto, *host;
	size_t method_len, target_len, host_len;
	bool http10, has_length, has_te, chunked;
	bool conn_close, conn_keep_alive, keep_alive, expect_continue;
	bool upgrade; /* Upgrade: ambit-echo asks for the byte echo tunnel */
	int nhdrs, nhost, status, err_status;
	int extra_status; /* x-echo-extra-response: a broken backend */
	long delay_ms;
	enum body_kind body;
	uint64_t length;
	const char *err;
};

struct worker {
	int epfd, reserve_fd;
	pthread_t thread;
	bool started, warned_emfile;
	struct lsock ls[MAX_SPECS];
	int nls;
	struct conn *live, *dead;
	struct hdr hdrs[HDR_MAX];
	struct buf scratch;
	char *udp_in, *udp_out;
};

union cmsg_buf {
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct cmsghdr align;
};

static struct ev stop_ev = { EV_STOP, -1 };
static struct worker *workers;

static void http_process(struct conn *c);
static void conn_kick(struct conn *c);

/* ---- small utilities ---- */

static void die_oom(void)
{
	fputs("ambit-echo: out of memory\n", stderr);
	abort();
}

/* A test tool gains nothing from limping on without memory: stop loudly. */
static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p && n)
		die_oom();
	return p;
}

static void buf_reserve(struct buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;

	if (b->len + more <= b->cap)
		return;
	while (cap < b->len + more)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

static void buf_add(struct buf *b, const void *p, size_t n)
{
	if (!n)
		return;
	buf_reserve(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
static void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	buf_reserve(b, 128);
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= b->cap - b->len) {
		buf_reserve(b, n + 1);
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += n;
}

static void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Strict decimal: no sign, no spaces, nothing after. */
static int parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (!n || n > 19)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* ---- addresses ---- */

static in_port_t *sa_port(struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return &((struct sockaddr_in6 *)ss)->sin6_port;
	return &((struct sockaddr_in *)ss)->sin_port;
}

static void fmt_addr(const struct sockaddr_storage *ss, char *out, size_t n)
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &in4->sin_addr, ip, sizeof(ip));
		snprintf(out, n, "%s:%u", ip, ntohs(in4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		snprintf(out, n, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else {
		snprintf(out, n, "unknown");
	}
}

static bool is_wildcard(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET)
		return in4->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr);
}

/* Literal "IPv4:PORT" or "[IPv6]:PORT"; names are not resolved on purpose. */
static int parse_addr(const char *arg, struct spec *sp)
{
	char host[INET6_ADDRSTRLEN];
	const char *h = arg, *colon = strrchr(arg, ':'), *rb;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sp->ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&sp->ss;
	uint64_t port;
	size_t hl;

	if (arg[0] == '[') {
		rb = strchr(arg, ']');
		if (!rb || rb[1] != ':')
			return -1;
		h = arg + 1;
		colon = rb + 1;
	}
	if (!colon)
		return -1;
	hl = (size_t)(colon - h) - (arg[0] == '[');
	if (!hl || hl >= sizeof(host) ||
	    parse_uint(colon + 1, strlen(colon + 1), 65535, &port))
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(&sp->ss, 0, sizeof(sp->ss));
	if (arg[0] == '[' && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		sp->len = sizeof(*in6);
	} else if (arg[0] != '[' &&
		   inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		sp->len = sizeof(*in4);
	} else {
		return -1;
	}
	*sa_port(&sp->ss) = htons((uint16_t)port);
	return 0;
}

/* ---- JSON ---- */

static bool json_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

/* Length of a valid UTF-8 sequence at s, or 0: JSON must be UTF-8. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp, min;
	size_t need, i;

	if ((s[0] & 0xe0) == 0xc0) {
		need = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		need = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		need = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

/* Invalid UTF-8 bytes come out as their Latin-1 code point. */
static void json_escape_byte(struct buf *b, unsigned char c)
{
	switch (c) {
	case '"':
		buf_str(b, "\\\"");
		break;
	case '\\':
		buf_str(b, "\\\\");
		break;
	case '\n':
		buf_str(b, "\\n");
		break;
	case '\r':
		buf_str(b, "\\r");
		break;
	case '\t':
		buf_str(b, "\\t");
		break;
	default:
		buf_printf(b, "\\u%04x", c);
		break;
	}
}

static void json_str(struct buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run, k;

	buf_reserve(b, n + 2);
	buf_add(b, "\"", 1);
	while (i < n) {
		for (run = i; run < n && json_plain(u[run]); run++)
			;
		buf_add(b, s + i, run - i);
		i = run;
		if (i == n)
			break;
		k = u[i] >= 0x80 ? utf8_len(u + i, n - i) : 0;
		if (k) {
			buf_add(b, s + i, k);
			i += k;
		} else {
			json_escape_byte(b, u[i++]);
		}
	}
	buf_add(b, "\"", 1);
}

static void json_cstr(struct buf *b, const char *s)
{
	json_str(b, s, strlen(s));
}

/* ---- HTTP request parsing ---- */

static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

static bool is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool span_is(const char *s, size_t n, const char *lit)
{
	return n == strlen(lit) && !strncasecmp(s, lit, n);
}

static bool hdr_is(const struct hdr *h, const char *name)
{
	return span_is(h->name, h->name_len, name);
}

static int req_fail(struct req *r, int status, const char *why)
{
	r->err_status = status;
	r->err = why;
	return -1;
}

/* Next line in [*p, end) without its CR LF; moves *p past it. */
static bool next_line(const char **p, const char *end, const char **line,
		      size_t *len)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));

	if (!nl)
		return false;
	*line = *p;
	*len = (size_t)(nl - *p);
	if (*len && nl[-1] == '\r')
		(*len)--;
	*p = nl + 1;
	return true;
}

static int parse_request_line(const char *s, size_t n, struct req *r)
{
	const char *end = s + n, *sp1, *sp2, *p;

	sp1 = memchr(s, ' ', n);
	if (!sp1 || sp1 == s)
		return -1;
	for (p = s; p < sp1; p++)
		if (!is_tchar((unsigned char)*p))
			return -1;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1)
		return -1;
	for (p = sp1 + 1; p < sp2; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return -1;
	if (end - sp2 != 9 || memcmp(sp2 + 1, "HTTP/1.", 7) ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return -1;
	r->method = s;
	r->method_len = (size_t)(sp1 - s);
	r->target = sp1 + 1;
	r->target_len = (size_t)(sp2 - sp1 - 1);
	r->proto = sp2 + 1;
	r->http10 = sp2[8] == '0';
	return 0;
}

/* "name: value"; obs-fold and whitespace before the colon are refused. */
static int parse_header_line(const char *s, size_t n, struct hdr *h)
{
	const char *colon = memchr(s, ':', n), *end = s + n, *v, *p;

	if (!colon || colon == s)
		return -1;
	for (p = s; p < colon; p++)
		if (!is_tchar((unsigned char)*p))
			return -1;
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (p = v; p < end; p++)
		if (!is_field_char((unsigned char)*p))
			return -1;
	h->name = s;
	h->name_len = (size_t)(colon - s);
	h->val = v;
	h->val_len = (size_t)(end - v);
	return 0;
}

/* Trimmed comma-separated element of a header value; false at the end. */
static bool next_elem(const char **p, const char *end, const char **e,
		      size_t *n)
{
	const char *a = *p, *b;

	if (a >= end)
		return false;
	b = memchr(a, ',', (size_t)(end - a));
	if (!b)
		b = end;
	*p = b + 1;
	while (a < b && (*a == ' ' || *a == '\t'))
		a++;
	while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
		b--;
	*e = a;
	*n = (size_t)(b - a);
	return true;
}

static void inspect_connection(const struct hdr *h, struct req *r)
{
	const char *p = h->val, *end = h->val + h->val_len, *e;
	size_t n;

	while (next_elem(&p, end, &e, &n)) {
		if (span_is(e, n, "close"))
			r->conn_close = true;
		else if (span_is(e, n, "keep-alive"))
			r->conn_keep_alive = true;
	}
}

/* Only a final "chunked" coding frames a request body (RFC 9112 6.3). */
static void inspect_te(const struct hdr *h, struct req *r)
{
	const char *p = h->val, *end = h->val + h->val_len, *e;
	size_t n;

	r->has_te = true;
	r->chunked = false;
	while (next_elem(&p, end, &e, &n))
		if (n)
			r->chunked = span_is(e, n, "chunked");
}

static int inspect_length(const struct hdr *h, struct req *r)
{
	uint64_t v;

	if (parse_uint(h->val, h->val_len, UINT64_C(1) << 62, &v))
		return req_fail(r, 400, "invalid content-length");
	if (r->has_length && v != r->length)
		return req_fail(r, 400, "conflicting content-length");
	r->has_length = true;
	r->length = v;
	return 0;
}

static int inspect_hooks(const struct hdr *h, struct req *r)
{
	struct hdr extra;
	uint64_t v;

	if (hdr_is(h, "x-echo-status")) {
		if (parse_uint(h->val, h->val_len, 599, &v) || v < 200)
			return req_fail(r, 400, "x-echo-status must be 200-599");
		r->status = (int)v;
	} else if (hdr_is(h, "x-echo-delay-ms")) {
		if (parse_uint(h->val, h->val_len, DELAY_MAX_MS, &v))
			return req_fail(r, 400, "x-echo-delay-ms must be 0-600000");
		r->delay_ms = (long)v;
	} else if (hdr_is(h, "x-echo-header")) {
		if (parse_header_line(h->val, h->val_len, &extra))
			return req_fail(r, 400, "x-echo-header must be 'name: value'");
	} else if (hdr_is(h, "x-echo-extra-response")) {
		if (parse_uint(h->val, h->val_len, 599, &v) || v < 200)
			return req_fail(r, 400, "x-echo-extra-response must be 200-599");
		r->extra_status = (int)v;
	}
	return 0;
}

static int inspect_one(const struct hdr *h, struct req *r)
{
	if (hdr_is(h, "host")) {
		r->nhost++;
		r->host = h->val;
		r->host_len = h->val_len;
	} else if (hdr_is(h, "content-length")) {
		return inspect_length(h, r);
	} else if (hdr_is(h, "transfer-encoding")) {
		inspect_te(h, r);
	} else if (hdr_is(h, "connection")) {
		inspect_connection(h, r);
	} else if (hdr_is(h, "expect")) {
		r->expect_continue = span_is(h->val, h->val_len, "100-continue");
	} else if (hdr_is(h, "upgrade")) {
		r->upgrade = span_is(h->val, h->val_len, "ambit-echo");
	} else if (h->name_len > 7 && !strncasecmp(h->name, "x-echo-", 7)) {
		return inspect_hooks(h, r);
	}
	return 0;
}

static int req_inspect(struct worker *w, struct req *r)
{
	int i;

	for (i = 0; i < r->nhdrs; i++)
		if (inspect_one(&w->hdrs[i], r))
			return -1;
	/* RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one before. */
	if (r->nhost > 1 || (!r->http10 && !r->nhost))
		return req_fail(r, 400, "missing or repeated host header");
	/* Both framings at once is how requests get smuggled: refuse. */
	if (r->has_te && (!r->chunked || r->has_length))
		return req_fail(r, 400, "unsupported transfer-encoding");
	if (r->has_te)
		r->body = BODY_CHUNKED;
	else if (r->length)
		r->body = BODY_LENGTH;
	if (r->http10)
		r->keep_alive = r->conn_keep_alive && !r->conn_close;
	else
		r->keep_alive = !r->conn_close;
	return 0;
}

/* Parses the buffered head; header pointers stay valid until more input. */
static int parse_req(struct conn *c, struct req *r)
{
	const char *p = c->in.p + c->start, *end = p + c->head_len, *line;
	struct worker *w = c->w;
	size_t n;

	memset(r, 0, sizeof(*r));
	r->status = 200;
	if (!next_line(&p, end, &line, &n) || parse_request_line(line, n, r))
		return req_fail(r, 400, "malformed request line");
	while (next_line(&p, end, &line, &n) && n) {
		if (r->nhdrs == HDR_MAX)
			return req_fail(r, 431, "too many header fields");
		if (parse_header_line(line, n, &w->hdrs[r->nhdrs]))
			return req_fail(r, 400, "malformed header field");
		r->nhdrs++;
	}
	return req_inspect(w, r);
}

/* ---- HTTP responses ---- */

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

static void conn_addrs(struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (c->have_addrs)
		return;
	c->have_addrs = true;
	memset(&ss, 0, sizeof(ss));
	getsockname(c->sock.fd, (struct sockaddr *)&ss, &len);
	fmt_addr(&ss, c->local, sizeof(c->local));
	len = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	getpeername(c->sock.fd, (struct sockaddr *)&ss, &len);
	fmt_addr(&ss, c->peer, sizeof(c->peer));
}

static bool same_name(const struct hdr *a, const struct hdr *b)
{
	return a->name_len == b->name_len &&
	       !strncasecmp(a->name, b->name, a->name_len);
}

/* Name -> all its values in order, names in order of first appearance. */
static void json_headers(struct buf *b, const struct hdr *h, int n)
{
	int i, j, k;
	size_t m;

	buf_add(b, "{", 1);
	for (i = 0; i < n; i++) {
		for (k = 0; k < i && !same_name(&h[k], &h[i]); k++)
			;
		if (k < i)
			continue;
		buf_str(b, i ? ",\"" : "\"");
		buf_reserve(b, h[i].name_len);
		/* tchars need no JSON escaping, only lower-casing */
		for (m = 0; m < h[i].name_len; m++)
			b->p[b->len++] = (char)tolower((unsigned char)h[i].name[m]);
		buf_str(b, "\":[");
		for (j = i, k = 0; j < n; j++) {
			if (!same_name(&h[i], &h[j]))
				continue;
			buf_str(b, k++ ? "," : "");
			json_str(b, h[j].val, h[j].val_len);
		}
		buf_add(b, "]", 1);
	}
	buf_add(b, "}", 1);
}

static void build_json(struct conn *c, const struct req *r, struct buf *b)
{
	conn_addrs(c);
	b->len = 0;
	buf_str(b, "{\"hostname\":");
	json_str(b, cfg.name, cfg.name_len);
	buf_str(b, ",\"method\":");
	json_str(b, r->method, r->method_len);
	buf_str(b, ",\"path\":");
	json_str(b, r->target, r->target_len);
	buf_str(b, ",\"host\":");
	json_str(b, r->host ? r->host : "", r->host_len);
	buf_str(b, ",\"proto\":");
	json_str(b, r->proto, 8);
	buf_str(b, ",\"headers\":");
	json_headers(b, c->w->hdrs, r->nhdrs);
	buf_printf(b, ",\"body_bytes\":%" PRIu64 ",\"local\":", c->body_bytes);
	json_cstr(b, c->local);
	buf_str(b, ",\"peer\":");
	json_cstr(b, c->peer);
	buf_str(b, "}\n");
}

static void emit_extra_headers(struct worker *w, const struct req *r,
			       struct buf *o)
{
	struct hdr x;
	int i;

	for (i = 0; i < r->nhdrs; i++) {
		if (!hdr_is(&w->hdrs[i], "x-echo-header") ||
		    parse_header_line(w->hdrs[i].val, w->hdrs[i].val_len, &x))
			continue;
		buf_add(o, x.name, x.name_len);
		buf_add(o, ": ", 2);
		buf_add(o, x.val, x.val_len);
		buf_add(o, "\r\n", 2);
	}
}

/* --log: "METHOD TARGET HOST" per request, one write() each so lines from
 * several workers never interleave (O_APPEND). */
static void log_request(const struct req *r)
{
	char line[1024];
	int n;

	if (cfg.log_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%.*s %.*s %.*s\n", (int)r->method_len,
		     r->method, (int)r->target_len, r->target, (int)r->host_len,
		     r->host ? r->host : "");
	if (n > 0 && write(cfg.log_fd, line, (size_t)n < sizeof(line) ?
			   (size_t)n : sizeof(line) - 1) < 0)
		cfg.log_fd = -1;
}

static void respond(struct conn *c, const struct req *r)
{
	struct buf *b = &c->w->scratch, *o = &c->out;
	bool has_body = r->status != 204 && r->status != 304;
	bool is_head = span_is(r->method, r->method_len, "HEAD");

	log_request(r);
	if (r->upgrade && !c->tunnel) {
		/* A test of upgrade passthrough: 101, then echo the bytes. */
		buf_printf(o, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: "
			   "ambit-echo\r\nConnection: Upgrade\r\n\r\n%s\n", cfg.name);
		c->tunnel = true;
		return;
	}
	build_json(c, r, b);
	buf_printf(o, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n",
		   r->status, reason(r->status));
	if (has_body)
		buf_printf(o, "Content-Length: %zu\r\n", b->len);
	if (!r->keep_alive)
		buf_str(o, "Connection: close\r\n");
	else if (r->http10)
		buf_str(o, "Connection: keep-alive\r\n");
	emit_extra_headers(c->w, r, o);
	buf_add(o, "\r\n", 2);
	if (has_body && !is_head)
		buf_add(o, b->p, b->len);
	/* A backend that answers what it was never asked, in the same write. */
	if (r->extra_status)
		buf_printf(o, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\n\r\n",
			   r->extra_status, reason(r->extra_status));
}

/* Errors close the connection: after a framing error, nothing is trusted. */
static void send_error(struct conn *c, int status, const char *why)
{
	struct buf *b = &c->w->scratch;

	b->len = 0;
	buf_str(b, "{\"error\":");
	json_cstr(b, why);
	buf_str(b, ",\"hostname\":");
	json_str(b, cfg.name, cfg.name_len);
	buf_str(b, "}\n");
	buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
		   "Content-Length: %zu\r\nConnection: close\r\n\r\n",
		   status, reason(status), b->len);
	buf_add(&c->out, b->p, b->len);
	c->closing = true;
}

/* ---- HTTP connection state machine ---- */

/* RFC 9112 2.2: empty lines before a request line are ignored. */
static void skip_blank_lines(struct conn *c)
{
	const char *p = c->in.p;
	size_t s = c->start;

	while (s < c->in.len) {
		if (p[s] == '\n')
			s++;
		else if (p[s] == '\r' && s + 1 < c->in.len && p[s + 1] == '\n')
			s += 2;
		else
			break;
	}
	if (s != c->start)
		c->scan = 0;
	c->start = c->pos = s;
}

/* Head length once its terminating empty line is buffered, else 0. */
static size_t find_head_end(struct conn *c)
{
	const char *base = c->in.p + c->start, *nl;
	size_t n = c->in.len - c->start, i = c->scan;

	/* scan remembers progress so slow clients cost O(n), not O(n^2) */
	while (i < n && (nl = memchr(base + i, '\n', n - i))) {
		i = (size_t)(nl - base) + 1;
		if (i < n && base[i] == '\n')
			return i + 1;
		if (i + 1 < n && base[i] == '\r' && base[i + 1] == '\n')
			return i + 2;
		if (i == n || (i + 1 == n && base[i] == '\r')) {
			c->scan = i - 1;
			return 0;
		}
	}
	c->scan = n;
	return 0;
}

static void start_body(struct conn *c, const struct req *r)
{
	c->body = r->body;
	c->remain = r->length;
	c->chunk = CH_SIZE;
	c->body_bytes = 0;
	c->trailer_bytes = 0;
	c->delay_ms = r->delay_ms;
	if (r->expect_continue && !r->http10 && r->body != BODY_NONE)
		buf_str(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
	c->st = r->body == BODY_NONE ? ST_READY : ST_BODY;
}

static int step_head(struct conn *c)
{
	struct req r;
	size_t end;

	skip_blank_lines(c);
	if (c->start == c->in.len)
		return 0;
	end = find_head_end(c);
	if (!end && c->in.len - c->start < HEAD_MAX)
		return 0;
	if (!end || end > HEAD_MAX) {
		send_error(c, 431, "request header section over 64 KiB");
		return 0;
	}
	c->head_len = end;
	c->pos = c->start + end;
	if (parse_req(c, &r)) {
		send_error(c, r.err_status, r.err);
		return 0;
	}
	start_body(c, &r);
	return 1;
}

/* Counts and skips up to c->remain buffered body bytes. */
static void body_take(struct conn *c)
{
	uint64_t n = c->in.len - c->pos;

	if (n > c->remain)
		n = c->remain;
	c->pos += n;
	c->remain -= n;
	c->body_bytes += n;
}

/* 1 with a complete line, 0 when more input is needed, -1 if too long. */
static int take_line(struct conn *c, const char **line, size_t *len)
{
	const char *p = c->in.p + c->pos, *end = c->in.p + c->in.len;

	if (!next_line(&p, end, line, len))
		return c->in.len - c->pos > CHUNK_LINE_MAX ? -1 : 0;
	if (*len > CHUNK_LINE_MAX)
		return -1;
	c->pos = (size_t)(p - c->in.p);
	return 1;
}

static int chunk_size(struct conn *c)
{
	const char *line;
	size_t n, i;
	uint64_t v = 0;
	int r = take_line(c, &line, &n);

	if (r <= 0)
		return r;
	for (i = 0; i < n && i < 16 && isxdigit((unsigned char)line[i]); i++)
		v = v << 4 | (uint64_t)(line[i] <= '9' ? line[i] - '0' :
					(line[i] | 0x20) - 'a' + 10);
	/* 15 digits keep the size far from overflow; extensions ignored */
	if (!i || i > 15 || (i < n && !strchr(" \t;", line[i])))
		return -1;
	c->remain = v;
	c->chunk = v ? CH_DATA : CH_TRAILER;
	return 1;
}

static int chunk_step(struct conn *c)
{
	const char *line;
	size_t n;
	int r;

	switch (c->chunk) {
	case CH_SIZE:
		return chunk_size(c);
	case CH_DATA:
		body_take(c);
		if (c->remain)
			return 0;
		c->chunk = CH_DATA_END;
		return 1;
	case CH_DATA_END:
		r = take_line(c, &line, &n);
		if (r > 0 && n)
			return -1;
		if (r > 0)
			c->chunk = CH_SIZE;
		return r;
	case CH_TRAILER:
		r = take_line(c, &line, &n);
		if (r <= 0)
			return r;
		if (!n)
			return 2;
		c->trailer_bytes += n;
		return c->trailer_bytes > HEAD_MAX ? -1 : 1;
	}
	return -1;
}

static int step_body(struct conn *c)
{
	int r = 1;

	if (c->body == BODY_LENGTH) {
		body_take(c);
		r = c->remain ? 0 : 2;
	}
	while (r == 1)
		r = chunk_step(c);
	if (r < 0) {
		send_error(c, 400, "malformed chunked body");
		return 0;
	}
	if (r == 2)
		c->st = ST_READY;
	return r == 2;
}

static int conn_timer(struct conn *c, long ms)
{
	struct itimerspec its = { 0 };
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = &c->timer };

	if (c->timer.fd < 0) {
		c->timer.fd = timerfd_create(CLOCK_MONOTONIC,
					     TFD_NONBLOCK | TFD_CLOEXEC);
		if (c->timer.fd < 0)
			return -1;
		if (epoll_ctl(c->w->epfd, EPOLL_CTL_ADD, c->timer.fd, &e)) {
			close(c->timer.fd);
			c->timer.fd = -1;
			return -1;
		}
	}
	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (ms % 1000) * 1000000L;
	return timerfd_settime(c->timer.fd, 0, &its, NULL);
}

static int finish_request(struct conn *c)
{
	struct req r;

	if (parse_req(c, &r)) {	/* cannot fail: it parsed before */
		send_error(c, 500, "request reparse failed");
		return 0;
	}
	respond(c, &r);
	if (!r.keep_alive)
		c->closing = true;
	c->start = c->pos;
	c->head_len = 0;
	c->scan = 0;
	c->st = ST_HEAD;
	if (c->start == c->in.len)
		c->start = c->pos = c->in.len = 0;
	return 1;
}

/* Delays use a timer so one slow answer never stalls the other clients. */
static int step_ready(struct conn *c)
{
	if (c->delay_ms <= 0)
		return finish_request(c);
	if (conn_timer(c, c->delay_ms)) {
		send_error(c, 500, "cannot arm delay timer");
		return 0;
	}
	c->st = ST_DELAY;
	return 0;
}

/* Answers buffered requests in order until input or output space runs out. */
static void http_process(struct conn *c)
{
	int progress = 1;

	while (progress && !c->closing && c->out.len - c->out_off < OUT_HIGH) {
		switch (c->st) {
		case ST_HEAD:
			progress = step_head(c);
			break;
		case ST_BODY:
			progress = step_body(c);
			break;
		case ST_READY:
			progress = step_ready(c);
			break;
		default:
			progress = 0;
			break;
		}
	}
}

/* ---- connections ---- */

static void conn_close(struct conn *c)
{
	struct worker *w = c->w;

	if (c->dead)
		return;
	c->dead = true;
	close(c->sock.fd);
	if (c->timer.fd >= 0)
		close(c->timer.fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->live = c->next;
	if (c->next)
		c->next->prev = c->prev;
	/* freed after the epoll batch, which may still hold pointers to it */
	c->next = w->dead;
	w->dead = c;
}

static void reap(struct worker *w)
{
	struct conn *c;

	while ((c = w->dead)) {
		w->dead = c->next;
		buf_free(&c->in);
		buf_free(&c->out);
		free(c);
	}
}

static void in_compact(struct conn *c)
{
	struct buf *b = &c->in;
	size_t rest = b->len - c->pos;

	memmove(b->p, b->p + c->start, c->head_len);
	memmove(b->p + c->head_len, b->p + c->pos, rest);
	c->start = 0;
	c->pos = c->head_len;
	b->len = c->head_len + rest;
}

static bool in_make_room(struct conn *c)
{
	struct buf *b = &c->in;
	size_t cap;

	if (b->len < b->cap)
		return true;
	if (c->start || c->pos > c->start + c->head_len)
		in_compact(c);
	if (b->len < b->cap)
		return true;
	if (b->cap >= IN_MAX)
		return false;
	cap = b->cap ? b->cap * 2 : IN_MIN;
	b->p = xrealloc(b->p, cap < IN_MAX ? cap : IN_MAX);
	b->cap = cap < IN_MAX ? cap : IN_MAX;
	return true;
}

static int recv_result(struct conn *c, ssize_t n)
{
	if (n > 0)
		return 0;
	if (n == 0) {
		c->rd_eof = true;
		return 0;
	}
	return errno == EAGAIN || errno == EINTR ? 0 : -1;
}

static int http_read(struct conn *c)
{
	struct buf *b = &c->in;
	ssize_t n;

	if (!in_make_room(c))
		return 0;
	n = recv(c->sock.fd, b->p + b->len, b->cap - b->len, 0);
	if (n > 0)
		b->len += (size_t)n;
	return recv_result(c, n);
}

/* TCP mode reads straight into the output buffer: that is the echo. */
static int tcp_read(struct conn *c)
{
	struct buf *o = &c->out;
	ssize_t n;

	if (c->out_off) {
		memmove(o->p, o->p + c->out_off, o->len - c->out_off);
		o->len -= c->out_off;
		c->out_off = 0;
	}
	buf_reserve(o, TCP_READ);
	n = recv(c->sock.fd, o->p + o->len, o->cap - o->len, 0);
	if (n > 0)
		o->len += (size_t)n;
	return recv_result(c, n);
}

/* After our last answer, drain the peer so close() does not send a RST. */
static int linger_read(struct conn *c)
{
	char tmp[4096];
	ssize_t n = recv(c->sock.fd, tmp, sizeof(tmp), 0);

	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return 0;
	return -1;
}

static int conn_flush(struct conn *c)
{
	ssize_t n;

	while (c->out_off < c->out.len) {
		n = send(c->sock.fd, c->out.p + c->out_off,
			 c->out.len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->out_off += (size_t)n;
	}
	c->out_off = c->out.len = 0;
	return 0;
}

static void start_linger(struct conn *c)
{
	shutdown(c->sock.fd, SHUT_WR);
	c->st = ST_LINGER;
	if (conn_timer(c, LINGER_MS))
		conn_close(c);
}

static bool want_read(struct conn *c)
{
	if (c->rd_eof)
		return false;
	if (c->st == ST_LINGER)
		return true;
	if (c->closing || c->out.len - c->out_off >= OUT_HIGH)
		return false;
	return cfg.mode == MODE_TCP || c->tunnel || in_make_room(c);
}

/* Called with the output flushed: is there nothing left to do? */
static bool conn_finished(const struct conn *c)
{
	if (c->closing || cfg.mode == MODE_TCP)
		return c->rd_eof;
	return c->rd_eof && c->st != ST_DELAY;
}

static void conn_update(struct conn *c)
{
	bool pending = c->out.len > c->out_off;
	struct epoll_event e = { .data.ptr = &c->sock };

	if (!pending && c->closing && c->st != ST_LINGER && !c->rd_eof)
		start_linger(c);
	if (!c->dead && !pending && conn_finished(c))
		conn_close(c);
	if (c->dead)
		return;
	e.events = (want_read(c) ? EPOLLIN : 0) | (pending ? EPOLLOUT : 0);
	if (e.events == c->events)
		return;
	if (epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->sock.fd, &e))
		conn_close(c);
	else
		c->events = e.events;
}

static void conn_kick(struct conn *c)
{
	if (cfg.mode == MODE_HTTP)
		http_process(c);
	if (conn_flush(c))
		conn_close(c);
	else
		conn_update(c);
}

static void on_conn(struct conn *c, uint32_t events)
{
	int r = 0;

	/* HUP means both directions are gone: nobody is left to answer */
	if (events & (EPOLLERR | EPOLLHUP)) {
		conn_close(c);
		return;
	}
	if (events & EPOLLIN) {
		if (c->st == ST_LINGER)
			r = linger_read(c);
		else if (cfg.mode == MODE_TCP || c->tunnel)
			r = tcp_read(c);
		else
			r = http_read(c);
	}
	if (r < 0)
		conn_close(c);
	else
		conn_kick(c);
}

static void on_timer(struct conn *c)
{
	uint64_t ticks;

	if (read(c->timer.fd, &ticks, sizeof(ticks)) < 0)
		return;
	if (c->st == ST_LINGER) {
		conn_close(c);
		return;
	}
	if (c->st == ST_DELAY)
		finish_request(c);
	conn_kick(c);
}

static void conn_new(struct worker *w, int fd)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct epoll_event e = { .events = EPOLLIN };
	int one = 1;

	if (!c)
		die_oom();
	c->sock = (struct ev){ EV_CONN, fd };
	c->timer = (struct ev){ EV_TIMER, -1 };
	c->w = w;
	c->events = EPOLLIN;
	e.data.ptr = &c->sock;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &e)) {
		close(fd);
		free(c);
		return;
	}
	c->next = w->live;
	if (w->live)
		w->live->prev = c;
	w->live = c;
	if (cfg.mode == MODE_TCP) {
		buf_add(&c->out, cfg.name, cfg.name_len);
		buf_add(&c->out, "\n", 1);
	}
	conn_kick(c);
}

/* Out of fds: accept and drop one so the listener does not spin. */
static void shed_one(struct worker *w, struct lsock *l)
{
	int fd;

	if (!w->warned_emfile)
		fprintf(stderr, "ambit-echo: out of file descriptors, "
			"dropping connections\n");
	w->warned_emfile = true;
	if (w->reserve_fd >= 0)
		close(w->reserve_fd);
	fd = accept(l->ev.fd, NULL, NULL);
	if (fd >= 0)
		close(fd);
	w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void on_accept(struct worker *w, struct lsock *l)
{
	int i, fd;

	for (i = 0; i < ACCEPT_BATCH; i++) {
		fd = accept4(l->ev.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			conn_new(w, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE)
			shed_one(w, l);
		else if (errno != EAGAIN)
			perror("ambit-echo: accept");
		return;
	}
}

/* ---- UDP ---- */

/* The datagram's destination, so a wildcard socket names the address used. */
static void udp_dst(struct msghdr *mh, struct sockaddr_storage *local)
{
	struct in_pktinfo pi4;
	struct in6_pktinfo pi6;
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_PKTINFO) {
			memcpy(&pi4, CMSG_DATA(cm), sizeof(pi4));
			((struct sockaddr_in *)local)->sin_addr = pi4.ipi_addr;
		} else if (cm->cmsg_level == IPPROTO_IPV6 &&
			   cm->cmsg_type == IPV6_PKTINFO) {
			memcpy(&pi6, CMSG_DATA(cm), sizeof(pi6));
			((struct sockaddr_in6 *)local)->sin6_addr = pi6.ipi6_addr;
		}
	}
}

/* Reply from the address the client used, or it would drop the answer. */
static void udp_set_src(struct msghdr *mh, union cmsg_buf *cb,
			const struct sockaddr_storage *src)
{
	struct in_pktinfo pi4 = { 0 };
	struct in6_pktinfo pi6 = { 0 };
	struct cmsghdr *cm;
	bool v6 = src->ss_family == AF_INET6;

	memset(cb, 0, sizeof(*cb));
	mh->msg_control = cb->buf;
	mh->msg_controllen = sizeof(cb->buf);
	cm = CMSG_FIRSTHDR(mh);
	cm->cmsg_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
	cm->cmsg_type = v6 ? IPV6_PKTINFO : IP_PKTINFO;
	cm->cmsg_len = v6 ? CMSG_LEN(sizeof(pi6)) : CMSG_LEN(sizeof(pi4));
	if (v6) {
		pi6.ipi6_addr = ((const struct sockaddr_in6 *)src)->sin6_addr;
		memcpy(CMSG_DATA(cm), &pi6, sizeof(pi6));
	} else {
		pi4.ipi_spec_dst = ((const struct sockaddr_in *)src)->sin_addr;
		memcpy(CMSG_DATA(cm), &pi4, sizeof(pi4));
	}
	mh->msg_controllen = v6 ? CMSG_SPACE(sizeof(pi6)) :
				  CMSG_SPACE(sizeof(pi4));
}

static void udp_reply(struct worker *w, struct lsock *l, struct msghdr *in,
		      const struct sockaddr_storage *local, size_t n)
{
	char addr[ADDR_STRLEN];
	struct iovec iov;
	struct msghdr mh = {
		.msg_name = in->msg_name,
		.msg_namelen = in->msg_namelen,
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	union cmsg_buf cb;
	int hl;

	fmt_addr(local, addr, sizeof(addr));
	hl = snprintf(w->udp_out, UDP_REPLY_MAX, "%s %s ", cfg.name, addr);
	if (n > (size_t)(UDP_REPLY_MAX - hl))
		n = (size_t)(UDP_REPLY_MAX - hl);
	memcpy(w->udp_out + hl, w->udp_in, n);
	iov.iov_base = w->udp_out;
	iov.iov_len = (size_t)hl + n;
	if (l->wildcard)
		udp_set_src(&mh, &cb, local);
	/* best effort, like UDP itself: a lost reply is a test failure */
	sendmsg(l->ev.fd, &mh, MSG_DONTWAIT);
}

static bool udp_one(struct worker *w, struct lsock *l)
{
	struct sockaddr_storage peer, local = l->local;
	struct iovec iov = { w->udp_in, UDP_BUF };
	union cmsg_buf cb;
	struct msghdr mh = {
		.msg_name = &peer,
		.msg_namelen = sizeof(peer),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cb.buf,
		.msg_controllen = sizeof(cb.buf),
	};
	ssize_t n = recvmsg(l->ev.fd, &mh, MSG_DONTWAIT);

	if (n < 0)
		return errno == EINTR;
	udp_dst(&mh, &local);
	udp_reply(w, l, &mh, &local, (size_t)n);
	return true;
}

static void on_udp(struct worker *w, struct lsock *l)
{
	int i;

	for (i = 0; i < ACCEPT_BATCH && udp_one(w, l); i++)
		;
}

/* ---- workers ---- */

static bool dispatch(struct worker *w, struct ev *ev, uint32_t events)
{
	switch (ev->kind) {
	case EV_STOP:
		return false;
	case EV_LISTEN:
		on_accept(w, container_of(ev, struct lsock, ev));
		break;
	case EV_UDP:
		on_udp(w, container_of(ev, struct lsock, ev));
		break;
	case EV_CONN:
		if (!container_of(ev, struct conn, sock)->dead)
			on_conn(container_of(ev, struct conn, sock), events);
		break;
	case EV_TIMER:
		if (!container_of(ev, struct conn, timer)->dead)
			on_timer(container_of(ev, struct conn, timer));
		break;
	}
	return true;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[256];
	bool running = true;
	int i, n;

	while (running) {
		n = epoll_wait(w->epfd, evs, 256, -1);
		if (n < 0 && errno != EINTR) {
			perror("ambit-echo: epoll_wait");
			break;
		}
		for (i = 0; i < n && running; i++)
			running = dispatch(w, evs[i].data.ptr, evs[i].events);
		reap(w);
	}
	return NULL;
}

static int open_listener(const struct spec *sp, bool reuseport)
{
	int fam = sp->ss.ss_family, one = 1, fd, err;

	fd = socket(fam, (sp->udp ? SOCK_DGRAM : SOCK_STREAM) |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* v6only lets [::] and 0.0.0.0 listeners coexist on one port */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
				     sizeof(one))) ||
	    (fam == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
					   &one, sizeof(one))) ||
	    (sp->udp && fam == AF_INET && setsockopt(fd, IPPROTO_IP,
				IP_PKTINFO, &one, sizeof(one))) ||
	    (sp->udp && fam == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
				IPV6_RECVPKTINFO, &one, sizeof(one))) ||
	    bind(fd, (const struct sockaddr *)&sp->ss, sp->len) ||
	    (!sp->udp && listen(fd, 65535)))
		goto fail;
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

static int worker_listen(struct worker *w, struct spec *sp)
{
	struct lsock *l = &w->ls[w->nls];
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = &l->ev };
	socklen_t len = sizeof(l->local);
	char addr[ADDR_STRLEN];
	int fd = open_listener(sp, cfg.workers > 1);

	if (fd < 0) {
		fmt_addr(&sp->ss, addr, sizeof(addr));
		fprintf(stderr, "ambit-echo: %s %s: %s\n",
			sp->udp ? "udp" : "tcp", addr, strerror(errno));
		return -1;
	}
	l->ev = (struct ev){ sp->udp ? EV_UDP : EV_LISTEN, fd };
	w->nls++;
	getsockname(fd, (struct sockaddr *)&l->local, &len);
	l->wildcard = is_wildcard(&l->local);
	/* with port 0, later workers must join the port the kernel chose */
	*sa_port(&sp->ss) = *sa_port(&l->local);
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &e)) {
		perror("ambit-echo: epoll_ctl");
		return -1;
	}
	return 0;
}

static int worker_init(struct worker *w)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = &stop_ev };
	int i;

	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (w->epfd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, stop_ev.fd, &e)) {
		perror("ambit-echo: epoll");
		return -1;
	}
	for (i = 0; i < cfg.nspecs; i++)
		if (worker_listen(w, &cfg.specs[i]))
			return -1;
	w->udp_in = xrealloc(NULL, UDP_BUF);
	w->udp_out = xrealloc(NULL, UDP_BUF);
	return 0;
}

static void worker_cleanup(struct worker *w)
{
	int i;

	while (w->live)
		conn_close(w->live);
	reap(w);
	for (i = 0; i < w->nls; i++)
		close(w->ls[i].ev.fd);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->reserve_fd >= 0)
		close(w->reserve_fd);
	buf_free(&w->scratch);
	free(w->udp_in);
	free(w->udp_out);
}

/* ---- server ---- */

/* 10k+ connections need 10k+ fds; take what the hard limit allows. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_max < NOFILE_WANT) {
		struct rlimit want = { NOFILE_WANT, NOFILE_WANT };

		if (!setrlimit(RLIMIT_NOFILE, &want))
			return;
	}
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < 16384)
		fprintf(stderr, "ambit-echo: note: RLIMIT_NOFILE is %llu\n",
			(unsigned long long)rl.rlim_cur);
}

/* Written under a temporary name and renamed: readers never see half. */
static int write_file_atomic(const char *path, const struct buf *b)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "we");
	if (!f || fwrite(b->p, 1, b->len, f) != b->len) {
		perror(tmp);
		if (f)
			fclose(f);
		return -1;
	}
	if (fclose(f) || rename(tmp, path)) {
		perror(path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int announce_ready(void)
{
	struct buf b = { 0 };
	char addr[ADDR_STRLEN];
	const char *proto;
	struct lsock *l;
	int i, r = 0;

	buf_str(&b, "ready\n");
	for (i = 0; i < workers[0].nls; i++) {
		l = &workers[0].ls[i];
		proto = l->ev.kind == EV_UDP ? "udp" : "tcp";
		fmt_addr(&l->local, addr, sizeof(addr));
		buf_printf(&b, "%s %s\n", proto, addr);
		fprintf(stderr, "ambit-echo: %s: %s %s%s, %d worker(s)\n",
			cfg.name, proto, addr, l->ev.kind == EV_UDP ? "" :
			cfg.mode == MODE_TCP ? " (tcp echo)" : " (http)",
			cfg.workers);
	}
	if (cfg.ready_file) {
		r = write_file_atomic(cfg.ready_file, &b);
	} else {
		fputs("ready\n", stdout);
		fflush(stdout);
	}
	buf_free(&b);
	return r;
}

static int start_workers(void)
{
	int i, err;

	workers = calloc((size_t)cfg.workers, sizeof(*workers));
	if (!workers)
		die_oom();
	for (i = 0; i < cfg.workers; i++)
		workers[i].epfd = workers[i].reserve_fd = -1;
	for (i = 0; i < cfg.workers; i++)
		if (worker_init(&workers[i]))
			return -1;
	for (i = 0; i < cfg.workers; i++) {
		err = pthread_create(&workers[i].thread, NULL, worker_main,
				     &workers[i]);
		if (err) {
			fprintf(stderr, "ambit-echo: pthread_create: %s\n",
				strerror(err));
			return -1;
		}
		workers[i].started = true;
	}
	return 0;
}

static void stop_workers(void)
{
	uint64_t one = 1;
	int i;

	if (write(stop_ev.fd, &one, sizeof(one)) < 0)
		perror("ambit-echo: stop");
	for (i = 0; i < cfg.workers; i++) {
		if (workers[i].started)
			pthread_join(workers[i].thread, NULL);
		worker_cleanup(&workers[i]);
	}
	free(workers);
	close(stop_ev.fd);
}

static int run_server(void)
{
	sigset_t set;
	int sig = 0, rc = 1;

	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	/* blocked everywhere, taken synchronously by main's sigwait() */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* level-triggered and never read: wakes every worker at once */
	stop_ev.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (stop_ev.fd < 0) {
		perror("ambit-echo: eventfd");
		return 1;
	}
	if (!start_workers() && !announce_ready()) {
		sigwait(&set, &sig);
		rc = 0;
	}
	stop_workers();
	if (cfg.ready_file && !rc)
		unlink(cfg.ready_file);
	return rc;
}

/* ---- clients ---- */

static const char *err_name(int err)
{
	const char *s;

	if (err == ERR_EOF)
		return "EOF";
	s = strerrorname_np(err);
	return s ? s : "EUNKNOWN";
}

static struct timespec deadline_after(long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* 0 when fd is ready, else an errno value (ETIMEDOUT at the deadline). */
static int wait_fd(int fd, short events, const struct timespec *dl)
{
	struct pollfd p = { .fd = fd, .events = events };
	struct timespec now;
	long left;
	int r;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = (dl->tv_sec - now.tv_sec) * 1000 +
		       (dl->tv_nsec - now.tv_nsec + 999999) / 1000000;
		if (left <= 0)
			return ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return ETIMEDOUT;
		if (errno != EINTR)
			return errno;
	}
}

static int tcp_connect(int fd, const struct timespec *dl)
{
	const struct spec *t = &cfg.target;
	socklen_t len = sizeof(int);
	int err = 0;

	if (!connect(fd, (const struct sockaddr *)&t->ss, t->len))
		return 0;
	if (errno != EINPROGRESS)
		return errno;
	err = wait_fd(fd, POLLOUT, dl);
	if (err)
		return err;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return errno;
	return err;
}

static int read_line(int fd, char *line, size_t size, size_t *len,
		     const struct timespec *dl)
{
	size_t have = 0;
	ssize_t n;
	char *nl;
	int err;

	for (;;) {
		if (have == size)
			return EMSGSIZE;
		n = recv(fd, line + have, size - have, 0);
		if (n > 0) {
			nl = memchr(line + have, '\n', (size_t)n);
			have += (size_t)n;
			if (!nl)
				continue;
			*len = (size_t)(nl - line);
			if (*len && line[*len - 1] == '\r')
				(*len)--;
			return 0;
		}
		if (n == 0)
			return ERR_EOF;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return errno;
		err = wait_fd(fd, POLLIN, dl);
		if (err)
			return err;
	}
}

static int tcp_probe(char *out, size_t size, size_t *len)
{
	struct timespec dl = deadline_after(cfg.timeout_ms);
	int fd, err;

	fd = socket(cfg.target.ss.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	err = tcp_connect(fd, &dl);
	if (!err)
		err = read_line(fd, out, size, len, &dl);
	close(fd);
	return err;
}

/* A fresh socket per probe: a new source port, so a new flow to balance. */
static int udp_probe(char *out, size_t size, size_t *len)
{
	struct timespec dl = deadline_after(cfg.timeout_ms);
	const struct spec *t = &cfg.target;
	int fd, err = 0;
	ssize_t n;

	fd = socket(t->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return errno;
	/* connected, so an ICMP port unreachable shows up as ECONNREFUSED */
	if (connect(fd, (const struct sockaddr *)&t->ss, t->len) ||
	    send(fd, cfg.message, strlen(cfg.message), 0) < 0)
		err = errno;
	while (!err) {
		n = recv(fd, out, size, 0);
		if (n >= 0) {
			*len = (size_t)n;
			if (*len && out[*len - 1] == '\n')
				(*len)--;
			break;
		}
		if (errno == EAGAIN)
			err = wait_fd(fd, POLLIN, &dl);
		else if (errno != EINTR)
			err = errno;
	}
	close(fd);
	return err;
}

static int run_client(void)
{
	char *buf = xrealloc(NULL, UDP_BUF), addr[ADDR_STRLEN];
	bool tcp = cfg.client == CLIENT_TCP;
	long i, ok = 0;
	size_t len = 0;
	int err;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < cfg.count; i++) {
		err = tcp ? tcp_probe(buf, LINE_MAX_LEN, &len) :
			    udp_probe(buf, UDP_BUF, &len);
		if (err) {
			printf("ERR %s\n", err_name(err));
		} else {
			fwrite(buf, 1, len, stdout);
			putchar('\n');
			ok++;
		}
		fflush(stdout);
	}
	fmt_addr(&cfg.target.ss, addr, sizeof(addr));
	fprintf(stderr, "%s-client %s: %ld ok, %ld failed\n",
		tcp ? "tcp" : "udp", addr, ok, cfg.count - ok);
	free(buf);
	return ok == cfg.count ? 0 : 1;
}

/* ---- command line ---- */

static void usage(FILE *f)
{
	fputs(
"usage: ambit-echo --name NAME [--listen ADDR:PORT]... [--udp ADDR:PORT]...\n"
"                  [--mode http|tcp] [--workers N] [--ready-file PATH]\n"
"       ambit-echo --tcp-client ADDR:PORT [--count N] [--timeout-ms MS]\n"
"       ambit-echo --udp-client ADDR:PORT [--count N] [--timeout-ms MS]\n"
"                  MESSAGE\n"
"\n"
"Server (test backend; stops cleanly on SIGTERM/SIGINT):\n"
"  --name NAME        backend name in every answer (printable, no spaces)\n"
"  --listen ADDR:PORT TCP listener, repeatable; ADDR is IPv4 or [IPv6]\n"
"  --udp ADDR:PORT    UDP responder, repeatable; replies 'NAME LOCAL PAYLOAD'\n"
"  --mode http        HTTP/1.1, answers a JSON echo of the request (default)\n"
"  --mode tcp         sends 'NAME\\n' on accept, then echoes what it receives\n"
"  --workers N        N threads, each with SO_REUSEPORT sockets (default 1)\n"
"  --ready-file PATH  once listening, write 'ready' then 'tcp|udp ADDR:PORT'\n"
"  --log PATH         append 'METHOD TARGET HOST' for every request answered\n"
"                     per socket there (else print 'ready' on stdout)\n"
"HTTP request hooks: x-echo-status: CODE, x-echo-header: NAME: VALUE,\n"
"                    Upgrade: ambit-echo (101, then echo bytes),\n"
"                    x-echo-delay-ms: MS, x-echo-extra-response: CODE\n"
"                    (a second, unrequested answer right after this one)\n"
"\n"
"Clients (one output line per attempt; failures as 'ERR <errno name>'; a\n"
"summary on stderr; exit 1 if any attempt failed):\n"
"  --tcp-client ADDR:PORT  connect, print the first line received, close\n"
"  --udp-client ADDR:PORT  send MESSAGE in one datagram, print the reply\n"
"  --count N               attempts, one after another (default 1)\n"
"  --timeout-ms MS         per attempt (default 2000)\n", f);
}

__attribute__((format(printf, 1, 2), noreturn))
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ambit-echo: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'ambit-echo --help'.\n", stderr);
	exit(2);
}

static long parse_num(const char *arg, long min, long max, const char *opt)
{
	uint64_t v;

	if (parse_uint(arg, strlen(arg), (uint64_t)max, &v) || (long)v < min)
		usage_error("%s wants a number in %ld..%ld, not '%s'", opt,
			    min, max, arg);
	return (long)v;
}

static void parse_spec(const char *arg, struct spec *sp, bool udp)
{
	if (parse_addr(arg, sp))
		usage_error("bad address '%s': want IPv4:PORT or [IPv6]:PORT",
			    arg);
	sp->udp = udp;
}

static void add_spec(const char *arg, bool udp)
{
	if (cfg.nspecs == MAX_SPECS)
		usage_error("at most %d listeners", MAX_SPECS);
	parse_spec(arg, &cfg.specs[cfg.nspecs++], udp);
}

static void set_name(const char *name)
{
	const char *p;

	cfg.name = name;
	cfg.name_len = strlen(name);
	if (!cfg.name_len || cfg.name_len > NAME_MAX_LEN)
		usage_error("--name must be 1-%d characters", NAME_MAX_LEN);
	/* it ends up in JSON, in a line-based TCP greeting and UDP replies */
	for (p = name; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			usage_error("--name must be printable ASCII without "
				    "spaces");
}

static void set_client(enum client kind, const char *arg)
{
	if (cfg.client != CLIENT_NONE)
		usage_error("--tcp-client and --udp-client are exclusive");
	cfg.client = kind;
	parse_spec(arg, &cfg.target, kind == CLIENT_UDP);
}

static const struct option long_opts[] = {
	{ "name", required_argument, NULL, 'n' },
	{ "listen", required_argument, NULL, 'l' },
	{ "udp", required_argument, NULL, 'u' },
	{ "mode", required_argument, NULL, 'm' },
	{ "workers", required_argument, NULL, 'w' },
	{ "ready-file", required_argument, NULL, 'r' },
	{ "log", required_argument, NULL, 'L' },
	{ "tcp-client", required_argument, NULL, 'T' },
	{ "udp-client", required_argument, NULL, 'U' },
	{ "count", required_argument, NULL, 'c' },
	{ "timeout-ms", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void set_mode(const char *arg)
{
	if (!strcmp(arg, "http"))
		cfg.mode = MODE_HTTP;
	else if (!strcmp(arg, "tcp"))
		cfg.mode = MODE_TCP;
	else
		usage_error("--mode wants http or tcp, not '%s'", arg);
}

static void parse_opt(int opt, const char *arg)
{
	switch (opt) {
	case 'n':
		set_name(arg);
		break;
	case 'l':
	case 'u':
		add_spec(arg, opt == 'u');
		break;
	case 'm':
		set_mode(arg);
		break;
	case 'w':
		cfg.workers = (int)parse_num(arg, 1, MAX_WORKERS, "--workers");
		break;
	case 'r':
		cfg.ready_file = arg;
		break;
	case 'L':
		cfg.log_fd = open(arg, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (cfg.log_fd < 0)
			usage_error("--log %s: %s", arg, strerror(errno));
		break;
	case 'T':
	case 'U':
		set_client(opt == 'T' ? CLIENT_TCP : CLIENT_UDP, arg);
		break;
	case 'c':
		cfg.count = parse_num(arg, 1, 100000000, "--count");
		cfg.client_opts = true;
		break;
	case 't':
		cfg.timeout_ms = parse_num(arg, 1, 3600000, "--timeout-ms");
		cfg.client_opts = true;
		break;
	case 'h':
		usage(stdout);
		exit(0);
	default:
		usage_error("bad command line");
	}
}

static void check_args(int nargs, char **args)
{
	if (cfg.client == CLIENT_UDP) {
		if (nargs != 1)
			usage_error("--udp-client wants one MESSAGE argument");
		cfg.message = args[0];
	} else if (nargs) {
		usage_error("unexpected argument '%s'", args[0]);
	}
	if (cfg.client != CLIENT_NONE) {
		if (cfg.nspecs || cfg.name)
			usage_error("client modes take no server options");
		return;
	}
	if (cfg.client_opts)
		usage_error("--count and --timeout-ms are for client modes");
	if (!cfg.name)
		usage_error("--name is required");
	if (!cfg.nspecs)
		usage_error("give at least one --listen or --udp");
}

int main(int argc, char **argv)
{
	int opt;

	while ((opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		if (opt == '?')
			usage_error("bad command line");
		parse_opt(opt, optarg);
	}
	check_args(argc - optind, argv + optind);
	if (cfg.client != CLIENT_NONE)
		return run_client();
	return run_server();
}
