// SPDX-License-Identifier: Apache-2.0
/* ambit trace / describe / stats: explain what the data plane does. */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

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
};

static int parse_trace_opts(struct request *rq, struct trace_opts *o,
			    struct sbuf *err)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "netns", required_argument, NULL, 'n' },
		{ "to", required_argument, NULL, 't' },
		{ "udp", no_argument, NULL, 'u' },
		{},
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(rq->argc, rq->argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o->cgroup = optarg; break;
		case 'n': o->netns = optarg; break;
		case 't': o->to = optarg; break;
		case 'u': o->udp = true; break;
		default:
			sb_printf(err, "error: trace: unknown option '%s'\n",
				  rq->argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (!o->to || (!o->cgroup == !o->netns)) {
		sb_printf(err, "error: trace: need --to ADDR:PORT and one of "
			  "--cgroup PATH or --netns PATH\n");
		return -EINVAL;
	}
	return 0;
}

/* Is the workload enrolled, according to the live map? */
static bool trace_workload(struct daemon *d, const struct trace_opts *o,
			   struct sbuf *out)
{
	struct ambit_enroll_key k = {};
	struct ambit_enroll_val v;
	const char *path = o->cgroup ? o->cgroup : o->netns;
	int err = 0;

	k.kind = o->cgroup ? AMBIT_ENROLL_CGROUP : AMBIT_ENROLL_NETNS;
	if (o->cgroup)
		k.id = cgroup_id_of(path), err = k.id ? 0 : -errno;
	else
		err = netns_cookie_of(path, &k.id);
	if (err) {
		sb_printf(out, "workload: %s %s: %s\n", o->cgroup ? "cgroup" : "netns",
			  path, strerror(-err));
		return false;
	}
	if (bpf_map_lookup_elem(d->dp.enroll_fd, &k, &v)) {
		sb_printf(out, "workload: %s %s (id %llu) is not enrolled: its "
			  "connections are never touched\n",
			  o->cgroup ? "cgroup" : "netns", path,
			  (unsigned long long)k.id);
		return false;
	}
	sb_printf(out, "workload: %s %s (id %llu) is enrolled (%s/%s)\n",
		  o->cgroup ? "cgroup" : "netns", path, (unsigned long long)k.id,
		  v.workload_id < d->en.n ? d->en.v[v.workload_id].obj->ns : "?",
		  v.workload_id < d->en.n ? d->en.v[v.workload_id].obj->name : "?");
	return true;
}

static void trace_versions(const struct img_service *s, struct sbuf *out)
{
	char ep[64];
	size_t i, j;

	sb_printf(out, "backends (one chosen per connection, by weight):\n");
	for (i = 0; i < s->n_versions; i++) {
		const struct img_version *v = &s->versions[i];
		double share = s->total_weight ?
			100.0 * v->weight / s->total_weight : 0;

		sb_printf(out, "  %5.1f%%  %s/%s:%u  ", share, v->ns, v->name, v->port);
		if (v->unresolved || !v->n_eps) {
			sb_printf(out, "%s: connection refused\n", v->unresolved ?
				  v->unresolved : "no ready endpoint");
			continue;
		}
		sb_printf(out, "%zu ready endpoint(s):", v->n_eps);
		for (j = 0; j < v->n_eps && j < 8; j++)
			sb_printf(out, " %s", ep_str(&v->eps[j], ep, sizeof(ep)));
		sb_printf(out, "%s\n", v->n_eps > 8 ? " ..." : "");
	}
	if (!s->total_weight)
		sb_printf(out, "  nothing to choose from: connections are refused "
			  "(ECONNREFUSED)\n");
}

static void trace_service(struct daemon *d, const struct img_service *s,
			  struct sbuf *out)
{
	const struct ambit_svc_val *live = mapsync_find(&d->ms, &s->key);

	sb_printf(out, "service: %s/%s port %u\n", s->svc->ns, s->svc->name,
		  s->port->port);
	if (s->route)
		sb_printf(out, "route: %s/%s rule %zu wins (every rule matches "
			  "every request: the oldest route's first rule)\n",
			  s->route->ns, s->route->name, s->rule);
	else
		sb_printf(out, "route: none attached; plain Service balancing\n");
	if (s->l7 && !d->proxy_port) {
		sb_printf(out, "mode: L7 (%s): needs the proxy, which is not "
			  "available: connections go to the VIP unchanged\n",
			  s->l7_reason);
		return;
	}
	if (s->l7) {
		sb_printf(out, "mode: L7 (%s): connect() goes to ambit-proxy on "
			  "loopback port %u, which routes each request\n",
			  s->l7_reason, d->proxy_port);
		return;
	}
	sb_printf(out, "mode: L4: redirected at connect() by BPF, no proxy\n");
	trace_versions(s, out);
	if (live)
		sb_printf(out, "data plane: installed (service id %u, "
			  "generation %llu)\n", live->svc_id,
			  (unsigned long long)live->generation);
	else
		sb_printf(out, "data plane: NOT installed (apply pending?)\n");
}

int cmd_trace(struct daemon *d, struct request *rq, struct sbuf *out,
	      struct sbuf *err)
{
	const struct img_service *s;
	struct ambit_svc_key key;
	struct trace_opts o;
	char ks[80];

	if (parse_trace_opts(rq, &o, err))
		return 1;
	if (parse_addr_port(o.to, o.udp, &key)) {
		sb_printf(err, "error: trace: bad --to '%s' (ADDR:PORT or "
			  "[ADDR6]:PORT)\n", o.to);
		return 1;
	}
	sb_printf(out, "destination: %s\n", svc_key_str(&key, ks, sizeof(ks)));
	if (!trace_workload(d, &o, out))
		return 0;
	s = image_find(&d->img, &key);
	if (!s) {
		sb_printf(out, "service: none at this address: the connection "
			  "is not touched\n");
		return 0;
	}
	trace_service(d, s, out);
	return 0;
}
