// SPDX-License-Identifier: Apache-2.0
/*
 * sockops: tell the proxy what a connection it accepts was meant for.
 *
 * connect4/6 redirected a socket and left the VIP in ambit_peers under its
 * cookie. When it starts connecting we ask for its state changes; when it
 * closes, its records go. For L7 connections (sent to the proxy's
 * loopback listener), once established we publish VIP and client identity
 * under the 4-tuple as the proxy will see it (plus the netns cookie). The entry exists before the proxy can accept: the client
 * runs this callback before it sends the handshake's final ACK.
 */
#include "lib/maps.bpf.h"
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10

/* See connect.bpf.c: keep context loads at constant offsets. */
#define SKOPS_LOAD(ctx, f) (*(volatile __u32 *)&(ctx)->f)

static __always_inline bool v4_mapped(const __be32 *a)
{
	return a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0xffff);
}

static __always_inline void put_addr(__be32 *dst, const __be32 *a, bool v4)
{
	if (v4) {
		dst[0] = a[3];
		return;
	}
	dst[0] = a[0];
	dst[1] = a[1];
	dst[2] = a[2];
	dst[3] = a[3];
}

/* The proxy's view: local = the listener (our remote), remote = us. */
static __always_inline int l7_key(struct bpf_sock_ops *skops,
				  struct ambit_l7_key *k)
{
	__be32 l[4] = {}, r[4] = {};
	bool v4;

	if (skops->family == AF_INET) {
		l[3] = SKOPS_LOAD(skops, local_ip4);
		r[3] = SKOPS_LOAD(skops, remote_ip4);
		v4 = true;
	} else if (skops->family == AF_INET6) {
		l[0] = SKOPS_LOAD(skops, local_ip6[0]);
		l[1] = SKOPS_LOAD(skops, local_ip6[1]);
		l[2] = SKOPS_LOAD(skops, local_ip6[2]);
		l[3] = SKOPS_LOAD(skops, local_ip6[3]);
		r[0] = SKOPS_LOAD(skops, remote_ip6[0]);
		r[1] = SKOPS_LOAD(skops, remote_ip6[1]);
		r[2] = SKOPS_LOAD(skops, remote_ip6[2]);
		r[3] = SKOPS_LOAD(skops, remote_ip6[3]);
		/* A dual-stack socket's v4 peer is a plain v4 peer to
		 * the proxy's IPv4 listener. */
		v4 = v4_mapped(l) && v4_mapped(r);
	} else {
		return -1;
	}
	__builtin_memset(k, 0, sizeof(*k));
	put_addr(k->local, r, v4);
	put_addr(k->remote, l, v4);
	k->family = v4 ? AMBIT_FAMILY_V4 : AMBIT_FAMILY_V6;
	/* sock_ops keeps remote_port in network order in the upper half. */
	k->local_port = (__be16)(SKOPS_LOAD(skops, remote_port) >> 16);
	k->remote_port = bpf_htons((__u16)SKOPS_LOAD(skops, local_port));
	k->netns_cookie = bpf_get_netns_cookie(skops);
	return 0;
}

static __always_inline bool sockmap_on(void)
{
	__u32 zero = 0;
	struct ambit_config *cfg = bpf_map_lookup_elem(&ambit_config, &zero);

	return cfg && (cfg->flags & AMBIT_CFG_SOCKMAP);
}

/* Our socket joins the sockhash under its own view of the 4-tuple (the
 * proxy's key with the ends swapped); the proxy adds its end itself. */
static __always_inline void fast_path(struct bpf_sock_ops *skops,
				      const struct ambit_l7_key *proxy_view)
{
	struct ambit_l7_key own = *proxy_view;

	if (!sockmap_on())
		return;
	__builtin_memcpy(own.local, proxy_view->remote, sizeof(own.local));
	__builtin_memcpy(own.remote, proxy_view->local, sizeof(own.remote));
	own.local_port = proxy_view->remote_port;
	own.remote_port = proxy_view->local_port;
	bpf_sock_hash_update(skops, &ambit_sockhash, &own, BPF_NOEXIST);
}

