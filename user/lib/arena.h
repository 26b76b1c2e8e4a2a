/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bump allocator: many small allocations, one free. Objects of the model
 * are built once and never edited, so nothing is freed individually.
 */
#ifndef AMBIT_ARENA_H
#define AMBIT_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
	size_t used; /* bytes handed out, for limits and stats */
};

/** arena_alloc() - zeroed memory aligned for any type; NULL on ENOMEM. */
void *arena_alloc(struct arena *a, size_t size);

/** arena_calloc() - n zeroed elements; NULL on overflow or ENOMEM. */
void *arena_calloc(struct arena *a, size_t n, size_t size);

/** arena_strdup() - copy of s in the arena; NULL on ENOMEM. */
char *arena_strdup(struct arena *a, const char *s);

/** arena_strndup() - copy of the first n bytes of s, NUL-terminated. */
char *arena_strndup(struct arena *a, const char *s, size_t n);

/** arena_free() - release every allocation; the arena is empty again. */
void arena_free(struct arena *a);

#endif
