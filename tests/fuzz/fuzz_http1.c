// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target for the proxy's HTTP/1.1 parser (user/proxy/http1.c,
 * included: the proxy is not part of the library sources the fuzz rule
 * links). Each input goes to the request parser, the response parser and
 * the chunked scanner, whole and split at a point the first byte picks,
 * and these must hold:
 *  - a head result is PARTIAL, an HTTP_ERR_* code, or a length <= the
 *    input, and every view it returns lies inside the head;
 *  - the framing it reports agrees with a naive recount of the fields;
 *  - results are prefix-stable: a prefix gives PARTIAL or the same
 *    answer as the whole, and a non-PARTIAL answer does not change when
 *    bytes are appended;
 *  - the chunked scanner gives the same answer however its input is
 *    split, and never consumes past the end of the body.
 * Prefixes are parsed from exact-size heap copies so ASan catches any
 * read past the length given.
 *
 *   make fuzz FUZZ_SECS=60        (tests/fuzz/run.sh does the running)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../user/proxy/http1.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n",         \
				__FILE__, __LINE__, #cond);                  \
			abort();                                             \
		}                                                            \
	} while (0)

/* Heap copies of the exact length, plus room the caller may fill. */
static char *copy_of(const char *buf, size_t len, size_t extra)
{
	char *c = malloc(len + extra + 1);

	CHECK(c);
	memcpy(c, buf, len);
	return c;
}

static bool view_in(struct str_view v, const char *buf, size_t len)
{
	uintptr_t p = (uintptr_t)v.p, b = (uintptr_t)buf;

	if (!v.len)
		return !v.p || (p >= b && p - b <= len);
	return p >= b && p - b <= len && v.len <= len - (p - b);
}

static bool has_ctl(struct str_view v)
{
	size_t i;

	for (i = 0; i < v.len; i++)
		if (v.p[i] == '\r' || v.p[i] == '\n' || v.p[i] == '\0')
			return true;
	return false;
}

static void check_headers(const struct http_header *h, size_t n,
			  const char *buf, size_t len)
{
	size_t i;

	CHECK(n <= HTTP_MAX_HEADERS);
	for (i = 0; i < n; i++) {
		struct str_view v = h[i].value;

		CHECK(h[i].name.len > 0);
		CHECK(view_in(h[i].name, buf, len) && view_in(v, buf, len));
		CHECK(!has_ctl(h[i].name) && !has_ctl(v));
		CHECK(!memchr(h[i].name.p, ':', h[i].name.len));
		if (v.len)
			CHECK(!is_ows(v.p[0]) && !is_ows(v.p[v.len - 1]));
	}
}

/* A recount of the framing fields that shares no code with the parser. */
static void check_framing_agrees(const struct http_header *h, size_t n,
				 uint8_t body, uint64_t cl)
{
	size_t i, n_cl = 0, n_te = 0, te_chunked = 0;

	for (i = 0; i < n; i++) {
		const struct str_view *nm = &h[i].name, *v = &h[i].value;

		if (nm->len == 14 && !strncasecmp(nm->p, "Content-Length", 14))
			n_cl++;
		if (nm->len == 17 &&
		    !strncasecmp(nm->p, "Transfer-Encoding", 17)) {
			n_te++;
			te_chunked += v->len == 7 && !strncasecmp(v->p, "chunked", 7);
		}
	}
	CHECK(n_cl <= 1);
	if (body == HTTP_BODY_CHUNKED)
		CHECK(n_te == 1 && te_chunked == 1 && n_cl == 0);
	if (body == HTTP_BODY_LENGTH)
		CHECK(n_cl == 1 && n_te == 0 && cl <= HTTP_MAX_CL);
	if (body != HTTP_BODY_LENGTH)
		CHECK(cl == 0);
	if (body == HTTP_BODY_UNTIL_CLOSE)
		CHECK(n_cl == 0 && n_te == 0);
}

static bool code_ok(int r, size_t len)
{
	if (r > 0)
		return (size_t)r <= len && r <= HTTP_MAX_HEAD;
	return r == HTTP_PARTIAL || r == HTTP_ERR_BAD || r == HTTP_ERR_URI ||
	       r == HTTP_ERR_HEADERS || r == HTTP_ERR_NOT_IMPL ||
	       r == HTTP_ERR_VERSION;
}

static void check_request(const char *buf, size_t len, int r,
			  const struct http_request *q)
{
	size_t n = r > 0 ? (size_t)r : 0;
	const struct http_header *h;

	CHECK(code_ok(r, len));
	if (r <= 0)
		return;
	CHECK(view_in(q->method, buf, n) && view_in(q->target, buf, n));
	CHECK(view_in(q->path, buf, n) && view_in(q->query, buf, n));
	CHECK(view_in(q->host, buf, n));
	CHECK(q->method.len && q->target.len <= HTTP_MAX_LINE);
	CHECK(q->path.p == q->target.p && q->path.len <= q->target.len);
	if (q->query.len)
		CHECK(q->query.p == q->path.p + q->path.len + 1 &&
		      q->path.len + 1 + q->query.len == q->target.len);
	CHECK(q->target.p[0] == '/' || q->target.len == 1);
	CHECK(q->minor == 0 || q->minor == 1);
	CHECK(q->minor == 0 || q->host.p);
	h = http1_header_find(q->headers, q->n_headers, "HOST");
	CHECK(q->host.p ? h && h->value.p == q->host.p : !h);
	CHECK(q->body <= HTTP_BODY_CHUNKED);
	CHECK(q->minor == 1 || q->body != HTTP_BODY_CHUNKED);
	check_headers(q->headers, q->n_headers, buf, n);
	check_framing_agrees(q->headers, q->n_headers, q->body,
			     q->content_length);
}

