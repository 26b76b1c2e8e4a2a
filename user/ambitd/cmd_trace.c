// SPDX-License-Identifier: Apache-2.0
/*
 * ambit trace: explain what the data plane does with a connection from one
 * workload to one address, and why. For an L4 port that is the BPF choice
 * of a version per connection. For an L7 port it is what ambit-proxy does
 * with one request: the explanation runs the proxy's own engine
 * (l7route.h) on a table built from the running configuration, so it
 * cannot drift from what the proxy really does.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon.h"
#include "l7route.h"
#include "ambit/select.h" /* after abi.h, which it builds on */

/* Fits in one request to the daemon (PROTO_MAX_ARGS arguments). */
#define TRACE_MAX_HEADERS 32

/*
 * The random draw the L7 explanation uses. 0 picks the first backend of
 * weight > 0 and the first endpoint, and makes every mirror with a
 * non-zero percentage fire: the output is repeatable and shows everything
 * a request can cause. The list of backends shows the real shares.
 */
#define TRACE_RND 0u

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* "127.96.0.1:80" or "[fd00::1]:80" -> key (TCP unless @udp). */
static int parse_addr_port(const char *s, bool udp, struct ambit_svc_key *k)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	size_t n;
	long port;
	char *end;

	if (!colon || (n = (size_t)(colon - s)) >= sizeof(host) || !n)
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	k->port = htons((__u16)port);
	k->proto = udp ? IPPROTO_UDP : IPPROTO_TCP;
	if (host[0] == '[' && host[n - 1] == ']') {
		host[n - 1] = '\0';
		k->family = AMBIT_FAMILY_V6;
		return inet_pton(AF_INET6, host + 1, k->addr) == 1 ? 0 : -EINVAL;
	}
	k->family = AMBIT_FAMILY_V4;
	return inet_pton(AF_INET, host, k->addr) == 1 ? 0 : -EINVAL;
}

struct trace_opts {
	const char *cgroup;
	const char *netns;
	const char *to;
	bool udp;
	bool l7;            /* a request option was given */
	const char *method; /* NULL: GET */
	const char *target; /* path[?query]; NULL: "/" */
	const char *host;   /* NULL: a Host --header, else the --to address */
	const char *hdr[TRACE_MAX_HEADERS];
	size_t n_hdr;
};

/* One option; the request options only matter on an L7 port. */
static int trace_opt(struct trace_opts *o, int c, const char *arg,
		     struct sbuf *err)
{
	switch (c) {
	case 'c': o->cgroup = arg; return 0;
	case 'n': o->netns = arg; return 0;
	case 't': o->to = arg; return 0;
	case 'u': o->udp = true; return 0;
	case 'm': o->method = arg; break;
	case 'p': o->target = arg; break;
	case 'o': o->host = arg; break;
	case 'H':
		if (o->n_hdr == TRACE_MAX_HEADERS) {
			sb_printf(err, "error: trace: at most %d --header "
				  "options\n", TRACE_MAX_HEADERS);
			return -E2BIG;
		}
		o->hdr[o->n_hdr++] = arg;
		break;
	default:
		return -EINVAL;
	}
	o->l7 = true;
	return 0;
}

static int parse_trace_opts(struct request *rq, struct trace_opts *o,
			    struct sbuf *err)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "netns", required_argument, NULL, 'n' },
		{ "to", required_argument, NULL, 't' },
		{ "udp", no_argument, NULL, 'u' },
		{ "method", required_argument, NULL, 'm' },
		{ "path", required_argument, NULL, 'p' },
		{ "header", required_argument, NULL, 'H' },
		{ "host", required_argument, NULL, 'o' },
		{},
	};
	int c, ret;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(rq->argc, rq->argv, "", opts, NULL)) != -1) {
		ret = trace_opt(o, c, optarg, err);
		if (ret == -EINVAL)
			sb_printf(err, "error: trace: unknown option or missing "
				  "value '%s'\n", rq->argv[optind - 1]);
		if (ret)
			return ret;
	}
	if (!o->to || (!o->cgroup == !o->netns)) {
		sb_printf(err, "error: trace: need --to ADDR:PORT and one of "
			  "--cgroup PATH or --netns PATH\n");
		return -EINVAL;
	}
	return 0;
}

