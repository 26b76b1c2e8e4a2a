// SPDX-License-Identifier: Apache-2.0
#include "jstream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jstream_feed(struct jstream *s, const char *p, size_t n)
{
	if (s->off && s->off >= s->len / 2) {
		/* Drop what was handed out, keeping line counts right. */
		s->base += s->off;
		memmove(s->buf, s->buf + s->off, s->len - s->off);
		s->len -= s->off;
		s->off = 0;
	}
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 65536;
		char *b;

		while (cap < s->len + n + 1)
			cap *= 2;
		b = realloc(s->buf, cap);
		if (!b)
			return -ENOMEM;
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return 0;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Whitespace before a value: skipped, counting lines. */
static void skip_space(struct jstream *s)
{
	while (s->off < s->len && is_space(s->buf[s->off])) {
		if (s->buf[s->off] == '\n')
			s->line++;
		s->off++;
	}
}

/* Line and column (1-based) of byte @at (>= off) of the buffer. */
static void line_col(const struct jstream *s, size_t at, size_t *line,
		     size_t *col)
{
	size_t i, last_nl = s->off;
	bool nl = false;

	*line = s->line ? s->line : 1;
	for (i = s->off; i < at && i < s->len; i++) {
		if (s->buf[i] == '\n') {
			(*line)++;
			last_nl = i + 1;
			nl = true;
		}
	}
	*col = at - (nl ? last_nl : s->off) + 1;
	if (!nl && s->off > 0) {
		/* Column of the value's start on its own line. */
		for (i = s->off; i > 0 && s->buf[i - 1] != '\n'; i--)
			(*col)++;
	}
}

static int fail(struct jstream *s, size_t at, char *why, size_t size,
		const char *what)
{
	size_t line, col;

	line_col(s, at, &line, &col);
	snprintf(why, size, "line %zu column %zu (byte %zu): %s", line, col,
		 s->base + at, what);
	return -EINVAL;
}

/* Scan the value at off for its end; true with *@end set when complete. */
static bool scan_value(struct jstream *s, size_t *end)
{
	size_t i;

	for (i = s->off + s->scan; i < s->len; i++) {
		char ch = s->buf[i];

		if (s->in_str) {
			if (s->esc)
				s->esc = false;
			else if (ch == '\\')
				s->esc = true;
			else if (ch == '"')
				s->in_str = false;
		} else if (ch == '"') {
			s->in_str = true;
		} else if (ch == '{' || ch == '[') {
			s->depth++;
		} else if ((ch == '}' || ch == ']') && --s->depth == 0) {
			*end = i + 1;
			return true;
		}
	}
	s->scan = s->len - s->off;
	return false;
}

static void advance(struct jstream *s, size_t end)
{
	size_t i;

	for (i = s->off; i < end; i++)
		s->line += s->buf[i] == '\n';
	s->off = end;
	s->scan = 0;
	s->depth = 0;
	s->in_str = s->esc = false;
}

int jstream_next(struct jstream *s, json_t **out, char *why, size_t size)
{
	json_error_t e;
	size_t end;
	json_t *v;

	*out = NULL;
	if (!s->line)
		s->line = 1;
	if (!s->scan)
		skip_space(s);
	if (s->off == s->len)
		return 0;
	if (!s->scan && s->buf[s->off] != '{' && s->buf[s->off] != '[')
		return fail(s, s->off, why, size,
			    "expected a JSON object ('{')");
	if (!scan_value(s, &end)) {
		if (s->len - s->off > JSTREAM_MAX_VALUE)
			return fail(s, s->off, why, size,
				    "a value larger than 64 MiB");
		return 0;
	}
	v = json_loadb(s->buf + s->off, end - s->off, 0, &e);
	if (!v)
		return fail(s, s->off + (size_t)(e.position > 0 ?
						 e.position - 1 : 0),
			    why, size, e.text);
	advance(s, end);
	s->n++;
	*out = v;
	return 1;
}

int jstream_end(struct jstream *s, char *why, size_t size)
{
	if (!s->scan)
		skip_space(s);
	if (s->off == s->len)
		return 0;
	return fail(s, s->len, why, size, "truncated: the input ended in the "
		    "middle of a value");
}

void jstream_free(struct jstream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}
