// SPDX-License-Identifier: Apache-2.0
/*
 * gateway.networking.k8s.io/v1 HTTPRoute: spec, parentRefs, rules, matches,
 * backendRefs and timeouts (filters are in load_filter.c). Limits and
 * rules are those of the v1 CRD (MaxItems and CEL validations).
 */
#include "load_priv.h"

#include <stdio.h>
#include <string.h>

#define ROUTE_MAX_HOSTNAMES 16
#define ROUTE_MAX_PARENTS 32
#define ROUTE_MAX_RULES 16
#define RULE_MAX_MATCHES 64
#define ROUTE_MAX_MATCHES 128 /* across all rules of a route */
#define RULE_MAX_BACKENDS 16
#define MATCH_MAX_KV 16

/* ---- parentRefs ---------------------------------------------------------- */

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_parent(const struct parent_ref *a, const struct parent_ref *b)
{
	return same_str(a->ref.group, b->ref.group) &&
	       same_str(a->ref.kind, b->ref.kind) &&
	       same_str(a->ref.ns, b->ref.ns) &&
	       same_str(a->ref.name, b->ref.name) &&
	       same_str(a->section_name, b->section_name) &&
	       a->ref.has_port == b->ref.has_port &&
	       a->ref.port == b->ref.port;
}

static void route_parents(struct lctx *c, const struct yt_node *spec,
			  struct http_route *r)
{
	const struct yt_node *v = lget(c, spec, "parentRefs", "spec", L_OPT);
	const struct yt_node *it;
	char p[FP_MAX];
	size_t i = 0, j;

	if (!v || !lis_seq(c, v, "spec.parentRefs", ROUTE_MAX_PARENTS) ||
	    !v->n)
		return;
	r->parents = lalloc(c, v->n, sizeof(*r->parents));
	if (!r->parents)
		return;
	r->n_parents = v->n;
	for (it = v->first; it; it = it->next, i++) {
		struct parent_ref *pr = &r->parents[i];

		fp_idx(p, "spec.parentRefs", i);
		/* The Gateway API defaults: a parent is a Gateway. */
		load_ref(c, it, p, "gateway.networking.k8s.io", "Gateway",
			 &pr->ref);
		if (it->type != YT_MAP)
			continue;
		pr->section_name = lstr(c, it, "sectionName", p, L_OPT,
					chk_dns_subdomain);
		for (j = 0; j < i; j++) {
			if (same_parent(&r->parents[j], pr))
				lerr(c, it, p, "duplicate of spec.parentRefs[%zu]",
				     j);
		}
	}
}

static void route_hostnames(struct lctx *c, const struct yt_node *spec,
			    struct http_route *r)
{
	const struct yt_node *v = lget(c, spec, "hostnames", "spec", L_OPT);
	const struct yt_node *it;
	char p[FP_MAX];
	size_t i = 0;

	if (!v || !lis_seq(c, v, "spec.hostnames", ROUTE_MAX_HOSTNAMES) ||
	    !v->n)
		return;
	r->hostnames = lalloc(c, v->n, sizeof(*r->hostnames));
	if (!r->hostnames)
		return;
	r->n_hostnames = v->n;
	for (it = v->first; it; it = it->next, i++) {
		fp_idx(p, "spec.hostnames", i);
		r->hostnames[i] = lstr_node(c, it, p, chk_hostname);
	}
}

/* ---- matches ------------------------------------------------------------- */

static const char *chk_regex_len(const char *s, size_t n)
{
	return n && n <= 1024 ? NULL : "must be 1 to 1024 characters long";
}

static void path_match(struct lctx *c, const struct yt_node *n,
		       const char *path, struct path_match *pm)
{
	/* Indexed by enum path_match_type. */
	static const char *const types[] = { "PathPrefix", "Exact",
					     "RegularExpression", NULL };
	const struct yt_node *v;
	char p[FP_MAX];
	int t = PATH_PREFIX;

	if (!lis_map(c, n, path))
		return;
	lenum(c, n, "type", path, L_OPT, types, &t);
	pm->type = (uint8_t)t;
	v = lget(c, n, "value", path, L_OPT);
	if (!v)
		return;
	fp_key(p, path, "value");
	pm->value = lstr_node(c, v, p,
			      t == PATH_REGEX ? chk_regex_len : chk_abs_path);
	if (pm->value && t == PATH_REGEX)
		lregex(c, v, p, pm->value);
}

