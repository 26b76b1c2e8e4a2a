// SPDX-License-Identifier: Apache-2.0
/*
 * ambit-cni without a runtime: the CNI_* environment and CNI_ARGS, the
 * network configuration, prevResult pass-through, the error and version
 * objects, the request sent to ambitd (ctl.h), and that request going over
 * a real Unix socket to a stand-in daemon (a forked child speaking proto.h).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "ambit/pin.h"
#include "cni.h"
#include "ctl.h"
#include "proto.h"

/* What bridge answers for one pod: host bridge, host veth, pod eth0. */
#define PREV_RESULT                                                          \
	"{\"cniVersion\":\"0.4.0\",\"interfaces\":[{\"name\":\"cni0\",\"mac\":" \
	"\"aa:bb:cc:dd:ee:01\"},{\"name\":\"veth1\",\"mac\":\"aa:bb:cc:dd:ee:02\"}," \
	"{\"name\":\"eth0\",\"mac\":\"aa:bb:cc:dd:ee:03\",\"sandbox\":"      \
	"\"/run/netns/pod1\"}],\"ips\":[{\"version\":\"4\",\"interface\":2,"  \
	"\"address\":\"198.18.0.2/24\",\"gateway\":\"198.18.0.1\"},"        \
	"{\"version\":\"4\",\"interface\":0,\"address\":\"198.18.0.1/24\"}," \
	"{\"version\":\"6\",\"interface\":2,\"address\":\"fd00:a5::2/64\"}],"  \
	"\"dns\":{}}"

static const char *conf_with(const char *version, const char *extra)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "{\"cniVersion\":\"%s\",\"name\":\"podnet\","
		 "\"type\":\"ambit-cni\"%s%s}", version, extra[0] ? "," : "", extra);
	return buf;
}

static const char *conf_add(void)
{
	return conf_with("1.0.0", "\"prevResult\":" PREV_RESULT);
}

static int parse(const char *s, enum cni_cmd cmd, struct cni_conf *c,
		 struct cni_error *err)
{
	memset(err, 0, sizeof(*err));
	return cni_conf_parse(s, strlen(s), cmd, NULL, c, err);
}

/* ---- environment --------------------------------------------------------- */

static void set_env(const char *cmd, const char *id, const char *netns,
		    const char *ifname, const char *args)
{
	const char *names[] = { "CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS",
				"CNI_IFNAME", "CNI_ARGS" };
	const char *vals[] = { cmd, id, netns, ifname, args };
	size_t i;

	for (i = 0; i < 5; i++) {
		if (vals[i])
			setenv(names[i], vals[i], 1);
		else
			unsetenv(names[i]);
	}
}

static void test_commands(void **state)
{
	assert_int_equal(cni_cmd_parse("ADD"), CNI_CMD_ADD);
	assert_int_equal(cni_cmd_parse("DEL"), CNI_CMD_DEL);
	assert_int_equal(cni_cmd_parse("CHECK"), CNI_CMD_CHECK);
	assert_int_equal(cni_cmd_parse("VERSION"), CNI_CMD_VERSION);
	assert_int_equal(cni_cmd_parse("add"), CNI_CMD_NONE); /* exact */
	assert_int_equal(cni_cmd_parse("GC"), CNI_CMD_NONE);
	assert_int_equal(cni_cmd_parse(NULL), CNI_CMD_NONE);
}

static void test_env_kubelet(void **state)
{
	struct cni_error err = {};
	struct cni_env e;

	set_env("ADD", "c0ffee", "/run/netns/pod1", "eth0",
		"IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-1;"
		"K8S_POD_INFRA_CONTAINER_ID=c0ffee;K8S_POD_UID=1234-5678");
	assert_int_equal(cni_env_read(&e, &err), 0);
	assert_int_equal(e.cmd, CNI_CMD_ADD);
	assert_string_equal(e.container_id, "c0ffee");
	assert_string_equal(e.netns, "/run/netns/pod1");
	assert_string_equal(e.ifname, "eth0");
	assert_string_equal(e.pod_namespace, "shop");
	assert_string_equal(e.pod_name, "web-1");
	assert_string_equal(e.pod_uid, "1234-5678");
	assert_string_equal(e.infra_id, "c0ffee");
	cni_env_free(&e);
}

