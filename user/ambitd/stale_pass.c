// SPDX-License-Identifier: Apache-2.0
/*
 * When an apply removes endpoints: which connections to close, and where
 * to look for them (destroy.c does the closing).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "log.h"
#include "stale.h"

static const struct enrolled *find_enrolled(const struct enroll_set *en,
					    const struct ambit_enroll_key *k)
{
	size_t i;

	for (i = 0; en && i < en->n; i++) {
		if (en->v[i].id && en->v[i].id == k->id && en->v[i].kind == k->kind)
			return &en->v[i];
	}
	return NULL;
}

/* The namespaces a workload's sockets live in: its own (--netns), or
 * those of the threads in its cgroup now. */
static void add_workload(struct netns_set *ns, const struct enrolled *e)
{
	const struct object *o = e->obj;
	int err = o->enr.cgroup_path ? netns_set_add_cgroup(ns, o->enr.cgroup_path)
				     : netns_set_add(ns, o->enr.netns_path);

	if (err)
		pr_debug("closing stale connections: skip enrollment %s: %s",
			 o->name, strerror(-err));
}

/* Everywhere: every enrolled workload, and our own namespace. */
static void add_everywhere(struct netns_set *ns, const struct enroll_set *a,
			   const struct enroll_set *b)
{
	int err = netns_set_add(ns, "/proc/thread-self/ns/net");
	size_t i;

	if (err)
		pr_warn("closing stale connections: own namespace: %s",
			strerror(-err));
	for (i = 0; a && i < a->n; i++) {
		if (a->v[i].id)
			add_workload(ns, &a->v[i]);
	}
	for (i = 0; b && i < b->n; i++) {
		if (b->v[i].id)
			add_workload(ns, &b->v[i]);
	}
}

/* The namespaces of the workloads found, or everywhere when the answer
 * is incomplete or names a workload no longer enrolled. */
static void collect_netns(struct netns_set *ns, const struct stale_found *f,
			  const struct enroll_set *a, const struct enroll_set *b)
{
	const struct enrolled *e;
	size_t i;

	for (i = 0; !f->lost && i < f->n; i++) {
		e = find_enrolled(a, &f->wl[i]);
		if (!e)
			e = find_enrolled(b, &f->wl[i]);
		if (!e)
			break;
		add_workload(ns, e);
	}
	if (f->lost || i < f->n) {
		pr_debug("closing stale connections: looking everywhere");
		add_everywhere(ns, a, b);
	}
}

/* One map load of pairs: find their owners, walk only where they live. */
static int pass_chunk(struct daemon *d, const struct ambit_stale_key *pairs,
		      size_t n, const struct enroll_set *also)
{
	struct netns_set ns = {};
	struct stale_found f;
	int err = destroyer_find(&d->ds, pairs, n, &f);

	if (!err && (f.n || f.lost)) {
		collect_netns(&ns, &f, &d->en, also);
		err = destroyer_walk(&d->ds, &ns, f.lost ? AMBIT_STALE_TCP |
							   AMBIT_STALE_UDP
							 : f.protos);
	}
	destroyer_unload(&d->ds, pairs, n);
	stale_found_free(&f);
	netns_set_free(&ns);
	return err;
}

static __u64 clock_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (__u64)ts.tv_sec * 1000000 + (__u64)ts.tv_nsec / 1000;
}

/* Returns the sockets closed, or -errno. Big removals take several map
 * loads. @also: enrollments besides d->en (an apply's new ones). */
static long run_pass(struct daemon *d, const struct ambit_stale_key *pairs,
		     size_t n, const struct enroll_set *also)
{
	struct destroyer *ds = &d->ds;
	__u64 t0 = clock_us(CLOCK_MONOTONIC), before = destroyer_closed(ds);
	__u64 cpu0 = clock_us(CLOCK_THREAD_CPUTIME_ID);
	size_t off, chunk;
	int err = 0, e;

	ds->st.last_cpu_us = 0;
	ds->st.last_netns = 0;
	for (off = 0; off < n; off += chunk) {
		chunk = n - off < AMBIT_DEF_STALE ? n - off : AMBIT_DEF_STALE;
		e = pass_chunk(d, pairs + off, chunk, also);
		err = err ? err : e;
	}
	ds->st.passes++;
	ds->st.last_us = clock_us(CLOCK_MONOTONIC) - t0;
	/* The find step ran here, the walks in their thread (added there). */
	ds->st.last_cpu_us += clock_us(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	return err ? err : (long)(destroyer_closed(ds) - before);
}

/* Pending pairs that @img reaches again (an endpoint came back) go. */
static void prune_pending(struct destroyer *ds, const struct image *img)
{
	size_t i, out = 0;

	for (i = 0; i < ds->n_pending; i++) {
		if (!stale_still_reachable(img, &ds->pending[i]))
			ds->pending[out++] = ds->pending[i];
	}
	ds->n_pending = out;
}

static void defer(struct destroyer *ds, const struct ambit_stale_key *pairs,
		  size_t n)
{
	struct ambit_stale_key *p;

	p = realloc(ds->pending, (ds->n_pending + n) * sizeof(*p));
	if (!p) {
		pr_warn("closing stale connections: no second pass (out of memory)");
		return;
	}
	memcpy(p + ds->n_pending, pairs, n * sizeof(*p));
	ds->pending = p;
	ds->n_pending += n;
	ds->due_ms = now_ms() + MAPSYNC_GRACE_MS;
}

static void log_pairs(const struct ambit_stale_key *pairs, size_t n)
{
	char buf[200];
	size_t i;

	for (i = 0; i < n && log_get_level() >= LOG_DEBUG; i++)
		pr_debug("stale: %s", stale_key_str(&pairs[i], buf, sizeof(buf)));
}

void daemon_close_stale(struct daemon *d, const struct image *img,
			const struct objvec *all, const struct enroll_set *en)
{
	struct ambit_stale_key *pairs = NULL;
	size_t n = 0;
	long closed;

	if (!destroyer_on(&d->ds))
		return;
	prune_pending(&d->ds, img);
	if (stale_pairs(&d->img, img, all, &pairs, &n)) {
		pr_warn("closing stale connections: out of memory, they stay open");
		return;
	}
	if (!n)
		return;
	log_pairs(pairs, n);
	closed = run_pass(d, pairs, n, en);
	if (closed >= 0)
		pr_info("closed %ld connections to %zu removed endpoints "
			"(%llu namespaces walked, %llu us)", closed, n,
			(unsigned long long)d->ds.st.last_netns,
			(unsigned long long)d->ds.st.last_us);
	defer(&d->ds, pairs, n);
	free(pairs);
}

void daemon_stale_tick(struct daemon *d, __u64 now)
{
	struct destroyer *ds = &d->ds;
	long closed;

	if (!ds->n_pending || now < ds->due_ms)
		return;
	closed = run_pass(d, ds->pending, ds->n_pending, NULL);
	if (closed > 0)
		pr_info("second pass closed %ld more connections to removed "
			"endpoints", closed);
	free(ds->pending);
	ds->pending = NULL;
	ds->n_pending = 0;
}
