// SPDX-License-Identifier: Apache-2.0
/*
 * RequestMirror: fire and forget. A copy of the request goes to the mirror
 * backend on its own connection; its answer is read and dropped, and
 * nothing about it (failure, slowness) ever reaches the client. Bounded:
 * at most MIRROR_MAX in flight per worker, each for at most MIRROR_MS.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"

#define MIRROR_MAX 1024
#define MIRROR_MS 5000

static void mirror_close(struct px_mirror *m)
{
	struct px_worker *w = m->w;

	close(m->fd);
	if (m->prev)
		m->prev->next = m->next;
	else
		w->mirrors = m->next;
	if (m->next)
		m->next->prev = m->prev;
	w->n_mirrors--;
	free(m->buf);
	px_defer_free(w, &m->h);
}

void px_mirror_send(struct px_worker *w, const struct ambit_ep_val *ep,
		    int netns_fd, const char *data, size_t len)
{
	struct px_mirror *m;

	if (w->n_mirrors >= MIRROR_MAX || !(m = calloc(1, sizeof(*m))))
		return;
	m->buf = malloc(len);
	m->fd = px_upstream_socket(ep, netns_fd);
	if (!m->buf || m->fd < 0) {
		if (m->fd >= 0)
			close(m->fd);
		free(m->buf);
		free(m);
		return;
	}
	memcpy(m->buf, data, len);
	m->len = len;
	m->w = w;
	m->h.kind = PX_MIRROR;
	m->h.ptr = m;
	m->deadline = px_now_ms() + MIRROR_MS;
	m->next = w->mirrors;
	if (w->mirrors)
		w->mirrors->prev = m;
	w->mirrors = m;
	w->n_mirrors++;
	if (px_epoll_set(w, m->fd, &m->h, &m->events, EPOLLOUT))
		mirror_close(m);
}

void px_mirror_event(struct px_mirror *m, uint32_t ev)
{
	char sink[4096];
	ssize_t n;

	if (ev & (EPOLLERR | EPOLLHUP | EPOLLIN)) {
		/* An answer (or an error): the mirror has done its job. */
		while ((n = read(m->fd, sink, sizeof(sink))) > 0)
			;
		mirror_close(m);
		return;
	}
	while (m->off < m->len) {
		n = send(m->fd, m->buf + m->off, m->len - m->off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN)
				mirror_close(m);
			return;
		}
		m->off += (size_t)n;
	}
	if (px_epoll_set(m->w, m->fd, &m->h, &m->events, EPOLLIN | EPOLLRDHUP))
		mirror_close(m);
}

void px_mirror_timeouts(struct px_worker *w, uint64_t now)
{
	struct px_mirror *m = w->mirrors, *next;

	for (; m; m = next) {
		next = m->next;
		if (now >= m->deadline)
			mirror_close(m);
	}
}
