// SPDX-License-Identifier: Apache-2.0
/*
 * Per-request matching against a port's sorted entries (see l7route.c for
 * the order). The table is shared read-only by the proxy's worker threads:
 * nothing here writes to it. No allocation on the common path; the only
 * ones are PCRE2's match data, created once per call and only when a
 * regex is actually evaluated, and a buffer for a repeated header longer
 * than JOIN_STACK that a regex must see joined.
 *
 * The semantics, where the Gateway API leaves a choice to us:
 *  - Path: the raw request path (before '?', not percent-decoded, not
 *    normalised). Exact compares it byte for byte. PathPrefix matches
 *    whole segments: "/v2" (or "/v2/") matches "/v2", "/v2/" and "/v2/x",
 *    not "/v2x"; "/" matches every request. RegularExpression: PCRE2
 *    (rx.h options) anchored at both ends, so it must match the whole path.
 *  - Headers: names compare case-insensitively, values case-sensitively.
 *    A header that appears more than once is matched as its values joined
 *    with "," in the order received: RFC 9110 section 5.3 says a repeated
 *    field means exactly that combined list. An absent header never
 *    matches, not even a regex that accepts "".
 *  - Query parameters: the raw query split on '&', each item on its first
 *    '=' (no '=': an empty value). Names compare case-sensitively; the
 *    FIRST occurrence of a name is matched (the spec's recommendation);
 *    names and values are compared raw, without percent-decoding, so
 *    "a%20b" and "a+b" are not "a b".
 *  - Method: exact and case-sensitive ("GET", never "get").
 *  - A regex that fails to evaluate (resource limits, invalid UTF-8 that
 *    PCRE2 rejects, no memory) does not match.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "l7route.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define JOIN_STACK 1024

/* Per-call state: PCRE2 match data, created on the first regex. */
struct mstate {
	pcre2_match_data *md;
	bool md_failed;
};

static bool rx_match(struct mstate *st, const void *rx, struct str_view s)
{
	int rc;

	if (!rx || st->md_failed)
		return false;
	if (!st->md) {
		/* One pair suffices: only "did it match" matters (a match
		 * with too small an ovector returns 0, still a match). */
		st->md = pcre2_match_data_create(1, NULL);
		if (!st->md) {
			st->md_failed = true;
			return false;
		}
	}
	rc = pcre2_match(rx, (PCRE2_SPTR)(s.p ? s.p : ""), s.len, 0, 0, st->md,
			 NULL);
	return rc >= 0;
}

static bool sv_eq(struct str_view v, const char *s)
{
	size_t n = strlen(s);

	return v.len == n && (!n || !memcmp(v.p, s, n));
}

/* ---- path --------------------------------------------------------------- */

static bool path_prefix(struct str_view path, const char *v)
{
	size_t n = strlen(v);

	/* A trailing '/' is ignored: "/" becomes "" and matches anything
	 * (even "*" of OPTIONS *: a rule for "/" takes every request). */
	if (n && v[n - 1] == '/')
		n--;
	if (!n)
		return true;
	if (path.len < n || memcmp(path.p, v, n))
		return false;
	return path.len == n || path.p[n] == '/';
}

static bool path_ok(const struct l7_entry *e, struct str_view path,
		    struct mstate *st)
{
	const struct path_match *pm = &e->match->path;
	const char *v = pm->value ? pm->value : "/";

	switch (pm->type) {
	case PATH_EXACT:
		return sv_eq(path, v);
	case PATH_REGEX:
		return rx_match(st, e->path_rx, path);
	default:
		return path_prefix(path, v);
	}
}

/* ---- headers ------------------------------------------------------------ */

static bool name_eq(struct str_view n, const char *s, size_t len)
{
	return n.len == len && !strncasecmp(n.p, s, len);
}

/* Does the join of every @name value, with ",", equal @want exactly?
 * Compared piecewise: no buffer. */
static bool joined_eq(const struct l7_request_view *rq, const char *name,
		      size_t nlen, const char *want)
{
	size_t i, pos = 0, wlen = strlen(want);
	bool first = true;

	for (i = 0; i < rq->n_headers; i++) {
		struct str_view v = rq->headers[i].value;

		if (!name_eq(rq->headers[i].name, name, nlen))
			continue;
		if (!first && (pos >= wlen || want[pos++] != ','))
			return false;
		if (wlen - pos < v.len || (v.len && memcmp(want + pos, v.p, v.len)))
			return false;
		pos += v.len;
		first = false;
	}
	return pos == wlen;
}

