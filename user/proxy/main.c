// SPDX-License-Identifier: Apache-2.0
/*
 * ambit-proxy: the L7 path. ambitd's BPF programs send connections for
 * Services whose routes inspect requests to this proxy's loopback
 * listener; it routes every request by the HTTPRoute rules and forwards it
 * to the chosen backend. It reads the configuration ambitd persists and
 * follows every change (inotify), swapping whole snapshots between
 * requests.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "ambit/pin.h"
#include "conn.h"
#include "handoff.h"
#include "log.h"
#include "nsutil.h"
#include "pxmetrics.h"

struct px_settings px_cfg = {
	.port = 15001,
	.mark = AMBIT_PROXY_MARK_DEFAULT,
	.config_path = AMBIT_STATE_DEFAULT "/config.yaml",
	.header_timeout_ms = 10000,
	.idle_timeout_ms = 60000,
	.connect_timeout_ms = 5000,
	.upstream_timeout_ms = 60000,
	.transfer_timeout_ms = 60000,
	.pool_idle_ms = 30000,
	.max_conns = 65536,
	.drain_ms = 10000,
	.head_limits = { .max_head = HTTP_MAX_HEAD, .max_fields = HTTP_MAX_HEADERS },
	.buffer_bytes = 64 * 1024,
};

/* Bounds of the size options: beyond them memory per connection, not the
 * peer, would be the problem. */
#define BUFFER_MIN (64 * 1024)
#define BUFFER_MAX (16 * 1024 * 1024)

struct options {
	const char *bpffs;
	const char *ready_file;
	const char *handoff; /* NULL: next to the configuration; "off" */
	const char *metrics_socket; /* NULL: beside the configuration */
	int verbose;
};

static char handoff_buf[PATH_MAX];

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ambit-proxy [OPTIONS]\n\n"
"The ambit L7 proxy: routes each request of connections that ambitd's BPF\n"
"programs redirect to it, by the HTTPRoute rules of the Service dialed.\n\n"
"  --port PORT              loopback listener port (default 15001; must match\n"
"                           ambitd --proxy-port)\n"
"  --config PATH            ambitd's configuration (default %s)\n"
"  --bpffs DIR              ambitd's pin directory (default %s)\n"
"  --workers N              worker threads (default: one per CPU)\n"
"  --mark MARK              SO_MARK of upstream sockets (default 0x%x)\n"
"  --header-timeout MS      complete request head within (default 10000)\n"
"  --idle-timeout MS        keep-alive idle limit (default 60000)\n"
"  --connect-timeout MS     upstream connect limit (default 5000)\n"
"  --upstream-timeout MS    response limit without a route timeout (60000)\n"
"  --transfer-timeout MS    a body or upgraded connection that moves no byte\n"
"                           either way for this long is cut (default 60000)\n"
"  --pool-idle-timeout MS   idle upstream connections kept for reuse this\n"
"                           long (default 30000)\n"
"  --max-conns N            client connections per worker (default 65536)\n"
"  --max-header-bytes N     request line and headers, bytes: 431 beyond\n"
"                           (default %d, %d to %d)\n"
"  --max-header-fields N    request header fields: 431 beyond (default %d,\n"
"                           at most %d)\n"
"  --buffer-bytes N         each of a busy connection's four I/O buffers\n"
"                           (bodies stream through, never buffered whole;\n"
"                           at least the header limit + 8 KiB): default %d,\n"
"                           %d to %d\n"
"  --drain-timeout MS       on stop or handoff, finish requests in flight\n"
"                           within (default 10000)\n"
"  --handoff PATH|off       Unix socket through which a new ambit-proxy takes\n"
"                           over this one's listening sockets, and through\n"
"                           which this one takes over from a running one at\n"
"                           start (default: ambit-proxy.sock next to --config)\n"
"  --ready-file PATH        write it once listening\n"
"  --metrics-socket PATH    serve metrics to ambitd on this unix socket\n"
"                           (default: " AMBIT_PROXY_METRICS_SOCK " beside --config;\n"
"                           'off': none). The log level follows the file\n"
"                           " AMBIT_LOG_LEVEL_FILE " there (ambit log-level)\n"
"  -v, --verbose            more logs\n"
"  -h, --help               this text\n\n"
"Replacing a running proxy without refusing a connection: start the new one\n"
"with the same --config (or --handoff). It takes over the listening sockets,\n"
"then the old one stops accepting, answers what it has in flight with\n"
"'Connection: close' and exits. SIGTERM drains without a successor.\n",
		px_cfg.config_path, AMBIT_BPFFS_DEFAULT, AMBIT_PROXY_MARK_DEFAULT,
		HTTP_MAX_HEAD, HTTP_LIMIT_HEAD_MIN, HTTP_LIMIT_HEAD_MAX,
		HTTP_MAX_HEADERS, HTTP_LIMIT_FIELDS_MAX, 64 * 1024, BUFFER_MIN,
		BUFFER_MAX);
}

