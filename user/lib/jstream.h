/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A stream of JSON values back to back, as `kubectl get --watch
 * --output-watch-events -o json` prints watch events: one compact object a
 * line, or pretty-printed objects one after the other (what `jq .` or
 * older tools print). Bytes are fed as they arrive; a value is handed out
 * once it is complete. Each byte is scanned once (a value split across
 * many reads is not re-parsed from its start on every read).
 */
#ifndef AMBIT_JSTREAM_H
#define AMBIT_JSTREAM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* One value larger than this is refused (the daemon takes no more). */
#define JSTREAM_MAX_VALUE (64u << 20)

struct jstream {
	char *buf;
	size_t len, cap;
	size_t off;      /* start of the value being read */
	size_t scan;     /* bytes of it scanned so far (from off) */
	int depth;       /* open { and [ in it */
	bool in_str, esc;
	size_t base;     /* stream offset of buf[0] */
	size_t line;     /* line of buf[off], 1-based */
	unsigned long n; /* values handed out so far */
};

/** jstream_feed() - append @n bytes. Return: 0 or -ENOMEM. */
int jstream_feed(struct jstream *s, const char *p, size_t n);

/**
 * jstream_next() - the next complete value.
 * Return: 1 with a new reference in *@out; 0 when more bytes are needed;
 * -EINVAL for malformed input (or a value over JSTREAM_MAX_VALUE), with
 * where and what in @why. After an error the stream is unusable.
 */
int jstream_next(struct jstream *s, json_t **out, char *why, size_t size);

/**
 * jstream_end() - the input has ended: is anything left over?
 * Return: 0 when only whitespace is left, -EINVAL (truncated: a value
 * started and never finished, with where in @why).
 */
int jstream_end(struct jstream *s, char *why, size_t size);

/** jstream_free() - release the buffer. */
void jstream_free(struct jstream *s);

#endif
