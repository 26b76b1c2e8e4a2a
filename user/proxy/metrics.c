// SPDX-License-Identifier: Apache-2.0
/*
 * Request metrics of ambit-proxy (see pxmetrics.h) and the log level it
 * follows.
 *
 * A worker counts a request into a series named by its labels (Service
 * port, route, rule, backend, status code), found in the worker's own
 * open-addressing table by a hash of those labels. Label text is copied
 * into the series when it is made, so series outlive the snapshots whose
 * names they carry and a route change continues the same series. Request
 * counts are the histogram's count, so the two always agree.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ambit/pin.h"
#include "log.h"
#include "prom.h"
#include "proto.h"
#include "pxmetrics.h"
#include "strmap.h"

#define KEY_FIELDS 10
#define FIELD_MAX 253 /* a Kubernetes name's limit; longer values are cut */
#define KEY_MAX (KEY_FIELDS * (FIELD_MAX + 1))

struct px_series {
	uint64_t hash;
	uint64_t buckets[PROM_N_BUCKETS]; /* not cumulative */
	uint64_t sum_us;
	size_t key_len;
	char key[]; /* NUL-terminated values: see key_build() */
};

struct px_wstats {
	uint64_t conns[PX_CONN_N];
	uint64_t unrecorded; /* the table was full */
	size_t n_series;
	struct px_series *slots[PX_SERIES_SLOTS];
};

static struct px_wstats *wstats[PX_MAX_WORKERS];
static double start_time;

/* Only worker @id writes its slot: no two threads ever create it. */
static struct px_wstats *wstats_of(int id)
{
	struct px_wstats *w;

	if (id < 0 || id >= PX_MAX_WORKERS)
		return NULL;
	w = __atomic_load_n(&wstats[id], __ATOMIC_ACQUIRE);
	if (!w) {
		w = calloc(1, sizeof(*w));
		if (w)
			__atomic_store_n(&wstats[id], w, __ATOMIC_RELEASE);
	}
	return w;
}

/* Single writer: a plain add stored atomically is enough. */
static void bump(uint64_t *v, uint64_t by)
{
	__atomic_store_n(v, __atomic_load_n(v, __ATOMIC_RELAXED) + by,
			 __ATOMIC_RELAXED);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void px_metrics_begin(struct px_req_metrics *m)
{
	m->start_ns = mono_ns();
	m->status = 0;
	m->be_ns = m->be_name = NULL;
	m->be_port = 0;
}

void px_metrics_conn(int worker, enum px_conn_event ev)
{
	struct px_wstats *w = wstats_of(worker);

	if (w && ev < PX_CONN_N)
		bump(&w->conns[ev], 1);
}

/* ---- series ------------------------------------------------------------- */

struct key {
	char buf[KEY_MAX];
	size_t len;
};

/* Every field fits: KEY_FIELDS of at most FIELD_MAX bytes and a NUL. */
static void key_put(struct key *k, const char *s, size_t n)
{
	if (n > FIELD_MAX)
		n = FIELD_MAX;
	memcpy(k->buf + k->len, s, n);
	k->len += n;
	k->buf[k->len++] = '\0';
}

static void key_str(struct key *k, const char *s)
{
	key_put(k, s ? s : "", s ? strlen(s) : 0);
}

static void key_num(struct key *k, long v)
{
	char num[24];

	if (v < 0)
		key_put(k, "", 0);
	else
		key_put(k, num, (size_t)snprintf(num, sizeof(num), "%ld", v));
}

/* The labels of a request, in this order: service ns and name, port,
 * route ns and name, rule, backend ns, name and port, code. */
static void key_build(struct key *k, const struct img_service *s,
		      uint16_t port, const struct l7_rule *rule,
		      const struct px_req_metrics *m)
{
	k->len = 0;
	key_str(k, s ? s->svc->ns : NULL);
	key_str(k, s ? s->svc->name : NULL);
	key_num(k, port);
	key_str(k, rule ? rule->route->ns : NULL);
	key_str(k, rule ? rule->route->name : NULL);
	key_num(k, rule ? (long)rule->index : -1);
	key_str(k, m->be_ns);
	key_str(k, m->be_name);
	key_num(k, m->be_name ? m->be_port : -1);
	key_num(k, m->status);
}

/* FNV-1a, 64 bits. */
static uint64_t key_hash(const struct key *k)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < k->len; i++)
		h = (h ^ (unsigned char)k->buf[i]) * 0x100000001b3ull;
	return h;
}

