// SPDX-License-Identifier: Apache-2.0
/*
 * What happens once an entry has won: the weighted backend choice and the
 * filters of the rule, then of the chosen backendRef, turned into actions
 * for the proxy (see l7route.h). Nothing here writes to the table.
 *
 * Choices the Gateway API leaves to us:
 *  - RequestHeaderModifier/ResponseHeaderModifier: each filter gives its
 *    set ops, then add, then remove, in list order; rule filters come
 *    before the backend's, so the proxy applying them in order lets the
 *    backend's filter have the last word.
 *  - RequestRedirect: Location is absolute, scheme://host[:port]path[?q].
 *    The query is kept, also with ReplaceFullPath. A request without a
 *    Host (HTTP/1.0) and a filter without a hostname gets a relative
 *    Location (path and query only).
 *  - ReplacePrefixMatch, on rewrite or redirect, replaces the prefix the
 *    winning match matched, on segment boundaries, as in the spec's table:
 *    prefix "/foo" to "/bar": "/foo/baz" -> "/bar/baz", "/foo" -> "/bar",
 *    "/foo/" -> "/bar/"; to "/" or "": "/foo/baz" -> "/baz", "/foo" -> "/".
 *    A trailing '/' of the prefix or the replacement is ignored.
 *  - RequestMirror: every mirror draws with the same @rnd; percent p
 *    mirrors when ambit_scale(rnd, 100) < p, a fraction n/d when
 *    ambit_scale(rnd, d) < n, neither always.
 *  - ExtensionRef filters do nothing here: the loader reports them as
 *    unsupported.
 */
#include "l7route.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ambit/select.h"

/* Everything a filter reads about the request. */
struct act_in {
	const struct l7_entry *e;
	const struct l7_request_view *rq;
	const struct l7_conn_info *ci;
	uint32_t rnd;
	struct arena *ar;
};

static struct str_view sv(const char *s)
{
	return (struct str_view){ s, s ? strlen(s) : 0 };
}

/* The concatenation of @n views, NUL-terminated, in @ar. */
static char *sv_cat(struct arena *ar, const struct str_view *v, size_t n)
{
	size_t i, len = 0;
	char *s, *w;

	for (i = 0; i < n; i++)
		len += v[i].len;
	s = arena_alloc(ar, len + 1);
	if (!s)
		return NULL;
	for (w = s, i = 0; i < n; i++) {
		if (v[i].len)
			memcpy(w, v[i].p, v[i].len);
		w += v[i].len;
	}
	*w = '\0';
	return s;
}

/* ---- backends ----------------------------------------------------------- */

const struct l7_backend *l7_pick_backend(const struct l7_rule *r, uint32_t rnd)
{
	uint32_t point, cum = 0;
	size_t i;

	if (!r->total_weight)
		return NULL;
	/* The same multiply-shift scaling as the BPF side (select.h). */
	point = ambit_scale(rnd, r->total_weight);
	for (i = 0; i < r->n_backends; i++) {
		cum += r->backends[i].weight;
		if (point < cum)
			return &r->backends[i];
	}
	return NULL;
}

/* ---- paths -------------------------------------------------------------- */

static struct str_view strip_slash(struct str_view v)
{
	while (v.len && v.p[v.len - 1] == '/')
		v.len--;
	return v;
}

/*
 * What follows the prefix the entry matched in @path: "" or "/...". For a
 * non-PathPrefix match (the loader refuses ReplacePrefixMatch there) or
 * a path that does not start with the prefix, "": the whole path goes.
 */
static struct str_view prefix_rest(const struct l7_entry *e,
				   struct str_view path)
{
	const struct route_match *m = e->match;
	struct str_view pre = sv("/"), none = { "", 0 };

	if (m && m->path.type != PATH_PREFIX)
		return none;
	if (m && m->path.value)
		pre = sv(m->path.value);
	pre = strip_slash(pre);
	if (path.len <= pre.len || (pre.len && memcmp(path.p, pre.p, pre.len)) ||
	    path.p[pre.len] != '/')
		return none;
	return (struct str_view){ path.p + pre.len, path.len - pre.len };
}

