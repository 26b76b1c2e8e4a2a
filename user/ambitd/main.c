// SPDX-License-Identifier: Apache-2.0
/*
 * ambitd: the node daemon. Loads and attaches the BPF programs (adopting
 * whatever an earlier instance pinned), restores the persisted
 * configuration, and serves the CLI on a root-only Unix socket.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ambit/pin.h"
#include "daemon.h"
#include "log.h"

struct options {
	const char *cgroup;
	const char *bpffs;
	const char *socket;
	const char *state_dir;
	const char *netns_dir;
	struct dp_sizes sizes;
	bool teardown;
	bool teardown_on_exit;
	bool allow_root_cgroup;
	bool sockmap;
	bool destroy_stale;
	__u32 proxy_port;
	__u32 proxy_mark;
	const char *proxy_bin;
	char *proxy_args[SUP_MAX_ARGS / 2 + 1];
	int n_proxy_args;
	int verbose;
	const char *metrics;      /* ADDR:PORT, "off", NULL: the default */
	bool metrics_allow_remote;
};

static volatile sig_atomic_t stop_requested;

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ambitd --cgroup PATH [OPTIONS]\n"
"       ambitd --teardown [--bpffs DIR]\n"
"\n"
"The ambit node daemon: redirects connections from enrolled workloads to\n"
"Service VIPs straight to backends chosen by HTTPRoute weights.\n"
"\n"
"  --cgroup PATH        cgroup v2 directory whose subtree gets the programs\n"
"                       (the pods' parent), absolute or relative to the\n"
"                       cgroup2 mount, which is discovered\n"
"  --allow-root-cgroup  allow --cgroup to be the host's root cgroup\n"
"  --proxy-port PORT    send L7 services to ambit-proxy on loopback PORT of\n"
"                       the client's namespace (default: none, L7 services\n"
"                       are left alone)\n"
"  --proxy-mark MARK    SO_MARK of the proxy's sockets (default 0x%x)\n"
"  --proxy-bin PATH     run ambit-proxy from PATH and keep it running (it\n"
"                       outlives the daemon; a restarted daemon adopts it)\n"
"  --proxy-arg ARG      one more argument for the proxy (repeatable)\n"
"  --metrics ADDR:PORT  serve Prometheus metrics at http://ADDR:PORT/metrics\n"
"                       (default " METRICS_DEFAULT_ADDR "; 'off': none). Only a\n"
"                       loopback address: metrics name every Service,\n"
"                       endpoint and route and have no TLS or auth\n"
"  --metrics-allow-remote  allow a --metrics address off loopback\n"
"  --no-sockmap         no local fast path (default: app <-> proxy bytes go\n"
"                       socket to socket with sk_msg, skipping loopback TCP)\n"
"  --no-destroy-stale   leave established connections to endpoints an apply\n"
"                       removed open (default: close them with\n"
"                       bpf_sock_destroy where the kernel has it, 6.5+)\n"
"  --bpffs DIR          pin directory (default " AMBIT_BPFFS_DEFAULT ")\n"
"  --socket PATH        control socket (default " AMBIT_SOCKET_DEFAULT ")\n"
"  --state-dir DIR      persisted configuration and apply counters\n"
"                       (default " AMBIT_STATE_DEFAULT ")\n"
"  --netns-dir DIR      where pods' network namespaces are, to find those of\n"
"                       pods that existed before ambitd by their addresses\n"
"                       (default " AMBIT_NETNS_DIR_DEFAULT ")\n"
"  --max-services N     service-port map size (default %u)\n"
"  --max-endpoints N    endpoint map size (default %u)\n"
"  --teardown-on-exit   detach and unpin everything on SIGTERM/SIGINT\n"
"                       (default: leave it running, a restart adopts it)\n"
"  --teardown           detach and unpin everything now, then exit\n"
"  -v, --verbose        more logs (-vv: libbpf debug)\n"
"  -h, --help           this text\n",
		AMBIT_PROXY_MARK_DEFAULT, (unsigned int)AMBIT_DEF_SERVICES,
		(unsigned int)AMBIT_DEF_ENDPOINTS);
}

