// SPDX-License-Identifier: Apache-2.0
/*
 * Strict HTTP/1.1 head parser and chunked-body scanner (see http1.h).
 *
 * Heads are parsed picohttpparser-style: every call starts again from the
 * beginning of the buffer and keeps no state, so there is nothing to get
 * out of sync with the buffer. Re-parsing a head received byte by byte
 * would be quadratic in the head limit; the proxy re-parses only when a
 * line has ended (conn.c step_head), so the cost is bounded by the field
 * limit times the head limit.
 *
 * Results are prefix-stable: every decision depends only on the bytes
 * scanned so far, in order, so a complete head or an error found in
 * buf[0..n) is found again, identically, in any longer buffer starting with
 * those n bytes. HTTP_PARTIAL means "a valid prefix so far". The limits
 * work the same way: the head is only ever scanned up to its limit (by
 * default HTTP_MAX_HEAD bytes; the request line up to HTTP_MAX_LINE), and
 * running into the limit is the error, so a peer cannot make us buffer
 * more by trickling.
 *
 * Choices where the RFCs leave room, all on the rejecting side:
 *  - absolute-form ("GET http://h/ HTTP/1.1") is rejected with 400 even
 *    though RFC 9112 3.2.2 says servers MUST accept it: we sit in front of
 *    origin servers as a transparent redirector, clients only send it to
 *    forward proxies, and it would give a second authority next to Host
 *    for the router and the backend to disagree on. authority-form (and so
 *    CONNECT) is rejected for the same reason: we do not tunnel.
 *  - '#' is rejected in the request-target: a fragment is never sent
 *    (RFC 9112 3.2) and backends disagree on whether it ends the path.
 *  - a second Content-Length is rejected even when equal (RFC 9110 8.6
 *    allows merging equal ones; no correct sender emits two, and
 *    duplicates are the raw material of CL.CL smuggling).
 *  - several Transfer-Encoding fields are a list (RFC 9110 5.3), so 501.
 *  - whitespace between a chunk-size and ';' (BWS) is accepted, as RFC
 *    9112 7.1.1 requires, but nowhere else in the size line.
 *  - responses get no leading-empty-line allowance (RFC 9112 2.2 only
 *    grants it for requests) and no separate status-line limit: the
 *    HTTP_MAX_HEAD bound covers it.
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http1.h"

/* Empty lines tolerated before a request line (RFC 9112 2.2: "at least
 * one"); a client sending more is not a client that just ended a body. */
#define HTTP_MAX_EMPTY_LINES 4
/* Largest Content-Length: far beyond any real body, far from overflow. */
#define HTTP_MAX_CL (1ULL << 62)
/* Chunk-size line (size, BWS and extensions) and total trailer bytes. */
#define CHUNK_MAX_LINE 4096
#define CHUNK_MAX_HEXDIG 16
#define CHUNK_MAX_TRAILER (16 * 1024)

/* RFC 9110 5.6.2 tchar. */
static const uint8_t tchar_tab[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
};