/* The new path per @pm as up to two views in @out; returns the count. */
static size_t path_new(const struct l7_entry *e, const struct path_mod *pm,
		       struct str_view path, struct str_view out[2])
{
	struct str_view r = sv(pm->value), rest;

	switch (pm->type) {
	case PATHMOD_FULL:
		out[0] = r.len ? r : sv("/");
		return 1;
	case PATHMOD_PREFIX:
		rest = prefix_rest(e, path);
		r = strip_slash(r);
		if (!r.len && !rest.len) {
			out[0] = sv("/");
			return 1;
		}
		out[0] = r;
		out[1] = rest;
		return 2;
	}
	out[0] = path;
	return 1;
}

/* ---- redirect ----------------------------------------------------------- */

static uint16_t scheme_port(const char *scheme)
{
	if (!strcasecmp(scheme, "http"))
		return 80;
	if (!strcasecmp(scheme, "https"))
		return 443;
	return 0;
}

/* The Host header without its port ("[v6]" keeps its brackets). */
static struct str_view host_only(struct str_view h)
{
	size_t i;

	if (h.len && h.p[0] == '[') {
		const char *rb = memchr(h.p, ']', h.len);

		if (rb)
			h.len = (size_t)(rb - h.p) + 1;
		return h;
	}
	for (i = 0; i < h.len; i++) {
		if (h.p[i] == ':') {
			h.len = i;
			break;
		}
	}
	return h;
}

/* Per the spec: the filter's port; else the scheme's when a scheme is
 * set; else the port the client dialed. 0: none known. */
static uint16_t redirect_port(const struct redirect *r, const char *scheme,
			      const struct l7_conn_info *ci)
{
	if (r->has_port)
		return r->port;
	if (r->scheme && scheme_port(scheme))
		return scheme_port(scheme);
	return ci ? ci->port : 0;
}

static int redirect(const struct act_in *in, const struct redirect *r,
		    struct l7_actions *out)
{
	const char *scheme = r->scheme ? r->scheme :
			     in->ci && in->ci->scheme ? in->ci->scheme : "http";
	struct str_view host = r->hostname ? sv(r->hostname) :
					     host_only(in->rq->host);
	uint16_t port = redirect_port(r, scheme, in->ci);
	struct str_view v[9];
	char pbuf[8];
	size_t n = 0;

	if (host.len) {
		v[n++] = sv(scheme);
		v[n++] = sv("://");
		v[n++] = host;
		if (port && port != scheme_port(scheme)) {
			snprintf(pbuf, sizeof(pbuf), ":%u", port);
			v[n++] = sv(pbuf);
		}
	}
	n += path_new(in->e, &r->path, in->rq->path, &v[n]);
	if (in->rq->query.len) {
		v[n++] = sv("?");
		v[n++] = in->rq->query;
	}
	out->location = sv_cat(in->ar, v, n);
	out->redirect_status = r->status ? r->status : 302;
	return out->location ? 0 : -ENOMEM;
}

/* ---- rewrite ------------------------------------------------------------ */

static int rewrite(const struct act_in *in, const struct rewrite *r,
		   struct l7_actions *out)
{
	struct str_view v[2];
	size_t n;

	if (r->hostname)
		out->host = r->hostname;
	if (r->path.type == PATHMOD_NONE)
		return 0;
	n = path_new(in->e, &r->path, in->rq->path, v);
	out->path = sv_cat(in->ar, v, n);
	return out->path ? 0 : -ENOMEM;
}

/* ---- headers ------------------------------------------------------------ */

static int push_op(struct l7_hdr_op *ops, size_t *n, uint8_t op,
		   const char *name, const char *value)
{
	if (*n >= L7_MAX_OPS)
		return -E2BIG;
	ops[*n].op = op;
	ops[*n].name = name;
	ops[*n].value = value;
	(*n)++;
	return 0;
}

