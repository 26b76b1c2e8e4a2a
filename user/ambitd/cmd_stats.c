// SPDX-License-Identifier: Apache-2.0
/* ambit stats and ambit describe route. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

/* percpu_sum() reads a value as an array of __u64 counters. */
_Static_assert(sizeof(struct ambit_stats_val) % sizeof(__u64) == 0, "u64s");
_Static_assert(sizeof(struct ambit_ep_stats_val) % sizeof(__u64) == 0, "u64s");

void percpu_sum(void *sum, const void *pc, size_t size, int ncpu)
{
	const __u64 *v = pc;
	__u64 *out = sum;
	size_t n = size / sizeof(__u64), f;
	int i;

	memset(sum, 0, size);
	for (i = 0; i < ncpu; i++, v += n) {
		for (f = 0; f < n; f++)
			out[f] += v[f];
	}
}

int percpu_lookup_sum(int fd, const void *key, void *sum, size_t size)
{
	int ncpu = libbpf_num_possible_cpus();
	void *v;

	if (ncpu <= 0)
		return -EINVAL;
	v = calloc((size_t)ncpu, size);
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, key, v)) {
		free(v);
		return -errno;
	}
	percpu_sum(sum, v, size, ncpu);
	free(v);
	return 0;
}

static const struct img_service *svc_by_id(const struct daemon *d, __u32 id)
{
	size_t i;

	for (i = 0; i < d->img.n_svcs; i++) {
		if (mapsync_svc_id(&d->ms, &d->img.svcs[i].key) == id)
			return &d->img.svcs[i];
	}
	return NULL;
}

static void stats_row(const struct daemon *d, const struct ambit_stats_key *k,
		      const struct ambit_stats_val *v, bool json, int n,
		      struct sbuf *out)
{
	const struct img_service *s = svc_by_id(d, k->svc_id);
	const char *backend = "(service)";
	char name[300] = "(removed)", addr[80] = "-";

	if (s) {
		snprintf(name, sizeof(name), "%s/%s", s->svc->ns, s->svc->name);
		svc_key_str(&s->key, addr, sizeof(addr));
		if (k->backend_id < s->n_versions)
			backend = s->versions[k->backend_id].name;
	}
	if (!json) {
		sb_printf(out, "%-28s %-28s %-20s %10llu %11llu %9llu %9llu\n",
			  name, addr, backend, (unsigned long long)v->connects,
			  (unsigned long long)v->no_endpoint,
			  (unsigned long long)v->to_proxy,
			  (unsigned long long)v->no_proxy);
		return;
	}
	sb_printf(out, "%s{\"service\":", n ? ",\n" : "");
	sb_json_str(out, name);
	sb_printf(out, ",\"address\":");
	sb_json_str(out, addr);
	sb_printf(out, ",\"backend\":");
	sb_json_str(out, backend);
	sb_printf(out, ",\"connects\":%llu,\"noEndpoint\":%llu,\"toProxy\":%llu,"
		  "\"noProxy\":%llu}", (unsigned long long)v->connects,
		  (unsigned long long)v->no_endpoint,
		  (unsigned long long)v->to_proxy,
		  (unsigned long long)v->no_proxy);
}

/* Connections closed because their endpoint was removed (destroy.c). */
static void stale_summary(const struct destroyer *ds, bool json,
			  struct sbuf *out)
{
	const struct destroy_stats *st = &ds->st;

	if (json) {
		sb_printf(out, ",\"staleConnections\":{\"enabled\":%s,",
			  destroyer_on(ds) ? "true" : "false");
		if (!destroyer_on(ds)) {
			sb_printf(out, "\"off\":");
			sb_json_str(out, ds->off_reason ? ds->off_reason : "");
			sb_printf(out, ",");
		}
		sb_printf(out, "\"closedTcp\":%llu,\"closedUdp\":%llu,"
			  "\"failed\":%llu,\"passes\":%llu,\"lastPassUs\":%llu,"
			  "\"lastPassCpuUs\":%llu,\"lastPassNamespaces\":%llu}",
			  (unsigned long long)st->closed_tcp,
			  (unsigned long long)st->closed_udp,
			  (unsigned long long)st->failed,
			  (unsigned long long)st->passes,
			  (unsigned long long)st->last_us,
			  (unsigned long long)st->last_cpu_us,
			  (unsigned long long)st->last_netns);
		return;
	}
	if (!destroyer_on(ds)) {
		sb_printf(out, "stale connections: off (%s)\n",
			  ds->off_reason ? ds->off_reason : "?");
		return;
	}
	sb_printf(out, "stale connections: %llu TCP and %llu UDP closed, %llu "
		  "failed, in %llu passes (last: %llu us, %llu namespaces)\n",
		  (unsigned long long)st->closed_tcp,
		  (unsigned long long)st->closed_udp,
		  (unsigned long long)st->failed, (unsigned long long)st->passes,
		  (unsigned long long)st->last_us,
		  (unsigned long long)st->last_netns);
}