/* ---- the request to explain --------------------------------------------- */

/* A request as the proxy's parser would hand it to the matcher. */
struct trace_req {
	struct http_header h[TRACE_MAX_HEADERS + 1]; /* h[0]: Host */
	struct l7_request_view v;
};

static struct str_view sv(const char *s)
{
	return (struct str_view){ s, strlen(s) };
}

static bool sv_ieq(struct str_view v, const char *s)
{
	return v.len == strlen(s) && !strncasecmp(v.p, s, v.len);
}

/* RFC 9110 token: what a method and a field name must be. */
static bool is_token(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)p[i]) &&
		    !strchr("!#$%&'*+-.^_`|~", p[i]))
			return false;
	}
	return n > 0;
}

/* No blanks or controls: what a request target or Host may hold. */
static bool is_visible(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	}
	return true;
}

/* "Name: value" -> a header, the value without surrounding blanks. */
static int parse_header(const char *s, struct http_header *h, struct sbuf *err)
{
	const char *colon = strchr(s, ':'), *v, *end, *p;

	if (!colon || !is_token(s, (size_t)(colon - s))) {
		sb_printf(err, "error: trace: bad --header '%s': want "
			  "'Name: value' (a field name, a colon, a value)\n", s);
		return -EINVAL;
	}
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	for (end = v + strlen(v); end > v && (end[-1] == ' ' || end[-1] == '\t');)
		end--;
	for (p = v; p < end; p++) {
		if (((unsigned char)*p < ' ' && *p != '\t') || *p == 0x7f) {
			sb_printf(err, "error: trace: bad --header '%s': control "
				  "character in the value\n", s);
			return -EINVAL;
		}
	}
	h->name = (struct str_view){ s, (size_t)(colon - s) };
	h->value = (struct str_view){ v, (size_t)(end - v) };
	return 0;
}

/* The headers, Host first. --host replaces any Host --header; two Host
 * headers are refused, as the proxy answers 400 to them. */
static int trace_headers(const struct trace_opts *o, struct trace_req *rq,
			 struct sbuf *err)
{
	size_t i, n = 1, hosts = 0;

	for (i = 0; i < o->n_hdr; i++) {
		if (parse_header(o->hdr[i], &rq->h[n], err))
			return -EINVAL;
		if (!sv_ieq(rq->h[n].name, "host"))
			n++;
		else if (!o->host && !hosts++)
			rq->h[0] = rq->h[n];
	}
	if (!o->host && hosts > 1) {
		sb_printf(err, "error: trace: more than one Host header "
			  "(ambit-proxy answers 400 to that)\n");
		return -EINVAL;
	}
	if (o->host && !is_visible(o->host)) {
		sb_printf(err, "error: trace: bad --host '%s'\n", o->host);
		return -EINVAL;
	}
	if (o->host || !hosts) /* a client such as curl sends what it dialed */
		rq->h[0] = (struct http_header){ sv("Host"),
						 sv(o->host ? o->host : o->to) };
	rq->v.host = rq->h[0].value;
	rq->v.headers = rq->h;
	rq->v.n_headers = n;
	return 0;
}

static int trace_request(const struct trace_opts *o, struct trace_req *rq,
			 struct sbuf *err)
{
	const char *method = o->method ? o->method : "GET";
	const char *target = o->target ? o->target : "/";
	const char *q = strchr(target, '?');

	memset(rq, 0, sizeof(*rq));
	if (!is_token(method, strlen(method))) {
		sb_printf(err, "error: trace: bad --method '%s'\n", method);
		return -EINVAL;
	}
	if (target[0] != '/' || !is_visible(target)) {
		sb_printf(err, "error: trace: bad --path '%s': it starts with "
			  "'/' and has no blanks or controls\n", target);
		return -EINVAL;
	}
	rq->v.method = sv(method);
	rq->v.path = (struct str_view){ target, q ? (size_t)(q - target)
						  : strlen(target) };
	rq->v.query = q ? sv(q + 1) : (struct str_view){ "", 0 };
	return trace_headers(o, rq, err);
}

