// SPDX-License-Identifier: Apache-2.0
/* Enrollment objects -> the ambit_enroll map. */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"

static void resolve_one(const struct object *o, struct enrolled *e)
{
	e->obj = o;
	e->err = 0;
	if (o->enr.cgroup_path) {
		e->kind = AMBIT_ENROLL_CGROUP;
		e->id = cgroup_id_of(o->enr.cgroup_path);
		if (!e->id)
			e->err = -errno;
		return;
	}
	e->kind = AMBIT_ENROLL_NETNS;
	e->err = netns_cookie_of(o->enr.netns_path, &e->id);
	if (e->err)
		e->id = 0;
}

static bool is_in(const struct objvec *v, const struct object *o)
{
	size_t i;

	for (i = 0; v && i < v->n; i++) {
		if (v->v[i] == o)
			return true;
	}
	return false;
}

int enroll_resolve(const struct objvec *all, struct enroll_set *out,
		   struct diags *dg, const struct objvec *checked)
{
	size_t i;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->v = calloc(all->n + 1, sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	for (i = 0; i < all->n; i++) {
		const struct object *o = all->v[i];
		struct enrolled *e = &out->v[out->n];

		if (o->kind != OBJ_ENROLLMENT)
			continue;
		resolve_one(o, e);
		out->n++;
		if (e->err && is_in(checked, o)) {
			diag_add(dg, &o->pos, "spec", "cannot enroll %s %s: %s",
				 o->enr.cgroup_path ? "cgroup" : "netns",
				 o->enr.cgroup_path ? o->enr.cgroup_path
						    : o->enr.netns_path,
				 strerror(-e->err));
			ret = -EINVAL;
		}
	}
	return ret;
}

static bool wanted(const struct enroll_set *en, const struct ambit_enroll_key *k)
{
	size_t i;

	for (i = 0; i < en->n; i++) {
		if (en->v[i].id && en->v[i].id == k->id && en->v[i].kind == k->kind)
			return true;
	}
	return false;
}

/* Remove what is no longer enrolled, then add; both are idempotent. */
int enroll_sync(int map_fd, const struct enroll_set *en)
{
	struct ambit_enroll_key k, prev;
	bool first = true;
	size_t i;
	int err;

	while (!bpf_map_get_next_key(map_fd, first ? NULL : &prev, &k)) {
		if (!wanted(en, &k))
			bpf_map_delete_elem(map_fd, &k);
		else
			prev = k, first = false;
	}
	for (i = 0; i < en->n; i++) {
		struct ambit_enroll_key key = { .id = en->v[i].id,
						.kind = en->v[i].kind };
		struct ambit_enroll_val val = { .workload_id = (__u32)i };

		if (!key.id)
			continue;
		err = bpf_map_update_elem(map_fd, &key, &val, BPF_ANY);
		if (err) {
			pr_err("enroll map update: %s (%d)", strerror(-err), err);
			return err;
		}
	}
	return 0;
}

void enroll_set_free(struct enroll_set *en)
{
	free(en->v);
	memset(en, 0, sizeof(*en));
}
