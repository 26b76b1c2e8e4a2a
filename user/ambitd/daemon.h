/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's state and the pieces its commands share. */
#ifndef AMBITD_DAEMON_H
#define AMBITD_DAEMON_H

#include <limits.h>
#include <stdbool.h>

#include "compile.h"
#include "dataplane.h"
#include "destroy.h"
#include "diag.h"
#include "mapsync.h"
#include "metrics.h"
#include "proto.h"
#include "sbuf.h"
#include "store.h"
#include "supervise.h"
#include "validate.h"

/* One Enrollment resolved to what the BPF programs check. */
struct enrolled {
	const struct object *obj;
	__u32 kind; /* AMBIT_ENROLL_* */
	__u64 id;   /* netns cookie or cgroup id; 0 when unresolved */
	int err;    /* why unresolved (-errno), 0 otherwise */
};

struct enroll_set {
	struct enrolled *v;
	size_t n;
};

/* Commands that change the configuration, counted for metrics. */
enum tx_verb { TX_APPLY, TX_DELETE, TX_ENROLL, TX_UNENROLL, TX_SYNC, TX_POD,
	       TX_N };

/* Their command names: "apply", ... */
extern const char *const tx_verb_names[TX_N];
#define POD_BIND_MAX_IPS 8

/* Which network namespace a pod has: told by CNI, or found by address. */
struct pod_binding {
	char *ns;           /* the pod, malloc'd */
	char *name;
	char *netns;        /* its network namespace path */
	char *container_id; /* the CNI sandbox, NULL when not known */
	struct ip_addr ips[POD_BIND_MAX_IPS];
	size_t n_ips;
	bool discovered;    /* found in --netns-dir, not attached by CNI */
};

struct pod_table {
	struct pod_binding *v;
	size_t n, cap;
};

struct daemon {
	struct dataplane dp;
	struct mapsync ms;
	struct store st;
	struct image img;      /* compiled from st */
	struct enroll_set en;  /* resolved from st */
	char state_path[PATH_MAX];
	char counters_path[PATH_MAX]; /* applies, next to the state they count */
	char socket_path[PATH_MAX];
	int listen_fd;
	__u16 proxy_port;      /* 0: no proxy, L7 services left alone */
	struct supervisor sup; /* ambit-proxy, when --proxy-bin is given */
	struct destroyer ds;   /* closes connections to removed endpoints */
	__u64 applies;
	__u64 apply_errors;
	__u64 tx[TX_N];        /* configuration changes by command ... */
	__u64 tx_errors[TX_N]; /* ... and those refused */
	struct metrics_server metrics;
	char state_dir[PATH_MAX];
	struct pod_table pods;     /* pod -> netns, persisted in pods_path */
	char pods_path[PATH_MAX];
	char netns_dir[PATH_MAX];  /* where pods' namespaces are found */
};

/**
 * daemon_transact() - make candidate @c the running configuration:
 * validate, resolve enrollments, compile, persist, write maps, commit.
 * On any failure nothing changes and the reasons go to @err.
 * @c is consumed either way. Return: 0 or -errno.
 */
int daemon_transact(struct daemon *d, struct candidate *c,
		    const struct validate_opts *vo, struct sbuf *err);

/**
 * counters_load() - the apply counters a previous daemon saved in
 * d->counters_path, so a restart goes on counting. A missing file means
 * none yet; an unreadable one is logged and counting starts at 0.
 */
void counters_load(struct daemon *d);

/** daemon_dry_run() - daemon_transact() up to, not including, publishing. */
int daemon_dry_run(struct daemon *d, struct candidate *c,
		   const struct validate_opts *vo, struct sbuf *err);

/**
 * daemon_close_stale() - the maps now hold @img (compiled from @all, with
 * enrollments @en) instead of d->img: close the connections ambit made
 * along (service port, endpoint) pairs the change took away, at once and
 * again after the endpoint-set grace period. Best effort: failures are
 * logged, never undo the change.
 */
void daemon_close_stale(struct daemon *d, const struct image *img,
			const struct objvec *all, const struct enroll_set *en);

/** daemon_stale_tick() - run the deferred second pass once it is due. */
void daemon_stale_tick(struct daemon *d, __u64 now);

/**
 * enroll_resolve() - netns cookies / cgroup ids for every Enrollment in
 * @all. An unresolvable path of an Enrollment in @checked (the objects a
 * change brings) is an error in @dg; any other is recorded in its entry
 * (a workload that went away since; restore at start-up passes NULL).
 * Return: 0, -EINVAL, -ENOMEM.
 */
