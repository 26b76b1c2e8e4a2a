// SPDX-License-Identifier: Apache-2.0
/*
 * Worker threads: each owns an epoll set, its own SO_REUSEPORT listeners
 * on 127.0.0.1 and ::1, its connections and its upstream pool, so workers
 * share nothing but the snapshot. A stop request closes the listeners;
 * the worker then drains: it keeps serving what it has until every
 * connection is done (or the drain deadline passes).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <stdint.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"

static volatile int stop_flag;

uint64_t px_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void px_request_stop(void)
{
	stop_flag = 1;
}

/* xorshift32: per worker, no locks; seeded from the clock and the id. */
uint32_t px_rand(struct px_worker *w)
{
	uint32_t x = w->rnd;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return w->rnd = x;
}

/*
 * Closing frees nothing at once: one epoll_wait batch can carry events for
 * a client and its upstream, and the first may close both. The handle is
 * marked dead and its memory freed once the batch is done.
 */
void px_defer_free(struct px_worker *w, struct px_handle *h)
{
	void **g;

	h->kind = PX_DEAD;
	if (w->n_graves == w->cap_graves) {
		size_t cap = w->cap_graves ? w->cap_graves * 2 : 64;

		g = realloc(w->graves, cap * sizeof(*g));
		if (!g) {
			/* Leaking one object beats touching freed memory. */
			pr_warn("worker %d: cannot defer a free", w->id);
			return;
		}
		w->graves = g;
		w->cap_graves = cap;
	}
	w->graves[w->n_graves++] = h;
}

static void bury(struct px_worker *w)
{
	while (w->n_graves)
		free(w->graves[--w->n_graves]);
}

int px_epoll_set(struct px_worker *w, int fd, struct px_handle *h,
		 uint32_t *cur, uint32_t want)
{
	struct epoll_event ev = { .events = want, .data.ptr = h };
	int op = *cur & PX_REGISTERED ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	if ((*cur & PX_REGISTERED) && (*cur & ~PX_REGISTERED) == want)
		return 0;
	if (epoll_ctl(w->epfd, op, fd, &ev) < 0)
		return -errno;
	*cur = want | PX_REGISTERED;
	return 0;
}