static int num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	return errno || *end || !*s || *out > max ? -EINVAL : 0;
}

static int set_opt(int c, const char *arg, struct options *o)
{
	unsigned long v = 0;

	switch (c) {
	case 'c': px_cfg.config_path = arg; return 0;
	case 'b': o->bpffs = arg; return 0;
	case 'r': o->ready_file = arg; return 0;
	case 'x': o->handoff = arg; return 0;
	case 'S': o->metrics_socket = arg; return 0;
	case 'v': o->verbose++; return 0;
	}
	if (num(arg, c == 'm' ? 0xffffffffu : 0x7fffffff, &v))
		return -EINVAL;
	switch (c) {
	case 'p': px_cfg.port = (uint16_t)v; return v && v < 65536 ? 0 : -EINVAL;
	case 'w': px_cfg.workers = (int)v; return v && v <= 256 ? 0 : -EINVAL;
	case 'm': px_cfg.mark = (uint32_t)v; return 0;
	case 'H': px_cfg.header_timeout_ms = (uint32_t)v; return 0;
	case 'I': px_cfg.idle_timeout_ms = (uint32_t)v; return 0;
	case 'C': px_cfg.connect_timeout_ms = (uint32_t)v; return 0;
	case 'U': px_cfg.upstream_timeout_ms = (uint32_t)v; return 0;
	case 'T': px_cfg.transfer_timeout_ms = (uint32_t)v; return 0;
	case 'P': px_cfg.pool_idle_ms = (uint32_t)v; return 0;
	case 'M': px_cfg.max_conns = v; return v ? 0 : -EINVAL;
	case 'D': px_cfg.drain_ms = (uint32_t)v; return 0;
	case 'B':
		px_cfg.head_limits.max_head = v;
		return v >= HTTP_LIMIT_HEAD_MIN && v <= HTTP_LIMIT_HEAD_MAX ? 0 : -EINVAL;
	case 'F':
		px_cfg.head_limits.max_fields = v;
		return v && v <= HTTP_LIMIT_FIELDS_MAX ? 0 : -EINVAL;
	case 'S':
		px_cfg.buffer_bytes = v;
		return v >= BUFFER_MIN && v <= BUFFER_MAX ? 0 : -EINVAL;
	}
	return -EINVAL;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "config", required_argument, NULL, 'c' },
		{ "bpffs", required_argument, NULL, 'b' },
		{ "workers", required_argument, NULL, 'w' },
		{ "mark", required_argument, NULL, 'm' },
		{ "header-timeout", required_argument, NULL, 'H' },
		{ "idle-timeout", required_argument, NULL, 'I' },
		{ "connect-timeout", required_argument, NULL, 'C' },
		{ "upstream-timeout", required_argument, NULL, 'U' },
		{ "transfer-timeout", required_argument, NULL, 'T' },
		{ "pool-idle-timeout", required_argument, NULL, 'P' },
		{ "max-conns", required_argument, NULL, 'M' },
		{ "max-header-bytes", required_argument, NULL, 'B' },
		{ "max-header-fields", required_argument, NULL, 'F' },
		{ "buffer-bytes", required_argument, NULL, 'S' },
		{ "ready-file", required_argument, NULL, 'r' },
		{ "drain-timeout", required_argument, NULL, 'D' },
		{ "handoff", required_argument, NULL, 'x' },
		{ "metrics-socket", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c, i = -1;

	while ((c = getopt_long(argc, argv, "vh", opts, &i)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c != '?' && set_opt(c, optarg, o)) {
			fprintf(stderr, "ambit-proxy: --%s %s: not a valid value "
				"(see --help for the range)\n",
				i >= 0 ? opts[i].name : "?", optarg ? optarg : "");
			return -EINVAL;
		}
		if (c == '?') {
			fprintf(stderr, "ambit-proxy: bad arguments (see --help)\n");
			return -EINVAL;
		}
		i = -1;
	}
	return optind == argc ? 0 : -EINVAL;
}

