// SPDX-License-Identifier: Apache-2.0
/*
 * ambit get pods / namespaces: what enrollment by labels sees. A pod is
 * listed when its Pod object is known or CNI attached it (or both), with
 * its network namespace, whether it is enrolled, and the label (or its
 * absence) that decided.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "mesh.h"
#include "pods.h"

/* Is the namespace at @netns enrolled right now? */
static bool netns_enrolled(const struct daemon *d, const char *netns)
{
	size_t i;

	for (i = 0; netns && i < d->en.n; i++) {
		const struct object *o = d->en.v[i].obj;

		if (d->en.v[i].id && o->enr.netns_path &&
		    !strcmp(o->enr.netns_path, netns))
			return true;
	}
	return false;
}

static void ips_text(const struct ip_addr *ips, size_t n, char *buf,
		     size_t size, bool json)
{
	char ip[INET6_ADDRSTRLEN];
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n && o < size; i++) {
		inet_ntop(ips[i].family, ips[i].bytes, ip, sizeof(ip));
		o += (size_t)snprintf(buf + o, size - o, json ? "%s\"%s\"" :
				      "%s%s", i ? "," : "", ip);
	}
	if (!n && !json)
		snprintf(buf, size, "-");
}

struct pod_row {
	const char *ns, *name;
	const struct object *pod; /* NULL: attached, no Pod object yet */
	const struct pod_binding *b; /* NULL: no namespace known */
};

/* Why the pod is (not) enrolled: its labels, and whether its netns is known. */
static bool pod_why(const struct daemon *d, const struct pod_row *r, char *why,
		    size_t size)
{
	bool in = pods_in_mesh(&d->st.objs, r->ns, r->name, why, size);
	size_t n = strlen(why);

	if (in && !r->b)
		snprintf(why + n, size - n, ", but its network namespace is not "
			 "known (no CNI attach, not found in --netns-dir)");
	return in;
}

static void pod_json(const struct daemon *d, const struct pod_row *r,
		     struct sbuf *out)
{
	char why[256], ips[400];
	bool in = pod_why(d, r, why, sizeof(why));

	if (r->pod)
		ips_text(r->pod->pod.ips, r->pod->pod.n_ips, ips, sizeof(ips),
			 true);
	else
		ips_text(r->b->ips, r->b->n_ips, ips, sizeof(ips), true);
	sb_printf(out, "{\"namespace\":");
	sb_json_str(out, r->ns);
	sb_printf(out, ",\"name\":");
	sb_json_str(out, r->name);
	sb_printf(out, ",\"ips\":[%s],\"podObject\":%s,\"netns\":", ips,
		  r->pod ? "true" : "false");
	if (r->b)
		sb_json_str(out, r->b->netns);
	else
		sb_printf(out, "null");
	sb_printf(out, ",\"found\":\"%s\",\"inMesh\":%s,\"enrolled\":%s,"
		  "\"reason\":", !r->b ? "" : r->b->discovered ? "netns-dir" :
		  "cni", in ? "true" : "false",
		  netns_enrolled(d, r->b ? r->b->netns : NULL) ? "true" : "false");
	sb_json_str(out, why);
	sb_printf(out, "}");
}

static void pod_line(const struct daemon *d, const struct pod_row *r,
		     struct sbuf *out)
{
	char why[256], ips[400], netns[600] = "-";

	pod_why(d, r, why, sizeof(why));
	if (r->pod)
		ips_text(r->pod->pod.ips, r->pod->pod.n_ips, ips, sizeof(ips),
			 false);
	else
		ips_text(r->b->ips, r->b->n_ips, ips, sizeof(ips), false);
	if (r->b)
		snprintf(netns, sizeof(netns), "%s (%s)", r->b->netns,
			 r->b->discovered ? "found" : "cni");
	sb_printf(out, "%-12s %-24s %-16s %-9s %s  %s%s\n", r->ns, r->name, ips,
		  netns_enrolled(d, r->b ? r->b->netns : NULL) ? "yes" : "no",
		  netns, why, r->pod ? "" : " (no Pod object yet)");
}

static void pod_out(const struct daemon *d, const struct pod_row *r, int fmt,
		    size_t *n, struct sbuf *out)
{
	if (fmt == FMT_JSON) {
		sb_printf(out, "%s", (*n)++ ? ",\n" : "");
		pod_json(d, r, out);
	} else {
		pod_line(d, r, out);
	}
}

void get_pods(const struct daemon *d, int fmt, struct sbuf *out)
{
	size_t i, n = 0;

	if (fmt == FMT_YAML)
		return print_yaml(d, OBJ_POD, out);
	sb_printf(out, fmt == FMT_JSON ? "[" :
		  "%-12s %-24s %-16s %-9s %s  %s\n", "NAMESPACE", "NAME", "IP",
		  "ENROLLED", "NETNS", "WHY");
	for (i = 0; i < d->st.objs.n; i++) {
		const struct object *o = d->st.objs.v[i];
		struct pod_row r = { o->ns, o->name, o, NULL };

		if (o->kind != OBJ_POD)
			continue;
		r.b = pods_find(d, o->ns, o->name);
		pod_out(d, &r, fmt, &n, out);
	}
	for (i = 0; i < d->pods.n; i++) {
		const struct pod_binding *b = &d->pods.v[i];
		struct pod_row r = { b->ns, b->name, NULL, b };

		if (!model_find(&d->st.objs, OBJ_POD, b->ns, b->name))
			pod_out(d, &r, fmt, &n, out);
	}
	if (fmt == FMT_JSON)
		sb_printf(out, "]\n");
}

static bool label_is(const struct object *o, const char *value)
{
	const char *a = obj_label(o, MESH_LABEL_ISTIO);
	const char *b = obj_label(o, MESH_LABEL_AMBIT);

	return (a && !strcmp(a, value)) || (b && !strcmp(b, value));
}

/* What the namespace's labels ask: ambient, none (wins) or nothing. */
static const char *ns_mode(const struct object *o)
{
	return label_is(o, "none") ? "none" : label_is(o, "ambient") ?
	       "ambient" : "-";
}

void get_namespaces(const struct daemon *d, int fmt, struct sbuf *out)
{
	size_t i, n = 0;

	if (fmt == FMT_YAML)
		return print_yaml(d, OBJ_NAMESPACE, out);
	sb_printf(out, fmt == FMT_JSON ? "[" : "%-24s %s\n", "NAME", "MODE");
	for (i = 0; i < d->st.objs.n; i++) {
		const struct object *o = d->st.objs.v[i];

		if (o->kind != OBJ_NAMESPACE)
			continue;
		if (fmt != FMT_JSON) {
			sb_printf(out, "%-24s %s\n", o->name, ns_mode(o));
			continue;
		}
		sb_printf(out, "%s{\"name\":", n++ ? ",\n" : "");
		sb_json_str(out, o->name);
		sb_printf(out, ",\"mode\":\"%s\"}", ns_mode(o));
	}
	if (fmt == FMT_JSON)
		sb_printf(out, "]\n");
}
