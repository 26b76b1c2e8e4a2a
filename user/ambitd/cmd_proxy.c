// SPDX-License-Identifier: Apache-2.0
/* ambit proxy reload: replace the supervised proxy without a refused
 * connection (see user/proxy/takeover.c). */
#include <errno.h>
#include <string.h>

#include "daemon.h"

int cmd_proxy(struct daemon *d, struct request *rq, struct sbuf *out,
	      struct sbuf *err)
{
	char msg[256] = "";
	int ret;

	if (rq->argc != 2 || strcmp(rq->argv[1], "reload")) {
		sb_printf(err, "error: usage: ambit proxy reload\n");
		return 1;
	}
	ret = sup_reload(&d->sup, msg, sizeof(msg));
	if (ret == -ENOTSUP) {
		sb_printf(err, "error: ambitd does not run the proxy (no "
			  "--proxy-bin); start a new ambit-proxy with the same "
			  "--config: it takes over from the running one\n");
		return 1;
	}
	sb_printf(ret ? err : out, "%s%s\n", ret ? "error: " : "", msg);
	return ret ? 1 : 0;
}