static void expect_env_error(const char *var_in_msg)
{
	struct cni_error err = {};
	struct cni_env e;

	assert_int_equal(cni_env_read(&e, &err), -1);
	assert_int_equal(err.code, CNI_ERR_ENV);
	assert_non_null(strstr(err.msg, var_in_msg));
	cni_env_free(&e);
}

static void test_env_required_per_command(void **state)
{
	struct cni_error err = {};
	struct cni_env e;

	set_env(NULL, "c", "/n", "eth0", NULL);
	expect_env_error("CNI_COMMAND");
	set_env("FROB", "c", "/n", "eth0", NULL);
	expect_env_error("CNI_COMMAND");
	set_env("ADD", NULL, "/n", "eth0", NULL);
	expect_env_error("CNI_CONTAINERID");
	set_env("ADD", "c", NULL, "eth0", NULL);
	expect_env_error("CNI_NETNS");
	set_env("CHECK", "c", "", "eth0", NULL); /* empty counts as unset */
	expect_env_error("CNI_NETNS");
	set_env("DEL", "c", "/n", NULL, NULL);
	expect_env_error("CNI_IFNAME");
	/* DEL may come after the netns is gone: CNI_NETNS is optional. */
	set_env("DEL", "c", NULL, "eth0", NULL);
	assert_int_equal(cni_env_read(&e, &err), 0);
	assert_null(e.netns);
	assert_null(e.pod_name); /* no CNI_ARGS: not a Kubernetes pod */
	cni_env_free(&e);
	/* VERSION needs nothing else. */
	set_env("VERSION", NULL, NULL, NULL, NULL);
	assert_int_equal(cni_env_read(&e, &err), 0);
	cni_env_free(&e);
}

static void expect_args_error(const char *args, const char *in_msg)
{
	struct cni_error err = {};
	struct cni_env e = {};

	assert_int_equal(cni_args_parse(args, &e, &err), -1);
	assert_int_equal(err.code, CNI_ERR_ENV);
	assert_non_null(strstr(err.msg, in_msg));
	cni_env_free(&e);
}

static void test_cni_args(void **state)
{
	struct cni_error err = {};
	struct cni_env e = {};

	/* Other plugins' keys are skipped, empty pairs tolerated, and a
	 * value may hold '='. */
	assert_int_equal(cni_args_parse(";FOO=bar;K8S_POD_NAME=a=b;;"
					"K8S_POD_NAMESPACE=ns;", &e, &err), 0);
	assert_string_equal(e.pod_name, "a=b");
	assert_string_equal(e.pod_namespace, "ns");
	assert_null(e.pod_uid);
	cni_env_free(&e);
	assert_int_equal(cni_args_parse("", &e, &err), 0);
	assert_null(e.pod_name);
	assert_int_equal(cni_args_parse(NULL, &e, &err), 0);
	/* An empty pod name is no pod name. */
	assert_int_equal(cni_args_parse("K8S_POD_NAME=", &e, &err), 0);
	assert_null(e.pod_name);
	cni_env_free(&e);
	expect_args_error("K8S_POD_NAME", "invalid pair");
	expect_args_error("=x", "invalid pair");
	expect_args_error("K8S_POD_NAME=a;K8S_POD_NAME=b;K8S_POD_NAMESPACE=n",
			  "given twice");
	expect_args_error("K8S_POD_NAME=a", "without K8S_POD_NAMESPACE");
}

/* ---- configuration ------------------------------------------------------- */

static void expect_conf_error(const char *s, enum cni_cmd cmd, int code,
			      const char *in_msg)
{
	struct cni_error err;
	struct cni_conf c;

	assert_int_equal(parse(s, cmd, &c, &err), -1);
	assert_int_equal(err.code, code);
	if (!strstr(err.msg, in_msg))
		fail_msg("'%s' not in '%s'", in_msg, err.msg);
	cni_conf_free(&c);
}

