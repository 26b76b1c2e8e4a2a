// SPDX-License-Identifier: Apache-2.0
/* v1 Service, discovery.k8s.io/v1 EndpointSlice, ambit.io Enrollment. */
#include "load_priv.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define SVC_MAX_IPS 3       /* clusterIP + clusterIPs (at most 2) */
/* Kubernetes sets no limit; this one bounds the quadratic unique checks. */
#define SVC_MAX_PORTS 1024
#define EPS_MAX_ENDPOINTS 1000
#define EPS_MAX_ADDRS 100
#define EPS_MAX_PORTS 100
#define SVC_LABEL "kubernetes.io/service-name"

static const char *const protocols[] = { "TCP", "UDP", "SCTP", NULL };

/*
 * "protocol": TCP (default) or UDP. SCTP is valid Kubernetes but nothing
 * ambit can redirect.
 */
static uint8_t load_proto(struct lctx *c, const struct yt_node *map,
			  const char *path)
{
	char p[FP_MAX];
	int i;

	if (lenum(c, map, "protocol", path, L_OPT, protocols, &i) != 1)
		return IPPROTO_TCP;
	if (i == 2) {
		fp_key(p, path, "protocol");
		lerr(c, lget_quiet(map, "protocol"), p,
		     "SCTP is not supported (only TCP and UDP)");
	}
	return i == 1 ? IPPROTO_UDP : IPPROTO_TCP;
}

/* ---- Service ------------------------------------------------------------ */

static void svc_add_ip(struct lctx *c, const struct yt_node *n,
		       const char *path, struct service *s)
{
	struct ip_addr ip;
	size_t i;

	if (n->type == YT_SCALAR && !strcmp(n->str, "None")) {
		s->headless = true;
		return;
	}
	if (n->type == YT_SCALAR && !n->n)
		return; /* "": no address yet */
	if (lip(c, n, path, 0, &ip) < 0)
		return;
	for (i = 0; i < s->n_ips; i++) {
		if (!memcmp(&s->ips[i], &ip, sizeof(ip)))
			return;
	}
	s->ips[s->n_ips++] = ip;
}

static void svc_ips(struct lctx *c, const struct yt_node *spec,
		    struct service *s)
{
	const struct yt_node *ip = lget(c, spec, "clusterIP", "spec", L_OPT);
	const struct yt_node *ips = lget(c, spec, "clusterIPs", "spec", L_OPT);
	const struct yt_node *it;
	char p[FP_MAX];
	size_t i = 0;

	s->ips = lalloc(c, SVC_MAX_IPS, sizeof(*s->ips));
	if (!s->ips)
		return;
	if (ip)
		svc_add_ip(c, ip, "spec.clusterIP", s);
	if (ips && lis_seq(c, ips, "spec.clusterIPs", 2)) {
		for (it = ips->first; it; it = it->next, i++) {
			fp_idx(p, "spec.clusterIPs", i);
			svc_add_ip(c, it, p, s);
		}
	}
	if (s->headless && s->n_ips)
		lerr(c, ip ? ip : ips, ip ? "spec.clusterIP" : "spec.clusterIPs",
		     "\"None\" (headless) cannot be combined with addresses");
}

/* targetPort: a number, a named container port, or absent (= port). */
static void svc_target(struct lctx *c, const struct yt_node *pm,
		       const char *path, struct svc_port *sp)
{
	const struct yt_node *t = lget(c, pm, "targetPort", path, L_OPT);
	char p[FP_MAX];
	int64_t v;

	sp->target_port = sp->port;
	if (!t)
		return;
	if (lint_node(t, &v)) {
		if (lport(c, pm, "targetPort", path, L_OPT, &sp->target_port) <
		    0)
			sp->target_port = sp->port;
		return;
	}
	fp_key(p, path, "targetPort");
	sp->target_name = lstr_node(c, t, p, chk_port_name);
}

static void svc_port(struct lctx *c, const struct yt_node *pm,
		     const char *path, struct svc_port *sp)
{
	sp->pos = lpos(c, pm);
	sp->proto = IPPROTO_TCP;
	if (!lis_map(c, pm, path))
		return;
	sp->name = lstr(c, pm, "name", path, L_OPT, chk_dns_label);
	lport(c, pm, "port", path, L_REQ, &sp->port);
	svc_target(c, pm, path, sp);
	sp->proto = load_proto(c, pm, path);
	sp->app_protocol = lstr(c, pm, "appProtocol", path, L_OPT, NULL);
}

