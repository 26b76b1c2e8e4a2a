/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus metrics of the node: ambitd answers GET /metrics on a
 * loopback port from its own event loop, one connection at a time, never
 * blocking on a client (non-blocking socket, bounded request, deadline).
 * A scrape reads the BPF counters, the daemon's own counts and map
 * occupancy, and appends what ambit-proxy reports on its metrics socket.
 */
#ifndef AMBITD_METRICS_H
#define AMBITD_METRICS_H

#include <limits.h>
#include <linux/types.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "sbuf.h"

#define METRICS_DEFAULT_ADDR "127.0.0.1:15020"
#define METRICS_MAX_REQUEST 8192 /* a request head larger than this: 431 */
#define METRICS_CONN_MS 5000     /* a client has this long, start to end */
#define METRICS_PROXY_MS 2000    /* the proxy has this long to answer */
#define METRICS_PROXY_MAX (64u << 20)
#define METRICS_PRUNE_MS 30000   /* how often stale counters are dropped */

struct daemon;

struct metrics_server {
	int listen_fd;   /* -1: metrics off */
	int conn_fd;     /* the client being served, -1: none */
	bool writing;    /* request read, response going out */
	bool lingering;  /* response sent: read until the client closes */
	char req[METRICS_MAX_REQUEST];
	size_t req_len;
	struct sbuf resp;
	size_t resp_off;
	__u64 deadline_ms;
	__u64 next_prune_ms;
	char addr[64];   /* as given, for logs */
	char proxy_sock[PATH_MAX];
	bool proxy_unreachable; /* at the last scrape: log changes only */
	double start_time; /* the daemon's, seconds since the epoch */
};

/**
 * metrics_parse_addr() - check "ADDR:PORT" ("[ADDR]:PORT" for IPv6) for
 * --metrics: a numeric address and a port 1-65535, on loopback unless
 * @allow_remote. Metrics name every Service, endpoint and route of the
 * node and the listener has neither TLS nor authentication, so leaving
 * the node must be asked for. Return: 0, or -EINVAL with @err filled.
 */
int metrics_parse_addr(const char *text, bool allow_remote,
		       struct sockaddr_storage *ss, char *err, size_t errlen);

/**
 * metrics_init() - prepare @m (off) and note the start time; @state_dir is
 * where the proxy's metrics socket is. Call first.
 */
void metrics_init(struct metrics_server *m, const char *state_dir);

/**
 * metrics_listen() - listen on @addr (already checked). Return: 0 or
 * -errno, logged.
 */
int metrics_listen(struct metrics_server *m, const char *addr,
		   const struct sockaddr_storage *ss);

/** metrics_pollfd() - what to poll for metrics; 0 when off, else 1. */
int metrics_pollfd(const struct metrics_server *m, struct pollfd *p);

/** metrics_event() - progress on @revents of the fd metrics_pollfd() gave. */
void metrics_event(struct daemon *d, short revents);

/** metrics_tick() - expire a slow client; drop stale counters now and then. */
void metrics_tick(struct daemon *d, __u64 now);

/**
 * metrics_render() - the whole exposition text of the node into @out.
 * Return: 0 or -ENOMEM.
 */
int metrics_render(struct daemon *d, struct sbuf *out);

/**
 * metrics_prune() - delete BPF counters of service ports that are gone
 * and of endpoints a service port no longer sends to, so pod churn
 * neither fills the counter maps nor keeps dead series alive.
 */
void metrics_prune(struct daemon *d);

/** metrics_close() - stop listening, drop a client in progress. */
void metrics_close(struct metrics_server *m);

#endif
