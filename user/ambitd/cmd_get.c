// SPDX-License-Identifier: Apache-2.0
/* ambit get / describe: the configuration and what the data plane does. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "mesh.h"
#include "pods.h"

#define CONTROLLER_NAME "ambit.io/ambitd"

static int parse_fmt(struct request *rq, int *fmt, struct sbuf *err)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{},
	};
	int c;

	*fmt = FMT_TABLE;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(rq->argc, rq->argv, "o:", opts, NULL)) != -1) {
		if (c == 'o' && !strcmp(optarg, "wide"))
			*fmt = FMT_WIDE;
		else if (c == 'o' && !strcmp(optarg, "json"))
			*fmt = FMT_JSON;
		else if (c == 'o' && !strcmp(optarg, "yaml"))
			*fmt = FMT_YAML;
		else {
			sb_printf(err, "error: %s: bad option (use -o wide|json|yaml)\n",
				  rq->argv[0]);
			return -EINVAL;
		}
	}
	return 0;
}

void print_yaml(const struct daemon *d, int kind, struct sbuf *out)
{
	size_t i;

	for (i = 0; i < d->st.objs.n; i++) {
		const struct object *o = d->st.objs.v[i];

		if (o->kind == kind)
			sb_printf(out, "---\n%s", o->yaml);
	}
}

/* ---- services ----------------------------------------------------------- */

static const char *l7_mode(const struct daemon *d)
{
	return d->proxy_port ? "L7 (proxy)" : "L7 (proxy not available)";
}

static const char *svc_mode(const struct daemon *d, const struct img_service *s)
{
	return s->l7 ? l7_mode(d) : "L4";
}

static size_t svc_endpoints(const struct img_service *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->n_versions; i++)
		n += s->versions[i].unresolved ? 0 : s->versions[i].n_eps;
	return n;
}

static void backends_text(const struct img_service *s, struct sbuf *b)
{
	size_t i;

	for (i = 0; i < s->n_versions; i++) {
		const struct img_version *v = &s->versions[i];

		sb_printf(b, "%s%s:%u(w=%u,eps=%zu%s)", i ? "," : "", v->name,
			  v->port, v->weight, v->unresolved ? 0 : v->n_eps,
			  v->unresolved ? ",unresolved" : "");
	}
	if (!s->n_versions)
		sb_printf(b, "-");
}

static void service_row(const struct img_service *s, int fmt, struct sbuf *out)
{
	struct sbuf b = {};
	char key[80];

	backends_text(s, &b);
	sb_printf(out, "%-12s %-20s %-28s %-5s %-9zu %s", s->svc->ns,
		  s->svc->name, svc_key_str(&s->key, key, sizeof(key)),
		  s->l7 ? "L7" : "L4", svc_endpoints(s), sb_str(&b));
	if (fmt == FMT_WIDE)
		sb_printf(out, "  route=%s%s%s reason=%s",
			  s->route ? s->route->ns : "-", s->route ? "/" : "",
			  s->route ? s->route->name : "",
			  s->l7 ? s->l7_reason : "-");
	sb_printf(out, "\n");
	sb_free(&b);
}

static void version_json(const struct img_version *v, struct sbuf *out)
{
	char ep[64];
	size_t i;

	sb_printf(out, "{\"service\":");
	sb_json_str(out, v->ns);
	sb_printf(out, ",\"name\":");
	sb_json_str(out, v->name);
	sb_printf(out, ",\"port\":%u,\"weight\":%u,\"unresolved\":", v->port,
		  v->weight);
	if (v->unresolved)
		sb_json_str(out, v->unresolved);
	else
		sb_printf(out, "null");
	sb_printf(out, ",\"endpoints\":[");
	for (i = 0; !v->unresolved && i < v->n_eps; i++) {
		sb_printf(out, "%s", i ? "," : "");
		sb_json_str(out, ep_str(&v->eps[i], ep, sizeof(ep)));
	}
	sb_printf(out, "]}");
}

static void service_json(const struct daemon *d, const struct img_service *s,
			 struct sbuf *out)
{
	char key[80];
	size_t i;

	sb_printf(out, "{\"namespace\":");
	sb_json_str(out, s->svc->ns);
	sb_printf(out, ",\"name\":");
	sb_json_str(out, s->svc->name);
	sb_printf(out, ",\"address\":");
	sb_json_str(out, svc_key_str(&s->key, key, sizeof(key)));
	sb_printf(out, ",\"mode\":\"%s\",\"reason\":", s->l7 ? "L7" : "L4");
	if (s->l7)
		sb_json_str(out, s->l7_reason);
	else
		sb_printf(out, "null");
	sb_printf(out, ",\"status\":");
	sb_json_str(out, svc_mode(d, s));
	sb_printf(out, ",\"totalWeight\":%u,\"backends\":[", s->total_weight);
	for (i = 0; i < s->n_versions; i++) {
		sb_printf(out, "%s", i ? "," : "");
		version_json(&s->versions[i], out);
	}
	sb_printf(out, "]}");
}

