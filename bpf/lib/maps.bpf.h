/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every map ambit uses, defined once. All are pinned by name under the
 * daemon's bpffs directory, so a restarted daemon (and bpftool) finds them.
 * Sizes are defaults; ambitd resizes before load.
 */
#ifndef AMBIT_MAPS_BPF_H
#define AMBIT_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ambit/abi.h"

/* Service VIP:port/proto -> the complete choice table for it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AMBIT_DEF_SERVICES);
	__type(key, struct ambit_svc_key);
	__type(value, struct ambit_svc_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_services SEC(".maps");

/* (endpoint set, index) -> endpoint address. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AMBIT_DEF_ENDPOINTS);
	__type(key, struct ambit_ep_key);
	__type(value, struct ambit_ep_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_endpoints SEC(".maps");

/* Enrolled workloads: netns cookies and cgroup ids. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AMBIT_DEF_ENROLL);
	__type(key, struct ambit_enroll_key);
	__type(value, struct ambit_enroll_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_enroll SEC(".maps");

/* Redirected TCP sockets: cookie -> what it dialed (see abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AMBIT_DEF_PEERS);
	__type(key, __u64);
	__type(value, struct ambit_orig_dst);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_peers SEC(".maps");

/* Per redirected connected-UDP socket: what it dialed, for getpeername.
 * Lives and dies with the socket, so nothing to evict. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ambit_orig_dst);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_orig_dst SEC(".maps");

/* Unconnected UDP: (socket, endpoint) -> VIP for replies. LRU because a
 * socket can talk to many endpoints and sockets don't tell us they died. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AMBIT_DEF_UDP_RNAT);
	__type(key, struct ambit_rnat_key);
	__type(value, struct ambit_rnat_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_udp_rnat SEC(".maps");

/* Per service port and backend counters. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, AMBIT_DEF_STATS);
	__type(key, struct ambit_stats_key);
	__type(value, struct ambit_stats_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_stats SEC(".maps");

/* Per service port and endpoint counters (see abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, AMBIT_DEF_EP_STATS);
	__type(key, struct ambit_ep_stats_key);
	__type(value, struct ambit_ep_stats_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_ep_stats SEC(".maps");

/* Run-time settings (one entry): where the proxy listens. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ambit_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_config SEC(".maps");

/* Connections handed to the proxy: 4-tuple + netns -> original VIP.
 * Written at established time, deleted when the socket closes: no LRU,
 * a live entry is never evicted. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AMBIT_DEF_L7_CONNS);
	__type(key, struct ambit_l7_key);
	__type(value, struct ambit_l7_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_l7_conns SEC(".maps");

/* The local fast path (see abi.h): sockets by their own 4-tuple+netns.
 * 8-byte values: user space then reads back socket cookies (bpftool). */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, AMBIT_DEF_SOCKS);
	__type(key, struct ambit_l7_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ambit_sockhash SEC(".maps");

#endif