/* ---- the workload ------------------------------------------------------- */

struct workload {
	struct ambit_enroll_key key;
	const char *kind; /* "cgroup" or "netns", for the text */
	const char *path;
};

/* Is the workload enrolled, according to the live map? */
static bool trace_workload(struct daemon *d, const struct trace_opts *o,
			   struct workload *w, struct sbuf *out)
{
	struct ambit_enroll_val v;
	int err = 0;

	memset(w, 0, sizeof(*w));
	w->kind = o->cgroup ? "cgroup" : "netns";
	w->path = o->cgroup ? o->cgroup : o->netns;
	w->key.kind = o->cgroup ? AMBIT_ENROLL_CGROUP : AMBIT_ENROLL_NETNS;
	if (o->cgroup)
		w->key.id = cgroup_id_of(w->path), err = w->key.id ? 0 : -errno;
	else
		err = netns_cookie_of(w->path, &w->key.id);
	if (err) {
		sb_printf(out, "workload: %s %s: %s\n", w->kind, w->path,
			  strerror(-err));
		return false;
	}
	if (bpf_map_lookup_elem(d->dp.enroll_fd, &w->key, &v)) {
		sb_printf(out, "workload: %s %s (id %llu) is not enrolled: its "
			  "connections are never touched\n", w->kind, w->path,
			  (unsigned long long)w->key.id);
		return false;
	}
	sb_printf(out, "workload: %s %s (id %llu) is enrolled (%s/%s)\n",
		  w->kind, w->path, (unsigned long long)w->key.id,
		  v.workload_id < d->en.n ? d->en.v[v.workload_id].obj->ns : "?",
		  v.workload_id < d->en.n ? d->en.v[v.workload_id].obj->name : "?");
	return true;
}

/*
 * The client's namespace as ambit-proxy derives it (proxy/snapshot.c):
 * the first Enrollment naming this cgroup or netns decides, with its pod
 * namespace, else its own namespace. NULL when none does.
 */
static const struct enrolled *find_enrolled(const struct daemon *d,
					    const struct workload *w)
{
	size_t i;

	for (i = 0; i < d->en.n; i++) {
		const struct enrolled *e = &d->en.v[i];

		if (e->id && e->id == w->key.id && e->kind == w->key.kind)
			return e;
	}
	return NULL;
}

static const char *client_ns(const struct daemon *d, const struct workload *w,
			     struct sbuf *out)
{
	const struct enrolled *e = find_enrolled(d, w);
	const struct object *o = e ? e->obj : NULL;

	if (!o) {
		sb_printf(out, "client namespace: unknown (no Enrollment names "
			  "this workload): producer routes apply\n");
		return NULL;
	}
	sb_printf(out, "client namespace: %s (%s of Enrollment %s/%s)\n",
		  o->enr.pod_ns ? o->enr.pod_ns : o->ns,
		  o->enr.pod_ns ? "pod namespace" : "namespace", o->ns, o->name);
	return o->enr.pod_ns ? o->enr.pod_ns : o->ns;
}

/* ---- L4 ----------------------------------------------------------------- */

static void trace_eps(const struct ambit_ep_val *eps, size_t n,
		      struct sbuf *out)
{
	char ep[64];
	size_t j;

	sb_printf(out, "%zu ready endpoint(s):", n);
	for (j = 0; j < n && j < 8; j++)
		sb_printf(out, " %s", ep_str(&eps[j], ep, sizeof(ep)));
	sb_printf(out, "%s", n > 8 ? " ..." : "");
}