static const char *chk_query_value(const char *s, size_t n)
{
	if (n > 1024)
		return "must be 1 to 1024 characters long";
	return chk_header_value(s, n);
}

static void kv_match(struct lctx *c, const struct yt_node *n,
		     const char *path, bool header, struct kv_match *m)
{
	static const char *const types[] = { "Exact", "RegularExpression",
					     NULL };
	int t = MATCH_EXACT;

	m->pos = lpos(c, n);
	if (!lis_map(c, n, path))
		return;
	lenum(c, n, "type", path, L_OPT, types, &t);
	m->type = (uint8_t)t;
	m->name = lstr(c, n, "name", path, L_REQ, chk_header_name);
	m->value = lstr(c, n, "value", path, L_REQ,
			header ? chk_header_value : chk_query_value);
	if (m->value && t == MATCH_REGEX) {
		char p[FP_MAX];

		fp_key(p, path, "value");
		lregex(c, lget_quiet(n, "value"), p, m->value);
	}
}

/* headers (names case-insensitive) or queryParams (case-sensitive). */
static void kv_matches(struct lctx *c, const struct yt_node *mm,
		       const char *path, bool header, struct kv_match **out,
		       size_t *n)
{
	const char *key = header ? "headers" : "queryParams";
	const struct yt_node *v = lget(c, mm, key, path, L_OPT), *it;
	const char *names[MATCH_MAX_KV];
	char p[FP_MAX], ip[FP_MAX], np[FP_MAX];
	size_t i = 0;

	fp_key(p, path, key);
	if (!v || !lis_seq(c, v, p, MATCH_MAX_KV) || !v->n)
		return;
	*out = lalloc(c, v->n, sizeof(**out));
	if (!*out)
		return;
	*n = v->n;
	for (it = v->first; it; it = it->next, i++) {
		fp_idx(ip, p, i);
		kv_match(c, it, ip, header, &(*out)[i]);
		names[i] = (*out)[i].name;
		if (ldup_str(names, i, header)) {
			fp_key(np, ip, "name");
			lerr(c, lget_quiet(it, "name"), np,
			     "duplicate name \"%s\"%s", names[i],
			     header ? " (header names are case-insensitive)" :
				      "");
		}
	}
}

static void route_match(struct lctx *c, const struct yt_node *n,
			const char *path, struct route_match *m)
{
	static const char *const methods[] = { "GET", "HEAD", "POST", "PUT",
					       "DELETE", "CONNECT", "OPTIONS",
					       "TRACE", "PATCH", NULL };
	const struct yt_node *v;
	char p[FP_MAX];
	int i;

	m->pos = lpos(c, n);
	/* Filled in even without a path: the default is PathPrefix "/". */
	m->path.type = PATH_PREFIX;
	m->path.value = "/";
	if (!lis_map(c, n, path))
		return;
	v = lget(c, n, "path", path, L_OPT);
	if (v) {
		m->has_path = true;
		fp_key(p, path, "path");
		path_match(c, v, p, &m->path);
	}
	kv_matches(c, n, path, true, &m->headers, &m->n_headers);
	kv_matches(c, n, path, false, &m->query, &m->n_query);
	if (lenum(c, n, "method", path, L_OPT, methods, &i) == 1)
		m->method = methods[i];
}

static void rule_matches(struct lctx *c, const struct yt_node *n,
			 const char *path, struct route_rule *rr)
{
	const struct yt_node *v = lget(c, n, "matches", path, L_OPT), *it;
	char p[FP_MAX], ip[FP_MAX];
	size_t i = 0;

	fp_key(p, path, "matches");
	if (!v || !lis_seq(c, v, p, RULE_MAX_MATCHES) || !v->n)
		return;
	rr->matches = lalloc(c, v->n, sizeof(*rr->matches));
	if (!rr->matches)
		return;
	rr->n_matches = v->n;
	for (it = v->first; it; it = it->next, i++) {
		fp_idx(ip, p, i);
		route_match(c, it, ip, &rr->matches[i]);
	}
}

