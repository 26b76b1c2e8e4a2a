// SPDX-License-Identifier: Apache-2.0
/* Typed field access and error reporting for the loader (load_priv.h). */
#include "load_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rx.h"

#define SHOW_MAX 64 /* bytes of a value quoted in a message */

/* Keys with '.' or '/' (labels, annotations) read better as ["key"]. */
void fp_key(char *out, const char *parent, const char *key)
{
	bool odd = strpbrk(key, "./") != NULL;

	if (odd)
		snprintf(out, FP_MAX, "%s[\"%s\"]", parent, key);
	else if (*parent)
		snprintf(out, FP_MAX, "%s.%s", parent, key);
	else
		snprintf(out, FP_MAX, "%s", key);
}

void fp_idx(char *out, const char *parent, size_t i)
{
	snprintf(out, FP_MAX, "%s[%zu]", parent, i);
}

struct src_pos lpos(const struct lctx *c, const struct yt_node *n)
{
	struct src_pos p = { c->ofile, c->doc, n->line, n->col };

	return p;
}

void lerr(struct lctx *c, const struct yt_node *n, const char *path,
	  const char *fmt, ...)
{
	struct src_pos pos = { c->file, c->doc, n->line, n->col };
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(c->d, &pos, path, "%s", msg);
	c->nerr++;
}