static void get_services(const struct daemon *d, int fmt, struct sbuf *out)
{
	size_t i;

	if (fmt == FMT_YAML)
		return print_yaml(d, OBJ_SERVICE, out);
	if (fmt == FMT_JSON) {
		sb_printf(out, "[");
		for (i = 0; i < d->img.n_svcs; i++) {
			sb_printf(out, "%s", i ? ",\n" : "");
			service_json(d, &d->img.svcs[i], out);
		}
		sb_printf(out, "]\n");
		return;
	}
	sb_printf(out, "%-12s %-20s %-28s %-5s %-9s %s\n", "NAMESPACE", "NAME",
		  "ADDRESS", "MODE", "ENDPOINTS", "BACKENDS");
	for (i = 0; i < d->img.n_svcs; i++)
		service_row(&d->img.svcs[i], fmt, out);
}

/* ---- routes ------------------------------------------------------------- */

/* How the data plane serves @route on the ports it attaches to. */
static const char *route_dataplane(const struct daemon *d,
				   const struct object *route)
{
	const char *mode = "-";
	size_t i;

	for (i = 0; i < d->img.n_svcs; i++) {
		const struct img_service *s = &d->img.svcs[i];

		if (s->l7 && route_attaches(route, s->svc, s->port->port))
			return l7_mode(d); /* the proxy uses every attached route */
		if (s->route == route)
			mode = "L4";
	}
	return mode;
}

static const char *tf(bool v)
{
	return v ? "True" : "False";
}

/* The parentRef as the Gateway API spells it, in JSON. */
static void parent_ref_json(const struct object *o, const struct parent_ref *pr,
			    struct sbuf *out)
{
	const struct object_ref *r = &pr->ref;

	sb_printf(out, "{\"group\":");
	sb_json_str(out, r->group ? r->group : "");
	sb_printf(out, ",\"kind\":");
	sb_json_str(out, r->kind ? r->kind : "Service");
	sb_printf(out, ",\"namespace\":");
	sb_json_str(out, r->ns ? r->ns : o->ns);
	sb_printf(out, ",\"name\":");
	sb_json_str(out, r->name);
	if (r->has_port)
		sb_printf(out, ",\"port\":%u", r->port);
	if (pr->section_name) {
		sb_printf(out, ",\"sectionName\":");
		sb_json_str(out, pr->section_name);
	}
	sb_printf(out, "}");
}

/* One condition; the message belongs to the condition that is False. */
static void condition_json(const char *type, bool ok, const char *reason,
			   const char *msg, struct sbuf *out)
{
	sb_printf(out, "{\"type\":\"%s\",\"status\":\"%s\",\"reason\":",
		  type, tf(ok));
	sb_json_str(out, reason);
	sb_printf(out, ",\"message\":");
	sb_json_str(out, !ok && msg ? msg : "");
	sb_printf(out, "}");
}

static void status_json(const struct route_status *s, struct sbuf *out)
{
	const struct object *o = s->route;

	sb_printf(out, "{\"parent\":%zu,\"parentRef\":", s->parent);
	parent_ref_json(o, &o->route.parents[s->parent], out);
	sb_printf(out, ",\"controllerName\":\"" CONTROLLER_NAME "\","
		  "\"conditions\":[");
	condition_json("Accepted", s->accepted, s->accepted_reason, s->message,
		       out);
	sb_printf(out, ",");
	condition_json("ResolvedRefs", s->resolved, s->resolved_reason,
		       s->accepted ? s->message : NULL, out);
	sb_printf(out, "],\"message\":");
	if (s->message)
		sb_json_str(out, s->message);
	else
		sb_printf(out, "null");
	sb_printf(out, "}");
}

static void route_json(const struct daemon *d, const struct object *o,
		       struct sbuf *out)
{
	size_t i, n = 0;

	sb_printf(out, "{\"namespace\":");
	sb_json_str(out, o->ns);
	sb_printf(out, ",\"name\":");
	sb_json_str(out, o->name);
	sb_printf(out, ",\"dataplane\":");
	sb_json_str(out, route_dataplane(d, o));
	sb_printf(out, ",\"parents\":[");
	for (i = 0; i < d->img.n_status; i++) {
		if (d->img.status[i].route != o)
			continue;
		sb_printf(out, "%s", n++ ? "," : "");
		status_json(&d->img.status[i], out);
	}
	sb_printf(out, "]}");
}