/* ---- backendRefs ---------------------------------------------------------- */

static void backend_ref(struct lctx *c, const struct yt_node *n,
			const char *path, const struct rule_info *ri,
			struct backend_ref *b)
{
	struct rule_info bi = *ri;
	const struct yt_node *f;
	char p[FP_MAX];
	int64_t w;

	b->weight = 1;
	load_backend_obj(c, n, path, &b->ref);
	if (n->type != YT_MAP)
		return;
	if (lint(c, n, "weight", path, L_OPT, 0, 1000000, &w) == 1)
		b->weight = (uint32_t)w;
	f = lget(c, n, "filters", path, L_OPT);
	fp_key(p, path, "filters");
	bi.in_backend = true;
	if (f)
		load_filters(c, f, p, &bi, &b->filters, &b->n_filters);
}

static void rule_backends(struct lctx *c, const struct yt_node *n,
			  const char *path, const struct rule_info *ri,
			  struct route_rule *rr)
{
	const struct yt_node *v = lget(c, n, "backendRefs", path, L_OPT), *it;
	char p[FP_MAX], ip[FP_MAX];
	size_t i = 0;

	fp_key(p, path, "backendRefs");
	if (!v || !lis_seq(c, v, p, RULE_MAX_BACKENDS) || !v->n)
		return;
	rr->backends = lalloc(c, v->n, sizeof(*rr->backends));
	if (!rr->backends)
		return;
	rr->n_backends = v->n;
	for (it = v->first; it; it = it->next, i++) {
		fp_idx(ip, p, i);
		backend_ref(c, it, ip, ri, &rr->backends[i]);
	}
}

/* ---- timeouts ------------------------------------------------------------- */

/*
 * GEP-2257 Duration: ^([0-9]{1,5}(h|m|s|ms)){1,4}$, read as Go's
 * time.ParseDuration would. Return: milliseconds, or -1 when invalid.
 */
static int64_t parse_duration(const char *s)
{
	int64_t total = 0;
	int parts;

	for (parts = 0; *s; parts++) {
		int64_t v = 0, unit;
		int digits = 0;

		for (; *s >= '0' && *s <= '9' && digits < 6; s++, digits++)
			v = v * 10 + (*s - '0');
		if (!digits || digits > 5 || parts == 4)
			return -1;
		if (s[0] == 'm' && s[1] == 's')
			unit = 1;
		else if (*s == 'h')
			unit = 3600000;
		else if (*s == 'm')
			unit = 60000;
		else if (*s == 's')
			unit = 1000;
		else
			return -1;
		s += unit == 1 ? 2 : 1;
		total += v * unit;
	}
	return parts ? total : -1;
}

static int64_t load_duration(struct lctx *c, const struct yt_node *t,
			     const char *key, const char *path)
{
	const struct yt_node *v = lget(c, t, key, path, L_OPT);
	char p[FP_MAX], show[80];
	int64_t ms;

	if (!v)
		return -1;
	ms = v->type == YT_SCALAR && strlen(v->str) == v->n ?
		     parse_duration(v->str) : -1;
	if (ms >= 0)
		return ms;
	fp_key(p, path, key);
	lerr(c, v, p,
	     "must be a Gateway API duration such as \"10s\", \"500ms\" or "
	     "\"1h30m\" (1 to 4 parts of up to 5 digits and a unit h, m, s "
	     "or ms; \"0s\" disables), got %s", lshow(v, show, sizeof(show)));
	return -1;
}