static void test_conf_ok(void **state)
{
	struct cni_error err;
	struct cni_conf c;

	unsetenv("AMBIT_SOCKET");
	assert_int_equal(parse(conf_add(), CNI_CMD_ADD, &c, &err), 0);
	assert_string_equal(c.version, "1.0.0");
	assert_string_equal(c.name, "podnet");
	assert_non_null(c.prev_result);
	assert_string_equal(c.socket, AMBIT_SOCKET_DEFAULT);
	assert_false(c.fail_open);
	assert_int_equal(c.timeout_ms, CNI_DEFAULT_TIMEOUT_MS);
	cni_conf_free(&c);
	/* Unknown keys (other plugins', runtimeConfig, args) are ignored. */
	assert_int_equal(parse(conf_with("0.4.0", "\"args\":{\"x\":1},"
					 "\"runtimeConfig\":{},\"prevResult\":{}"),
			       CNI_CMD_CHECK, &c, &err), 0);
	cni_conf_free(&c);
}

static void test_conf_our_keys(void **state)
{
	struct cni_error err;
	struct cni_conf c;
	const char *s = conf_with("1.0.0", "\"socket\":\"/tmp/a.sock\","
				  "\"failOpen\":true,\"timeoutSeconds\":0.25");

	assert_int_equal(cni_conf_parse(s, strlen(s), CNI_CMD_DEL, "/env.sock",
					&c, &err), 0);
	assert_string_equal(c.socket, "/tmp/a.sock"); /* config beats env */
	assert_true(c.fail_open);
	assert_int_equal(c.timeout_ms, 250);
	cni_conf_free(&c);
	s = conf_with("1.0.0", "\"failOpen\":false");
	assert_int_equal(cni_conf_parse(s, strlen(s), CNI_CMD_DEL, "/env.sock",
					&c, &err), 0);
	assert_string_equal(c.socket, "/env.sock"); /* env beats default */
	assert_false(c.fail_open);
	cni_conf_free(&c);
	expect_conf_error(conf_with("1.0.0", "\"failOpen\":\"yes\""), CNI_CMD_DEL,
			  CNI_ERR_CONFIG, "failOpen");
	expect_conf_error(conf_with("1.0.0", "\"socket\":5"), CNI_CMD_DEL,
			  CNI_ERR_CONFIG, "socket");
	expect_conf_error(conf_with("1.0.0", "\"socket\":\"\""), CNI_CMD_DEL,
			  CNI_ERR_CONFIG, "socket");
	expect_conf_error(conf_with("1.0.0", "\"timeoutSeconds\":0"), CNI_CMD_DEL,
			  CNI_ERR_CONFIG, "timeoutSeconds");
	expect_conf_error(conf_with("1.0.0", "\"timeoutSeconds\":\"5\""),
			  CNI_CMD_DEL, CNI_ERR_CONFIG, "timeoutSeconds");
}

static void test_conf_errors(void **state)
{
	expect_conf_error("", CNI_CMD_ADD, CNI_ERR_DECODE, "invalid JSON");
	expect_conf_error("{\"cniVersion\":", CNI_CMD_ADD, CNI_ERR_DECODE,
			  "invalid JSON");
	expect_conf_error("[1,2]", CNI_CMD_ADD, CNI_ERR_DECODE, "not a JSON object");
	expect_conf_error("{\"name\":\"n\",\"type\":\"t\"}", CNI_CMD_DEL,
			  CNI_ERR_CONFIG, "cniVersion: missing");
	expect_conf_error("{\"cniVersion\":1,\"name\":\"n\",\"type\":\"t\"}",
			  CNI_CMD_DEL, CNI_ERR_CONFIG, "cniVersion: must be");
	expect_conf_error("{\"cniVersion\":\"1.0.0\",\"type\":\"t\"}", CNI_CMD_DEL,
			  CNI_ERR_CONFIG, "name: missing");
	expect_conf_error("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"\"}",
			  CNI_CMD_DEL, CNI_ERR_CONFIG, "type: must be");
	/* A chained plugin without prevResult has nothing to pass on. */
	expect_conf_error(conf_with("1.0.0", ""), CNI_CMD_ADD, CNI_ERR_CONFIG,
			  "prevResult: missing");
	expect_conf_error(conf_with("1.0.0", ""), CNI_CMD_CHECK, CNI_ERR_CONFIG,
			  "prevResult: missing");
	expect_conf_error(conf_with("1.0.0", "\"prevResult\":[]"), CNI_CMD_ADD,
			  CNI_ERR_CONFIG, "prevResult: must be an object");
}

