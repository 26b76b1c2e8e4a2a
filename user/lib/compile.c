// SPDX-License-Identifier: Apache-2.0
/* Configuration -> data plane image. See compile.h for the L4/L7 rule. */
#include "compile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "model.h"
#include "route_order.h"
#include "strmap.h"

#define KEYBUF 512

/* Lookups the compiler needs, built once per compile. */
struct cindex {
	struct strmap svcs;   /* "ns/name" -> Service */
	struct strmap slices; /* "ns/service" -> EndpointSlice */
	struct strmap routes; /* "ns/service" -> HTTPRoute, once per parent */
};

static int index_route(struct cindex *ix, const struct object *o)
{
	char key[KEYBUF];
	size_t i, j;

	for (i = 0; i < o->route.n_parents; i++) {
		const struct object_ref *p = &o->route.parents[i].ref;
		const char *ns = p->ns ? p->ns : o->ns;
		bool seen = false;

		/* A route naming the same Service twice (two ports) is
		 * indexed once; the port filter happens per Service port. */
		for (j = 0; j < i; j++) {
			const struct object_ref *q = &o->route.parents[j].ref;

			seen |= !strcmp(q->name, p->name) &&
				!strcmp(q->ns ? q->ns : o->ns, ns);
		}
		if (!seen && strmap_add(&ix->routes,
					nsname_key(key, sizeof(key), ns, p->name),
					(void *)o))
			return -ENOMEM;
	}
	return 0;
}

static int index_object(struct cindex *ix, const struct object *o)
{
	char key[KEYBUF];

	switch (o->kind) {
	case OBJ_SERVICE:
		return strmap_add(&ix->svcs,
				  nsname_key(key, sizeof(key), o->ns, o->name),
				  (void *)o);
	case OBJ_ENDPOINT_SLICE:
		return strmap_add(&ix->slices,
				  nsname_key(key, sizeof(key), o->ns,
					     o->eps.service),
				  (void *)o);
	case OBJ_HTTP_ROUTE:
		return index_route(ix, o);
	}
	return 0;
}

static void cindex_free(struct cindex *ix)
{
	strmap_free(&ix->svcs);
	strmap_free(&ix->slices);
	strmap_free(&ix->routes);
}

static int cindex_build(struct cindex *ix, const struct objvec *all)
{
	size_t i;

	memset(ix, 0, sizeof(*ix));
	for (i = 0; i < all->n; i++) {
		if (index_object(ix, all->v[i])) {
			cindex_free(ix);
			return -ENOMEM;
		}
	}
	return 0;
}

struct cindex *cindex_new(const struct objvec *all)
{
	struct cindex *ix = malloc(sizeof(*ix));

	if (ix && cindex_build(ix, all)) {
		free(ix);
		return NULL;
	}
	return ix;
}

void cindex_del(struct cindex *ix)
{
	if (ix)
		cindex_free(ix);
	free(ix);
}

/* ---- endpoints ---------------------------------------------------------- */

static bool same_name(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* The endpoint port a slice gives for Service port @p, or 0 when none. */
static __u16 slice_port(const struct endpoint_slice *s, const struct svc_port *p)
{
	size_t i;

	for (i = 0; i < s->n_ports; i++) {
		if (s->ports[i].proto == p->proto &&
		    same_name(s->ports[i].name, p->name))
			return s->ports[i].port;
	}
	/* A slice without port info: a numeric targetPort still tells. */
	if (!s->n_ports && !p->target_name)
		return p->target_port;
	return 0;
}

static void ep_fill(struct ambit_ep_val *e, const struct ip_addr *a, __u16 port)
{
	memset(e, 0, sizeof(*e));
	if (a->family == AF_INET) {
		memcpy(e->addr, a->bytes, 4);
		e->family = AMBIT_FAMILY_V4;
	} else {
		memcpy(e->addr, a->bytes, 16);
		e->family = AMBIT_FAMILY_V6;
	}
	e->port = htons(port);
}

static int ep_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct ambit_ep_val));
}

/* Ready endpoints of one slice, of address family @af, appended. */
static int slice_endpoints(struct arena *ar, const struct endpoint_slice *s,
			   const struct svc_port *p, int af,
			   struct ambit_ep_val **eps, size_t *n, size_t *cap)
{
	__u16 port = slice_port(s, p);
	size_t i, j;

