// SPDX-License-Identifier: Apache-2.0
/*
 * What `ambit sync` is made of, without a daemon: Kubernetes JSON (as the
 * real kubectl printed it, tests/data/k8s) into the model, with the same
 * meaning and checks as YAML; the stream reader; the label rules of
 * enrollment; resourceVersion order; the pod attach/detach requests the
 * CNI plugin shares. Run from the repository root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "ctl.h"
#include "jstream.h"
#include "load.h"
#include "load_json.h"
#include "mesh.h"
#include "model.h"
#include "store.h"

#define K8S "tests/data/k8s/"

/* ---- helpers ---------------------------------------------------------------- */

/* Line @n (1-based) of a recorded stream: one kubectl watch event. */
static json_t *recorded_event(const char *file, int n)
{
	char path[256], *line = NULL;
	size_t cap = 0;
	json_t *ev = NULL;
	json_error_t e;
	FILE *f;

	snprintf(path, sizeof(path), K8S "%s", file);
	f = fopen(path, "r");
	assert_non_null(f);
	while (n-- > 0)
		assert_true(getline(&line, &cap, f) > 0);
	ev = json_loads(line, 0, &e);
	assert_non_null(ev);
	free(line);
	fclose(f);
	return ev;
}

/* The object of event @n of @file, loaded: it must load. */
static struct object *load_event(const char *file, int n, struct objvec *ov)
{
	json_t *ev = recorded_event(file, n);
	struct diags d = { 0 };
	size_t i;
	int err = model_load_json("t", json_object_get(ev, "object"), ov, &d);

	for (i = 0; i < d.n; i++)
		print_message("  diag: %s\n", d.msgs[i]);
	assert_int_equal(err, 0);
	assert_int_equal(ov->n, 1);
	diags_free(&d);
	json_decref(ev);
	return ov->v[0];
}

/* @json must fail to load with exactly @msg among the messages. */
static void json_error(const char *json, const char *msg)
{
	struct objvec ov = { 0 };
	struct diags d = { 0 };
	json_error_t e;
	json_t *obj = json_loads(json, 0, &e);
	bool found = false;
	size_t i;
	int err;

	assert_non_null(obj);
	err = model_load_json("<stdin>: event 3: Service shop/x", obj, &ov, &d);
	for (i = 0; i < d.n; i++)
		found |= !strcmp(d.msgs[i], msg);
	if (err != -EINVAL || !found) {
		print_message("expected: %s\n", msg);
		for (i = 0; i < d.n; i++)
			print_message("  diag: %s\n", d.msgs[i]);
	}
	assert_int_equal(err, -EINVAL);
	assert_true(found);
	assert_int_equal(ov.n, 0);
	objvec_free(&ov);
	diags_free(&d);
	json_decref(obj);
}

static const char *ip_str(const struct ip_addr *a, char *buf)
{
	return inet_ntop(a->family, a->bytes, buf, INET6_ADDRSTRLEN);
}

/* ---- JSON -> model ------------------------------------------------------------ */

static void test_service(void **state)
{
	struct objvec ov = { 0 };
	struct object *o = load_event("a01-list.jsonl", 1, &ov);
	char ip[INET6_ADDRSTRLEN];

	assert_int_equal(o->kind, OBJ_SERVICE);
	assert_string_equal(o->ns, "shop");
	assert_string_equal(o->name, "web");
	assert_string_equal(o->resource_version, "1201");
	assert_string_equal(o->creation, "2025-06-20T09:14:01Z");
	assert_string_equal(obj_label(o, "app"), "web");
	assert_int_equal(o->svc.n_ips, 1);
	assert_string_equal(ip_str(&o->svc.ips[0], ip), "127.96.10.1");
	assert_int_equal(o->svc.n_ports, 1);
	assert_string_equal(o->svc.ports[0].name, "http");
	assert_int_equal(o->svc.ports[0].port, 80);
	assert_int_equal(o->svc.ports[0].target_port, 8080);
	assert_int_equal(o->svc.ports[0].proto, IPPROTO_TCP);
	/* Other controllers' bookkeeping is not kept. */
	assert_null(strstr(o->yaml, "managedFields"));
	assert_non_null(strstr(o->yaml, "uid: \"5e1d0001-"));
	objvec_free(&ov);
}

