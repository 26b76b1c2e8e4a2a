/* SPDX-License-Identifier: Apache-2.0 */
/* Identities the BPF programs see: cgroup v2 ids and netns cookies. */
#ifndef AMBIT_NSUTIL_H
#define AMBIT_NSUTIL_H

#include <linux/types.h>

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

#endif
