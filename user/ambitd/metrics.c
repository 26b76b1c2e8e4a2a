// SPDX-License-Identifier: Apache-2.0
/*
 * What a scrape shows: the daemon's own counts, BPF map occupancy, the
 * per-CPU counters of the BPF programs summed over CPUs and named after
 * the Services, backends and endpoints they count, then ambit-proxy's
 * request metrics read from its metrics socket (see user/proxy/metrics.c).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ambit-version.h"
#include "ambit/pin.h"
#include "connect.skel.h"
#include "daemon.h"
#include "log.h"
#include "prom.h"

#define WALK_BATCH 1024

const char *const tx_verb_names[TX_N] = { "apply", "delete", "enroll",
					  "unenroll", "sync", "pod" };

/* An empty label list to build the next sample's labels in. */
static struct sbuf *lab(struct sbuf *l)
{
	l->len = 0;
	if (l->buf)
		l->buf[0] = '\0';
	return l;
}

/* ---- walking BPF hash maps ---------------------------------------------- */

typedef void (*walk_fn)(const void *key, const void *val, void *arg);

struct walk {
	int fd;
	__u32 key_size;
	__u32 val_size; /* of one entry: every CPU's copy for per-CPU maps */
	walk_fn fn;
	void *arg;
};

static int walk_init(struct walk *w, int fd, walk_fn fn, void *arg)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int ncpu = libbpf_num_possible_cpus();

	if (bpf_obj_get_info_by_fd(fd, &info, &len) || ncpu <= 0)
		return -errno ? -errno : -EINVAL;
	w->fd = fd;
	w->key_size = info.key_size;
	w->val_size = info.value_size;
	if (info.type == BPF_MAP_TYPE_PERCPU_HASH ||
	    info.type == BPF_MAP_TYPE_LRU_PERCPU_HASH)
		w->val_size = ((info.value_size + 7) & ~7u) * (__u32)ncpu;
	w->fn = fn;
	w->arg = arg;
	return 0;
}

/* One entry at a time: for maps without batch lookups (sockhash). */
static long walk_slow(const struct walk *w, void *key, void *next, void *val)
{
	long n = 0;
	bool first = true;

	while (!bpf_map_get_next_key(w->fd, first ? NULL : key, next)) {
		first = false;
		memcpy(key, next, w->key_size);
		if (w->fn && bpf_map_lookup_elem(w->fd, key, val))
			continue; /* deleted meanwhile */
		if (w->fn)
			w->fn(key, val, w->arg);
		n++;
	}
	return n;
}

/*
 * Every entry, WALK_BATCH per system call: a million endpoints take a
 * thousand calls, not two million. Return: the number of entries, or
 * -errno.
 */
static long walk_map(const struct walk *w)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t tok = w->key_size > 8 ? w->key_size : 8;
	/* Zeroed: valgrind's memcheck cannot see what BPF_MAP_LOOKUP_BATCH
	 * writes, and would take every key read back for uninitialised. */
	char *keys = calloc(WALK_BATCH, w->key_size);
	char *vals = calloc(WALK_BATCH, w->val_size);
	char *in = calloc(1, tok), *out = calloc(1, tok);
	long total = 0;
	bool first = true;
	__u32 count, i;
	int err = -ENOMEM;

	while (keys && vals && in && out) {
		count = WALK_BATCH;
		err = bpf_map_lookup_batch(w->fd, first ? NULL : in, out, keys,
					   vals, &count, &opts) ? -errno : 0;
		if (err && err != -ENOENT) {
			/* No batch support, or a bucket larger than a batch. */
			total = first ? walk_slow(w, in, out, vals) : err;
			err = first ? 0 : err;
			break;
		}
		for (i = 0; i < count && w->fn; i++)
			w->fn(keys + (size_t)i * w->key_size,
			      vals + (size_t)i * w->val_size, w->arg);
		total += count;
		if (err == -ENOENT) {
			err = 0;
			break;
		}
		memcpy(in, out, tok);
		first = false;
	}
	free(keys);
	free(vals);
	free(in);
	free(out);
	return err ? err : total;
}