/* RFC 3986 reg-name and IP-literal characters, bar '%' (checked apart). */
static const uint8_t host_tab[256] = {
	['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1,
	['!'] = 1, ['$'] = 1, ['&'] = 1, ['\''] = 1, ['('] = 1, [')'] = 1,
	['*'] = 1, ['+'] = 1, [','] = 1, [';'] = 1, ['='] = 1,
	['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
};

static bool is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* field-content characters, also reason-phrase and chunk-ext: HTAB, SP,
 * VCHAR, obs-text. Everything else is a control char (incl. NUL, DEL). */
static bool is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int hexval(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* ASCII-only case-insensitive compare: no locale may change framing. */
static bool view_ieq(const char *p, size_t len, const char *lit)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char a = p[i], b = lit[i];

		if (!b)
			return false;
		if (a >= 'A' && a <= 'Z')
			a |= 0x20;
		if (b >= 'A' && b <= 'Z')
			b |= 0x20;
		if (a != b)
			return false;
	}
	return lit[len] == '\0';
}

/* CRLF at *pos, and nothing else: no bare CR, no bare LF. */
static int expect_crlf(const char *buf, size_t end, size_t *pos)
{
	if (*pos >= end)
		return HTTP_PARTIAL;
	if (buf[*pos] != '\r')
		return HTTP_ERR_BAD;
	if (*pos + 1 >= end)
		return HTTP_PARTIAL;
	if (buf[*pos + 1] != '\n')
		return HTTP_ERR_BAD;
	*pos += 2;
	return 0;
}

/* 1*tchar followed by @stop (consumed, not part of @out). */
static int parse_token(const char *buf, size_t end, size_t *pos, char stop,
		       struct str_view *out)
{
	size_t start = *pos, p;

	for (p = start; p < end; p++) {
		if (buf[p] == stop) {
			if (p == start)
				return HTTP_ERR_BAD;
			out->p = buf + start;
			out->len = p - start;
			*pos = p + 1;
			return 0;
		}
		if (!tchar_tab[(unsigned char)buf[p]])
			return HTTP_ERR_BAD;
	}
	return HTTP_PARTIAL;
}

/* "HTTP/" DIGIT "." DIGIT; a well-formed version other than 1.0/1.1 is
 * 505, anything else (including lower case) 400. */
static int parse_version(const char *buf, size_t end, size_t *pos,
			 int *minor)
{
	static const char tmpl[] = "HTTP/d.d";
	const char *v = buf + *pos;
	size_t i;

	for (i = 0; i < sizeof(tmpl) - 1; i++) {
		if (*pos + i >= end)
			return HTTP_PARTIAL;
		if (tmpl[i] == 'd' ? !is_digit(v[i]) : v[i] != tmpl[i])
			return HTTP_ERR_BAD;
	}
	if (v[5] != '1' || v[7] > '1')
		return HTTP_ERR_VERSION;
	*minor = v[7] - '0';
	*pos += i;
	return 0;
}

static void skip_ows(const char *buf, size_t end, size_t *pos)
{
	while (*pos < end && is_ows(buf[*pos]))
		(*pos)++;
}

/*
 * OWS field-value OWS CRLF. The value excludes both OWS runs; a CR must be
 * followed by LF and any other control char is an error, so a bare CR or
 * bare LF can never end (or hide inside) a field.
 */
static int parse_value(const char *buf, size_t end, size_t *pos,
		       struct str_view *out)
{
	size_t p = *pos, start, last;
	int r;

	skip_ows(buf, end, &p);
	for (start = last = p; p < end && buf[p] != '\r'; p++) {
		unsigned char c = buf[p];

		if (!is_field_char(c))
			return HTTP_ERR_BAD;
		if (!is_ows(c))
			last = p + 1;
	}
	r = expect_crlf(buf, end, &p);
	if (r)
		return r;
	out->p = buf + start;
	out->len = last - start;
	*pos = p;
	return 0;
}

/*
 * Header lines up to and including the empty line. A line starting with
 * SP/HTAB is obs-fold (or whitespace before the first field, RFC 9112
 * 2.2): both are rejected rather than unfolded.
 */
static int parse_headers(const char *buf, size_t end, size_t *pos,
			 struct http_header *h, size_t max, size_t *n)
{
	int r;

	*n = 0;
	for (;;) {
		if (*pos >= end)
			return HTTP_PARTIAL;
		if (buf[*pos] == '\r')
			return expect_crlf(buf, end, pos);
		if (is_ows(buf[*pos]))
			return HTTP_ERR_BAD;
		if (*n == max)
			return HTTP_ERR_HEADERS;
		r = parse_token(buf, end, pos, ':', &h[*n].name);
		if (!r)
			r = parse_value(buf, end, pos, &h[*n].value);
		if (r)
			return r;
		(*n)++;
	}
}

/* Skip the few empty lines RFC 9112 2.2 lets a server ignore. */
static int skip_empty_lines(const char *buf, size_t end, size_t *pos)
{
	int n;
	int r;

	for (n = 0; *pos < end && buf[*pos] == '\r'; n++) {
		if (n == HTTP_MAX_EMPTY_LINES)
			return HTTP_ERR_BAD;
		r = expect_crlf(buf, end, pos);
		if (r)
			return r;
	}
	return *pos < end ? 0 : HTTP_PARTIAL;
}

/* Methods are case-sensitive (RFC 9110 9.1). */
static bool view_eq(struct str_view v, const char *lit)
{
	size_t n = strlen(lit);

	return v.len == n && n && !memcmp(v.p, lit, n);
}

/*
 * request-target up to the SP before the version: visible ASCII bar '#',
 * split into path and query at the first '?'. Its form is checked once
 * the whole line is in (check_target_form).
 */
static int parse_target(const char *buf, size_t end, size_t *pos,
			struct http_request *req)
{
	size_t start = *pos, p, q = SIZE_MAX;

	for (p = start; p < end && buf[p] != ' '; p++) {
		unsigned char c = buf[p];

		if (c < 0x21 || c > 0x7e || c == '#')
			return HTTP_ERR_BAD;
		if (c == '?' && q == SIZE_MAX)
			q = p;
	}
	if (p >= end)
		return HTTP_PARTIAL;
	if (p == start) /* a second SP: targets are never empty */
		return HTTP_ERR_BAD;
	req->target = (struct str_view){ buf + start, p - start };
	if (q == SIZE_MAX)
		q = p;
	else
		req->query = (struct str_view){ buf + q + 1, p - q - 1 };
	req->path = (struct str_view){ buf + start, q - start };
	*pos = p + 1;
	return 0;
}

/*
 * origin-form for every method but CONNECT (whose target must be
 * authority-form, which we do not tunnel); asterisk-form for OPTIONS only.
 * absolute-form is rejected: see the top of this file.
 */
static int check_target_form(const struct http_request *req)
{
	const struct str_view *t = &req->target;

	if (t->p[0] == '/')
		return view_eq(req->method, "CONNECT") ? HTTP_ERR_BAD : 0;
	if (t->len == 1 && t->p[0] == '*' && view_eq(req->method, "OPTIONS"))
		return 0;
	return HTTP_ERR_BAD;
}

/*
 * method SP request-target SP HTTP-version CRLF, scanned no further than
 * HTTP_MAX_LINE + CRLF: needing a byte past that means the line is too
 * long, whatever it turns out to hold.
 */
static int parse_request_line(const char *buf, size_t end, size_t *pos,
			      struct http_request *req)
{
	size_t lim = *pos + HTTP_MAX_LINE + 2;
	size_t lend = end < lim ? end : lim;
	int r;

	r = parse_token(buf, lend, pos, ' ', &req->method);
	if (!r)
		r = parse_target(buf, lend, pos, req);
	if (!r)
		r = parse_version(buf, lend, pos, &req->minor);
	if (!r)
		r = expect_crlf(buf, lend, pos);
	if (r == HTTP_PARTIAL && lend == lim)
		return HTTP_ERR_URI;
	return r ? r : check_target_form(req);
}

/* What the framing and connection decisions need from the fields. */
struct fields {
	const struct str_view *cl, *te, *host;
	unsigned int n_cl, n_te, n_host;
	bool close, keep_alive, upgrade_token, upgrade_field, continue_100;
};

/* Connection = #connection-option: a comma list, case-insensitive.
 * Elements that are not options we act on are left alone. */
static void scan_connection(struct str_view v, struct fields *f)
{
	size_t i = 0, s, e;

	while (i <= v.len) {
		for (s = i; i < v.len && v.p[i] != ','; i++)
			;
		e = i++;
		while (s < e && is_ows(v.p[s]))
			s++;
		while (e > s && is_ows(v.p[e - 1]))
			e--;
		if (view_ieq(v.p + s, e - s, "close"))
			f->close = true;
		else if (view_ieq(v.p + s, e - s, "keep-alive"))
			f->keep_alive = true;
		else if (view_ieq(v.p + s, e - s, "upgrade"))
			f->upgrade_token = true;
	}
}

static bool name_is(const struct http_header *h, const char *name)
{
	return view_ieq(h->name.p, h->name.len, name);
}

static void scan_fields(const struct http_header *h, size_t n,
			struct fields *f)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < n; i++) {
		const struct str_view *v = &h[i].value;

		if (name_is(&h[i], "content-length")) {
			f->cl = v;
			f->n_cl++;
		} else if (name_is(&h[i], "transfer-encoding")) {
			f->te = v;
			f->n_te++;
		} else if (name_is(&h[i], "host")) {
			f->host = v;
			f->n_host++;
		} else if (name_is(&h[i], "connection")) {
			scan_connection(*v, f);
		} else if (name_is(&h[i], "upgrade")) {
			f->upgrade_field = true;
		} else if (name_is(&h[i], "expect")) {
			f->continue_100 |= view_ieq(v->p, v->len,
						    "100-continue");
		}
	}
}

