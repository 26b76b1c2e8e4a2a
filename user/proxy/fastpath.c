// SPDX-License-Identifier: Apache-2.0
/*
 * Connection identity as the BPF programs key it (4-tuple + netns, from the
 * socket's own side), and the proxy's end of the sk_msg fast path.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "conn.h"
#include "log.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

static void addr_words(const struct sockaddr_storage *ss, __be32 *a,
		       __be16 *port, __u8 *family)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		a[0] = in->sin_addr.s_addr;
		*port = in->sin_port;
		*family = AMBIT_FAMILY_V4;
	} else {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		memcpy(a, &in6->sin6_addr, 16);
		*port = in6->sin6_port;
		*family = AMBIT_FAMILY_V6;
	}
}

/* An accepted socket's 4-tuple and namespace, from its own side. */
int px_own_key(int fd, struct ambit_l7_key *k)
{
	struct sockaddr_storage l = {}, r = {};
	socklen_t ll = sizeof(l), rl = sizeof(r), cl = sizeof(__u64);

	memset(k, 0, sizeof(*k));
	if (getsockname(fd, (struct sockaddr *)&l, &ll) < 0 ||
	    getpeername(fd, (struct sockaddr *)&r, &rl) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &k->netns_cookie, &cl) < 0)
		return -errno;
	addr_words(&l, k->local, &k->local_port, &k->family);
	addr_words(&r, k->remote, &k->remote_port, &k->family);
	return 0;
}

/* With ambitd --sockmap, our end joins the sockhash next to the client's,
 * so sk_msg can pass bytes between them directly. */
void px_fast_join(struct px_conn *c)
{
	struct ambit_config cfg;
	__u32 zero = 0;
	__u64 sfd = (__u64)c->fd;

	if (px_cfg.sockhash_fd < 0 ||
	    bpf_map_lookup_elem(px_cfg.config_fd, &zero, &cfg) ||
	    !(cfg.flags & AMBIT_CFG_SOCKMAP) || px_own_key(c->fd, &c->fp_key))
		return;
	if (bpf_map_update_elem(px_cfg.sockhash_fd, &c->fp_key, &sfd, BPF_NOEXIST))
		pr_debug("fast path: %s", strerror(errno));
	else
		c->fast_path = true;
}

/*
 * Before the last response of a connection we are about to close: leave
 * the sockhash, so that response and our FIN take the same (TCP) path and
 * arrive in order; a FIN overtaking redirected bytes would cut them off.
 */
void px_fast_leave(struct px_conn *c)
{
	if (!c->fast_path)
		return;
	bpf_map_delete_elem(px_cfg.sockhash_fd, &c->fp_key);
	c->fast_path = false;
}
