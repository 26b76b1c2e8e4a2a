// SPDX-License-Identifier: Apache-2.0
#include "destroy.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "destroy.skel.h"
#include "log.h"
#include "stale.h"

bool destroyer_on(const struct destroyer *ds)
{
	return ds->skel != NULL;
}

static int attach(struct destroyer *ds)
{
	ds->tcp = bpf_program__attach_iter(ds->skel->progs.ambit_stale_tcp, NULL);
	if (!ds->tcp)
		return -errno;
	ds->udp = bpf_program__attach_iter(ds->skel->progs.ambit_stale_udp, NULL);
	return ds->udp ? 0 : -errno;
}

static int load(struct destroyer *ds, const struct dataplane *dp)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = dp->bpffs);
	int err;

	ds->skel = destroy_bpf__open_opts(&opts);
	if (!ds->skel)
		return -errno;
	dp_size_maps(dp, ds->skel->obj);
	err = destroy_bpf__load(ds->skel);
	if (!err)
		err = attach(ds);
	if (!err)
		ds->stale_fd = bpf_map__fd(ds->skel->maps.ambit_stale);
	return err;
}

int destroyer_open(struct destroyer *ds, const struct dataplane *dp,
		   bool enabled)
{
	int err;

	memset(ds, 0, sizeof(*ds));
	ds->stale_fd = -1;
	if (!enabled) {
		ds->off_reason = "--no-destroy-stale";
		pr_info("connections to removed endpoints stay open "
			"(--no-destroy-stale)");
		return 0;
	}
	err = load(ds, dp);
	if (err) {
		destroyer_close(ds);
		ds->off_reason = "not supported by this kernel";
		pr_warn("connections to removed endpoints stay open: cannot "
			"load the socket-destroy iterators: %s (%d); closing "
			"them needs Linux 6.5+ with BTF (bpf_sock_destroy, "
			"iter/tcp, iter/udp)", strerror(-err), err);
		return err;
	}
	pr_info("connections to removed endpoints are closed (bpf_sock_destroy)");
	return 0;
}

void destroyer_close(struct destroyer *ds)
{
	bpf_link__destroy(ds->udp);
	bpf_link__destroy(ds->tcp);
	destroy_bpf__destroy(ds->skel);
	free(ds->pending);
	ds->udp = ds->tcp = NULL;
	ds->skel = NULL;
	ds->pending = NULL;
	ds->n_pending = 0;
	ds->stale_fd = -1;
}

/* Read one iterator to its end: the program runs once per socket. */
static int read_iter(struct bpf_link *link)
{
	char buf[256];
	ssize_t r;
	int fd = bpf_iter_create(bpf_link__fd(link)), err = 0;

	if (fd < 0)
		return fd;
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
	}
	close(fd);
	return err;
}

struct walk {
	const struct destroyer *ds;
	const struct netns_set *ns;
	int err; /* the first failure */
};

/*
 * A socket iterator walks the namespace its creator is in. setns() moves
 * only the calling thread, so this thread of our own enters each
 * namespace in turn and is thrown away afterwards.
 */
static void *walk_thread(void *arg)
{
	struct walk *w = arg;
	size_t i;
	int err;

	for (i = 0; i < w->ns->n; i++) {
		err = setns(w->ns->fds[i], CLONE_NEWNET) < 0 ? -errno : 0;
		if (!err)
			err = read_iter(w->ds->tcp);
		if (!err)
			err = read_iter(w->ds->udp);
		if (err && !w->err)
			w->err = err;
		if (err)
			pr_warn("closing stale connections: namespace %zu of %zu "
				"not walked: %s (%d)", i + 1, w->ns->n,
				strerror(-err), err);
	}
	return NULL;
}

static int walk_all(const struct destroyer *ds, const struct netns_set *ns)
{
	struct walk w = { .ds = ds, .ns = ns };
	pthread_t t;
	int err = pthread_create(&t, NULL, walk_thread, &w);

	if (err)
		return -err;
	pthread_join(t, NULL);
	return w.err;
}

static int fill(int fd, const struct ambit_stale_key *pairs, size_t n)
{
	__u8 one = 1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (bpf_map_update_elem(fd, &pairs[i], &one, BPF_ANY))
			return -errno;
	}
	return 0;
}

static void clear(int fd, const struct ambit_stale_key *pairs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &pairs[i]);
}

static __u64 now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000 + (__u64)ts.tv_nsec / 1000;
}

static __u64 closed_total(const struct destroyer *ds)
{
	return ds->skel->bss->closed_tcp + ds->skel->bss->closed_udp;
}

long destroyer_pass(struct destroyer *ds, const struct ambit_stale_key *pairs,
		    size_t n, const struct netns_set *ns)
{
	__u64 t0 = now_us(), before;
	size_t off, chunk;
	int err = 0, e;

	if (!ds->skel || !n)
		return 0;
	before = closed_total(ds);
	/* The map holds one chunk at a time; big removals take more walks. */
	for (off = 0; off < n; off += chunk) {
		chunk = n - off < AMBIT_DEF_STALE ? n - off : AMBIT_DEF_STALE;
		e = fill(ds->stale_fd, pairs + off, chunk);
		if (e)
			pr_err("closing stale connections: fill the stale map: "
			       "%s (%d)", strerror(-e), e);
		else
			e = walk_all(ds, ns);
		clear(ds->stale_fd, pairs + off, chunk);
		err = err ? err : e;
	}
	ds->st.passes++;
	ds->st.closed_tcp = ds->skel->bss->closed_tcp;
	ds->st.closed_udp = ds->skel->bss->closed_udp;
	ds->st.failed = ds->skel->bss->close_failed;
	ds->st.last_us = now_us() - t0;
	ds->st.last_netns = ns->n;
	return err ? err : (long)(closed_total(ds) - before);
}

/* ---- the daemon's use --------------------------------------------------- */

/* Every namespace where enrolled workloads can own sockets, and ours. */
static void add_enrolled(struct netns_set *ns, const struct enroll_set *en)
{
	size_t i;
	int err;

	for (i = 0; en && i < en->n; i++) {
		const struct object *o = en->v[i].obj;

		if (!en->v[i].id)
			continue; /* never resolved: nothing was redirected */
		err = o->enr.cgroup_path ? netns_set_add_cgroup(ns, o->enr.cgroup_path)
					 : netns_set_add(ns, o->enr.netns_path);
		if (err)
			pr_debug("closing stale connections: skip enrollment "
				 "%s: %s", o->name, strerror(-err));
	}
}

static void collect_netns(struct netns_set *ns, const struct enroll_set *a,
			  const struct enroll_set *b)
{
	int err = netns_set_add(ns, "/proc/thread-self/ns/net");

	if (err)
		pr_warn("closing stale connections: own namespace: %s",
			strerror(-err));
	add_enrolled(ns, a);
	add_enrolled(ns, b);
}

static void log_pairs(const struct ambit_stale_key *pairs, size_t n)
{
	char buf[200];
	size_t i;

	for (i = 0; i < n && log_get_level() >= LOG_DEBUG; i++)
		pr_debug("stale: %s", stale_key_str(&pairs[i], buf, sizeof(buf)));
}

static long run_pass(struct daemon *d, const struct ambit_stale_key *pairs,
		     size_t n, const struct enroll_set *also)
{
	struct netns_set ns = {};
	long closed;

	collect_netns(&ns, &d->en, also);
	closed = destroyer_pass(&d->ds, pairs, n, &ns);
	netns_set_free(&ns);
	return closed;
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
			"(%llu namespaces, %llu us)", closed, n,
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
