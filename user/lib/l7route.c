// SPDX-License-Identifier: Apache-2.0
/*
 * The L7 route table (see l7route.h): built once per configuration
 * snapshot for every L7 service port of an image. Matching lives in
 * l7route_match.c, backend choice and filters in l7route_action.c.
 *
 * One entry per match of every rule of every route attached to a port
 * (a rule without matches is one entry that matches everything), sorted
 * once here so that at request time the first entry that matches wins.
 * Precedence, Gateway API v1 (HTTPRouteRule.matches), continuing on ties:
 *  1. an Exact path match;
 *  2. PathPrefix and RegularExpression paths by the length of their value,
 *     longest first. A PathPrefix is measured without its trailing '/'
 *     ("/v2/" and "/v2" match the same requests, so they tie). The spec
 *     leaves the rank of regexes to the implementation: ambit ranks a
 *     pattern by its length like a prefix, and at equal length the
 *     PathPrefix comes first. A rule without matches counts as
 *     PathPrefix "/" (length 1);
 *  3. a method match; 4. more header matches; 5. more query matches;
 *  6. the older route (route_precedes: creationTimestamp, apply order,
 *     then "namespace/name"); 7. rule order; 8. match order in the rule.
 *
 * Routes in the Service's namespace are producer routes. Routes from any
 * other namespace are consumer routes, kept per namespace: for clients of
 * that namespace they replace the producer routes (GEP-1294).
 *
 * Backends are resolved here, in the address family of the port's VIP.
 * l7_rule.mirrors holds the RequestMirror targets of the rule's filters,
 * then those of each backendRef's filters, in order; l7_actions() walks
 * the filters in the same order.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "l7route.h"

#include <errno.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "route_order.h"
#include "rx.h"
#include "strmap.h"

#define KEYBUF 512

/*
 * Bounds on one regex evaluation against a request value (an attacker
 * chooses the subject): PCRE2's defaults (10M match calls, 20 GB of heap)
 * are far too generous for a proxy. A match that hits a limit fails, so
 * the entry does not match. Start-of-pattern items can only lower the
 * library's limits, never raise them.
 */
#define RX_LIMITS "(*LIMIT_MATCH=1000000)(*LIMIT_HEAP=4096)"

/* Matches are anchored on the whole value: compile-time options rather
 * than wrapping the pattern, which a trailing (?x) comment would break. */
#define RX_MATCH_OPTIONS (AMBIT_RX_OPTIONS | PCRE2_ANCHORED | PCRE2_ENDANCHORED)

struct l7b {
	struct cindex *ix;
	struct l7_table *t;
	struct strmap routes; /* "ns/svc" -> HTTPRoute with that Service parent */
	struct strmap rxs;    /* pattern -> pcre2_code, shared by all entries */
	size_t rx_cap;
};

/* ---- indexes ------------------------------------------------------------ */

/* Each route once per Service it names (it may name two ports of it). */
static int index_route(struct l7b *b, const struct object *o)
{
	char key[KEYBUF];
	size_t i, j;

	for (i = 0; i < o->route.n_parents; i++) {
		const struct object_ref *p = &o->route.parents[i].ref;
		const char *ns = p->ns ? p->ns : o->ns;
		bool seen = false;

		if (!is_service_ref(p))
			continue;
		for (j = 0; j < i; j++) {
			const struct object_ref *q = &o->route.parents[j].ref;

			seen |= is_service_ref(q) && !strcmp(q->name, p->name) &&
				!strcmp(q->ns ? q->ns : o->ns, ns);
		}
		if (!seen && strmap_add(&b->routes,
					nsname_key(key, sizeof(key), ns, p->name),
					(void *)o))
			return -ENOMEM;
	}
	return 0;
}

static int index_routes(struct l7b *b, const struct objvec *all)
{
	size_t i;

	for (i = 0; i < all->n; i++) {
		if (all->v[i]->kind == OBJ_HTTP_ROUTE && index_route(b, all->v[i]))
			return -ENOMEM;
	}
	return 0;
}

/* ---- regexes ------------------------------------------------------------ */

