// SPDX-License-Identifier: Apache-2.0
#include "log.h"

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int log_level = LOG_INFO;
static const char *const level_names[] = { "error", "warn", "info", "debug",
					   "debug" };

void log_set_level(int lvl)
{
	log_level = lvl;
}

int log_get_level(void)
{
	return log_level;
}

static void log_vmsg(int lvl, const char *fmt, va_list ap)
{
	char text[65536], ts[32];
	struct timespec now;
	struct tm tm;
	size_t n;

	if (lvl > log_level)
		return;
	vsnprintf(text, sizeof(text), fmt, ap);
	n = strlen(text);
	while (n && text[n - 1] == '\n')
		text[--n] = '\0';
	/* logfmt: keep the quoted value intact. */
	for (char *c = text; *c; c++)
		if (*c == '"' || *c == '\n')
			*c = *c == '"' ? '\'' : ' ';
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "ts=%s.%03ldZ level=%s msg=\"%s\"\n", ts,
		now.tv_nsec / 1000000, level_names[lvl], text);
}

void log_msg(int lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

/* libbpf warnings are ours at info, its info is our debug, and its debug
 * only shows at -vv. */
static int libbpf_print(enum libbpf_print_level l, const char *fmt, va_list ap)
{
	int lvl = l == LIBBPF_WARN ? LOG_INFO :
		  l == LIBBPF_INFO ? LOG_DEBUG : LOG_LIBBPF;

	log_vmsg(lvl, fmt, ap);
	return 0;
}

void log_hook_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