/* Find or make the series for @k in @w; NULL when the table is full. */
static struct px_series *series_get(struct px_wstats *w, const struct key *k)
{
	uint64_t h = key_hash(k);
	size_t i, slot = h & (PX_SERIES_SLOTS - 1);
	struct px_series *s;

	for (i = 0; i < PX_SERIES_SLOTS; i++, slot = (slot + 1) & (PX_SERIES_SLOTS - 1)) {
		s = w->slots[slot];
		if (!s)
			break;
		if (s->hash == h && s->key_len == k->len &&
		    !memcmp(s->key, k->buf, k->len))
			return s;
	}
	/* Keep a quarter free: probes stay short. */
	if (w->n_series >= PX_SERIES_SLOTS / 4 * 3 || i == PX_SERIES_SLOTS)
		return NULL;
	s = calloc(1, sizeof(*s) + k->len);
	if (!s)
		return NULL;
	s->hash = h;
	s->key_len = k->len;
	memcpy(s->key, k->buf, k->len);
	w->n_series++;
	__atomic_store_n(&w->slots[slot], s, __ATOMIC_RELEASE); /* published whole */
	return s;
}

static bool cache_hit(const struct px_req_metrics *m,
		      const struct px_snapshot *snap, const struct l7_rule *rule)
{
	return m->last && snap && m->last_version == snap->version &&
	       m->last_rule == rule && m->last_be == m->be_name &&
	       m->last_status == m->status;
}

static void log_request(const struct key *k, uint64_t us)
{
	const char *f[KEY_FIELDS];
	const char *p = k->buf;
	int i;

	for (i = 0; i < KEY_FIELDS; i++, p += strlen(p) + 1)
		f[i] = p;
	pr_debug_kv("request", LOG_STR("service_ns", f[0]),
		    LOG_STR("service", f[1]), LOG_STR("port", f[2]),
		    LOG_STR("route_ns", f[3]), LOG_STR("route", f[4]),
		    LOG_STR("rule", f[5]), LOG_STR("backend_ns", f[6]),
		    LOG_STR("backend", f[7]), LOG_STR("backend_port", f[8]),
		    LOG_STR("code", f[9]), LOG_UINT("duration_us", us));
}

void px_metrics_done(int worker, struct px_req_metrics *m,
		     const struct px_snapshot *snap,
		     const struct ambit_svc_key *svc, const struct l7_rule *rule)
{
	uint64_t us = (mono_ns() - m->start_ns) / 1000;
	struct px_wstats *w = wstats_of(worker);
	struct px_snapshot *cur = NULL;
	struct px_series *s = NULL;
	struct key k;

	if (!w || !m->start_ns)
		goto out;
	if (cache_hit(m, snap, rule) && !log_enabled(LOG_DEBUG)) {
		s = m->last;
	} else {
		if (!snap)
			snap = cur = px_snapshot_current();
		key_build(&k, snap ? image_find(&snap->img, svc) : NULL,
			  ntohs(svc->port), rule, m);
		s = series_get(w, &k);
		if (log_enabled(LOG_DEBUG))
			log_request(&k, us);
	}
	if (!s) {
		bump(&w->unrecorded, 1);
		goto out;
	}
	bump(&s->buckets[prom_bucket(us)], 1);
	bump(&s->sum_us, us);
	m->last = s;
	m->last_version = snap && !cur ? snap->version : 0;
	m->last_rule = rule;
	m->last_be = m->be_name;
	m->last_status = m->status;
out:
	if (cur)
		px_snapshot_put(cur);
	m->start_ns = 0;
}

/* ---- rendering ---------------------------------------------------------- */

struct agg {
	char *labels;
	uint64_t buckets[PROM_N_BUCKETS];
	uint64_t sum_us;
};

struct aggs {
	struct agg *v;
	size_t n, cap;
	struct strmap by_labels; /* labels -> index + 1 */
	bool oom;
};