static void trace_versions(const struct img_service *s, struct sbuf *out)
{
	size_t i;

	sb_printf(out, "backends (one chosen per connection, by weight):\n");
	for (i = 0; i < s->n_versions; i++) {
		const struct img_version *v = &s->versions[i];
		double share = s->total_weight ?
			100.0 * v->weight / s->total_weight : 0;

		sb_printf(out, "  %5.1f%%  %s/%s:%u  ", share, v->ns, v->name, v->port);
		if (v->unresolved || !v->n_eps)
			sb_printf(out, "%s: connection refused", v->unresolved ?
				  v->unresolved : "no ready endpoint");
		else
			trace_eps(v->eps, v->n_eps, out);
		sb_printf(out, "\n");
	}
	if (!s->total_weight)
		sb_printf(out, "  nothing to choose from: connections are refused "
			  "(ECONNREFUSED)\n");
}

static void trace_l4(struct daemon *d, const struct img_service *s,
		     struct sbuf *out)
{
	const struct ambit_svc_val *live = mapsync_find(&d->ms, &s->key);

	if (s->route)
		sb_printf(out, "route: %s/%s rule %zu wins (every rule matches "
			  "every request: the oldest route's first rule)\n",
			  s->route->ns, s->route->name, s->rule);
	else
		sb_printf(out, "route: none attached; plain Service balancing\n");
	sb_printf(out, "mode: L4: redirected at connect() by BPF, no proxy\n");
	trace_versions(s, out);
	if (live)
		sb_printf(out, "data plane: installed (service id %u, "
			  "generation %llu)\n", live->svc_id,
			  (unsigned long long)live->generation);
	else
		sb_printf(out, "data plane: NOT installed (apply pending?)\n");
}

/* ---- L7: routes and the winning match ----------------------------------- */

/* The entries l7_match() walks for @ns (consumers replace producers). */
static const struct l7_entries *trace_consumers(const struct l7_port *p,
						const char *ns,
						struct sbuf *out)
{
	size_t i;

	for (i = 0; ns && i < p->n_consumers; i++) {
		if (!strcmp(ns, p->consumers[i].ns)) {
			sb_printf(out, "consumer routes: yes: routes of namespace "
				  "%s attach to this port; for this client they "
				  "replace the producer routes of %s\n", ns,
				  p->svc->ns);
			return &p->consumers[i].entries;
		}
	}
	if (ns && !strcmp(ns, p->svc->ns))
		sb_printf(out, "consumer routes: none apply: the client is in "
			  "the Service's namespace; producer routes apply\n");
	else
		sb_printf(out, "consumer routes: none from namespace %s; the "
			  "producer routes of %s apply\n", ns ? ns : "(unknown)",
			  p->svc->ns);
	for (i = 0; i < p->n_consumers; i++)
		sb_printf(out, "%s%s%s", i ? ", " : "  (consumer routes exist "
			  "for clients in: ", p->consumers[i].ns,
			  i + 1 == p->n_consumers ? ")\n" : "");
	return &p->producer;
}

/* Each route once, in the order of its best entry. */
static void trace_route_names(const struct l7_entries *es, struct sbuf *out)
{
	size_t i, j, n = 0;

	sb_printf(out, "candidates: %zu match(es) in precedence order, from",
		  es->n);
	for (i = 0; i < es->n; i++) {
		const struct object *r = es->v[i].rule->route;

		for (j = 0; j < i && es->v[j].rule->route != r; j++)
			;
		if (j == i)
			sb_printf(out, "%s %s/%s", n++ ? "," : "", r->ns, r->name);
	}
	sb_printf(out, "%s\n", n ? "" : " no route");
}

static const char *path_type_name(uint8_t t)
{
	return t == PATH_EXACT ? "Exact" :
	       t == PATH_REGEX ? "RegularExpression" : "PathPrefix";
}

static void trace_kvs(const char *what, const struct kv_match *kv, size_t n,
		      struct sbuf *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sb_printf(out, "    %s %s %s \"%s\"\n", what, kv[i].name,
			  kv[i].type == MATCH_REGEX ? "matches" : "is",
			  kv[i].value);
}