/* 1*DIGIT, no sign, no list, capped well below overflow. */
static int parse_content_length(struct str_view v, uint64_t *out)
{
	uint64_t n = 0;
	size_t i;

	if (!v.len)
		return HTTP_ERR_BAD;
	for (i = 0; i < v.len; i++) {
		unsigned int d = (unsigned char)v.p[i] - '0';

		if (d > 9 || n > (HTTP_MAX_CL - d) / 10)
			return HTTP_ERR_BAD;
		n = n * 10 + d;
	}
	*out = n;
	return 0;
}

/*
 * The framing checks requests and responses share. More than one
 * Content-Length is rejected even when the values are equal (see the top
 * of this file). Transfer-Encoding with Content-Length is the classic
 * smuggling pair, and in HTTP/1.0 it is "faulty framing" (RFC 9112 6.1):
 * both are rejected rather than resolved in favour of one header.
 */
static int check_framing(const struct fields *f, int minor, uint64_t *cl)
{
	if (f->n_cl > 1)
		return HTTP_ERR_BAD;
	if (f->n_cl && parse_content_length(*f->cl, cl))
		return HTTP_ERR_BAD;
	if (f->n_te && (f->n_cl || minor == 0))
		return HTTP_ERR_BAD;
	if (f->n_te == 1 && !f->te->len)
		return HTTP_ERR_BAD;
	return 0;
}

