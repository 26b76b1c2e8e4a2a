// SPDX-License-Identifier: Apache-2.0
/*
 * ambit: the CLI. A thin client: it reads the input file, sends it with its
 * arguments to ambitd over the control socket and prints what comes back.
 * Help is answered here, so it works without a daemon.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ambit/pin.h"
#include "ctl.h"
#include "proto.h"
#include "sync.h"

enum { ARGS_ONLY = 0, TAKES_FILE, CLIENT_SIDE };

struct verb {
	const char *name;
	const char *usage;
	const char *help;
	int how; /* ARGS_ONLY, TAKES_FILE (apply -f) or CLIENT_SIDE (sync) */
};

static const struct verb verbs[] = {
	{ "apply", "apply -f FILE|- [--dry-run] [--allow-unresolved]",
	  "Create or update Services, EndpointSlices, HTTPRoutes and Enrollments\n"
	  "from Kubernetes YAML (several documents or a kind: List). All or\n"
	  "nothing: any error leaves the running configuration untouched.\n"
	  "  --dry-run           validate and compile only\n"
	  "  --allow-unresolved  accept references to missing Services/ports\n", 1 },
	{ "delete", "delete -f FILE|- [--allow-unresolved]",
	  "Delete the objects named in FILE (matched by kind, namespace, name).\n", 1 },
	{ "get", "get services|routes|endpoints|enrollments [-o wide|json|yaml]",
	  "List objects with what the data plane does with them. -o yaml prints\n"
	  "the stored objects, ready to feed back to 'ambit apply'.\n", 0 },
	{ "describe", "describe route [NAMESPACE/]NAME",
	  "Show a route's parents and conditions, rules and data plane mode.\n", 0 },
	{ "enroll", "enroll --cgroup PATH | --netns PATH [--name N] [--namespace NS] [--pod NAME]",
	  "Put a workload in the mesh: its connections to Service VIPs are\n"
	  "redirected. By cgroup v2 directory or network namespace path.\n", 0 },
	{ "unenroll", "unenroll --cgroup PATH | --netns PATH | --name N [--namespace NS]",
	  "Take a workload out of the mesh.\n", 0 },
	{ "trace", "trace --cgroup PATH|--netns PATH --to ADDR:PORT [--udp] "
	  "[--method M] [--path P] [--header 'Name: value']... [--host H]",
	  "Explain what happens to a connection from a workload to ADDR:PORT,\n"
	  "and why: enrollment, service, route, mode, backends and shares.\n"
	  "On an L7 port, also what ambit-proxy does with one request: the\n"
	  "route, rule and match that win (or 404), consumer routes, backends,\n"
	  "every filter's effect, and the request the backend would see.\n"
	  "  --method M          request method (default GET)\n"
	  "  --path P            path, may include ?query (default /)\n"
	  "  --header 'N: v'     a request header (repeatable)\n"
	  "  --host H            Host header (default: ADDR:PORT)\n"
	  "Nothing is sent: trace only explains.\n", 0 },
	{ "stats", "stats [-o json]",
	  "Per service and backend counters from the data plane, then per\n"
	  "endpoint (ambit-proxy's for an L7 port): connects, and TCP connects\n"
	  "that failed before they were established.\n", 0 },
	{ "proxy", "proxy reload",
	  "Replace the ambit-proxy that ambitd runs (--proxy-bin) with a new\n"
	  "process of the binary now at that path: the new one takes over the\n"
	  "listening sockets, the old one answers what it has in flight with\n"
	  "'Connection: close' and exits. No connection is refused. Returns once\n"
	  "the new proxy serves.\n", 0 },
	{ "log-level", "log-level [debug|info|warn|error|trace]",
	  "Print ambitd's log level, or change it at run time. ambit-proxy\n"
	  "follows: the daemon writes the level to <state-dir>/log-level, which\n"
	  "the proxy watches. 'trace' adds libbpf's own debug output. A\n"
	  "restarted daemon starts at its command-line level again (-v: debug).\n", 0 },
	{ "sync", "sync [-f FILE|-] [--source KIND[,KIND...]] [--resync LIST] "
	  "[--no-resync] [--settle MS] [--max-batch N]",
	  "Keep ambitd in step with Kubernetes: read the watch events of\n"
	  "  kubectl get KIND -A --watch --output-watch-events -o json\n"
	  "from stdin (or FILE) and apply them as they come: ADDED and MODIFIED\n"
	  "create or replace an object (an older resourceVersion than the one\n"
	  "ambitd has is ignored), DELETED deletes it. Kinds: Service,\n"
	  "EndpointSlice, HTTPRoute, Pod, Namespace. Events that arrive together\n"
	  "are applied as one transaction. A bad object is reported with its\n"
	  "event number, kind, namespace and name, and skipped; the others go\n"
	  "on. Routes may name Services that arrive later.\n"
	  "The first burst of events (kubectl lists what exists as ADDED events)\n"
	  "is a full list: objects of the synced kinds that ambitd has and the\n"
	  "list lacks are deleted.\n"
	  "  --source KINDS    the kinds this stream carries (default: all five);\n"
	  "                    a full list deletes only objects of these kinds\n"
	  "  --resync LIST     first replace the synced kinds with the objects of\n"
	  "                    LIST, a `kubectl get KIND -A -o json` List (also\n"
	  "                    right when a kind has no objects at all)\n"
	  "  --no-resync       the stream's first burst is not a full list\n"
	  "  --settle MS       the first burst ends after MS quiet (default 500)\n"
	  "  --max-batch N     events per transaction at most (default 1000)\n"
	  "Exit status: 0 when the stream ends cleanly; 1 on malformed or\n"
	  "truncated JSON, an ERROR event (the watch must restart), or when\n"
	  "ambitd cannot be reached.\n", CLIENT_SIDE },
	{ "pod", "pod attach --namespace NS --name POD --netns PATH "
	  "[--container-id ID] [--ip ADDR]...\n"
	  "        ambit pod detach --namespace NS --name POD [--netns PATH] "
	  "[--container-id ID]\n"
	  "        ambit pod check --namespace NS --name POD [--netns PATH] "
	  "[--container-id ID]",
	  "Tell ambitd which network namespace a pod has (what the ambit-cni\n"
	  "plugin does on CNI ADD and DEL). An attached pod is enrolled when its\n"
	  "labels say so: label istio.io/dataplane-mode=ambient or\n"
	  "ambit.io/mode=ambient on its Namespace or the pod itself (the Pod and\n"
	  "Namespace objects come from `ambit sync`); the value none on the pod\n"
	  "opts it out. Without a Pod object yet, the namespace's label decides\n"
	  "until it arrives. Labels that change later enroll or unenroll it.\n"
	  "detach forgets the pod and unenrolls it; a detach naming another\n"
	  "netns or container id than the attached one is ignored (a late DEL\n"
	  "of an old sandbox). Both are idempotent.\n"
	  "check (CNI CHECK) changes nothing and fails unless the pod is attached\n"
	  "to that sandbox and enrolled exactly when its labels say so.\n", 0 },
};
#define N_VERBS (sizeof(verbs) / sizeof(verbs[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: ambit [--socket PATH] COMMAND [ARGS]\n\n"
		   "Pushes routing configuration to ambitd and shows what it does.\n\n"
		   "Commands:\n");
	for (i = 0; i < N_VERBS; i++)
		fprintf(f, "  ambit %s\n", verbs[i].usage);
	fprintf(f, "\n  --socket PATH   ambitd's socket (default %s, or $AMBIT_SOCKET)\n"
		   "  COMMAND --help  help for one command\n"
		   "Exit status: 0 on success, 1 on any error.\n",
		AMBIT_SOCKET_DEFAULT);
}

