/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A string-keyed multimap (open hashing), for indexing objects by
 * "namespace/name" while compiling large configurations. Keys are copied;
 * values are borrowed pointers.
 */
#ifndef AMBIT_STRMAP_H
#define AMBIT_STRMAP_H

#include <stddef.h>

struct strmap_entry;

struct strmap {
	struct strmap_entry **buckets;
	size_t n_buckets;
	size_t n;
};

/** strmap_add() - add @val under @key (duplicates kept, in order). 0/-ENOMEM */
int strmap_add(struct strmap *m, const char *key, void *val);

/** strmap_get() - first value under @key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);

/**
 * strmap_next() - iterate the values under @key: pass *@cursor = NULL first;
 * returns the next value or NULL at the end.
 */
void *strmap_next(const struct strmap *m, const char *key, void **cursor);

/** strmap_free() - free the table (not the values). */
void strmap_free(struct strmap *m);

/** nsname_key() - "ns/name" into @buf of @size bytes; returns @buf. */
char *nsname_key(char *buf, size_t size, const char *ns, const char *name);

#endif