/* Only a single, exact "chunked": no list, no second field, no params. */
static bool te_is_chunked(const struct fields *f)
{
	return f->n_te == 1 && view_ieq(f->te->p, f->te->len, "chunked");
}

/*
 * Host = uri-host [ ":" port ] (RFC 9110 7.2), checked per character class
 * of each part: enough to keep SP, '/', '@', '?', '%' and the like out of
 * what the router matches hostnames against. pct-encoding, although legal
 * in a reg-name, is refused: no client sends it and it would give the
 * router and the backend two spellings of one name.
 */
static bool host_valid(struct str_view v)
{
	size_t i = 0;

	if (v.len && v.p[0] == '[') {
		for (i = 1; i < v.len && v.p[i] != ']'; i++)
			if (!host_tab[(unsigned char)v.p[i]] && v.p[i] != ':')
				return false;
		if (i++ == v.len)
			return false;
	} else {
		for (; i < v.len && v.p[i] != ':'; i++)
			if (!host_tab[(unsigned char)v.p[i]])
				return false;
	}
	if (i < v.len && v.p[i++] != ':')
		return false;
	for (; i < v.len; i++)
		if (!is_digit(v.p[i]))
			return false;
	return true;
}

/* Host, framing and connection options of a complete request head.
 * Every 400 is decided before the 501 for an unknown coding. */