static int rx_keep(struct l7b *b, pcre2_code *code)
{
	struct l7_table *t = b->t;

	if (t->n_rx == b->rx_cap) {
		size_t cap = b->rx_cap ? b->rx_cap * 2 : 16;
		void **v = realloc(t->rx, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->rx = v;
		b->rx_cap = cap;
	}
	t->rx[t->n_rx++] = code;
	return 0;
}

static pcre2_code *rx_compile_limited(const char *re, int *ec)
{
	size_t len = strlen(re), pre = strlen(RX_LIMITS);
	PCRE2_SIZE off;
	pcre2_code *code;
	char *pat = malloc(pre + len + 1);

	if (!pat) {
		*ec = PCRE2_ERROR_NOMEMORY;
		return NULL;
	}
	memcpy(pat, RX_LIMITS, pre);
	memcpy(pat + pre, re, len + 1);
	code = pcre2_compile((PCRE2_SPTR)pat, pre + len, RX_MATCH_OPTIONS, ec,
			     &off, NULL);
	free(pat);
	return code;
}

/*
 * The compiled form of @re in *@out (shared between entries). The loader
 * compiled every pattern already; should one still fail here, *@out is
 * NULL and the condition never matches.
 * Return: 0 or -ENOMEM.
 */
static int rx_get(struct l7b *b, const char *re, void **out)
{
	pcre2_code *code = strmap_get(&b->rxs, re);
	PCRE2_SIZE off;
	int ec = 0;

	*out = code;
	if (code)
		return 0;
	code = rx_compile_limited(re, &ec);
	if (!code && ec != PCRE2_ERROR_NOMEMORY)
		code = pcre2_compile((PCRE2_SPTR)re, strlen(re),
				     RX_MATCH_OPTIONS, &ec, &off, NULL);
	if (!code && ec == PCRE2_ERROR_NOMEMORY)
		return -ENOMEM;
	if (!code) {
		pr_warn("l7 route: regular expression \"%s\" does not compile "
			"(error %d): it never matches", re, ec);
		return 0;
	}
	/* JIT when the library has it; the interpreter otherwise. */
	pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
	if (rx_keep(b, code)) {
		pcre2_code_free(code);
		return -ENOMEM;
	}
	*out = code;
	return strmap_add(&b->rxs, re, code);
}

/* Regexes of one kv list: NULL when every condition is Exact. */
static int kv_rx(struct l7b *b, const struct kv_match *kv, size_t n,
		 void ***out)
{
	size_t i;
	int err;

	*out = NULL;
	for (i = 0; i < n; i++) {
		if (kv[i].type != MATCH_REGEX)
			continue;
		if (!*out)
			*out = arena_calloc(&b->t->arena, n, sizeof(**out));
		if (!*out)
			return -ENOMEM;
		err = rx_get(b, kv[i].value, &(*out)[i]);
		if (err)
			return err;
	}
	return 0;
}

static int entry_init(struct l7b *b, const struct l7_rule *r,
		      const struct route_match *m, struct l7_entry *e)
{
	int err;

	e->rule = r;
	e->match = m;
	if (!m)
		return 0;
	if (m->path.type == PATH_REGEX && m->path.value) {
		err = rx_get(b, m->path.value, &e->path_rx);
		if (err)
			return err;
	}
	err = kv_rx(b, m->headers, m->n_headers, &e->header_rx);
	return err ? err : kv_rx(b, m->query, m->n_query, &e->query_rx);
}

/* ---- backends ----------------------------------------------------------- */

static int resolve(struct l7b *b, int af, const struct object *route,
		   const struct object_ref *ref, struct l7_backend *out)
{
	out->ns = ref->ns ? ref->ns : route->ns;
	out->name = ref->name;
	out->port = ref->port;
	if (!is_service_ref(ref)) {
		out->unresolved = "backendRef is not a core Service";
		return 0;
	}
	return cindex_backend(b->ix, &b->t->arena, out->ns, out->name,
			      ref->port, af, &out->eps, &out->n_eps,
			      &out->unresolved);
}

static size_t count_mirrors(const struct filter *f, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += f[i].type == FILTER_MIRROR;
	return k;
}

/* Resolve the mirror targets of @f into @out from index *@k on. */
static int add_mirrors(struct l7b *b, int af, const struct object *route,
		       const struct filter *f, size_t n,
		       struct l7_backend *out, size_t *k)
{
	size_t i;
	int err;

	for (i = 0; i < n; i++) {
		if (f[i].type != FILTER_MIRROR)
			continue;
		out[*k].weight = 1;
		err = resolve(b, af, route, &f[i].mirror.backend, &out[(*k)++]);
		if (err)
			return err;
	}
	return 0;
}

static int rule_mirrors(struct l7b *b, int af, struct l7_rule *r)
{
	const struct route_rule *rr = r->rule;
	size_t i, n = count_mirrors(rr->filters, rr->n_filters);
	int err;

	for (i = 0; i < rr->n_backends; i++)
		n += count_mirrors(rr->backends[i].filters,
				   rr->backends[i].n_filters);
	if (!n)
		return 0;
	r->mirrors = arena_calloc(&b->t->arena, n, sizeof(*r->mirrors));
	if (!r->mirrors)
		return -ENOMEM;
	err = add_mirrors(b, af, r->route, rr->filters, rr->n_filters,
			  r->mirrors, &r->n_mirrors);
	for (i = 0; i < rr->n_backends && !err; i++)
		err = add_mirrors(b, af, r->route, rr->backends[i].filters,
				  rr->backends[i].n_filters, r->mirrors,
				  &r->n_mirrors);
	return err;
}

static int rule_init(struct l7b *b, int af, const struct object *route,
		     size_t idx, struct l7_rule *r)
{
	const struct route_rule *rr = &route->route.rules[idx];
	uint64_t total = 0;
	size_t i;
	int err;

	r->route = route;
	r->index = idx;
	r->rule = rr;
	r->n_backends = rr->n_backends;
	r->backends = arena_calloc(&b->t->arena, rr->n_backends + 1,
				   sizeof(*r->backends));
	if (!r->backends)
		return -ENOMEM;
	for (i = 0; i < rr->n_backends; i++) {
		struct l7_backend *be = &r->backends[i];

		err = resolve(b, af, route, &rr->backends[i].ref, be);
		if (err)
			return err;
		be->weight = rr->backends[i].weight;
		be->filters = rr->backends[i].filters;
		be->n_filters = rr->backends[i].n_filters;
		total += be->weight;
	}
	/* The loader bounds this (16 backendRefs of at most 1000000). */
	r->total_weight = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
	return rule_mirrors(b, af, r);
}

/* ---- precedence --------------------------------------------------------- */

struct keyed {
	struct l7_entry e;
	bool exact;
	bool regex;
	bool method;
	size_t len;     /* path value length, PathPrefix without its '/' */
	size_t headers;
	size_t query;
	size_t match;   /* index in the rule */
	size_t seq;     /* build order: the sort is stable */
};

static void key_init(struct keyed *k, size_t match, size_t seq)
{
	const struct route_match *m = k->e.match;
	const char *v = m && m->path.value ? m->path.value : "/";

	k->exact = m && m->path.type == PATH_EXACT;
	k->regex = m && m->path.type == PATH_REGEX;
	k->len = strlen(v);
	if (!k->exact && !k->regex && k->len > 1 && v[k->len - 1] == '/')
		k->len--;
	k->method = m && m->method;
	k->headers = m ? m->n_headers : 0;
	k->query = m ? m->n_query : 0;
	k->match = match;
	k->seq = seq;
}

#define CMP_DESC(x, y) do { if ((x) != (y)) return (x) > (y) ? -1 : 1; } while (0)
#define CMP_ASC(x, y) do { if ((x) != (y)) return (x) < (y) ? -1 : 1; } while (0)

static int keyed_cmp(const void *pa, const void *pb)
{
	const struct keyed *a = pa, *b = pb;
	const struct object *ra = a->e.rule->route, *rb = b->e.rule->route;

	CMP_DESC(a->exact, b->exact);
	CMP_DESC(a->len, b->len);
	CMP_ASC(a->regex, b->regex);
	CMP_DESC(a->method, b->method);
	CMP_DESC(a->headers, b->headers);
	CMP_DESC(a->query, b->query);
	if (ra != rb && route_precedes(ra, rb))
		return -1;
	if (ra != rb && route_precedes(rb, ra))
		return 1;
	CMP_ASC(a->e.rule->index, b->e.rule->index);
	CMP_ASC(a->match, b->match);
	CMP_ASC(a->seq, b->seq);
	return 0;
}

/* ---- entries ------------------------------------------------------------ */

static size_t count_entries(const struct object *const *routes, size_t n)
{
	size_t i, j, k = 0;

	for (i = 0; i < n; i++) {
		for (j = 0; j < routes[i]->route.n_rules; j++) {
			size_t m = routes[i]->route.rules[j].n_matches;

			k += m ? m : 1;
		}
	}
	return k;
}

/* Rules and unsorted entries of one route, appended to @ks. */
static int route_entries(struct l7b *b, int af, const struct object *o,
			 struct keyed *ks, size_t *nk)
{
	const struct http_route *hr = &o->route;
	struct l7_rule *rules;
	size_t i, j;
	int err;

	rules = arena_calloc(&b->t->arena, hr->n_rules + 1, sizeof(*rules));
	if (!rules)
		return -ENOMEM;
	for (i = 0; i < hr->n_rules; i++) {
		const struct route_rule *rr = &hr->rules[i];

		err = rule_init(b, af, o, i, &rules[i]);
		for (j = 0; !err && j < (rr->n_matches ? rr->n_matches : 1); j++) {
			struct keyed *k = &ks[*nk];

			err = entry_init(b, &rules[i],
					 rr->n_matches ? &rr->matches[j] : NULL,
					 &k->e);
			key_init(k, j, *nk);
			(*nk)++;
		}
		if (err)
			return err;
	}
	return 0;
}

static int build_entries(struct l7b *b, int af,
			 const struct object *const *routes, size_t n,
			 struct l7_entries *es)
{
	size_t i, cnt = count_entries(routes, n), nk = 0;
	struct keyed *ks = calloc(cnt + 1, sizeof(*ks));
	int err = -ENOMEM;

	if (!ks)
		return -ENOMEM;
	es->v = arena_calloc(&b->t->arena, cnt + 1, sizeof(*es->v));
	if (!es->v)
		goto out;
	err = 0;
	for (i = 0; i < n && !err; i++)
		err = route_entries(b, af, routes[i], ks, &nk);
	if (err)
		goto out;
	qsort(ks, nk, sizeof(*ks), keyed_cmp);
	for (i = 0; i < nk; i++)
		es->v[i] = ks[i].e;
	es->n = nk;
out:
	free(ks);
	return err;
}

/* ---- ports -------------------------------------------------------------- */

static int route_ns_cmp(const void *a, const void *b)
{
	const struct object *ra = *(const struct object *const *)a;
	const struct object *rb = *(const struct object *const *)b;

	return strcmp(ra->ns, rb->ns);
}

/* The routes attached to @s, sorted by namespace (malloc'ed array). */
static int port_routes(struct l7b *b, const struct img_service *s,
		       const struct object ***out, size_t *n)
{
	char key[KEYBUF];
	const struct object *r, **v = NULL;
	void *cur = NULL;
	size_t cap = 0;

	*n = 0;
	nsname_key(key, sizeof(key), s->svc->ns, s->svc->name);
	while ((r = strmap_next(&b->routes, key, &cur))) {
		if (!route_attaches(r, s->svc, s->port->port))
			continue;
		if (*n == cap) {
			const struct object **nv;

			cap = cap ? cap * 2 : 8;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[(*n)++] = r;
	}
	if (*n)
		qsort(v, *n, sizeof(*v), route_ns_cmp);
	*out = v;
	return 0;
}

static size_t count_consumer_ns(const struct object **v, size_t n,
				const char *svc_ns)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i]->ns, svc_ns) &&
		    (!i || strcmp(v[i]->ns, v[i - 1]->ns)))
			k++;
	}
	return k;
}