static void route_row(const struct daemon *d, const struct route_status *s,
		      int fmt, struct sbuf *out)
{
	const struct object *o = s->route;
	const struct object_ref *p = &o->route.parents[s->parent].ref;
	char parent[300], acc[64], res[64];

	snprintf(parent, sizeof(parent), "%s/%s%s%.0u", p->kind, p->name,
		 p->has_port ? ":" : "", p->has_port ? (unsigned int)p->port : 0u);
	snprintf(acc, sizeof(acc), "%s (%s)", tf(s->accepted),
		 s->accepted_reason);
	snprintf(res, sizeof(res), "%s (%s)", tf(s->resolved),
		 s->resolved_reason);
	sb_printf(out, "%-12s %-20s %-28s %-24s %-26s %s", o->ns, o->name,
		  parent, acc, res, route_dataplane(d, o));
	if (fmt == FMT_WIDE && s->message)
		sb_printf(out, "  message=%s", s->message);
	sb_printf(out, "\n");
}

static void condition_yaml(const char *type, bool ok, const char *reason,
			   const char *msg, struct sbuf *out)
{
	sb_printf(out, "    - type: %s\n      status: \"%s\"\n      reason: ",
		  type, tf(ok));
	sb_json_str(out, reason);
	sb_printf(out, "\n      message: ");
	sb_json_str(out, !ok && msg ? msg : "");
	sb_printf(out, "\n");
}

/*
 * A route as stored, then the status a Gateway API controller would write
 * for it (stored routes leave any status out, so this is the only one;
 * `ambit apply` ignores it).
 */
static void route_yaml(const struct daemon *d, const struct object *o,
		       struct sbuf *out)
{
	size_t i;

	sb_printf(out, "---\n%sstatus:\n  parents:\n", o->yaml);
	for (i = 0; i < d->img.n_status; i++) {
		const struct route_status *s = &d->img.status[i];

		if (s->route != o)
			continue;
		sb_printf(out, "  - parentRef: ");
		parent_ref_json(o, &o->route.parents[s->parent], out);
		sb_printf(out, "\n    controllerName: " CONTROLLER_NAME
			  "\n    conditions:\n");
		condition_yaml("Accepted", s->accepted, s->accepted_reason,
			       s->message, out);
		condition_yaml("ResolvedRefs", s->resolved, s->resolved_reason,
			       s->accepted ? s->message : NULL, out);
	}
}

static void get_routes(const struct daemon *d, int fmt, struct sbuf *out)
{
	size_t i, n = 0;

	for (i = 0; fmt == FMT_YAML && i < d->st.objs.n; i++) {
		if (d->st.objs.v[i]->kind == OBJ_HTTP_ROUTE)
			route_yaml(d, d->st.objs.v[i], out);
	}
	if (fmt == FMT_YAML)
		return;
	if (fmt == FMT_JSON) {
		sb_printf(out, "[");
		for (i = 0; i < d->st.objs.n; i++) {
			if (d->st.objs.v[i]->kind != OBJ_HTTP_ROUTE)
				continue;
			sb_printf(out, "%s", n++ ? ",\n" : "");
			route_json(d, d->st.objs.v[i], out);
		}
		sb_printf(out, "]\n");
		return;
	}
	sb_printf(out, "%-12s %-20s %-28s %-24s %-26s %s\n", "NAMESPACE", "NAME",
		  "PARENT", "ACCEPTED", "RESOLVEDREFS", "DATAPLANE");
	for (i = 0; i < d->img.n_status; i++)
		route_row(d, &d->img.status[i], fmt, out);
}

/* ---- endpoints and enrollments ----------------------------------------- */

static size_t ready_count(const struct endpoint_slice *e, size_t *total)
{
	size_t i, n = 0;

	*total = e->n_eps;
	for (i = 0; i < e->n_eps; i++)
		n += e->eps[i].ready;
	return n;
}

static void get_endpoints(const struct daemon *d, int fmt, struct sbuf *out)
{
	size_t i, total, ready, n = 0;

	if (fmt == FMT_YAML)
		return print_yaml(d, OBJ_ENDPOINT_SLICE, out);
	sb_printf(out, fmt == FMT_JSON ? "[" : "%-12s %-24s %-20s %-6s %s\n",
		  "NAMESPACE", "NAME", "SERVICE", "FAMILY", "READY");
	for (i = 0; i < d->st.objs.n; i++) {
		const struct object *o = d->st.objs.v[i];

		if (o->kind != OBJ_ENDPOINT_SLICE)
			continue;
		ready = ready_count(&o->eps, &total);
		if (fmt != FMT_JSON) {
			sb_printf(out, "%-12s %-24s %-20s %-6s %zu/%zu\n", o->ns,
				  o->name, o->eps.service,
				  o->eps.family == AF_INET ? "IPv4" : "IPv6",
				  ready, total);
			continue;
		}
		sb_printf(out, "%s{\"namespace\":", n++ ? ",\n" : "");
		sb_json_str(out, o->ns);
		sb_printf(out, ",\"name\":");
		sb_json_str(out, o->name);
		sb_printf(out, ",\"service\":");
		sb_json_str(out, o->eps.service);
		sb_printf(out, ",\"ready\":%zu,\"total\":%zu}", ready, total);
	}
	if (fmt == FMT_JSON)
		sb_printf(out, "]\n");
}