static void test_version_negotiation(void **state)
{
	struct cni_error err;
	struct cni_conf c;

	assert_true(cni_version_supported("0.3.0"));
	assert_true(cni_version_supported("0.3.1"));
	assert_true(cni_version_supported("0.4.0"));
	assert_true(cni_version_supported("1.0.0"));
	/* No chaining before 0.3.0; 1.1.0 has GC/STATUS we do not do. */
	assert_false(cni_version_supported("0.2.0"));
	assert_false(cni_version_supported("0.1.0"));
	assert_false(cni_version_supported("1.1.0"));
	assert_false(cni_version_supported("1.0"));
	assert_false(cni_version_supported(NULL));
	expect_conf_error(conf_with("0.2.0", "\"prevResult\":{}"), CNI_CMD_ADD,
			  CNI_ERR_INCOMPATIBLE, "incompatible CNI version '0.2.0'");
	expect_conf_error(conf_with("1.1.0", "\"prevResult\":{}"), CNI_CMD_DEL,
			  CNI_ERR_INCOMPATIBLE, "'1.1.0'");
	/* CHECK arrived with 0.4.0. */
	expect_conf_error(conf_with("0.3.1", "\"prevResult\":{}"), CNI_CMD_CHECK,
			  CNI_ERR_INCOMPATIBLE, "does not allow CHECK");
	assert_int_equal(parse(conf_with("0.3.1", "\"prevResult\":{}"), CNI_CMD_ADD,
			       &c, &err), 0);
	cni_conf_free(&c);
	/* The error keeps the configuration's version, as the spec says. */
	assert_int_equal(parse(conf_with("0.2.0", ""), CNI_CMD_ADD, &c, &err), -1);
	assert_string_equal(c.version, "0.2.0");
	cni_conf_free(&c);
}

/* ---- output -------------------------------------------------------------- */

static void test_result_passes_through(void **state)
{
	json_t *want, *got, *v;
	struct cni_error err;
	struct cni_conf c;
	char *out;

	/* The 0.4.0 result given to a 1.0.0 config: every field as it was,
	 * in the same order, cniVersion the configuration's. */
	assert_int_equal(parse(conf_add(), CNI_CMD_ADD, &c, &err), 0);
	out = cni_result_json(&c);
	assert_non_null(out);
	want = json_loads(PREV_RESULT, 0, NULL);
	got = json_loads(out, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(got, "cniVersion")),
			    "1.0.0");
	json_object_set_new(want, "cniVersion", json_string("1.0.0"));
	assert_true(json_equal(want, got));
	v = json_object_get(json_array_get(json_object_get(got, "ips"), 0),
			    "address");
	assert_string_equal(json_string_value(v), "198.18.0.2/24");
	assert_true(strstr(out, "\"interfaces\"") < strstr(out, "\"ips\""));
	json_decref(want);
	json_decref(got);
	free(out);
	cni_conf_free(&c);
	/* A prevResult without cniVersion gets one. */
	assert_int_equal(parse(conf_with("0.4.0", "\"prevResult\":{\"ips\":[]}"),
			       CNI_CMD_ADD, &c, &err), 0);
	out = cni_result_json(&c);
	assert_string_equal(out, "{\"ips\":[],\"cniVersion\":\"0.4.0\"}");
	free(out);
	cni_conf_free(&c);
}

static void test_error_json(void **state)
{
	struct cni_error err = {};
	char *s;

	cni_error_set(&err, CNI_ERR_CONFIG, "why \"quoted\"", "field %s: bad", "x");
	s = cni_error_json("0.4.0", &err);
	assert_string_equal(s, "{\"cniVersion\":\"0.4.0\",\"code\":7,"
			    "\"msg\":\"field x: bad\",\"details\":\"why \\\"quoted\\\"\"}");
	free(s);
	/* No details: no key; no version known: the latest. */
	cni_error_set(&err, CNI_ERR_TRY_LATER, NULL, "later");
	s = cni_error_json(NULL, &err);
	assert_string_equal(s, "{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"later\"}");
	free(s);
}