static __always_inline void publish(struct bpf_sock_ops *skops)
{
	struct ambit_orig_dst *o;
	struct ambit_l7_key k;
	struct ambit_l7_val v = {};
	__u64 cookie = bpf_get_socket_cookie(skops);

	o = bpf_map_lookup_elem(&ambit_peers, &cookie);
	if (!o || !(o->flags & AMBIT_ORIG_L7) || l7_key(skops, &k))
		return;
	__builtin_memcpy(v.vip, o->addr, sizeof(v.vip));
	v.vip_port = o->port;
	v.family = o->family;
	v.enroll_kind = o->enroll_kind;
	v.enroll_id = o->enroll_id;
	v.sock_cookie = cookie;
	bpf_map_update_elem(&ambit_l7_conns, &k, &v, BPF_ANY);
	fast_path(skops, &k);
}

/* A redirected socket starts connecting: watch its states, so its
 * records go when it closes, whether or not it ever connects. */
static __always_inline void watch(struct bpf_sock_ops *skops)
{
	__u64 cookie = bpf_get_socket_cookie(skops);

	if (bpf_map_lookup_elem(&ambit_peers, &cookie))
		bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_STATE_CB_FLAG);
}

static __always_inline void unpublish(struct bpf_sock_ops *skops)
{
	__u64 cookie = bpf_get_socket_cookie(skops);
	struct ambit_orig_dst *o = bpf_map_lookup_elem(&ambit_peers, &cookie);
	struct ambit_l7_key k;

	struct ambit_l7_val *v;

	/* Only our own record: a new connection may already have reused
	 * this 4-tuple (TIME_WAIT reuse on loopback) and published its own. */
	if (o && (o->flags & AMBIT_ORIG_L7) && !l7_key(skops, &k)) {
		v = bpf_map_lookup_elem(&ambit_l7_conns, &k);
		if (v && v->sock_cookie == cookie)
			bpf_map_delete_elem(&ambit_l7_conns, &k);
	}
	bpf_map_delete_elem(&ambit_peers, &cookie);
}

/*
 * Our socket leaves ESTABLISHED (we closed or were closed): take the
 * proxy's end out of the fast path now. On loopback a new connection may
 * reuse this 4-tuple at once (TIME_WAIT reuse), before the proxy closes its
 * end; sk_msg would otherwise hand the new connection's bytes to it.
 */
static __always_inline void fast_path_end(struct bpf_sock_ops *skops)
{
	__u64 cookie = bpf_get_socket_cookie(skops);
	struct ambit_orig_dst *o = bpf_map_lookup_elem(&ambit_peers, &cookie);
	struct ambit_l7_key k;

	if (o && (o->flags & AMBIT_ORIG_L7) && !l7_key(skops, &k))
		bpf_map_delete_elem(&ambit_sockhash, &k);
}

/*
 * A redirected socket closed before it was ever established: its endpoint
 * refused, timed out, or the application gave up. Counted for that
 * endpoint; this path only runs for connects that failed.
 */
static __always_inline void count_failed(struct bpf_sock_ops *skops)
{
	__u64 cookie = bpf_get_socket_cookie(skops);
	struct ambit_orig_dst *o = bpf_map_lookup_elem(&ambit_peers, &cookie);
	struct ambit_ep_stats_key k = {};
	struct ambit_ep_stats_val *v, zero = {};

	if (!o)
		return;
	__builtin_memcpy(k.addr, o->backend, sizeof(k.addr));
	k.port = o->backend_port;
	k.family = o->family;
	k.svc_id = o->svc_id;
	v = bpf_map_lookup_elem(&ambit_ep_stats, &k);
	if (!v) {
		bpf_map_update_elem(&ambit_ep_stats, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&ambit_ep_stats, &k);
	}
	if (v) /* softirq (a reset) and process context (close) both count */
		__sync_fetch_and_add(&v->failed, 1);
}

SEC("sockops")
int ambit_sockops(struct bpf_sock_ops *skops)
{
	__u32 from, to;

	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		watch(skops);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		publish(skops);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		from = SKOPS_LOAD(skops, args[0]);
		to = SKOPS_LOAD(skops, args[1]);
		if (from == BPF_TCP_ESTABLISHED)
			fast_path_end(skops);
		if (to == BPF_TCP_CLOSE && from == BPF_TCP_SYN_SENT)
			count_failed(skops);
		if (to == BPF_TCP_CLOSE)
			unpublish(skops);
		break;
	}
	return 1;
}