static long map_entries(int fd)
{
	struct walk w;

	return walk_init(&w, fd, NULL, NULL) ?: walk_map(&w);
}

/* ---- service ports by counter id ---------------------------------------- */

struct svc_ref {
	__u32 id;
	const struct img_service *s;
};

struct svc_index {
	struct svc_ref *v;
	size_t n;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct svc_ref *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int svc_index_build(const struct daemon *d, struct svc_index *ix)
{
	size_t i;

	ix->n = 0;
	ix->v = calloc(d->img.n_svcs + 1, sizeof(*ix->v));
	if (!ix->v)
		return -ENOMEM;
	for (i = 0; i < d->img.n_svcs; i++) {
		const struct ambit_svc_val *v = mapsync_find(&d->ms,
							     &d->img.svcs[i].key);

		if (v)
			ix->v[ix->n++] = (struct svc_ref){ v->svc_id, &d->img.svcs[i] };
	}
	qsort(ix->v, ix->n, sizeof(*ix->v), ref_cmp);
	return 0;
}

static const struct img_service *svc_index_find(const struct svc_index *ix,
						__u32 id)
{
	struct svc_ref k = { .id = id };
	const struct svc_ref *r = ix->n ? bsearch(&k, ix->v, ix->n, sizeof(k),
						  ref_cmp) : NULL;

	return r ? r->s : NULL;
}

/* service="ns/name",port="9080",protocol="TCP",vip="10.96.0.10" */
static void svc_labels(struct sbuf *l, const struct img_service *s)
{
	char vip[INET6_ADDRSTRLEN], name[320];

	snprintf(name, sizeof(name), "%s/%s", s->svc->ns, s->svc->name);
	prom_label(l, "service", name);
	prom_label_u(l, "port", ntohs(s->key.port));
	prom_label(l, "protocol", s->key.proto == IPPROTO_UDP ? "UDP" : "TCP");
	inet_ntop(s->key.family == AMBIT_FAMILY_V4 ? AF_INET : AF_INET6,
		  s->key.addr, vip, sizeof(vip));
	prom_label(l, "vip", vip);
}

/* ---- BPF counters ------------------------------------------------------- */

struct rows {
	char *v;
	size_t n, cap, size; /* entries, room, bytes per entry */
	bool oom;
	int ncpu;
	const struct svc_index *ix;
};

struct stats_row {
	const struct img_service *s;
	struct ambit_stats_key k;
	struct ambit_stats_val v;
};

struct ep_row {
	const struct img_service *s;
	struct ambit_ep_stats_key k;
	struct ambit_ep_stats_val v;
};

static void *rows_add(struct rows *r)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		char *v = realloc(r->v, cap * r->size);

		if (!v) {
			r->oom = true;
			return NULL;
		}
		r->v = v;
		r->cap = cap;
	}
	memset(r->v + r->n * r->size, 0, r->size);
	return r->v + r->n++ * r->size;
}

/* Rows of service ports that are gone are skipped: pruning drops them. */
static void stats_collect(const void *key, const void *val, void *arg)
{
	const struct ambit_stats_key *k = key;
	struct rows *r = arg;
	const struct img_service *s = svc_index_find(r->ix, k->svc_id);
	struct stats_row *row;

	if (!s || !(row = rows_add(r)))
		return;
	row->s = s;
	row->k = *k;
	percpu_sum(&row->v, val, sizeof(row->v), r->ncpu);
}

static void ep_collect(const void *key, const void *val, void *arg)
{
	const struct ambit_ep_stats_key *k = key;
	struct rows *r = arg;
	const struct img_service *s = svc_index_find(r->ix, k->svc_id);
	struct ep_row *row;

	if (!s || !(row = rows_add(r)))
		return;
	row->s = s;
	row->k = *k;
	percpu_sum(&row->v, val, sizeof(row->v), r->ncpu);
}

/* Output in the image's order (by service key), then by backend. */
static int stats_row_cmp(const void *a, const void *b)
{
	const struct stats_row *x = a, *y = b;

	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	return x->k.backend_id < y->k.backend_id ? -1 : x->k.backend_id > y->k.backend_id;
}

