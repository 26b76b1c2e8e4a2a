// SPDX-License-Identifier: Apache-2.0
#include "ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd, err;

	if (unix_addr(&sa, path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int ctl_call(const char *sock, int argc, char *const *argv, const char *body,
	     size_t body_len, struct ctl_reply *rep)
{
	int fd = ctl_connect(sock), ret;

	memset(rep, 0, sizeof(*rep));
	if (fd < 0)
		return fd;
	/* A daemon that refuses us answers without reading the request: the
	 * send then fails, but its reply is still there to read. */
	ret = proto_send_request(fd, argc, argv, body, body_len);
	if (!proto_recv_reply(fd, &rep->code, &rep->out, &rep->err))
		ret = 0;
	else if (!ret)
		ret = -EPROTO;
	close(fd);
	if (ret)
		ctl_reply_free(rep);
	return ret;
}

void ctl_reply_free(struct ctl_reply *rep)
{
	free(rep->out);
	free(rep->err);
	memset(rep, 0, sizeof(*rep));
}

int pod_req_argv(const struct pod_req *r, bool attach, char **argv)
{
	int n = 0;
	size_t i;

	if (!r->ns || !*r->ns || !r->name || !*r->name ||
	    (attach && (!r->netns || !*r->netns)) || r->n_ips > POD_REQ_MAX_IPS)
		return -EINVAL;
	argv[n++] = "pod";
	argv[n++] = attach ? "attach" : "detach";
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

int pod_request(const char *sock, const struct pod_req *r, bool attach,
		struct ctl_reply *rep)
{
	char *argv[POD_REQ_MAX_ARGS + 1];
	int argc = pod_req_argv(r, attach, argv);

	memset(rep, 0, sizeof(*rep));
	if (argc < 0)
		return argc;
	return ctl_call(sock, argc, argv, NULL, 0, rep);
}