static void test_version_json(void **state)
{
	struct cni_error err = {};
	const char *in = "{\"cniVersion\":\"0.4.0\"}";
	char *s;

	s = cni_version_json(in, strlen(in), &err);
	assert_string_equal(s, "{\"cniVersion\":\"0.4.0\",\"supportedVersions\":"
			    "[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\"]}");
	free(s);
	s = cni_version_json("", 0, &err); /* runtimes before 1.0 send nothing */
	assert_non_null(strstr(s, "\"cniVersion\":\"1.0.0\""));
	free(s);
	assert_null(cni_version_json("nope", 4, &err));
	assert_int_equal(err.code, CNI_ERR_DECODE);
	assert_null(cni_version_json("{\"cniVersion\":1}", 16, &err));
	assert_int_equal(err.code, CNI_ERR_DECODE);
}

/* ---- the request to ambitd ----------------------------------------------- */

static struct cni_env pod_env(char *ns, char *name, const char *netns)
{
	return (struct cni_env){ .cmd = CNI_CMD_ADD, .container_id = "c0ffee",
				 .netns = netns, .ifname = "eth0",
				 .pod_namespace = ns, .pod_name = name };
}

/* The request ambitd gets for @verb: exactly @want. */
static void expect_argv(const struct cni_pod *p, enum pod_verb verb,
			const char *const *want)
{
	char *argv[POD_REQ_MAX_ARGS + 1];
	int argc = pod_req_argv(&p->req, verb, argv), i;

	for (i = 0; want[i]; i++) {
		assert_true(i < argc);
		assert_string_equal(argv[i], want[i]);
	}
	assert_int_equal(argc, i);
	assert_null(argv[i]);
}

static void test_attach_request(void **state)
{
	static const char *const want[] = {
		"pod", "attach", "--namespace", "shop", "--name", "web-1",
		"--netns", "/run/netns/pod1", "--container-id", "c0ffee",
		/* the pod's addresses (interface 2 has a sandbox), not the
		 * bridge's (interface 0), without prefix length */
		"--ip", "198.18.0.2", "--ip", "fd00:a5::2", NULL };
	struct cni_env e = pod_env("shop", "web-1", "/run/netns/pod1");
	struct cni_error err;
	struct cni_conf c;
	struct cni_pod p;

	assert_int_equal(parse(conf_add(), CNI_CMD_ADD, &c, &err), 0);
	assert_int_equal(cni_pod_req(&e, &c, &p), 0);
	cni_conf_free(&c); /* the addresses are copies */
	expect_argv(&p, POD_ATTACH, want);
}

static void test_detach_and_check_requests(void **state)
{
	static const char *const detach[] = {
		"pod", "detach", "--namespace", "shop", "--name", "web-1",
		"--container-id", "c0ffee", NULL };
	static const char *const check[] = {
		"pod", "check", "--namespace", "shop", "--name", "web-1",
		"--netns", "/run/netns/pod1", "--container-id", "c0ffee", NULL };
	struct cni_env e = pod_env("shop", "web-1", NULL); /* netns gone */
	struct cni_pod p;

	assert_int_equal(cni_pod_req(&e, NULL, &p), 0);
	expect_argv(&p, POD_DETACH, detach);
	e.netns = "/run/netns/pod1";
	assert_int_equal(cni_pod_req(&e, NULL, &p), 0);
	expect_argv(&p, POD_CHECK, check);
}