static int ep_row_cmp(const void *a, const void *b)
{
	const struct ep_row *x = a, *y = b;

	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	return memcmp(&x->k, &y->k, sizeof(x->k));
}

static int collect(int fd, walk_fn fn, size_t size, const struct svc_index *ix,
		   struct rows *r, int (*cmp)(const void *, const void *))
{
	struct walk w;
	long n;

	memset(r, 0, sizeof(*r));
	r->size = size;
	r->ix = ix;
	r->ncpu = libbpf_num_possible_cpus();
	n = walk_init(&w, fd, fn, r) ?: walk_map(&w);
	if (n < 0 || r->oom) {
		pr_warn_kv("cannot read BPF counters", LOG_STR("error",
			   strerror(n < 0 ? (int)-n : ENOMEM)));
		return n < 0 ? (int)n : -ENOMEM;
	}
	if (r->n)
		qsort(r->v, r->n, size, cmp);
	return 0;
}

/* backend="ns/name:port" of version @id of @s; NULL when it is gone. */
static const char *backend_name(const struct img_service *s, __u32 id,
				char *buf, size_t size)
{
	const struct img_version *v;

	if (id == AMBIT_STATS_SERVICE)
		return "";
	if (id >= s->n_versions)
		return NULL;
	v = &s->versions[id];
	snprintf(buf, size, "%s/%s:%u", v->ns, v->name, v->port);
	return buf;
}

static void service_samples(struct sbuf *b, const struct rows *r, int what,
			    const char *name)
{
	struct sbuf l = {};
	char buf[400];
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct stats_row *row = (const void *)(r->v + i * r->size);
		const char *be = backend_name(row->s, row->k.backend_id, buf,
					      sizeof(buf));
		bool svc_row = row->k.backend_id == AMBIT_STATS_SERVICE;
		__u64 v = what == 0 ? row->v.connects : what == 1 ? row->v.no_endpoint
			: what == 2 ? row->v.to_proxy : row->v.no_proxy;

		/* Per-backend rows count connects and failures; service-wide
		 * rows the proxy and the refusals no backend could take. */
		if (!be || (what == 0 && svc_row) || (what == 1 && svc_row && !v) ||
		    (what >= 2 && (!svc_row || (!v && !row->s->l7))))
			continue;
		svc_labels(lab(&l), row->s);
		if (what < 2)
			prom_label(&l, "backend", be);
		if (what == 1)
			prom_label(&l, "reason", "no_endpoint");
		prom_u64(b, name, sb_str(&l), v);
	}
	sb_free(&l);
}

static void render_service_counters(struct daemon *d, const struct svc_index *ix,
				    struct sbuf *b)
{
	struct rows r;

	if (collect(d->dp.stats_fd, stats_collect, sizeof(struct stats_row), ix,
		    &r, stats_row_cmp))
		return;
	prom_family(b, "ambit_connects_total", "counter",
		    "Connections (TCP) and datagrams (UDP) of enrolled workloads "
		    "to a Service port that BPF sent to an endpoint of this "
		    "backend (a backendRef, or the Service itself).");
	service_samples(b, &r, 0, "ambit_connects_total");
	prom_family(b, "ambit_connect_failures_total", "counter",
		    "Connects to a Service port refused at once (ECONNREFUSED): "
		    "the chosen backend has no ready endpoint (backend \"\": no "
		    "backend could be chosen).");
	service_samples(b, &r, 1, "ambit_connect_failures_total");
	prom_family(b, "ambit_proxy_redirects_total", "counter",
		    "Connections to an L7 Service port sent to ambit-proxy.");
	service_samples(b, &r, 2, "ambit_proxy_redirects_total");
	prom_family(b, "ambit_proxy_bypassed_total", "counter",
		    "Connections to an L7 Service port left alone because the "
		    "daemon runs without a proxy (--proxy-port).");
	service_samples(b, &r, 3, "ambit_proxy_bypassed_total");
	free(r.v);
}

