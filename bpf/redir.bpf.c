// SPDX-License-Identifier: Apache-2.0
/*
 * sk_msg: the local fast path between an application and ambit-proxy.
 * Both ends of such a connection are in ambit_sockhash under their own
 * 4-tuple + netns; a send from one is queued directly on the other's
 * receive side, skipping the loopback TCP stack. When the peer is not in
 * the map (fast path off on one side) the send takes the normal path.
 */
#include "lib/maps.bpf.h"
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define MSG_LOAD(m, f) (*(volatile __u32 *)&(m)->f)

/* The peer's key: our 4-tuple with the ends swapped. */
static __always_inline void peer_key(struct sk_msg_md *msg, struct ambit_l7_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	if (msg->family == AF_INET) {
		k->local[0] = MSG_LOAD(msg, remote_ip4);
		k->remote[0] = MSG_LOAD(msg, local_ip4);
		k->family = AMBIT_FAMILY_V4;
	} else {
		k->local[0] = MSG_LOAD(msg, remote_ip6[0]);
		k->local[1] = MSG_LOAD(msg, remote_ip6[1]);
		k->local[2] = MSG_LOAD(msg, remote_ip6[2]);
		k->local[3] = MSG_LOAD(msg, remote_ip6[3]);
		k->remote[0] = MSG_LOAD(msg, local_ip6[0]);
		k->remote[1] = MSG_LOAD(msg, local_ip6[1]);
		k->remote[2] = MSG_LOAD(msg, local_ip6[2]);
		k->remote[3] = MSG_LOAD(msg, local_ip6[3]);
		k->family = AMBIT_FAMILY_V6;
	}
	/* remote_port is network order in the upper half, as in sock_ops */
	k->local_port = (__be16)(MSG_LOAD(msg, remote_port) >> 16);
	k->remote_port = bpf_htons((__u16)MSG_LOAD(msg, local_port));
	k->netns_cookie = bpf_get_netns_cookie(msg);
}

SEC("sk_msg")
int ambit_redir(struct sk_msg_md *msg)
{
	struct ambit_l7_key peer;

	peer_key(msg, &peer);
	/* On failure no redirect is set up and SK_PASS sends normally. */
	bpf_msg_redirect_hash(msg, &ambit_sockhash, &peer, BPF_F_INGRESS);
	return SK_PASS;
}