/* Entries for each run of routes of one namespace. */
static int port_groups(struct l7b *b, const struct img_service *s,
		       const struct object **v, size_t n, struct l7_port *p)
{
	int af = s->key.family == AMBIT_FAMILY_V4 ? AF_INET : AF_INET6;
	size_t i, j, nc = count_consumer_ns(v, n, s->svc->ns);
	struct l7_entries *es;
	int err;

	p->consumers = arena_calloc(&b->t->arena, nc + 1, sizeof(*p->consumers));
	if (!p->consumers)
		return -ENOMEM;
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && !strcmp(v[j]->ns, v[i]->ns); j++)
			;
		if (!strcmp(v[i]->ns, s->svc->ns)) {
			es = &p->producer;
		} else {
			p->consumers[p->n_consumers].ns = v[i]->ns;
			es = &p->consumers[p->n_consumers++].entries;
		}
		err = build_entries(b, af, v + i, j - i, es);
		if (err)
			return err;
	}
	return 0;
}

static int build_port(struct l7b *b, const struct img_service *s,
		      struct l7_port *p)
{
	const struct object **v = NULL;
	size_t n = 0;
	int err;

	p->key = s->key;
	p->svc = s->svc;
	err = port_routes(b, s, &v, &n);
	if (!err)
		err = port_groups(b, s, v, n, p);
	free(v);
	return err;
}