/* The Prometheus labels of a series key (see key_build()). */
static void key_labels(const struct px_series *s, struct sbuf *l)
{
	const char *f[KEY_FIELDS], *p = s->key;
	char buf[3 * (FIELD_MAX + 1)];
	int i;

	for (i = 0; i < KEY_FIELDS; i++, p += strlen(p) + 1)
		f[i] = p;
	snprintf(buf, sizeof(buf), "%s%s%s", f[0], *f[0] || *f[1] ? "/" : "", f[1]);
	prom_label(l, "service", buf);
	prom_label(l, "port", f[2]);
	snprintf(buf, sizeof(buf), "%s%s%s", f[3], *f[4] ? "/" : "", f[4]);
	prom_label(l, "route", buf);
	prom_label(l, "rule", f[5]);
	snprintf(buf, sizeof(buf), "%s%s%s%s%s", f[6], *f[7] ? "/" : "", f[7],
		 *f[8] ? ":" : "", f[8]);
	prom_label(l, "backend", buf);
	prom_label(l, "code", f[9]);
}

/* Workers count the same label sets: one sample per set, summed. */
static void agg_add(struct aggs *a, const struct px_series *s)
{
	struct sbuf l = {};
	struct agg *g;
	uintptr_t idx;
	int i;

	key_labels(s, &l);
	if (l.oom) {
		a->oom = true;
		return;
	}
	idx = (uintptr_t)strmap_get(&a->by_labels, sb_str(&l));
	if (!idx) {
		if (a->n == a->cap) {
			size_t cap = a->cap ? a->cap * 2 : 64;
			struct agg *v = realloc(a->v, cap * sizeof(*v));

			if (!v) {
				a->oom = true;
				sb_free(&l);
				return;
			}
			a->v = v;
			a->cap = cap;
		}
		memset(&a->v[a->n], 0, sizeof(a->v[a->n]));
		a->v[a->n].labels = l.buf; /* owned now */
		if (strmap_add(&a->by_labels, l.buf, (void *)(uintptr_t)(a->n + 1))) {
			a->oom = true;
			sb_free(&l);
			return;
		}
		idx = ++a->n;
		l.buf = NULL;
	}
	sb_free(&l);
	g = &a->v[idx - 1];
	for (i = 0; i < PROM_N_BUCKETS; i++)
		g->buckets[i] += __atomic_load_n(&s->buckets[i], __ATOMIC_RELAXED);
	g->sum_us += __atomic_load_n(&s->sum_us, __ATOMIC_RELAXED);
}

static void aggs_free(struct aggs *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i].labels);
	free(a->v);
	strmap_free(&a->by_labels);
}

static void render_requests(struct sbuf *b, uint64_t *unrecorded)
{
	struct aggs a = {};
	size_t i, j;
	int wi;

	for (wi = 0; wi < PX_MAX_WORKERS; wi++) {
		struct px_wstats *w = __atomic_load_n(&wstats[wi], __ATOMIC_ACQUIRE);

		for (j = 0; w && j < PX_SERIES_SLOTS; j++) {
			struct px_series *s = __atomic_load_n(&w->slots[j],
							      __ATOMIC_ACQUIRE);
			if (s)
				agg_add(&a, s);
		}
		if (w)
			*unrecorded += __atomic_load_n(&w->unrecorded, __ATOMIC_RELAXED);
	}
	prom_family(b, "ambit_proxy_requests_total", "counter",
		    "Requests ambit-proxy finished, by Service port, route, rule, "
		    "backend and status code (0: the client left before an "
		    "answer; \"\" route/rule/backend: none was chosen).");
	for (i = 0; i < a.n; i++) {
		uint64_t n = 0;

		for (j = 0; j < PROM_N_BUCKETS; j++)
			n += a.v[i].buckets[j];
		prom_u64(b, "ambit_proxy_requests_total", a.v[i].labels, n);
	}
	prom_family(b, "ambit_proxy_request_duration_seconds", "histogram",
		    "Time from a request's complete head to the end of its "
		    "response, with the same labels as ambit_proxy_requests_total.");
	for (i = 0; i < a.n; i++)
		prom_histogram(b, "ambit_proxy_request_duration_seconds",
			       a.v[i].labels, a.v[i].buckets, a.v[i].sum_us);
	if (a.oom)
		b->oom = true;
	aggs_free(&a);
}