static void ep_stats_row(const struct daemon *d,
			 const struct ambit_ep_stats_key *k,
			 const struct ambit_ep_stats_val *v, bool json, int n,
			 struct sbuf *out)
{
	const struct img_service *s = svc_by_id(d, k->svc_id);
	struct ambit_ep_val ep = { .port = k->port, .family = k->family };
	char name[300] = "(removed)", addr[80] = "-", epa[80];

	memcpy(ep.addr, k->addr, sizeof(ep.addr));
	ep_str(&ep, epa, sizeof(epa));
	if (s) {
		snprintf(name, sizeof(name), "%s/%s", s->svc->ns, s->svc->name);
		svc_key_str(&s->key, addr, sizeof(addr));
	}
	if (!json) {
		sb_printf(out, "%-28s %-28s %-28s %10llu %9llu\n", name, addr, epa,
			  (unsigned long long)v->connects,
			  (unsigned long long)v->failed);
		return;
	}
	sb_printf(out, "%s{\"service\":", n ? ",\n" : "");
	sb_json_str(out, name);
	sb_printf(out, ",\"address\":");
	sb_json_str(out, addr);
	sb_printf(out, ",\"endpoint\":");
	sb_json_str(out, epa);
	sb_printf(out, ",\"connects\":%llu,\"failed\":%llu}",
		  (unsigned long long)v->connects, (unsigned long long)v->failed);
}

/* Where connections went: per service port and endpoint (the proxy for
 * L7 ports), and how many of them never got established. */
static void ep_stats_table(const struct daemon *d, bool json, struct sbuf *out)
{
	struct ambit_ep_stats_key k, prev;
	struct ambit_ep_stats_val v;
	bool first = true;
	int n = 0;

	sb_printf(out, json ? ",\"endpoints\":[" : "\n%-28s %-28s %-28s %10s %9s\n",
		  "SERVICE", "ADDRESS", "ENDPOINT", "CONNECTS", "FAILED");
	while (!bpf_map_get_next_key(d->dp.ep_stats_fd, first ? NULL : &prev, &k)) {
		first = false;
		prev = k;
		if (!percpu_lookup_sum(d->dp.ep_stats_fd, &k, &v, sizeof(v)))
			ep_stats_row(d, &k, &v, json, n++, out);
	}
	if (json)
		sb_printf(out, "]");
}

int cmd_stats(struct daemon *d, struct request *rq, struct sbuf *out,
	      struct sbuf *err)
{
	bool json = rq->argc > 2 && !strcmp(rq->argv[1], "-o") &&
		    !strcmp(rq->argv[2], "json");
	struct ambit_stats_key k, prev;
	struct ambit_stats_val v;
	bool first = true;
	int n = 0;

	if (rq->argc > 1 && !json) {
		sb_printf(err, "error: stats: usage: ambit stats [-o json]\n");
		return 1;
	}
	sb_printf(out, json ? "{\"applies\":%llu,\"applyErrors\":%llu"
		       : "applies: %llu (errors: %llu)\n",
		  (unsigned long long)d->applies,
		  (unsigned long long)d->apply_errors);
	stale_summary(&d->ds, json, out);
	if (json)
		sb_printf(out, ",\"counters\":[");
	if (!json)
		sb_printf(out, "%-28s %-28s %-20s %10s %11s %9s %9s\n", "SERVICE",
			  "ADDRESS", "BACKEND", "CONNECTS", "NO_ENDPOINT",
			  "TO_PROXY", "NO_PROXY");
	while (!bpf_map_get_next_key(d->dp.stats_fd, first ? NULL : &prev, &k)) {
		first = false;
		prev = k;
		if (!percpu_lookup_sum(d->dp.stats_fd, &k, &v, sizeof(v)))
			stats_row(d, &k, &v, json, n++, out);
	}
	if (json)
		sb_printf(out, "]");
	ep_stats_table(d, json, out);
	if (json)
		sb_printf(out, "}\n");
	return 0;
}

/* ---- describe route ----------------------------------------------------- */

