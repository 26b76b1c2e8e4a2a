// SPDX-License-Identifier: Apache-2.0
#include "call.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"

static int set_timeouts(int fd, int timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000,
			      .tv_usec = (timeout_ms % 1000) * 1000 };

	/* SO_SNDTIMEO also bounds connect() on a Unix socket whose listen
	 * backlog is full (a daemon that stopped accepting). */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return -errno;
	return 0;
}

static int connect_ambitd(const char *path, int timeout_ms)
{
	struct sockaddr_un sa;
	int fd, err;

	if (unix_addr(&sa, path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = set_timeouts(fd, timeout_ms);
	if (!err && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static int timed_out(int err)
{
	return err == -EAGAIN || err == -EWOULDBLOCK || err == -EINPROGRESS ?
	       -ETIMEDOUT : err;
}

int ambitd_call(const char *sock, int timeout_ms, const struct cni_argv *av,
		struct ambitd_reply *r)
{
	int fd, ret, rerr;

	memset(r, 0, sizeof(*r));
	fd = connect_ambitd(sock, timeout_ms);
	if (fd < 0)
		return timed_out(fd);
	/* Like the CLI: a daemon that refuses us may answer without reading
	 * the request, so a failed send still leaves a reply to read. */
	ret = proto_send_request(fd, av->argc, av->argv, NULL, 0);
	rerr = proto_recv_reply(fd, &r->code, &r->out, &r->err);
	if (!rerr) {
		ret = 0;
	} else {
		ambitd_reply_free(r);
		/* -EPIPE: it closed without answering. */
		if (!ret)
			ret = rerr == -EPIPE ? -ECONNRESET : rerr;
	}
	close(fd);
	return timed_out(ret);
}

void ambitd_reply_free(struct ambitd_reply *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}