static const struct verb *find_verb(const char *name)
{
	size_t i;

	for (i = 0; i < N_VERBS; i++) {
		if (!strcmp(verbs[i].name, name))
			return &verbs[i];
	}
	return NULL;
}

static int read_input(const char *path, char **buf, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	size_t cap = 65536, n;

	if (!f)
		return -errno;
	*len = 0;
	*buf = malloc(cap);
	while (*buf && (n = fread(*buf + *len, 1, cap - *len, f)) > 0) {
		*len += n;
		if (*len > PROTO_MAX_BODY)
			break;
		if (*len == cap) {
			char *b = realloc(*buf, cap * 2);

			if (!b)
				free(*buf);
			*buf = b;
			cap *= 2;
		}
	}
	if (f != stdin)
		fclose(f);
	if (!*buf)
		return -ENOMEM;
	return *len > PROTO_MAX_BODY ? -EFBIG : 0;
}

static int call_daemon(const char *sock, int argc, char **argv,
		       const char *body, size_t len)
{
	struct ctl_reply rep;
	int ret = ctl_call(sock, argc, argv, body, len, &rep);

	if (ret) {
		fprintf(stderr, "error: cannot reach ambitd at %s: %s\n", sock,
			strerror(-ret));
		return 1;
	}
	fputs(rep.out, stdout);
	fputs(rep.err, stderr);
	ret = rep.code ? 1 : 0;
	ctl_reply_free(&rep);
	return ret;
}

