// SPDX-License-Identifier: Apache-2.0
#include "strmap.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct strmap_entry {
	struct strmap_entry *next;
	void *val;
	uint64_t hash;
	char key[];
};

/* FNV-1a: short keys, no adversary that can choose them at scale. */
static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int strmap_grow(struct strmap *m)
{
	size_t n = m->n_buckets ? m->n_buckets * 2 : 64, i;
	struct strmap_entry **b = calloc(n, sizeof(*b)), *e, *next;

	if (!b)
		return -ENOMEM;
	for (i = 0; i < m->n_buckets; i++) {
		/* Appending at each new chain's tail keeps values under one
		 * key in insertion order. */
		for (e = m->buckets[i]; e; e = next) {
			struct strmap_entry **pp = &b[e->hash & (n - 1)];

			next = e->next;
			while (*pp)
				pp = &(*pp)->next;
			e->next = NULL;
			*pp = e;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->n_buckets = n;
	return 0;
}

int strmap_add(struct strmap *m, const char *key, void *val)
{
	size_t len = strlen(key);
	struct strmap_entry *e, **pp;

	if (m->n >= m->n_buckets && strmap_grow(m))
		return -ENOMEM;
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return -ENOMEM;
	memcpy(e->key, key, len + 1);
	e->val = val;
	e->hash = hash_str(key);
	e->next = NULL;
	/* Append at the chain's tail so iteration follows insertion order. */
	for (pp = &m->buckets[e->hash & (m->n_buckets - 1)]; *pp;)
		pp = &(*pp)->next;
	*pp = e;
	m->n++;
	return 0;
}

void *strmap_next(const struct strmap *m, const char *key, void **cursor)
{
	struct strmap_entry *e;
	uint64_t h;

	if (!m->n_buckets)
		return NULL;
	h = hash_str(key);
	e = *cursor ? ((struct strmap_entry *)*cursor)->next
		    : m->buckets[h & (m->n_buckets - 1)];
	for (; e; e = e->next) {
		if (e->hash == h && !strcmp(e->key, key)) {
			*cursor = e;
			return e->val;
		}
	}
	return NULL;
}

void *strmap_get(const struct strmap *m, const char *key)
{
	void *cursor = NULL;

	return strmap_next(m, key, &cursor);
}

void strmap_free(struct strmap *m)
{
	struct strmap_entry *e, *next;
	size_t i;

	for (i = 0; i < m->n_buckets; i++) {
		for (e = m->buckets[i]; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(m->buckets);
	memset(m, 0, sizeof(*m));
}

char *nsname_key(char *buf, size_t size, const char *ns, const char *name)
{
	snprintf(buf, size, "%s/%s", ns ? ns : "", name ? name : "");
	return buf;
}