/* Kubernetes rules: names required and unique with several ports, and no
 * two entries with the same port and protocol. */
static void svc_port_unique(struct lctx *c, const struct yt_node *pm,
			    const char *path, const struct service *s,
			    size_t i)
{
	const struct svc_port *sp = &s->ports[i];
	char p[FP_MAX];
	size_t j;

	fp_key(p, path, "name");
	if (s->n_ports > 1 && !sp->name && !lget_quiet(pm, "name"))
		lerr(c, pm, p, "is required when the Service has several ports");
	for (j = 0; j < i; j++) {
		const struct svc_port *o = &s->ports[j];

		if (sp->name && o->name && !strcmp(sp->name, o->name))
			lerr(c, lget_quiet(pm, "name"), p,
			     "duplicate port name \"%s\" (spec.ports[%zu])",
			     sp->name, j);
		if (sp->port && sp->port == o->port && sp->proto == o->proto)
			lerr(c, pm, path,
			     "duplicate port %u/%s (spec.ports[%zu])",
			     sp->port, sp->proto == IPPROTO_UDP ? "UDP" : "TCP",
			     j);
	}
}

static void svc_ports(struct lctx *c, const struct yt_node *spec,
		      struct service *s)
{
	const struct yt_node *ports = lget(c, spec, "ports", "spec", L_OPT);
	const struct yt_node *it;
	char p[FP_MAX];
	size_t i = 0;

	if (!ports || !lis_seq(c, ports, "spec.ports", SVC_MAX_PORTS) ||
	    !ports->n)
		return;
	s->ports = lalloc(c, ports->n, sizeof(*s->ports));
	if (!s->ports)
		return;
	s->n_ports = ports->n;
	for (it = ports->first; it; it = it->next, i++) {
		fp_idx(p, "spec.ports", i);
		svc_port(c, it, p, &s->ports[i]);
		if (it->type == YT_MAP)
			svc_port_unique(c, it, p, s, i);
	}
}

void load_service(struct lctx *c, const struct yt_node *root)
{
	const struct yt_node *spec = lget(c, root, "spec", "", L_OPT);

	if (!spec || !lis_map(c, spec, "spec"))
		return;
	svc_ips(c, spec, &c->o->svc);
	svc_ports(c, spec, &c->o->svc);
}

/* ---- EndpointSlice ------------------------------------------------------ */

static void eps_addrs(struct lctx *c, const struct yt_node *em,
		      const char *path, int family, struct endpoint *ep)
{
	const struct yt_node *a = lget(c, em, "addresses", path, L_REQ);
	const struct yt_node *it;
	char p[FP_MAX], ip[FP_MAX];
	size_t i = 0;

	fp_key(p, path, "addresses");
	if (!a || !lis_seq(c, a, p, EPS_MAX_ADDRS))
		return;
	if (!a->n) {
		lerr(c, a, p, "must have at least one address");
		return;
	}
	ep->addrs = lalloc(c, a->n, sizeof(*ep->addrs));
	if (!ep->addrs)
		return;
	ep->n_addrs = a->n;
	for (it = a->first; it; it = it->next, i++) {
		fp_idx(ip, p, i);
		lip(c, it, ip, family, &ep->addrs[i]);
	}
}

static void eps_endpoint(struct lctx *c, const struct yt_node *em,
			 const char *path, int family, struct endpoint *ep)
{
	const struct yt_node *cond, *ref;
	char p[FP_MAX];

	ep->pos = lpos(c, em);
	ep->ready = true; /* Kubernetes: unknown readiness counts as ready */
	if (!lis_map(c, em, path))
		return;
	eps_addrs(c, em, path, family, ep);
	cond = lget(c, em, "conditions", path, L_OPT);
	fp_key(p, path, "conditions");
	if (cond && lis_map(c, cond, p))
		lbool(c, cond, "ready", p, &ep->ready);
	ep->hostname = lstr(c, em, "hostname", path, L_OPT, chk_dns_label);
	ref = lget(c, em, "targetRef", path, L_OPT);
	fp_key(p, path, "targetRef");
	if (ref && lis_map(c, ref, p))
		ep->target_name = lstr(c, ref, "name", p, L_OPT, NULL);
}

static void eps_endpoints(struct lctx *c, const struct yt_node *root,
			  struct endpoint_slice *e)
{
	const struct yt_node *eps = lget(c, root, "endpoints", "", L_OPT);
	const struct yt_node *it;
	char p[FP_MAX];
	size_t i = 0;

