/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service translation: VIP:port -> one endpoint, chosen by weight. Shared by
 * the connect and sendmsg programs of both families.
 */
#ifndef AMBIT_XLATE_BPF_H
#define AMBIT_XLATE_BPF_H

#include "maps.bpf.h"
#include <bpf/bpf_endian.h>
#include "ambit/select.h"

#define AMBIT_ECONNREFUSED 111
#define AMBIT_ENOENT 2

#ifdef AMBIT_DEBUG
#define dbg(fmt, ...) bpf_printk(fmt, ##__VA_ARGS__)
#else
#define dbg(fmt, ...) do { } while (0)
#endif

/* Is the calling workload in the mesh? By its netns or its own cgroup;
 * @who says which, for the proxy to know the client. */
static __always_inline bool ambit_enrolled(void *ctx, struct ambit_enroll_key *who)
{
	who->id = bpf_get_netns_cookie(ctx);
	who->kind = AMBIT_ENROLL_NETNS;
	if (bpf_map_lookup_elem(&ambit_enroll, who))
		return true;
	who->id = bpf_get_current_cgroup_id();
	who->kind = AMBIT_ENROLL_CGROUP;
	return bpf_map_lookup_elem(&ambit_enroll, who) != NULL;
}

static __always_inline struct ambit_config *ambit_cfg(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ambit_config, &zero);
}

enum { COUNT_CONNECT, COUNT_NO_ENDPOINT, COUNT_TO_PROXY, COUNT_NO_PROXY };

static __always_inline void ambit_count(__u32 svc_id, __u32 backend_id,
					int what)
{
	struct ambit_stats_key k = { .svc_id = svc_id, .backend_id = backend_id };
	struct ambit_stats_val *v, zero = {};

	v = bpf_map_lookup_elem(&ambit_stats, &k);
	if (!v) {
		bpf_map_update_elem(&ambit_stats, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&ambit_stats, &k);
		if (!v)
			return;
	}
	/* Per-CPU value: plain increments are safe. */
	if (what == COUNT_CONNECT)
		v->connects++;
	else if (what == COUNT_NO_ENDPOINT)
		v->no_endpoint++;
	else if (what == COUNT_TO_PROXY)
		v->to_proxy++;
	else
		v->no_proxy++;
}

/*
 * Count a connection sent to endpoint @ep for service port @svc_id: one
 * more hash lookup on the connect path, O(1); the entry is made on first
 * use (the map is not preallocated).
 */
static __always_inline void ambit_count_ep(__u32 svc_id,
					   const struct ambit_ep_val *ep)
{
	struct ambit_ep_stats_key k = {};
	struct ambit_ep_stats_val *v, zero = {};

	__builtin_memcpy(k.addr, ep->addr, sizeof(k.addr));
	k.port = ep->port;
	k.family = ep->family;
	k.svc_id = svc_id;
	v = bpf_map_lookup_elem(&ambit_ep_stats, &k);
	if (!v) {
		bpf_map_update_elem(&ambit_ep_stats, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&ambit_ep_stats, &k);
		if (!v)
			return;
	}
	v->connects++; /* per-CPU, and only process context writes it */
}

/* Results of ambit_xlate() besides 0 (rewritten to an endpoint). */
#define XLATE_PASS 1  /* not ours, or L7 without a proxy: leave it alone */
#define XLATE_PROXY 2 /* L7: rewritten to the proxy's loopback listener */

/* The proxy listens on loopback of the client's own namespace. */
static __always_inline int ambit_to_proxy(const struct ambit_svc_key *key,
					  const struct ambit_svc_val *svc,
					  struct ambit_ep_val *ep)
{
	struct ambit_config *cfg = ambit_cfg();

	if (!cfg || !cfg->proxy_port) {
		ambit_count(svc->svc_id, AMBIT_STATS_SERVICE, COUNT_NO_PROXY);
		return XLATE_PASS;
	}
	__builtin_memset(ep, 0, sizeof(*ep));
	ep->family = key->family;
	if (key->family == AMBIT_FAMILY_V4)
		ep->addr[0] = bpf_htonl(0x7f000001);  /* 127.0.0.1 */
	else
		ep->addr[3] = bpf_htonl(1);           /* ::1 */
	ep->port = cfg->proxy_port;
	ambit_count(svc->svc_id, AMBIT_STATS_SERVICE, COUNT_TO_PROXY);
	ambit_count_ep(svc->svc_id, ep);
	return XLATE_PROXY;
}

/*
 * Choose an endpoint for @key. Returns 0 with @ep (and @svc_id, the
 * service port's counter id) filled, XLATE_PASS, or -AMBIT_ECONNREFUSED
 * when the service has nothing to connect to (the caller must fail the
 * call instead of letting it reach the VIP).
 */