static int request_semantics(struct http_request *req)
{
	struct fields f;
	int r;

	scan_fields(req->headers, req->n_headers, &f);
	if (f.n_host > 1 || (req->minor && !f.n_host))
		return HTTP_ERR_BAD;
	if (f.n_host && !host_valid(*f.host))
		return HTTP_ERR_BAD;
	if (f.n_host)
		req->host = *f.host;
	r = check_framing(&f, req->minor, &req->content_length);
	if (r)
		return r;
	if (f.n_te && !te_is_chunked(&f))
		return HTTP_ERR_NOT_IMPL;
	if (f.n_te)
		req->body = HTTP_BODY_CHUNKED;
	else if (f.n_cl)
		req->body = HTTP_BODY_LENGTH;
	req->keep_alive = !f.close && (req->minor || f.keep_alive);
	/* RFC 9110 10.1.1 and 7.8: both are ignored in HTTP/1.0 requests. */
	req->expect_continue = req->minor && f.continue_100;
	req->upgrade = req->minor && f.upgrade_token && f.upgrade_field;
	return 0;
}

/* Everything but the headers array, which n_headers says how much of to
 * trust: clearing 3 KiB on every partial re-parse would be waste. */
static void request_reset(struct http_request *req)
{
	memset(req, 0, offsetof(struct http_request, headers));
	memset(&req->n_headers, 0,
	       sizeof(*req) - offsetof(struct http_request, n_headers));
}

const struct http_limits http1_default_limits = {
	.max_head = HTTP_MAX_HEAD,
	.max_fields = HTTP_MAX_HEADERS,
};

int http1_parse_request(const char *buf, size_t len,
			const struct http_limits *lim, struct http_request *req)
{
	size_t max_fields = lim->max_fields < HTTP_LIMIT_FIELDS_MAX ?
			    lim->max_fields : HTTP_LIMIT_FIELDS_MAX;
	size_t end = len < lim->max_head ? len : lim->max_head;
	size_t pos = 0;
	int r;

	request_reset(req);
	r = skip_empty_lines(buf, end, &pos);
	if (!r)
		r = parse_request_line(buf, end, &pos, req);
	if (!r)
		r = parse_headers(buf, end, &pos, req->headers, max_fields,
				  &req->n_headers);
	/* Out of room before the empty line: the head is too large. */
	if (r == HTTP_PARTIAL && end == lim->max_head)
		return HTTP_ERR_HEADERS;
	if (!r)
		r = request_semantics(req);
	return r ? r : (int)pos;
}

/* SP 3DIGIT, 100 to 599 (RFC 9110 15: the valid range). */
static int parse_status_code(const char *buf, size_t end, size_t *pos,
			     int *status)
{
	size_t i;
	int code = 0;

	for (i = 0; i < 4; i++) {
		unsigned char c;

		if (*pos + i >= end)
			return HTTP_PARTIAL;
		c = buf[*pos + i];
		if (i ? !is_digit(c) : c != ' ')
			return HTTP_ERR_BAD;
		if (i)
			code = code * 10 + (c - '0');
	}
	if (code < 100 || code > 599)
		return HTTP_ERR_BAD;
	*status = code;
	*pos += i;
	return 0;
}

/*
 * HTTP-version SP status-code [ SP reason-phrase ] CRLF. The SP before an
 * empty reason is optional because many servers leave it out, which is
 * harmless: the line still ends at the first CRLF.
 */
static int parse_status_line(const char *buf, size_t end, size_t *pos,
			     struct http_response *resp)
{
	size_t p, start;
	int r;

	r = parse_version(buf, end, pos, &resp->minor);
	if (!r)
		r = parse_status_code(buf, end, pos, &resp->status);
	if (r)
		return r;
	p = *pos;
	if (p < end && buf[p] == ' ')
		p++;
	else if (p < end && buf[p] != '\r')
		return HTTP_ERR_BAD;
	for (start = p; p < end && buf[p] != '\r'; p++)
		if (!is_field_char(buf[p]))
			return HTTP_ERR_BAD;
	r = expect_crlf(buf, end, &p);
	if (r)
		return r;
	resp->reason = (struct str_view){ buf + start, p - 2 - start };
	*pos = p;
	return 0;
}

