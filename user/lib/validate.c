// SPDX-License-Identifier: Apache-2.0
/*
 * Cross-object checks. Objects are indexed once (sorted by kind, namespace,
 * name) so that a configuration of N objects is checked in O(N log N), not
 * with a linear model_find() per reference.
 */
#include "validate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct oidx {
	const struct object *o;
	size_t i; /* position in the configuration: "first" is the lowest */
};

struct vctx {
	const struct validate_opts *opts;
	struct diags *d;
	struct oidx *idx; /* every object, sorted by oidx_cmp() */
	size_t n;
	unsigned nerr;
};

static void verr(struct vctx *v, const struct src_pos *pos, const char *path,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void verr(struct vctx *v, const struct src_pos *pos, const char *path,
		 const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(v->d, pos, path, "%s", msg);
	v->nerr++;
}

#define VP_MAX 384 /* a field path */

/* vsnprintf: a truncated path is fine and not worth a warning. */
static void vpath(char *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void vpath(char *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, VP_MAX, fmt, ap);
	va_end(ap);
}

/* "file:line:col (document N)" to point at the other half of a conflict. */
static const char *where(const struct src_pos *p, char *buf, size_t size)
{
	if (p->line <= 0)
		snprintf(buf, size, "%s", p->file ? p->file : "?");
	else
		snprintf(buf, size, "%s:%d:%d (document %d)",
			 p->file ? p->file : "?", p->line, p->col, p->doc);
	return buf;
}

static int key_cmp(int kind, const char *ns, const char *name,
		   const struct object *o)
{
	int r = kind - o->kind;

	if (!r)
		r = strcmp(ns, o->ns);
	if (!r)
		r = strcmp(name, o->name);
	return r;
}

static int oidx_cmp(const void *a, const void *b)
{
	const struct oidx *x = a, *y = b;
	int r = key_cmp(x->o->kind, x->o->ns, x->o->name, y->o);

	if (r)
		return r;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* The first object (in configuration order) with this key, or NULL. */
static const struct object *vfind(const struct vctx *v, int kind,
				  const char *ns, const char *name)
{
	size_t lo = 0, hi = v->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_cmp(kind, ns, name, v->idx[mid].o) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < v->n && !key_cmp(kind, ns, name, v->idx[lo].o))
		return v->idx[lo].o;
	return NULL;
}

static int build_index(struct vctx *v, const struct objvec *all)
{
	size_t i;

	v->n = all->n;
	v->idx = calloc(all->n ? all->n : 1, sizeof(*v->idx));
	if (!v->idx)
		return -ENOMEM;
	for (i = 0; i < all->n; i++) {
		v->idx[i].o = all->v[i];
		v->idx[i].i = i;
	}
	qsort(v->idx, v->n, sizeof(*v->idx), oidx_cmp);
	return 0;
}

static void check_dups(struct vctx *v)
{
	const struct object *first = NULL, *o;
	char at[320];
	size_t i;

	for (i = 0; i < v->n; i++) {
		o = v->idx[i].o;
		if (!first || key_cmp(o->kind, o->ns, o->name, first)) {
			first = o;
			continue;
		}
		verr(v, &o->pos, "metadata.name",
		     "duplicate %s \"%s/%s\": first defined at %s",
		     obj_kind_name(o->kind), o->ns, o->name,
		     where(&first->pos, at, sizeof(at)));
	}
}

/* ---- references ----------------------------------------------------------- */

static const struct svc_port *port_named(const struct service *s,
					 const char *name)
{
	size_t i;

	for (i = 0; i < s->n_ports; i++) {
		if (s->ports[i].name && !strcmp(s->ports[i].name, name))
			return &s->ports[i];
	}
	return NULL;
}

static bool is_core_service(const struct object_ref *r)
{
	return r->group && r->kind && !*r->group && !strcmp(r->kind, "Service");
}

/*
 * The Service a reference names, reporting it when missing or when it
 * lacks the port. NULL when missing or when missing is allowed.
 */
static const struct object *ref_service(struct vctx *v, const struct object *o,
					const struct object_ref *r,
					const char *path)
{
	const char *ns = r->ns ? r->ns : o->ns;
	const struct object *svc;
	char p[VP_MAX];

	if (v->opts && v->opts->allow_unresolved)
		return NULL;
	svc = vfind(v, OBJ_SERVICE, ns, r->name);
	if (!svc) {
		vpath(p, "%s.name", path);
		verr(v, &r->pos, p, "Service \"%s/%s\" not found", ns, r->name);
		return NULL;
	}
	if (r->has_port && !service_port(&svc->svc, r->port)) {
		vpath(p, "%s.port", path);
		verr(v, &r->pos, p, "Service \"%s/%s\" has no port %u", ns,
		     r->name, r->port);
	}
	return svc;
}

static void check_parent(struct vctx *v, const struct object *o,
			 const struct parent_ref *pr, const char *path)
{
	const struct object_ref *r = &pr->ref;
	const struct object *svc;
	const struct svc_port *sp;
	char p[VP_MAX];

	if (!is_core_service(r)) {
		vpath(p, "%s.kind", path);
		verr(v, &r->pos, p,
		     "ambit implements only the mesh (GAMMA) case: a parentRef "
		     "must be a Service (group \"\", kind Service), got group "
		     "\"%s\" kind \"%s\"", r->group, r->kind);
		return;
	}
	svc = ref_service(v, o, r, path);
	if (!svc || !pr->section_name)
		return;
	/* For a Service parent, sectionName is a port name. */
	vpath(p, "%s.sectionName", path);
	sp = port_named(&svc->svc, pr->section_name);
	if (!sp)
		verr(v, &r->pos, p, "Service \"%s/%s\" has no port named \"%s\"",
		     svc->ns, svc->name, pr->section_name);
	else if (r->has_port && sp->port != r->port)
		verr(v, &r->pos, p, "port \"%s\" of Service \"%s/%s\" is %u, "
		     "not %u", pr->section_name, svc->ns, svc->name, sp->port,
		     r->port);
}

static void check_backend(struct vctx *v, const struct object *o,
			  const struct object_ref *r, const char *path)
{
	char p[VP_MAX];

	if (!is_core_service(r)) {
		vpath(p, "%s.kind", path);
		verr(v, &r->pos, p,
		     "only Service backends are supported (group \"\", kind "
		     "Service), got group \"%s\" kind \"%s\"", r->group,
		     r->kind);
		return;
	}
	ref_service(v, o, r, path);
}

static void check_filters(struct vctx *v, const struct object *o,
			  const struct filter *f, size_t n, const char *path)
{
	char p[VP_MAX];
	size_t i;

	for (i = 0; i < n; i++) {
		if (f[i].type != FILTER_MIRROR)
			continue;
		vpath(p, "%s.filters[%zu].requestMirror.backendRef",
			 path, i);
		check_backend(v, o, &f[i].mirror.backend, p);
	}
}

static void check_route(struct vctx *v, const struct object *o)
{
	const struct http_route *r = &o->route;
	char p[VP_MAX], bp[VP_MAX];
	size_t i, j;

	for (i = 0; i < r->n_parents; i++) {
		vpath(p, "spec.parentRefs[%zu]", i);
		check_parent(v, o, &r->parents[i], p);
	}
	for (i = 0; i < r->n_rules; i++) {
		const struct route_rule *rr = &r->rules[i];

		vpath(p, "spec.rules[%zu]", i);
		check_filters(v, o, rr->filters, rr->n_filters, p);
		for (j = 0; j < rr->n_backends; j++) {
			const struct backend_ref *b = &rr->backends[j];

			vpath(bp, "%s.backendRefs[%zu]", p, j);
			check_backend(v, o, &b->ref, bp);
			check_filters(v, o, b->filters, b->n_filters, bp);
		}
	}
}

/* ---- conflicts between objects --------------------------------------------- */

struct claim {
	int what;         /* which kind of resource is claimed */
	const char *path; /* cgroup/netns path, or NULL for an IP */
	struct ip_addr ip;
	const struct object *o;
	size_t i;
};

static int claim_cmp(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int r = x->what - y->what;

	if (!r && x->path)
		r = strcmp(x->path, y->path);
	if (!r && !x->path)
		r = memcmp(&x->ip, &y->ip, sizeof(x->ip));
	if (!r)
		r = x->i < y->i ? -1 : x->i > y->i;
	return r;
}

static bool claim_same(const struct claim *x, const struct claim *y)
{
	if (x->what != y->what)
		return false;
	if (x->path)
		return !strcmp(x->path, y->path);
	return !memcmp(&x->ip, &y->ip, sizeof(x->ip));
}

enum { CLAIM_IP, CLAIM_CGROUP, CLAIM_NETNS };

static size_t collect_claims(const struct objvec *all, struct claim *cl)
{
	size_t i, j, n = 0;

	for (i = 0; i < all->n; i++) {
		const struct object *o = all->v[i];
		struct claim c = { .o = o, .i = i };

		if (o->kind == OBJ_SERVICE) {
			for (j = 0; j < o->svc.n_ips; j++) {
				cl[n] = c;
				cl[n].what = CLAIM_IP;
				cl[n++].ip = o->svc.ips[j];
			}
		} else if (o->kind == OBJ_ENROLLMENT) {
			c.what = o->enr.cgroup_path ? CLAIM_CGROUP : CLAIM_NETNS;
			c.path = o->enr.cgroup_path ? o->enr.cgroup_path :
						      o->enr.netns_path;
			if (c.path)
				cl[n++] = c;
		}
	}
	return n;
}

static void report_claim(struct vctx *v, const struct claim *dup,
			 const struct claim *first)
{
	char at[320], ip[INET6_ADDRSTRLEN] = "?";
	const struct object *a = first->o, *b = dup->o;

	/* The same object listed twice is reported as a duplicate. */
	if (a->kind == b->kind && !strcmp(a->ns, b->ns) &&
	    !strcmp(a->name, b->name))
		return;
	where(&a->pos, at, sizeof(at));
	if (dup->what == CLAIM_IP) {
		inet_ntop(dup->ip.family, dup->ip.bytes, ip, sizeof(ip));
		verr(v, &b->pos, "spec.clusterIP",
		     "clusterIP %s is already used by Service \"%s/%s\" at %s",
		     ip, a->ns, a->name, at);
		return;
	}
	verr(v, &b->pos, dup->what == CLAIM_CGROUP ? "spec.cgroup" : "spec.netns",
	     "%s \"%s\" is already enrolled by Enrollment \"%s/%s\" at %s",
	     dup->what == CLAIM_CGROUP ? "cgroup" : "netns", dup->path, a->ns,
	     a->name, at);
}

static int check_claims(struct vctx *v, const struct objvec *all)
{
	size_t i, n = 0, first;
	struct claim *cl;

	for (i = 0; i < all->n; i++)
		n += all->v[i]->kind == OBJ_SERVICE ? all->v[i]->svc.n_ips : 1;
	cl = calloc(n ? n : 1, sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	n = collect_claims(all, cl);
	qsort(cl, n, sizeof(*cl), claim_cmp);
	/* Sorted: equal claims are adjacent, the first-defined one first. */
	for (i = 1, first = 0; i < n; i++) {
		if (claim_same(&cl[i], &cl[first]))
			report_claim(v, &cl[i], &cl[first]);
		else
			first = i;
	}
	free(cl);
	return 0;
}

int model_validate(const struct objvec *all, const struct validate_opts *o,
		   struct diags *d)
{
	struct vctx v = { .opts = o, .d = d };
	size_t i;
	int err;

	err = build_index(&v, all);
	if (err)
		return err;
	check_dups(&v);
	for (i = 0; i < all->n; i++) {
		if (all->v[i]->kind == OBJ_HTTP_ROUTE)
			check_route(&v, all->v[i]);
	}
	err = check_claims(&v, all);
	free(v.idx);
	if (err)
		return err;
	return v.nerr ? -EINVAL : 0;
}