static int header_ops(const struct header_mod *h, struct l7_hdr_op *ops,
		      size_t *n)
{
	size_t i;
	int err = 0;

	for (i = 0; i < h->n_set && !err; i++)
		err = push_op(ops, n, L7_HDR_SET, h->set[i].name, h->set[i].value);
	for (i = 0; i < h->n_add && !err; i++)
		err = push_op(ops, n, L7_HDR_ADD, h->add[i].name, h->add[i].value);
	for (i = 0; i < h->n_remove && !err; i++)
		err = push_op(ops, n, L7_HDR_REMOVE, h->remove[i], NULL);
	return err;
}

/* ---- mirrors ------------------------------------------------------------ */

static bool mirror_draw(const struct mirror *m, uint32_t rnd)
{
	if (m->has_percent)
		return ambit_scale(rnd, 100) < m->percent;
	if (m->has_fraction)
		return m->frac_den && ambit_scale(rnd, m->frac_den) < m->frac_num;
	return true;
}

static int mirror(const struct act_in *in, const struct mirror *m,
		  const struct l7_backend *target, struct l7_actions *out)
{
	if (!target || !mirror_draw(m, in->rnd))
		return 0;
	if (out->n_mirrors >= L7_MAX_MIRRORS)
		return -E2BIG;
	out->mirrors[out->n_mirrors++] = target;
	return 0;
}

/* ---- filters ------------------------------------------------------------ */

static int apply_one(const struct act_in *in, const struct filter *f,
		     struct l7_actions *out)
{
	switch (f->type) {
	case FILTER_REQ_HEADER:
		return header_ops(&f->hdr, out->req, &out->n_req);
	case FILTER_RESP_HEADER:
		return header_ops(&f->hdr, out->resp, &out->n_resp);
	case FILTER_REDIRECT:
		return redirect(in, &f->redirect, out);
	case FILTER_REWRITE:
		return rewrite(in, &f->rewrite, out);
	}
	return 0; /* ExtensionRef and anything newer: nothing to do here */
}

/* Filters @f in order; the k-th mirror among them targets @mir[k]. */
static int apply_list(const struct act_in *in, const struct filter *f,
		      size_t n, const struct l7_backend *mir, size_t n_mir,
		      struct l7_actions *out)
{
	size_t i, k = 0;
	int err = 0;

	for (i = 0; i < n && !err; i++) {
		if (f[i].type == FILTER_MIRROR) {
			err = mirror(in, &f[i].mirror, k < n_mir ? &mir[k] : NULL,
				     out);
			k++;
		} else {
			err = apply_one(in, &f[i], out);
		}
	}
	return err;
}

static size_t mirrors_in(const struct filter *f, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += f[i].type == FILTER_MIRROR;
	return k;
}

/* Where @b's mirrors start in r->mirrors (rule's first, then each
 * backendRef's in order); r->n_mirrors when @b is not one of r's. */
static size_t backend_mirror_base(const struct l7_rule *r,
				  const struct l7_backend *b)
{
	size_t i, base = mirrors_in(r->rule->filters, r->rule->n_filters);

	for (i = 0; i < r->n_backends; i++) {
		if (&r->backends[i] == b)
			return base;
		base += mirrors_in(r->backends[i].filters,
				   r->backends[i].n_filters);
	}
	return r->n_mirrors;
}

int l7_actions(const struct l7_entry *e, const struct l7_backend *b,
	       const struct l7_request_view *rq, const struct l7_conn_info *ci,
	       uint32_t rnd, struct arena *ar, struct l7_actions *out)
{
	const struct l7_rule *r = e->rule;
	struct act_in in = { e, rq, ci, rnd, ar };
	size_t base;
	int err;

	memset(out, 0, sizeof(*out));
	err = apply_list(&in, r->rule->filters, r->rule->n_filters, r->mirrors,
			 r->n_mirrors, out);
	if (err || !b)
		return err;
	base = backend_mirror_base(r, b);
	return apply_list(&in, b->filters, b->n_filters,
			  r->mirrors ? r->mirrors + base : NULL,
			  r->n_mirrors - base, out);
}

bool l7_hdr_kept(const struct l7_hdr_op *ops, size_t n, struct str_view name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (ops[i].op == L7_HDR_ADD)
			continue;
		if (strlen(ops[i].name) == name.len &&
		    !strncasecmp(ops[i].name, name.p, name.len))
			return false;
	}
	return true;
}
