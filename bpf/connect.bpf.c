// SPDX-License-Identifier: Apache-2.0
/*
 * cgroup socket-address hooks: rewrite a Service VIP to a chosen endpoint at
 * connect (TCP, connected UDP) and sendmsg (unconnected UDP) time, and give
 * the VIP back at getpeername and recvmsg, so applications see what they
 * dialed. No packet is ever NATed: the socket talks to the endpoint directly.
 */
#include "lib/xlate.bpf.h"
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SYS_REJECT 0
#define SYS_PROCEED 1

/* Fail the syscall with ECONNREFUSED instead of the default EPERM. */
static __always_inline int refuse(void)
{
	bpf_set_retval(-AMBIT_ECONNREFUSED);
	return SYS_REJECT;
}

static __always_inline void key_from_v4(struct bpf_sock_addr *ctx,
					struct ambit_svc_key *key)
{
	key->addr[0] = ctx->user_ip4;
	key->port = (__be16)ctx->user_port;
	key->proto = (__u8)ctx->protocol;
	key->family = AMBIT_FAMILY_V4;
}

/*
 * The verifier only accepts context accesses at constant offsets, and clang
 * likes to turn four neighbouring loads or stores into pointer arithmetic
 * on ctx. Volatile accesses keep each one a plain ctx+offset instruction.
 */
#define CTX_IP6_LOAD(ctx, i) (*(volatile __u32 *)&(ctx)->user_ip6[i])
#define CTX_IP6_STORE(ctx, i, v) (*(volatile __u32 *)&(ctx)->user_ip6[i] = (v))

static __always_inline void load_v6(struct bpf_sock_addr *ctx, __be32 *a)
{
	a[0] = CTX_IP6_LOAD(ctx, 0);
	a[1] = CTX_IP6_LOAD(ctx, 1);
	a[2] = CTX_IP6_LOAD(ctx, 2);
	a[3] = CTX_IP6_LOAD(ctx, 3);
}

/* IPv4-mapped (::ffff:a.b.c.d) destinations are looked up as IPv4. */
static __always_inline bool key_from_v6(struct bpf_sock_addr *ctx,
					struct ambit_svc_key *key)
{
	__be32 a[4];
	bool mapped;

	load_v6(ctx, a);
	mapped = a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0xffff);
	if (mapped) {
		key->addr[0] = a[3];
		key->family = AMBIT_FAMILY_V4;
	} else {
		__builtin_memcpy(key->addr, a, sizeof(a));
		key->family = AMBIT_FAMILY_V6;
	}
	key->port = (__be16)ctx->user_port;
	key->proto = (__u8)ctx->protocol;
	return mapped;
}

static __always_inline void set_v6(struct bpf_sock_addr *ctx, const __be32 *a,
				   bool mapped)
{
	if (mapped) {
		CTX_IP6_STORE(ctx, 0, 0);
		CTX_IP6_STORE(ctx, 1, 0);
		CTX_IP6_STORE(ctx, 2, bpf_htonl(0xffff));
		CTX_IP6_STORE(ctx, 3, a[0]);
		return;
	}
	CTX_IP6_STORE(ctx, 0, a[0]);
	CTX_IP6_STORE(ctx, 1, a[1]);
	CTX_IP6_STORE(ctx, 2, a[2]);
	CTX_IP6_STORE(ctx, 3, a[3]);
}

/* Write an address back into @ctx, in the family (and mapping) it came in. */
static __always_inline void set_addr(struct bpf_sock_addr *ctx, int v6,
				     bool mapped, const __be32 *a, __be16 port)
{
	if (v6)
		set_v6(ctx, a, mapped);
	else
		ctx->user_ip4 = a[0];
	ctx->user_port = port;
}

/*
 * Translate and rewrite @ctx. @remember_sk: record the VIP on the socket
 * (connect); UDP also records (socket, endpoint) for replies.
 */
