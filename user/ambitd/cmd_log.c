// SPDX-License-Identifier: Apache-2.0
/*
 * ambit log-level: show or change the daemon's log level at run time. The
 * level is also written to <state-dir>/log-level, which ambit-proxy
 * watches (it already watches that directory for the configuration), so
 * the proxy follows without a signal and whether or not this daemon
 * started it; a proxy that starts later reads the file too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ambit/pin.h"
#include "daemon.h"
#include "filerepl.h"
#include "log.h"

int log_level_publish(const struct daemon *d)
{
	char path[PATH_MAX + 16], line[16];
	int n;

	snprintf(path, sizeof(path), "%s/" AMBIT_LOG_LEVEL_FILE, d->state_dir);
	n = snprintf(line, sizeof(line), "%s\n", log_level_name(log_get_level()));
	/* whole or not at all: the proxy reads it when it changes */
	return file_replace(path, 0644, line, (size_t)n);
}

int cmd_log_level(struct daemon *d, struct request *rq, struct sbuf *out,
		  struct sbuf *err)
{
	int old = log_get_level(), lvl, ret;

	if (rq->argc == 1) {
		sb_printf(out, "%s\n", log_level_name(old));
		return 0;
	}
	if (rq->argc != 2 || (lvl = log_level_parse(rq->argv[1])) < 0) {
		sb_printf(err, "error: log-level: usage: ambit log-level "
			       "[debug|info|warn|error|trace]\n");
		return 1;
	}
	log_set_level(lvl);
	pr_info_kv("log level changed", LOG_STR("from", log_level_name(old)),
		   LOG_STR("to", log_level_name(lvl)));
	ret = log_level_publish(d);
	if (ret) {
		sb_printf(err, "error: log-level: ambitd is at %s now, but "
			  "ambit-proxy was not told: write %s/" AMBIT_LOG_LEVEL_FILE
			  ": %s\n", log_level_name(lvl), d->state_dir,
			  strerror(-ret));
		return 1;
	}
	sb_printf(out, "log level %s (was %s)\n", log_level_name(lvl),
		  log_level_name(old));
	return 0;
}