const char *lshow(const struct yt_node *n, char *buf, size_t size)
{
	size_t i, o = 0;

	if (n->type != YT_SCALAR) {
		snprintf(buf, size, "%s", yt_type_name(n));
		return buf;
	}
	buf[o++] = '"';
	for (i = 0; i < n->n && o + 8 < size; i++) {
		unsigned char ch = (unsigned char)n->str[i];

		if (i == SHOW_MAX) {
			o += snprintf(buf + o, size - o, "...");
			break;
		}
		if (ch == '"' || ch == '\\')
			o += snprintf(buf + o, size - o, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			o += snprintf(buf + o, size - o, "\\x%02x", ch);
		else
			buf[o++] = (char)ch;
	}
	snprintf(buf + o, size - o, "\"");
	return buf;
}

void *lalloc(struct lctx *c, size_t n, size_t size)
{
	void *p;

	if (!n)
		return NULL;
	p = arena_calloc(c->a, n, size);
	if (!p)
		c->nomem = true;
	return p;
}

const char *ldup(struct lctx *c, const char *s, size_t n)
{
	const char *p = arena_strndup(c->a, s, n);

	if (!p)
		c->nomem = true;
	return p;
}

const struct yt_node *lget_quiet(const struct yt_node *map, const char *key)
{
	const struct yt_node *k;

	if (!map || map->type != YT_MAP)
		return NULL;
	for (k = map->first; k && k->next; k = k->next->next) {
		if (k->type == YT_SCALAR && !strcmp(k->str, key))
			return yt_is_null(k->next) ? NULL : k->next;
	}
	return NULL;
}

const struct yt_node *lget(struct lctx *c, const struct yt_node *map,
			   const char *key, const char *path, int flags)
{
	const struct yt_node *k, *v = NULL, *first = NULL;
	char p[FP_MAX];

	fp_key(p, path, key);
	for (k = map->first; k && k->next; k = k->next->next) {
		if (k->type != YT_SCALAR || strlen(k->str) != k->n ||
		    strcmp(k->str, key))
			continue;
		if (first) {
			lerr(c, k, p, "duplicate key (first at line %d)",
			     first->line);
			continue;
		}
		first = k;
		v = yt_is_null(k->next) ? NULL : k->next;
	}
	if (!v && (flags & L_REQ))
		lerr(c, map, p, "is required");
	return v;
}

bool lis_map(struct lctx *c, const struct yt_node *n, const char *path)
{
	char show[SHOW_MAX + 16];

	if (n->type == YT_MAP)
		return true;
	lerr(c, n, path, "must be a mapping, got %s",
	     lshow(n, show, sizeof(show)));
	return false;
}

bool lis_seq(struct lctx *c, const struct yt_node *n, const char *path,
	     size_t max)
{
	char show[SHOW_MAX + 16];

	if (n->type != YT_SEQ) {
		lerr(c, n, path, "must be a list, got %s",
		     lshow(n, show, sizeof(show)));
		return false;
	}
	if (max && n->n > max) {
		lerr(c, n, path, "must have at most %zu items, got %" PRIu32,
		     max, n->n);
		return false;
	}
	return true;
}

const char *lstr_node(struct lctx *c, const struct yt_node *n,
		      const char *path, lcheck_fn check)
{
	char show[SHOW_MAX + 16];
	const char *why;

	if (n->type != YT_SCALAR) {
		lerr(c, n, path, "must be a string, got %s", yt_type_name(n));
		return NULL;
	}
	/* A C string cannot hold NUL: refuse rather than truncate. */
	if (strlen(n->str) != n->n) {
		lerr(c, n, path, "must not contain NUL characters");
		return NULL;
	}
	why = check ? check(n->str, n->n) : NULL;
	if (why) {
		lerr(c, n, path, "%s, got %s", why,
		     lshow(n, show, sizeof(show)));
		return NULL;
	}
	return ldup(c, n->str, n->n);
}

const char *lstr(struct lctx *c, const struct yt_node *map, const char *key,
		 const char *path, int flags, lcheck_fn check)
{
	const struct yt_node *v = lget(c, map, key, path, flags);
	char p[FP_MAX];

	if (!v)
		return NULL;
	fp_key(p, path, key);
	return lstr_node(c, v, p, check);
}

/* YAML 1.2 core schema integers, decimal only: [-+]?[0-9]+ */
bool lint_node(const struct yt_node *n, int64_t *out)
{
	const char *s = n->str;
	bool neg = false;
	int64_t v = 0;
	size_t i = 0;

	if (n->type != YT_SCALAR || !n->plain || !n->n)
		return false;
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		i++;
	}
	if (i == n->n)
		return false;
	for (; i < n->n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = neg ? -v : v;
	return true;
}

int lint(struct lctx *c, const struct yt_node *map, const char *key,
	 const char *path, int flags, int64_t min, int64_t max,
	 int64_t *out)
{
	const struct yt_node *v = lget(c, map, key, path, flags);
	char p[FP_MAX], show[SHOW_MAX + 16];
	int64_t x;

	if (!v)
		return 0;
	fp_key(p, path, key);
	if (lint_node(v, &x) && x >= min && x <= max) {
		*out = x;
		return 1;
	}
	lerr(c, v, p,
	     "must be an integer between %" PRId64 " and %" PRId64
	     ", got %s%s",
	     min, max, v->type == YT_SCALAR && !v->plain ? "string " : "",
	     lshow(v, show, sizeof(show)));
	return -1;
}

int lport(struct lctx *c, const struct yt_node *map, const char *key,
	  const char *path, int flags, uint16_t *out)
{
	int64_t v;
	int ret = lint(c, map, key, path, flags, 1, 65535, &v);

	if (ret == 1)
		*out = (uint16_t)v;
	return ret;
}

int lbool(struct lctx *c, const struct yt_node *map, const char *key,
	  const char *path, bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	const struct yt_node *v = lget(c, map, key, path, L_OPT);
	char p[FP_MAX], show[SHOW_MAX + 16];
	size_t i;

	if (!v)
		return 0;
	for (i = 0; v->type == YT_SCALAR && v->plain && i < 3; i++) {
		if (!strcmp(v->str, yes[i]) || !strcmp(v->str, no[i])) {
			*out = !strcmp(v->str, yes[i]);
			return 1;
		}
	}
	fp_key(p, path, key);
	lerr(c, v, p, "must be true or false, got %s",
	     lshow(v, show, sizeof(show)));
	return -1;
}

int lenum(struct lctx *c, const struct yt_node *map, const char *key,
	  const char *path, int flags, const char *const *names, int *out)
{
	const struct yt_node *v = lget(c, map, key, path, flags);
	char p[FP_MAX], show[SHOW_MAX + 16], list[256] = "";
	size_t i, o = 0;

	if (!v)
		return 0;
	for (i = 0; v->type == YT_SCALAR && names[i]; i++) {
		if (!strcmp(v->str, names[i]) && strlen(v->str) == v->n) {
			*out = (int)i;
			return 1;
		}
	}
	for (i = 0; names[i] && o < sizeof(list); i++)
		o += snprintf(list + o, sizeof(list) - o, "%s%s",
			      i ? ", " : "", names[i]);
	fp_key(p, path, key);
	lerr(c, v, p, "must be one of %s; got %s", list,
	     lshow(v, show, sizeof(show)));
	return -1;
}

int lip(struct lctx *c, const struct yt_node *n, const char *path,
	int family, struct ip_addr *out)
{
	char show[SHOW_MAX + 16];
	const char *want;

	memset(out, 0, sizeof(*out));
	if (n->type == YT_SCALAR && strlen(n->str) == n->n) {
		if (family != AF_INET6 &&
		    inet_pton(AF_INET, n->str, out->bytes) == 1) {
			out->family = AF_INET;
			return 0;
		}
		if (family != AF_INET &&
		    inet_pton(AF_INET6, n->str, out->bytes) == 1) {
			out->family = AF_INET6;
			return 0;
		}
	}
	want = family == AF_INET ? "an IPv4 address" :
	       family == AF_INET6 ? "an IPv6 address" : "an IP address";
	lerr(c, n, path, "must be %s, got %s", want,
	     lshow(n, show, sizeof(show)));
	return -1;
}

bool ldup_str(const char *const *names, size_t i, bool nocase)
{
	size_t j;

	for (j = 0; names[i] && j < i; j++) {
		if (names[j] && (nocase ? !strcasecmp(names[j], names[i]) :
					  !strcmp(names[j], names[i])))
			return true;
	}
	return false;
}

bool lregex(struct lctx *c, const struct yt_node *n, const char *path,
	    const char *re)
{
	char msg[160];
	size_t off = 0;
	int err = rx_check(re, strlen(re), msg, sizeof(msg), &off);

	if (err == -ENOMEM)
		c->nomem = true;
	if (err == -EINVAL)
		lerr(c, n, path, "invalid regular expression: %s at offset %zu",
		     msg, off);
	return !err;
}