static void describe_match(const struct route_match *m, struct sbuf *out)
{
	static const char *const ptype[] = { "PathPrefix", "Exact", "RegularExpression" };
	size_t i;

	sb_printf(out, "      - path %s %s", ptype[m->path.type % 3],
		  m->has_path ? m->path.value : "/");
	for (i = 0; i < m->n_headers; i++)
		sb_printf(out, ", header %s %s %s", m->headers[i].name,
			  m->headers[i].type == MATCH_REGEX ? "~" : "=",
			  m->headers[i].value);
	for (i = 0; i < m->n_query; i++)
		sb_printf(out, ", query %s %s %s", m->query[i].name,
			  m->query[i].type == MATCH_REGEX ? "~" : "=",
			  m->query[i].value);
	if (m->method)
		sb_printf(out, ", method %s", m->method);
	sb_printf(out, "\n");
}

static void describe_rule(const struct route_rule *r, size_t idx,
			  struct sbuf *out)
{
	static const char *const ftype[] = { "?", "RequestHeaderModifier",
		"ResponseHeaderModifier", "RequestRedirect", "URLRewrite",
		"RequestMirror", "ExtensionRef" };
	size_t i;

	sb_printf(out, "  rule %zu%s%s:\n    matches:%s\n", idx, r->name ? " " : "",
		  r->name ? r->name : "", r->n_matches ? "" : " every request");
	for (i = 0; i < r->n_matches; i++)
		describe_match(&r->matches[i], out);
	for (i = 0; i < r->n_filters; i++)
		sb_printf(out, "    filter: %s\n", ftype[r->filters[i].type % 7]);
	for (i = 0; i < r->n_backends; i++)
		sb_printf(out, "    backend: %s%s%s:%u weight %u\n",
			  r->backends[i].ref.ns ? r->backends[i].ref.ns : "",
			  r->backends[i].ref.ns ? "/" : "", r->backends[i].ref.name,
			  r->backends[i].ref.port, r->backends[i].weight);
}

static const struct object *find_route(const struct daemon *d, const char *arg)
{
	const char *slash = strchr(arg, '/');
	size_t i;

	for (i = 0; i < d->st.objs.n; i++) {
		const struct object *o = d->st.objs.v[i];

		if (o->kind != OBJ_HTTP_ROUTE)
			continue;
		if (slash ? (!strncmp(o->ns, arg, (size_t)(slash - arg)) &&
			     !o->ns[slash - arg] && !strcmp(o->name, slash + 1))
			  : (!strcmp(o->ns, "default") && !strcmp(o->name, arg)))
			return o;
	}
	return NULL;
}

static void describe_dataplane(const struct daemon *d, const struct object *o,
			       struct sbuf *out)
{
	char key[80];
	size_t i;

	sb_printf(out, "data plane:\n");
	for (i = 0; i < d->img.n_svcs; i++) {
		const struct img_service *s = &d->img.svcs[i];

		if (s->route != o)
			continue;
		sb_printf(out, "  %s  %s%s%s\n", svc_key_str(&s->key, key, sizeof(key)),
			  !s->l7 ? "L4" : d->proxy_port ? "L7 (proxy): "
							: "L7 (proxy not available): ",
			  s->l7 ? s->l7_reason : "", "");
	}
}

int cmd_describe(struct daemon *d, struct request *rq, struct sbuf *out,
		 struct sbuf *err)
{
	const struct object *o;
	size_t i;

	if (rq->argc != 3 || strcmp(rq->argv[1], "route")) {
		sb_printf(err, "error: usage: ambit describe route [NAMESPACE/]NAME\n");
		return 1;
	}
	o = find_route(d, rq->argv[2]);
	if (!o) {
		sb_printf(err, "error: httproute %s not found\n", rq->argv[2]);
		return 1;
	}
	sb_printf(out, "name: %s\nnamespace: %s\nparents:\n", o->name, o->ns);
	for (i = 0; i < d->img.n_status; i++) {
		const struct route_status *s = &d->img.status[i];

		if (s->route == o)
			sb_printf(out, "  %s/%s  Accepted=%s (%s)  ResolvedRefs=%s "
				  "(%s)%s%s\n", o->route.parents[s->parent].ref.kind,
				  o->route.parents[s->parent].ref.name,
				  s->accepted ? "True" : "False", s->accepted_reason,
				  s->resolved ? "True" : "False", s->resolved_reason,
				  s->message ? "  " : "", s->message ? s->message : "");
	}
	sb_printf(out, "rules:\n");
	for (i = 0; i < o->route.n_rules; i++)
		describe_rule(&o->route.rules[i], i, out);
	describe_dataplane(d, o, out);
	return 0;
}