	if (!eps || !lis_seq(c, eps, "endpoints", EPS_MAX_ENDPOINTS) ||
	    !eps->n)
		return;
	e->eps = lalloc(c, eps->n, sizeof(*e->eps));
	if (!e->eps)
		return;
	e->n_eps = eps->n;
	for (it = eps->first; it; it = it->next, i++) {
		fp_idx(p, "endpoints", i);
		eps_endpoint(c, it, p, e->family, &e->eps[i]);
	}
}

static void eps_port(struct lctx *c, const struct yt_node *pm,
		     const char *path, struct ep_port *ep)
{
	const struct yt_node *name;
	char p[FP_MAX];

	ep->proto = IPPROTO_TCP;
	if (!lis_map(c, pm, path))
		return;
	/* "" is how an unnamed port is spelt; it matches an unnamed one. */
	name = lget(c, pm, "name", path, L_OPT);
	fp_key(p, path, "name");
	if (name && name->n)
		ep->name = lstr_node(c, name, p, chk_dns_label);
	lport(c, pm, "port", path, L_REQ, &ep->port);
	ep->proto = load_proto(c, pm, path);
}

static void eps_ports(struct lctx *c, const struct yt_node *root,
		      struct endpoint_slice *e)
{
	const struct yt_node *ports = lget(c, root, "ports", "", L_OPT);
	const struct yt_node *it;
	char p[FP_MAX];
	size_t i = 0;

	if (!ports || !lis_seq(c, ports, "ports", EPS_MAX_PORTS) || !ports->n)
		return;
	e->ports = lalloc(c, ports->n, sizeof(*e->ports));
	if (!e->ports)
		return;
	e->n_ports = ports->n;
	for (it = ports->first; it; it = it->next, i++) {
		fp_idx(p, "ports", i);
		eps_port(c, it, p, &e->ports[i]);
	}
}

static void eps_service(struct lctx *c, const struct yt_node *root,
			struct endpoint_slice *e)
{
	const struct yt_node *meta = lget_quiet(root, "metadata");
	const struct yt_node *labels = lget_quiet(meta, "labels");
	char p[FP_MAX];

	if (!meta || meta->type != YT_MAP)
		return; /* reported with the metadata */
	if (labels && labels->type == YT_MAP)
		e->service = lstr(c, labels, SVC_LABEL, "metadata.labels",
				  L_REQ, chk_dns_subdomain);
	else if (!labels) {
		fp_key(p, "metadata.labels", SVC_LABEL);
		lerr(c, meta, p, "is required");
	}
}

void load_endpoint_slice(struct lctx *c, const struct yt_node *root)
{
	static const char *const types[] = { "IPv4", "IPv6", "FQDN", NULL };
	struct endpoint_slice *e = &c->o->eps;
	int t;

	eps_service(c, root, e);
	if (lenum(c, root, "addressType", "", L_REQ, types, &t) != 1)
		return;
	if (t == 2) {
		lerr(c, lget_quiet(root, "addressType"), "addressType",
		     "FQDN EndpointSlices are not supported (only IPv4 and "
		     "IPv6)");
		return;
	}
	e->family = t ? AF_INET6 : AF_INET;
	eps_endpoints(c, root, e);
	eps_ports(c, root, e);
}

/* ---- Enrollment --------------------------------------------------------- */

static const char *chk_file_path(const char *s, size_t n)
{
	if (!n || s[0] != '/' || n >= 4096)
		return "must be an absolute path (at most 4095 characters)";
	return NULL;
}

void load_enrollment(struct lctx *c, const struct yt_node *root)
{
	const struct yt_node *spec = lget(c, root, "spec", "", L_REQ);
	struct enrollment *e = &c->o->enr;
	const struct yt_node *pod;

	if (!spec || !lis_map(c, spec, "spec"))
		return;
	e->cgroup_path = lstr(c, spec, "cgroup", "spec", L_OPT, chk_file_path);
	e->netns_path = lstr(c, spec, "netns", "spec", L_OPT, chk_file_path);
	if (!lget_quiet(spec, "cgroup") == !lget_quiet(spec, "netns"))
		lerr(c, spec, "spec",
		     "exactly one of cgroup and netns must be set");
	pod = lget(c, spec, "pod", "spec", L_OPT);
	if (!pod || !lis_map(c, pod, "spec.pod"))
		return;
	e->pod_ns = lstr(c, pod, "namespace", "spec.pod", L_OPT,
			 chk_dns_subdomain);
	e->pod_name = lstr(c, pod, "name", "spec.pod", L_OPT,
			   chk_dns_subdomain);
}