static void endpoint_samples(struct sbuf *b, const struct rows *r, bool failed,
			     const char *name)
{
	struct sbuf l = {};
	struct ambit_ep_val ep = {};
	char addr[64];
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct ep_row *row = (const void *)(r->v + i * r->size);

		memcpy(ep.addr, row->k.addr, sizeof(ep.addr));
		ep.port = row->k.port;
		ep.family = row->k.family;
		svc_labels(lab(&l), row->s);
		prom_label(&l, "endpoint", ep_str(&ep, addr, sizeof(addr)));
		prom_u64(b, name, sb_str(&l), failed ? row->v.failed : row->v.connects);
	}
	sb_free(&l);
}

static void render_endpoint_counters(struct daemon *d,
				     const struct svc_index *ix, struct sbuf *b)
{
	struct rows r;

	if (collect(d->dp.ep_stats_fd, ep_collect, sizeof(struct ep_row), ix, &r,
		    ep_row_cmp))
		return;
	prom_family(b, "ambit_endpoint_connects_total", "counter",
		    "Connections and datagrams to a Service port that BPF sent "
		    "to this endpoint address:port (for an L7 Service port: to "
		    "ambit-proxy).");
	endpoint_samples(b, &r, false, "ambit_endpoint_connects_total");
	prom_family(b, "ambit_endpoint_connect_failures_total", "counter",
		    "TCP connects sent to this endpoint that closed before they "
		    "were established: refused, timed out, or abandoned.");
	endpoint_samples(b, &r, true, "ambit_endpoint_connect_failures_total");
	free(r.v);
}

/* ---- the daemon itself -------------------------------------------------- */

static void render_process(struct daemon *d, struct sbuf *b)
{
	struct sbuf l = {};

	prom_family(b, "ambit_build_info", "gauge",
		    "Always 1; the labels name the running ambit build.");
	prom_label(&l, "version", AMBIT_VERSION);
	prom_label(&l, "commit", AMBIT_COMMIT);
	prom_u64(b, "ambit_build_info", sb_str(&l), 1);
	prom_family(b, "process_start_time_seconds", "gauge",
		    "When ambitd started, in seconds since the Unix epoch.");
	prom_f64(b, "process_start_time_seconds", NULL, d->metrics.start_time);
	sb_free(&l);
}

static void render_config(struct daemon *d, struct sbuf *b)
{
	size_t i, active = 0, l7 = 0;
	struct sbuf l = {};

	prom_family(b, "ambit_applies_total", "counter",
		    "Configuration changes attempted, by command (failed ones "
		    "included; dry runs not).");
	for (i = 0; i < TX_N; i++) {
		prom_label(lab(&l), "verb", tx_verb_names[i]);
		prom_u64(b, "ambit_applies_total", sb_str(&l), d->tx[i]);
	}
	prom_family(b, "ambit_apply_errors_total", "counter",
		    "Configuration changes refused (nothing of them took effect), "
		    "by command.");
	for (i = 0; i < TX_N; i++) {
		prom_label(lab(&l), "verb", tx_verb_names[i]);
		prom_u64(b, "ambit_apply_errors_total", sb_str(&l), d->tx_errors[i]);
	}
	for (i = 0; i < d->en.n; i++)
		active += d->en.v[i].id != 0;
	prom_family(b, "ambit_enrolled_workloads", "gauge",
		    "Enrollments: active (in the enroll map) or unresolved (their "
		    "netns or cgroup path does not exist now).");
	prom_u64(b, "ambit_enrolled_workloads", "state=\"active\"", active);
	prom_u64(b, "ambit_enrolled_workloads", "state=\"unresolved\"",
		 d->en.n - active);
	for (i = 0; i < d->img.n_svcs; i++)
		l7 += d->img.svcs[i].l7;
	prom_family(b, "ambit_service_ports", "gauge",
		    "Service ports in the data plane: L4 (redirected in BPF) or "
		    "L7 (through ambit-proxy).");
	prom_u64(b, "ambit_service_ports", "mode=\"L4\"", d->img.n_svcs - l7);
	prom_u64(b, "ambit_service_ports", "mode=\"L7\"", l7);
	sb_free(&l);
}

