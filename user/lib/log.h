/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Leveled logging to stderr, one logfmt line per message:
 *
 *   ts=2024-05-01T10:00:00.123Z level=info msg="routes loaded" ports=3
 *
 * pr_info("...", args) puts its formatted text in msg; pr_info_kv("...",
 * LOG_STR("key", s), LOG_INT("n", i)) adds key=value fields after it. Every
 * value is quoted and escaped as logfmt needs, so a line always parses.
 * The level is one process-wide atomic: threads may log while another
 * changes it (ambit log-level).
 */
#ifndef AMBIT_LOG_H
#define AMBIT_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* LOG_LIBBPF ("trace"): libbpf's own debug output, below our debug. */
enum log_level { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_LIBBPF };

/** log_set_level() - messages above @lvl are dropped (clamped to range). */
void log_set_level(int lvl);

/** log_get_level() - the current level. */
int log_get_level(void);

/** log_enabled() - would a message at @lvl be printed? */
bool log_enabled(int lvl);

/** log_level_name() - "error", "warn", "info", "debug" or "trace". */
const char *log_level_name(int lvl);

/** log_level_parse() - the level named @s (as above), or -1. */
int log_level_parse(const char *s);

/** log_msg() - print one line at @lvl (printf format, no newline needed). */
void log_msg(int lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

enum log_field_kind { LOG_F_STR = 1, LOG_F_INT, LOG_F_UINT };

/* One key=value of a log line; build them with LOG_STR/LOG_INT/LOG_UINT. */
struct log_field {
	const char *key;
	const char *str; /* LOG_F_STR; NULL prints as an empty value */
	long long i;
	unsigned long long u;
	int kind;
};

#define LOG_STR(k, v) ((struct log_field){ .key = (k), .str = (v), .kind = LOG_F_STR })
#define LOG_INT(k, v) ((struct log_field){ .key = (k), .i = (long long)(v), .kind = LOG_F_INT })
#define LOG_UINT(k, v) \
	((struct log_field){ .key = (k), .u = (unsigned long long)(v), .kind = LOG_F_UINT })

/** log_fields() - print @msg at @lvl followed by @n fields of @f. */
void log_fields(int lvl, const char *msg, const struct log_field *f, size_t n);

/* The fields are only evaluated when the level is on. */
#define log_kv(lvl, msg, ...)                                                 \
	do {                                                                  \
		if (log_enabled(lvl)) {                                       \
			const struct log_field f_[] = { __VA_ARGS__ };        \
			log_fields(lvl, msg, f_, sizeof(f_) / sizeof(f_[0])); \
		}                                                             \
	} while (0)

/**
 * logfmt_value() - write @v (@n bytes) into @dst (@size bytes, always
 * NUL-terminated when @size > 0) as a logfmt value: bare when it is
 * non-empty and holds only printable ASCII other than space, '=' and '"';
 * else double-quoted with \" \\ \n \r \t, \u00XX for other control bytes,
 * valid UTF-8 kept as is and any byte of invalid UTF-8 as \xXX.
 * Return: the length of the full value (like snprintf: a result >= @size
 * means it was cut; a cut value still ends with its closing quote).
 */
size_t logfmt_value(char *dst, size_t size, const char *v, size_t n);

/** log_hook_libbpf() - route libbpf's messages here, one level down. */
void log_hook_libbpf(void);

#define pr_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#define pr_err_kv(msg, ...) log_kv(LOG_ERR, msg, __VA_ARGS__)
#define pr_warn_kv(msg, ...) log_kv(LOG_WARN, msg, __VA_ARGS__)
#define pr_info_kv(msg, ...) log_kv(LOG_INFO, msg, __VA_ARGS__)
#define pr_debug_kv(msg, ...) log_kv(LOG_DEBUG, msg, __VA_ARGS__)

#endif
