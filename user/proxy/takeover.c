// SPDX-License-Identifier: Apache-2.0
/*
 * Hitless replacement of a running proxy (upgrade, reload with new
 * options). The new process asks the old one for its listening sockets
 * (user/lib/handoff.h), serves on them, and only then tells it to go; the
 * old one stops accepting and drains. At no moment is the port closed:
 * the sockets, with the connections the kernel queued on them, never stop
 * existing, so no client is refused.
 *
 * Each inherited socket says itself which namespace and family it is in
 * (SO_NETNS_COOKIE, SO_DOMAIN), so the new process matches them to its own
 * listeners (its loopback, each enrolled pod's) without any side table.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "handoff.h"
#include "log.h"
#include "nsutil.h"

/* Ample for a takeover: the new process installs its workers and pods. */
#define DONE_TIMEOUT_MS 30000

struct inherited {
	int fd;
	int family;
	__u64 netns;
};

static struct inherited *inh;
static size_t n_inh;

static uint16_t port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

/* Only a TCP listener on our port is ours to serve; anything else is
 * closed (a holder of another version or a confused peer). */
static bool classify(int fd, struct inherited *out)
{
	int v = 0;
	socklen_t len = sizeof(v);

	out->fd = fd;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0 || !v)
		return false;
	len = sizeof(out->family);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &out->family, &len) < 0 ||
	    (out->family != AF_INET && out->family != AF_INET6))
		return false;
	return port_of(fd) == px_cfg.port && !sock_netns_cookie(fd, &out->netns);
}

static void keep_inherited(const int *fds, size_t n)
{
	struct inherited *v = realloc(inh, (n_inh + n + 1) * sizeof(*inh));
	size_t i;

	for (i = 0; i < n; i++) {
		if (v && classify(fds[i], &v[n_inh]))
			n_inh++;
		else
			close(fds[i]);
	}
	if (v)
		inh = v;
}

/*
 * Sockets passed at exec the systemd way (LISTEN_PID, LISTEN_FDS, from fd
 * 3): ambitd keeps copies of the proxy's listeners and hands them to the
 * proxy it starts after a crash, so connections that arrived meanwhile
 * wait in the kernel's queue instead of being refused. systemd socket
 * activation works the same way.
 */
void px_inherit_listen_fds(void)
{
	const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	int i, count, *fds;

	if (!pid || !n || atoi(pid) != (int)getpid())
		return;
	count = atoi(n);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	if (count <= 0 || count > HANDOFF_MAX_FDS || !(fds = calloc((size_t)count, sizeof(int))))
		return;
	for (i = 0; i < count; i++) {
		fds[i] = 3 + i;
		fcntl(fds[i], F_SETFD, FD_CLOEXEC);
	}
	keep_inherited(fds, (size_t)count);
	free(fds);
	pr_info("inherited %zu listening sockets at start", n_inh);
}

int px_takeover_begin(const char *path)
{
	int *fds, sock, err;
	size_t n;

	sock = handoff_connect(path);
	if (sock < 0)
		return sock; /* nobody to take over from: a fresh start */
	err = handoff_send_word(sock, "TAKE") ?:
	      handoff_recv_fds(sock, &fds, &n, HANDOFF_TIMEOUT_MS);
	if (err) {
		pr_warn("takeover from %s failed (%s): starting fresh", path,
			strerror(-err));
		close(sock);
		return err;
	}
	keep_inherited(fds, n);
	free(fds);
	pr_info("took over %zu listening sockets from the running proxy", n_inh);
	return sock;
}

int px_inherited_take(int family, __u64 netns)
{
	size_t i;
	int fd;

	for (i = 0; i < n_inh; i++) {
		if (inh[i].family != family || inh[i].netns != netns)
			continue;
		fd = inh[i].fd;
		inh[i] = inh[--n_inh];
		return fd;
	}
	return -1;
}

void px_takeover_finish(int sock)
{
	/* Sockets of pods that left meanwhile: nobody will serve them. */
	while (n_inh)
		close(inh[--n_inh].fd);
	free(inh);
	inh = NULL;
	if (sock < 0)
		return;
	if (handoff_send_word(sock, "DONE"))
		pr_warn("could not tell the old proxy to go: it keeps serving");
	close(sock);
}

/* Every listener still open, in every worker (pods' too). */
static int collect(struct px_worker *w, int n, int **fds, size_t *nfds)
{
	struct px_listener *l;
	size_t cap = 0;
	int i, *v;

	*fds = NULL;
	*nfds = 0;
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&w[i].lock);
		for (l = w[i].listeners; l; l = l->next) {
			if (l->closed)
				continue;
			if (*nfds == cap) {
				cap = cap ? cap * 2 : 16;
				v = realloc(*fds, cap * sizeof(int));
				if (!v) {
					pthread_mutex_unlock(&w[i].lock);
					return -ENOMEM;
				}
				*fds = v;
			}
			(*fds)[(*nfds)++] = l->fd;
		}
		pthread_mutex_unlock(&w[i].lock);
	}
	return 0;
}

static int send_listeners(int sock, struct px_worker *w, int n)
{
	size_t nfds;
	int *fds, err = collect(w, n, &fds, &nfds);

	if (!err)
		err = handoff_send_fds(sock, fds, nfds);
	free(fds);
	return err;
}

int px_handoff_serve(int lfd, struct px_worker *w, int n)
{
	char word[16];
	int sock, err, handed = 0;

	sock = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (sock < 0)
		return 0;
	err = handoff_recv_word(sock, word, sizeof(word), HANDOFF_TIMEOUT_MS);
	if (!err && strcmp(word, "TAKE") && strcmp(word, "KEEP"))
		err = -EPROTO;
	if (!err)
		err = send_listeners(sock, w, n);
	if (!err && !strcmp(word, "TAKE")) {
		err = handoff_recv_word(sock, word, sizeof(word), DONE_TIMEOUT_MS);
		handed = !err && !strcmp(word, "DONE");
		if (!handed)
			pr_warn("the new proxy did not take over (%s): still serving",
				err ? strerror(-err) : word);
	} else if (err) {
		pr_warn("listener handoff: %s", strerror(-err));
	}
	close(sock);
	return handed;
}