int px_listen_on(int family, uint16_t port)
{
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6,
				    .sin6_port = htons(port),
				    .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if ((family == AF_INET ? bind(fd, (struct sockaddr *)&in, sizeof(in))
			       : bind(fd, (struct sockaddr *)&in6, sizeof(in6))) < 0 ||
	    listen(fd, 4096) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Called by the main thread too (pods): epoll_ctl is thread-safe, the
 * list is guarded. */
int px_worker_add_listener(struct px_worker *w, int fd, int netns_fd,
			   struct px_listener **out)
{
	struct px_listener *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->h.kind = PX_LISTENER;
	l->h.ptr = l;
	l->fd = fd;
	l->netns_fd = netns_fd;
	l->w = w;
	if (px_epoll_set(w, fd, &l->h, &l->events, EPOLLIN)) {
		free(l);
		return -errno;
	}
	pthread_mutex_lock(&w->lock);
	l->next = w->listeners;
	w->listeners = l;
	pthread_mutex_unlock(&w->lock);
	if (out)
		*out = l;
	return 0;
}

/*
 * Stop polling before closing: another process (the proxy taking over
 * from us) may hold the same socket, and then close() alone would leave
 * it in our epoll set, ready forever.
 */
void px_listener_close(struct px_listener *l)
{
	pthread_mutex_lock(&l->w->lock);
	if (!l->closed) {
		epoll_ctl(l->w->epfd, EPOLL_CTL_DEL, l->fd, NULL);
		close(l->fd);
	}
	l->closed = true; /* freed with the worker: events may be queued */
	pthread_mutex_unlock(&l->w->lock);
}

/*
 * Inherited sockets nobody took yet for namespace @netns: the old proxy
 * had more workers than we do. Closing one would drop the connections
 * queued on it, so the workers share them out.
 */
int px_adopt_inherited(struct px_worker *w, int n, __u64 netns, int netns_fd,
		       struct px_listener ***list, size_t *n_list)
{
	static const int families[2] = { AF_INET, AF_INET6 };
	struct px_listener *l, **v;
	int i, k = 0, fd, err;

	for (i = 0; i < 2; i++) {
		while ((fd = px_inherited_take(families[i], netns)) >= 0) {
			err = px_worker_add_listener(&w[k++ % n], fd, netns_fd, &l);
			if (err) {
				close(fd);
				return err;
			}
			if (!list)
				continue;
			v = realloc(*list, (*n_list + 1) * sizeof(*v));
			if (!v)
				return -ENOMEM;
			v[(*n_list)++] = l;
			*list = v;
		}
	}
	return 0;
}

static int worker_listen(struct px_worker *w)
{
	static const int families[2] = { AF_INET, AF_INET6 };
	int i, fd;

	for (i = 0; i < 2; i++) {
		fd = px_inherited_take(families[i], px_cfg.home_netns);
		if (fd < 0)
			fd = px_listen_on(families[i], px_cfg.port);
		if (fd < 0) {
			pr_err("worker %d: listen on %s port %u: %s", w->id,
			       i ? "[::1]" : "127.0.0.1", px_cfg.port, strerror(-fd));
			return fd;
		}
		if (px_worker_add_listener(w, fd, -1, NULL))
			return -errno;
	}
	return 0;
}

static void dispatch(struct px_worker *w, struct epoll_event *ev)
{
	struct px_handle *h = ev->data.ptr;
	struct px_upstream *u;

	switch (h->kind) {
	case PX_DEAD:
		break; /* closed earlier in this batch */
	case PX_LISTENER:
		px_conn_accept(w, h->ptr);
		break;
	case PX_CLIENT:
		px_conn_event(h->ptr, false, ev->events);
		break;
	case PX_MIRROR:
		px_mirror_event(h->ptr, ev->events);
		break;
	case PX_UPSTREAM:
		u = h->ptr;
		if (u->owner)
			px_conn_event(u->owner, true, ev->events);
		else
			px_upstream_pool_event(u);
		break;
	}
}

static void stop_listening(struct px_worker *w)
{
	struct px_listener *l;

	pthread_mutex_lock(&w->lock);
	l = w->listeners;
	pthread_mutex_unlock(&w->lock);
	for (; l; l = l->next) /* the list only grows at its head */
		px_listener_close(l);
	w->draining = true;
}

static void free_listeners(struct px_worker *w)
{
	struct px_listener *l, *next;

	for (l = w->listeners; l; l = next) {
		next = l->next;
		free(l);
	}
	w->listeners = NULL;
}

static void loop(struct px_worker *w)
{
	struct epoll_event evs[256];
	uint64_t last_tick = 0, drain_end = 0, now;
	int n, i;

	for (;;) {
		n = epoll_wait(w->epfd, evs, 256, 100);
		for (i = 0; i < n; i++)
			dispatch(w, &evs[i]);
		bury(w);
		now = px_now_ms();
		if (stop_flag && !w->draining) {
			stop_listening(w);
			drain_end = now + px_cfg.drain_ms;
		}
		if (w->draining && (!w->n_conns || now >= drain_end))
			break;
		if (now - last_tick >= 100) {
			px_conn_timeouts(w, now);
			px_mirror_timeouts(w, now);
			px_upstream_reap(w, now);
			px_upstream_prune(w);
			px_buf_shrink(w, now);
			bury(w);
			last_tick = now;
		}
	}
}

int px_worker_init(struct px_worker *w, int id)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->rnd = (uint32_t)px_now_ms() * 2654435761u + (uint32_t)id + 1;
	pthread_mutex_init(&w->lock, NULL);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0)
		return -errno;
	return worker_listen(w);
}

void *px_worker_run(void *arg)
{
	struct px_worker *w = arg;

	loop(w);
	while (w->conns)
		px_conn_close(w->conns);
	px_mirror_timeouts(w, UINT64_MAX);
	w->draining = true;
	px_upstream_reap(w, px_now_ms());
	close(w->epfd);
	free_listeners(w);
	bury(w);
	free(w->graves);
	px_buf_release_all(w);
	return NULL;
}
