// SPDX-License-Identifier: Apache-2.0
#include "ytree.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

#define TAG_STR "tag:yaml.org,2002:str"

/* One open collection while a document streams in. */
struct yt_level {
	struct yt_node *node; /* NULL when not building */
	struct yt_node *last; /* last child, to append in O(1) */
	uint8_t type;
	bool items;     /* the `items:` list of a root mapping: objects */
	bool key_items; /* root mapping: the key just read is "items" */
	size_t kids;
};

struct yt_walk {
	struct yt_reader *r;
	struct yt_level lv[LOAD_MAX_DEPTH];
	int depth;
	struct yt_node *root;
};

/* What on_event() tells the read loop. */
enum { EV_MORE = 0, EV_DOC, EV_END };

int yt_open(struct yt_reader *r, const char *file, const char *buf,
	    size_t len, struct diags *d, bool build)
{
	memset(r, 0, sizeof(*r));
	r->file = file;
	r->buf = (const unsigned char *)buf;
	r->len = len;
	r->d = d;
	r->build = build;
	if (!yaml_parser_initialize(&r->parser)) {
		r->done = true;
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&r->parser, r->buf, len);
	return 0;
}

void yt_close(struct yt_reader *r)
{
	yaml_parser_delete(&r->parser);
	arena_free(&r->arena);
}

static int cur_doc(const struct yt_reader *r)
{
	return r->in_doc ? r->doc : r->doc + 1;
}

