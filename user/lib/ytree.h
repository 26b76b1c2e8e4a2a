/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small YAML tree built from libyaml events, with the hostile-input limits
 * of load.h enforced while the events stream in. Internal to the loader.
 *
 * Why not libyaml's own document API: it resolves aliases into shared nodes
 * (a billion-laughs document stays small in memory but explodes when
 * walked), has no depth or size limits and spends ~80 bytes per node.
 * Here aliases are refused, depth/size/count limits are checked per event,
 * and a node is 32 bytes in an arena freed once per document.
 */
#ifndef AMBIT_YTREE_H
#define AMBIT_YTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "arena.h"
#include "diag.h"

enum yt_type { YT_SCALAR = 1, YT_SEQ, YT_MAP };

struct yt_node {
	uint8_t type;  /* enum yt_type */
	uint8_t style; /* yaml_scalar_style_t of a scalar, for re-emitting */
	bool plain;    /* plain and untagged: may be a number, bool or null */
	uint32_t n;    /* scalar: length in bytes; collection: children */
	int line, col; /* 1-based */
	union {
		const char *str;       /* scalar, NUL-terminated */
		struct yt_node *first; /* collection: first child */
	};
	struct yt_node *next; /* next sibling; a mapping alternates key, value */
};

/* Reads a YAML stream one document at a time. */
struct yt_reader {
	yaml_parser_t parser;
	const char *file; /* for messages */
	const unsigned char *buf;
	size_t len;
	struct diags *d;
	bool build;       /* false: only check the limits (first pass) */
	bool in_doc;
	bool done;
	int doc;          /* documents started, 1-based once one has */
	size_t nodes;     /* in the current document */
	size_t objects;   /* documents + List items so far */
	struct arena arena; /* the current document's nodes */
};

/**
 * yt_open() - start reading @len bytes at @buf. With @build false the
 * reader only checks syntax and limits, building nothing. Errors go to @d
 * under the name @file. The reader must be closed with yt_close(), even
 * when this fails.
 * Return: 0 or -ENOMEM.
 */
int yt_open(struct yt_reader *r, const char *file, const char *buf,
	     size_t len, struct diags *d, bool build);

/**
 * yt_next() - read the next document. On 1, *@root is its root (in the
 * reader's arena, valid until the next call; NULL when not building).
 * Return: 1 for a document, 0 at the end of the stream, -EINVAL after a
 * syntax error or exceeded limit (reported in the reader's diags), -ENOMEM.
 */
int yt_next(struct yt_reader *r, struct yt_node **root);

/** yt_close() - free the parser and the last document. */
void yt_close(struct yt_reader *r);

/*
 * Which mapping entries to leave out when re-emitting: @path holds the keys
 * from the root down to the entry's own key, @depth of them (1 for a key of
 * the root mapping). Entries under a sequence are never dropped.
 */
typedef bool (*yt_drop_fn)(const char *const *path, int depth, void *ctx);

/**
 * yt_emit() - @root re-emitted as a standalone YAML document (block style),
 * without the mapping entries @drop (may be NULL) says to leave out.
 * Return: 0 with a malloc'd NUL-terminated text in *@out, or -ENOMEM /
 * -EINVAL (emitter error).
 */
int yt_emit(const struct yt_node *root, yt_drop_fn drop, void *ctx,
	    char **out, size_t *outlen);

/** yt_is_null() - a plain null: empty, "~", "null", "Null" or "NULL". */
bool yt_is_null(const struct yt_node *n);

/** yt_type_name() - "a mapping", "a list" or "a scalar", for messages. */
const char *yt_type_name(const struct yt_node *n);

#endif