static int parse_u32(const char *s, __u32 *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end || !*s || v == 0 || v > 100000000ul)
		return -EINVAL;
	*out = (__u32)v;
	return 0;
}

/* A bad --metrics address stops the daemon before it touches anything. */
static int check_metrics_option(const struct options *o)
{
	struct sockaddr_storage ss;
	char why[300];

	if (!o->metrics || !strcmp(o->metrics, "off"))
		return 0;
	if (!metrics_parse_addr(o->metrics, o->metrics_allow_remote, &ss, why,
				sizeof(why)))
		return 0;
	fprintf(stderr, "ambitd: --metrics %s\n", why);
	return -EINVAL;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "bpffs", required_argument, NULL, 'b' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "netns-dir", required_argument, NULL, 'n' },
		{ "max-services", required_argument, NULL, 'S' },
		{ "max-endpoints", required_argument, NULL, 'E' },
		{ "teardown", no_argument, NULL, 'T' },
		{ "teardown-on-exit", no_argument, NULL, 'X' },
		{ "allow-root-cgroup", no_argument, NULL, 'R' },
		{ "proxy-port", required_argument, NULL, 'P' },
		{ "proxy-mark", required_argument, NULL, 'M' },
		{ "sockmap", no_argument, NULL, 'K' },
		{ "no-sockmap", no_argument, NULL, 'k' },
		{ "destroy-stale", no_argument, NULL, 'D' },
		{ "no-destroy-stale", no_argument, NULL, 'N' },
		{ "proxy-bin", required_argument, NULL, 'B' },
		{ "proxy-arg", required_argument, NULL, 'A' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "metrics-allow-remote", no_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o->cgroup = optarg; break;
		case 'b': o->bpffs = optarg; break;
		case 's': o->socket = optarg; break;
		case 'd': o->state_dir = optarg; break;
		case 'n': o->netns_dir = optarg; break;
		case 'S': if (parse_u32(optarg, &o->sizes.services)) goto bad; break;
		case 'E': if (parse_u32(optarg, &o->sizes.endpoints)) goto bad; break;
		case 'T': o->teardown = true; break;
		case 'X': o->teardown_on_exit = true; break;
		case 'R': o->allow_root_cgroup = true; break;
		case 'P':
			if (parse_u32(optarg, &o->proxy_port) || o->proxy_port > 65535)
				goto bad;
			break;
		case 'M': o->proxy_mark = (__u32)strtoul(optarg, NULL, 0); break;
		case 'K': o->sockmap = true; break;
		case 'k': o->sockmap = false; break;
		case 'D': o->destroy_stale = true; break;
		case 'N': o->destroy_stale = false; break;
		case 'B': o->proxy_bin = optarg; break;
		case 'A':
			if (o->n_proxy_args >= SUP_MAX_ARGS / 2)
				goto bad;
			o->proxy_args[o->n_proxy_args++] = optarg;
			break;
		case 'm': o->metrics = optarg; break;
		case 'r': o->metrics_allow_remote = true; break;
		case 'v': o->verbose++; break;
		case 'h': usage(stdout); exit(0);
		default: goto bad;
		}
	}
	if (optind != argc || (!o->cgroup && !o->teardown) ||
	    (o->proxy_bin && !o->proxy_port))
		goto bad;
	return check_metrics_option(o);
bad:
	fprintf(stderr, "ambitd: bad arguments (need --cgroup PATH; --proxy-bin "
			"needs --proxy-port; see --help)\n");
	return -EINVAL;
}

static void on_signal(int sig)
{
	stop_requested = 1;
}