/* The joined values (rare: a repeated header under a regex). */
static bool joined_rx(const struct l7_request_view *rq, const char *name,
		      size_t nlen, size_t total, const void *rx,
		      struct mstate *st)
{
	char stack[JOIN_STACK], *buf = total <= sizeof(stack) ? stack : malloc(total);
	size_t i, pos = 0;
	bool ok;

	if (!buf)
		return false;
	for (i = 0; i < rq->n_headers; i++) {
		struct str_view v = rq->headers[i].value;

		if (!name_eq(rq->headers[i].name, name, nlen))
			continue;
		if (pos)
			buf[pos++] = ',';
		if (v.len)
			memcpy(buf + pos, v.p, v.len);
		pos += v.len;
	}
	ok = rx_match(st, rx, (struct str_view){ buf, pos });
	if (buf != stack)
		free(buf);
	return ok;
}

static bool header_ok(const struct l7_request_view *rq,
		      const struct kv_match *m, const void *rx,
		      struct mstate *st)
{
	size_t i, nlen = strlen(m->name), count = 0, total = 0;
	const struct http_header *one = NULL;

	for (i = 0; i < rq->n_headers; i++) {
		if (!name_eq(rq->headers[i].name, m->name, nlen))
			continue;
		if (!one)
			one = &rq->headers[i];
		total += rq->headers[i].value.len + (count ? 1 : 0);
		count++;
	}
	if (!count)
		return false;
	if (m->type != MATCH_REGEX)
		return count == 1 ? sv_eq(one->value, m->value) :
				    joined_eq(rq, m->name, nlen, m->value);
	if (count == 1)
		return rx_match(st, rx, one->value);
	return joined_rx(rq, m->name, nlen, total, rx, st);
}

/* ---- query -------------------------------------------------------------- */

/* The value of the first parameter named @name; false when absent. */
static bool query_find(struct str_view q, const char *name,
		       struct str_view *val)
{
	size_t nlen = strlen(name);
	const char *p = q.p, *end = q.p + q.len;

	while (q.len && p <= end) {
		const char *amp = memchr(p, '&', end - p);
		const char *item_end = amp ? amp : end;
		const char *eq = memchr(p, '=', item_end - p);
		const char *name_end = eq ? eq : item_end;

		if ((size_t)(name_end - p) == nlen && !memcmp(p, name, nlen)) {
			val->p = eq ? eq + 1 : item_end;
			val->len = eq ? (size_t)(item_end - eq - 1) : 0;
			return true;
		}
		if (!amp)
			break;
		p = amp + 1;
	}
	return false;
}

static bool query_ok(const struct l7_request_view *rq,
		     const struct kv_match *m, const void *rx,
		     struct mstate *st)
{
	struct str_view v;

	if (!query_find(rq->query, m->name, &v))
		return false;
	if (m->type == MATCH_REGEX)
		return rx_match(st, rx, v);
	return sv_eq(v, m->value);
}

/* ---- entries ------------------------------------------------------------ */

/* Cheap conditions first, regexes last. */
static bool entry_ok(const struct l7_entry *e, const struct l7_request_view *rq,
		     struct mstate *st)
{
	const struct route_match *m = e->match;
	size_t i;

	if (!m)
		return true;
	if (m->method && !sv_eq(rq->method, m->method))
		return false;
	if (!path_ok(e, rq->path, st))
		return false;
	for (i = 0; i < m->n_headers; i++) {
		if (!header_ok(rq, &m->headers[i],
			       e->header_rx ? e->header_rx[i] : NULL, st))
			return false;
	}
	for (i = 0; i < m->n_query; i++) {
		if (!query_ok(rq, &m->query[i],
			      e->query_rx ? e->query_rx[i] : NULL, st))
			return false;
	}
	return true;
}

static const struct l7_entries *entries_for(const struct l7_port *p,
					    const char *client_ns)
{
	size_t lo = 0, hi = p->n_consumers;

	/* Consumers are sorted by namespace (l7route.c). */
	while (client_ns && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(client_ns, p->consumers[mid].ns);

		if (!c)
			return &p->consumers[mid].entries;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return &p->producer;
}

const struct l7_entry *l7_match(const struct l7_port *p, const char *client_ns,
				const struct l7_request_view *rq)
{
	const struct l7_entries *es = entries_for(p, client_ns);
	const struct l7_entry *won = NULL;
	struct mstate st = { NULL, false };
	size_t i;

	for (i = 0; i < es->n && !won; i++) {
		if (entry_ok(&es->v[i], rq, &st))
			won = &es->v[i];
	}
	if (st.md)
		pcre2_match_data_free(st.md);
	return won;
}