	if (!port || s->family != af)
		return 0;
	for (i = 0; i < s->n_eps; i++) {
		for (j = 0; s->eps[i].ready && j < s->eps[i].n_addrs; j++) {
			if (*n == *cap) {
				size_t c = *cap ? *cap * 2 : 8;
				struct ambit_ep_val *v = arena_calloc(ar, c, sizeof(*v));

				if (!v)
					return -ENOMEM;
				if (*n)
					memcpy(v, *eps, *n * sizeof(*v));
				*eps = v;
				*cap = c;
			}
			ep_fill(&(*eps)[(*n)++], &s->eps[i].addrs[j], port);
		}
	}
	return 0;
}

static size_t ep_dedup(struct ambit_ep_val *eps, size_t n)
{
	size_t i, out = 0;

	if (!n)
		return 0; /* eps may be NULL: qsort must not see it */
	qsort(eps, n, sizeof(*eps), ep_cmp);
	for (i = 0; i < n; i++) {
		if (!out || ep_cmp(&eps[out - 1], &eps[i]))
			eps[out++] = eps[i];
	}
	return out;
}

/* Fill @v's endpoints from every slice of Service @svc for port @p. */
static int collect_endpoints(struct arena *ar, const struct cindex *ix,
			     const struct object *svc, const struct svc_port *p,
			     int af, struct img_version *v)
{
	char key[KEYBUF];
	void *cur = NULL;
	const struct object *s;
	size_t cap = 0;

	nsname_key(key, sizeof(key), svc->ns, svc->name);
	while ((s = strmap_next(&ix->slices, key, &cur))) {
		if (slice_endpoints(ar, &s->eps, p, af, &v->eps, &v->n_eps, &cap))
			return -ENOMEM;
	}
	v->n_eps = ep_dedup(v->eps, v->n_eps);
	return 0;
}

/* ---- versions ----------------------------------------------------------- */

static const struct svc_port *find_port(const struct service *s, __u16 port,
					__u8 proto)
{
	size_t i;

	for (i = 0; i < s->n_ports; i++) {
		if (s->ports[i].port == port && s->ports[i].proto == proto)
			return &s->ports[i];
	}
	return NULL;
}

/* Resolve a backendRef of @route into version @v (of address family @af). */
int cindex_backend(const struct cindex *ix, struct arena *ar, const char *ns,
		   const char *name, __u16 port, int af, struct ambit_ep_val **eps,
		   size_t *n, const char **unresolved)
{
	struct img_version v = {};
	char key[KEYBUF];
	const struct object *svc;
	const struct svc_port *p;
	int err = 0;

	*eps = NULL;
	*n = 0;
	*unresolved = NULL;
	svc = strmap_get(&ix->svcs, nsname_key(key, sizeof(key), ns, name));
	p = svc ? find_port(&svc->svc, port, IPPROTO_TCP) : NULL;
	if (!svc)
		*unresolved = "backend Service not found";
	else if (!p)
		*unresolved = "backend Service has no such TCP port";
	else
		err = collect_endpoints(ar, ix, svc, p, af, &v);
	*eps = v.eps;
	*n = v.n_eps;
	return err;
}

static int resolve_backend(struct image *img, const struct cindex *ix,
			   const struct object *route,
			   const struct backend_ref *b, int af,
			   struct img_version *v)
{
	v->ns = b->ref.ns ? b->ref.ns : route->ns;
	v->name = b->ref.name;
	v->port = b->ref.port;
	v->weight = b->weight;
	return cindex_backend(ix, &img->arena, v->ns, v->name, b->ref.port, af,
			      &v->eps, &v->n_eps, &v->unresolved);
}

static void sum_weights(struct img_service *s)
{
	size_t i;

	s->total_weight = 0;
	for (i = 0; i < s->n_versions; i++)
		s->total_weight += s->versions[i].weight;
}

static int af_of(const struct ambit_svc_key *k)
{
	return k->family == AMBIT_FAMILY_V4 ? AF_INET : AF_INET6;
}

static int versions_from_rule(struct image *img, const struct cindex *ix,
			      struct img_service *s)
{
	const struct route_rule *r = &s->route->route.rules[s->rule];
	size_t i;
	int err;

	s->n_versions = r->n_backends;
	for (i = 0; i < r->n_backends && i < AMBIT_MAX_VERSIONS; i++) {
		err = resolve_backend(img, ix, s->route, &r->backends[i],
				      af_of(&s->key), &s->versions[i]);
		if (err)
			return err;
	}
	sum_weights(s);
	return 0;
}

