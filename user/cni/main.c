// SPDX-License-Identifier: Apache-2.0
/*
 * ambit-cni: a chained CNI plugin. The runtime runs it after the plugin
 * that gave the pod its interface; it tells ambitd about the pod's network
 * namespace (ambitd decides from the pod's and namespace's labels whether
 * to enroll it) and passes the previous result on unchanged. It changes no
 * networking itself.
 *
 * The runtime's side: CNI_* environment variables, the configuration on
 * stdin; ours: a result, nothing, or an error object on stdout, logs on
 * stderr, exit 0 or 1.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ambit/pin.h"
#include "cni.h"
#include "ctl.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: ambit-cni   (run by the container runtime: CNI_* variables, config on stdin)\n"
"\n"
"Chained CNI plugin: on ADD it asks ambitd to attach the Kubernetes pod's\n"
"network namespace ('pod attach'; ambitd enrolls it when the pod's or its\n"
"namespace's labels say ambient) and passes prevResult on unchanged; DEL\n"
"detaches (always succeeds); CHECK asks ambitd whether the pod is as its\n"
"labels say; VERSION lists the spec versions (0.3.0 to 1.0.0).\n"
"\n"
"conflist entry, after the interface plugin:\n"
"  {\"type\": \"ambit-cni\", \"socket\": \"%s\",\n"
"   \"failOpen\": false, \"timeoutSeconds\": 10}\n"
"  socket          ambitd's control socket (else $AMBIT_SOCKET, else the default)\n"
"  failOpen        when ambitd cannot be reached on ADD: false (default) fails\n"
"                  the ADD with code 11 (try again later) so no pod that should\n"
"                  be in the mesh starts outside it; true lets the pod start\n"
"                  unmeshed, with a warning\n"
"  timeoutSeconds  bound on each exchange with ambitd (default 10)\n"
"\n"
"Pods without K8S_POD_NAME in CNI_ARGS are not Kubernetes pods: passed through.\n"
"Errors are CNI error objects on stdout (codes 1, 4, 5, 6, 7, 11; 100 ambitd\n"
"refused, 101 CHECK found the pod not as ambitd has it), exit status 1.\n",
		AMBIT_SOCKET_DEFAULT);
}

static int read_stdin(char **buf, size_t *len)
{
	size_t cap = 65536, n;

	*len = 0;
	*buf = malloc(cap + 1);
	while (*buf && (n = fread(*buf + *len, 1, cap - *len, stdin)) > 0) {
		*len += n;
		if (*len > CNI_MAX_CONFIG)
			return -EFBIG;
		if (*len == cap) {
			char *b = realloc(*buf, cap * 2 + 1);

			if (!b)
				return -ENOMEM;
			*buf = b;
			cap *= 2;
		}
	}
	if (!*buf)
		return -ENOMEM;
	(*buf)[*len] = '\0';
	return ferror(stdin) ? -EIO : 0;
}

/* Print @err as the spec's error object; the exit status to return. */
static int fail(const char *version, const struct cni_error *err)
{
	char *j = cni_error_json(version, err);

	pr_err("code=%d %s%s%s", err->code, err->msg, err->details[0] ? ": " : "",
	       err->details);
	if (j)
		puts(j);
	free(j);
	return 1;
}

static int print_json(char *j)
{
	if (!j) {
		pr_err("out of memory");
		return 1;
	}
	puts(j);
	free(j);
	return fflush(stdout) ? 1 : 0;
}

/* The first line of what ambitd said, for a one-line log or error. */
static const char *first_line(char *s, const char *none)
{
	if (!s || !*s)
		return none;
	s[strcspn(s, "\n")] = '\0';
	return s;
}

/* ---- commands ------------------------------------------------------------ */

struct call {
	const struct cni_env *e;
	const struct cni_conf *c;
	struct ctl_reply r;
	int err; /* transport: -errno, 0 when ambitd answered */
};

/* Ask ambitd "pod attach|detach|check ..."; -1 with @err set if the
 * request cannot even be built (then ambitd was not asked). */
static int call_pod(struct call *k, enum pod_verb verb, struct cni_error *err)
{
	struct cni_pod p;
	int ret;

	ret = cni_pod_req(k->e, verb == POD_ATTACH ? k->c : NULL, &p);
	if (!ret)
		k->err = pod_request(k->c->socket, k->c->timeout_ms, &p.req, verb,
				     &k->r);
	if (ret == -E2BIG)
		cni_error_set(err, CNI_ERR_CONFIG, NULL, "prevResult: the pod has "
			      "more than %d addresses", POD_REQ_MAX_IPS);
	else if (ret == -EINVAL)
		cni_error_set(err, CNI_ERR_CONFIG, NULL, "prevResult: an address "
			      "in ips is not an IP address");
	else if (ret)
		cni_error_set(err, CNI_ERR_ENV, NULL, "CNI_ARGS, CNI_NETNS or "
			      "CNI_CONTAINERID: a value longer than %d bytes",
			      PROTO_MAX_ARG);
	return ret ? -1 : 0;
}

/* ambitd could not be reached: failOpen decides (ADD, CHECK). */
static int unreachable(struct call *k, const char *what, struct cni_error *err)
{
	if (k->c->fail_open) {
		pr_warn("%s %s/%s: ambitd unreachable at %s (%s); failOpen: "
			"the pod goes on outside the mesh", what,
			k->e->pod_namespace, k->e->pod_name, k->c->socket,
			strerror(-k->err));
		return 0;
	}
	cni_error_set(err, CNI_ERR_TRY_LATER,
		      "failOpen is false: no pod starts outside the mesh that "
		      "should be in it; the runtime retries",
		      "ambitd unreachable at %.100s: %s", k->c->socket,
		      strerror(-k->err));
	return -1;
}