/* The keys precedence sorts on (l7route.c), so the ranking is visible. */
static void trace_why(const struct route_match *m, struct sbuf *out)
{
	const char *v = m && m->path.value ? m->path.value : "/";
	uint8_t type = m ? m->path.type : PATH_PREFIX;
	size_t len = strlen(v);

	if (type == PATH_PREFIX && len > 1 && v[len - 1] == '/')
		len--; /* "/v2/" ranks as "/v2" */
	sb_printf(out, "  why: path %s %s", path_type_name(type), v);
	if (type != PATH_EXACT)
		sb_printf(out, " (length %zu)", len);
	if (m && m->method)
		sb_printf(out, ", method %s", m->method);
	if (m && m->n_headers)
		sb_printf(out, ", %zu header%s", m->n_headers,
			  m->n_headers == 1 ? "" : "s");
	if (m && m->n_query)
		sb_printf(out, ", %zu query param%s", m->n_query,
			  m->n_query == 1 ? "" : "s");
	sb_printf(out, "%s\n", m ? "" : " (the rule has no matches: "
		  "it takes every request)");
	if (m) {
		trace_kvs("header", m->headers, m->n_headers, out);
		trace_kvs("query param", m->query, m->n_query, out);
	}
}

static void trace_winner(const struct l7_entries *es, const struct l7_entry *e,
			 struct sbuf *out)
{
	const struct l7_rule *r = e->rule;
	size_t k = (size_t)(e - es->v);

	sb_printf(out, "match: %s/%s rule %zu", r->route->ns, r->route->name,
		  r->index);
	if (r->rule->name)
		sb_printf(out, " (%s)", r->rule->name);
	if (e->match)
		sb_printf(out, " match %zu", (size_t)(e->match - r->rule->matches));
	sb_printf(out, " wins: candidate %zu of %zu", k + 1, es->n);
	if (k)
		sb_printf(out, "; the %zu before it do not match", k);
	sb_printf(out, "\n");
	trace_why(e->match, out);
}

/* ---- L7: backends and filters ------------------------------------------- */

static void trace_backend(const struct l7_backend *b, uint32_t total,
			  bool picked, struct sbuf *out)
{
	double share = total ? 100.0 * b->weight / total : 0;

	sb_printf(out, "  %5.1f%%  %s/%s:%u weight %u  ", share, b->ns,
		  b->name, b->port, b->weight);
	if (!b->weight)
		sb_printf(out, "never chosen");
	else if (b->unresolved)
		sb_printf(out, "unresolved (%s): its share is answered 500",
			  b->unresolved);
	else if (!b->n_eps)
		sb_printf(out, "no ready endpoint: its share is answered 503");
	else
		trace_eps(b->eps, b->n_eps, out);
	if (b->n_filters)
		sb_printf(out, "  (+%zu backendRef filter(s))", b->n_filters);
	sb_printf(out, "%s\n", picked ? "  <- shown below" : "");
}

static void trace_backends(const struct l7_rule *r, const struct l7_backend *b,
			   struct sbuf *out)
{
	size_t i;

	if (!r->n_backends) {
		sb_printf(out, "backends: none in this rule\n");
		return;
	}
	sb_printf(out, "backends (one chosen per request, by weight):\n");
	for (i = 0; i < r->n_backends; i++)
		trace_backend(&r->backends[i], r->total_weight,
			      &r->backends[i] == b, out);
}

static void trace_hdr_ops(const char *side, const struct l7_hdr_op *ops,
			  size_t n, struct sbuf *out)
{
	static const char *const op_name[] = {
		[L7_HDR_SET] = "set", [L7_HDR_ADD] = "add",
		[L7_HDR_REMOVE] = "remove",
	};
	size_t i;

	for (i = 0; i < n; i++) {
		if (ops[i].op == L7_HDR_REMOVE)
			sb_printf(out, "  %s header remove %s\n", side, ops[i].name);
		else
			sb_printf(out, "  %s header %s %s: %s\n", side,
				  op_name[ops[i].op], ops[i].name, ops[i].value);
	}
}

