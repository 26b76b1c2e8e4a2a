// SPDX-License-Identifier: Apache-2.0
/*
 * The proxy's HTTP/1.1 head parser and chunked scanner. The proxy is not
 * part of libambit.a, so the source is included h2o-style.
 *
 * Every input goes through the prefix check: each proper prefix, parsed
 * from an exact-size heap copy (so ASan sees any read past the end), must
 * give HTTP_PARTIAL or the final answer, never another one. Every chunked
 * body is also fed byte by byte and in random splits, and must give the
 * same answer as when fed whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../user/proxy/http1.c"

/* Large (100 headers each): kept off the stack. */
static struct http_request req;
static struct http_response resp;

#define S(lit) lit, sizeof(lit) - 1
#define DEF_LIMITS (&http1_default_limits)

static const struct str_view m_get = { "GET", 3 };
static const struct str_view m_head = { "HEAD", 4 };
static const struct str_view m_connect = { "CONNECT", 7 };

static int req_on_copy(const char *s, size_t len)
{
	struct http_request *r = malloc(sizeof(*r));
	char *copy = malloc(len ? len : 1);
	int ret;

	assert_non_null(r);
	assert_non_null(copy);
	memcpy(copy, s, len);
	ret = http1_parse_request(copy, len, DEF_LIMITS, r);
	free(copy);
	free(r);
	return ret;
}

static int resp_on_copy(const char *s, size_t len, struct str_view method)
{
	struct http_response *r = malloc(sizeof(*r));
	char *copy = malloc(len ? len : 1);
	int ret;

	assert_non_null(r);
	assert_non_null(copy);
	memcpy(copy, s, len);
	ret = http1_parse_response(copy, len, method, r);
	free(copy);
	free(r);
	return ret;
}

/* Prefixes of big inputs are sampled: every one would be quadratic. */
static size_t prefix_step(size_t len)
{
	return len > 4096 ? len / 257 + 1 : 1;
}

static void check_prefix(const char *what, size_t k, int got, int full)
{
	if (got != HTTP_PARTIAL && got != full)
		fail_msg("%s: prefix %zu gives %d, whole gives %d", what, k,
			 got, full);
}

/* Parse whole (result left in req) after checking every prefix. */
static int parse_req(const char *s, size_t len)
{
	int full = req_on_copy(s, len);
	size_t k;

	for (k = 0; k < len; k += prefix_step(len))
		check_prefix("request", k, req_on_copy(s, k), full);
	assert_int_equal(http1_parse_request(s, len, DEF_LIMITS, &req), full);
	return full;
}

static int parse_resp(const char *s, size_t len, struct str_view method)
{
	int full = resp_on_copy(s, len, method);
	size_t k;

	for (k = 0; k < len; k += prefix_step(len))
		check_prefix("response", k, resp_on_copy(s, k, method), full);
	assert_int_equal(http1_parse_response(s, len, method, &resp), full);
	return full;
}

static void assert_view(struct str_view v, const char *want)
{
	if (v.len != strlen(want) || (v.len && memcmp(v.p, want, v.len)))
		fail_msg("view \"%.*s\" != \"%s\"", (int)v.len,
			 v.p ? v.p : "", want);
}

/* A valid head must be all of the input; with bytes appended (a body,
 * the next request) the answer must not change. */
static void parse_req_ok(const char *s, size_t len)
{
	char *more = malloc(len + 8);
	int r;

	assert_non_null(more);
	memcpy(more, s, len);
	memcpy(more + len, "GET / HT", 8);
	assert_int_equal(req_on_copy(more, len + 8), (int)len);
	free(more);
	r = parse_req(s, len);
	if (r != (int)len)
		fail_msg("\"%.*s\": got %d, want %zu", (int)len, s, r, len);
}

/* ---------------------------------------------------------------- */

static void test_get_simple(void **state)
{
	static const char m[] = "GET /index.html HTTP/1.1\r\n"
				"Host: example.com\r\n"
				"User-Agent: t\r\n\r\n";

	parse_req_ok(S(m));
	assert_view(req.method, "GET");
	assert_view(req.target, "/index.html");
	assert_view(req.path, "/index.html");
	assert_int_equal(req.query.len, 0);
	assert_int_equal(req.minor, 1);
	assert_view(req.host, "example.com");
	assert_int_equal(req.n_headers, 2);
	assert_view(req.headers[1].name, "User-Agent");
	assert_view(req.headers[1].value, "t");
	assert_int_equal(req.body, HTTP_BODY_NONE);
	assert_true(req.keep_alive);
	assert_false(req.expect_continue);
	assert_false(req.upgrade);
}

static void test_query_split(void **state)
{
	parse_req_ok(S("GET /a/b?x=1&y=/?z HTTP/1.1\r\nHost: h\r\n\r\n"));
	assert_view(req.target, "/a/b?x=1&y=/?z");
	assert_view(req.path, "/a/b");
	assert_view(req.query, "x=1&y=/?z");
	parse_req_ok(S("GET /? HTTP/1.1\r\nHost: h\r\n\r\n"));
	assert_view(req.path, "/");
	assert_int_equal(req.query.len, 0);
	parse_req_ok(S("GET /%20a?%3F HTTP/1.1\r\nHost: h\r\n\r\n"));
	assert_view(req.path, "/%20a");
	assert_view(req.query, "%3F");
}

