// SPDX-License-Identifier: Apache-2.0
/* The socket-destroy iterators: loading, the find step, namespace walks. */
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

#include "destroy.skel.h"
#include "log.h"

bool destroyer_on(const struct destroyer *ds)
{
	return ds->skel != NULL;
}

__u64 destroyer_closed(const struct destroyer *ds)
{
	return ds->skel ? ds->skel->bss->closed_tcp + ds->skel->bss->closed_udp
			: 0;
}

/* A map iterator: the program sees every element of the map @map_fd. */
static struct bpf_link *attach_map_iter(struct bpf_program *prog, int map_fd)
{
	union bpf_iter_link_info linfo = { .map.map_fd = (__u32)map_fd };
	LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &linfo,
		    .link_info_len = sizeof(linfo));

	return bpf_program__attach_iter(prog, &opts);
}

static int attach(struct destroyer *ds)
{
	struct destroy_bpf *s = ds->skel;

	ds->find_tcp = attach_map_iter(s->progs.ambit_find_tcp,
				       bpf_map__fd(s->maps.ambit_peers));
	if (!ds->find_tcp)
		return -errno;
	ds->find_udp = attach_map_iter(s->progs.ambit_find_udp,
				       bpf_map__fd(s->maps.ambit_orig_dst));
	if (!ds->find_udp)
		return -errno;
	ds->tcp = bpf_program__attach_iter(s->progs.ambit_stale_tcp, NULL);
	if (!ds->tcp)
		return -errno;
	ds->udp = bpf_program__attach_iter(s->progs.ambit_stale_udp, NULL);
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
	bpf_map__set_max_entries(ds->skel->maps.ambit_stale_wl, dp->sizes.enroll);
	err = destroy_bpf__load(ds->skel);
	return err ? err : attach(ds);
}

int destroyer_open(struct destroyer *ds, const struct dataplane *dp,
		   bool enabled)
{
	int err;

	memset(ds, 0, sizeof(*ds));
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
	bpf_link__destroy(ds->find_udp);
	bpf_link__destroy(ds->find_tcp);
	destroy_bpf__destroy(ds->skel);
	free(ds->pending);
	ds->udp = ds->tcp = ds->find_udp = ds->find_tcp = NULL;
	ds->skel = NULL;
	ds->pending = NULL;
	ds->n_pending = 0;
}

/* Read one iterator to its end: the program runs once per element. */
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

/* ---- the find step ------------------------------------------------------ */

static int load_pairs(int fd, const struct ambit_stale_key *pairs, size_t n)
{
	__u8 one = 1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (bpf_map_update_elem(fd, &pairs[i], &one, BPF_ANY))
			return -errno;
	}
	return 0;
}

void destroyer_unload(struct destroyer *ds, const struct ambit_stale_key *pairs,
		      size_t n)
{
	int fd = bpf_map__fd(ds->skel->maps.ambit_stale);
	size_t i;

	for (i = 0; i < n; i++)
		bpf_map_delete_elem(fd, &pairs[i]);
}

static int found_add(struct stale_found *f, const struct ambit_enroll_key *k,
		     __u32 protos)
{
	struct ambit_enroll_key *v = realloc(f->wl, (f->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	f->wl = v;
	f->wl[f->n++] = *k;
	f->protos |= protos;
	return 0;
}

/* Take the find step's answer out of its map, leaving the map empty. */
static int take_workloads(struct destroyer *ds, struct stale_found *f)
{
	int fd = bpf_map__fd(ds->skel->maps.ambit_stale_wl), err = 0;
	struct ambit_enroll_key k;
	__u32 protos;
	size_t i;

	while (!err && !bpf_map_get_next_key(fd, f->n ? &f->wl[f->n - 1] : NULL, &k))
		err = bpf_map_lookup_elem(fd, &k, &protos) ? -errno
							    : found_add(f, &k, protos);
	for (i = 0; i < f->n; i++)
		bpf_map_delete_elem(fd, &f->wl[i]);
	f->lost = err || ds->skel->bss->workloads_lost;
	ds->skel->bss->workloads_lost = 0;
	return err == -ENOMEM ? err : 0;
}

int destroyer_find(struct destroyer *ds, const struct ambit_stale_key *pairs,
		   size_t n, struct stale_found *f)
{
	int err = load_pairs(bpf_map__fd(ds->skel->maps.ambit_stale), pairs, n);

	memset(f, 0, sizeof(*f));
	if (err) {
		pr_err("closing stale connections: load the stale pairs: %s (%d)",
		       strerror(-err), err);
		return err;
	}
	err = read_iter(ds->find_tcp);
	if (!err)
		err = read_iter(ds->find_udp);
	/* Always: it leaves the answer's map empty for the next pass. */
	if (take_workloads(ds, f) || err) {
		pr_warn("closing stale connections: finding their owners "
			"failed (%s): looking everywhere", strerror(err ? -err : ENOMEM));
		f->lost = true;
	}
	return 0;
}

void stale_found_free(struct stale_found *f)
{
	free(f->wl);
	memset(f, 0, sizeof(*f));
}

/* ---- namespace walks ---------------------------------------------------- */

struct walk {
	const struct destroyer *ds;
	const struct netns_set *ns;
	__u32 protos;
	int err;      /* the first failure */
	__u64 cpu_us; /* the thread's CPU time: the iterators run in it */
};

static int walk_one(const struct walk *w, int netns_fd)
{
	int err = setns(netns_fd, CLONE_NEWNET) < 0 ? -errno : 0;

	if (!err && (w->protos & AMBIT_STALE_TCP))
		err = read_iter(w->ds->tcp);
	if (!err && (w->protos & AMBIT_STALE_UDP))
		err = read_iter(w->ds->udp);
	return err;
}

/*
 * A socket iterator walks the namespace its creator is in. setns() moves
 * only the calling thread, so this thread of our own enters each
 * namespace in turn and is thrown away afterwards.
 */
static void *walk_thread(void *arg)
{
	struct walk *w = arg;
	struct timespec ts;
	size_t i;
	int err;

	for (i = 0; i < w->ns->n; i++) {
		err = walk_one(w, w->ns->fds[i]);
		if (err && !w->err)
			w->err = err;
		if (err)
			pr_warn("closing stale connections: namespace %zu of %zu "
				"not walked: %s (%d)", i + 1, w->ns->n,
				strerror(-err), err);
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	w->cpu_us = (__u64)ts.tv_sec * 1000000 + (__u64)ts.tv_nsec / 1000;
	return NULL;
}

int destroyer_walk(struct destroyer *ds, const struct netns_set *ns,
		   __u32 protos)
{
	struct walk w = { .ds = ds, .ns = ns, .protos = protos };
	pthread_t t;
	int err;

	if (!ns->n || !protos)
		return 0;
	err = pthread_create(&t, NULL, walk_thread, &w);
	if (err) {
		pr_err("closing stale connections: thread: %s", strerror(err));
		return -err;
	}
	pthread_join(t, NULL);
	ds->st.last_cpu_us += w.cpu_us;
	ds->st.last_netns += ns->n;
	ds->st.closed_tcp = ds->skel->bss->closed_tcp;
	ds->st.closed_udp = ds->skel->bss->closed_udp;
	ds->st.failed = ds->skel->bss->close_failed;
	return w.err;
}
