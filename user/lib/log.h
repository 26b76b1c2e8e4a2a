/* SPDX-License-Identifier: Apache-2.0 */
/* Leveled logging to stderr: "level=info msg=..." lines. */
#ifndef AMBIT_LOG_H
#define AMBIT_LOG_H

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_LIBBPF };

/** log_set_level() - messages above @lvl are dropped. */
void log_set_level(int lvl);

/** log_get_level() - the current level. */
int log_get_level(void);

/** log_msg() - print one line at @lvl (printf format, no newline needed). */
void log_msg(int lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** log_hook_libbpf() - route libbpf's messages here, one level down. */
void log_hook_libbpf(void);

#define pr_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
