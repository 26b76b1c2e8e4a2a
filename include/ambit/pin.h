/* SPDX-License-Identifier: Apache-2.0 */
/* Where ambit keeps things in bpffs, and the pinned names. */
#ifndef AMBIT_PIN_H
#define AMBIT_PIN_H

#define AMBIT_BPFFS_DEFAULT "/sys/fs/bpf/ambit"
#define AMBIT_SOCKET_DEFAULT "/run/ambit/ambitd.sock"
#define AMBIT_STATE_DEFAULT "/var/lib/ambit"
/* Where container runtimes keep pods' network namespaces. */
#define AMBIT_NETNS_DIR_DEFAULT "/var/run/netns"

/* Map names as pinned under the bpffs dir (LIBBPF_PIN_BY_NAME). */
#define AMBIT_MAP_SERVICES "ambit_services"
#define AMBIT_MAP_ENDPOINTS "ambit_endpoints"
#define AMBIT_MAP_ENROLL "ambit_enroll"
#define AMBIT_MAP_ORIG_DST "ambit_orig_dst"
#define AMBIT_MAP_UDP_RNAT "ambit_udp_rnat"
#define AMBIT_MAP_STATS "ambit_stats"
#define AMBIT_MAP_EP_STATS "ambit_ep_stats"
#define AMBIT_MAP_CONFIG "ambit_config"
#define AMBIT_MAP_L7_CONNS "ambit_l7_conns"
#define AMBIT_MAP_SOCKHASH "ambit_sockhash"
#define AMBIT_MAP_PEERS "ambit_peers"

/*
 * In the state directory, beside the configuration: ambit-proxy serves its
 * metrics on this unix socket (its last line is the end mark, so ambitd
 * knows it got them whole), and follows the log level ambitd writes to
 * the level file.
 */
#define AMBIT_PROXY_METRICS_SOCK "ambit-proxy-metrics.sock"
#define AMBIT_PROXY_METRICS_END "# ambit-proxy metrics end\n"
#define AMBIT_LOG_LEVEL_FILE "log-level"

/* Links live in a subdirectory, one per attach point. */
#define AMBIT_LINK_DIR "links"

#endif