static __always_inline int redirect(struct bpf_sock_addr *ctx, int v6,
				    bool remember_sk)
{
	struct ambit_enroll_key who = {};
	struct ambit_svc_key key = {};
	struct ambit_ep_val ep;
	bool mapped = false;
	__u32 svc_id = 0;
	int ret;

	if (!ambit_enrolled(ctx, &who) || ambit_is_proxy(ctx->sk))
		return SYS_PROCEED;
	if (v6)
		mapped = key_from_v6(ctx, &key);
	else
		key_from_v4(ctx, &key);
	ret = ambit_xlate(&key, &ep, &svc_id);
	if (ret == XLATE_PASS)
		return SYS_PROCEED;
	if (ret < 0)
		return refuse();
	if (ret == XLATE_PROXY && (mapped || key.proto != IPPROTO_TCP ||
				   !remember_sk))
		return SYS_PROCEED; /* the proxy speaks TCP on v4 and v6 only */
	set_addr(ctx, v6, mapped, ep.addr, ep.port);
	if (remember_sk)
		ambit_remember(ctx, ctx->sk, &key, &ep, &who, svc_id,
			       ret == XLATE_PROXY ? AMBIT_ORIG_L7 : 0);
	if (key.proto == IPPROTO_UDP)
		ambit_remember_udp(bpf_get_socket_cookie(ctx), &key, &ep);
	return SYS_PROCEED;
}

SEC("cgroup/connect4")
int ambit_conn4(struct bpf_sock_addr *ctx)
{
	return redirect(ctx, 0, true);
}

SEC("cgroup/connect6")
int ambit_conn6(struct bpf_sock_addr *ctx)
{
	return redirect(ctx, 1, true);
}

SEC("cgroup/sendmsg4")
int ambit_sendmsg4(struct bpf_sock_addr *ctx)
{
	return redirect(ctx, 0, false);
}

SEC("cgroup/sendmsg6")
int ambit_sendmsg6(struct bpf_sock_addr *ctx)
{
	return redirect(ctx, 1, false);
}

/* UDP reply from an endpoint: show the VIP the app sent to instead. */
static __always_inline int restore_udp_source(struct bpf_sock_addr *ctx,
					      int v6)
{
	struct ambit_rnat_key rk = {};
	struct ambit_rnat_val *rv;
	bool mapped = false;

	if (v6) {
		struct ambit_svc_key k = {};

		mapped = key_from_v6(ctx, &k);
		__builtin_memcpy(rk.addr, k.addr, sizeof(rk.addr));
		rk.family = k.family;
	} else {
		rk.addr[0] = ctx->user_ip4;
		rk.family = AMBIT_FAMILY_V4;
	}
	rk.port = (__be16)ctx->user_port;
	rk.sock_cookie = bpf_get_socket_cookie(ctx);
	rv = bpf_map_lookup_elem(&ambit_udp_rnat, &rk);
	if (rv)
		set_addr(ctx, v6, mapped, rv->addr, rv->port);
	return SYS_PROCEED;
}

SEC("cgroup/recvmsg4")
int ambit_recvmsg4(struct bpf_sock_addr *ctx)
{
	return restore_udp_source(ctx, 0);
}

SEC("cgroup/recvmsg6")
int ambit_recvmsg6(struct bpf_sock_addr *ctx)
{
	return restore_udp_source(ctx, 1);
}

/* A redirected socket's peer is reported as the VIP it dialed. */
static __always_inline int restore_peer(struct bpf_sock_addr *ctx, int v6)
{
	struct ambit_svc_key peer = {};
	struct ambit_orig_dst *o;
	struct bpf_sock *sk = ctx->sk;
	bool mapped = false;

	__u64 cookie = bpf_get_socket_cookie(ctx);

	o = bpf_map_lookup_elem(&ambit_peers, &cookie);
	if (!o && sk)
		o = bpf_sk_storage_get(&ambit_orig_dst, sk, NULL, 0);
	if (!o)
		return SYS_PROCEED;
	if (v6)
		mapped = key_from_v6(ctx, &peer);
	else
		key_from_v4(ctx, &peer);
	/* Only the endpoint we chose is shown as the VIP. */
	if (peer.port != o->backend_port || peer.addr[0] != o->backend[0] ||
	    peer.addr[1] != o->backend[1] || peer.addr[2] != o->backend[2] ||
	    peer.addr[3] != o->backend[3])
		return SYS_PROCEED;
	set_addr(ctx, v6, mapped, o->addr, o->port);
	return SYS_PROCEED;
}

SEC("cgroup/getpeername4")
int ambit_peer4(struct bpf_sock_addr *ctx)
{
	return restore_peer(ctx, 0);
}

SEC("cgroup/getpeername6")
int ambit_peer6(struct bpf_sock_addr *ctx)
{
	return restore_peer(ctx, 1);
}
