// SPDX-License-Identifier: Apache-2.0
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filerepl.h"
#include "load.h"
#include "strmap.h"

int obj_same_key(const struct object *a, const struct object *b)
{
	return a->kind == b->kind && !strcmp(a->ns, b->ns) &&
	       !strcmp(a->name, b->name);
}

static char *obj_key(const struct object *o, char *buf, size_t size)
{
	snprintf(buf, size, "%d/%s/%s", o->kind, o->ns, o->name);
	return buf;
}

static int index_store(const struct store *st, struct strmap *ix)
{
	char key[600];
	size_t i;

	for (i = 0; i < st->objs.n; i++) {
		if (strmap_add(ix, obj_key(st->objs.v[i], key, sizeof(key)),
			       st->objs.v[i]))
			return -ENOMEM;
	}
	return 0;
}

/* all = store objects not leaving, then incoming. */
static int build_all(struct store *st, struct candidate *c,
		     const struct strmap *leaving)
{
	char key[600];
	size_t i;

	for (i = 0; i < st->objs.n; i++) {
		if (strmap_get(leaving, obj_key(st->objs.v[i], key, sizeof(key))))
			continue;
		if (objvec_push(&c->all, st->objs.v[i]))
			return -ENOMEM;
	}
	for (i = 0; i < c->incoming.n; i++) {
		if (objvec_push(&c->all, c->incoming.v[i]))
			return -ENOMEM;
	}
	return 0;
}

/* An updated object keeps its age (as creationTimestamp would). */
static int take_incoming(struct store *st, struct candidate *c,
			 const struct strmap *ix, struct strmap *leaving)
{
	char key[600];
	size_t i;

	for (i = 0; i < c->incoming.n; i++) {
		struct object *o = c->incoming.v[i];
		struct object *old = strmap_get(ix, obj_key(o, key, sizeof(key)));

		o->seq = st->next_seq + i;
		if (!old || strmap_get(leaving, key))
			continue;
		o->seq = old->seq;
		if (objvec_push(&c->leaving, old) || strmap_add(leaving, key, old))
			return -ENOMEM;
	}
	return 0;
}

int store_begin_apply(struct store *st, struct objvec *in, struct candidate *c)
{
	struct strmap ix = {}, leaving = {};
	int err;

	memset(c, 0, sizeof(*c));
	c->incoming = *in;
	memset(in, 0, sizeof(*in));
	err = index_store(st, &ix);
	if (!err)
		err = take_incoming(st, c, &ix, &leaving);
	if (!err)
		err = build_all(st, c, &leaving);
	strmap_free(&ix);
	strmap_free(&leaving);
	return err;
}

int store_begin_delete(struct store *st, const struct objvec *in,
		       struct candidate *c, struct diags *d)
{
	struct strmap ix = {}, leaving = {};
	char key[600];
	size_t i;
	int err;

	memset(c, 0, sizeof(*c));
	err = index_store(st, &ix);
	for (i = 0; !err && i < in->n; i++) {
		const struct object *o = in->v[i];
		struct object *old = strmap_get(&ix, obj_key(o, key, sizeof(key)));

		if (!old) {
			diag_add(d, &o->pos, NULL, "%s %s/%s not found",
				 obj_kind_name(o->kind), o->ns, o->name);
			err = -ENOENT;
		} else if (!strmap_get(&leaving, key)) {
			err = objvec_push(&c->leaving, old) ?:
			      strmap_add(&leaving, key, old);
		}
	}
	if (!err)
		err = build_all(st, c, &leaving);
	strmap_free(&ix);
	strmap_free(&leaving);
	return err;
}

int store_begin_change(struct store *st, struct objvec *in,
		       const struct objvec *gone, struct candidate *c)
{
	struct strmap ix = {}, leaving = {};
	char key[600];
	size_t i;
	int err;

	memset(c, 0, sizeof(*c));
	c->incoming = *in;
	memset(in, 0, sizeof(*in));
	err = index_store(st, &ix);
	for (i = 0; !err && gone && i < gone->n; i++) {
		struct object *old = strmap_get(&ix, obj_key(gone->v[i], key,
							     sizeof(key)));

		if (old && !strmap_get(&leaving, key))
			err = objvec_push(&c->leaving, old) ?:
			      strmap_add(&leaving, key, old);
	}
	if (!err)
		err = take_incoming(st, c, &ix, &leaving);
	if (!err)
		err = build_all(st, c, &leaving);
	strmap_free(&ix);
	strmap_free(&leaving);
	return err;
}