static void trace_mirror(const struct mirror *mi, const struct l7_backend *t,
			 struct sbuf *out)
{
	sb_printf(out, "  mirror: a copy to %s/%s:%u", t->ns, t->name, t->port);
	if (mi->has_percent)
		sb_printf(out, " for %u%% of requests", mi->percent);
	else if (mi->has_fraction)
		sb_printf(out, " for %u/%u of requests", mi->frac_num,
			  mi->frac_den);
	if (t->unresolved)
		sb_printf(out, ": unresolved (%s), never sent\n", t->unresolved);
	else if (!t->n_eps)
		sb_printf(out, ": no ready endpoint, never sent\n");
	else
		sb_printf(out, ", its answer ignored: %zu endpoint(s)\n",
			  t->n_eps);
}

/* Mirrors of @f; *@k indexes r->mirrors, which holds the targets of the
 * rule's filters, then of every backendRef's (l7route.c), so it runs on
 * through the backendRefs whose mirrors are not shown. */
static void trace_mirror_list(const struct l7_rule *r, const struct filter *f,
			      size_t n, bool show, size_t *k, struct sbuf *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (f[i].type != FILTER_MIRROR)
			continue;
		if (show && *k < r->n_mirrors)
			trace_mirror(&f[i].mirror, &r->mirrors[*k], out);
		(*k)++;
	}
}

static void trace_mirrors(const struct l7_rule *r, const struct l7_backend *b,
			  struct sbuf *out)
{
	size_t i, k = 0;

	trace_mirror_list(r, r->rule->filters, r->rule->n_filters, true, &k,
			  out);
	for (i = 0; i < r->n_backends; i++)
		trace_mirror_list(r, r->backends[i].filters,
				  r->backends[i].n_filters, &r->backends[i] == b,
				  &k, out);
}

static void trace_filters(const struct l7_rule *r, const struct l7_backend *b,
			  const struct l7_actions *a,
			  const struct l7_request_view *v, struct sbuf *out)
{
	size_t nb = b ? b->n_filters : 0;

	if (!r->rule->n_filters && !nb) {
		sb_printf(out, "filters: none\n");
		return;
	}
	sb_printf(out, "filters (%zu of the rule, then %zu of the chosen "
		  "backendRef):\n", r->rule->n_filters, nb);
	trace_hdr_ops("request", a->req, a->n_req, out);
	trace_hdr_ops("response", a->resp, a->n_resp, out);
	if (a->redirect_status)
		sb_printf(out, "  redirect: %d, Location: %s\n",
			  a->redirect_status, a->location);
	if (a->path)
		sb_printf(out, "  rewrite path: %.*s -> %s\n", (int)v->path.len,
			  v->path.p, a->path);
	if (a->host)
		sb_printf(out, "  rewrite Host: %.*s -> %s\n", (int)v->host.len,
			  v->host.p, a->host);
	trace_mirrors(r, b, out);
}

/* ---- L7: what the backend sees ------------------------------------------ */

/* Is @tok an item of the comma-separated @list (blanks trimmed)? */
static bool list_has(struct str_view list, struct str_view tok)
{
	const char *p = list.p, *end = list.p + list.len;

	for (;;) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *e = c ? c : end;

		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - p) == tok.len && !strncasecmp(p, tok.p, tok.len))
			return true;
		if (!c)
			return false;
		p = c + 1;
	}
}

static bool connection_lists(const struct l7_request_view *v,
			     struct str_view name)
{
	size_t i;

	for (i = 0; i < v->n_headers; i++) {
		if (sv_ieq(v->headers[i].name, "connection") &&
		    list_has(v->headers[i].value, name))
			return true;
	}
	return false;
}

/* As proxy/render.c: hop-by-hop names, and those a Connection header
 * lists, never reach the backend (RFC 9110 7.6.1). */
static bool hop_by_hop(const struct l7_request_view *v, struct str_view name)
{
	static const char *const hop[] = { "connection", "keep-alive",
		"proxy-connection", "te", "trailer", "upgrade" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hop); i++) {
		if (sv_ieq(name, hop[i]))
			return true;
	}
	return connection_lists(v, name);
}

/* The proxy's upgrade test (HTTP/1.1 here): Connection lists "upgrade"
 * and an Upgrade header is there. */