static void render_conns(struct sbuf *b)
{
	static const char *const names[] = { "accepted", "not_redirected",
					     "over_limit" };
	uint64_t c[PX_CONN_N] = { 0 };
	char lab[48];
	int wi, i;

	for (wi = 0; wi < PX_MAX_WORKERS; wi++) {
		struct px_wstats *w = __atomic_load_n(&wstats[wi], __ATOMIC_ACQUIRE);

		for (i = 0; w && i < PX_CONN_N; i++)
			c[i] += __atomic_load_n(&w->conns[i], __ATOMIC_RELAXED);
	}
	prom_family(b, "ambit_proxy_connections_total", "counter",
		    "Client connections: accepted, or refused because they did "
		    "not come through a redirect or the worker was at --max-conns.");
	for (i = 0; i < PX_CONN_CLOSED; i++) {
		snprintf(lab, sizeof(lab), "result=\"%s\"", names[i]);
		prom_u64(b, "ambit_proxy_connections_total", lab, c[i]);
	}
	prom_family(b, "ambit_proxy_connections_active", "gauge",
		    "Client connections open now.");
	prom_u64(b, "ambit_proxy_connections_active", NULL,
		 c[PX_CONN_ACCEPTED] >= c[PX_CONN_CLOSED]
			 ? c[PX_CONN_ACCEPTED] - c[PX_CONN_CLOSED] : 0);
}

static void render(struct sbuf *b)
{
	uint64_t unrecorded = 0;

	prom_family(b, "ambit_proxy_start_time_seconds", "gauge",
		    "When this ambit-proxy started, in seconds since the Unix epoch.");
	prom_f64(b, "ambit_proxy_start_time_seconds", NULL, start_time);
	render_conns(b);
	render_requests(b, &unrecorded);
	prom_family(b, "ambit_proxy_requests_unrecorded_total", "counter",
		    "Requests not in ambit_proxy_requests_total: a worker had no "
		    "room for another label set.");
	prom_u64(b, "ambit_proxy_requests_unrecorded_total", NULL, unrecorded);
	sb_add(b, AMBIT_PROXY_METRICS_END, strlen(AMBIT_PROXY_METRICS_END));
}

/* ---- the metrics socket ------------------------------------------------- */

static void serve_one(int fd)
{
	struct timeval tv = { .tv_sec = 2 };
	struct sbuf b = {};
	size_t off = 0;
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	render(&b);
	if (b.oom)
		pr_warn("metrics: out of memory"); /* a cut answer: ambitd sees it */
	while (!b.oom && off < b.len &&
	       (n = send(fd, b.buf + off, b.len - off, MSG_NOSIGNAL)) > 0)
		off += (size_t)n;
	sb_free(&b);
}

static void *serve(void *arg)
{
	int lfd = (int)(intptr_t)arg, fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				usleep(100000); /* e.g. EMFILE: don't spin */
			continue;
		}
		serve_one(fd);
		close(fd);
	}
	return NULL;
}

int px_metrics_start(const char *path)
{
	struct sockaddr_un sa;
	struct timespec now;
	pthread_attr_t attr;
	pthread_t t;
	mode_t old;
	int fd, err;

	clock_gettime(CLOCK_REALTIME, &now);
	start_time = (double)now.tv_sec + now.tv_nsec / 1e9;
	if (unix_addr(&sa, path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path); /* a stale one, or a proxy's we take over from */
	old = umask(0177);
	err = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 8) ? -errno : 0;
	umask(old);
	if (!err) {
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		err = -pthread_create(&t, &attr, serve, (void *)(intptr_t)fd);
		pthread_attr_destroy(&attr);
	}
	if (err) {
		close(fd);
		pr_err_kv("cannot serve metrics", LOG_STR("socket", path),
			  LOG_STR("error", strerror(-err)));
		return err;
	}
	pr_info_kv("serving metrics", LOG_STR("socket", path));
	return 0;
}

/* ---- the log level ambitd publishes ------------------------------------- */

static char level_path[PATH_MAX];

static void level_load(void)
{
	char buf[32] = "";
	FILE *f = fopen(level_path, "re");
	int lvl, old = log_get_level();

	if (!f)
		return; /* no daemon told us anything: keep ours */
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, " \t\r\n")] = '\0';
	lvl = log_level_parse(buf);
	if (lvl < 0) {
		pr_warn_kv("ignoring a bad log level", LOG_STR("file", level_path),
			   LOG_STR("level", buf));
		return;
	}
	if (lvl == old)
		return;
	log_set_level(lvl);
	pr_info_kv("log level changed", LOG_STR("from", log_level_name(old)),
		   LOG_STR("to", log_level_name(lvl)), LOG_STR("file", level_path));
}

void px_log_level_follow(const char *path)
{
	snprintf(level_path, sizeof(level_path), "%s", path);
	level_load();
}

void px_log_level_changed(const char *name)
{
	char copy[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", level_path);
	if (level_path[0] && !strcmp(name, basename(copy)))
		level_load();
}
