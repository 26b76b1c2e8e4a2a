// SPDX-License-Identifier: Apache-2.0
/*
 * JSON values become ytree nodes: objects mappings, arrays sequences,
 * strings quoted scalars (a string stays a string: "80" is not a number),
 * numbers, booleans and null plain scalars (what YAML would resolve them
 * to). Then load_doc() converts the tree exactly as for YAML.
 */
#include "load_json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "load.h"
#include "load_priv.h"

struct jconv {
	struct arena arena; /* the tree; freed once the objects are built */
	size_t nodes;
	const char *why; /* the first limit exceeded, for the message */
	bool nomem;
};

/* Would this string read back as something else, or not at all, plain? */
static bool typed_word(const char *s)
{
	static const char *const words[] = { "null", "true", "false", "yes",
					     "no", "on", "off", "y", "n",
					     NULL };
	size_t i;

	for (i = 0; words[i]; i++) {
		if (!strcasecmp(s, words[i]))
			return true;
	}
	return false;
}

/*
 * Plain style only for strings that cannot be mistaken for anything but a
 * string (a letter first, then letters, digits and -._/), so the emitted
 * YAML reads well and means the same to any YAML reader; others quoted.
 */
static bool plain_string(const char *s, size_t n)
{
	size_t i;

	if (!n || n > 256 || typed_word(s))
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (i = 1; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		      ch == '_' || ch == '/'))
			return false;
	}
	return true;
}

static struct yt_node *jnode(struct jconv *jc, uint8_t type)
{
	struct yt_node *n;

	if (++jc->nodes > LOAD_MAX_NODES) {
		jc->why = "more nodes than the loader's limit";
		return NULL;
	}
	n = arena_alloc(&jc->arena, sizeof(*n));
	if (!n)
		jc->nomem = true;
	else
		n->type = type;
	return n;
}

static struct yt_node *jscalar(struct jconv *jc, const char *s, size_t len,
			       bool plain)
{
	struct yt_node *n;

	if (len > LOAD_MAX_SCALAR) {
		jc->why = "a string longer than the loader's limit";
		return NULL;
	}
	n = jnode(jc, YT_SCALAR);
	if (!n)
		return NULL;
	n->str = arena_strndup(&jc->arena, s, len);
	if (!n->str) {
		jc->nomem = true;
		return NULL;
	}
	n->n = (uint32_t)len;
	n->plain = plain;
	n->style = plain ? YAML_PLAIN_SCALAR_STYLE :
			   YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	return n;
}

static struct yt_node *jstring(struct jconv *jc, const char *s, size_t len)
{
	return jscalar(jc, s, len, plain_string(s, len));
}

static struct yt_node *jconvert(struct jconv *jc, const json_t *v, int depth);

static void jappend(struct yt_node *parent, struct yt_node **last,
		    struct yt_node *n)
{
	if (*last)
		(*last)->next = n;
	else
		parent->first = n;
	*last = n;
	parent->n++;
}

static struct yt_node *jobject(struct jconv *jc, const json_t *v, int depth)
{
	struct yt_node *map = jnode(jc, YT_MAP), *last = NULL, *k, *val;
	const char *key;
	json_t *item;

	if (!map)
		return NULL;
	json_object_foreach((json_t *)v, key, item) {
		k = jstring(jc, key, strlen(key));
		val = k ? jconvert(jc, item, depth + 1) : NULL;
		if (!val)
			return NULL;
		jappend(map, &last, k);
		jappend(map, &last, val);
	}
	return map;
}

static struct yt_node *jarray(struct jconv *jc, const json_t *v, int depth)
{
	struct yt_node *seq = jnode(jc, YT_SEQ), *last = NULL, *n;
	size_t i;

	if (!seq)
		return NULL;
	for (i = 0; i < json_array_size(v); i++) {
		n = jconvert(jc, json_array_get(v, i), depth + 1);
		if (!n)
			return NULL;
		jappend(seq, &last, n);
	}
	return seq;
}

static struct yt_node *jconvert(struct jconv *jc, const json_t *v, int depth)
{
	char num[64];

	if (json_is_object(v) || json_is_array(v)) {
		if (depth >= LOAD_MAX_DEPTH) {
			jc->why = "nesting deeper than the loader's limit";
			return NULL;
		}
		return json_is_object(v) ? jobject(jc, v, depth) :
					   jarray(jc, v, depth);
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		return jstring(jc, json_string_value(v),
			       json_string_length(v));
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		return jscalar(jc, "true", 4, true);
	case JSON_FALSE:
		return jscalar(jc, "false", 5, true);
	default:
		return jscalar(jc, "null", 4, true);
	}
	return jscalar(jc, num, strlen(num), true);
}

int model_load_json(const char *where, const json_t *obj, struct objvec *out,
		    struct diags *d)
{
	struct lctx c = { .d = d, .file = where ? where : "<json>" };
	struct src_pos pos = { c.file, 0, 0, 0 };
	struct jconv jc = {};
	struct objvec tmp = {};
	struct yt_node *root = obj ? jconvert(&jc, obj, 0) : NULL;
	size_t i;
	int err = 0;

	if (!obj)
		diag_add(d, &pos, NULL, "no object");
	else if (!root && jc.why)
		diag_add(d, &pos, NULL, "refused: %s (%d levels, %u nodes, %u "
			 "bytes a string)", jc.why, LOAD_MAX_DEPTH,
			 LOAD_MAX_NODES, LOAD_MAX_SCALAR);
	if (!root)
		err = jc.nomem ? -ENOMEM : -EINVAL; /* no object: -EINVAL */
	if (!err)
		err = load_doc(&c, root, &tmp);
	if (!err && c.nomem)
		err = -ENOMEM;
	if (!err && c.nerr)
		err = -EINVAL;
	for (i = 0; !err && i < tmp.n; i++) {
		if (objvec_push(out, tmp.v[i])) {
			out->n -= i; /* tmp still owns them all */
			err = -ENOMEM;
		}
	}
	if (!err)
		tmp.n = 0;
	objvec_free(&tmp);
	arena_free(&jc.arena);
	return err;
}
