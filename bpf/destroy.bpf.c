// SPDX-License-Identifier: Apache-2.0
/*
 * Stale backends: close the connections ambit sent to an endpoint that has
 * since left the Service. New connects stop going there the moment the
 * service value changes; these iterators end the ones already made.
 *
 * The daemon fills ambit_stale with (VIP, endpoint) pairs an apply took
 * away, then reads these iterators once per network namespace (a socket
 * iterator walks the namespace it was created in). A socket is destroyed
 * only if ambit redirected it (its record in ambit_peers for TCP, its
 * ambit_orig_dst storage for connected UDP), the record's pair is stale
 * and the socket is still connected to that endpoint. Nothing else is
 * ever touched: not the proxy's sockets, not workloads that dial the
 * endpoint themselves.
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

/* Running totals, read by the daemon around each pass. */
__u64 closed_tcp;
__u64 closed_udp;
__u64 close_failed;

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