/* One size for every I/O buffer: a whole request head and what may follow
 * it in the same read fit; page-rounded, as buffers are mapped whole. */
static void size_buffers(void)
{
	size_t n = px_cfg.head_limits.max_head + 8192;
	long page = sysconf(_SC_PAGESIZE);

	if (n < px_cfg.buffer_bytes)
		n = px_cfg.buffer_bytes;
	if (page > 0)
		n = (n + (size_t)page - 1) / (size_t)page * (size_t)page;
	px_cfg.buf_size = n;
}

static struct px_worker *workers;
static int n_workers;

static int reload(const char *why)
{
	struct sbuf err = {};
	struct px_snapshot *s = px_snapshot_load(px_cfg.config_path, &err);

	if (!s) {
		pr_err("keeping the current routes: %s: %s", why, sb_str(&err));
		sb_free(&err);
		return -EINVAL;
	}
	sb_free(&err);
	pr_info("routes loaded (%s): %zu L7 service ports", why, s->l7.n_ports);
	if (workers)
		px_pods_sync(workers, n_workers, s);
	px_snapshot_install(s);
	return 0;
}

/* Watch the directory: ambitd replaces the file by rename. */
static int watch_config(void)
{
	char dir[PATH_MAX];
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	snprintf(dir, sizeof(dir), "%s", px_cfg.config_path);
	if (fd < 0 || inotify_add_watch(fd, dirname(dir),
					IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
		pr_err("watch %s: %s", dir, strerror(errno));
		return -errno;
	}
	return fd;
}

static bool config_changed(int ifd)
{
	char buf[4096] __attribute__((aligned(8)));
	char name[PATH_MAX];
	const char *base;
	bool hit = false;
	ssize_t n;

	snprintf(name, sizeof(name), "%s", px_cfg.config_path);
	base = basename(name);
	while ((n = read(ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (void *)p;

			hit |= ev->len && !strcmp(ev->name, base);
			if (ev->len)
				px_log_level_changed(ev->name);
			p += sizeof(*ev) + ev->len;
		}
	}
	return hit;
}

/* Main thread: reload on change or SIGHUP, hand the listeners to a
 * successor that asks, stop on SIGTERM/SIGINT or once handed off. */
static void supervise(int ifd, int sfd, int hfd)
{
	struct pollfd p[3] = { { .fd = ifd, .events = POLLIN },
			       { .fd = sfd, .events = POLLIN },
			       { .fd = hfd, .events = POLLIN } };
	struct signalfd_siginfo si;

	for (;;) {
		if (poll(p, hfd >= 0 ? 3 : 2, -1) < 0 && errno != EINTR)
			return;
		if ((p[0].revents & POLLIN) && config_changed(ifd))
			reload("configuration changed");
		if (hfd >= 0 && (p[2].revents & POLLIN) &&
		    px_handoff_serve(hfd, workers, n_workers)) {
			pr_info("a new proxy took over the listeners");
			return;
		}
		if (!(p[1].revents & POLLIN) ||
		    read(sfd, &si, sizeof(si)) != sizeof(si))
			continue;
		if (si.ssi_signo == SIGHUP)
			reload("SIGHUP");
		else
			return;
	}
}

static int block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* workers inherit this */
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static int open_map(const char *bpffs, const char *name)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", bpffs, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		pr_err("open %s: %s: is ambitd running with this --bpffs?", path,
		       strerror(errno));
	return fd;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int start_workers(struct px_worker *w, pthread_t *t, int n)
{
	int i, err;

	for (i = 0; i < n; i++) {
		err = px_worker_init(&w[i], i);
		if (err)
			return err;
	}
	for (i = 0; i < n; i++) {
		err = pthread_create(&t[i], NULL, px_worker_run, &w[i]);
		if (err)
			return -err;
	}
	return 0;
}

/* Pods enrolled before the workers existed get their listeners now. */
static void sync_pods_now(void)
{
	struct px_snapshot *s = px_snapshot_current();

	px_pods_sync(workers, n_workers, s);
	px_snapshot_put(s);
}

static const char *handoff_path(const struct options *o)
{
	char dir[PATH_MAX];

	if (o->handoff)
		return strcmp(o->handoff, "off") ? o->handoff : NULL;
	snprintf(dir, sizeof(dir), "%s", px_cfg.config_path);
	snprintf(handoff_buf, sizeof(handoff_buf), "%s/ambit-proxy.sock",
		 dirname(dir));
	return handoff_buf;
}

/* Our own socket for the next successor. Without it we still serve; an
 * upgrade then cannot be hitless, which the log says. */
static int offer_handoff(const char *path)
{
	int fd;

	if (!path)
		return -1;
	fd = handoff_listen(path);
	if (fd < 0)
		pr_warn("handoff socket %s: %s (a successor will start fresh)",
			path, strerror(-fd));
	return fd;
}

/* ambitd's state directory: the configuration, the log level it
 * publishes, the metrics socket it reads. */
static const char *state_dir(char *buf, size_t size)
{
	snprintf(buf, size, "%s", px_cfg.config_path);
	return dirname(buf);
}

static void follow_log_level(void)
{
	char buf[PATH_MAX], path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/" AMBIT_LOG_LEVEL_FILE,
		 state_dir(buf, sizeof(buf)));
	px_log_level_follow(path);
}

