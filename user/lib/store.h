/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The applied configuration and its transactions. An apply or delete first
 * builds a candidate (the whole configuration as it would be), which is
 * validated, compiled and written to the data plane; only then is it
 * committed. Abandoning a candidate leaves the store untouched.
 */
#ifndef AMBIT_STORE_H
#define AMBIT_STORE_H

#include <stdint.h>

#include "diag.h"
#include "objvec.h"

struct store {
	struct objvec objs; /* owned, in apply order */
	uint64_t next_seq;
};

struct candidate {
	struct objvec all;      /* borrowed: what the config would be */
	struct objvec incoming; /* owned until commit: new objects */
	struct objvec leaving;  /* borrowed: store objects replaced/deleted */
};

/**
 * store_begin_apply() - candidate = store with @in added, replacing objects
 * of the same kind/namespace/name. The objects of @in move into @c (@in is
 * left empty). Return: 0 or -ENOMEM.
 */
int store_begin_apply(struct store *st, struct objvec *in, struct candidate *c);

/**
 * store_begin_delete() - candidate = store without the objects named in
 * @in (matched by kind/namespace/name; @in stays the caller's). An object
 * that does not exist is an error in @d. Return: 0, -ENOENT or -ENOMEM.
 */
int store_begin_delete(struct store *st, const struct objvec *in,
		       struct candidate *c, struct diags *d);

/**
 * store_begin_change() - candidate = store with @in applied (as
 * store_begin_apply) and the objects named in @gone removed (matched by
 * kind/namespace/name; one that is not there is gone already, no error).
 * @in moves into @c; @gone stays the caller's. Return: 0 or -ENOMEM.
 */
int store_begin_change(struct store *st, struct objvec *in,
		       const struct objvec *gone, struct candidate *c);

/**
 * candidate_put() - add @o to @c, replacing the object with its key if
 * there is one. Ownership of @o moves into @c on success only.
 * Return: 0 or -ENOMEM (then @c is unchanged).
 */
int candidate_put(struct store *st, struct candidate *c, struct object *o);

/**
 * candidate_drop() - remove @o, an object of @c->all, from @c.
 * Return: 0 or -ENOMEM (then @c is unchanged).
 */
int candidate_drop(struct candidate *c, struct object *o);

/** store_commit() - make @c the configuration; @c is consumed. */
void store_commit(struct store *st, struct candidate *c);

/** candidate_free() - abandon @c; the store is unchanged. */
void candidate_free(struct candidate *c);

/** objs_save() - write @objs (YAML documents) to @path atomically. */
int objs_save(const struct objvec *objs, const char *path);

/**
 * store_restore() - load @path (written by store_save) into an empty
 * store. A missing file is an empty configuration. Return: 0, -errno, or
 * -EINVAL with reasons in @d.
 */
int store_restore(struct store *st, const char *path, struct diags *d);

/** store_free() - free every object. */
void store_free(struct store *st);

/** obj_same_key() - same kind, namespace and name. */
int obj_same_key(const struct object *a, const struct object *b);

#endif
