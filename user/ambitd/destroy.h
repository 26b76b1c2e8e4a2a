/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Closing connections to removed endpoints (bpf/destroy.bpf.c). After an
 * apply takes endpoints away, the daemon loads the removed (VIP, endpoint)
 * pairs into the iterators' stale map, finds which workloads own sockets
 * along them (one pass over the records of redirected sockets), and walks
 * the socket tables of those workloads' network namespaces only, where
 * the iterators destroy the sockets. A second pass after the endpoint-set
 * grace period catches a connect that read the old table just before the
 * switch and was not a socket yet when the first pass looked.
 */
#ifndef AMBITD_DESTROY_H
#define AMBITD_DESTROY_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "ambit/abi.h"
#include "dataplane.h"
#include "nsutil.h"

struct destroy_bpf;
struct bpf_link;

/* Totals since the daemon started, for `ambit stats`. */
struct destroy_stats {
	__u64 passes;
	__u64 closed_tcp;
	__u64 closed_udp;
	__u64 failed;       /* bpf_sock_destroy() refused */
	__u64 last_us;      /* wall time of the last pass */
	__u64 last_cpu_us;  /* its CPU time (steadier on a busy machine) */
	__u64 last_netns;   /* namespaces it walked (0: nothing to close) */
};

struct destroyer {
	struct destroy_bpf *skel; /* NULL: off or not supported */
	struct bpf_link *find_tcp;
	struct bpf_link *find_udp;
	struct bpf_link *tcp;
	struct bpf_link *udp;
	const char *off_reason;   /* why it is off, for `ambit stats` */
	struct ambit_stale_key *pending; /* for the second pass */
	size_t n_pending;
	__u64 due_ms;
	struct destroy_stats st;
};

/* The find step's answer. */
struct stale_found {
	struct ambit_enroll_key *wl; /* workloads owning stale sockets */
	size_t n;
	__u32 protos; /* AMBIT_STALE_TCP | AMBIT_STALE_UDP: tables to walk */
	bool lost;    /* the answer is incomplete: walk everywhere */
};

/**
 * destroyer_open() - load and attach the iterators (the data plane's
 * pinned maps must exist). With @enabled false, or when the kernel lacks
 * bpf_sock_destroy() (Linux < 6.5), the destroyer stays off and the log
 * says why; the daemon runs on either way. Return: 0, or -errno (off).
 */
int destroyer_open(struct destroyer *ds, const struct dataplane *dp,
		   bool enabled);

/** destroyer_on() - will passes close anything? */
bool destroyer_on(const struct destroyer *ds);

/**
 * destroyer_find() - load the @n (at most AMBIT_DEF_STALE) @pairs and
 * find the workloads owning sockets along them, into @f (free with
 * stale_found_free()). The pairs stay loaded for destroyer_walk() until
 * destroyer_unload(). When finding fails, @f says "lost" (look
 * everywhere). Return: 0, or -errno (logged) when the pairs could not be
 * loaded (then there is nothing to walk for).
 */
int destroyer_find(struct destroyer *ds, const struct ambit_stale_key *pairs,
		   size_t n, struct stale_found *f);

/**
 * destroyer_walk() - destroy the sockets along the loaded pairs in every
 * namespace of @ns, walking the tables in @protos (AMBIT_STALE_*).
 * Return: 0, or the first -errno (logged; the other namespaces are
 * still walked).
 */
int destroyer_walk(struct destroyer *ds, const struct netns_set *ns,
		   __u32 protos);

/** destroyer_unload() - empty the stale map again. */
void destroyer_unload(struct destroyer *ds, const struct ambit_stale_key *pairs,
		      size_t n);

/** destroyer_closed() - sockets closed since the daemon started. */
__u64 destroyer_closed(const struct destroyer *ds);

/** stale_found_free() - release @f. */
void stale_found_free(struct stale_found *f);

/** destroyer_close() - detach and free; pending pairs are dropped. */
void destroyer_close(struct destroyer *ds);

#endif