static int versions_from_service(struct image *img, const struct cindex *ix,
				 struct img_service *s)
{
	struct img_version *v = &s->versions[0];

	s->n_versions = 1;
	v->ns = s->svc->ns;
	v->name = s->svc->name;
	v->port = s->port->port;
	v->weight = 1;
	sum_weights(s);
	return collect_endpoints(&img->arena, ix, s->svc, s->port,
				 af_of(&s->key), v);
}

/* ---- L4 or L7 ----------------------------------------------------------- */

static bool match_is_catch_all(const struct route_match *m)
{
	if (m->n_headers || m->n_query || m->method)
		return false;
	return !m->has_path || (m->path.type == PATH_PREFIX &&
				!strcmp(m->path.value, "/"));
}

/* Why rule @r needs the proxy, or NULL when BPF can do it. */
static const char *rule_needs_proxy(const struct route_rule *r)
{
	size_t i;

	for (i = 0; i < r->n_matches; i++) {
		if (!match_is_catch_all(&r->matches[i]))
			return "a rule matches on the request";
	}
	if (r->n_filters)
		return "a rule has filters";
	for (i = 0; i < r->n_backends; i++) {
		if (r->backends[i].n_filters)
			return "a backendRef has filters";
	}
	if (r->timeout_request_ms > 0 || r->timeout_backend_ms > 0)
		return "a rule has timeouts";
	return NULL;
}

static const char *route_needs_proxy(const struct object *route,
				     const struct object *svc)
{
	const char *why;
	size_t i;

	if (route->route.mode == ROUTE_MODE_L7)
		return "annotation ambit.io/mode: l7";
	if (strcmp(route->ns, svc->ns))
		return "consumer route (per-client routing)";
	for (i = 0; i < route->route.n_rules; i++) {
		why = rule_needs_proxy(&route->route.rules[i]);
		if (why)
			return why;
	}
	return NULL;
}

bool is_service_ref(const struct object_ref *r)
{
	return r->group && !*r->group && r->kind && !strcmp(r->kind, "Service");
}

bool route_attaches(const struct object *route, const struct object *svc,
			   __u16 port)
{
	size_t i;

	for (i = 0; i < route->route.n_parents; i++) {
		const struct object_ref *p = &route->route.parents[i].ref;

		if (!is_service_ref(p) ||
		    strcmp(p->ns ? p->ns : route->ns, svc->ns) ||
		    strcmp(p->name, svc->name))
			continue;
		if (!p->has_port || p->port == port)
			return true;
	}
	return false;
}

/*
 * Decide L4/L7 for one service port and pick the winning route. With all
 * rules catch-all, precedence reduces to: oldest route, then name, then the
 * first rule.
 */
static void classify(const struct cindex *ix, struct img_service *s)
{
	char key[KEYBUF];
	const struct object *r;
	void *cur = NULL;
	const char *why;

	if (s->port->proto != IPPROTO_TCP)
		return; /* HTTPRoutes only attach to TCP ports */
	nsname_key(key, sizeof(key), s->svc->ns, s->svc->name);
	while ((r = strmap_next(&ix->routes, key, &cur))) {
		if (!route_attaches(r, s->svc, s->port->port))
			continue;
		why = route_needs_proxy(r, s->svc);
		if (why && !s->l7) {
			s->l7 = true;
			s->l7_reason = why;
		}
		if (!s->route || route_precedes(r, s->route))
			s->route = r;
	}
	s->rule = 0;
}

static void fill_key(struct ambit_svc_key *k, const struct ip_addr *ip,
		     const struct svc_port *p)
{
	memset(k, 0, sizeof(*k));
	if (ip->family == AF_INET) {
		memcpy(k->addr, ip->bytes, 4);
		k->family = AMBIT_FAMILY_V4;
	} else {
		memcpy(k->addr, ip->bytes, 16);
		k->family = AMBIT_FAMILY_V6;
	}
	k->port = htons(p->port);
	k->proto = p->proto;
}

