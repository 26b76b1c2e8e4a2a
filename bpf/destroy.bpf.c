// SPDX-License-Identifier: Apache-2.0
/*
 * Stale backends: close the connections ambit sent to an endpoint that has
 * since left the Service. New connects stop going there the moment the
 * service value changes; these iterators end the ones already made.
 *
 * The daemon fills ambit_stale with (VIP, endpoint) pairs an apply took
 * away. Two steps, each an iterator the daemon reads to its end:
 *   find     over the records of redirected sockets (ambit_peers for TCP,
 *            ambit_orig_dst storage for connected UDP), in every namespace
 *            at once: which workloads own a socket along a stale pair.
 *            Nothing found (the usual case when nobody was connected
 *            there): no walk at all.
 *   destroy  over the TCP and UDP socket tables, once per namespace of
 *            those workloads (a socket iterator sees the namespace it was
 *            created in, and walks the host-wide tables to find it, so
 *            each namespace walked costs about as much as the host has
 *            sockets).
 * A socket is destroyed only if ambit redirected it (it has a record),
 * the record's pair is stale and the socket is still connected to that
 * endpoint. Nothing else is ever touched: not the proxy's sockets, not
 * workloads that dial the endpoint themselves.
 *
 * bpf_sock_destroy() (Linux 6.5) aborts the socket as `ss -K` does: the
 * application sees ECONNABORTED, a TCP peer gets a reset.
 */
#include "lib/maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

extern int bpf_sock_destroy(struct sock_common *sk) __ksym;

/*
 * Not pinned, not in maps.bpf.h: it is one pass's input, owned by the
 * daemon that loaded this object. A restarted daemon must not inherit a
 * half-filled set, and no other program reads it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AMBIT_DEF_STALE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ambit_stale_key);
	__type(value, __u8);
} ambit_stale SEC(".maps");

/* The find step's answer: workloads with a stale socket -> STALE_TCP and
 * or STALE_UDP. Sized by the daemon like ambit_enroll. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AMBIT_DEF_ENROLL);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ambit_enroll_key);
	__type(value, __u32);
} ambit_stale_wl SEC(".maps");

/* Running totals, read by the daemon around each pass. */
__u64 closed_tcp;
__u64 closed_udp;
__u64 close_failed;
/* Set when ambit_stale_wl was full: the daemon then walks everywhere. */
__u32 workloads_lost;

static __always_inline bool is_stale(const struct ambit_orig_dst *o, __u8 proto)
{
	struct ambit_stale_key k = {};

	__builtin_memcpy(k.vip, o->addr, sizeof(k.vip));
	__builtin_memcpy(k.backend, o->backend, sizeof(k.backend));
	k.vip_port = o->port;
	k.backend_port = o->backend_port;
	k.family = o->family;
	k.proto = proto;
	return bpf_map_lookup_elem(&ambit_stale, &k) != NULL;
}

/* Still connected to the endpoint its record names? A UDP socket can be
 * connected elsewhere later and keeps its storage. An IPv4 record of a
 * dual-stack socket (v4-mapped peer) has the address in skc_daddr too. */
static __always_inline bool connected_to(const struct sock_common *skc,
					 const struct ambit_orig_dst *o)
{
	const __be32 *a6 = skc->skc_v6_daddr.in6_u.u6_addr32;

	if (skc->skc_dport != o->backend_port)
		return false;
	if (o->family == AMBIT_FAMILY_V4)
		return skc->skc_daddr == o->backend[0];
	return a6[0] == o->backend[0] && a6[1] == o->backend[1] &&
	       a6[2] == o->backend[2] && a6[3] == o->backend[3];
}

static __always_inline void note_workload(const struct ambit_orig_dst *o,
					  __u32 proto_bit)
{
	struct ambit_enroll_key k = { .id = o->enroll_id, .kind = o->enroll_kind };
	__u32 *v = bpf_map_lookup_elem(&ambit_stale_wl, &k);

	/* Map iterators run one element at a time: no concurrent writer. */
	if (v)
		*v |= proto_bit;
	else if (bpf_map_update_elem(&ambit_stale_wl, &k, &proto_bit, BPF_NOEXIST))
		workloads_lost = 1;
}

SEC("iter/bpf_map_elem")
int ambit_find_tcp(struct bpf_iter__bpf_map_elem *ctx)
{
	struct ambit_orig_dst *o = ctx->value;

	if (o && !(o->flags & AMBIT_ORIG_L7) && is_stale(o, IPPROTO_TCP))
		note_workload(o, AMBIT_STALE_TCP);
	return 0;
}

SEC("iter/bpf_sk_storage_map")
int ambit_find_udp(struct bpf_iter__bpf_sk_storage_map *ctx)
{
	struct ambit_orig_dst *o = ctx->value;
	struct sock *sk = ctx->sk;

	if (sk && o && connected_to(&sk->__sk_common, o) &&
	    is_stale(o, IPPROTO_UDP))
		note_workload(o, AMBIT_STALE_UDP);
	return 0;
}

static __always_inline void destroy(struct sock_common *skc, __u64 *count)
{
	if (bpf_sock_destroy(skc))
		__sync_fetch_and_add(&close_failed, 1);
	else
		__sync_fetch_and_add(count, 1);
}

SEC("iter/tcp")
int ambit_stale_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct ambit_orig_dst *o;
	__u64 cookie;

	if (!skc)
		return 0;
	cookie = bpf_get_socket_cookie(skc);
	o = bpf_map_lookup_elem(&ambit_peers, &cookie);
	/* Sockets sent to the proxy are the proxy's business (L7). */
	if (o && !(o->flags & AMBIT_ORIG_L7) && connected_to(skc, o) &&
	    is_stale(o, IPPROTO_TCP))
		destroy(skc, &closed_tcp);
	return 0;
}

SEC("iter/udp")
int ambit_stale_udp(struct bpf_iter__udp *ctx)
{
	struct sock *sk = (struct sock *)ctx->udp_sk;
	struct ambit_orig_dst *o;

	if (!sk)
		return 0;
	o = bpf_sk_storage_get(&ambit_orig_dst, sk, NULL, 0);
	if (o && connected_to(&sk->__sk_common, o) && is_stale(o, IPPROTO_UDP))
		destroy(&sk->__sk_common, &closed_udp);
	return 0;
}