static int yt_fail(struct yt_reader *r, int line, int col, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

static int yt_fail(struct yt_reader *r, int line, int col, const char *fmt,
		   ...)
{
	struct src_pos pos = { r->file, cur_doc(r), line, col };
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(r->d, &pos, NULL, "%s", msg);
	return -EINVAL;
}

/* Reader errors (bad UTF-8) carry a byte offset rather than a mark. */
static void offset_to_mark(const struct yt_reader *r, size_t off,
			   int *line, int *col)
{
	size_t i, bol = 0;

	*line = 1;
	if (off > r->len)
		off = r->len;
	for (i = 0; i < off; i++) {
		if (r->buf[i] == '\n') {
			(*line)++;
			bol = i + 1;
		}
	}
	*col = (int)(off - bol) + 1;
}

static int parse_error(struct yt_reader *r)
{
	const yaml_parser_t *p = &r->parser;
	const char *ctx = p->context, *problem = p->problem;
	int line, col;

	if (p->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (!problem)
		problem = "malformed YAML";
	if (p->error == YAML_READER_ERROR) {
		offset_to_mark(r, p->problem_offset, &line, &col);
		if (p->problem_value != -1)
			return yt_fail(r, line, col, "%s (byte 0x%02x)",
				       problem, p->problem_value & 0xff);
		return yt_fail(r, line, col, "%s", problem);
	}
	line = (int)p->problem_mark.line + 1;
	col = (int)p->problem_mark.column + 1;
	if (ctx)
		return yt_fail(r, line, col, "%s: %s", ctx, problem);
	return yt_fail(r, line, col, "%s", problem);
}

static bool event_is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.tag ||
	    ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") ||
	       !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* A scalar may be a number, bool or null only when plain and untagged. */
static bool scalar_plain(const yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	/* "!" and "!!str" force a string; other tags are ignored. */
	return !tag || (strcmp(tag, "!") && strcmp(tag, TAG_STR));
}

static struct yt_node *new_node(struct yt_reader *r, const yaml_event_t *ev)
{
	struct yt_node *n = arena_alloc(&r->arena, sizeof(*n));

	if (!n)
		return NULL;
	n->line = (int)ev->start_mark.line + 1;
	n->col = (int)ev->start_mark.column + 1;
	if (ev->type == YAML_SCALAR_EVENT) {
		n->type = YT_SCALAR;
		n->style = (uint8_t)ev->data.scalar.style;
		n->plain = scalar_plain(ev);
		n->n = (uint32_t)ev->data.scalar.length;
		n->str = arena_strndup(&r->arena,
				       (const char *)ev->data.scalar.value,
				       ev->data.scalar.length);
		if (!n->str)
			return NULL;
	} else {
		n->type = ev->type == YAML_MAPPING_START_EVENT ? YT_MAP :
								 YT_SEQ;
	}
	return n;
}

static void attach(struct yt_walk *w, struct yt_node *n)
{
	struct yt_level *p;

	if (!w->depth) {
		w->root = n;
		return;
	}
	p = &w->lv[w->depth - 1];
	if (p->last)
		p->last->next = n;
	else
		p->node->first = n;
	p->last = n;
	p->node->n++;
}

/* Limits and object counting that apply to any node about to start. */
static int check_node(struct yt_walk *w, const yaml_event_t *ev, int line,
		      int col)
{
	struct yt_reader *r = w->r;
	struct yt_level *p = w->depth ? &w->lv[w->depth - 1] : NULL;
	bool counts = p ? p->items : !event_is_null(ev);

	if (++r->nodes > LOAD_MAX_NODES)
		return yt_fail(r, line, col,
			       "document has more than %u YAML nodes",
			       LOAD_MAX_NODES);
	if (p && p->type == YT_MAP && !(p->kids & 1) &&
	    ev->type != YAML_SCALAR_EVENT)
		return yt_fail(r, line, col,
			       "mapping keys must be scalars (strings)");
	if (ev->type == YAML_SCALAR_EVENT &&
	    ev->data.scalar.length > LOAD_MAX_SCALAR)
		return yt_fail(r, line, col,
			       "scalar of %zu bytes exceeds the limit of %u",
			       ev->data.scalar.length, LOAD_MAX_SCALAR);
	if (counts && ++r->objects > LOAD_MAX_OBJECTS)
		return yt_fail(r, line, col, "more than %u objects",
			       LOAD_MAX_OBJECTS);
	return 0;
}

/* Track the root mapping's "items" key so List items count as objects. */
static bool note_key(struct yt_walk *w, const yaml_event_t *ev)
{
	struct yt_level *p = w->depth == 1 ? &w->lv[0] : NULL;
	bool items = false;

	if (!p || p->type != YT_MAP)
		return false;
	if (!(p->kids & 1)) {
		p->key_items = ev->type == YAML_SCALAR_EVENT &&
			       !strcmp((const char *)ev->data.scalar.value,
				       "items");
		return false;
	}
	items = p->key_items && ev->type == YAML_SEQUENCE_START_EVENT;
	p->key_items = false;
	return items;
}

static int on_node(struct yt_walk *w, const yaml_event_t *ev)
{
	struct yt_reader *r = w->r;
	int line = (int)ev->start_mark.line + 1;
	int col = (int)ev->start_mark.column + 1;
	struct yt_node *n = NULL;
	struct yt_level *l;
	bool items;
	int err;

	err = check_node(w, ev, line, col);
	if (err)
		return err;
	if (ev->type != YAML_SCALAR_EVENT && w->depth == LOAD_MAX_DEPTH)
		return yt_fail(r, line, col, "nesting deeper than %d levels",
			       LOAD_MAX_DEPTH);
	items = note_key(w, ev);
	if (r->build) {
		n = new_node(r, ev);
		if (!n)
			return -ENOMEM;
		attach(w, n);
	}
	if (w->depth)
		w->lv[w->depth - 1].kids++;
	if (ev->type == YAML_SCALAR_EVENT)
		return EV_MORE;
	l = &w->lv[w->depth++];
	memset(l, 0, sizeof(*l));
	l->node = n;
	l->type = ev->type == YAML_MAPPING_START_EVENT ? YT_MAP : YT_SEQ;
	l->items = items;
	return EV_MORE;
}

static int on_event(struct yt_walk *w, const yaml_event_t *ev)
{
	struct yt_reader *r = w->r;

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return EV_END;
	case YAML_DOCUMENT_START_EVENT:
		r->doc++;
		r->in_doc = true;
		r->nodes = 0;
		return EV_MORE;
	case YAML_DOCUMENT_END_EVENT:
		r->in_doc = false;
		return EV_DOC;
	case YAML_ALIAS_EVENT:
		return yt_fail(r, (int)ev->start_mark.line + 1,
			       (int)ev->start_mark.column + 1,
			       "YAML aliases are not supported");
	case YAML_SCALAR_EVENT:
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return on_node(w, ev);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		w->depth--;
		return EV_MORE;
	default:
		return EV_MORE;
	}
}

int yt_next(struct yt_reader *r, struct yt_node **root)
{
	struct yt_walk w = { .r = r };
	yaml_event_t ev;
	int ret;

	*root = NULL;
	arena_free(&r->arena);
	if (r->done)
		return 0;
	do {
		if (!yaml_parser_parse(&r->parser, &ev)) {
			r->done = true;
			return parse_error(r);
		}
		ret = on_event(&w, &ev);
		yaml_event_delete(&ev);
	} while (ret == EV_MORE);
	if (ret != EV_DOC) {
		r->done = true;
		return ret < 0 ? ret : 0;
	}
	*root = w.root;
	return 1;
}

bool yt_is_null(const struct yt_node *n)
{
	if (!n)
		return true;
	if (n->type != YT_SCALAR || !n->plain)
		return false;
	return !n->n || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

const char *yt_type_name(const struct yt_node *n)
{
	switch (n->type) {
	case YT_MAP:
		return "a mapping";
	case YT_SEQ:
		return "a list";
	default:
		return "a scalar";
	}
}

/* ---- re-emitting -------------------------------------------------------- */

struct obuf {
	char *p;
	size_t len, cap;
	bool nomem; /* libyaml only sees a failed write, not why */
};

static int obuf_write(void *data, unsigned char *buf, size_t size)
{
	struct obuf *o = data;

	if (o->cap - o->len <= size) {
		size_t cap = o->cap ? o->cap : 1024;
		char *p;

		while (cap - o->len <= size)
			cap *= 2;
		p = realloc(o->p, cap);
		if (!p) {
			o->nomem = true;
			return 0;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, buf, size);
	o->len += size;
	o->p[o->len] = '\0';
	return 1;
}

/* yaml_emitter_emit() consumes the event even when it fails. */
static int emit(yaml_emitter_t *em, yaml_event_t *ev)
{
	if (yaml_emitter_emit(em, ev))
		return 0;
	return em->error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
}

static int emit_scalar(yaml_emitter_t *em, const struct yt_node *n)
{
	yaml_event_t ev;

	/*
	 * Keep plain scalars plain and quoted ones quoted, so a number stays
	 * a number and the string "80" stays a string on reload.
	 */
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
					  (yaml_char_t *)n->str, (int)n->n,
					  n->plain, !n->plain,
					  (yaml_scalar_style_t)n->style))
		return -ENOMEM;
	return emit(em, &ev);
}

struct yt_emitter {
	yaml_emitter_t em;
	yt_drop_fn drop;
	void *ctx;
	const char *path[LOAD_MAX_DEPTH + 1]; /* keys from the root down */
	int depth; /* keys in path[] */
	bool in_map; /* the node being emitted is a mapping's value */
};

static int emit_node(struct yt_emitter *e, const struct yt_node *n);

/* A mapping's entries, minus those the caller drops. */
static int emit_entries(struct yt_emitter *e, const struct yt_node *map)
{
	const struct yt_node *k;
	int err = 0;

	for (k = map->first; !err && k && k->next; k = k->next->next) {
		bool keyed = e->in_map && k->type == YT_SCALAR &&
			     e->depth < LOAD_MAX_DEPTH;

		if (keyed)
			e->path[e->depth] = k->str;
		if (keyed && e->drop && e->drop(e->path, e->depth + 1, e->ctx))
			continue;
		err = emit_node(e, k);
		if (keyed)
			e->depth++;
		if (!err)
			err = emit_node(e, k->next);
		if (keyed)
			e->depth--;
	}
	return err;
}

/* Recursion is bounded by LOAD_MAX_DEPTH, checked when the tree was read. */
static int emit_node(struct yt_emitter *e, const struct yt_node *n)
{
	const struct yt_node *k;
	bool was_in_map = e->in_map;
	yaml_event_t ev;
	int ok, err = 0;

	if (n->type == YT_SCALAR)
		return emit_scalar(&e->em, n);
	if (n->type == YT_MAP)
		ok = yaml_mapping_start_event_initialize(
			&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
	else
		ok = yaml_sequence_start_event_initialize(
			&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
	if (!ok)
		return -ENOMEM;
	err = emit(&e->em, &ev);
	/* Only a chain of mappings from the root has a key path. */
	e->in_map = n->type == YT_MAP && was_in_map;
	if (!err && n->type == YT_MAP)
		err = emit_entries(e, n);
	for (k = n->first; !err && n->type == YT_SEQ && k; k = k->next)
		err = emit_node(e, k);
	e->in_map = was_in_map;
	if (err)
		return err;
	if (n->type == YT_MAP)
		yaml_mapping_end_event_initialize(&ev);
	else
		yaml_sequence_end_event_initialize(&ev);
	return emit(&e->em, &ev);
}

static int emit_doc(struct yt_emitter *e, const struct yt_node *root)
{
	yaml_event_t ev;
	int err;

	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	err = emit(&e->em, &ev);
	if (!err && !yaml_document_start_event_initialize(&ev, NULL, NULL,
							  NULL, 1))
		err = -ENOMEM;
	if (!err)
		err = emit(&e->em, &ev);
	if (!err)
		err = emit_node(e, root);
	if (!err) {
		yaml_document_end_event_initialize(&ev, 1);
		err = emit(&e->em, &ev);
	}
	if (!err) {
		yaml_stream_end_event_initialize(&ev);
		err = emit(&e->em, &ev);
	}
	return err;
}

int yt_emit(const struct yt_node *root, yt_drop_fn drop, void *ctx,
	    char **out, size_t *outlen)
{
	struct yt_emitter e = { .drop = drop, .ctx = ctx, .in_map = true };
	struct obuf o = { 0 };
	int err;

	*out = NULL;
	if (!yaml_emitter_initialize(&e.em))
		return -ENOMEM;
	yaml_emitter_set_output(&e.em, obuf_write, &o);
	yaml_emitter_set_unicode(&e.em, 1);
	yaml_emitter_set_width(&e.em, -1);
	err = emit_doc(&e, root);
	if (!err && !yaml_emitter_flush(&e.em))
		err = -ENOMEM;
	yaml_emitter_delete(&e.em);
	if (o.nomem)
		err = -ENOMEM;
	if (!err && !o.p)
		err = -EINVAL;
	if (err) {
		free(o.p);
		return err;
	}
	*out = o.p;
	*outlen = o.len;
	return 0;
}