/* RFC 9112 6.3 items 1 and 2: the responses that never carry content. */
static bool response_has_no_body(int status, struct str_view method)
{
	if (status < 200 || status == 204 || status == 304)
		return true;
	if (view_eq(method, "HEAD"))
		return true;
	return status < 300 && view_eq(method, "CONNECT");
}

/*
 * Framing per RFC 9112 6.3. The checks shared with requests apply even
 * when the body is NONE: a server that sends TE with CL, or two CLs, is
 * broken and we would rather not pass its head on. A transfer coding
 * other than chunked is 400 here, not 501: we cannot find the end of the
 * body, so we cannot forward it.
 */
static int response_semantics(struct http_response *resp,
			      struct str_view method)
{
	struct fields f;
	uint64_t cl = 0;
	int r;

	scan_fields(resp->headers, resp->n_headers, &f);
	r = check_framing(&f, resp->minor, &cl);
	if (r)
		return r;
	resp->keep_alive = !f.close && (resp->minor || f.keep_alive);
	if (response_has_no_body(resp->status, method))
		return 0;
	if (f.n_te && !te_is_chunked(&f))
		return HTTP_ERR_BAD;
	if (f.n_te) {
		resp->body = HTTP_BODY_CHUNKED;
	} else if (f.n_cl) {
		resp->body = HTTP_BODY_LENGTH;
		resp->content_length = cl;
	} else {
		resp->body = HTTP_BODY_UNTIL_CLOSE;
		resp->keep_alive = false;
	}
	return 0;
}

static void response_reset(struct http_response *resp)
{
	memset(resp, 0, offsetof(struct http_response, headers));
	memset(&resp->n_headers, 0,
	       sizeof(*resp) - offsetof(struct http_response, n_headers));
}

int http1_parse_response(const char *buf, size_t len,
			 struct str_view req_method, struct http_response *resp)
{
	size_t end = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
	size_t pos = 0;
	int r;

	response_reset(resp);
	r = parse_status_line(buf, end, &pos, resp);
	if (!r)
		r = parse_headers(buf, end, &pos, resp->headers,
				  HTTP_MAX_HEADERS, &resp->n_headers);
	if (r == HTTP_PARTIAL && end == HTTP_MAX_HEAD)
		return HTTP_ERR_HEADERS;
	if (!r)
		r = response_semantics(resp, req_method);
	return r ? r : (int)pos;
}

const struct http_header *http1_header_find(const struct http_header *h,
					    size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (name_is(&h[i], name))
			return &h[i];
	return NULL;
}

/*
 * Chunked framing (RFC 9112 7.1), one state per position in the grammar,
 * so that it reads the same bytes the same way however they are split.
 * The zero state is the start of a body.
 */
enum chunk_state {
	CH_SIZE0 = 0,	/* first HEXDIG of chunk-size */
	CH_SIZE,	/* more HEXDIG, or what ends the size */
	CH_SIZE_WS,	/* BWS between the size and ';' */
	CH_EXT,		/* chunk-ext, up to CR */
	CH_SIZE_LF,	/* LF ending the size line */
	CH_DATA,	/* chunk-data: st->remaining bytes */
	CH_DATA_CR,	/* CRLF after chunk-data */
	CH_DATA_LF,
	CH_TR_START,	/* start of a trailer line, or the final CRLF */
	CH_TR_NAME,
	CH_TR_VALUE,
	CH_TR_LF,
	CH_FINAL_LF,	/* LF of the final CRLF */
	CH_DONE,
	CH_ERROR,	/* sticky: the body cannot be framed any more */
};

/* A size line is done: data follows, or trailers for the last chunk. */
static uint8_t chunk_size_end(struct http_chunked *st)
{
	st->line_len = 0;
	return st->remaining ? CH_DATA : CH_TR_START;
}