static int listen_socket(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	if (unix_addr(&sa, path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	/* Created 0600 from the start: no window where others can connect. */
	mode_t old = umask(0177);
	int err = bind(fd, (struct sockaddr *)&sa, sizeof(sa));

	umask(old);
	if (err || listen(fd, 64)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static char *parent_dir(const char *path, char *buf, size_t size)
{
	char *slash;

	snprintf(buf, size, "%s", path);
	slash = strrchr(buf, '/');
	if (slash && slash != buf)
		*slash = '\0';
	return buf;
}

/* Bring the maps in line with the persisted configuration. */
static int restore_config(struct daemon *d)
{
	struct diags dg = {};
	char why[256] = "";
	int err;

	err = store_restore(&d->st, d->state_path, &dg);
	if (err) {
		char *text = diags_join(&dg);

		pr_err("cannot restore %s: %s%s", d->state_path, strerror(-err),
		       text ? text : "");
		free(text);
		diags_free(&dg);
		return err;
	}
	enroll_resolve(&d->st.objs, &d->en, NULL, NULL);
	err = compile_image(&d->st.objs, &d->img);
	if (!err)
		err = mapsync_apply(&d->ms, &d->img, why, sizeof(why));
	if (!err)
		err = enroll_sync(d->dp.enroll_fd, &d->en);
	if (err)
		pr_err("restore data plane: %s %s", strerror(-err), why);
	else
		pr_info_kv("configuration restored", LOG_STR("file", d->state_path),
			   LOG_UINT("objects", d->st.objs.n),
			   LOG_UINT("service_ports", d->img.n_svcs),
			   LOG_UINT("enrollments", d->en.n));
	return err;
}

typedef int (*cmd_fn)(struct daemon *, struct request *, struct sbuf *,
		      struct sbuf *);

static const struct {
	const char *name;
	cmd_fn fn;
} commands[] = {
	{ "apply", cmd_apply },       { "delete", cmd_delete },
	{ "get", cmd_get },           { "describe", cmd_describe },
	{ "enroll", cmd_enroll },     { "unenroll", cmd_unenroll },
	{ "trace", cmd_trace },       { "stats", cmd_stats },
	{ "proxy", cmd_proxy },
	{ "log-level", cmd_log_level },
	{ "pod", cmd_pod },           { "sync", cmd_sync },
};

/*
 * Count a command that changes the configuration (dry runs do not), and
 * whether it was refused: bad input, a failed check, a failed write.
 */
static void count_change(struct daemon *d, const struct request *rq, int code)
{
	int i, v;

	for (v = 0; v < TX_N && strcmp(rq->argv[0], tx_verb_names[v]); v++)
		;
	for (i = 1; v < TX_N && i < rq->argc; i++) {
		if (!strcmp(rq->argv[i], "--dry-run"))
			return;
	}
	if (v == TX_N)
		return;
	d->tx[v]++;
	if (code)
		d->tx_errors[v]++;
}

static int dispatch(struct daemon *d, struct request *rq, struct sbuf *out,
		    struct sbuf *err)
{
	size_t i;

	for (i = 0; rq->argc > 0 && i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(rq->argv[0], commands[i].name)) {
			int code = commands[i].fn(d, rq, out, err);

			count_change(d, rq, code);
			return code;
		}
	}
	sb_printf(err, "error: unknown command '%s' (ambit --help)\n",
		  rq->argc ? rq->argv[0] : "");
	return 1;
}

/* Only root may change what every workload on the node connects to. */
static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static void serve_one(struct daemon *d, int fd)
{
	struct timeval tv = { .tv_sec = 30 };
	struct sbuf out = {}, err = {};
	struct request rq;
	int code = 1, ret;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!peer_allowed(fd)) {
		sb_printf(&err, "error: permission denied: ambitd only serves root\n");
		pr_warn_kv("refused a client: ambitd only serves root",
			   LOG_STR("socket", d->socket_path));
	} else if ((ret = proto_recv_request(fd, &rq))) {
		sb_printf(&err, "error: bad request: %s\n", ret == -EMSGSIZE ?
			  "too large" : strerror(-ret));
	} else {
		pr_debug_kv("command", LOG_STR("cmd", rq.argc ? rq.argv[0] : ""),
			    LOG_INT("args", rq.argc), LOG_UINT("body_bytes", rq.body_len));
		code = dispatch(d, &rq, &out, &err);
		log_kv(code ? LOG_WARN : LOG_INFO, "command done",
		       LOG_STR("cmd", rq.argc ? rq.argv[0] : ""),
		       LOG_STR("result", code ? "failed" : "ok"));
		request_free(&rq);
	}
	if (out.oom || err.oom) {
		code = 1;
		sb_free(&out);
		sb_free(&err);
		sb_printf(&err, "error: out of memory\n");
	}
	proto_send_reply(fd, (uint32_t)code, sb_str(&out), out.len, sb_str(&err),
			 err.len);
	sb_free(&out);
	sb_free(&err);
}

/* One loop: the control socket, and the metrics listener or its client. */
static void serve(struct daemon *d)
{
	struct pollfd p[2] = { { .fd = d->listen_fd, .events = POLLIN } };
	int fd, n, np;

	while (!stop_requested) {
		p[0].revents = 0;
		np = 1 + metrics_pollfd(&d->metrics, &p[1]);
		n = poll(p, (nfds_t)np, 250);
		mapsync_reap(&d->ms, now_ms());
		daemon_stale_tick(d, now_ms());
		sup_tick(&d->sup, now_ms());
		if (n > 0 && np > 1)
			metrics_event(d, p[1].revents);
		metrics_tick(d, now_ms());
		if (n <= 0 || !(p[0].revents & POLLIN))
			continue;
		fd = accept4(d->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_one(d, fd);
		close(fd);
	}
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int setup_paths(struct daemon *d, const struct options *o)
{
	char dir[PATH_MAX];
	int err;

	snprintf(d->socket_path, sizeof(d->socket_path), "%s", o->socket);
	snprintf(d->state_dir, sizeof(d->state_dir), "%s", o->state_dir);
	snprintf(d->state_path, sizeof(d->state_path), "%s/config.yaml",
		 o->state_dir);
	snprintf(d->counters_path, sizeof(d->counters_path), "%s/counters",
		 o->state_dir);
	snprintf(d->pods_path, sizeof(d->pods_path), "%s/pods.json",
		 o->state_dir);
	snprintf(d->netns_dir, sizeof(d->netns_dir), "%s", o->netns_dir);
	err = mkdir_p(o->state_dir, 0700);
	if (!err)
		err = mkdir_p(parent_dir(o->socket, dir, sizeof(dir)), 0755);
	if (err) {
		pr_err("create directories: %s", strerror(-err));
		return err;
	}
	err = log_level_publish(d);
	if (err) /* the daemon itself runs fine */
		pr_warn_kv("ambit-proxy cannot follow the log level",
			   LOG_STR("dir", o->state_dir), LOG_STR("error", strerror(-err)));
	return 0;
}

/*
 * The default address is best effort (another agent may hold the port:
 * warn and run without metrics); an address given on purpose must work.
 */
static int start_metrics(struct daemon *d, const struct options *o)
{
	const char *addr = o->metrics ? o->metrics : METRICS_DEFAULT_ADDR;
	struct sockaddr_storage ss;
	char why[300];
	int err;

	metrics_init(&d->metrics, o->state_dir);
	if (o->metrics && !strcmp(o->metrics, "off"))
		return 0;
	err = metrics_parse_addr(addr, o->metrics_allow_remote, &ss, why,
				 sizeof(why));
	if (err) {
		pr_err("--metrics %s", why);
		return err;
	}
	err = metrics_listen(&d->metrics, addr, &ss);
	if (err && !o->metrics) {
		pr_warn_kv("running without metrics (ambitd --metrics ADDR:PORT "
			   "picks another address)", LOG_STR("addr", addr));
		return 0;
	}
	return err;
}

static int run(struct daemon *d, const struct options *o)
{
	char cgroup[PATH_MAX];
	int err = cgroup_resolve(o->cgroup, o->allow_root_cgroup, cgroup,
				 sizeof(cgroup));

	if (!err)
		err = setup_paths(d, o);
	if (!err)
		err = start_metrics(d, o);
	if (!err)
		err = dp_open(&d->dp, o->bpffs, cgroup, &o->sizes);
	if (!err) {
		pr_info_kv("programs attached", LOG_STR("cgroup", cgroup),
			   LOG_STR("pins", d->dp.adopted ? "adopted" : "new"),
			   LOG_STR("bpffs", o->bpffs));
		err = mapsync_adopt(&d->ms, d->dp.services_fd, d->dp.endpoints_fd,
				    o->sizes.services);
	}
	if (!err)
		err = dp_set_proxy(&d->dp, (__u16)o->proxy_port, o->proxy_mark,
				   o->sockmap);
	if (!err) /* off when unsupported: the daemon runs on */
		destroyer_open(&d->ds, &d->dp, o->destroy_stale);
	d->proxy_port = (__u16)o->proxy_port;
	if (!err)
		err = restore_config(d);
	if (!err)
		counters_load(d);
	if (!err)
		pods_start(d);
	if (!err) {
		d->listen_fd = listen_socket(d->socket_path);
		err = d->listen_fd < 0 ? d->listen_fd : 0;
		if (err)
			pr_err("listen on %s: %s", d->socket_path, strerror(-err));
	}
	if (!err && o->proxy_bin) {
		err = sup_init(&d->sup, o->proxy_bin, (__u16)o->proxy_port,
			       o->proxy_mark,
			       o->state_dir, o->bpffs, o->proxy_args);
		if (err)
			pr_err("--proxy-bin %s: %s", o->proxy_bin, strerror(-err));
	}
	if (err)
		return err;
	pr_info_kv("ready", LOG_STR("socket", d->socket_path),
		   LOG_STR("log_level", log_level_name(log_get_level())));
	serve(d);
	metrics_close(&d->metrics);
	close(d->listen_fd);
	unlink(d->socket_path);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {
		.bpffs = AMBIT_BPFFS_DEFAULT,
		.socket = AMBIT_SOCKET_DEFAULT,
		.state_dir = AMBIT_STATE_DEFAULT,
		.netns_dir = AMBIT_NETNS_DIR_DEFAULT,
		.sizes = { AMBIT_DEF_SERVICES, AMBIT_DEF_ENDPOINTS, AMBIT_DEF_ENROLL },
		.proxy_mark = AMBIT_PROXY_MARK_DEFAULT,
		/* on: it wins in make bench (tests/bench/l7.sh) */
		.sockmap = true,
		.destroy_stale = true,
	};
	static struct daemon d = { .listen_fd = -1, .dp.cgroup_fd = -1 };
	int err;

	if (parse_options(argc, argv, &o))
		return 1;
	log_set_level(LOG_INFO + o.verbose);
	log_hook_libbpf();
	install_signals();
	if (o.teardown) {
		snprintf(d.dp.bpffs, sizeof(d.dp.bpffs), "%s", o.bpffs);
		err = dp_teardown(&d.dp);
		log_kv(err ? LOG_ERR : LOG_INFO, "teardown", LOG_STR("bpffs", o.bpffs),
		       LOG_STR("result", err ? strerror(-err) : "done"));
		return err ? 1 : 0;
	}
	err = run(&d, &o);
	if (o.teardown_on_exit) {
		sup_stop(&d.sup);
		dp_teardown(&d.dp);
	}
	sup_free(&d.sup);
	destroyer_close(&d.ds);
	dp_close(&d.dp);
	mapsync_free(&d.ms);
	image_free(&d.img);
	enroll_set_free(&d.en);
	store_free(&d.st);
	pods_free(&d);
	pr_info_kv("stopped", LOG_STR("teardown", o.teardown_on_exit ? "yes" : "no"));
	return err ? 1 : 0;
}
