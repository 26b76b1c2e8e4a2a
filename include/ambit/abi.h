/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ABI between ambit's BPF programs and user space: map keys, values and
 * constants. No includes: each side brings its own __u8..__u64/__be* types
 * (vmlinux.h in BPF, <linux/types.h> in user space). Everything is padded
 * explicitly and size-checked so both compilers agree on the layout.
 */
#ifndef AMBIT_ABI_H
#define AMBIT_ABI_H

/* Backend versions (backendRefs) per service port: the Gateway API max. */
#define AMBIT_MAX_VERSIONS 16
/* Largest weight of one backendRef (Gateway API: 0..1000000). */
#define AMBIT_MAX_WEIGHT 1000000

#define AMBIT_FAMILY_V4 4
#define AMBIT_FAMILY_V6 6

/* Default map sizes; ambitd can raise them (--max-services ...). */
#define AMBIT_DEF_SERVICES 131072
#define AMBIT_DEF_ENDPOINTS 1048576
#define AMBIT_DEF_ENROLL 16384
#define AMBIT_DEF_STATS 262144
#define AMBIT_DEF_UDP_RNAT 65536

/*
 * A Service port as clients dial it. IPv4 addresses sit in addr[0] with the
 * rest zero; an IPv4-mapped IPv6 destination is looked up as IPv4.
 */
struct ambit_svc_key {
	__be32 addr[4];
	__be16 port;
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family; /* AMBIT_FAMILY_V4 / _V6 */
};
_Static_assert(sizeof(struct ambit_svc_key) == 20, "ambit_svc_key layout");

/* ambit_svc_val.flags */
#define AMBIT_SVC_L7 0x1 /* needs the proxy: not redirected in BPF */

/*
 * One backend version of a service port: a weighted share of connections
 * that go to one endpoint set. set_id 0 means "nothing to connect to"
 * (unresolved backendRef or no ready endpoint): such a share fails fast.
 */
struct ambit_version {
	__u32 cum_weight; /* sum of weights up to and including this one */
	__u32 set_id;     /* key prefix in ambit_endpoints */
	__u32 n_endpoints;
	__u32 backend_id; /* index of the backend for counters and names */
};
_Static_assert(sizeof(struct ambit_version) == 16, "ambit_version layout");

/*
 * Everything a connect needs to choose, in one value, so that replacing the
 * value is the atomic switch from the old table to the new: endpoint sets
 * are written under fresh set ids first and old ones retired after a grace
 * period, so a lookup never mixes generations.
 */
struct ambit_svc_val {
	__u32 svc_id;       /* stable id of this service port, for counters */
	__u32 flags;        /* AMBIT_SVC_* */
	__u32 total_weight; /* 0: no backend can be chosen */
	__u32 n_versions;
	__u64 generation;   /* config generation that wrote this value */
	struct ambit_version versions[AMBIT_MAX_VERSIONS];
};
_Static_assert(sizeof(struct ambit_svc_val) == 24 + 16 * AMBIT_MAX_VERSIONS,
	       "ambit_svc_val layout");

struct ambit_ep_key {
	__u32 set_id;
	__u32 index; /* 0 .. n_endpoints-1 */
};
_Static_assert(sizeof(struct ambit_ep_key) == 8, "ambit_ep_key layout");

struct ambit_ep_val {
	__be32 addr[4];
	__be16 port;
	__u8 family;
	__u8 pad;
	__u32 pad2;
};
_Static_assert(sizeof(struct ambit_ep_val) == 24, "ambit_ep_val layout");

/* ambit_enroll key kinds */
#define AMBIT_ENROLL_NETNS 1  /* id is a netns cookie */
#define AMBIT_ENROLL_CGROUP 2 /* id is a cgroup v2 id */

struct ambit_enroll_key {
	__u64 id;
	__u32 kind; /* AMBIT_ENROLL_* */
	__u32 pad;
};
_Static_assert(sizeof(struct ambit_enroll_key) == 16, "enroll key layout");

struct ambit_enroll_val {
	__u32 workload_id; /* daemon's index, for counters and trace */
	__u32 flags;
};
_Static_assert(sizeof(struct ambit_enroll_val) == 8, "enroll val layout");

/* ambit_orig_dst.flags */
#define AMBIT_ORIG_L7 0x1 /* sent to the proxy: publish at established */

/* What a redirected socket originally dialed, to answer getpeername, and
 * (for the proxy) who dialed it. */
struct ambit_orig_dst {
	__be32 addr[4]; /* the VIP */
	__be32 backend[4]; /* the endpoint (or proxy) it was rewritten to */
	__be16 port;
	__be16 backend_port;
	__u8 family;
	__u8 flags; /* AMBIT_ORIG_* */
	__u8 pad[2];
	__u64 enroll_id;   /* the workload, as ambit_enroll knows it */
	__u32 enroll_kind;
	__u32 svc_id;      /* the service port, for per-endpoint counters */
};
_Static_assert(sizeof(struct ambit_orig_dst) == 56, "orig_dst layout");

/*
 * Where L7 services are sent: the proxy's listener on loopback of the
 * client's own network namespace (the proxy listens in each enrolled pod
 * namespace, or shares the namespace). proxy_port 0: no proxy, L7
 * services are left alone.
 */
/* ambit_config.flags */
#define AMBIT_CFG_SOCKMAP 0x1 /* local fast path: app <-> proxy via sk_msg */

