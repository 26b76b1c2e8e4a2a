/* SPDX-License-Identifier: Apache-2.0 */
/* A growable text buffer. Allocation failure is sticky: ->oom is set and
 * further appends are dropped, so callers check once at the end. */
#ifndef AMBIT_SBUF_H
#define AMBIT_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *buf; /* always NUL-terminated once anything was added */
	size_t len;
	size_t cap;
	bool oom;
};

/** sb_printf() - append formatted text. */
void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** sb_add() - append @n bytes of @s. */
void sb_add(struct sbuf *b, const char *s, size_t n);

/** sb_str() - the text so far ("" when empty). */
const char *sb_str(const struct sbuf *b);

/** sb_free() - release the buffer. */
void sb_free(struct sbuf *b);

/** sb_json_str() - append @s as a JSON string literal, quotes included. */
void sb_json_str(struct sbuf *b, const char *s);

#endif
