/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The BPF side of the daemon: load the programs, attach them to one cgroup
 * subtree with pinned links, and reuse what a previous daemon pinned so a
 * restart never leaves a gap in redirection.
 */
#ifndef AMBITD_DATAPLANE_H
#define AMBITD_DATAPLANE_H

#include <linux/types.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "nsutil.h"

struct connect_bpf;
struct sockops_bpf;
struct redir_bpf;

struct dp_sizes {
	__u32 services;
	__u32 endpoints;
	__u32 enroll;
};

struct dataplane {
	struct connect_bpf *skel;
	struct sockops_bpf *sockops;
	struct redir_bpf *redir;
	char bpffs[PATH_MAX];
	char cgroup[PATH_MAX];
	int cgroup_fd;
	__u64 cgroup_id;
	int services_fd; /* map fds, owned by the skeleton */
	int endpoints_fd;
	int enroll_fd;
	int stats_fd;
	int ep_stats_fd;
	int config_fd;
	int adopted; /* links found pinned and updated in place */
	struct dp_sizes sizes;
};

/**
 * dp_open() - load, pin and attach. Maps pinned under @bpffs by an earlier
 * daemon are reused (their contents keep serving); pinned links are
 * switched to the new programs atomically with BPF_LINK_UPDATE.
 * Return: 0 or -errno, with the reason logged.
 */
int dp_open(struct dataplane *dp, const char *bpffs, const char *cgroup,
	    const struct dp_sizes *sz);

/**
 * dp_set_proxy() - send L7 services to the proxy on loopback port @port
 * of the client's namespace (0: no proxy, leave them alone); sockets
 * marked @mark are the proxy's own and never redirected; @sockmap turns
 * the local sk_msg fast path on. 0 or -errno.
 */
int dp_set_proxy(struct dataplane *dp, __u16 port, __u32 mark, bool sockmap);

struct bpf_object;

/**
 * dp_size_maps() - give @obj's maps the sizes of the pinned ones, so
 * another object that includes maps.bpf.h reuses them at load.
 */
void dp_size_maps(const struct dataplane *dp, struct bpf_object *obj);

/** dp_close() - drop our references; pinned state keeps working. */
void dp_close(struct dataplane *dp);

/** dp_teardown() - detach every link and unpin everything (clean stop). */
int dp_teardown(struct dataplane *dp);

/**
 * cgroup_resolve() - the absolute cgroup v2 directory for @in (absolute, or
 * relative to the discovered cgroup2 mount) into @out. Refuses anything
 * that is not cgroup v2, and the root cgroup unless @allow_root.
 * Return: 0 or -errno (logged).
 */
int cgroup_resolve(const char *in, bool allow_root, char *out, size_t size);

/** bpffs_prepare() - make @dir usable: mount bpffs where needed, mkdir. */
int bpffs_prepare(const char *dir);

#endif