static __always_inline int ambit_xlate(const struct ambit_svc_key *key,
				       struct ambit_ep_val *ep, __u32 *svc_id)
{
	struct ambit_svc_val *svc;
	struct ambit_ep_key ek = {};
	struct ambit_ep_val *found;
	int vi;

	svc = bpf_map_lookup_elem(&ambit_services, key);
	if (!svc)
		return XLATE_PASS;
	*svc_id = svc->svc_id;
	if (svc->flags & AMBIT_SVC_L7)
		return ambit_to_proxy(key, svc, ep);
	vi = ambit_pick_version(svc, bpf_get_prandom_u32());
	if (vi < 0 || vi >= AMBIT_MAX_VERSIONS)
		goto refuse;
	ek.set_id = svc->versions[vi].set_id;
	if (!ek.set_id || !svc->versions[vi].n_endpoints)
		goto refuse_version;
	ek.index = ambit_pick_endpoint(bpf_get_prandom_u32(),
				       svc->versions[vi].n_endpoints);
	found = bpf_map_lookup_elem(&ambit_endpoints, &ek);
	if (!found)
		goto refuse_version;
	*ep = *found;
	ambit_count(svc->svc_id, svc->versions[vi].backend_id, COUNT_CONNECT);
	ambit_count_ep(svc->svc_id, ep);
	return 0;
refuse_version:
	ambit_count(svc->svc_id, svc->versions[vi].backend_id, COUNT_NO_ENDPOINT);
	return -AMBIT_ECONNREFUSED;
refuse:
	ambit_count(svc->svc_id, AMBIT_STATS_SERVICE, COUNT_NO_ENDPOINT);
	return -AMBIT_ECONNREFUSED;
}

static __always_inline void ambit_orig_fill(struct ambit_orig_dst *o,
					    const struct ambit_svc_key *key,
					    const struct ambit_ep_val *ep,
					    const struct ambit_enroll_key *who,
					    __u32 svc_id, __u8 flags)
{
	__builtin_memcpy(o->addr, key->addr, sizeof(o->addr));
	__builtin_memcpy(o->backend, ep->addr, sizeof(o->backend));
	o->port = key->port;
	o->backend_port = ep->port;
	o->family = key->family;
	o->flags = flags;
	o->enroll_id = who->id;
	o->enroll_kind = who->kind;
	o->svc_id = svc_id;
}

/*
 * Remember the VIP so getpeername can give it back (and, for L7, so sockops
 * can tell the proxy who dialed what): TCP in ambit_peers by cookie,
 * connected UDP in the socket's own storage.
 */
static __always_inline void ambit_remember(void *ctx, struct bpf_sock *sk,
					   const struct ambit_svc_key *key,
					   const struct ambit_ep_val *ep,
					   const struct ambit_enroll_key *who,
					   __u32 svc_id, __u8 flags)
{
	struct ambit_orig_dst *o, v = {};
	__u64 cookie;

	if (key->proto == IPPROTO_TCP) {
		ambit_orig_fill(&v, key, ep, who, svc_id, flags);
		cookie = bpf_get_socket_cookie(ctx);
		bpf_map_update_elem(&ambit_peers, &cookie, &v, BPF_ANY);
		return;
	}
	if (!sk)
		return;
	o = bpf_sk_storage_get(&ambit_orig_dst, sk, NULL,
			       BPF_SK_STORAGE_GET_F_CREATE);
	if (o)
		ambit_orig_fill(o, key, ep, who, svc_id, flags);
}

/* The proxy's own sockets carry its mark and are never redirected, even
 * if it were started inside the attached cgroup subtree by mistake. */
static __always_inline bool ambit_is_proxy(struct bpf_sock *sk)
{
	struct ambit_config *cfg = ambit_cfg();

	return sk && cfg && cfg->proxy_mark && sk->mark == cfg->proxy_mark;
}

/* Remember (socket, endpoint) -> VIP so UDP replies show the VIP. */
static __always_inline void ambit_remember_udp(__u64 cookie,
					       const struct ambit_svc_key *key,
					       const struct ambit_ep_val *ep)
{
	struct ambit_rnat_key rk = {};
	struct ambit_rnat_val rv = {};

	rk.sock_cookie = cookie;
	__builtin_memcpy(rk.addr, ep->addr, sizeof(rk.addr));
	rk.port = ep->port;
	rk.family = ep->family;
	__builtin_memcpy(rv.addr, key->addr, sizeof(rv.addr));
	rv.port = key->port;
	rv.family = key->family;
	bpf_map_update_elem(&ambit_udp_rnat, &rk, &rv, BPF_ANY);
}

#endif