static int compile_port(struct image *img, const struct cindex *ix,
			const struct object *svc, const struct ip_addr *ip,
			const struct svc_port *p)
{
	struct img_service *s = &img->svcs[img->n_svcs++];

	fill_key(&s->key, ip, p);
	s->svc = svc;
	s->port = p;
	classify(ix, s);
	if (s->l7)
		return 0;
	if (s->route && s->route->route.n_rules)
		return versions_from_rule(img, ix, s);
	if (s->route)
		return 0; /* a route with no rules: nothing to reach */
	return versions_from_service(img, ix, s);
}

/* ---- image -------------------------------------------------------------- */

int svc_key_cmp(const struct ambit_svc_key *a, const struct ambit_svc_key *b)
{
	return memcmp(a, b, sizeof(*a));
}

static int img_svc_cmp(const void *a, const void *b)
{
	return svc_key_cmp(&((const struct img_service *)a)->key,
			   &((const struct img_service *)b)->key);
}

static size_t count_ports(const struct objvec *all)
{
	size_t i, n = 0;

	for (i = 0; i < all->n; i++) {
		const struct object *o = all->v[i];

		if (o->kind == OBJ_SERVICE && !o->svc.headless)
			n += o->svc.n_ips * o->svc.n_ports;
	}
	return n;
}

static int compile_services(struct image *img, const struct cindex *ix,
			    const struct objvec *all)
{
	size_t i, a, p;
	int err;

	img->svcs = arena_calloc(&img->arena, count_ports(all) + 1,
				 sizeof(*img->svcs));
	if (!img->svcs)
		return -ENOMEM;
	for (i = 0; i < all->n; i++) {
		const struct object *o = all->v[i];

		if (o->kind != OBJ_SERVICE || o->svc.headless)
			continue;
		for (a = 0; a < o->svc.n_ips; a++) {
			for (p = 0; p < o->svc.n_ports; p++) {
				err = compile_port(img, ix, o, &o->svc.ips[a],
						   &o->svc.ports[p]);
				if (err)
					return err;
			}
		}
	}
	qsort(img->svcs, img->n_svcs, sizeof(*img->svcs), img_svc_cmp);
	return 0;
}

/* ---- route status ------------------------------------------------------- */


/* NULL when @r names an existing Service port, else why not. */
static const char *ref_problem(const struct cindex *ix, const char *def_ns,
			       const struct object_ref *r, bool need_port)
{
	char key[KEYBUF];
	const struct object *svc;

	if (!is_service_ref(r))
		return "InvalidKind";
	svc = strmap_get(&ix->svcs, nsname_key(key, sizeof(key),
					       r->ns ? r->ns : def_ns, r->name));
	if (!svc)
		return "BackendNotFound";
	if ((r->has_port || need_port) &&
	    !find_port(&svc->svc, r->port, IPPROTO_TCP))
		return "BackendNotFound";
	return NULL;
}

/* First backendRef (or mirror target) of @r that does not resolve. */
static const struct object_ref *rule_bad_ref(const struct cindex *ix,
					     const struct object *o,
					     const struct route_rule *r,
					     const char **why)
{
	size_t i;

	for (i = 0; i < r->n_backends; i++) {
		*why = ref_problem(ix, o->ns, &r->backends[i].ref, true);
		if (*why)
			return &r->backends[i].ref;
	}
	for (i = 0; i < r->n_filters; i++) {
		if (r->filters[i].type != FILTER_MIRROR)
			continue;
		*why = ref_problem(ix, o->ns, &r->filters[i].mirror.backend, true);
		if (*why)
			return &r->filters[i].mirror.backend;
	}
	return NULL;
}

static const char *ref_message(struct arena *ar, const struct object *o,
			       const struct object_ref *r, const char *what)
{
	char buf[600];

	if (!is_service_ref(r))
		snprintf(buf, sizeof(buf), "%s is a %s/%s, not a Service", what,
			 *r->group ? r->group : "core", r->kind);
	else if (r->has_port)
		snprintf(buf, sizeof(buf), "%s Service %s/%s port %u not found",
			 what, r->ns ? r->ns : o->ns, r->name, r->port);
	else
		snprintf(buf, sizeof(buf), "%s Service %s/%s not found", what,
			 r->ns ? r->ns : o->ns, r->name);
	return arena_strdup(ar, buf);
}

