// SPDX-License-Identifier: Apache-2.0
#include "ctl.h"

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

static int ctl_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un sa;
	int fd, err = 0;

	if (unix_addr(&sa, path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (timeout_ms > 0)
		err = set_timeouts(fd, timeout_ms);
	if (!err && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* A timed-out socket operation says EAGAIN (EINPROGRESS for connect). */
static int timed_out(int err)
{
	return err == -EAGAIN || err == -EINPROGRESS ? -ETIMEDOUT : err;
}

int ctl_call_timed(const char *sock, int timeout_ms, int argc,
		   char *const *argv, const char *body, size_t body_len,
		   struct ctl_reply *rep)
{
	int fd = ctl_connect(sock, timeout_ms), ret, rerr;

	memset(rep, 0, sizeof(*rep));
	if (fd < 0)
		return timed_out(fd);
	/* A daemon that refuses us answers without reading the request: the
	 * send then fails, but its reply is still there to read. */
	ret = proto_send_request(fd, argc, argv, body, body_len);
	rerr = proto_recv_reply(fd, &rep->code, &rep->out, &rep->err);
	if (!rerr)
		ret = 0;
	else if (!ret)
		ret = rerr == -EPIPE ? -EPROTO : rerr; /* -EPIPE: closed, no answer */
	close(fd);
	if (ret)
		ctl_reply_free(rep);
	return timed_out(ret);
}

int ctl_call(const char *sock, int argc, char *const *argv, const char *body,
	     size_t body_len, struct ctl_reply *rep)
{
	return ctl_call_timed(sock, 0, argc, argv, body, body_len, rep);
}

void ctl_reply_free(struct ctl_reply *rep)
{
	free(rep->out);
	free(rep->err);
	memset(rep, 0, sizeof(*rep));
}

int pod_req_argv(const struct pod_req *r, enum pod_verb verb, char **argv)
{
	static const char *const verbs[] = { [POD_ATTACH] = "attach",
					     [POD_DETACH] = "detach",
					     [POD_CHECK] = "check" };
	bool attach = verb == POD_ATTACH;
	int n = 0;
	size_t i;

	if (!r->ns || !*r->ns || !r->name || !*r->name ||
	    (attach && (!r->netns || !*r->netns)) || r->n_ips > POD_REQ_MAX_IPS)
		return -EINVAL;
	argv[n++] = "pod";
	argv[n++] = (char *)verbs[verb];
	argv[n++] = "--namespace";
	argv[n++] = (char *)r->ns;
	argv[n++] = "--name";
	argv[n++] = (char *)r->name;
	if (r->netns) {
		argv[n++] = "--netns";
		argv[n++] = (char *)r->netns;
	}
	if (r->container_id) {
		argv[n++] = "--container-id";
		argv[n++] = (char *)r->container_id;
	}
	for (i = 0; attach && i < r->n_ips; i++) {
		argv[n++] = "--ip";
		argv[n++] = (char *)r->ips[i];
	}
	argv[n] = NULL;
	return n;
}

int pod_request(const char *sock, int timeout_ms, const struct pod_req *r,
		enum pod_verb verb, struct ctl_reply *rep)
{
	char *argv[POD_REQ_MAX_ARGS + 1];
	int argc = pod_req_argv(r, verb, argv);

	memset(rep, 0, sizeof(*rep));
	if (argc < 0)
		return argc;
	return ctl_call_timed(sock, timeout_ms, argc, argv, NULL, 0, rep);
}
