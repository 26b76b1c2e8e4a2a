/* SPDX-License-Identifier: Apache-2.0 */
/* Identities the BPF programs see: cgroup v2 ids and netns cookies. */
#ifndef AMBIT_NSUTIL_H
#define AMBIT_NSUTIL_H

#include <linux/types.h>
#include <stddef.h>

#include "model.h"

/** cgroup_id_of() - the cgroup v2 id of directory @path, or 0 (errno). */
__u64 cgroup_id_of(const char *path);

/**
 * netns_cookie_of() - the cookie of the network namespace at @path (e.g.
 * /run/netns/NAME or /proc/PID/ns/net). Return: 0 or -errno.
 */
int netns_cookie_of(const char *path, __u64 *cookie);

/** netns_cookie_of_fd() - the same for an open namespace fd. */
int netns_cookie_of_fd(int fd, __u64 *cookie);

/** sock_netns_cookie() - the namespace socket @fd belongs to; 0 or -errno. */
int sock_netns_cookie(int fd, __u64 *cookie);

/* Open network namespaces, each once (by nsfs device and inode). */
struct netns_set {
	int *fds;
	__u64 *ids; /* st_dev << 32 ^ st_ino of each, to skip duplicates */
	size_t n, cap;
};

/**
 * netns_set_add() - open the network namespace at @path (a bind mount
 * such as /run/netns/NAME, or /proc/TID/ns/net) unless @s has it already.
 * Return: 0 (added or known) or -errno (the path is not there, or not a
 * namespace we may open). Free the set with netns_set_free().
 */
int netns_set_add(struct netns_set *s, const char *path);

/**
 * netns_set_add_cgroup() - the network namespaces of every thread in
 * cgroup v2 directory @dir (its cgroup.threads; not its children).
 * Threads that exit meanwhile are skipped. Return: 0 or -errno
 * (cgroup.threads unreadable, or -ENOMEM).
 */
int netns_set_add_cgroup(struct netns_set *s, const char *dir);

/** netns_set_free() - close every namespace and empty @s. */
void netns_set_free(struct netns_set *s);
/**
 * netns_addrs() - the IPv4 and IPv6 addresses of the interfaces inside the
 * network namespace at @path (loopback left out), at most @max of them
 * into @out, their count in *@n. Return: 0 or -errno.
 */
int netns_addrs(const char *path, struct ip_addr *out, size_t max, size_t *n);

#endif