static void check_response(const char *buf, size_t len, int r,
			   const struct http_response *s)
{
	size_t n = r > 0 ? (size_t)r : 0;

	CHECK(code_ok(r, len));
	if (r <= 0)
		return;
	CHECK(view_in(s->reason, buf, n));
	CHECK(s->status >= 100 && s->status <= 599);
	CHECK(s->minor == 0 || s->minor == 1);
	CHECK(s->body <= HTTP_BODY_UNTIL_CLOSE);
	CHECK(s->body != HTTP_BODY_UNTIL_CLOSE || !s->keep_alive);
	CHECK(s->status >= 200 || s->body == HTTP_BODY_NONE);
	check_headers(s->headers, s->n_headers, buf, n);
	check_framing_agrees(s->headers, s->n_headers, s->body,
			     s->content_length);
}

static void fuzz_request(const char *buf, size_t len, size_t k)
{
	static struct http_request q;
	int full, r;
	char *c;

	full = http1_parse_request(buf, len, &http1_default_limits, &q);
	check_request(buf, len, full, &q);
	c = copy_of(buf, k, 0);
	r = http1_parse_request(c, k, &http1_default_limits, &q);
	check_request(c, k, r, &q);
	CHECK(r == HTTP_PARTIAL || r == full);
	free(c);
	if (full == HTTP_PARTIAL)
		return;
	c = copy_of(buf, len, 4);
	memcpy(c + len, "\r\n\r\n", 4);
	CHECK(http1_parse_request(c, len + 4, &http1_default_limits, &q) == full);
	free(c);
}

static void fuzz_response(const char *buf, size_t len, size_t k,
			  struct str_view method)
{
	static struct http_response s;
	int full, r;
	char *c;

	full = http1_parse_response(buf, len, method, &s);
	check_response(buf, len, full, &s);
	c = copy_of(buf, k, 0);
	r = http1_parse_response(c, k, method, &s);
	check_response(c, k, r, &s);
	CHECK(r == HTTP_PARTIAL || r == full);
	free(c);
	if (full == HTTP_PARTIAL)
		return;
	c = copy_of(buf, len, 4);
	memcpy(c + len, "\r\n\r\n", 4);
	CHECK(http1_parse_response(c, len + 4, method, &s) == full);
	free(c);
}

/* Feed @buf in pieces of at most @step bytes, cut first at @k. */
static long chunk_feed(const char *buf, size_t len, size_t k, size_t step,
		       bool *done)
{
	struct http_chunked st = { 0 };
	size_t pos = 0;
	long r;

	*done = false;
	while (pos < len && !*done) {
		size_t n = pos < k ? k - pos : len - pos;
		char *c;

		if (n > step)
			n = step;
		c = copy_of(buf + pos, n, 0);
		r = http1_chunked_scan(&st, c, n, done);
		free(c);
		if (r < 0)
			return r;
		CHECK((size_t)r <= n && (*done || (size_t)r == n));
		pos += r;
	}
	return (long)pos;
}

static void fuzz_chunked(const char *buf, size_t len, size_t k)
{
	struct http_chunked st = { 0 };
	bool done, d2;
	long whole, r;

	whole = http1_chunked_scan(&st, buf, len, &done);
	CHECK(whole == HTTP_ERR_BAD || (whole >= 0 && (size_t)whole <= len));
	CHECK(whole == (long)len || done || whole == HTTP_ERR_BAD);
	if (done) {
		CHECK(whole >= 5 && !memcmp(buf + whole - 2, "\r\n", 2));
		CHECK(http1_chunked_scan(&st, buf, len, &d2) == 0 && d2);
	}
	r = chunk_feed(buf, len, k, SIZE_MAX, &d2);
	CHECK(r == whole && d2 == done);
	if (len <= 4096) {
		r = chunk_feed(buf, len, 0, 1, &d2);
		CHECK(r == whole && d2 == done);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct str_view methods[] = {
		{ "GET", 3 }, { "HEAD", 4 }, { "CONNECT", 7 },
	};
	const char *buf = (const char *)data;
	size_t k = size ? data[0] * size / 256 : 0;

	fuzz_request(buf, size, k);
	/* Not from the first byte: every response starts with 'H'. */
	fuzz_response(buf, size, k, methods[size % 3]);
	fuzz_chunked(buf, size, k);
	return 0;
}
