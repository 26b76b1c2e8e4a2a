// SPDX-License-Identifier: Apache-2.0
#include "handoff.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"

#define WORD_MAX 16

int handoff_listen(const char *path)
{
	struct sockaddr_un sa;
	char tmp[sizeof(sa.sun_path)];
	int fd, err;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid()) >=
	    sizeof(tmp))
		return -ENAMETOOLONG;
	if (unix_addr(&sa, tmp))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(tmp);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(tmp, 0600) < 0 || listen(fd, 4) < 0 || rename(tmp, path) < 0) {
		err = -errno;
		unlink(tmp);
		close(fd);
		return err;
	}
	return fd;
}

int handoff_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd, err;

	if (unix_addr(&sa, path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int wait_readable(int sock, int timeout_ms)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	int n;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? 0 : -ETIMEDOUT;
}

int handoff_send_word(int sock, const char *word)
{
	return send(sock, word, strlen(word), MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int handoff_recv_word(int sock, char *buf, size_t size, int timeout_ms)
{
	ssize_t n;
	int err = wait_readable(sock, timeout_ms);

	if (err)
		return err;
	n = recv(sock, buf, size - 1, 0);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	buf[n] = '\0';
	return 0;
}

static int send_batch(int sock, const int *fds, size_t n)
{
	char ctl[CMSG_SPACE(sizeof(int) * HANDOFF_BATCH)] = {};
	struct iovec iov = { .iov_base = "FDS", .iov_len = 3 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl,
			      .msg_controllen = CMSG_SPACE(sizeof(int) * n) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int handoff_send_fds(int sock, const int *fds, size_t n)
{
	size_t off, k;
	int err;

	for (off = 0; off < n; off += k) {
		k = n - off < HANDOFF_BATCH ? n - off : HANDOFF_BATCH;
		err = send_batch(sock, fds + off, k);
		if (err)
			return err;
	}
	return handoff_send_word(sock, "END");
}

/* Append the fds one message carried; a truncated message is an error. */
static int take_rights(struct msghdr *msg, int **fds, size_t *n)
{
	struct cmsghdr *cm;
	int *v;

	for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		v = realloc(*fds, (*n + k) * sizeof(int));
		if (!v) {
			for (size_t i = 0; i < k; i++)
				close(((int *)CMSG_DATA(cm))[i]);
			return -ENOMEM;
		}
		memcpy(v + *n, CMSG_DATA(cm), k * sizeof(int));
		*fds = v;
		*n += k;
	}
	return msg->msg_flags & (MSG_CTRUNC | MSG_TRUNC) ? -EPROTO : 0;
}

static int recv_one(int sock, int **fds, size_t *n, int timeout_ms, bool *end)
{
	char ctl[CMSG_SPACE(sizeof(int) * HANDOFF_BATCH)];
	char word[WORD_MAX];
	struct iovec iov = { .iov_base = word, .iov_len = sizeof(word) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	ssize_t got;
	int err = wait_readable(sock, timeout_ms);

	if (err)
		return err;
	got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (got < 0)
		return -errno;
	if (got == 0)
		return -ECONNRESET;
	word[got] = '\0';
	err = take_rights(&msg, fds, n);
	*end = !strcmp(word, "END");
	if (!err && !*end && strcmp(word, "FDS"))
		err = -EPROTO;
	return err ?: *n > HANDOFF_MAX_FDS ? -E2BIG : 0;
}

int handoff_recv_fds(int sock, int **fds, size_t *n, int timeout_ms)
{
	bool end = false;
	int err = 0;

	*fds = NULL;
	*n = 0;
	while (!err && !end)
		err = recv_one(sock, fds, n, timeout_ms, &end);
	if (err) {
		while (*n)
			close((*fds)[--*n]);
		free(*fds);
		*fds = NULL;
	}
	return err;
}