static void test_endpoint_slice(void **state)
{
	struct objvec ov = { 0 };
	struct object *o = load_event("a01-list.jsonl", 4, &ov);
	char ip[INET6_ADDRSTRLEN];

	assert_int_equal(o->kind, OBJ_ENDPOINT_SLICE);
	assert_string_equal(o->name, "web-7xk2p");
	assert_string_equal(o->eps.service, "web");
	assert_int_equal(o->eps.family, AF_INET);
	assert_int_equal(o->eps.n_eps, 1);
	assert_true(o->eps.eps[0].ready);
	assert_string_equal(ip_str(&o->eps.eps[0].addrs[0], ip), "127.0.10.3");
	assert_string_equal(o->eps.eps[0].target_name, "web-6d4cf56db6-0");
	assert_int_equal(o->eps.ports[0].port, 8080);
	objvec_free(&ov);
}

static void test_route(void **state)
{
	struct objvec ov = { 0 };
	struct object *o = load_event("a03-route-update.jsonl", 1, &ov);
	const struct backend_ref *b;

	assert_int_equal(o->kind, OBJ_HTTP_ROUTE);
	assert_string_equal(o->resource_version, "1402");
	assert_int_equal(o->route.n_parents, 1);
	assert_string_equal(o->route.parents[0].ref.kind, "Service");
	assert_string_equal(o->route.parents[0].ref.group, "");
	assert_int_equal(o->route.parents[0].ref.port, 80);
	assert_int_equal(o->route.n_rules, 1);
	assert_int_equal(o->route.rules[0].n_matches, 1);
	assert_int_equal(o->route.rules[0].matches[0].path.type, PATH_PREFIX);
	b = &o->route.rules[0].backends[0];
	assert_string_equal(b->ref.name, "web-v1");
	assert_int_equal(b->weight, 1);
	/* A route's status is another controller's: ambit computes its own. */
	assert_null(strstr(o->yaml, "status"));
	objvec_free(&ov);
}

static void test_pod_and_namespace(void **state)
{
	struct objvec ov = { 0 }, nv = { 0 }, hv = { 0 };
	struct object *p = load_event("b01-list.jsonl", 6, &ov);
	struct object *n = load_event("b01-list.jsonl", 2, &nv);
	struct object *h = load_event("b01-list.jsonl", 8, &hv);
	char ip[INET6_ADDRSTRLEN], buf[64];

	assert_int_equal(p->kind, OBJ_POD);
	assert_string_equal(p->ns, "mesh");
	assert_string_equal(p->name, "client-c");
	assert_string_equal(obj_label(p, "istio.io/dataplane-mode"), "none");
	assert_int_equal(p->pod.n_ips, 1);
	assert_string_equal(ip_str(&p->pod.ips[0], ip), "198.18.3.2");
	assert_false(p->pod.host_network);
	assert_string_equal(p->pod.phase, "Running");
	assert_string_equal(p->pod.node, "node-1");
	/* Of a Pod only what enrollment needs is kept. */
	assert_null(strstr(p->yaml, "containers"));
	assert_null(strstr(p->yaml, "hostIP"));
	assert_non_null(strstr(p->yaml, "podIPs"));
	assert_true(h->pod.host_network);

	assert_int_equal(n->kind, OBJ_NAMESPACE);
	assert_string_equal(n->ns, ""); /* cluster-scoped */
	assert_string_equal(n->name, "mesh");
	assert_string_equal(obj_label(n, "istio.io/dataplane-mode"), "ambient");
	assert_string_equal(obj_nsname(n, buf, sizeof(buf)), "mesh");
	assert_string_equal(obj_nsname(p, buf, sizeof(buf)), "mesh/client-c");
	objvec_free(&ov);
	objvec_free(&nv);
	objvec_free(&hv);
}