/* apply/delete: take -f FILE out of the arguments and send its content. */
static int run_with_file(const char *sock, int argc, char **argv)
{
	char *args[PROTO_MAX_ARGS + 2], *body = NULL;
	const char *file = NULL;
	int n = 0, i, ret;
	size_t len = 0;

	for (i = 0; i < argc && n < PROTO_MAX_ARGS - 2; i++) {
		if ((!strcmp(argv[i], "-f") || !strcmp(argv[i], "--filename")) &&
		    i + 1 < argc)
			file = argv[++i];
		else
			args[n++] = argv[i];
	}
	if (!file) {
		fprintf(stderr, "error: %s: -f FILE (or -f - for stdin) is required\n",
			argv[0]);
		return 1;
	}
	ret = read_input(file, &body, &len);
	if (ret) {
		fprintf(stderr, "error: %s: %s\n", file, ret == -EFBIG ?
			"larger than 64 MiB, refused" : strerror(-ret));
		free(body);
		return 1;
	}
	args[n++] = "--filename";
	args[n++] = (char *)(strcmp(file, "-") ? file : "<stdin>");
	ret = call_daemon(sock, n, args, body, len);
	free(body);
	return ret;
}

static bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") ||
		    !strcmp(argv[i], "help"))
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	const char *sock = getenv("AMBIT_SOCKET") ? getenv("AMBIT_SOCKET")
						   : AMBIT_SOCKET_DEFAULT;
	const struct verb *v;
	int i = 1;

	if (i + 1 < argc && !strcmp(argv[i], "--socket")) {
		sock = argv[i + 1];
		i += 2;
	}
	if (i >= argc || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") ||
	    !strcmp(argv[i], "help")) {
		usage(i >= argc ? stderr : stdout);
		return i >= argc ? 1 : 0;
	}
	v = find_verb(argv[i]);
	if (!v) {
		fprintf(stderr, "error: unknown command '%s'\n\n", argv[i]);
		usage(stderr);
		return 1;
	}
	if (wants_help(argc - i, argv + i)) {
		printf("Usage: ambit %s\n\n%s", v->usage, v->help);
		return 0;
	}
	if (argc - i > PROTO_MAX_ARGS) {
		fprintf(stderr, "error: too many arguments\n");
		return 1;
	}
	if (v->how == TAKES_FILE)
		return run_with_file(sock, argc - i, argv + i);
	if (v->how == CLIENT_SIDE)
		return sync_main(sock, argc - i, argv + i);
	return call_daemon(sock, argc - i, argv + i, NULL, 0);
}