static bool countable(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LRU_HASH || t == BPF_MAP_TYPE_SOCKHASH;
}

static void render_maps(struct daemon *d, struct sbuf *b)
{
	struct sbuf entries = {}, l = {};
	struct bpf_map *m;

	prom_family(b, "ambit_map_capacity", "gauge",
		    "Entries a BPF map can hold (max_entries).");
	bpf_object__for_each_map(m, d->dp.skel->obj) {
		long n;

		if (!countable(bpf_map__type(m)))
			continue;
		n = map_entries(bpf_map__fd(m));
		prom_label(lab(&l), "map", bpf_map__name(m));
		prom_u64(b, "ambit_map_capacity", sb_str(&l),
			 bpf_map__max_entries(m));
		if (n >= 0)
			prom_u64(&entries, "ambit_map_entries", sb_str(&l),
				 (unsigned long long)n);
	}
	prom_family(b, "ambit_map_entries", "gauge",
		    "Entries in a BPF map now; at capacity, new ones fail.");
	sb_add(b, sb_str(&entries), entries.len);
	sb_free(&entries);
	sb_free(&l);
}

/* ---- ambit-proxy -------------------------------------------------------- */

/* What the proxy reports, whole, within METRICS_PROXY_MS. */
static int fetch_proxy(const char *path, struct sbuf *out)
{
	const size_t mark = strlen(AMBIT_PROXY_METRICS_END);
	__u64 end = now_ms() + METRICS_PROXY_MS, now;
	struct pollfd p = { .events = POLLIN };
	struct sockaddr_un sa;
	char buf[65536];
	int err = 0;
	ssize_t n;

	if (unix_addr(&sa, path))
		return -ENAMETOOLONG;
	p.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (p.fd < 0)
		return -errno;
	if (connect(p.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		err = -errno;
	while (!err && (n = read(p.fd, buf, sizeof(buf))) != 0) {
		if (n > 0 && out->len + (size_t)n > METRICS_PROXY_MAX)
			err = -EFBIG;
		else if (n > 0)
			sb_add(out, buf, (size_t)n);
		else if (errno != EAGAIN && errno != EINTR)
			err = -errno;
		else if ((now = now_ms()) >= end)
			err = -ETIMEDOUT;
		else
			poll(&p, 1, (int)(end - now));
	}
	close(p.fd);
	if (!err && (out->len < mark ||
		     memcmp(out->buf + out->len - mark, AMBIT_PROXY_METRICS_END, mark)))
		err = -EPROTO; /* cut short: the proxy died while writing */
	if (!err && out->oom)
		err = -ENOMEM;
	if (!err)
		out->buf[out->len -= mark] = '\0';
	return err;
}

static void render_proxy(struct daemon *d, struct sbuf *b)
{
	struct metrics_server *m = &d->metrics;
	struct sbuf px = {};
	int err;

	if (!d->proxy_port)
		return;
	err = fetch_proxy(m->proxy_sock, &px);
	if (!!err != m->proxy_unreachable)
		log_kv(err ? LOG_WARN : LOG_INFO, err ? "ambit-proxy metrics "
		       "unreachable" : "ambit-proxy metrics reachable again",
		       LOG_STR("socket", m->proxy_sock),
		       LOG_STR("error", err ? strerror(-err) : ""));
	m->proxy_unreachable = !!err;
	prom_family(b, "ambit_proxy_up", "gauge",
		    "1 when ambit-proxy answered on its metrics socket for this "
		    "scrape; 0 when it is unreachable (its metrics are missing).");
	prom_u64(b, "ambit_proxy_up", NULL, !err);
	if (d->sup.argv[0]) {
		prom_family(b, "ambit_proxy_restarts_total", "counter",
			    "Times ambitd restarted an ambit-proxy that exited.");
		prom_u64(b, "ambit_proxy_restarts_total", NULL, d->sup.restarts);
	}
	if (!err)
		sb_add(b, sb_str(&px), px.len);
	sb_free(&px);
}

int metrics_render(struct daemon *d, struct sbuf *out)
{
	__u64 t0 = now_ms();
	struct svc_index ix;

	if (svc_index_build(d, &ix))
		return -ENOMEM;
	render_process(d, out);
	render_config(d, out);
	render_maps(d, out);
	render_service_counters(d, &ix, out);
	render_endpoint_counters(d, &ix, out);
	render_proxy(d, out);
	free(ix.v);
	pr_debug_kv("metrics scraped", LOG_UINT("bytes", out->len),
		    LOG_UINT("ms", now_ms() - t0));
	return out->oom ? -ENOMEM : 0;
}

/* ---- pruning ------------------------------------------------------------ */

struct prune {
	const struct daemon *d;
	const struct svc_index *ix;
	char *keys; /* to delete, key_size each */
	size_t n, cap, key_size;
	bool oom;
};

static void prune_add(struct prune *p, const void *key)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		char *k = realloc(p->keys, cap * p->key_size);

		if (!k) {
			p->oom = true;
			return;
		}
		p->keys = k;
		p->cap = cap;
	}
	memcpy(p->keys + p->n++ * p->key_size, key, p->key_size);
}

