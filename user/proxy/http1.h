/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A strict, incremental, zero-copy HTTP/1.1 message-head parser and a
 * streaming chunked-body scanner, in the picohttpparser mould: the caller
 * owns the buffer, results point into it.
 *
 * Strict means: anything RFC 9110/9112 lets a recipient reject and that
 * request smuggling feeds on is rejected, never guessed at. Bare CR or bare
 * LF, obs-fold, control characters, whitespace before a header colon,
 * invalid token characters, more than one Content-Length (even equal ones)
 * or a malformed one, Transfer-Encoding anything but exactly "chunked"
 * (as the final and only coding), Transfer-Encoding together with
 * Content-Length, Transfer-Encoding on HTTP/1.0, duplicate Host, missing
 * Host on HTTP/1.1, over-long lines or too many headers.
 */
#ifndef AMBIT_HTTP1_H
#define AMBIT_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_types.h"

/* Defaults: a request's limits unless configured, a response's always. */
#define HTTP_MAX_HEADERS 100          /* header fields -> 431 beyond */
#define HTTP_MAX_HEAD (64 * 1024)     /* whole head -> 431 beyond */
#define HTTP_MAX_LINE (16 * 1024)     /* request line -> 414 beyond */
/*
 * The most a request's limits may be raised to. Fields size the headers
 * array of struct http_request (32 KiB at 1024); bytes bound what one
 * connection may make the proxy buffer before it has a complete head.
 */
#define HTTP_LIMIT_FIELDS_MAX 1024
#define HTTP_LIMIT_HEAD_MAX (1024 * 1024)
#define HTTP_LIMIT_HEAD_MIN 1024

/* A request head's limits (the proxy's --max-header-bytes/-fields). */
struct http_limits {
	size_t max_head;   /* request line and headers, in bytes */
	size_t max_fields; /* header fields, at most HTTP_LIMIT_FIELDS_MAX */
};

/* HTTP_MAX_HEAD and HTTP_MAX_HEADERS. */
extern const struct http_limits http1_default_limits;

/* Return codes (besides bytes consumed > 0). */
#define HTTP_PARTIAL (-1)       /* need more bytes */
#define HTTP_ERR_BAD (-400)     /* malformed: answer 400 and close */
#define HTTP_ERR_URI (-414)     /* request line too long */
#define HTTP_ERR_HEADERS (-431) /* head too large / too many headers */
#define HTTP_ERR_NOT_IMPL (-501) /* unknown transfer coding */
#define HTTP_ERR_VERSION (-505) /* not HTTP/1.0 or HTTP/1.1 */

enum http_body {
	HTTP_BODY_NONE = 0,  /* no body (or, for responses, see below) */
	HTTP_BODY_LENGTH,    /* Content-Length bytes follow */
	HTTP_BODY_CHUNKED,   /* chunked framing follows */
	HTTP_BODY_UNTIL_CLOSE, /* responses only: read until the peer closes */
};

struct http_request {
	struct str_view method;
	struct str_view target; /* origin-form "/path?query" as received */
	struct str_view path;   /* target up to '?' */
	struct str_view query;  /* after '?', without it; len 0 when none */
	int minor;              /* 0 or 1 */
	struct http_header headers[HTTP_LIMIT_FIELDS_MAX];
	size_t n_headers;
	struct str_view host;   /* the Host header value */
	uint8_t body;           /* enum http_body */
	uint64_t content_length;
	bool keep_alive;        /* per version and Connection */
	bool expect_continue;   /* Expect: 100-continue */
	bool upgrade;           /* Connection: upgrade and an Upgrade header */
};

struct http_response {
	int minor;
	int status;
	struct str_view reason;
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t n_headers;
	uint8_t body;           /* enum http_body, per RFC 9112 6.3 */
	uint64_t content_length;
	bool keep_alive;
};

/**
 * http1_parse_request() - parse a request head from @buf[0..@len), within
 * @lim (a head reaching lim->max_head bytes without its end, or with more
 * than lim->max_fields fields, is HTTP_ERR_HEADERS).
 * Return: bytes the head occupies (> 0) with @req filled; HTTP_PARTIAL;
 * or an HTTP_ERR_* code (the status to answer, negated).
 */
int http1_parse_request(const char *buf, size_t len,
			const struct http_limits *lim, struct http_request *req);

/**
 * http1_parse_response() - parse a response head. @req_method is the
 * method of the request it answers (HEAD and CONNECT change the framing).
 * 1xx responses parse as complete heads with body NONE.
 * Return: as http1_parse_request().
 */
int http1_parse_response(const char *buf, size_t len,
			 struct str_view req_method, struct http_response *resp);

/** Streaming chunked-body scanner. Zero-initialise before the body. */
struct http_chunked {
	uint8_t state;
	uint64_t remaining;  /* bytes left in the current chunk data */
	size_t line_len;     /* bytes of the current size/trailer line */
	size_t trailer_bytes;
};

/**
 * http1_chunked_scan() - consume chunked framing from @buf[0..@len),
 * validating it (hex sizes without overflow, CRLF after data, bounded
 * extensions and trailers). The bytes consumed are meant to be forwarded
 * verbatim. Sets *@done when the final CRLF after the last chunk (and
 * trailers) has been consumed; never consumes past it.
 * Return: bytes consumed (>= 0) or HTTP_ERR_BAD.
 */
long http1_chunked_scan(struct http_chunked *st, const char *buf, size_t len,
			bool *done);

/** http1_header_find() - first header named @name (case-insensitive). */
const struct http_header *http1_header_find(const struct http_header *h,
					    size_t n, const char *name);

#endif
