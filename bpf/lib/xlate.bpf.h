/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service translation: VIP:port -> one endpoint, chosen by weight. Shared by
 * the connect and sendmsg programs of both families.
 */
#ifndef AMBIT_XLATE_BPF_H
#define AMBIT_XLATE_BPF_H

#include "maps.bpf.h"
#include "ambit/select.h"

#define AMBIT_ECONNREFUSED 111
#define AMBIT_ENOENT 2

#ifdef AMBIT_DEBUG
#define dbg(fmt, ...) bpf_printk(fmt, ##__VA_ARGS__)
#else
#define dbg(fmt, ...) do { } while (0)
#endif

/* Is the calling workload in the mesh? By its netns or its own cgroup. */
static __always_inline bool ambit_enrolled(void *ctx)
{
	struct ambit_enroll_key k = {};

	k.id = bpf_get_netns_cookie(ctx);
	k.kind = AMBIT_ENROLL_NETNS;
	if (bpf_map_lookup_elem(&ambit_enroll, &k))
		return true;
	k.id = bpf_get_current_cgroup_id();
	k.kind = AMBIT_ENROLL_CGROUP;
	return bpf_map_lookup_elem(&ambit_enroll, &k) != NULL;
}

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
	if (what == 0)
		v->connects++;
	else if (what == 1)
		v->no_endpoint++;
	else
		v->l7_passed++;
}

/* Results of ambit_xlate() besides 0 (rewritten). */
#define XLATE_PASS 1 /* not ours or L7: leave the socket alone */

/*
 * Choose an endpoint for @key. Returns 0 with @ep filled, XLATE_PASS, or
 * -AMBIT_ECONNREFUSED when the service has nothing to connect to (the
 * caller must fail the call instead of letting it reach the VIP).
 */
static __always_inline int ambit_xlate(const struct ambit_svc_key *key,
				       struct ambit_ep_val *ep)
{
	struct ambit_svc_val *svc;
	struct ambit_ep_key ek = {};
	struct ambit_ep_val *found;
	int vi;

	svc = bpf_map_lookup_elem(&ambit_services, key);
	if (!svc)
		return XLATE_PASS;
	if (svc->flags & AMBIT_SVC_L7) {
		ambit_count(svc->svc_id, AMBIT_STATS_SERVICE, 2);
		return XLATE_PASS;
	}
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
	ambit_count(svc->svc_id, svc->versions[vi].backend_id, 0);
	return 0;
refuse_version:
	ambit_count(svc->svc_id, svc->versions[vi].backend_id, 1);
	return -AMBIT_ECONNREFUSED;
refuse:
	ambit_count(svc->svc_id, AMBIT_STATS_SERVICE, 1);
	return -AMBIT_ECONNREFUSED;
}

/* Remember the VIP on the socket so getpeername can give it back. */
static __always_inline void ambit_remember(struct bpf_sock *sk,
					   const struct ambit_svc_key *key,
					   const struct ambit_ep_val *ep)
{
	struct ambit_orig_dst *o;

	if (!sk)
		return;
	o = bpf_sk_storage_get(&ambit_orig_dst, sk, NULL,
			       BPF_SK_STORAGE_GET_F_CREATE);
	if (!o)
		return;
	__builtin_memcpy(o->addr, key->addr, sizeof(o->addr));
	__builtin_memcpy(o->backend, ep->addr, sizeof(o->backend));
	o->port = key->port;
	o->backend_port = ep->port;
	o->family = key->family;
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
