/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ambit-proxy internals. One worker thread per core, each with its own
 * epoll loop, SO_REUSEPORT listeners, connections and upstream pool; the
 * only shared state is the route snapshot (reference counted, swapped
 * whole) and the pinned BPF map that names each connection's original
 * destination.
 */
#ifndef AMBIT_PROXY_H
#define AMBIT_PROXY_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ambit/abi.h"
#include "arena.h"
#include "compile.h"
#include "http1.h"
#include "l7route.h"
#include "objvec.h"
#include "sbuf.h"

/* ---- settings ------------------------------------------------------------ */

struct px_settings {
	uint16_t port;            /* loopback listener port */
	uint32_t mark;            /* SO_MARK on upstream sockets */
	int workers;
	int l7_map_fd;            /* pinned ambit_l7_conns */
	int config_fd;            /* pinned ambit_config */
	int sockhash_fd;          /* pinned ambit_sockhash (fast path) */
	const char *config_path;  /* ambitd's persisted configuration */
	uint32_t header_timeout_ms;   /* first byte to complete head */
	uint32_t idle_timeout_ms;     /* keep-alive between requests */
	uint32_t connect_timeout_ms;  /* upstream connect */
	uint32_t upstream_timeout_ms; /* no route timeout: response deadline */
	uint32_t transfer_timeout_ms; /* body or tunnel moving no byte */
	uint32_t pool_idle_ms;        /* idle upstream connections kept */
	size_t max_conns;         /* per worker */
	struct http_limits head_limits; /* request heads: 431 beyond */
	size_t buffer_bytes;      /* --buffer-bytes */
	size_t buf_size;          /* each I/O buffer: a head fits, page-rounded */
	int home_netns_fd;        /* the proxy's own network namespace */
	__u64 home_netns;         /* its cookie */
	uint32_t drain_ms;        /* stop: finish what is in flight within */
};

extern struct px_settings px_cfg;

/* ---- snapshots --------------------------------------------------------- */

/* A workload identity the BPF programs report, and its namespace. */
struct px_identity {
	__u32 kind;
	__u64 id;
	const char *ns;
};

struct px_snapshot {
	int refs; /* atomic */
	uint64_t version;
	struct objvec objs;
	struct image img;
	struct l7_table l7;
	struct px_identity *ids;
	size_t n_ids;
	struct ambit_ep_val *eps; /* every endpoint it can send to, sorted */
	size_t n_eps;
};

/**
 * px_snapshot_load() - build a snapshot from the configuration file at
 * @path (a missing file is an empty configuration). Return: the snapshot
 * with one reference, or NULL with the reason in @err.
 */
struct px_snapshot *px_snapshot_load(const char *path, struct sbuf *err);

/** px_snapshot_current() - a new reference to the current snapshot. */
struct px_snapshot *px_snapshot_current(void);

/** px_snapshot_install() - make @s current (takes over its reference). */
void px_snapshot_install(struct px_snapshot *s);

/** px_snapshot_put() - drop a reference; the last one frees. */
void px_snapshot_put(struct px_snapshot *s);

/**
 * px_snapshot_has_endpoint() - can a request under @s be sent to @ep (a
 * backend or mirror endpoint of an L7 rule, or of an L4 Service version)?
 */
bool px_snapshot_has_endpoint(const struct px_snapshot *s,
			      const struct ambit_ep_val *ep);

/** px_client_ns() - the namespace of the enrolled client, or NULL. */
const char *px_client_ns(const struct px_snapshot *s, __u32 kind, __u64 id);

/* ---- workers ----------------------------------------------------------- */

struct px_worker;

/** px_worker_init() - epoll set and listeners for worker @id. 0/-errno. */
int px_worker_init(struct px_worker *w, int id);

/** px_worker_run() - a worker's loop; returns when asked to stop. */
void *px_worker_run(void *arg);

/** px_request_stop() - all workers stop accepting, drain, then return. */
void px_request_stop(void);

/** px_now_ms() - CLOCK_MONOTONIC milliseconds. */
uint64_t px_now_ms(void);

#endif