static void test_post_content_length(void **state)
{
	static const char m[] = "POST /submit HTTP/1.1\r\nHost: h\r\n"
				"Content-Length: 5\r\n\r\nhello";

	assert_int_equal(parse_req(S(m)), (int)sizeof(m) - 1 - 5);
	assert_int_equal(req.body, HTTP_BODY_LENGTH);
	assert_int_equal(req.content_length, 5);

	parse_req_ok(S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:  5 \r\n\r\n"));
	assert_int_equal(req.content_length, 5);
	parse_req_ok(S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:007\r\n\r\n"));
	assert_int_equal(req.content_length, 7);
	parse_req_ok(S("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"));
	assert_int_equal(req.body, HTTP_BODY_LENGTH);
	assert_int_equal(req.content_length, 0);
	parse_req_ok(S("POST / HTTP/1.1\r\nHost: h\r\n"
		       "Content-Length: 4611686018427387904\r\n\r\n"));
	assert_true(req.content_length == 1ULL << 62);
}

static void test_chunked_request(void **state)
{
	static const char *const te[] = {
		"chunked", "CHUNKED", "Chunked", "\tchunked", "chunked \t",
	};
	char m[128];
	size_t i;

	for (i = 0; i < sizeof(te) / sizeof(te[0]); i++) {
		int n = snprintf(m, sizeof(m), "POST / HTTP/1.1\r\nHost: h\r\n"
				 "Transfer-Encoding:%s\r\n\r\n", te[i]);

		parse_req_ok(m, n);
		assert_int_equal(req.body, HTTP_BODY_CHUNKED);
		assert_int_equal(req.content_length, 0);
	}
}

static void test_keep_alive_rules(void **state)
{
	parse_req_ok(S("GET / HTTP/1.1\r\nHost: h\r\n\r\n"));
	assert_true(req.keep_alive);
	parse_req_ok(S("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
	assert_false(req.keep_alive);
	parse_req_ok(S("GET / HTTP/1.1\r\nHost: h\r\n"
		       "Connection: Keep-Alive, CLOSE\r\n\r\n"));
	assert_false(req.keep_alive);
	parse_req_ok(S("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo\r\n"
		       "Connection: ,, close ,\r\n\r\n"));
	assert_false(req.keep_alive);
	parse_req_ok(S("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n"));
	assert_true(req.keep_alive);
	/* HTTP/1.0: close unless asked, Host optional. */
	parse_req_ok(S("GET / HTTP/1.0\r\n\r\n"));
	assert_int_equal(req.minor, 0);
	assert_false(req.keep_alive);
	assert_int_equal(req.host.len, 0);
	parse_req_ok(S("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
	assert_true(req.keep_alive);
	parse_req_ok(S("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"));
	assert_false(req.keep_alive);
	parse_req_ok(S("GET / HTTP/1.0\r\nHost: h\r\n"
		       "Connection: KEEP-ALIVE\r\n\r\n"));
	assert_true(req.keep_alive);
	assert_view(req.host, "h");
}

static void test_expect_and_upgrade(void **state)
{
	parse_req_ok(S("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
		       "Content-Length: 3\r\n\r\n"));
	assert_true(req.expect_continue);
	parse_req_ok(S("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue-x\r\n\r\n"));
	assert_false(req.expect_continue);
	/* RFC 9110 10.1.1: ignored in HTTP/1.0. */
	parse_req_ok(S("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"));
	assert_false(req.expect_continue);

	parse_req_ok(S("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, "
		       "Upgrade\r\nUpgrade: websocket\r\n\r\n"));
	assert_true(req.upgrade);
	parse_req_ok(S("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n"));
	assert_false(req.upgrade);
	parse_req_ok(S("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n"));
	assert_false(req.upgrade);
	parse_req_ok(S("GET /ws HTTP/1.0\r\nConnection: upgrade\r\n"
		       "Upgrade: websocket\r\n\r\n"));
	assert_false(req.upgrade);
}

static void test_values_and_obs_text(void **state)
{
	parse_req_ok(S("GET / HTTP/1.1\r\nHost: h\r\nX-A:   a \t b  \t\r\n"
		       "X-B:\r\nX-C: \t \r\nX-D: caf\xc3\xa9 \x80\xff\r\n"
		       "X-E: \"q\" (c) !#$%&'*+-.^_`|~{}[]<>@\\\r\n\r\n"));
	assert_int_equal(req.n_headers, 6);
	assert_view(req.headers[1].value, "a \t b");
	assert_view(req.headers[2].value, "");
	assert_view(req.headers[3].value, "");
	assert_view(req.headers[4].value, "caf\xc3\xa9 \x80\xff");
	assert_view(req.headers[5].value, "\"q\" (c) !#$%&'*+-.^_`|~{}[]<>@\\");
	assert_view(req.headers[5].name, "X-E");
}

static void test_misc_valid(void **state)
{
	parse_req_ok(S("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"));
	assert_view(req.method, "GET");
	parse_req_ok(S("\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"));
	parse_req_ok(S("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"));
	assert_view(req.path, "*");
	assert_view(req.target, "*");
	parse_req_ok(S("PURGE /x HTTP/1.1\r\nHost: h\r\n\r\n"));
	assert_view(req.method, "PURGE");
	parse_req_ok(S("M-SEARCH! /x HTTP/1.1\r\nHost: h\r\n\r\n"));
	parse_req_ok(S("GET / HTTP/1.1\r\nHost: h.example:8080\r\n\r\n"));
	assert_view(req.host, "h.example:8080");
	parse_req_ok(S("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"));
	assert_view(req.host, "[::1]:8080");
	parse_req_ok(S("GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n"));
	parse_req_ok(S("GET / HTTP/1.1\r\nhOsT: h\r\n\r\n"));
	assert_view(req.host, "h");
	/* RFC 9112 3.2: an empty Host is valid, the router decides. */
	parse_req_ok(S("GET / HTTP/1.1\r\nHost:\r\n\r\n"));
	assert_non_null(req.host.p);
	assert_int_equal(req.host.len, 0);
	parse_req_ok(S("GET /~a!$&'()*+,;=:@-._ HTTP/1.1\r\nHost: h\r\n\r\n"));
}

static void test_many_headers_and_find(void **state)
{
	static char m[8192];
	size_t n, i;
	const struct http_header *h;

	n = sprintf(m, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (i = 1; i < HTTP_MAX_HEADERS; i++)
		n += sprintf(m + n, "X-H%zu: v%zu\r\n", i, i);
	n += sprintf(m + n, "\r\n");
	parse_req_ok(m, n);
	assert_int_equal(req.n_headers, HTTP_MAX_HEADERS);
	h = http1_header_find(req.headers, req.n_headers, "x-h99");
	assert_non_null(h);
	assert_view(h->value, "v99");
	h = http1_header_find(req.headers, req.n_headers, "X-H1");
	assert_view(h->value, "v1");
	assert_null(http1_header_find(req.headers, req.n_headers, "X-H"));
	assert_null(http1_header_find(req.headers, req.n_headers, "X-H100"));
	assert_null(http1_header_find(req.headers, 0, "Host"));

	/* One more is 431. */
	n -= 2;
	n += sprintf(m + n, "X-Last: v\r\n\r\n");
	assert_int_equal(parse_req(m, n), HTTP_ERR_HEADERS);
}

static void test_partial_every_split(void **state)
{
	static const char m[] = "\r\nPOST /p?q HTTP/1.1\r\nHost: h:1\r\n"
				"Transfer-Encoding: chunked\r\nX: a b\r\n\r\n";
	size_t k;

	/* parse_req() already checks that no prefix disagrees; here every
	 * proper prefix must be exactly PARTIAL. */
	for (k = 0; k < sizeof(m) - 1; k++)
		assert_int_equal(req_on_copy(m, k), HTTP_PARTIAL);
	parse_req_ok(S(m));
	assert_int_equal(req.body, HTTP_BODY_CHUNKED);
	assert_int_equal(http1_parse_request(m, 0, DEF_LIMITS, &req), HTTP_PARTIAL);
}

/* ---------------------------------------------------------------- */

struct bad_case {
	const char *name;
	const char *msg;
	size_t len;
	int want;
};

#define REQ(extra) "POST / HTTP/1.1\r\nHost: h\r\n" extra "\r\n"
#define BAD(name, lit, want) { name, lit, sizeof(lit) - 1, want }

static const struct bad_case bad_requests[] = {
	/* framing: the smuggling matrix */
	BAD("CL+TE", REQ("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
	    HTTP_ERR_BAD),
	BAD("TE+CL", REQ("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n"),
	    HTTP_ERR_BAD),
	BAD("TE chunked + TE identity",
	    REQ("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n"),
	    HTTP_ERR_NOT_IMPL),
	BAD("TE chunked twice",
	    REQ("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
	    HTTP_ERR_NOT_IMPL),
	BAD("TE chunked, identity", REQ("Transfer-Encoding: chunked, identity\r\n"),
	    HTTP_ERR_NOT_IMPL),
	BAD("TE chunked, chunked", REQ("Transfer-Encoding: chunked, chunked\r\n"),
	    HTTP_ERR_NOT_IMPL),
	BAD("TE gzip, chunked", REQ("Transfer-Encoding: gzip, chunked\r\n"),
	    HTTP_ERR_NOT_IMPL),
	BAD("TE gzip", REQ("Transfer-Encoding: gzip\r\n"), HTTP_ERR_NOT_IMPL),
	BAD("TE xchunked", REQ("Transfer-Encoding: xchunked\r\n"),
	    HTTP_ERR_NOT_IMPL),
	BAD("TE chunked;q", REQ("Transfer-Encoding: chunked;a=b\r\n"),
	    HTTP_ERR_NOT_IMPL),
	BAD("TE chunked obs-text", REQ("Transfer-Encoding: chunked\xff\r\n"),
	    HTTP_ERR_NOT_IMPL),
	BAD("TE empty", REQ("Transfer-Encoding: \r\n"), HTTP_ERR_BAD),
	BAD("TE space before colon", REQ("Transfer-Encoding : chunked\r\n"),
	    HTTP_ERR_BAD),
	BAD("TE tab before colon", REQ("Transfer-Encoding\t: chunked\r\n"),
	    HTTP_ERR_BAD),
	BAD("TE obs-fold", REQ("Transfer-Encoding:\r\n chunked\r\n"),
	    HTTP_ERR_BAD),
	BAD("TE obs-fold tab", REQ("Transfer-Encoding: x\r\n\tchunked\r\n"),
	    HTTP_ERR_BAD),
	BAD("TE on HTTP/1.0",
	    "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("TE gzip on HTTP/1.0",
	    "POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n", HTTP_ERR_BAD),
	BAD("CL dup equal", REQ("Content-Length: 5\r\nContent-Length: 5\r\n"),
	    HTTP_ERR_BAD),
	BAD("CL dup different", REQ("Content-Length: 5\r\ncontent-length: 6\r\n"),
	    HTTP_ERR_BAD),
	BAD("CL +5", REQ("Content-Length: +5\r\n"), HTTP_ERR_BAD),
	BAD("CL -1", REQ("Content-Length: -1\r\n"), HTTP_ERR_BAD),
	BAD("CL 5 5", REQ("Content-Length: 5 5\r\n"), HTTP_ERR_BAD),
	BAD("CL 5,5", REQ("Content-Length: 5,5\r\n"), HTTP_ERR_BAD),
	BAD("CL 5, 5", REQ("Content-Length: 5, 5\r\n"), HTTP_ERR_BAD),
	BAD("CL 0x5", REQ("Content-Length: 0x5\r\n"), HTTP_ERR_BAD),
	BAD("CL 5.0", REQ("Content-Length: 5.0\r\n"), HTTP_ERR_BAD),
	BAD("CL empty", REQ("Content-Length:\r\n"), HTTP_ERR_BAD),
	BAD("CL 2^62+1", REQ("Content-Length: 4611686018427387905\r\n"),
	    HTTP_ERR_BAD),
	BAD("CL 2^64", REQ("Content-Length: 18446744073709551616\r\n"),
	    HTTP_ERR_BAD),
	BAD("CL overflow", REQ("Content-Length: 99999999999999999999999\r\n"),
	    HTTP_ERR_BAD),
	/* line endings and characters */
	BAD("bare LF everywhere", "GET / HTTP/1.1\nHost: h\n\n", HTTP_ERR_BAD),
	BAD("bare LF after request line", "GET / HTTP/1.1\nHost: h\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("bare LF ending the head", "GET / HTTP/1.1\r\nHost: h\r\n\n",
	    HTTP_ERR_BAD),
	BAD("bare LF in value", REQ("X: a\nb\r\n"), HTTP_ERR_BAD),
	BAD("bare CR line end", "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("bare CR in value", REQ("X: a\rb\r\n"), HTTP_ERR_BAD),
	BAD("bare CR in request line", "GET /\r HTTP/1.1\r\nHost: h\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("CR CR LF", "GET / HTTP/1.1\r\r\nHost: h\r\n\r\n", HTTP_ERR_BAD),
	BAD("NUL in value", REQ("X: a\0b\r\n"), HTTP_ERR_BAD),
	BAD("NUL in name", REQ("X\0: a\r\n"), HTTP_ERR_BAD),
	BAD("DEL in name", REQ("X\x7f: a\r\n"), HTTP_ERR_BAD),
	BAD("DEL in value", REQ("X: a\x7f\r\n"), HTTP_ERR_BAD),
	BAD("VT in value", REQ("X: a\vb\r\n"), HTTP_ERR_BAD),
	BAD("header without colon", REQ("Foo\r\n"), HTTP_ERR_BAD),
	BAD("empty header name", REQ(": x\r\n"), HTTP_ERR_BAD),
	BAD("space in header name", REQ("X Y: z\r\n"), HTTP_ERR_BAD),
	BAD("obs-text in header name", REQ("X\xe9: z\r\n"), HTTP_ERR_BAD),
	BAD("'(' in header name", REQ("X(: z\r\n"), HTTP_ERR_BAD),
	BAD("obs-fold", REQ("X: a\r\n  b\r\n"), HTTP_ERR_BAD),
	BAD("whitespace before first field",
	    "GET / HTTP/1.1\r\n Host: h\r\n\r\n", HTTP_ERR_BAD),
	/* Host */
	BAD("missing Host", "GET / HTTP/1.1\r\nX: y\r\n\r\n", HTTP_ERR_BAD),
	BAD("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("two Hosts on 1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("Host with /", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", HTTP_ERR_BAD),
	BAD("Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("Host bad port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("Host two colons", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("Host unclosed [", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("Host pct-encoded", "GET / HTTP/1.1\r\nHost: a%2eb\r\n\r\n",
	    HTTP_ERR_BAD),
	/* request line */
	BAD("HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", HTTP_ERR_VERSION),
	BAD("HTTP/1.2", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", HTTP_ERR_VERSION),
	BAD("HTTP/0.9", "GET / HTTP/0.9\r\nHost: h\r\n\r\n", HTTP_ERR_VERSION),
	BAD("h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", HTTP_ERR_VERSION),
	BAD("HTTP/1.10", "GET / HTTP/1.10\r\nHost: h\r\n\r\n", HTTP_ERR_BAD),
	BAD("HTTP/11", "GET / HTTP/11\r\nHost: h\r\n\r\n", HTTP_ERR_BAD),
	BAD("http/1.1", "GET / http/1.1\r\nHost: h\r\n\r\n", HTTP_ERR_BAD),
	BAD("no version", "GET /\r\nHost: h\r\n\r\n", HTTP_ERR_BAD),
	BAD("double SP after method", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("double SP after target", "GET /  HTTP/1.1\r\nHost: h\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("trailing SP", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", HTTP_ERR_BAD),
	BAD("HTAB separator", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("empty method", " / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_ERR_BAD),
	BAD("method with /", "GE/T / HTTP/1.1\r\nHost: h\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("absolute-form", "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("authority-form", "CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("CONNECT origin-form", "CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("asterisk for GET", "GET * HTTP/1.1\r\nHost: h\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("asterisk plus", "OPTIONS *x HTTP/1.1\r\nHost: h\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("relative target", "GET a/b HTTP/1.1\r\nHost: h\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("fragment", "GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_ERR_BAD),
	BAD("HTAB in target", "GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("obs-text in target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("NUL in target", "GET /a\0 HTTP/1.1\r\nHost: h\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("five empty lines",
	    "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("leading bare LF", "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("leading SP", " GET / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_ERR_BAD),
	BAD("a response", "HTTP/1.1 200 OK\r\n\r\n", HTTP_ERR_BAD),
};

static void test_bad_requests(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(bad_requests) / sizeof(bad_requests[0]); i++) {
		const struct bad_case *c = &bad_requests[i];
		int r = parse_req(c->msg, c->len);

		if (r != c->want)
			fail_msg("%s: got %d, want %d", c->name, r, c->want);
	}
}

/* A request line of @target_len target bytes; returns the length. */
static size_t long_line(char *m, size_t target_len)
{
	size_t n = 0;

	memcpy(m, "GET /", 5);
	n = 5;
	memset(m + n, 'a', target_len - 1);
	n += target_len - 1;
	n += sprintf(m + n, " HTTP/1.1\r\nHost: h\r\n\r\n");
	return n;
}

static void test_limits_line(void **state)
{
	size_t max_target = HTTP_MAX_LINE - strlen("GET  HTTP/1.1");
	char *m = malloc(HTTP_MAX_LINE + 64);
	size_t n;

	assert_non_null(m);
	n = long_line(m, max_target);
	assert_int_equal(http1_parse_request(m, n, DEF_LIMITS, &req), (int)n);
	assert_int_equal(req.target.len, max_target);
	n = long_line(m, max_target + 1);
	assert_int_equal(parse_req(m, n), HTTP_ERR_URI);
	/* Known too long before the line has ended. */
	assert_int_equal(req_on_copy(m, HTTP_MAX_LINE + 2), HTTP_ERR_URI);
	assert_int_equal(req_on_copy(m, HTTP_MAX_LINE + 1), HTTP_PARTIAL);
	/* A long method is as bad as a long target. */
	memset(m, 'G', HTTP_MAX_LINE + 2);
	assert_int_equal(req_on_copy(m, HTTP_MAX_LINE + 2), HTTP_ERR_URI);
	free(m);
}

static void test_limits_head(void **state)
{
	size_t cap = 70 * 1024, n;
	char *m = malloc(cap + 64);

	assert_non_null(m);
	n = sprintf(m, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
	memset(m + n, 'v', cap - n);
	n = cap;
	n += sprintf(m + n, "\r\n\r\n");
	assert_int_equal(parse_req(m, n), HTTP_ERR_HEADERS);
	/* Incomplete, already at the limit: 431, not PARTIAL. */
	assert_int_equal(req_on_copy(m, HTTP_MAX_HEAD), HTTP_ERR_HEADERS);
	assert_int_equal(req_on_copy(m, HTTP_MAX_HEAD - 1), HTTP_PARTIAL);

	/* A head of exactly HTTP_MAX_HEAD bytes is fine. */
	n = sprintf(m, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
	memset(m + n, 'v', HTTP_MAX_HEAD - 4 - n);
	memcpy(m + HTTP_MAX_HEAD - 4, "\r\n\r\n", 4);
	assert_int_equal(req_on_copy(m, HTTP_MAX_HEAD), HTTP_MAX_HEAD);
	assert_int_equal(req_on_copy(m, HTTP_MAX_HEAD + 1), HTTP_MAX_HEAD);
	/* One more byte in the value and it is not. */
	memcpy(m + HTTP_MAX_HEAD - 4, "v\r\n\r\n", 5);
	assert_int_equal(req_on_copy(m, HTTP_MAX_HEAD + 1), HTTP_ERR_HEADERS);

	/* The same for responses. */
	n = sprintf(m, "HTTP/1.1 200 OK\r\nX-Big: ");
	memset(m + n, 'v', cap - n);
	memcpy(m + cap, "\r\n\r\n", 4);
	assert_int_equal(parse_resp(m, cap + 4, m_get), HTTP_ERR_HEADERS);
	free(m);
}

/* ---------------------------------------------------------------- */

/* --max-header-bytes and --max-header-fields: the same checks, moved. */
static void test_limits_configured(void **state)
{
	static char m[HTTP_LIMIT_HEAD_MAX + 64];
	struct http_limits small = { .max_head = 2048, .max_fields = 3 };
	struct http_limits big = { .max_head = HTTP_LIMIT_HEAD_MAX,
				   .max_fields = HTTP_LIMIT_FIELDS_MAX };
	size_t n, i;

	n = sprintf(m, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n");
	assert_int_equal(http1_parse_request(m, n, &small, &req), (int)n);
	n = sprintf(m, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n");
	assert_int_equal(http1_parse_request(m, n, &small, &req), HTTP_ERR_HEADERS);
	assert_int_equal(parse_req(m, n), (int)n); /* fine by default */

	/* A head of exactly max_head bytes passes, one more byte is 431,
	 * and so is an unfinished head that reached the limit. */
	n = sprintf(m, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
	memset(m + n, 'v', 2048 - 4 - n);
	memcpy(m + 2048 - 4, "\r\n\r\n", 4);
	assert_int_equal(http1_parse_request(m, 2048, &small, &req), 2048);
	memcpy(m + 2048 - 4, "v\r\n\r\n", 5);
	assert_int_equal(http1_parse_request(m, 2049, &small, &req), HTTP_ERR_HEADERS);
	assert_int_equal(http1_parse_request(m, 2048, &small, &req), HTTP_ERR_HEADERS);
	assert_int_equal(http1_parse_request(m, 2047, &small, &req), HTTP_PARTIAL);

	/* Raised to the bounds: 1024 fields in a 1 MiB head pass, the 1025th
	 * is 431; a head over 64 KiB passes that fails by default. */
	n = sprintf(m, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (i = 1; i < HTTP_LIMIT_FIELDS_MAX; i++)
		n += sprintf(m + n, "X-H%zu: v\r\n", i);
	n += sprintf(m + n, "\r\n");
	assert_int_equal(http1_parse_request(m, n, &big, &req), (int)n);
	assert_int_equal(req.n_headers, HTTP_LIMIT_FIELDS_MAX);
	memcpy(m + n - 2, "Y: 1\r\n\r\n", 8);
	assert_int_equal(http1_parse_request(m, n + 6, &big, &req), HTTP_ERR_HEADERS);
	n = sprintf(m, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
	memset(m + n, 'v', 200000);
	n += 200000;
	n += sprintf(m + n, "\r\n\r\n");
	assert_int_equal(http1_parse_request(m, n, &big, &req), (int)n);
	assert_int_equal(http1_parse_request(m, n, DEF_LIMITS, &req), HTTP_ERR_HEADERS);
}

static void test_responses(void **state)
{
	parse_resp(S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"), m_get);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.minor, 1);
	assert_view(resp.reason, "OK");
	assert_int_equal(resp.body, HTTP_BODY_LENGTH);
	assert_int_equal(resp.content_length, 5);
	assert_true(resp.keep_alive);
	assert_int_equal(resp.n_headers, 1);

	parse_resp(S("HTTP/1.1 404 Not  Found \xe9\r\n"
		     "Transfer-Encoding: Chunked\r\n\r\n"), m_get);
	assert_view(resp.reason, "Not  Found \xe9");
	assert_int_equal(resp.body, HTTP_BODY_CHUNKED);

	assert_int_equal(parse_resp(S("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n"),
				    m_get), 30);
	assert_int_equal(resp.body, HTTP_BODY_UNTIL_CLOSE);
	assert_false(resp.keep_alive);

	parse_resp(S("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"), m_get);
	assert_int_equal(resp.reason.len, 0);
	parse_resp(S("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"), m_get);
	assert_int_equal(resp.reason.len, 0);

	parse_resp(S("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n"), m_get);
	assert_false(resp.keep_alive);
	parse_resp(S("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n"
		     "Connection: keep-alive\r\n\r\n"), m_get);
	assert_true(resp.keep_alive);
	parse_resp(S("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
		     "Connection: close\r\n\r\n"), m_get);
	assert_false(resp.keep_alive);
}

static void test_response_no_body(void **state)
{
	static const char cl[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";

	parse_resp(S(cl), m_head);
	assert_int_equal(resp.body, HTTP_BODY_NONE);
	assert_true(resp.keep_alive);
	parse_resp(S(cl), m_connect);
	assert_int_equal(resp.body, HTTP_BODY_NONE);
	parse_resp(S("HTTP/1.1 407 Auth\r\nContent-Length: 3\r\n\r\n"),
		   m_connect);
	assert_int_equal(resp.body, HTTP_BODY_LENGTH);
	parse_resp(S("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"),
		   m_get);
	assert_int_equal(resp.body, HTTP_BODY_NONE);
	assert_int_equal(resp.content_length, 0);
	parse_resp(S("HTTP/1.1 304 Not Modified\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n"), m_get);
	assert_int_equal(resp.body, HTTP_BODY_NONE);
	parse_resp(S("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"), m_get);
	assert_int_equal(resp.body, HTTP_BODY_NONE);
	assert_true(resp.keep_alive);
	parse_resp(S("HTTP/1.1 100 Continue\r\n\r\n"), m_get);
	assert_int_equal(resp.status, 100);
	assert_int_equal(resp.body, HTTP_BODY_NONE);
	assert_int_equal(parse_resp(S("HTTP/1.1 103 Early Hints\r\n"
				      "Link: </a>\r\n\r\nHTTP/1.1 200 OK\r\n"),
				    m_get), 40);
	assert_int_equal(resp.body, HTTP_BODY_NONE);
	parse_resp(S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\n\r\n"), m_get);
	assert_int_equal(resp.status, 101);
	assert_int_equal(resp.body, HTTP_BODY_NONE);
}

#define RESP(extra) "HTTP/1.1 200 OK\r\n" extra "\r\n"

static const struct bad_case bad_responses[] = {
	BAD("CL dup equal", RESP("Content-Length: 1\r\nContent-Length: 1\r\n"),
	    HTTP_ERR_BAD),
	BAD("CL dup different", RESP("Content-Length: 1\r\nContent-Length: 2\r\n"),
	    HTTP_ERR_BAD),
	BAD("CL invalid", RESP("Content-Length: 1a\r\n"), HTTP_ERR_BAD),
	BAD("TE+CL", RESP("Transfer-Encoding: chunked\r\nContent-Length: 1\r\n"),
	    HTTP_ERR_BAD),
	BAD("TE gzip", RESP("Transfer-Encoding: gzip\r\n"), HTTP_ERR_BAD),
	BAD("TE list", RESP("Transfer-Encoding: gzip, chunked\r\n"),
	    HTTP_ERR_BAD),
	BAD("TE on 1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("204 with TE+CL",
	    "HTTP/1.1 204 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 0\r\n\r\n", HTTP_ERR_BAD),
	BAD("HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n", HTTP_ERR_VERSION),
	BAD("HTTP/2", "HTTP/2 200 OK\r\n\r\n", HTTP_ERR_BAD),
	BAD("lower-case version", "http/1.1 200 OK\r\n\r\n", HTTP_ERR_BAD),
	BAD("2-digit code", "HTTP/1.1 20 OK\r\n\r\n", HTTP_ERR_BAD),
	BAD("4-digit code", "HTTP/1.1 2000 OK\r\n\r\n", HTTP_ERR_BAD),
	BAD("code 099", "HTTP/1.1 099 X\r\n\r\n", HTTP_ERR_BAD),
	BAD("code 600", "HTTP/1.1 600 X\r\n\r\n", HTTP_ERR_BAD),
	BAD("code then text", "HTTP/1.1 200OK\r\n\r\n", HTTP_ERR_BAD),
	BAD("two SP before code", "HTTP/1.1  200 OK\r\n\r\n", HTTP_ERR_BAD),
	BAD("NUL in reason", "HTTP/1.1 200 O\0K\r\n\r\n", HTTP_ERR_BAD),
	BAD("bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", HTTP_ERR_BAD),
	BAD("bare CR", "HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n",
	    HTTP_ERR_BAD),
	BAD("leading CRLF", "\r\nHTTP/1.1 200 OK\r\n\r\n", HTTP_ERR_BAD),
	BAD("obs-fold", RESP("Content-Length: 1\r\nX: a\r\n b\r\n"),
	    HTTP_ERR_BAD),
	BAD("space before colon", RESP("Content-Length : 1\r\n"),
	    HTTP_ERR_BAD),
	BAD("a request", "GET / HTTP/1.1\r\nHost: h\r\n\r\n", HTTP_ERR_BAD),
};

static void test_bad_responses(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(bad_responses) / sizeof(bad_responses[0]); i++) {
		const struct bad_case *c = &bad_responses[i];
		int r = parse_resp(c->msg, c->len, m_get);

		if (r != c->want)
			fail_msg("%s: got %d, want %d", c->name, r, c->want);
	}
}

/* ---------------------------------------------------------------- */

/* What one feeding of a chunked body came to. */
struct chunk_result {
	long consumed; /* total, or HTTP_ERR_BAD */
	bool done;
};

static struct chunk_result chunk_feed(const char *s, size_t len,
				      const size_t *cuts, size_t n_cuts)
{
	struct http_chunked st = { 0 };
	struct chunk_result res = { 0, false };
	size_t from = 0, i;

	for (i = 0; i <= n_cuts && !res.done; i++) {
		size_t to = i < n_cuts ? cuts[i] : len;
		char *piece = malloc(to - from + 1);
		long r;

		assert_non_null(piece);
		memcpy(piece, s + from, to - from);
		r = http1_chunked_scan(&st, piece, to - from, &res.done);
		free(piece);
		if (r < 0) {
			res.consumed = r;
			assert_false(res.done);
			return res;
		}
		/* Nothing is left behind except after the end. */
		if (!res.done)
			assert_int_equal(r, to - from);
		res.consumed += r;
		from = to;
	}
	return res;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void check_same(const char *s, size_t len, struct chunk_result a,
		       struct chunk_result b, const char *how)
{
	if (a.consumed != b.consumed || a.done != b.done)
		fail_msg("\"%.*s\" %s: %ld/%d, whole: %ld/%d", (int)len, s, how,
			 b.consumed, b.done, a.consumed, a.done);
}

/* Whole, byte by byte and in random splits: all must agree. */
static struct chunk_result chunk_check(const char *s, size_t len)
{
	struct chunk_result whole = chunk_feed(s, len, NULL, 0), r;
	size_t *cuts = malloc((len + 1) * sizeof(*cuts));
	size_t i, k, n;

	assert_non_null(cuts);
	for (i = 0; i < len; i++)
		cuts[i] = i + 1;
	r = chunk_feed(s, len, cuts, len ? len - 1 : 0);
	check_same(s, len, whole, r, "byte by byte");
	for (k = 0; k < 64 && len > 1; k++) {
		n = 0;
		for (i = 1; i < len; i++)
			if (rng() % 4 == 0)
				cuts[n++] = i;
		r = chunk_feed(s, len, cuts, n);
		check_same(s, len, whole, r, "random split");
	}
	free(cuts);
	return whole;
}

struct chunk_case {
	const char *body;
	size_t len;
	long consumed; /* HTTP_ERR_BAD, or bytes */
	bool done;
};

#define CHK(lit, consumed, done) { lit, sizeof(lit) - 1, consumed, done }
#define CHK_OK(lit) CHK(lit, sizeof(lit) - 1, true)
#define CHK_BAD(lit) CHK(lit, HTTP_ERR_BAD, false)

static const struct chunk_case chunk_cases[] = {
	CHK_OK("5\r\nhello\r\n0\r\n\r\n"),
	CHK_OK("0\r\n\r\n"),
	CHK_OK("000\r\n\r\n"),
	CHK_OK("5;ext=1\r\nhello\r\n0\r\n\r\n"),
	CHK_OK("5;a;b=\"q s\";c=\xe9\r\nhello\r\n0;last\r\n\r\n"),
	CHK_OK("5 ;ext\r\nhello\r\n0\t; e\r\n\r\n"),
	CHK_OK("A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n"),
	CHK_OK("1\r\n\r\r\n2\r\n\r\n\r\n0\r\n\r\n"),
	CHK_OK("000000000000000a\r\n0123456789\r\n0\r\n\r\n"),
	CHK_OK("0\r\nX-T: v\r\nX-U:\r\nX-V: a\tb \xff\r\n\r\n"),
	CHK("5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n", 15, true),
	CHK("0\r\n\r\n0\r\n\r\n", 5, true),
	/* incomplete: everything consumed, not done */
	CHK("5\r\nhel", 6, false),
	CHK("ffffffffffffffff\r\nabc", 21, false),
	CHK("0\r\nX: y\r\n", 9, false),
	CHK("", 0, false),
	/* malformed */
	CHK_BAD("fffffffffffffffff\r\n"),
	CHK_BAD("00000000000000001\r\nx\r\n0\r\n\r\n"),
	CHK_BAD("-1\r\n"),
	CHK_BAD("+1\r\nx\r\n0\r\n\r\n"),
	CHK_BAD(" 1\r\nx\r\n0\r\n\r\n"),
	CHK_BAD("0x1\r\nx\r\n0\r\n\r\n"),
	CHK_BAD("g\r\n"),
	CHK_BAD("\r\n"),
	CHK_BAD("1 \r\nx\r\n0\r\n\r\n"),
	CHK_BAD("1\t\r\nx\r\n0\r\n\r\n"),
	CHK_BAD("1 2\r\nxx\r\n0\r\n\r\n"),
	CHK_BAD("1\nx\r\n0\r\n\r\n"),
	CHK_BAD("1\rx\r\n0\r\n\r\n"),
	CHK_BAD("1;ext\nx\r\n0\r\n\r\n"),
	CHK_BAD("1;e\0xt\r\nx\r\n0\r\n\r\n"),
	CHK_BAD("1;e\x7f\r\nx\r\n0\r\n\r\n"),
	CHK_BAD("1\r\nxx\r\n0\r\n\r\n"),
	CHK_BAD("1\r\nx\n0\r\n\r\n"),
	CHK_BAD("1\r\nx\r0\r\n\r\n"),
	CHK_BAD("1\r\nx0\r\n\r\n"),
	CHK_BAD("0\r\nA: b\r\n c\r\n\r\n"),
	CHK_BAD("0\r\n c\r\n\r\n"),
	CHK_BAD("0\r\nA b: c\r\n\r\n"),
	CHK_BAD("0\r\nA : c\r\n\r\n"),
	CHK_BAD("0\r\n: c\r\n\r\n"),
	CHK_BAD("0\r\nA\r\n\r\n"),
	CHK_BAD("0\r\nA: \x01\r\n\r\n"),
	CHK_BAD("0\r\nA: b\n\r\n"),
	CHK_BAD("0\r\nA: b\rc\r\n\r\n"),
	CHK_BAD("0\r\nA: b\r\r\n\r\n"),
	CHK_BAD("0\r\n\n"),
	CHK_BAD("0\r\n\r\r"),
	CHK_BAD("0\n\r\n"),
};

static void test_chunked_matrix(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(chunk_cases) / sizeof(chunk_cases[0]); i++) {
		const struct chunk_case *c = &chunk_cases[i];
		struct chunk_result r = chunk_check(c->body, c->len);

		if (r.consumed != c->consumed || r.done != c->done)
			fail_msg("case %zu \"%.*s\": %ld/%d, want %ld/%d", i,
				 (int)c->len, c->body, r.consumed, r.done,
				 c->consumed, c->done);
	}
}

static void test_chunked_limits(void **state)
{
	char *m = malloc(32 * 1024);
	struct chunk_result r;
	size_t n;

	assert_non_null(m);
	/* Extensions are bounded with the size line (4 KiB). */
	n = sprintf(m, "1;e=");
	memset(m + n, 'x', 4000);
	n += 4000;
	n += sprintf(m + n, "\r\nx\r\n0\r\n\r\n");
	r = chunk_check(m, n);
	assert_int_equal(r.consumed, n);
	memset(m + 4, 'x', 5000);
	n = 5004 + sprintf(m + 5004, "\r\nx\r\n0\r\n\r\n");
	assert_int_equal(chunk_check(m, n).consumed, HTTP_ERR_BAD);
	/* Trailers are bounded in total (16 KiB). */
	n = sprintf(m, "0\r\n");
	while (n < 20 * 1024)
		n += sprintf(m + n, "X-Trailer-Field: 0123456789abcdef\r\n");
	n += sprintf(m + n, "\r\n");
	assert_int_equal(chunk_check(m, n).consumed, HTTP_ERR_BAD);
	free(m);
}

static void test_chunked_big_and_sticky(void **state)
{
	static char page[1 << 20];
	struct http_chunked st = { 0 };
	bool done = true;
	int i;

	/* 256 MiB of data, fed a MiB at a time: the count must not drift. */
	assert_int_equal(http1_chunked_scan(&st, "10000000\r\n", 10, &done), 10);
	assert_false(done);
	for (i = 0; i < 256; i++)
		assert_int_equal(http1_chunked_scan(&st, page, sizeof(page),
						    &done), sizeof(page));
	assert_int_equal(http1_chunked_scan(&st, "\r\n0\r\n\r\nX", 8, &done), 7);
	assert_true(done);
	/* After the end nothing more is consumed. */
	assert_int_equal(http1_chunked_scan(&st, "X", 1, &done), 0);
	assert_true(done);

	/* Errors stick. */
	memset(&st, 0, sizeof(st));
	assert_int_equal(http1_chunked_scan(&st, "z", 1, &done), HTTP_ERR_BAD);
	assert_false(done);
	assert_int_equal(http1_chunked_scan(&st, "0\r\n\r\n", 5, &done),
			 HTTP_ERR_BAD);
	assert_int_equal(http1_chunked_scan(&st, "", 0, &done), HTTP_ERR_BAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_simple),
		cmocka_unit_test(test_query_split),
		cmocka_unit_test(test_post_content_length),
		cmocka_unit_test(test_chunked_request),
		cmocka_unit_test(test_keep_alive_rules),
		cmocka_unit_test(test_expect_and_upgrade),
		cmocka_unit_test(test_values_and_obs_text),
		cmocka_unit_test(test_misc_valid),
		cmocka_unit_test(test_many_headers_and_find),
		cmocka_unit_test(test_partial_every_split),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_limits_line),
		cmocka_unit_test(test_limits_head),
		cmocka_unit_test(test_limits_configured),
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_response_no_body),
		cmocka_unit_test(test_bad_responses),
		cmocka_unit_test(test_chunked_matrix),
		cmocka_unit_test(test_chunked_limits),
		cmocka_unit_test(test_chunked_big_and_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
