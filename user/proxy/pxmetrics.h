/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ambit-proxy's metrics: per worker, without locks. Each worker owns its
 * counters and is their only writer (relaxed atomic stores); a series,
 * once published, is never moved or freed. The metrics thread sums the
 * workers when ambitd connects to the metrics socket and writes the
 * Prometheus text, ambitd appends it to its own /metrics.
 */
#ifndef AMBIT_PX_METRICS_H
#define AMBIT_PX_METRICS_H

#include <stdint.h>

#include "proxy.h"

#define PX_MAX_WORKERS 256
#define PX_SERIES_SLOTS 4096 /* distinct label sets per worker */

struct px_series;

/* The request a connection is serving, as metrics will name it. */
struct px_req_metrics {
	uint64_t start_ns;  /* 0: no request in progress */
	int status;         /* of the answer, 0: none was sent */
	const char *be_ns;  /* the backend chosen (in the request's snapshot) */
	const char *be_name;
	uint16_t be_port;
	/* The series this connection counted last, and what it was for: a
	 * keep-alive client repeating itself skips the lookup. */
	struct px_series *last;
	uint64_t last_version;
	const void *last_rule;
	const char *last_be;
	int last_status;
};

/** px_metrics_begin() - a request starts now (its head is complete). */
void px_metrics_begin(struct px_req_metrics *m);

/**
 * px_metrics_done() - count the request of @m for worker @worker: its
 * Service port @svc, the matched rule @rule (NULL: none), the backend and
 * status in @m, and its duration. @snap is the request's snapshot (NULL:
 * the request ended before routing; the current one names the Service).
 * Logs the request at debug level. Resets @m for the next request.
 */
void px_metrics_done(int worker, struct px_req_metrics *m,
		     const struct px_snapshot *snap,
		     const struct ambit_svc_key *svc, const struct l7_rule *rule);

enum px_conn_event { PX_CONN_ACCEPTED, PX_CONN_NOT_REDIRECTED, PX_CONN_OVER_LIMIT,
		     PX_CONN_CLOSED, PX_CONN_N };

/** px_metrics_conn() - count a connection event of worker @worker. */
void px_metrics_conn(int worker, enum px_conn_event ev);

/**
 * px_metrics_start() - serve the metrics on unix socket @path (created
 * 0600, an older one replaced) from a thread of their own. Return: 0 or
 * -errno, logged.
 */
int px_metrics_start(const char *path);

/**
 * px_log_level_follow() - take the level ambitd publishes in @path now,
 * and again whenever px_log_level_changed() is told that file changed.
 */
void px_log_level_follow(const char *path);

/** px_log_level_changed() - @name changed in the watched directory. */
void px_log_level_changed(const char *name);

#endif
