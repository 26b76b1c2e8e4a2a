// SPDX-License-Identifier: Apache-2.0
/*
 * Upstream connections and the per-worker pool of idle ones. A pooled
 * connection stays registered for input: any byte or hang-up while idle
 * means the backend is done with it, so it is closed, never reused. A
 * new snapshot closes pooled connections to endpoints it no longer has.
 */
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"

#define POOL_MAX_PER_WORKER 1024

static int sockaddr_of(const struct ambit_ep_val *ep, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (ep->family == AMBIT_FAMILY_V4) {
		struct sockaddr_in *in = (void *)ss;

		in->sin_family = AF_INET;
		in->sin_port = ep->port;
		memcpy(&in->sin_addr, ep->addr, 4);
		*len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (void *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = ep->port;
		memcpy(&in6->sin6_addr, ep->addr, 16);
		*len = sizeof(*in6);
	}
	return ss->ss_family;
}

/*
 * A socket made in @netns_fd (a pod's namespace: it must reach backends
 * the way the pod would). setns() moves only this thread, and only for
 * the socket() call.
 */
static int socket_in(int family, int netns_fd)
{
	int fd, err;

	if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0)
		return -errno;
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	err = fd < 0 ? -errno : 0;
	if (netns_fd >= 0 && setns(px_cfg.home_netns_fd, CLONE_NEWNET) < 0)
		pr_err("cannot return to the proxy's namespace: %s", strerror(errno));
	return fd < 0 ? err : fd;
}

/* Our own sockets carry the proxy mark: the BPF programs leave them be. */
int px_upstream_socket(const struct ambit_ep_val *ep, int netns_fd)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;
	int fd = socket_in(sockaddr_of(ep, &ss, &len), netns_fd);

	if (fd < 0)
		return fd;
	if (px_cfg.mark)
		setsockopt(fd, SOL_SOCKET, SO_MARK, &px_cfg.mark, sizeof(px_cfg.mark));
	setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static struct px_upstream *pool_take(struct px_worker *w,
				     const struct ambit_ep_val *ep, int netns_fd)
{
	struct px_upstream **pp, *u;

	for (pp = &w->pool; (u = *pp); pp = &u->next) {
		if (u->netns_fd == netns_fd && !memcmp(&u->ep, ep, sizeof(*ep))) {
			*pp = u->next;
			u->next = NULL;
			w->n_pool--;
			return u;
		}
	}
	return NULL;
}

struct px_upstream *px_upstream_get(struct px_worker *w,
				    const struct ambit_ep_val *ep, int netns_fd,
				    int *err)
{
	struct px_upstream *u = pool_take(w, ep, netns_fd);

	if (u) {
		u->reused = true;
		return u;
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		*err = -ENOMEM;
		return NULL;
	}
	u->fd = px_upstream_socket(ep, netns_fd);
	u->netns_fd = netns_fd;
	if (u->fd < 0) {
		*err = u->fd;
		free(u);
		return NULL;
	}
	u->h.kind = PX_UPSTREAM;
	u->h.ptr = u;
	u->ep = *ep;
	u->w = w;
	return u;
}

static void upstream_close(struct px_upstream *u)
{
	close(u->fd); /* also leaves the epoll set */
	px_defer_free(u->w, &u->h);
}

void px_upstream_release(struct px_upstream *u, bool reusable)
{
	struct px_worker *w = u->w;

	u->owner = NULL;
	if (!reusable || !u->connected || w->draining ||
	    w->n_pool >= POOL_MAX_PER_WORKER ||
	    px_epoll_set(w, u->fd, &u->h, &u->events, EPOLLIN | EPOLLRDHUP)) {
		upstream_close(u);
		return;
	}
	u->idle_since = px_now_ms();
	u->next = w->pool;
	w->pool = u;
	w->n_pool++;
}

/* Activity on an idle pooled connection: the backend closed it. */
void px_upstream_pool_event(struct px_upstream *u)
{
	struct px_worker *w = u->w;
	struct px_upstream **pp;

	for (pp = &w->pool; *pp; pp = &(*pp)->next) {
		if (*pp == u) {
			*pp = u->next;
			w->n_pool--;
			upstream_close(u);
			return;
		}
	}
}

void px_upstream_reap(struct px_worker *w, uint64_t now)
{
	struct px_upstream **pp = &w->pool, *u;

	while ((u = *pp)) {
		if (w->draining || now - u->idle_since > px_cfg.pool_idle_ms) {
			*pp = u->next;
			w->n_pool--;
			upstream_close(u);
		} else {
			pp = &u->next;
		}
	}
}

/*
 * A new snapshot: pooled connections to endpoints it no longer has go now.
 * They would never be taken again (a request takes a pooled connection
 * only for the endpoint it just chose), but until they idled out they
 * would hold the removed backend's resources. Connections in use finish
 * their exchange (or tunnel) first.
 */
void px_upstream_prune(struct px_worker *w)
{
	struct px_snapshot *s = px_snapshot_current();
	struct px_upstream **pp = &w->pool, *u;

	if (!s || s->version == w->pool_version) {
		px_snapshot_put(s);
		return;
	}
	w->pool_version = s->version;
	while ((u = *pp)) {
		if (px_snapshot_has_endpoint(s, &u->ep)) {
			pp = &u->next;
			continue;
		}
		*pp = u->next;
		w->n_pool--;
		upstream_close(u);
	}
	px_snapshot_put(s);
}