/* What JSON says, the YAML re-emitted says too: reloaded, it is the same. */
static void test_yaml_round_trip(void **state)
{
	static const struct { const char *file; int line; } evs[] = {
		{ "a01-list.jsonl", 1 }, { "a01-list.jsonl", 4 },
		{ "a01-list.jsonl", 7 }, { "b01-list.jsonl", 2 },
		{ "b01-list.jsonl", 4 }, { "bad-objects.jsonl", 5 },
	};
	size_t i;

	for (i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		struct objvec a = { 0 }, b = { 0 };
		struct object *o = load_event(evs[i].file, evs[i].line, &a);
		struct diags d = { 0 };

		assert_int_equal(model_load("y", o->yaml, strlen(o->yaml), &b,
					    &d), 0);
		assert_int_equal(b.n, 1);
		assert_string_equal(b.v[0]->yaml, o->yaml);
		objvec_free(&a);
		objvec_free(&b);
		diags_free(&d);
	}
}

/* A JSON string stays a string, a number a number: as YAML would read
 * "80" (quoted) and 80. */
static void test_types_kept(void **state)
{
	json_error("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":"
		   "{\"name\":\"x\",\"namespace\":\"shop\"},\"spec\":{\"ports\":"
		   "[{\"port\":\"80\"}]}}",
		   "<stdin>: event 3: Service shop/x: spec.ports[0].port: must be "
		   "an integer between 1 and 65535, got string \"80\"");
	json_error("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":"
		   "{\"name\":\"x\"},\"spec\":{\"ports\":[{\"port\":80,"
		   "\"targetPort\":\"8080\"}]}}",
		   "<stdin>: event 3: Service shop/x: spec.ports[0].targetPort: "
		   "must be a port number or an IANA service name (a-z, 0-9 and "
		   "'-', at least one letter, no '--', at most 15 characters), got "
		   "\"8080\"");
	json_error("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
		   "{\"name\":\"p\"},\"spec\":{\"hostNetwork\":\"true\"}}",
		   "<stdin>: event 3: Service shop/x: spec.hostNetwork: must be "
		   "true or false, got \"true\"");
}

static void test_errors_name_the_event(void **state)
{
	json_error("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":"
		   "{\"name\":\"x\"},\"spec\":{\"ports\":[{\"port\":80,"
		   "\"protocol\":\"SCTP\"}]}}",
		   "<stdin>: event 3: Service shop/x: spec.ports[0].protocol: SCTP "
		   "is not supported (only TCP and UDP)");
	json_error("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
		   "\"metadata\":{\"name\":\"x\"}}",
		   "<stdin>: event 3: Service shop/x: kind: unsupported kind "
		   "\"Deployment\": ambit reads Service, EndpointSlice, HTTPRoute, "
		   "Enrollment, Pod and Namespace");
	json_error("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
		   "{\"name\":\"p\"},\"status\":{\"podIPs\":[{\"ip\":\"nope\"}]}}",
		   "<stdin>: event 3: Service shop/x: status.podIPs[0].ip: must be "
		   "an IP address, got \"nope\"");
	json_error("{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":"
		   "{\"name\":\"n\",\"labels\":{\"a\":{\"b\":1}}}}",
		   "<stdin>: event 3: Service shop/x: metadata.labels.a: must be "
		   "a string, got a mapping");
}

static void test_limits(void **state)
{
	char json[4 * LOAD_MAX_DEPTH + 256];
	size_t o = 0;
	int i;

	o += (size_t)sprintf(json, "{\"apiVersion\":\"v1\",\"kind\":\"Service\","
			     "\"metadata\":{\"name\":\"x\"},\"deep\":");
	for (i = 0; i < LOAD_MAX_DEPTH; i++)
		json[o++] = '[';
	for (i = 0; i < LOAD_MAX_DEPTH; i++)
		json[o++] = ']';
	strcpy(json + o, "}");
	json_error(json, "<stdin>: event 3: Service shop/x: refused: nesting "
		   "deeper than the loader's limit (64 levels, 4194304 nodes, "
		   "1048576 bytes a string)");
}

/* ---- the stream ---------------------------------------------------------------- */