/* ---- table -------------------------------------------------------------- */

int l7_build(const struct objvec *all, const struct image *img,
	     struct l7_table *t)
{
	struct l7b b = { .t = t };
	size_t i, n = 0;
	int err = -ENOMEM;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < img->n_svcs; i++)
		n += img->svcs[i].l7;
	b.ix = cindex_new(all);
	if (!b.ix || index_routes(&b, all))
		goto out;
	t->ports = arena_calloc(&t->arena, n + 1, sizeof(*t->ports));
	if (!t->ports)
		goto out;
	/* img->svcs is sorted by key, so t->ports is too. */
	err = 0;
	for (i = 0; i < img->n_svcs && !err; i++) {
		if (img->svcs[i].l7)
			err = build_port(&b, &img->svcs[i],
					 &t->ports[t->n_ports++]);
	}
out:
	cindex_del(b.ix);
	strmap_free(&b.routes);
	strmap_free(&b.rxs);
	if (err)
		l7_free(t);
	return err;
}

void l7_free(struct l7_table *t)
{
	size_t i;

	for (i = 0; i < t->n_rx; i++)
		pcre2_code_free(t->rx[i]);
	free(t->rx);
	arena_free(&t->arena);
	memset(t, 0, sizeof(*t));
}

const struct l7_port *l7_find_port(const struct l7_table *t,
				   const struct ambit_svc_key *key)
{
	return svc_key_search(t->ports, t->n_ports, sizeof(*t->ports),
			      offsetof(struct l7_port, key), key);
}
