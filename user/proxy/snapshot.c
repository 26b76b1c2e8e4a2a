// SPDX-License-Identifier: Apache-2.0
/*
 * Route snapshots: ambitd persists every applied configuration atomically
 * (write, fsync, rename); the proxy compiles that file with the same
 * loader and compiler into an immutable snapshot and swaps it in whole.
 * A request holds a reference for its lifetime, so a swap never changes
 * the rules under a request, and the next request sees the new ones.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "load.h"
#include "log.h"
#include "nsutil.h"
#include "proxy.h"

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static struct px_snapshot *current;
static uint64_t versions;

static int read_whole(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "re");
	long n;

	*buf = NULL;
	*len = 0;
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -EIO;
	}
	*buf = malloc((size_t)n + 1);
	if (*buf && fread(*buf, 1, (size_t)n, f) != (size_t)n) {
		free(*buf);
		*buf = NULL;
	}
	fclose(f);
	if (!*buf)
		return -EIO;
	*len = (size_t)n;
	return 0;
}

/* Enrolled workloads as the BPF programs identify them -> namespace. */
static int resolve_identities(struct px_snapshot *s)
{
	size_t i;

	s->ids = calloc(s->objs.n + 1, sizeof(*s->ids));
	if (!s->ids)
		return -ENOMEM;
	for (i = 0; i < s->objs.n; i++) {
		const struct object *o = s->objs.v[i];
		struct px_identity *id = &s->ids[s->n_ids];

		if (o->kind != OBJ_ENROLLMENT)
			continue;
		id->ns = o->enr.pod_ns ? o->enr.pod_ns : o->ns;
		if (o->enr.cgroup_path) {
			id->kind = AMBIT_ENROLL_CGROUP;
			id->id = cgroup_id_of(o->enr.cgroup_path);
		} else {
			id->kind = AMBIT_ENROLL_NETNS;
			if (netns_cookie_of(o->enr.netns_path, &id->id))
				id->id = 0;
		}
		s->n_ids += id->id != 0;
	}
	return 0;
}

/* ---- every endpoint of a snapshot, for pruning upstream pools ---------- */

struct epvec {
	struct ambit_ep_val *v;
	size_t n, cap;
	int err;
};

static void eps_add(struct epvec *ev, const struct ambit_ep_val *eps, size_t n)
{
	struct ambit_ep_val *v;
	size_t cap;

	if (ev->err || !n)
		return;
	if (ev->n + n > ev->cap) {
		cap = (ev->n + n) * 2;
		v = realloc(ev->v, cap * sizeof(*v));
		if (!v) {
			ev->err = -ENOMEM;
			return;
		}
		ev->v = v;
		ev->cap = cap;
	}
	memcpy(ev->v + ev->n, eps, n * sizeof(*eps));
	ev->n += n;
}

static void eps_of_entries(struct epvec *ev, const struct l7_entries *es)
{
	size_t i, j;

	for (i = 0; i < es->n; i++) {
		const struct l7_rule *r = es->v[i].rule;

		for (j = 0; j < r->n_backends; j++)
			eps_add(ev, r->backends[j].eps, r->backends[j].n_eps);
		for (j = 0; j < r->n_mirrors; j++)
			eps_add(ev, r->mirrors[j].eps, r->mirrors[j].n_eps);
	}
}

static int ep_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct ambit_ep_val));
}

static int collect_endpoints(struct px_snapshot *s)
{
	struct epvec ev = {};
	size_t i, j, out = 0;

	for (i = 0; i < s->img.n_svcs; i++) {
		for (j = 0; j < s->img.svcs[i].n_versions; j++)
			eps_add(&ev, s->img.svcs[i].versions[j].eps,
				s->img.svcs[i].versions[j].n_eps);
	}
	for (i = 0; i < s->l7.n_ports; i++) {
		eps_of_entries(&ev, &s->l7.ports[i].producer);
		for (j = 0; j < s->l7.ports[i].n_consumers; j++)
			eps_of_entries(&ev, &s->l7.ports[i].consumers[j].entries);
	}
	if (ev.err) {
		free(ev.v);
		return ev.err;
	}
	if (ev.n)
		qsort(ev.v, ev.n, sizeof(*ev.v), ep_cmp);
	for (i = 0; i < ev.n; i++) {
		if (!out || ep_cmp(&ev.v[out - 1], &ev.v[i]))
			ev.v[out++] = ev.v[i];
	}
	s->eps = ev.v;
	s->n_eps = out;
	return 0;
}

bool px_snapshot_has_endpoint(const struct px_snapshot *s,
			      const struct ambit_ep_val *ep)
{
	return s->n_eps && bsearch(ep, s->eps, s->n_eps, sizeof(*ep), ep_cmp);
}

static void snapshot_free(struct px_snapshot *s)
{
	free(s->eps);
	l7_free(&s->l7);
	image_free(&s->img);
	objvec_free(&s->objs);
	free(s->ids);
	free(s);
}

static int build(struct px_snapshot *s, const char *path, const char *buf,
		 size_t len, struct sbuf *err)
{
	struct diags dg = {};
	size_t i;
	int ret = model_load(path, buf ? buf : "", len, &s->objs, &dg);

	if (ret) {
		char *t = diags_join(&dg);

		sb_printf(err, "%s", t ? t : "cannot load");
		free(t);
		diags_free(&dg);
		return ret;
	}
	for (i = 0; i < s->objs.n; i++)
		s->objs.v[i]->seq = i; /* file order is apply order */
	ret = compile_image(&s->objs, &s->img);
	if (!ret)
		ret = l7_build(&s->objs, &s->img, &s->l7);
	if (!ret)
		ret = resolve_identities(s);
	if (!ret)
		ret = collect_endpoints(s);
	if (ret)
		sb_printf(err, "compile: %s", strerror(-ret));
	return ret;
}

struct px_snapshot *px_snapshot_load(const char *path, struct sbuf *err)
{
	struct px_snapshot *s = calloc(1, sizeof(*s));
	char *buf = NULL;
	size_t len;
	int ret;

	if (!s)
		return NULL;
	ret = read_whole(path, &buf, &len);
	if (ret)
		sb_printf(err, "read %s: %s", path, strerror(-ret));
	else
		ret = build(s, path, buf, len, err);
	free(buf);
	if (ret) {
		snapshot_free(s);
		return NULL;
	}
	s->refs = 1;
	return s;
}

struct px_snapshot *px_snapshot_current(void)
{
	struct px_snapshot *s;

	pthread_mutex_lock(&current_lock);
	s = current;
	if (s)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&current_lock);
	return s;
}

void px_snapshot_install(struct px_snapshot *s)
{
	struct px_snapshot *old;

	pthread_mutex_lock(&current_lock);
	s->version = ++versions;
	old = current;
	current = s;
	pthread_mutex_unlock(&current_lock);
	if (old)
		px_snapshot_put(old);
}

void px_snapshot_put(struct px_snapshot *s)
{
	if (s && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
		snapshot_free(s);
}

const char *px_client_ns(const struct px_snapshot *s, __u32 kind, __u64 id)
{
	size_t i;

	for (i = 0; i < s->n_ids; i++) {
		if (s->ids[i].kind == kind && s->ids[i].id == id)
			return s->ids[i].ns;
	}
	return NULL;
}