static bool is_upgrade(const struct l7_request_view *v)
{
	size_t i;

	for (i = 0; i < v->n_headers; i++) {
		if (sv_ieq(v->headers[i].name, "upgrade"))
			return connection_lists(v, sv("upgrade"));
	}
	return false;
}

static void render_line(const struct l7_request_view *v, const char *path,
			struct sbuf *out)
{
	sb_printf(out, "  %.*s ", (int)v->method.len, v->method.p);
	if (path)
		sb_printf(out, "%s", path);
	else
		sb_printf(out, "%.*s", (int)v->path.len, v->path.p);
	if (v->query.len)
		sb_printf(out, "?%.*s", (int)v->query.len, v->query.p);
	sb_printf(out, " HTTP/1.1\n");
}

/* The head px_render_request() writes, one header a line, for display. */
static void render_request(const struct l7_request_view *v,
			   const struct l7_actions *a, struct sbuf *out)
{
	size_t i;

	render_line(v, a->path, out);
	for (i = 0; i < v->n_headers; i++) {
		const struct http_header *h = &v->headers[i];

		if (hop_by_hop(v, h->name) ||
		    !l7_hdr_kept(a->req, a->n_req, h->name))
			continue;
		if (a->host && sv_ieq(h->name, "host"))
			sb_printf(out, "  Host: %s\n", a->host);
		else
			sb_printf(out, "  %.*s: %.*s\n", (int)h->name.len,
				  h->name.p, (int)h->value.len, h->value.p);
	}
	for (i = 0; i < a->n_req; i++) {
		if (a->req[i].op != L7_HDR_REMOVE)
			sb_printf(out, "  %s: %s\n", a->req[i].name,
				  a->req[i].value);
	}
	if (is_upgrade(v))
		sb_printf(out, "  Connection: upgrade\n");
}

/* What ambit-proxy answers itself, or forwards, for the draw shown. */
static void trace_result(const struct l7_rule *r, const struct l7_backend *b,
			 const struct l7_actions *a,
			 const struct l7_request_view *v, struct sbuf *out)
{
	char ep[64];

	if (a->redirect_status) {
		sb_printf(out, "result: ambit-proxy answers %d with Location: %s; "
			  "no backend is contacted\n", a->redirect_status,
			  a->location);
	} else if (!b) {
		sb_printf(out, "result: %s: ambit-proxy answers 500\n",
			  r->n_backends ? "every backendRef has weight 0" :
			  "the rule has no backendRefs");
	} else if (b->unresolved) {
		sb_printf(out, "result: %s/%s:%u is unresolved (%s): ambit-proxy "
			  "answers 500\n", b->ns, b->name, b->port, b->unresolved);
	} else if (!b->n_eps) {
		sb_printf(out, "result: %s/%s:%u has no ready endpoint: "
			  "ambit-proxy answers 503\n", b->ns, b->name, b->port);
	} else {
		sb_printf(out, "what the backend would see (%s/%s:%u, endpoint "
			  "%s):\n", b->ns, b->name, b->port,
			  ep_str(&b->eps[ambit_pick_endpoint(TRACE_RND, b->n_eps)],
				 ep, sizeof(ep)));
		render_request(v, a, out);
	}
}

/* ---- L7: putting it together -------------------------------------------- */

/* The winning rule: backends, filter effects, then the outcome. */
static int trace_outcome(const struct l7_entry *e, const struct l7_port *p,
			 const struct l7_request_view *v, struct sbuf *out)
{
	struct l7_conn_info ci = { "http", ntohs(p->key.port) };
	const struct l7_backend *b = l7_pick_backend(e->rule, TRACE_RND);
	struct arena ar = {};
	struct l7_actions a;
	int err;

	trace_backends(e->rule, b, out);
	err = l7_actions(e, b, v, &ci, TRACE_RND, &ar, &a);
	if (err == -E2BIG)
		sb_printf(out, "result: the filters ask for more than %d header "
			  "changes or %d mirrors: ambit-proxy answers 500\n",
			  L7_MAX_OPS, L7_MAX_MIRRORS);
	if (!err) {
		trace_filters(e->rule, b, &a, v, out);
		trace_result(e->rule, b, &a, v, out);
	}
	arena_free(&ar);
	return err == -ENOMEM ? err : 0;
}