/* Remove pointer @o from @v; true when it was there. */
static bool objvec_take(struct objvec *v, const struct object *o)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		if (v->v[i] != o)
			continue;
		memmove(&v->v[i], &v->v[i + 1], (v->n - i - 1) * sizeof(*v->v));
		v->n--;
		return true;
	}
	return false;
}

int candidate_put(struct store *st, struct candidate *c, struct object *o)
{
	struct object *old = NULL;
	size_t i;

	for (i = 0; i < c->all.n && !old; i++) {
		if (obj_same_key(c->all.v[i], o))
			old = c->all.v[i];
	}
	if (objvec_push(&c->incoming, o))
		return -ENOMEM;
	if (!old) {
		o->seq = st->next_seq + c->incoming.n - 1;
		if (!objvec_push(&c->all, o))
			return 0;
		c->incoming.n--;
		return -ENOMEM;
	}
	o->seq = old->seq;
	if (objvec_take(&c->incoming, old)) {
		obj_free(old); /* new in this candidate: nobody else has it */
	} else if (objvec_push(&c->leaving, old)) {
		c->incoming.n--;
		return -ENOMEM;
	}
	c->all.v[i - 1] = o;
	return 0;
}

int candidate_drop(struct candidate *c, struct object *o)
{
	bool was_new = false;
	size_t i;

	for (i = 0; i < c->incoming.n && !was_new; i++)
		was_new = c->incoming.v[i] == o;
	if (!was_new && objvec_push(&c->leaving, o))
		return -ENOMEM;
	objvec_take(&c->all, o);
	if (was_new) {
		objvec_take(&c->incoming, o);
		obj_free(o);
	}
	return 0;
}

void store_commit(struct store *st, struct candidate *c)
{
	size_t i;

	/* The candidate's order (kept, then new) becomes the store's. */
	for (i = 0; i < c->leaving.n; i++)
		obj_free(c->leaving.v[i]);
	free(st->objs.v);
	st->objs = c->all;
	st->next_seq += c->incoming.n;
	free(c->incoming.v);
	free(c->leaving.v);
	memset(c, 0, sizeof(*c));
}

void candidate_free(struct candidate *c)
{
	objvec_free(&c->incoming);
	free(c->all.v);
	free(c->leaving.v);
	memset(c, 0, sizeof(*c));
}

/* The configuration file: every object a YAML document. */
static int fill_objs(int fd, void *arg)
{
	const struct objvec *objs = arg;
	size_t i;
	int err = 0;

	for (i = 0; !err && i < objs->n; i++) {
		err = write_all(fd, "---\n", 4);
		if (!err)
			err = write_all(fd, objs->v[i]->yaml,
					strlen(objs->v[i]->yaml));
	}
	return err;
}

int objs_save(const struct objvec *objs, const char *path)
{
	return file_replace_with(path, 0600, fill_objs, (void *)objs);
}

static int read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "re");
	size_t cap = 0, n;
	char chunk[65536];

	*buf = NULL;
	*len = 0;
	if (!f)
		return -errno;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (*len + n + 1 > cap) {
			char *b;

			cap = (*len + n + 1) * 2;
			b = realloc(*buf, cap);
			if (!b) {
				fclose(f);
				return -ENOMEM;
			}
			*buf = b;
		}
		memcpy(*buf + *len, chunk, n);
		*len += n;
	}
	fclose(f);
	return 0;
}

int store_restore(struct store *st, const char *path, struct diags *d)
{
	struct objvec in = {};
	char *buf;
	size_t len, i;
	int err;

	memset(st, 0, sizeof(*st));
	err = read_file(path, &buf, &len);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	err = model_load(path, buf ? buf : "", len, &in, d);
	free(buf);
	if (err)
		return err;
	for (i = 0; i < in.n; i++)
		in.v[i]->seq = i;
	st->objs = in;
	st->next_seq = in.n;
	return 0;
}

void store_free(struct store *st)
{
	objvec_free(&st->objs);
	st->next_seq = 0;
}