static int next_value(struct jstream *s, json_t **v, char *why)
{
	return jstream_next(s, v, why, 256);
}

static void test_stream_lines_and_pretty(void **state)
{
	const char *in = "{\"type\":\"ADDED\",\"object\":{\"s\":\"}{\\\"\"}}\n"
			 "{\n    \"type\": \"DELETED\",\n    \"object\": {}\n}\n"
			 "  [1]\n";
	struct jstream s = { 0 };
	char why[256];
	json_t *v;
	size_t i;

	/* Byte by byte: every split point of the input. */
	for (i = 0; in[i]; i++) {
		assert_int_equal(jstream_feed(&s, in + i, 1), 0);
		while (next_value(&s, &v, why) == 1)
			json_decref(v);
	}
	assert_int_equal(s.n, 3);
	assert_int_equal(jstream_end(&s, why, sizeof(why)), 0);
	jstream_free(&s);

	assert_int_equal(jstream_feed(&s, in, strlen(in)), 0);
	assert_int_equal(next_value(&s, &v, why), 1);
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(v, "object"), "s")), "}{\"");
	json_decref(v);
	assert_int_equal(next_value(&s, &v, why), 1);
	assert_string_equal(json_string_value(json_object_get(v, "type")),
			    "DELETED");
	json_decref(v);
	jstream_free(&s);
}