static void status_refs(struct arena *ar, const struct cindex *ix,
			const struct object *o, struct route_status *st)
{
	const struct object_ref *bad = NULL;
	const char *why = NULL;
	size_t i;

	for (i = 0; i < o->route.n_rules && !bad; i++)
		bad = rule_bad_ref(ix, o, &o->route.rules[i], &why);
	st->resolved = !bad;
	st->resolved_reason = bad ? why : "ResolvedRefs";
	if (bad && st->accepted) {
		st->message = ref_message(ar, o, bad, "backendRef");
		st->pos = &bad->pos;
	}
}

static void status_one(struct arena *ar, const struct cindex *ix,
		       const struct object *o, size_t parent,
		       struct route_status *st)
{
	const struct object_ref *p = &o->route.parents[parent].ref;

	st->route = o;
	st->parent = parent;
	if (!is_service_ref(p)) {
		st->accepted_reason = "UnsupportedValue";
		st->message = "ambit attaches routes to Services only (mesh)";
		st->pos = &p->pos;
	} else if (ref_problem(ix, o->ns, p, false)) {
		st->accepted_reason = "NoMatchingParent";
		st->message = ref_message(ar, o, p, "parentRef");
		st->pos = &p->pos;
	} else {
		st->accepted = true;
		st->accepted_reason = "Accepted";
	}
	status_refs(ar, ix, o, st);
}

static int compile_status(struct image *img, const struct cindex *ix,
			  const struct objvec *all)
{
	size_t i, j, n = 0;

	for (i = 0; i < all->n; i++) {
		if (all->v[i]->kind == OBJ_HTTP_ROUTE)
			n += all->v[i]->route.n_parents;
	}
	img->status = arena_calloc(&img->arena, n + 1, sizeof(*img->status));
	if (!img->status)
		return -ENOMEM;
	for (i = 0; i < all->n; i++) {
		const struct object *o = all->v[i];

		for (j = 0; o->kind == OBJ_HTTP_ROUTE && j < o->route.n_parents; j++)
			status_one(&img->arena, ix, o, j,
				   &img->status[img->n_status++]);
	}
	return 0;
}

int compile_image(const struct objvec *all, struct image *img)
{
	struct cindex ix;
	int err;

	memset(img, 0, sizeof(*img));
	err = cindex_build(&ix, all);
	if (err)
		return err;
	err = compile_services(img, &ix, all);
	if (!err)
		err = compile_status(img, &ix, all);
	cindex_free(&ix);
	if (err)
		image_free(img);
	return err;
}

void image_free(struct image *img)
{
	arena_free(&img->arena);
	memset(img, 0, sizeof(*img));
}

const void *svc_key_search(const void *base, size_t n, size_t stride,
			   size_t key_off, const struct ambit_svc_key *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *e = (const char *)base + mid * stride;
		int c = svc_key_cmp(key, (const void *)(e + key_off));

		if (!c)
			return e;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct img_service *image_find(const struct image *img,
				     const struct ambit_svc_key *key)
{
	return svc_key_search(img->svcs, img->n_svcs, sizeof(*img->svcs),
			      offsetof(struct img_service, key), key);
}

void svc_val_from_image(const struct img_service *s, struct ambit_svc_val *val)
{
	__u32 cum = 0;
	size_t i;

	memset(val, 0, sizeof(*val));
	val->flags = s->l7 ? AMBIT_SVC_L7 : 0;
	val->n_versions = s->n_versions;
	for (i = 0; i < s->n_versions; i++) {
		cum += s->versions[i].weight;
		val->versions[i].cum_weight = cum;
		val->versions[i].n_endpoints = s->versions[i].unresolved ?
			0 : s->versions[i].n_eps;
		val->versions[i].backend_id = i;
	}
	val->total_weight = cum;
}

char *svc_key_str(const struct ambit_svc_key *k, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	int v4 = k->family == AMBIT_FAMILY_V4;

	inet_ntop(v4 ? AF_INET : AF_INET6, k->addr, a, sizeof(a));
	snprintf(buf, size, v4 ? "%s:%u/%s" : "[%s]:%u/%s", a, ntohs(k->port),
		 k->proto == IPPROTO_UDP ? "UDP" : "TCP");
	return buf;
}

char *ep_str(const struct ambit_ep_val *e, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	int v4 = e->family == AMBIT_FAMILY_V4;

	inet_ntop(v4 ? AF_INET : AF_INET6, e->addr, a, sizeof(a));
	snprintf(buf, size, v4 ? "%s:%u" : "[%s]:%u", a, ntohs(e->port));
	return buf;
}
