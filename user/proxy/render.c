// SPDX-License-Identifier: Apache-2.0
/*
 * The heads the proxy writes: requests upstream, responses to the client,
 * and its own answers. Hop-by-hop headers never cross (RFC 9110 7.6.1);
 * Content-Length and Transfer-Encoding do, because bodies are forwarded
 * with their framing unchanged.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "conn.h"

static bool view_is(struct str_view v, const char *s)
{
	return v.len == strlen(s) && !strncasecmp(v.p, s, v.len);
}

/* A name listed in a Connection header is hop-by-hop too. */
static bool named_by_connection(const struct http_header *h, size_t n,
				struct str_view name)
{
	size_t i, j, start;

	for (i = 0; i < n; i++) {
		const struct str_view v = h[i].value;

		if (!view_is(h[i].name, "connection"))
			continue;
		for (j = start = 0; j <= v.len; j++) {
			if (j < v.len && v.p[j] != ',')
				continue;
			while (start < j && (v.p[start] == ' ' || v.p[start] == '\t'))
				start++;
			size_t end = j;

			while (end > start && (v.p[end - 1] == ' ' || v.p[end - 1] == '\t'))
				end--;
			if (end - start == name.len &&
			    !strncasecmp(v.p + start, name.p, name.len))
				return true;
			start = j + 1;
		}
	}
	return false;
}

static bool hop_by_hop(struct str_view name, bool upgrade)
{
	static const char *const hop[] = { "connection", "keep-alive",
		"proxy-connection", "te", "trailer", "upgrade" };
	size_t i;

	for (i = 0; i < sizeof(hop) / sizeof(hop[0]); i++) {
		if (view_is(name, hop[i]))
			return !(upgrade && i == 5);
	}
	return false;
}

static void sb_cstr(struct sbuf *out, const char *s)
{
	sb_add(out, s, strlen(s));
}

static void emit_ops(const struct l7_hdr_op *ops, size_t n, struct sbuf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (ops[i].op != L7_HDR_SET && ops[i].op != L7_HDR_ADD)
			continue;
		sb_cstr(out, ops[i].name);
		sb_add(out, ": ", 2);
		sb_cstr(out, ops[i].value);
		sb_add(out, "\r\n", 2);
	}
}

static void emit_headers(const struct http_header *h, size_t n,
			 const struct l7_hdr_op *ops, size_t n_ops,
			 const char *new_host, bool upgrade, struct sbuf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		/* An upgrade passes Upgrade through, though Connection
		 * names it: that is how the handshake works. */
		bool pass_upgrade = upgrade && view_is(h[i].name, "upgrade");

		if (hop_by_hop(h[i].name, upgrade) ||
		    (!pass_upgrade && named_by_connection(h, n, h[i].name)) ||
		    !l7_hdr_kept(ops, n_ops, h[i].name))
			continue;
		if (new_host && view_is(h[i].name, "host")) {
			sb_printf(out, "Host: %s\r\n", new_host);
			continue;
		}
		sb_add(out, h[i].name.p, h[i].name.len);
		sb_add(out, ": ", 2);
		sb_add(out, h[i].value.p, h[i].value.len);
		sb_add(out, "\r\n", 2);
	}
	emit_ops(ops, n_ops, out);
}

void px_render_request(const struct http_request *rq,
		       const struct l7_actions *a, bool upgrade,
		       struct sbuf *out)
{
	static const struct l7_actions none;

	if (!a)
		a = &none;
	sb_add(out, rq->method.p, rq->method.len);
	sb_add(out, " ", 1);
	if (a->path)
		sb_cstr(out, a->path);
	else
		sb_add(out, rq->path.p, rq->path.len);
	if (rq->query.len) {
		sb_add(out, "?", 1);
		sb_add(out, rq->query.p, rq->query.len);
	}
	sb_cstr(out, " HTTP/1.1\r\n");
	emit_headers(rq->headers, rq->n_headers, a->req, a->n_req, a->host,
		     upgrade, out);
	if (upgrade)
		sb_printf(out, "Connection: upgrade\r\n");
	sb_add(out, "\r\n", 2);
}

void px_render_response(const struct http_response *rs,
			const struct l7_actions *a, bool close, bool upgrade,
			struct sbuf *out)
{
	char code[4] = { (char)('0' + rs->status / 100 % 10),
			 (char)('0' + rs->status / 10 % 10),
			 (char)('0' + rs->status % 10), ' ' };

	sb_cstr(out, "HTTP/1.1 ");
	sb_add(out, code, sizeof(code));
	sb_add(out, rs->reason.p, rs->reason.len);
	sb_add(out, "\r\n", 2);
	emit_headers(rs->headers, rs->n_headers, a ? a->resp : NULL,
		     a ? a->n_resp : 0, NULL, upgrade, out);
	if (upgrade)
		sb_cstr(out, "Connection: upgrade\r\n");
	else if (close)
		sb_cstr(out, "Connection: close\r\n");
	sb_add(out, "\r\n", 2);
}

static const char *reason_of(int status)
{
	switch (status) {
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

void px_render_local(int status, const char *location,
		     const struct l7_actions *a, bool close, const char *body,
		     struct sbuf *out)
{
	size_t len = body ? strlen(body) : 0;

	sb_printf(out, "HTTP/1.1 %d %s\r\n", status, reason_of(status));
	if (location)
		sb_printf(out, "Location: %s\r\n", location);
	if (a)
		emit_ops(a->resp, a->n_resp, out);
	sb_printf(out, "Content-Length: %zu\r\n", len);
	if (len)
		sb_printf(out, "Content-Type: text/plain\r\n");
	if (close)
		sb_printf(out, "Connection: close\r\n");
	sb_add(out, "\r\n", 2);
	if (len)
		sb_add(out, body, len);
}
