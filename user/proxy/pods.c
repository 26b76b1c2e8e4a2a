// SPDX-License-Identifier: Apache-2.0
/*
 * Listeners inside enrolled pods' network namespaces. A pod enrolled by its
 * netns sends L7 connections to 127.0.0.1:PORT of its own namespace; the
 * proxy, living in the node's namespace, opens that listener there (a
 * socket belongs to the namespace it was created in) and connects upstream
 * from the pod's namespace too, so backends see the pod's address, as in
 * ambient meshes' node proxies. Pods sharing the proxy's namespace need
 * nothing extra. Main thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "nsutil.h"

#define PODS_MAX 4096

struct pod {
	char *path;
	int netns_fd;
	__u64 netns;                   /* its cookie */
	bool seen;                     /* in the current snapshot */
	struct px_listener **listeners; /* 2 per worker, plus inherited extras */
	size_t n_listeners;
};

static struct pod pods[PODS_MAX];
static size_t n_pods;

static bool is_home(int fd)
{
	__u64 a = 0, b = 0;

	return !netns_cookie_of_fd(fd, &a) &&
	       !netns_cookie_of_fd(px_cfg.home_netns_fd, &b) && a == b;
}

/* A listener made inside the pod namespace, unless the proxy we took over
 * from handed us one. */
static int pod_socket(struct pod *p, int family)
{
	int fd = px_inherited_take(family, p->netns);

	if (fd >= 0)
		return fd;
	if (setns(p->netns_fd, CLONE_NEWNET) < 0)
		return -errno;
	fd = px_listen_on(family, px_cfg.port);
	if (setns(px_cfg.home_netns_fd, CLONE_NEWNET) < 0)
		return -errno;
	return fd;
}

/* Both loopback listeners of one worker, in the pod namespace. */
static int pod_listen(struct pod *p, struct px_worker *w, int i)
{
	static const int families[2] = { AF_INET, AF_INET6 };
	int k, fd, err = 0;

	for (k = 0; k < 2 && !err; k++) {
		fd = pod_socket(p, families[k]);
		/* A pod without IPv6 is fine: IPv4 is required. */
		if (fd < 0 && k == 1)
			continue;
		err = fd < 0 ? fd : px_worker_add_listener(w, fd, p->netns_fd,
							  &p->listeners[i * 2 + k]);
	}
	return err;
}

static void pod_close(struct pod *p)
{
	size_t i;

	for (i = 0; p->listeners && i < p->n_listeners; i++) {
		if (p->listeners[i])
			px_listener_close(p->listeners[i]);
	}
	pr_info("pod %s: listeners closed", p->path);
	/* The netns fd stays open: upstreams made there may still be used. */
	free(p->listeners);
	free(p->path);
	*p = pods[--n_pods];
}

static void pod_open(const char *path, struct px_worker *w, int n)
{
	struct pod *p = &pods[n_pods];
	int i, err = 0, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || is_home(fd)) {
		if (fd < 0)
			pr_warn("pod %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	memset(p, 0, sizeof(*p));
	p->netns_fd = fd;
	p->path = strdup(path);
	p->n_listeners = (size_t)n * 2;
	p->listeners = calloc(p->n_listeners, sizeof(*p->listeners));
	p->seen = true;
	n_pods++;
	err = netns_cookie_of_fd(fd, &p->netns);
	for (i = 0; i < n && !err && p->listeners; i++)
		err = pod_listen(p, &w[i], i);
	if (!err && p->listeners)
		err = px_adopt_inherited(w, n, p->netns, fd, &p->listeners,
					 &p->n_listeners);
	if (err || !p->path || !p->listeners) {
		pr_err("pod %s: cannot listen on port %u there: %s", path,
		       px_cfg.port, strerror(-err));
		pod_close(p);
		return;
	}
	pr_info("pod %s: listening on its loopback port %u", path, px_cfg.port);
}

static struct pod *pod_find(const char *path)
{
	size_t i;

	for (i = 0; i < n_pods; i++) {
		if (!strcmp(pods[i].path, path))
			return &pods[i];
	}
	return NULL;
}

void px_pods_sync(struct px_worker *w, int n, const struct px_snapshot *s)
{
	struct pod *p;
	size_t i;

	for (i = 0; i < n_pods; i++)
		pods[i].seen = false;
	for (i = 0; i < s->objs.n; i++) {
		const struct object *o = s->objs.v[i];

		if (o->kind != OBJ_ENROLLMENT || !o->enr.netns_path)
			continue;
		p = pod_find(o->enr.netns_path);
		if (p)
			p->seen = true;
		else if (n_pods < PODS_MAX)
			pod_open(o->enr.netns_path, w, n);
	}
	for (i = n_pods; i-- > 0;) {
		if (!pods[i].seen)
			pod_close(&pods[i]);
	}
}