/*
 * Once we own the listeners: a successor takes the metrics socket path
 * over only when it really serves. Failing it is logged; serving requests
 * matters more than counting them.
 */
static void serve_metrics(const struct options *o)
{
	char buf[PATH_MAX], path[PATH_MAX + 64];

	if (o->metrics_socket && !strcmp(o->metrics_socket, "off"))
		return;
	snprintf(path, sizeof(path), "%s/" AMBIT_PROXY_METRICS_SOCK,
		 state_dir(buf, sizeof(buf)));
	px_metrics_start(o->metrics_socket ? o->metrics_socket : path);
}

static void write_ready(const char *path)
{
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "ready %u\n", px_cfg.port);
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	struct options o = { .bpffs = AMBIT_BPFFS_DEFAULT };
	const char *hpath;
	struct px_worker *w;
	pthread_t *t;
	int i, ifd, sfd, hfd, tsock, err;

	if (parse_options(argc, argv, &o))
		return 1;
	log_set_level(LOG_INFO + o.verbose);
	size_buffers();
	if (!px_cfg.workers)
		px_cfg.workers = (int)sysconf(_SC_NPROCESSORS_ONLN);
	raise_nofile();
	sfd = block_signals();
	follow_log_level();
	px_cfg.home_netns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (netns_cookie_of_fd(px_cfg.home_netns_fd, &px_cfg.home_netns))
		return 1;
	hpath = handoff_path(&o);
	px_cfg.l7_map_fd = open_map(o.bpffs, AMBIT_MAP_L7_CONNS);
	px_cfg.config_fd = open_map(o.bpffs, AMBIT_MAP_CONFIG);
	px_cfg.sockhash_fd = open_map(o.bpffs, AMBIT_MAP_SOCKHASH);
	ifd = watch_config();
	if (px_cfg.l7_map_fd < 0 || px_cfg.config_fd < 0 ||
	    px_cfg.sockhash_fd < 0 || ifd < 0 || sfd < 0 || reload("start"))
		return 1;
	/* Routes first: a successor serves from its first accept. */
	px_inherit_listen_fds();
	tsock = hpath ? px_takeover_begin(hpath) : -1;
	w = calloc((size_t)px_cfg.workers, sizeof(*w));
	t = calloc((size_t)px_cfg.workers, sizeof(*t));
	if (!w || !t || (err = start_workers(w, t, px_cfg.workers)) ||
	    px_adopt_inherited(w, px_cfg.workers, px_cfg.home_netns, -1, NULL,
			       NULL))
		return 1;
	workers = w;
	n_workers = px_cfg.workers;
	sync_pods_now();
	px_takeover_finish(tsock); /* the old proxy may go now */
	serve_metrics(&o);
	hfd = offer_handoff(hpath);
	pr_info("listening on 127.0.0.1 and [::1] port %u, %d workers",
		px_cfg.port, px_cfg.workers);
	write_ready(o.ready_file);
	supervise(ifd, sfd, hfd);
	if (hfd >= 0)
		close(hfd); /* not unlinked: a successor may own the path now */
	pr_info("draining");
	px_request_stop();
	for (i = 0; i < px_cfg.workers; i++)
		pthread_join(t[i], NULL);
	free(t);
	free(w);
	pr_info("stopped");
	return 0;
}
