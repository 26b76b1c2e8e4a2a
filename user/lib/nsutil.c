// SPDX-License-Identifier: Apache-2.0
#include "nsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

__u64 cgroup_id_of(const char *path)
{
	struct {
		struct file_handle fh;
		__u64 id;
	} h = { .fh.handle_bytes = sizeof(__u64) };
	int mount_id;

	/* On cgroup2 the file handle of a directory is its 64-bit id. */
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) < 0)
		return 0;
	return h.id;
}

struct cookie_req {
	int fd;
	__u64 cookie;
	int err;
};

/* setns() only moves the calling thread: do it in a throwaway thread. */
static void *cookie_thread(void *arg)
{
	struct cookie_req *r = arg;
	socklen_t len = sizeof(r->cookie);
	int s;

	if (setns(r->fd, CLONE_NEWNET) < 0) {
		r->err = -errno;
		return NULL;
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		r->err = -errno;
		return NULL;
	}
	if (getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &r->cookie, &len) < 0)
		r->err = -errno;
	close(s);
	return NULL;
}

int sock_netns_cookie(int fd, __u64 *cookie)
{
	socklen_t len = sizeof(*cookie);

	return getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len) < 0 ?
		       -errno : 0;
}

int netns_cookie_of_fd(int fd, __u64 *cookie)
{
	struct cookie_req r = { .fd = fd };
	pthread_t t;
	int err;

	err = pthread_create(&t, NULL, cookie_thread, &r);
	if (!err)
		pthread_join(t, NULL);
	if (err)
		return -err;
	*cookie = r.cookie;
	return r.err;
}

int netns_cookie_of(const char *path, __u64 *cookie)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	err = netns_cookie_of_fd(fd, cookie);
	close(fd);
	return err;
}


static bool netns_known(const struct netns_set *s, __u64 id)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->ids[i] == id)
			return true;
	}
	return false;
}

static int netns_grow(struct netns_set *s)
{
	size_t cap = s->cap ? s->cap * 2 : 8;
	int *fds = realloc(s->fds, cap * sizeof(*fds));
	__u64 *ids;

	if (!fds)
		return -ENOMEM;
	s->fds = fds;
	ids = realloc(s->ids, cap * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	s->ids = ids;
	s->cap = cap;
	return 0;
}

int netns_set_add(struct netns_set *s, const char *path)
{
	struct stat st;
	__u64 id;
	int fd, err;

	/* stat() follows the magic link to the namespace's nsfs inode. */
	if (stat(path, &st) < 0)
		return -errno;
	id = ((__u64)st.st_dev << 32) ^ (__u64)st.st_ino;
	if (netns_known(s, id))
		return 0;
	if (s->n == s->cap && (err = netns_grow(s)))
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	s->fds[s->n] = fd;
	s->ids[s->n++] = id;
	return 0;
}

int netns_set_add_cgroup(struct netns_set *s, const char *dir)
{
	char path[PATH_MAX];
	FILE *f;
	long tid;
	int err = 0;

	snprintf(path, sizeof(path), "%s/cgroup.threads", dir);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (err != -ENOMEM && fscanf(f, "%ld", &tid) == 1) {
		snprintf(path, sizeof(path), "/proc/%ld/ns/net", tid);
		err = netns_set_add(s, path);
	}
	fclose(f);
	return err == -ENOMEM ? err : 0;
}

void netns_set_free(struct netns_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		close(s->fds[i]);
	free(s->fds);
	free(s->ids);
	memset(s, 0, sizeof(*s));
}

struct addrs_req {
	int fd;
	struct ip_addr *out;
	size_t max, n;
	int err;
};

static void add_addr(struct addrs_req *r, const struct sockaddr *sa)
{
	struct ip_addr *a = &r->out[r->n];

	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)sa->sa_family;
	if (sa->sa_family == AF_INET)
		memcpy(a->bytes, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	else
		memcpy(a->bytes, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		       16);
	r->n++;
}

/* getifaddrs() asks netlink in the thread's namespace: move there first. */
static void *addrs_thread(void *arg)
{
	struct addrs_req *r = arg;
	struct ifaddrs *ifa, *i;

	if (setns(r->fd, CLONE_NEWNET) < 0 || getifaddrs(&ifa) < 0) {
		r->err = -errno;
		return NULL;
	}
	for (i = ifa; i && r->n < r->max; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (i->ifa_addr->sa_family == AF_INET ||
		    i->ifa_addr->sa_family == AF_INET6)
			add_addr(r, i->ifa_addr);
	}
	freeifaddrs(ifa);
	return NULL;
}

int netns_addrs(const char *path, struct ip_addr *out, size_t max, size_t *n)
{
	struct addrs_req r = { .out = out, .max = max };
	pthread_t t;
	int err;

	*n = 0;
	r.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r.fd < 0)
		return -errno;
	err = pthread_create(&t, NULL, addrs_thread, &r);
	if (!err)
		pthread_join(t, NULL);
	close(r.fd);
	if (err)
		return -err;
	*n = r.n;
	return r.err;
}
