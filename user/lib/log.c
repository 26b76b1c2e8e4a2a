// SPDX-License-Identifier: Apache-2.0
#include "log.h"

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "utf8.h"

/* A line bigger than this is cut (its last value still closes its quote). */
#define LOG_LINE_MAX 32768

static int log_level = LOG_INFO;
static const char *const level_names[] = { "error", "warn", "info", "debug",
					   "trace" };

void log_set_level(int lvl)
{
	if (lvl < LOG_ERR)
		lvl = LOG_ERR;
	if (lvl > LOG_LIBBPF)
		lvl = LOG_LIBBPF;
	__atomic_store_n(&log_level, lvl, __ATOMIC_RELAXED);
}

int log_get_level(void)
{
	return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

bool log_enabled(int lvl)
{
	return lvl <= log_get_level();
}

const char *log_level_name(int lvl)
{
	return lvl >= LOG_ERR && lvl <= LOG_LIBBPF ? level_names[lvl] : "?";
}

int log_level_parse(const char *s)
{
	int i;

	for (i = LOG_ERR; i <= LOG_LIBBPF; i++) {
		if (!strcmp(s, level_names[i]))
			return i;
	}
	return -1;
}

/* ---- logfmt values ------------------------------------------------------ */

/*
 * A bounded writer: pieces that fit are copied whole, the first that does
 * not stops the copying (an escape is never split), and len keeps counting
 * what the whole text would need. @reserve bytes stay free for a closing
 * quote.
 */
struct lw {
	char *p;
	size_t size;
	size_t len;
	size_t used;
	size_t reserve;
	bool cut;
};

static void lw_put(struct lw *w, const char *s, size_t n)
{
	if (!w->cut && w->size && w->used + n + w->reserve + 1 <= w->size) {
		memcpy(w->p + w->used, s, n);
		w->used += n;
	} else {
		w->cut = true;
	}
	w->len += n;
}

static bool bare_ok(const char *v, size_t n)
{
	size_t i;

	if (!n)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c <= ' ' || c >= 0x7f || c == '=' || c == '"')
			return false;
	}
	return true;
}

/* One byte (or a whole UTF-8 sequence) of a quoted value; bytes used. */
static size_t quote_one(struct lw *w, const unsigned char *s, size_t n)
{
	char esc[8];
	size_t k;

	switch (s[0]) {
	case '"': lw_put(w, "\\\"", 2); return 1;
	case '\\': lw_put(w, "\\\\", 2); return 1;
	case '\n': lw_put(w, "\\n", 2); return 1;
	case '\r': lw_put(w, "\\r", 2); return 1;
	case '\t': lw_put(w, "\\t", 2); return 1;
	}
	if (s[0] < 0x20 || s[0] == 0x7f) {
		snprintf(esc, sizeof(esc), "\\u%04x", s[0]);
		lw_put(w, esc, 6);
		return 1;
	}
	if (s[0] < 0x80) {
		lw_put(w, (const char *)s, 1);
		return 1;
	}
	k = utf8_seq(s, n);
	if (k) {
		lw_put(w, (const char *)s, k);
		return k;
	}
	snprintf(esc, sizeof(esc), "\\x%02x", s[0]);
	lw_put(w, esc, 4);
	return 1;
}

size_t logfmt_value(char *dst, size_t size, const char *v, size_t n)
{
	struct lw w = { .p = dst, .size = size };
	const unsigned char *s = (const unsigned char *)(v ? v : "");
	size_t i = 0;

	if (!v)
		n = 0;
	if (bare_ok(v, n)) {
		lw_put(&w, v, n);
		if (w.cut && size) { /* bare text may be cut anywhere */
			memcpy(dst, v, size - 1);
			w.used = size - 1;
		}
	} else {
		w.reserve = 1; /* the closing quote always fits */
		lw_put(&w, "\"", 1);
		while (i < n)
			i += quote_one(&w, s + i, n - i);
		w.reserve = 0;
		w.cut = false;
		if (w.used) /* the opening quote made it: close it */
			lw_put(&w, "\"", 1);
		else
			w.len++;
	}
	if (size)
		dst[w.used] = '\0';
	return w.len;
}

/* ---- lines -------------------------------------------------------------- */

struct line {
	char buf[LOG_LINE_MAX];
	size_t len; /* <= LOG_LINE_MAX - 1: the newline always fits */
};

static void line_add(struct line *l, const char *s)
{
	size_t room = sizeof(l->buf) - 1 - l->len, n = strlen(s);

	if (n > room)
		n = room;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void line_value(struct line *l, const char *v, size_t n)
{
	size_t room = sizeof(l->buf) - 1 - l->len, full;

	if (!room)
		return;
	full = logfmt_value(l->buf + l->len, room, v, n);

	l->len += full < room ? full : strlen(l->buf + l->len);
}

/* Keys are identifiers: anything else becomes '_'. */
static void line_key(struct line *l, const char *key)
{
	char k[64];
	size_t i;

	for (i = 0; key && key[i] && i < sizeof(k) - 1; i++) {
		unsigned char c = (unsigned char)key[i];

		k[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'
		       ? (char)c : '_';
	}
	k[i] = '\0';
	line_add(l, " ");
	line_add(l, i ? k : "_");
	line_add(l, "=");
}

static void line_start(struct line *l, int lvl, const char *msg, size_t n)
{
	char ts[80], tm_s[32];
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(tm_s, sizeof(tm_s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts, sizeof(ts), "ts=%s.%03ldZ level=", tm_s,
		 now.tv_nsec / 1000000);
	l->len = 0;
	line_add(l, ts);
	line_add(l, log_level_name(lvl));
	line_add(l, " msg=");
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	line_value(l, msg, n);
}

/* Each thread builds its lines in its own buffer. */
static __thread struct line tls_line;

/* One write per line: lines of concurrent threads never interleave. */
static void line_emit(struct line *l)
{
	ssize_t n;

	l->buf[l->len++] = '\n';
	n = write(STDERR_FILENO, l->buf, l->len);
	(void)n;
}

static void log_vmsg(int lvl, const char *fmt, va_list ap)
{
	struct line *l = &tls_line;
	char text[16384];
	int n;

	if (!log_enabled(lvl))
		return;
	n = vsnprintf(text, sizeof(text), fmt, ap);
	if (n < 0)
		n = 0;
	line_start(l, lvl, text, (size_t)n < sizeof(text) ? (size_t)n
							 : sizeof(text) - 1);
	line_emit(l);
}

void log_msg(int lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

void log_fields(int lvl, const char *msg, const struct log_field *f, size_t n)
{
	struct line *l = &tls_line;
	char num[32];
	size_t i;

	if (!log_enabled(lvl))
		return;
	line_start(l, lvl, msg, strlen(msg));
	for (i = 0; i < n; i++) {
		line_key(l, f[i].key);
		if (f[i].kind == LOG_F_INT)
			snprintf(num, sizeof(num), "%lld", f[i].i);
		else if (f[i].kind == LOG_F_UINT)
			snprintf(num, sizeof(num), "%llu", f[i].u);
		if (f[i].kind == LOG_F_STR)
			line_value(l, f[i].str, f[i].str ? strlen(f[i].str) : 0);
		else
			line_value(l, num, strlen(num));
	}
	line_emit(l);
}

/* libbpf warnings are ours at info, its info is our debug, and its debug
 * only shows at trace (-vv). */
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