static void test_request_bounded(void **state)
{
	static char name[PROTO_MAX_ARG + 2];
	struct cni_env e = pod_env("ns", "p", "/n");
	char extra[2048] = "\"prevResult\":{\"ips\":[";
	struct cni_error err;
	struct cni_conf c;
	struct cni_pod p;
	int i;

	/* More addresses than ambitd takes. */
	for (i = 0; i <= POD_REQ_MAX_IPS; i++)
		sprintf(extra + strlen(extra), "%s{\"address\":\"198.18.0.%d/24\"}",
			i ? "," : "", i + 1);
	strcat(extra, "]}");
	assert_int_equal(parse(conf_with("1.0.0", extra), CNI_CMD_ADD, &c, &err), 0);
	assert_int_equal(cni_pod_req(&e, &c, &p), -E2BIG);
	assert_int_equal(cni_pod_req(&e, NULL, &p), 0); /* DEL names none */
	cni_conf_free(&c);
	assert_int_equal(parse(conf_with("1.0.0", "\"prevResult\":{\"ips\":"
					 "[{\"address\":\"/24\"}]}"), CNI_CMD_ADD,
			       &c, &err), 0);
	assert_int_equal(cni_pod_req(&e, &c, &p), -EINVAL);
	cni_conf_free(&c);
	/* A value longer than the protocol takes: refused here, not sent. */
	memset(name, 'a', PROTO_MAX_ARG + 1);
	e.pod_name = name;
	assert_int_equal(cni_pod_req(&e, NULL, &p), -ENAMETOOLONG);
	name[PROTO_MAX_ARG] = '\0'; /* exactly the limit is fine */
	assert_int_equal(cni_pod_req(&e, NULL, &p), 0);
}

/* A stand-in ambitd: accepts once, checks the request, answers (or not). */
static pid_t fake_ambitd(const char *path, uint32_t code, const char *out,
			 int answer)
{
	struct sockaddr_un sa;
	struct request rq;
	int lfd, fd, bad;
	pid_t pid;

	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(unix_addr(&sa, path), 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid) {
		close(lfd);
		return pid;
	}
	fd = accept(lfd, NULL, NULL);
	bad = proto_recv_request(fd, &rq) || rq.argc != 8 ||
	      strcmp(rq.argv[0], "pod") || strcmp(rq.argv[1], "check") ||
	      strcmp(rq.argv[3], "shop") || strcmp(rq.argv[7], "/run/netns/pod1") ||
	      rq.body_len;
	if (!answer)
		pause(); /* never answers: the caller's deadline must hit */
	proto_send_reply(fd, code, out, strlen(out), "no\n", 3);
	_exit(bad);
}

static int reap(pid_t pid)
{
	int status;

	kill(pid, SIGKILL); /* no-op when it already exited */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_request_over_the_socket(void **state)
{
	char dir[] = "/tmp/ambit-cni-test.XXXXXX", path[128];
	struct cni_env e = pod_env("shop", "web-1", "/run/netns/pod1");
	struct ctl_reply r;
	struct cni_pod p;
	pid_t pid;

	e.container_id = NULL;
	assert_int_equal(cni_pod_req(&e, NULL, &p), 0);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ambitd.sock", dir);
	pid = fake_ambitd(path, 1, "out\n", 1);
	assert_int_equal(pod_request(path, 5000, &p.req, POD_CHECK, &r), 0);
	assert_int_equal(r.code, 1);
	assert_string_equal(r.out, "out\n");
	assert_string_equal(r.err, "no\n");
	ctl_reply_free(&r);
	assert_int_equal(reap(pid), 0); /* it got exactly our request */
	/* A daemon that accepts and never answers: bounded by the timeout. */
	pid = fake_ambitd(path, 0, "", 0);
	assert_int_equal(pod_request(path, 100, &p.req, POD_CHECK, &r), -ETIMEDOUT);
	assert_null(r.out);
	reap(pid);
	/* Nobody listening, or no socket at all. */
	assert_int_equal(pod_request(path, 100, &p.req, POD_CHECK, &r), -ECONNREFUSED);
	unlink(path);
	assert_int_equal(pod_request(path, 100, &p.req, POD_CHECK, &r), -ENOENT);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_env_kubelet),
		cmocka_unit_test(test_env_required_per_command),
		cmocka_unit_test(test_cni_args),
		cmocka_unit_test(test_conf_ok),
		cmocka_unit_test(test_conf_our_keys),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_version_negotiation),
		cmocka_unit_test(test_result_passes_through),
		cmocka_unit_test(test_error_json),
		cmocka_unit_test(test_version_json),
		cmocka_unit_test(test_attach_request),
		cmocka_unit_test(test_detach_and_check_requests),
		cmocka_unit_test(test_request_bounded),
		cmocka_unit_test(test_request_over_the_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