static void rule_timeouts(struct lctx *c, const struct yt_node *n,
			  const char *path, struct route_rule *rr)
{
	const struct yt_node *t = lget(c, n, "timeouts", path, L_OPT);
	char p[FP_MAX], bp[FP_MAX];

	fp_key(p, path, "timeouts");
	if (!t || !lis_map(c, t, p))
		return;
	rr->timeout_request_ms = load_duration(c, t, "request", p);
	rr->timeout_backend_ms = load_duration(c, t, "backendRequest", p);
	/* The CRD's rule: only compared when request is set and not 0s. */
	if (rr->timeout_request_ms > 0 &&
	    rr->timeout_backend_ms > rr->timeout_request_ms) {
		fp_key(bp, p, "backendRequest");
		lerr(c, lget_quiet(t, "backendRequest"), bp,
		     "must not be longer than the request timeout");
	}
}

/* ---- rules ---------------------------------------------------------------- */

static void route_rule(struct lctx *c, const struct yt_node *n,
		       const char *path, struct route_rule *rr)
{
	struct rule_info ri = { .rule = rr };
	const struct yt_node *v;
	char p[FP_MAX];

	rr->pos = lpos(c, n);
	rr->timeout_request_ms = rr->timeout_backend_ms = -1;
	if (!lis_map(c, n, path))
		return;
	rr->name = lstr(c, n, "name", path, L_OPT, chk_dns_subdomain);
	/* Filters check themselves against the matches and backends. */
	rule_matches(c, n, path, rr);
	v = lget_quiet(n, "backendRefs");
	ri.n_backends = v && v->type == YT_SEQ ? v->n : 0;
	rule_backends(c, n, path, &ri, rr);
	v = lget(c, n, "filters", path, L_OPT);
	fp_key(p, path, "filters");
	if (v)
		load_filters(c, v, p, &ri, &rr->filters, &rr->n_filters);
	rule_timeouts(c, n, path, rr);
}

/* Rule names must be unique; all rules together have at most 128 matches. */
static void rules_check(struct lctx *c, const struct yt_node *v,
			const struct http_route *r)
{
	const struct yt_node *it = v->first;
	size_t i, j, total = 0;
	char p[FP_MAX];

	for (i = 0; i < r->n_rules; i++, it = it->next) {
		total += r->rules[i].n_matches;
		for (j = 0; r->rules[i].name && j < i; j++) {
			if (!r->rules[j].name ||
			    strcmp(r->rules[i].name, r->rules[j].name))
				continue;
			snprintf(p, sizeof(p), "spec.rules[%zu].name", i);
			lerr(c, lget_quiet(it, "name"), p,
			     "duplicate rule name \"%s\" (spec.rules[%zu])",
			     r->rules[i].name, j);
		}
	}
	if (total > ROUTE_MAX_MATCHES)
		lerr(c, v, "spec.rules",
		     "must have at most %d matches in all, got %zu",
		     ROUTE_MAX_MATCHES, total);
}

static void route_rules(struct lctx *c, const struct yt_node *spec,
			struct http_route *r)
{
	const struct yt_node *v = lget(c, spec, "rules", "spec", L_OPT), *it;
	char p[FP_MAX];
	size_t i = 0;

	if (v && !lis_seq(c, v, "spec.rules", ROUTE_MAX_RULES))
		return;
	if (v && !v->n) {
		lerr(c, v, "spec.rules", "must have at least one rule");
		return;
	}
	/* Absent: the CRD default, one rule that matches everything. */
	r->n_rules = v ? v->n : 1;
	r->rules = lalloc(c, r->n_rules, sizeof(*r->rules));
	if (!r->rules) {
		r->n_rules = 0;
		return;
	}
	if (!v) {
		r->rules[0].pos = lpos(c, spec);
		r->rules[0].timeout_request_ms = -1;
		r->rules[0].timeout_backend_ms = -1;
		return;
	}
	for (it = v->first; it; it = it->next, i++) {
		fp_idx(p, "spec.rules", i);
		route_rule(c, it, p, &r->rules[i]);
	}
	rules_check(c, v, r);
}

void load_route(struct lctx *c, const struct yt_node *root)
{
	const struct yt_node *spec = lget(c, root, "spec", "", L_REQ);
	struct http_route *r = &c->o->route;

	if (!spec || !lis_map(c, spec, "spec"))
		return;
	route_hostnames(c, spec, r);
	route_parents(c, spec, r);
	route_rules(c, spec, r);
}