static int ep_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct ambit_ep_val));
}

/* Does service port @s still send connections to @ep? */
static bool sends_to(const struct daemon *d, const struct img_service *s,
		     const struct ambit_ep_val *ep)
{
	const __be32 lo6[4] = { 0, 0, 0, htonl(1) };
	size_t i;

	if (s->l7) /* to the proxy on the client's loopback */
		return d->proxy_port && ep->port == htons(d->proxy_port) &&
		       (ep->family == AMBIT_FAMILY_V4
				? ep->addr[0] == htonl(INADDR_LOOPBACK)
				: !memcmp(ep->addr, lo6, sizeof(lo6)));
	for (i = 0; i < s->n_versions; i++) {
		if (s->versions[i].n_eps &&
		    bsearch(ep, s->versions[i].eps, s->versions[i].n_eps,
			    sizeof(*ep), ep_cmp))
			return true;
	}
	return false;
}

static void prune_ep(const void *key, const void *val, void *arg)
{
	const struct ambit_ep_stats_key *k = key;
	struct prune *p = arg;
	const struct img_service *s = svc_index_find(p->ix, k->svc_id);
	struct ambit_ep_val ep = {};

	memcpy(ep.addr, k->addr, sizeof(ep.addr));
	ep.port = k->port;
	ep.family = k->family;
	if (!s || !sends_to(p->d, s, &ep))
		prune_add(p, key);
}

static void prune_svc(const void *key, const void *val, void *arg)
{
	const struct ambit_stats_key *k = key;
	struct prune *p = arg;

	if (!svc_index_find(p->ix, k->svc_id))
		prune_add(p, key);
}

static size_t prune_map(struct daemon *d, const struct svc_index *ix, int fd,
			walk_fn fn)
{
	struct prune p = { .d = d, .ix = ix };
	struct walk w;
	size_t i, done = 0;

	if (walk_init(&w, fd, fn, &p))
		return 0;
	p.key_size = w.key_size;
	if (walk_map(&w) < 0 || p.oom)
		p.n = 0; /* try again next time */
	for (i = 0; i < p.n; i++)
		done += !bpf_map_delete_elem(fd, p.keys + i * p.key_size);
	free(p.keys);
	return done;
}

void metrics_prune(struct daemon *d)
{
	struct svc_index ix;
	size_t eps, svcs;

	if (svc_index_build(d, &ix))
		return;
	eps = prune_map(d, &ix, d->dp.ep_stats_fd, prune_ep);
	svcs = prune_map(d, &ix, d->dp.stats_fd, prune_svc);
	free(ix.v);
	if (eps || svcs)
		pr_debug_kv("dropped counters of what is gone",
			    LOG_UINT("endpoint_entries", eps),
			    LOG_UINT("service_entries", svcs));
}