struct ambit_config {
	__be16 proxy_port;
	__u16 flags;      /* AMBIT_CFG_* */
	__u32 proxy_mark; /* SO_MARK of the proxy's own sockets: never touched */
};
_Static_assert(sizeof(struct ambit_config) == 8, "config layout");

#define AMBIT_PROXY_MARK_DEFAULT 0x0a3b1700u

/*
 * An accepted proxy connection, as the proxy sees it (its local address is
 * the listener, the remote one the client), in the client's namespace.
 */
struct ambit_l7_key {
	__u64 netns_cookie;
	__be32 local[4];  /* proxy side */
	__be32 remote[4]; /* client side */
	__be16 local_port;
	__be16 remote_port;
	__u8 family;
	__u8 pad[3];
};
_Static_assert(sizeof(struct ambit_l7_key) == 48, "l7 key layout");

struct ambit_l7_val {
	__be32 vip[4]; /* what the client dialed */
	__be16 vip_port;
	__u8 family;
	__u8 pad;
	__u32 enroll_kind; /* the client workload: AMBIT_ENROLL_* ... */
	__u64 enroll_id;   /* ... and its netns cookie or cgroup id */
	__u64 sock_cookie; /* the client socket that owns this record */
};
_Static_assert(sizeof(struct ambit_l7_val) == 40, "l7 val layout");

#define AMBIT_DEF_L7_CONNS 262144

/*
 * Redirected TCP sockets by socket cookie -> struct ambit_orig_dst, for
 * getpeername and the proxy. A preallocated hash, written at connect and
 * deleted by sockops when the socket closes: measured ~10% cheaper per
 * connect than socket-local storage (whose kmalloc + RCU free dominated).
 */
#define AMBIT_DEF_PEERS 262144

/*
 * The local fast path: both ends of each app <-> proxy connection sit in a
 * sockhash keyed by their own 4-tuple + netns (struct ambit_l7_key, seen
 * from that socket: local = itself); sk_msg hands each send straight to
 * the peer's receive queue, skipping the loopback TCP stack.
 */
#define AMBIT_DEF_SOCKS 524288

/*
 * Stale backends: (VIP:port/proto, endpoint) pairs an apply took away. The
 * daemon fills a small map of them, then runs a socket iterator that
 * destroys the redirected sockets whose record names such a pair, and
 * empties the map again. Keyed by the VIP too: an endpoint that left one
 * Service but stays in another keeps the other Service's connections.
 */
struct ambit_stale_key {
	__be32 vip[4];
	__be32 backend[4];
	__be16 vip_port;
	__be16 backend_port;
	__u8 family; /* AMBIT_FAMILY_*, of both (endpoints follow the VIP) */
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad[2];
};
_Static_assert(sizeof(struct ambit_stale_key) == 40, "stale key layout");

/* Pairs per destroy pass; more are done in several passes. */
#define AMBIT_DEF_STALE 4096

/* What a workload has along stale pairs (the find step's map values). */
#define AMBIT_STALE_TCP 0x1
#define AMBIT_STALE_UDP 0x2

/* UDP replies: (socket, endpoint) -> the VIP the app sent to. */
struct ambit_rnat_key {
	__u64 sock_cookie;
	__be32 addr[4]; /* endpoint */
	__be16 port;
	__u8 family;
	__u8 pad[5];
};
_Static_assert(sizeof(struct ambit_rnat_key) == 32, "rnat key layout");

struct ambit_rnat_val {
	__be32 addr[4]; /* VIP */
	__be16 port;
	__u8 family;
	__u8 pad[5];
};
_Static_assert(sizeof(struct ambit_rnat_val) == 24, "rnat val layout");

struct ambit_stats_key {
	__u32 svc_id;
	__u32 backend_id; /* AMBIT_STATS_SERVICE for service-wide counters */
};
_Static_assert(sizeof(struct ambit_stats_key) == 8, "stats key layout");

#define AMBIT_STATS_SERVICE 0xffffffffu

/* Per-CPU; user space sums the CPUs. */
struct ambit_stats_val {
	__u64 connects;    /* rewrites to an endpoint (TCP connect, UDP msg) */
	__u64 no_endpoint; /* failed fast: nothing to connect to */
	__u64 to_proxy;    /* L7 service: sent to the proxy */
	__u64 no_proxy;    /* L7 service without a proxy: left alone */
};
_Static_assert(sizeof(struct ambit_stats_val) == 32, "stats val layout");

/*
 * Per service port and endpoint: where connections were really sent (for
 * an L7 service, the proxy). Entries are made on first use (no
 * preallocation), so the size is a cap, not memory spent up front.
 */
#define AMBIT_DEF_EP_STATS 262144

struct ambit_ep_stats_key {
	__be32 addr[4]; /* the endpoint, as in ambit_ep_val */
	__be16 port;
	__u8 family;
	__u8 pad;
	__u32 svc_id;
};
_Static_assert(sizeof(struct ambit_ep_stats_key) == 24, "ep stats key layout");

/* Per-CPU; user space sums the CPUs. */
struct ambit_ep_stats_val {
	__u64 connects; /* rewrites to this endpoint (TCP connect, UDP msg) */
	__u64 failed;   /* TCP handshakes that ended before established */
};
_Static_assert(sizeof(struct ambit_ep_stats_val) == 16, "ep stats val layout");

#endif
