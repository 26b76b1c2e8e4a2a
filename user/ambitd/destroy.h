/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Closing connections to removed endpoints (bpf/destroy.bpf.c). After an
 * apply takes endpoints away, the daemon fills the iterators' stale map
 * and reads them in every network namespace where enrolled workloads can
 * own sockets; the iterators destroy the sockets ambit redirected along
 * a removed (VIP, endpoint) pair. A second pass after the endpoint-set
 * grace period catches a connect that read the old table just before the
 * switch and was not yet a socket in the table the first pass walked.
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
	__u64 last_us;      /* duration of the last pass */
	__u64 last_netns;   /* namespaces it walked */
};

struct destroyer {
	struct destroy_bpf *skel; /* NULL: off or not supported */
	struct bpf_link *tcp;
	struct bpf_link *udp;
	int stale_fd;
	const char *off_reason;   /* why it is off, for `ambit stats` */
	struct ambit_stale_key *pending; /* for the second pass */
	size_t n_pending;
	__u64 due_ms;
	struct destroy_stats st;
};

/**
 * destroyer_open() - load and attach the iterators (the data plane's
 * pinned maps must exist). With @enabled false, or when the kernel lacks
 * bpf_sock_destroy() (Linux < 6.5), the destroyer stays off and says so
 * in the log; the daemon runs on. Return: 0, or -errno only for an
 * unexpected failure after a successful load.
 */
int destroyer_open(struct destroyer *ds, const struct dataplane *dp,
		   bool enabled);

/** destroyer_on() - will passes close anything? */
bool destroyer_on(const struct destroyer *ds);

/**
 * destroyer_pass() - close the redirected sockets along any of the @n
 * @pairs in every namespace of @ns. Return: sockets closed, or -errno
 * (logged) when a namespace could not be walked; the others still are.
 */
long destroyer_pass(struct destroyer *ds, const struct ambit_stale_key *pairs,
		    size_t n, const struct netns_set *ns);

/** destroyer_close() - detach and free; pending pairs are dropped. */
void destroyer_close(struct destroyer *ds);

#endif