static const char *enrolled_status(const struct enrolled *e)
{
	return e->err ? strerror(-e->err) : "Enrolled";
}

static void enrolled_json(const struct enrolled *e, struct sbuf *out)
{
	const struct object *o = e->obj;

	sb_printf(out, "{\"namespace\":");
	sb_json_str(out, o->ns);
	sb_printf(out, ",\"name\":");
	sb_json_str(out, o->name);
	sb_printf(out, ",\"%s\":", o->enr.cgroup_path ? "cgroup" : "netns");
	sb_json_str(out, o->enr.cgroup_path ? o->enr.cgroup_path : o->enr.netns_path);
	sb_printf(out, ",\"id\":%llu,\"status\":", (unsigned long long)e->id);
	sb_json_str(out, enrolled_status(e));
	sb_printf(out, ",\"pod\":");
	if (o->enr.pod_name) {
		sb_printf(out, "{\"namespace\":");
		sb_json_str(out, o->enr.pod_ns ? o->enr.pod_ns : o->ns);
		sb_printf(out, ",\"name\":");
		sb_json_str(out, o->enr.pod_name);
		sb_printf(out, "}");
	} else {
		sb_printf(out, "null");
	}
	sb_printf(out, ",\"source\":\"%s\"}", mesh_managed(o) ? "labels" :
		  "manual");
}

static void enrolled_row(const struct enrolled *e, struct sbuf *out)
{
	const struct object *o = e->obj;

	sb_printf(out, "%-12s %-24s %-7s %-20llu %s (%s)", o->ns, o->name,
		  e->kind == AMBIT_ENROLL_CGROUP ? "cgroup" : "netns",
		  (unsigned long long)e->id, enrolled_status(e),
		  o->enr.cgroup_path ? o->enr.cgroup_path : o->enr.netns_path);
	if (o->enr.pod_name)
		sb_printf(out, " pod=%s/%s", o->enr.pod_ns ? o->enr.pod_ns : o->ns,
			  o->enr.pod_name);
	sb_printf(out, "%s\n", mesh_managed(o) ? " by labels" : "");
}

static void get_enrollments(const struct daemon *d, int fmt, struct sbuf *out)
{
	size_t i;

	if (fmt == FMT_YAML)
		return print_yaml(d, OBJ_ENROLLMENT, out);
	sb_printf(out, fmt == FMT_JSON ? "[" : "%-12s %-24s %-7s %-20s %s\n",
		  "NAMESPACE", "NAME", "BY", "ID", "STATUS");
	for (i = 0; i < d->en.n; i++) {
		if (fmt != FMT_JSON) {
			enrolled_row(&d->en.v[i], out);
			continue;
		}
		sb_printf(out, "%s", i ? ",\n" : "");
		enrolled_json(&d->en.v[i], out);
	}
	if (fmt == FMT_JSON)
		sb_printf(out, "]\n");
}

static bool is_word(const char *w, const char *a, const char *b, const char *c)
{
	return !strcmp(w, a) || !strcmp(w, b) || (c && !strcmp(w, c));
}

int cmd_get(struct daemon *d, struct request *rq, struct sbuf *out,
	    struct sbuf *err)
{
	const char *what;
	int fmt;

	if (parse_fmt(rq, &fmt, err))
		return 1;
	if (optind >= rq->argc) {
		sb_printf(err, "error: get: what? services|routes|endpoints|"
			  "enrollments|pods|namespaces\n");
		return 1;
	}
	what = rq->argv[optind];
	if (is_word(what, "services", "service", "svc"))
		get_services(d, fmt, out);
	else if (is_word(what, "routes", "httproutes", "route"))
		get_routes(d, fmt, out);
	else if (is_word(what, "endpoints", "endpointslices", "eps"))
		get_endpoints(d, fmt, out);
	else if (is_word(what, "enrollments", "enrollment", NULL))
		get_enrollments(d, fmt, out);
	else if (is_word(what, "pods", "pod", "po"))
		get_pods(d, fmt, out);
	else if (is_word(what, "namespaces", "namespace", "ns"))
		get_namespaces(d, fmt, out);
	else {
		sb_printf(err, "error: get: unknown object '%s' (services, "
			  "routes, endpoints, enrollments, pods, namespaces)\n",
			  what);
		return 1;
	}
	return 0;
}