static void trace_client_request(const struct l7_request_view *v,
				 struct sbuf *out)
{
	size_t i;

	sb_printf(out, "request (as the client sends it):\n");
	render_line(v, NULL, out);
	for (i = 0; i < v->n_headers; i++)
		sb_printf(out, "  %.*s: %.*s\n", (int)v->headers[i].name.len,
			  v->headers[i].name.p, (int)v->headers[i].value.len,
			  v->headers[i].value.p);
}

/* One request through the proxy's engine, on a table built for it. */
static int trace_l7(struct daemon *d, const struct img_service *s,
		    const struct workload *w, const struct trace_req *rq,
		    struct sbuf *out, struct sbuf *err)
{
	const struct l7_entries *es;
	const struct l7_entry *e;
	const struct l7_port *p;
	struct l7_table t;
	const char *ns;
	int ret = 0;

	if (l7_build(&d->st.objs, &d->img, &t)) {
		sb_printf(err, "error: trace: out of memory\n");
		return 1;
	}
	p = l7_find_port(&t, &s->key);
	trace_client_request(&rq->v, out);
	ns = client_ns(d, w, out);
	if (p) {
		es = trace_consumers(p, ns, out);
		trace_route_names(es, out);
		e = l7_match(p, ns, &rq->v);
		if (e)
			trace_winner(es, e, out);
		if (e)
			ret = trace_outcome(e, p, &rq->v, out);
		else
			sb_printf(out, "match: none of the %zu candidates "
				  "matches: ambit-proxy answers 404\n", es->n);
	}
	l7_free(&t);
	if (ret)
		sb_printf(err, "error: trace: out of memory\n");
	return ret ? 1 : 0;
}

/* The port's mode; true when the proxy routes its requests. */
static bool trace_mode(struct daemon *d, const struct img_service *s,
		       struct sbuf *out)
{
	sb_printf(out, "service: %s/%s port %u\n", s->svc->ns, s->svc->name,
		  s->port->port);
	if (!s->l7) {
		trace_l4(d, s, out);
		return false;
	}
	if (!d->proxy_port) {
		sb_printf(out, "mode: L7 (%s): needs the proxy, which is not "
			  "available: connections go to the VIP unchanged\n",
			  s->l7_reason);
		return false;
	}
	sb_printf(out, "mode: L7 (%s): connect() goes to ambit-proxy on "
		  "loopback port %u, which routes each request\n",
		  s->l7_reason, d->proxy_port);
	return true;
}

int cmd_trace(struct daemon *d, struct request *rq, struct sbuf *out,
	      struct sbuf *err)
{
	const struct img_service *s;
	struct ambit_svc_key key;
	struct trace_opts o;
	struct trace_req req;
	struct workload w;
	char ks[80];

	if (parse_trace_opts(rq, &o, err))
		return 1;
	if (parse_addr_port(o.to, o.udp, &key)) {
		sb_printf(err, "error: trace: bad --to '%s' (ADDR:PORT or "
			  "[ADDR6]:PORT)\n", o.to);
		return 1;
	}
	/* Bad request options are an error even where they would not matter. */
	if (trace_request(&o, &req, err))
		return 1;
	sb_printf(out, "destination: %s\n", svc_key_str(&key, ks, sizeof(ks)));
	if (!trace_workload(d, &o, &w, out))
		return 0;
	s = image_find(&d->img, &key);
	if (!s) {
		sb_printf(out, "service: none at this address: the connection "
			  "is not touched\n");
		return 0;
	}
	if (trace_mode(d, s, out))
		return trace_l7(d, s, &w, &req, out, err);
	if (o.l7 && !s->l7)
		sb_printf(out, "note: --method, --path, --header and --host do "
			  "not matter here: an L4 port is routed per connection\n");
	return 0;
}
