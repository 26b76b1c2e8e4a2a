// SPDX-License-Identifier: Apache-2.0
/*
 * v1 Pod and v1 Namespace: what enrollment by labels needs. The labels
 * themselves are metadata (load.c); a Pod adds its addresses, to find its
 * network namespace, and whether it shares the node's (hostNetwork).
 */
#include "load_priv.h"

#include <string.h>
#include <sys/socket.h>

#define POD_MAX_IPS 8 /* status.podIPs: one per family in practice */

static void pod_add_ip(struct lctx *c, const struct yt_node *n,
		       const char *path, struct pod_obj *p)
{
	struct ip_addr ip;
	size_t i;

	if (n->type == YT_SCALAR && !n->n)
		return; /* "": not assigned yet */
	if (lip(c, n, path, 0, &ip) < 0)
		return;
	for (i = 0; i < p->n_ips; i++) {
		if (!memcmp(&p->ips[i], &ip, sizeof(ip)))
			return;
	}
	if (p->n_ips < POD_MAX_IPS)
		p->ips[p->n_ips++] = ip;
}

/* status.podIPs: [{ip: ADDR}, ...]; status.podIP: the first of them. */
static void pod_ips(struct lctx *c, const struct yt_node *status, struct pod_obj *p)
{
	const struct yt_node *one = lget(c, status, "podIP", "status", L_OPT);
	const struct yt_node *ips = lget(c, status, "podIPs", "status", L_OPT);
	const struct yt_node *it, *ip;
	char path[FP_MAX], ipath[FP_MAX];
	size_t i = 0;

	p->ips = lalloc(c, POD_MAX_IPS, sizeof(*p->ips));
	if (!p->ips)
		return;
	if (one)
		pod_add_ip(c, one, "status.podIP", p);
	if (!ips || !lis_seq(c, ips, "status.podIPs", POD_MAX_IPS))
		return;
	for (it = ips->first; it; it = it->next, i++) {
		fp_idx(path, "status.podIPs", i);
		if (!lis_map(c, it, path))
			continue;
		ip = lget(c, it, "ip", path, L_REQ);
		fp_key(ipath, path, "ip");
		if (ip)
			pod_add_ip(c, ip, ipath, p);
	}
}

void load_pod(struct lctx *c, const struct yt_node *root)
{
	const struct yt_node *spec = lget(c, root, "spec", "", L_OPT);
	const struct yt_node *status = lget(c, root, "status", "", L_OPT);
	struct pod_obj *p = &c->o->pod;

	if (spec && lis_map(c, spec, "spec")) {
		lbool(c, spec, "hostNetwork", "spec", &p->host_network);
		p->node = lstr(c, spec, "nodeName", "spec", L_OPT, NULL);
	}
	if (status && lis_map(c, status, "status")) {
		p->phase = lstr(c, status, "phase", "status", L_OPT, NULL);
		pod_ips(c, status, p);
	}
}

void load_namespace(struct lctx *c, const struct yt_node *root)
{
}