int enroll_resolve(const struct objvec *all, struct enroll_set *out,
		   struct diags *dg, const struct objvec *checked);

/* ---- pods (pods.c): enrollment by labels ---------------------------------- */

/**
 * pods_derive() - make the Enrollments ambitd manages in candidate @c
 * match its pods: one for each attached pod whose labels (its Pod and
 * Namespace objects in @c) put it in the mesh, none for any other.
 * Return: 0 or -ENOMEM.
 */
int pods_derive(struct daemon *d, struct candidate *c);

/**
 * pods_start() - at start-up: read the persisted pod table, drop pods
 * whose namespace is gone, find namespaces of pods that have none, and
 * bring the managed Enrollments in line. Problems are logged.
 */
void pods_start(struct daemon *d);

/**
 * pods_after_sync() - Pods arrived: find the namespaces of those that have
 * none (by their addresses, in --netns-dir), forget discovered ones whose
 * Pod is gone, and re-derive if that changed anything. Messages to @out.
 */
void pods_after_sync(struct daemon *d, struct sbuf *out);

/**
 * pods_find() - the binding of pod @ns/@name, or NULL.
 */
const struct pod_binding *pods_find(const struct daemon *d, const char *ns,
				    const char *name);

/** pods_free() - release the pod table. */
void pods_free(struct daemon *d);

/** enroll_sync() - make the enroll map hold exactly @en. 0 or -errno. */
int enroll_sync(int map_fd, const struct enroll_set *en);

/** enroll_set_free() - release @en. */
void enroll_set_free(struct enroll_set *en);

/* ---- ambit get (cmd_get.c, cmd_get_pods.c) ---------------------------------- */

enum out_fmt { FMT_TABLE, FMT_WIDE, FMT_JSON, FMT_YAML };

/** print_yaml() - the stored objects of @kind as YAML documents. */
void print_yaml(const struct daemon *d, int kind, struct sbuf *out);

/** get_pods() - Pods and attached pods: netns, enrolled or not, and why. */
void get_pods(const struct daemon *d, int fmt, struct sbuf *out);

/** get_namespaces() - Namespaces and the mesh mode their labels ask. */
void get_namespaces(const struct daemon *d, int fmt, struct sbuf *out);

/*
 * Per-CPU counters (ambit_stats_val, ambit_ep_stats_val): values made of
 * __u64 counters only, each a multiple of 8 bytes, so the kernel's per-CPU
 * copies lie back to back without padding.
 */
/** percpu_sum() - add up @ncpu copies at @pc into @sum (@size bytes). */
void percpu_sum(void *sum, const void *pc, size_t size, int ncpu);

/** percpu_lookup_sum() - @key's copies in per-CPU map @fd, added up into
 * @sum. Return: 0 or -errno. */
int percpu_lookup_sum(int fd, const void *key, void *sum, size_t size);

/** Command handlers: exit code 0/1, text for stdout in @out, stderr @err. */
int cmd_apply(struct daemon *d, struct request *rq, struct sbuf *out,
	      struct sbuf *err);
int cmd_delete(struct daemon *d, struct request *rq, struct sbuf *out,
	       struct sbuf *err);
int cmd_get(struct daemon *d, struct request *rq, struct sbuf *out,
	    struct sbuf *err);
int cmd_describe(struct daemon *d, struct request *rq, struct sbuf *out,
		 struct sbuf *err);
int cmd_enroll(struct daemon *d, struct request *rq, struct sbuf *out,
	       struct sbuf *err);
int cmd_unenroll(struct daemon *d, struct request *rq, struct sbuf *out,
		 struct sbuf *err);
int cmd_trace(struct daemon *d, struct request *rq, struct sbuf *out,
	      struct sbuf *err);
int cmd_stats(struct daemon *d, struct request *rq, struct sbuf *out,
	      struct sbuf *err);
int cmd_proxy(struct daemon *d, struct request *rq, struct sbuf *out,
	      struct sbuf *err);
int cmd_log_level(struct daemon *d, struct request *rq, struct sbuf *out,
		  struct sbuf *err);

/**
 * log_level_publish() - write the current log level to <state>/log-level,
 * where ambit-proxy picks it up (it watches the directory). 0 or -errno.
 */
int log_level_publish(const struct daemon *d);
int cmd_pod(struct daemon *d, struct request *rq, struct sbuf *out,
	    struct sbuf *err);
int cmd_sync(struct daemon *d, struct request *rq, struct sbuf *out,
	     struct sbuf *err);

#endif