static void test_stream_truncated(void **state)
{
	const char *in = "{\"a\":1}\n{\"b\":[1,2";
	struct jstream s = { 0 };
	char why[256];
	json_t *v;

	assert_int_equal(jstream_feed(&s, in, strlen(in)), 0);
	assert_int_equal(next_value(&s, &v, why), 1);
	json_decref(v);
	assert_int_equal(next_value(&s, &v, why), 0); /* more to come */
	assert_int_equal(jstream_end(&s, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "line 2 column 10 (byte 17): truncated: the "
			    "input ended in the middle of a value");
	jstream_free(&s);
}

static void test_stream_malformed(void **state)
{
	struct jstream s = { 0 };
	char why[256];
	json_t *v;

	assert_int_equal(jstream_feed(&s, "{\"a\":1}\n}", 9), 0);
	assert_int_equal(next_value(&s, &v, why), 1);
	json_decref(v);
	assert_int_equal(next_value(&s, &v, why), -EINVAL);
	assert_string_equal(why, "line 2 column 1 (byte 8): expected a JSON "
			    "object ('{')");
	jstream_free(&s);

	memset(&s, 0, sizeof(s));
	assert_int_equal(jstream_feed(&s, "{\"a\" 1}", 7), 0);
	assert_int_equal(next_value(&s, &v, why), -EINVAL);
	assert_non_null(strstr(why, "line 1 column"));
	jstream_free(&s);
}

/* ---- enrollment by labels ------------------------------------------------------- */

static struct object *with_labels(int kind, const char *ns, const char *name,
				  const char *const *kv)
{
	struct object *o = calloc(1, sizeof(*o));
	size_t n = 0;

	assert_non_null(o);
	o->kind = (uint8_t)kind;
	o->ns = ns;
	o->name = name;
	while (kv && kv[2 * n])
		n++;
	o->labels = arena_calloc(&o->arena, n + 1, sizeof(*o->labels));
	for (o->n_labels = 0; o->n_labels < n; o->n_labels++) {
		o->labels[o->n_labels].key = kv[2 * o->n_labels];
		o->labels[o->n_labels].value = kv[2 * o->n_labels + 1];
	}
	return o;
}

static void test_mesh_decide(void **state)
{
	static const char *const istio_ambient[] = { MESH_LABEL_ISTIO, "ambient", NULL };
	static const char *const ambit_ambient[] = { MESH_LABEL_AMBIT, "ambient", NULL };
	static const char *const istio_none[] = { MESH_LABEL_ISTIO, "none", NULL };
	static const char *const ambit_none[] = { MESH_LABEL_AMBIT, "none", NULL };
	static const char *const both[] = { MESH_LABEL_ISTIO, "ambient",
					    MESH_LABEL_AMBIT, "none", NULL };
	static const char *const other[] = { "app", "web", NULL };
	struct object *ns_amb = with_labels(OBJ_NAMESPACE, "", "a", istio_ambient);
	struct object *ns_plain = with_labels(OBJ_NAMESPACE, "", "p", other);
	struct object *ns_none = with_labels(OBJ_NAMESPACE, "", "n", ambit_none);
	struct object *p_plain = with_labels(OBJ_POD, "a", "x", other);
	struct object *p_in = with_labels(OBJ_POD, "a", "x", ambit_ambient);
	struct object *p_out = with_labels(OBJ_POD, "a", "x", istio_none);
	struct object *p_both = with_labels(OBJ_POD, "a", "x", both);
	struct object *p_host = with_labels(OBJ_POD, "a", "x", ambit_ambient);
	char why[200];

	p_host->pod.host_network = true;
	assert_true(mesh_decide(p_plain, ns_amb, why, sizeof(why)));
	assert_string_equal(why, "namespace label istio.io/dataplane-mode=ambient");
	assert_true(mesh_decide(NULL, ns_amb, why, sizeof(why)));
	assert_false(mesh_decide(p_plain, ns_plain, why, sizeof(why)));
	assert_string_equal(why, "no ambient label on the pod or its namespace");
	assert_false(mesh_decide(p_plain, NULL, why, sizeof(why)));
	assert_string_equal(why, "no ambient label on the pod, and its Namespace "
			    "is not known");
	assert_true(mesh_decide(p_in, ns_plain, why, sizeof(why)));
	assert_string_equal(why, "pod label ambit.io/mode=ambient");
	assert_true(mesh_decide(p_in, ns_none, NULL, 0));
	assert_false(mesh_decide(p_out, ns_amb, why, sizeof(why)));
	assert_string_equal(why, "opted out: pod label istio.io/dataplane-mode=none");
	assert_false(mesh_decide(p_both, ns_amb, why, sizeof(why)));
	assert_string_equal(why, "opted out: pod label ambit.io/mode=none");
	assert_false(mesh_decide(p_host, ns_amb, why, sizeof(why)));
	assert_string_equal(why, "hostNetwork pod: it shares the node's network "
			    "namespace");
	assert_false(mesh_decide(NULL, ns_none, why, sizeof(why)));
	assert_false(mesh_decide(NULL, NULL, NULL, 0));
	obj_free(ns_amb);
	obj_free(ns_plain);
	obj_free(ns_none);
	obj_free(p_plain);
	obj_free(p_in);
	obj_free(p_out);
	obj_free(p_both);
	obj_free(p_host);
}

static void test_resource_version_order(void **state)
{
	assert_true(rv_older("1399", "1402"));
	assert_false(rv_older("1402", "1399"));
	assert_false(rv_older("1402", "1402"));
	assert_true(rv_older("9", "10")); /* numbers, not strings */
	assert_false(rv_older(NULL, "10")); /* unknown: never older */
	assert_false(rv_older("10", NULL));
	assert_false(rv_older("abc", "10"));
	assert_false(rv_older("010", "11"));
	assert_false(rv_older("99999999999999999999999", "1"));
}

/* ---- a sync batch's candidate ---------------------------------------------------------- */

static struct objvec yaml_objs(const char *yaml)
{
	struct objvec ov = { 0 };
	struct diags d = { 0 };

	assert_int_equal(model_load("s", yaml, strlen(yaml), &ov, &d), 0);
	diags_free(&d);
	return ov;
}

#define SVC(name, ip) "apiVersion: v1\nkind: Service\nmetadata: {name: " name \
	"}\nspec: {clusterIP: " ip ", ports: [{port: 80}]}\n---\n"

static bool has(const struct objvec *v, const char *name, const char *ip)
{
	char buf[INET6_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < v->n; i++) {
		if (!strcmp(v->v[i]->name, name))
			return !ip || !strcmp(ip_str(&v->v[i]->svc.ips[0], buf), ip);
	}
	return false;
}

/* Changes and deletions by key in one candidate, then objects put and
 * dropped the way enrollment by labels edits it. */
static void test_store_change(void **state)
{
	struct store st = { 0 };
	struct objvec base = yaml_objs(SVC("a", "127.96.0.1") SVC("b", "127.96.0.2"));
	struct objvec in = yaml_objs(SVC("a", "127.96.0.9") SVC("c", "127.96.0.3"));
	struct objvec gone = yaml_objs(SVC("b", "127.96.0.2") SVC("zz", "127.96.0.7"));
	struct objvec more = yaml_objs(SVC("d", "127.96.0.4") SVC("c", "127.96.0.8"));
	struct candidate c;
	size_t i;

	st.objs = base;
	st.next_seq = 2;
	assert_int_equal(store_begin_change(&st, &in, &gone, &c), 0);
	assert_int_equal(c.all.n, 2); /* a (new), c; b gone; zz never was */
	assert_true(has(&c.all, "a", "127.96.0.9"));
	assert_false(has(&c.all, "b", NULL));
	assert_int_equal(candidate_put(&st, &c, more.v[0]), 0); /* d: new */
	assert_int_equal(candidate_put(&st, &c, more.v[1]), 0); /* c: again */
	more.n = 0;
	assert_true(has(&c.all, "c", "127.96.0.8"));
	for (i = 0; i < c.all.n; i++) {
		if (!strcmp(c.all.v[i]->name, "a"))
			break;
	}
	assert_int_equal(candidate_drop(&c, c.all.v[i]), 0);
	store_commit(&st, &c);
	assert_int_equal(st.objs.n, 2);
	assert_true(has(&st.objs, "c", "127.96.0.8"));
	assert_true(has(&st.objs, "d", "127.96.0.4"));
	store_free(&st);
	objvec_free(&gone);
	objvec_free(&more);
}

/* ---- the requests the CNI plugin sends -------------------------------------------- */

static void test_pod_requests(void **state)
{
	struct pod_req r = { .ns = "shop", .name = "web-1",
			     .netns = "/var/run/netns/cni-1",
			     .container_id = "abc", .ips = { "10.0.0.5", "fd00::5" },
			     .n_ips = 2 };
	static const char *const attach[] = {
		"pod", "attach", "--namespace", "shop", "--name", "web-1",
		"--netns", "/var/run/netns/cni-1", "--container-id", "abc",
		"--ip", "10.0.0.5", "--ip", "fd00::5", NULL };
	static const char *const detach[] = {
		"pod", "detach", "--namespace", "shop", "--name", "web-1",
		"--netns", "/var/run/netns/cni-1", "--container-id", "abc", NULL };
	char *argv[POD_REQ_MAX_ARGS + 1];
	int argc, i;

	argc = pod_req_argv(&r, POD_ATTACH, argv);
	assert_int_equal(argc, 14);
	for (i = 0; i <= argc; i++) {
		if (attach[i])
			assert_string_equal(argv[i], attach[i]);
		else
			assert_null(argv[i]);
	}
	argc = pod_req_argv(&r, POD_DETACH, argv);
	assert_int_equal(argc, 10);
	for (i = 0; i < argc; i++)
		assert_string_equal(argv[i], detach[i]);
	r.netns = NULL;
	assert_int_equal(pod_req_argv(&r, POD_ATTACH, argv), -EINVAL);
	assert_int_equal(pod_req_argv(&r, POD_DETACH, argv), 8);
	r.ns = "";
	assert_int_equal(pod_req_argv(&r, POD_DETACH, argv), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service),
		cmocka_unit_test(test_endpoint_slice),
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_pod_and_namespace),
		cmocka_unit_test(test_yaml_round_trip),
		cmocka_unit_test(test_types_kept),
		cmocka_unit_test(test_errors_name_the_event),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_stream_lines_and_pretty),
		cmocka_unit_test(test_stream_truncated),
		cmocka_unit_test(test_stream_malformed),
		cmocka_unit_test(test_mesh_decide),
		cmocka_unit_test(test_resource_version_order),
		cmocka_unit_test(test_store_change),
		cmocka_unit_test(test_pod_requests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