/* After the size: BWS then ';' (RFC 9112 7.1.1), never BWS then CR. */
static uint8_t chunk_after_size(unsigned char c)
{
	if (is_ows(c))
		return CH_SIZE_WS;
	return c == ';' ? CH_EXT : CH_ERROR;
}

/*
 * chunk-size [ BWS chunk-ext ] CRLF. At most 16 HEXDIG, so the size cannot
 * overflow 64 bits; the extensions are checked for characters only (we
 * forward them, we do not interpret them) and bounded with the line.
 */
static uint8_t chunk_size_step(struct http_chunked *st, unsigned char c)
{
	int d = hexval(c);

	if (++st->line_len > CHUNK_MAX_LINE)
		return CH_ERROR;
	switch (st->state) {
	case CH_SIZE0:
		if (d < 0)
			return CH_ERROR;
		st->remaining = d;
		return CH_SIZE;
	case CH_SIZE:
		if (d >= 0 && st->line_len > CHUNK_MAX_HEXDIG)
			return CH_ERROR;
		if (d >= 0) {
			st->remaining = st->remaining << 4 | d;
			return CH_SIZE;
		}
		return c == '\r' ? CH_SIZE_LF : chunk_after_size(c);
	case CH_SIZE_WS:
		return chunk_after_size(c);
	case CH_EXT:
		if (c == '\r')
			return CH_SIZE_LF;
		return is_field_char(c) ? CH_EXT : CH_ERROR;
	default: /* CH_SIZE_LF */
		return c == '\n' ? chunk_size_end(st) : CH_ERROR;
	}
}

/*
 * trailer-section CRLF: header lines under the head rules (token name
 * right before ':', no control chars, no obs-fold), bounded in total.
 */
static uint8_t chunk_trailer_step(struct http_chunked *st, unsigned char c)
{
	if (++st->trailer_bytes > CHUNK_MAX_TRAILER)
		return CH_ERROR;
	switch (st->state) {
	case CH_TR_START:
		if (c == '\r')
			return CH_FINAL_LF;
		return tchar_tab[c] ? CH_TR_NAME : CH_ERROR;
	case CH_TR_NAME:
		if (c == ':')
			return CH_TR_VALUE;
		return tchar_tab[c] ? CH_TR_NAME : CH_ERROR;
	case CH_TR_VALUE:
		if (c == '\r')
			return CH_TR_LF;
		return is_field_char(c) ? CH_TR_VALUE : CH_ERROR;
	case CH_TR_LF:
		return c == '\n' ? CH_TR_START : CH_ERROR;
	default: /* CH_FINAL_LF */
		return c == '\n' ? CH_DONE : CH_ERROR;
	}
}

static uint8_t chunk_step(struct http_chunked *st, unsigned char c)
{
	switch (st->state) {
	case CH_DATA_CR:
		return c == '\r' ? CH_DATA_LF : CH_ERROR;
	case CH_DATA_LF:
		return c == '\n' ? CH_SIZE0 : CH_ERROR;
	case CH_SIZE0 ... CH_SIZE_LF:
		return chunk_size_step(st, c);
	case CH_TR_START ... CH_FINAL_LF:
		return chunk_trailer_step(st, c);
	default:
		return CH_ERROR;
	}
}

long http1_chunked_scan(struct http_chunked *st, const char *buf, size_t len,
			bool *done)
{
	size_t i = 0;

	if (len > LONG_MAX)
		len = LONG_MAX;
	while (i < len && st->state != CH_DONE && st->state != CH_ERROR) {
		if (st->state == CH_DATA) {
			size_t n = len - i;

			if (n > st->remaining)
				n = st->remaining;
			i += n;
			st->remaining -= n;
			if (!st->remaining)
				st->state = CH_DATA_CR;
			continue;
		}
		st->state = chunk_step(st, buf[i++]);
	}
	*done = st->state == CH_DONE;
	return st->state == CH_ERROR ? HTTP_ERR_BAD : (long)i;
}