static int cmd_add(const struct cni_env *e, const struct cni_conf *c,
		   struct cni_error *err)
{
	struct call k = { .e = e, .c = c };
	int ret = 0;

	if (!e->pod_name) {
		pr_info("ADD container=%s: not a Kubernetes pod (no K8S_POD_NAME "
			"in CNI_ARGS): passed through", e->container_id);
		return print_json(cni_result_json(c));
	}
	if (call_pod(&k, POD_ATTACH, err))
		return -1;
	if (k.err) {
		ret = unreachable(&k, "ADD", err);
	} else if (k.r.code) {
		cni_error_set(err, CNI_ERR_REFUSED, first_line(k.r.err, "(no message)"),
			      "ambitd refused to attach pod %.64s/%.64s",
			      e->pod_namespace, e->pod_name);
		ret = -1;
	} else {
		pr_info("ADD %s/%s container=%s netns=%s: %s", e->pod_namespace,
			e->pod_name, e->container_id, e->netns,
			first_line(k.r.out, "attached"));
	}
	ctl_reply_free(&k.r);
	return ret ? ret : print_json(cni_result_json(c));
}

/* DEL never fails on what is gone: the daemon, the netns, the attachment
 * (the spec: a DEL must succeed for missing resources, and a failing DEL
 * leaves the runtime retrying a pod that cannot go away). */
static int cmd_del(const struct cni_env *e, const struct cni_conf *c)
{
	struct call k = { .e = e, .c = c };
	struct cni_error err = {};

	if (!e->pod_name)
		return 0;
	if (call_pod(&k, POD_DETACH, &err))
		pr_warn("DEL %s/%s: not detached: %s", e->pod_namespace,
			e->pod_name, err.msg);
	else if (k.err)
		pr_warn("DEL %s/%s container=%s: ambitd unreachable at %s (%s); "
			"it drops the attachment itself when the pod goes",
			e->pod_namespace, e->pod_name, e->container_id, c->socket,
			strerror(-k.err));
	else if (k.r.code)
		pr_warn("DEL %s/%s container=%s: ambitd: %s", e->pod_namespace,
			e->pod_name, e->container_id, first_line(k.r.err, "refused"));
	else
		pr_info("DEL %s/%s container=%s: %s", e->pod_namespace, e->pod_name,
			e->container_id, first_line(k.r.out, "detached"));
	ctl_reply_free(&k.r);
	return 0;
}

static int cmd_check(const struct cni_env *e, const struct cni_conf *c,
		     struct cni_error *err)
{
	struct call k = { .e = e, .c = c };
	int ret = 0;

	if (!e->pod_name)
		return 0;
	if (call_pod(&k, POD_CHECK, err))
		return -1;
	if (k.err) {
		ret = unreachable(&k, "CHECK", err);
	} else if (k.r.code) {
		cni_error_set(err, CNI_ERR_NOT_ENROLLED,
			      first_line(k.r.err, "(no message)"),
			      "pod %.64s/%.64s is not as ambitd has it",
			      e->pod_namespace, e->pod_name);
		ret = -1;
	}
	ctl_reply_free(&k.r);
	return ret;
}

/* ---- main ---------------------------------------------------------------- */

static int run(const struct cni_env *e, const char *buf, size_t len)
{
	struct cni_error err = {};
	struct cni_conf c;
	int ret;

	if (cni_conf_parse(buf, len, e->cmd, getenv("AMBIT_SOCKET"), &c, &err)) {
		ret = fail(c.version, &err);
		cni_conf_free(&c);
		return ret;
	}
	switch (e->cmd) {
	case CNI_CMD_ADD:
		ret = cmd_add(e, &c, &err);
		break;
	case CNI_CMD_DEL:
		ret = cmd_del(e, &c);
		break;
	default:
		ret = cmd_check(e, &c, &err);
		break;
	}
	if (ret < 0)
		ret = fail(c.version, &err);
	cni_conf_free(&c);
	return ret;
}

static int version(const char *buf, size_t len)
{
	struct cni_error err = {};
	char *j = cni_version_json(buf, len, &err);

	return j ? print_json(j) : fail(NULL, &err);
}

int main(int argc, char **argv)
{
	struct cni_error err = {};
	struct cni_env e;
	size_t len = 0;
	char *buf = NULL;
	int ret;

	signal(SIGPIPE, SIG_IGN);
	if (argc > 1) {
		bool help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");

		usage(help ? stdout : stderr);
		return help ? 0 : 1;
	}
	if (cni_env_read(&e, &err)) {
		if (isatty(STDIN_FILENO))
			fprintf(stderr, "ambit-cni is run by a container runtime; "
				"see ambit-cni --help\n");
		cni_env_free(&e);
		return fail(NULL, &err);
	}
	ret = read_stdin(&buf, &len);
	if (ret) {
		cni_error_set(&err, CNI_ERR_IO, NULL, "reading the configuration "
			      "from stdin: %s", ret == -EFBIG ? "larger than 4 MiB" :
			      strerror(-ret));
		ret = fail(NULL, &err);
	} else if (e.cmd == CNI_CMD_VERSION) {
		ret = version(buf, len);
	} else {
		ret = run(&e, buf, len);
	}
	free(buf);
	cni_env_free(&e);
	return ret;
}
