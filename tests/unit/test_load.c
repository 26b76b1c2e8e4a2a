// SPDX-License-Identifier: Apache-2.0
/*
 * model_load(): well-formed input of every kind, defaults, kubectl List
 * output, the re-emitted YAML round trip, hostile input and a matrix of
 * malformed input, each error checked to the exact file:line:col, field
 * path and message. Run from the repository root (data in tests/unit/data).
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

#include "load.h"
#include "model.h"

#define DATA "tests/unit/data/"
#define CANONICAL "tests/data/canonical-route.yaml"

/* ---- helpers ---------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void print_diags(const struct diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		print_message("  diag: %s\n", d->msgs[i]);
}

/* Load @yaml (named t.yaml) that must be valid. */
static void load_ok(const char *yaml, struct objvec *ov)
{
	struct diags d = { 0 };
	int err = model_load("t.yaml", yaml, strlen(yaml), ov, &d);

	if (err)
		print_diags(&d);
	assert_int_equal(err, 0);
	assert_int_equal(d.n, 0);
	diags_free(&d);
}

static void load_file_ok(const char *name, struct objvec *ov)
{
	size_t len;
	char *buf = read_file(name, &len);
	struct diags d = { 0 };
	int err = model_load(name, buf, len, ov, &d);

	if (err)
		print_diags(&d);
	assert_int_equal(err, 0);
	diags_free(&d);
	free(buf);
}

/*
 * Load @len bytes that must fail with @msg among the messages, leaving the
 * output untouched.
 */
static void expect_error_len(const char *yaml, size_t len, const char *msg)
{
	struct objvec ov = { 0 };
	struct diags d = { 0 };
	bool found = false;
	size_t i;
	int err;

	err = model_load("t.yaml", yaml, len, &ov, &d);
	for (i = 0; i < d.n; i++)
		found |= !strcmp(d.msgs[i], msg);
	if (err != -EINVAL || !found) {
		print_message("expected: %s\n", msg);
		print_diags(&d);
	}
	assert_int_equal(err, -EINVAL);
	assert_true(found);
	assert_int_equal(ov.n, 0);
	assert_null(ov.v);
	objvec_free(&ov);
	diags_free(&d);
}

static void expect_error(const char *yaml, const char *msg)
{
	expect_error_len(yaml, strlen(yaml), msg);
}

static const struct object *find(const struct objvec *ov, int kind,
				 const char *name)
{
	const struct object *o = model_find(ov, kind, NULL, name);

	if (!o) {
		size_t i;

		for (i = 0; i < ov->n && !o; i++) {
			if (ov->v[i]->kind == kind &&
			    !strcmp(ov->v[i]->name, name))
				o = ov->v[i];
		}
	}
	assert_non_null(o);
	return o;
}

static void assert_ip(const struct ip_addr *ip, const char *text)
{
	struct ip_addr want = { 0 };

	want.family = strchr(text, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(want.family, text, want.bytes), 1);
	assert_memory_equal(ip, &want, sizeof(want));
}

static void assert_pos(const struct src_pos *p, const char *file, int doc,
		       int line, int col)
{
	assert_string_equal(p->file, file);
	assert_int_equal(p->doc, doc);
	assert_int_equal(p->line, line);
	assert_int_equal(p->col, col);
}

/* ---- well-formed input -------------------------------------------------------- */

static void test_canonical_route(void **state)
{
	struct objvec ov = { 0 };
	const struct http_route *r;
	const struct route_rule *rr;
	const struct object *o;

	load_file_ok(CANONICAL, &ov);
	assert_int_equal(ov.n, 1);
	o = ov.v[0];
	assert_int_equal(o->kind, OBJ_HTTP_ROUTE);
	assert_string_equal(o->ns, "default");
	assert_string_equal(o->name, "reviews");
	assert_null(o->creation);
	assert_pos(&o->pos, CANONICAL, 1, 1, 1);
	r = &o->route;
	assert_int_equal(r->mode, ROUTE_MODE_AUTO);
	assert_int_equal(r->n_hostnames, 0);
	assert_int_equal(r->n_parents, 1);
	assert_string_equal(r->parents[0].ref.group, "");
	assert_string_equal(r->parents[0].ref.kind, "Service");
	assert_string_equal(r->parents[0].ref.name, "reviews");
	assert_null(r->parents[0].ref.ns);
	assert_true(r->parents[0].ref.has_port);
	assert_int_equal(r->parents[0].ref.port, 9080);
	assert_null(r->parents[0].section_name);
	assert_pos(&r->parents[0].ref.pos, CANONICAL, 1, 5, 16);
	assert_int_equal(r->n_rules, 2);

	rr = &r->rules[0];
	assert_pos(&rr->pos, CANONICAL, 1, 7, 5);
	assert_null(rr->name);
	assert_int_equal(rr->n_matches, 1);
	assert_false(rr->matches[0].has_path);
	assert_int_equal(rr->matches[0].path.type, PATH_PREFIX);
	assert_string_equal(rr->matches[0].path.value, "/");
	assert_int_equal(rr->matches[0].n_headers, 1);
	assert_int_equal(rr->matches[0].headers[0].type, MATCH_EXACT);
	assert_string_equal(rr->matches[0].headers[0].name,
			    "my-favorite-service-mesh");
	assert_string_equal(rr->matches[0].headers[0].value, "istio");
	assert_pos(&rr->matches[0].headers[0].pos, CANONICAL, 1, 7,
		   26);
	assert_null(rr->matches[0].method);
	assert_int_equal(rr->matches[0].n_query, 0);
	assert_int_equal(rr->n_filters, 1);
	assert_int_equal(rr->filters[0].type, FILTER_REQ_HEADER);
	assert_pos(&rr->filters[0].pos, CANONICAL, 1, 9, 7);
	assert_int_equal(rr->filters[0].hdr.n_add, 1);
	assert_int_equal(rr->filters[0].hdr.n_set, 0);
	assert_int_equal(rr->filters[0].hdr.n_remove, 0);
	assert_string_equal(rr->filters[0].hdr.add[0].name, "hello");
	assert_string_equal(rr->filters[0].hdr.add[0].value, "world");
	assert_int_equal(rr->n_backends, 1);
	assert_string_equal(rr->backends[0].ref.name, "reviews-v2");
	assert_string_equal(rr->backends[0].ref.group, "");
	assert_string_equal(rr->backends[0].ref.kind, "Service");
	assert_int_equal(rr->backends[0].ref.port, 9080);
	assert_int_equal(rr->backends[0].weight, 1);
	assert_int_equal(rr->timeout_request_ms, -1);
	assert_int_equal(rr->timeout_backend_ms, -1);

	rr = &r->rules[1];
	assert_int_equal(rr->n_matches, 0);
	assert_int_equal(rr->n_filters, 0);
	assert_int_equal(rr->n_backends, 1);
	assert_string_equal(rr->backends[0].ref.name, "reviews-v1");
	objvec_free(&ov);
}

static void test_service(void **state)
{
	struct objvec ov = { 0 };
	const struct service *s;

	load_file_ok(DATA "kubectl-list.yaml", &ov);
	s = &find(&ov, OBJ_SERVICE, "ratings")->svc;
	assert_false(s->headless);
	assert_int_equal(s->n_ips, 2); /* clusterIP is clusterIPs[0] */
	assert_ip(&s->ips[0], "10.96.12.34");
	assert_ip(&s->ips[1], "fd00:10:96::1234");
	assert_int_equal(s->n_ports, 3);
	assert_string_equal(s->ports[0].name, "http");
	assert_int_equal(s->ports[0].port, 9080);
	assert_int_equal(s->ports[0].target_port, 9080);
	assert_null(s->ports[0].target_name);
	assert_int_equal(s->ports[0].proto, IPPROTO_TCP);
	assert_null(s->ports[0].app_protocol);
	assert_string_equal(s->ports[1].target_name, "grpc-port");
	assert_string_equal(s->ports[1].app_protocol, "kubernetes.io/h2c");
	assert_int_equal(s->ports[2].proto, IPPROTO_UDP);
	assert_int_equal(s->ports[2].target_port, 5353);
	assert_pos(&s->ports[2].pos, DATA "kubectl-list.yaml", 1, 37, 7);
	assert_ptr_equal(service_port(s, 53), &s->ports[2]);
	assert_null(service_port(s, 54));
	objvec_free(&ov);
}

static void test_service_defaults(void **state)
{
	struct objvec ov = { 0 };
	const struct object *o;

	load_ok("apiVersion: v1\n"
		"kind: Service\n"
		"metadata: {name: a, namespace: ~, creationTimestamp: null}\n"
		"spec: {clusterIP: None, ports: [{port: 80}]}\n"
		"---\n"
		"apiVersion: v1\n"
		"kind: Service\n"
		"metadata: {name: b, namespace: other}\n"
		"spec: {clusterIP: \"\"}\n"
		"---\n"
		"apiVersion: v1\n"
		"kind: Service\n"
		"metadata: {name: c, namespace: \"\"}\n",
		&ov);
	assert_int_equal(ov.n, 3);
	o = ov.v[0];
	assert_string_equal(o->ns, "default");
	assert_null(o->creation);
	assert_true(o->svc.headless);
	assert_int_equal(o->svc.n_ips, 0);
	assert_int_equal(o->svc.n_ports, 1);
	assert_null(o->svc.ports[0].name);
	assert_int_equal(o->svc.ports[0].target_port, 80);
	assert_int_equal(o->svc.ports[0].proto, IPPROTO_TCP);
	o = ov.v[1];
	assert_string_equal(o->ns, "other");
	assert_false(o->svc.headless);
	assert_int_equal(o->svc.n_ips, 0);
	assert_int_equal(o->svc.n_ports, 0);
	assert_int_equal(ov.v[2]->svc.n_ports, 0);
	assert_string_equal(ov.v[2]->ns, "default");
	assert_pos(&ov.v[2]->pos, "t.yaml", 3, 11, 1);
	objvec_free(&ov);
}

static void test_endpoint_slice(void **state)
{
	struct objvec ov = { 0 };
	const struct endpoint_slice *e;

	load_file_ok(DATA "bookinfo.yaml", &ov);
	assert_int_equal(ov.n, 4); /* the empty document is skipped */
	e = &find(&ov, OBJ_ENDPOINT_SLICE, "reviews-v1-abcde")->eps;
	assert_string_equal(e->service, "reviews-v1");
	assert_int_equal(e->family, AF_INET);
	assert_int_equal(e->n_eps, 3);
	assert_int_equal(e->eps[0].n_addrs, 1);
	assert_ip(&e->eps[0].addrs[0], "10.244.1.5");
	assert_true(e->eps[0].ready);
	assert_string_equal(e->eps[0].target_name, "reviews-v1-0");
	assert_null(e->eps[0].hostname);
	assert_false(e->eps[1].ready);
	assert_true(e->eps[2].ready); /* no conditions: ready */
	assert_string_equal(e->eps[2].hostname, "reviews-v1-2");
	assert_pos(&e->eps[2].pos, DATA "bookinfo.yaml", 5, 48, 3);
	assert_int_equal(e->n_ports, 1);
	assert_string_equal(e->ports[0].name, "http");
	assert_int_equal(e->ports[0].port, 9080);
	assert_int_equal(e->ports[0].proto, IPPROTO_TCP);
	objvec_free(&ov);
}

static void test_endpoint_slice_v6(void **state)
{
	struct objvec ov = { 0 };
	const struct endpoint_slice *e;

	load_ok("apiVersion: discovery.k8s.io/v1\n"
		"kind: EndpointSlice\n"
		"metadata:\n"
		"  name: x-1\n"
		"  labels: {kubernetes.io/service-name: x}\n"
		"addressType: IPv6\n"
		"endpoints:\n"
		"- addresses: ['fd00::1', 'fd00::2']\n"
		"ports: [{name: '', port: 53, protocol: UDP}]\n",
		&ov);
	e = &ov.v[0]->eps;
	assert_int_equal(e->family, AF_INET6);
	assert_int_equal(e->eps[0].n_addrs, 2);
	assert_ip(&e->eps[0].addrs[1], "fd00::2");
	assert_null(e->ports[0].name); /* "" is unnamed */
	assert_int_equal(e->ports[0].proto, IPPROTO_UDP);
	objvec_free(&ov);
}

static void test_enrollment(void **state)
{
	struct objvec ov = { 0 };
	const struct enrollment *e;

	load_file_ok(DATA "enrollments.yaml", &ov);
	assert_int_equal(ov.n, 2);
	e = &ov.v[0]->enr;
	assert_string_equal(ov.v[0]->ns, "bookinfo");
	assert_string_equal(e->cgroup_path,
			    "/sys/fs/cgroup/kubepods.slice/pod1234");
	assert_null(e->netns_path);
	assert_string_equal(e->pod_ns, "bookinfo");
	assert_string_equal(e->pod_name, "productpage-v1-0");
	e = &ov.v[1]->enr;
	assert_null(e->cgroup_path);
	assert_string_equal(e->netns_path, "/run/netns/curl");
	assert_null(e->pod_ns);
	assert_null(e->pod_name);
	objvec_free(&ov);
}

static void test_kubectl_list(void **state)
{
	struct objvec ov = { 0 };
	const struct object *o;

	load_file_ok(DATA "kubectl-list.yaml", &ov);
	assert_int_equal(ov.n, 3);
	assert_int_equal(ov.v[0]->kind, OBJ_SERVICE);
	assert_int_equal(ov.v[1]->kind, OBJ_ENDPOINT_SLICE);
	assert_int_equal(ov.v[2]->kind, OBJ_HTTP_ROUTE);
	o = ov.v[1];
	assert_string_equal(o->ns, "bookinfo");
	assert_string_equal(o->creation, "2024-05-01T10:00:00Z");
	assert_string_equal(o->eps.service, "ratings");
	assert_false(o->eps.eps[1].ready);
	assert_int_equal(o->eps.ports[1].proto, IPPROTO_UDP);
	assert_pos(&o->pos, DATA "kubectl-list.yaml", 1, 47, 3);
	/* Each item is re-emitted as a document of its own. */
	assert_non_null(strstr(o->yaml, "kind: EndpointSlice\n"));
	assert_null(strstr(o->yaml, "kind: List"));
	assert_null(strstr(o->yaml, "items:"));
	o = ov.v[2];
	assert_int_equal(o->route.rules[0].n_matches, 1);
	assert_true(o->route.rules[0].matches[0].has_path);
	objvec_free(&ov);
}

static void test_multi_document(void **state)
{
	struct objvec ov = { 0 };

	load_ok("# leading comment\n"
		"---\n"
		"---\n"
		"apiVersion: v1\nkind: Service\nmetadata: {name: a}\n"
		"...\n"
		"--- null\n"
		"--- ~\n"
		"---\n"
		"# only a comment\n"
		"--- {apiVersion: v1, kind: Service, metadata: {name: b}}\n"
		"---\n",
		&ov);
	assert_int_equal(ov.n, 2);
	assert_string_equal(ov.v[0]->name, "a");
	assert_string_equal(ov.v[1]->name, "b");
	assert_pos(&ov.v[1]->pos, "t.yaml", 6, 12, 5);
	objvec_free(&ov);
	load_ok("", &ov);
	load_ok("# nothing\n", &ov);
	assert_int_equal(ov.n, 0);
}

static void test_full_route(void **state)
{
	struct objvec ov = { 0 };
	const struct route_match *m;
	const struct route_rule *rr;
	const struct http_route *r;
	const struct filter *f;
	const struct object *o;

	load_file_ok(DATA "full-route.yaml", &ov);
	o = ov.v[0];
	r = &o->route;
	assert_string_equal(o->ns, "shop");
	assert_string_equal(o->creation, "2024-01-02T03:04:05Z");
	assert_int_equal(r->mode, ROUTE_MODE_L7);
	assert_int_equal(r->n_hostnames, 2);
	assert_string_equal(r->hostnames[1], "*.shop.example.com");
	assert_string_equal(r->parents[0].ref.ns, "shop");
	assert_string_equal(r->parents[1].section_name, "admin");
	assert_false(r->parents[1].ref.has_port);
	assert_int_equal(r->n_rules, 3);

	rr = &r->rules[0];
	assert_string_equal(rr->name, "api");
	m = &rr->matches[0];
	assert_true(m->has_path);
	assert_int_equal(m->path.type, PATH_EXACT);
	assert_string_equal(m->path.value, "/api/v1");
	assert_string_equal(m->method, "POST");
	assert_int_equal(m->n_headers, 2);
	assert_string_equal(m->headers[0].value, "2");
	assert_int_equal(m->headers[1].type, MATCH_REGEX);
	assert_int_equal(m->n_query, 2);
	assert_string_equal(m->query[0].name, "debug");
	assert_int_equal(m->query[1].type, MATCH_REGEX);
	assert_int_equal(rr->matches[1].path.type, PATH_REGEX);

	assert_int_equal(rr->n_filters, 6);
	f = rr->filters;
	assert_int_equal(f[0].type, FILTER_REQ_HEADER);
	assert_string_equal(f[0].hdr.set[0].name, "x-set");
	assert_string_equal(f[0].hdr.add[0].value, "b");
	assert_int_equal(f[0].hdr.n_remove, 2);
	assert_string_equal(f[0].hdr.remove[1], "x-other");
	assert_int_equal(f[1].type, FILTER_RESP_HEADER);
	assert_string_equal(f[1].hdr.set[0].name, "x-resp");
	assert_int_equal(f[2].type, FILTER_REWRITE);
	assert_string_equal(f[2].rewrite.hostname, "backend.internal");
	assert_int_equal(f[2].rewrite.path.type, PATHMOD_FULL);
	assert_string_equal(f[2].rewrite.path.value, "/v2");
	assert_int_equal(f[3].type, FILTER_MIRROR);
	assert_string_equal(f[3].mirror.backend.name, "shadow");
	assert_string_equal(f[3].mirror.backend.ns, "test");
	assert_string_equal(f[3].mirror.backend.kind, "Service");
	assert_true(f[3].mirror.has_percent);
	assert_int_equal(f[3].mirror.percent, 10);
	assert_false(f[3].mirror.has_fraction);
	assert_true(f[4].mirror.has_fraction);
	assert_int_equal(f[4].mirror.frac_num, 1);
	assert_int_equal(f[4].mirror.frac_den, 1000);
	assert_int_equal(f[5].type, FILTER_EXTENSION);
	assert_string_equal(f[5].ext.group, "example.com");
	assert_string_equal(f[5].ext.kind, "RateLimit");
	assert_string_equal(f[5].ext.name, "tight");

	assert_int_equal(rr->n_backends, 2);
	assert_int_equal(rr->backends[0].weight, 90);
	assert_string_equal(rr->backends[1].ref.ns, "canary");
	assert_int_equal(rr->backends[1].n_filters, 1);
	assert_string_equal(rr->backends[1].filters[0].hdr.add[0].value,
			    "true");
	assert_int_equal(rr->timeout_request_ms, 5400000);
	assert_int_equal(rr->timeout_backend_ms, 500);

	rr = &r->rules[1];
	assert_int_equal(rr->matches[0].path.type, PATH_PREFIX);
	assert_string_equal(rr->matches[0].path.value, "/old");
	f = &rr->filters[0];
	assert_int_equal(f->type, FILTER_REDIRECT);
	assert_string_equal(f->redirect.scheme, "https");
	assert_string_equal(f->redirect.hostname, "new.example.com");
	assert_true(f->redirect.has_port);
	assert_int_equal(f->redirect.port, 8443);
	assert_int_equal(f->redirect.status, 301);
	assert_int_equal(f->redirect.path.type, PATHMOD_PREFIX);
	assert_string_equal(f->redirect.path.value, "/new");

	rr = &r->rules[2];
	assert_string_equal(rr->filters[0].rewrite.path.value, "");
	assert_int_equal(rr->backends[0].weight, 0);
	assert_int_equal(rr->timeout_request_ms, 0);
	assert_int_equal(rr->timeout_backend_ms, -1);
	objvec_free(&ov);
}

static void test_route_defaults(void **state)
{
	struct objvec ov = { 0 };
	const struct http_route *r;
	const struct filter *f;

	load_ok("apiVersion: gateway.networking.k8s.io/v1\n"
		"kind: HTTPRoute\n"
		"metadata: {name: r}\n"
		"spec:\n"
		"  parentRefs: [{name: gw}]\n"
		"  rules:\n"
		"  - matches: [{path: {}, headers: [{name: a, value: b}]}]\n"
		"    filters:\n"
		"    - type: RequestRedirect\n"
		"      requestRedirect: {}\n"
		"    - type: RequestMirror\n"
		"      requestMirror: {backendRef: {name: m, port: 1}}\n"
		"---\n"
		"apiVersion: gateway.networking.k8s.io/v1\n"
		"kind: HTTPRoute\n"
		"metadata: {name: no-rules}\n"
		"spec: {}\n",
		&ov);
	r = &ov.v[0]->route;
	/* A parentRef defaults to a Gateway: model_validate() refuses it. */
	assert_string_equal(r->parents[0].ref.group,
			    "gateway.networking.k8s.io");
	assert_string_equal(r->parents[0].ref.kind, "Gateway");
	assert_true(r->rules[0].matches[0].has_path);
	assert_int_equal(r->rules[0].matches[0].path.type, PATH_PREFIX);
	assert_string_equal(r->rules[0].matches[0].path.value, "/");
	assert_int_equal(r->rules[0].matches[0].headers[0].type, MATCH_EXACT);
	f = r->rules[0].filters;
	assert_int_equal(f[0].redirect.status, 302);
	assert_null(f[0].redirect.scheme);
	assert_false(f[0].redirect.has_port);
	assert_int_equal(f[0].redirect.path.type, PATHMOD_NONE);
	assert_false(f[1].mirror.has_percent);
	assert_false(f[1].mirror.has_fraction);
	assert_int_equal(f[1].mirror.frac_den, 100);
	/* No rules: the CRD default, one rule matching everything. */
	r = &ov.v[1]->route;
	assert_int_equal(r->n_rules, 1);
	assert_int_equal(r->rules[0].n_matches, 0);
	assert_int_equal(r->rules[0].n_backends, 0);
	assert_int_equal(r->rules[0].timeout_request_ms, -1);
	objvec_free(&ov);
}

static void test_durations(void **state)
{
	static const struct {
		const char *text;
		int64_t ms;
	} cases[] = {
		{ "0s", 0 },	     { "10s", 10000 },	    { "500ms", 500 },
		{ "1m", 60000 },     { "1h30m", 5400000 }, { "1m1ms", 60001 },
		{ "1h30m30s500ms", 5430500 }, { "99999h", 359996400000LL },
		{ "1s1s", 2000 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct objvec ov = { 0 };
		char yaml[256];

		snprintf(yaml, sizeof(yaml),
			 "apiVersion: gateway.networking.k8s.io/v1\n"
			 "kind: HTTPRoute\nmetadata: {name: r}\n"
			 "spec: {rules: [{timeouts: {request: %s}}]}\n",
			 cases[i].text);
		load_ok(yaml, &ov);
		assert_int_equal(ov.v[0]->route.rules[0].timeout_request_ms,
				 cases[i].ms);
		objvec_free(&ov);
	}
}

static void test_appends_and_all_or_nothing(void **state)
{
	const char *good = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n";
	const char *bad = "apiVersion: v1\nkind: Service\nmetadata: {name: b}\n"
			  "---\n"
			  "apiVersion: v1\nkind: Service\nmetadata: {name: C}\n";
	struct objvec ov = { 0 };
	struct diags d = { 0 };

	load_ok(good, &ov);
	load_ok(good, &ov); /* appends; duplicates are model_validate's */
	assert_int_equal(ov.n, 2);
	assert_int_equal(model_load("t.yaml", bad, strlen(bad), &ov, &d),
			 -EINVAL);
	assert_int_equal(ov.n, 2);
	assert_string_equal(ov.v[1]->name, "a");
	assert_int_equal(d.n, 1);
	diags_free(&d);
	objvec_free(&ov);
}

/* Many errors in one input: all are reported, in document order. */
static void test_reports_every_error(void **state)
{
	const char *yaml = "apiVersion: v1\nkind: Service\nmetadata: {}\n"
			   "spec: {ports: [{port: 0}]}\n"
			   "---\n"
			   "kind: Service\nmetadata: {name: x}\n";
	struct objvec ov = { 0 };
	struct diags d = { 0 };

	assert_int_equal(model_load("t.yaml", yaml, strlen(yaml), &ov, &d),
			 -EINVAL);
	if (d.n != 3)
		print_diags(&d);
	assert_int_equal(d.n, 3);
	assert_string_equal(d.msgs[0],
			    "t.yaml:3:11: document 1: metadata.name: is required");
	assert_string_equal(d.msgs[1],
			    "t.yaml:4:23: document 1: spec.ports[0].port: must "
			    "be an integer between 1 and 65535, got \"0\"");
	assert_string_equal(d.msgs[2],
			    "t.yaml:6:1: document 2: apiVersion: is required");
	diags_free(&d);
}

/* ---- round trip of obj->yaml -------------------------------------------------- */

static void eq_str(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void eq_ref(const struct object_ref *a, const struct object_ref *b)
{
	eq_str(a->group, b->group);
	eq_str(a->kind, b->kind);
	eq_str(a->ns, b->ns);
	eq_str(a->name, b->name);
	assert_int_equal(a->has_port, b->has_port);
	assert_int_equal(a->port, b->port);
}

static void eq_kvs(const struct header_kv *a, const struct header_kv *b,
		   size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		eq_str(a[i].name, b[i].name);
		eq_str(a[i].value, b[i].value);
	}
}

static void eq_hdr(const struct header_mod *a, const struct header_mod *b)
{
	size_t i;

	assert_int_equal(a->n_set, b->n_set);
	assert_int_equal(a->n_add, b->n_add);
	assert_int_equal(a->n_remove, b->n_remove);
	eq_kvs(a->set, b->set, a->n_set);
	eq_kvs(a->add, b->add, a->n_add);
	for (i = 0; i < a->n_remove; i++)
		eq_str(a->remove[i], b->remove[i]);
}

static void eq_pathmod(const struct path_mod *a, const struct path_mod *b)
{
	assert_int_equal(a->type, b->type);
	eq_str(a->value, b->value);
}

static void eq_filter(const struct filter *a, const struct filter *b)
{
	assert_int_equal(a->type, b->type);
	switch (a->type) {
	case FILTER_REQ_HEADER:
	case FILTER_RESP_HEADER:
		eq_hdr(&a->hdr, &b->hdr);
		break;
	case FILTER_REDIRECT:
		eq_str(a->redirect.scheme, b->redirect.scheme);
		eq_str(a->redirect.hostname, b->redirect.hostname);
		eq_pathmod(&a->redirect.path, &b->redirect.path);
		assert_int_equal(a->redirect.has_port, b->redirect.has_port);
		assert_int_equal(a->redirect.port, b->redirect.port);
		assert_int_equal(a->redirect.status, b->redirect.status);
		break;
	case FILTER_REWRITE:
		eq_str(a->rewrite.hostname, b->rewrite.hostname);
		eq_pathmod(&a->rewrite.path, &b->rewrite.path);
		break;
	case FILTER_MIRROR:
		eq_ref(&a->mirror.backend, &b->mirror.backend);
		assert_int_equal(a->mirror.has_percent, b->mirror.has_percent);
		assert_int_equal(a->mirror.percent, b->mirror.percent);
		assert_int_equal(a->mirror.has_fraction, b->mirror.has_fraction);
		assert_int_equal(a->mirror.frac_num, b->mirror.frac_num);
		assert_int_equal(a->mirror.frac_den, b->mirror.frac_den);
		break;
	default:
		eq_ref(&a->ext, &b->ext);
	}
}

static void eq_filters(const struct filter *a, size_t na,
		       const struct filter *b, size_t nb)
{
	size_t i;

	assert_int_equal(na, nb);
	for (i = 0; i < na; i++)
		eq_filter(&a[i], &b[i]);
}

static void eq_kvm(const struct kv_match *a, const struct kv_match *b,
		   size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		assert_int_equal(a[i].type, b[i].type);
		eq_str(a[i].name, b[i].name);
		eq_str(a[i].value, b[i].value);
	}
}

static void eq_match(const struct route_match *a, const struct route_match *b)
{
	assert_int_equal(a->has_path, b->has_path);
	assert_int_equal(a->path.type, b->path.type);
	eq_str(a->path.value, b->path.value);
	assert_int_equal(a->n_headers, b->n_headers);
	eq_kvm(a->headers, b->headers, a->n_headers);
	assert_int_equal(a->n_query, b->n_query);
	eq_kvm(a->query, b->query, a->n_query);
	eq_str(a->method, b->method);
}

static void eq_rule(const struct route_rule *a, const struct route_rule *b)
{
	size_t i;

	eq_str(a->name, b->name);
	assert_int_equal(a->n_matches, b->n_matches);
	for (i = 0; i < a->n_matches; i++)
		eq_match(&a->matches[i], &b->matches[i]);
	eq_filters(a->filters, a->n_filters, b->filters, b->n_filters);
	assert_int_equal(a->n_backends, b->n_backends);
	for (i = 0; i < a->n_backends; i++) {
		eq_ref(&a->backends[i].ref, &b->backends[i].ref);
		assert_int_equal(a->backends[i].weight, b->backends[i].weight);
		eq_filters(a->backends[i].filters, a->backends[i].n_filters,
			   b->backends[i].filters, b->backends[i].n_filters);
	}
	assert_int_equal(a->timeout_request_ms, b->timeout_request_ms);
	assert_int_equal(a->timeout_backend_ms, b->timeout_backend_ms);
}

static void eq_route(const struct http_route *a, const struct http_route *b)
{
	size_t i;

	assert_int_equal(a->n_hostnames, b->n_hostnames);
	for (i = 0; i < a->n_hostnames; i++)
		eq_str(a->hostnames[i], b->hostnames[i]);
	assert_int_equal(a->n_parents, b->n_parents);
	for (i = 0; i < a->n_parents; i++) {
		eq_ref(&a->parents[i].ref, &b->parents[i].ref);
		eq_str(a->parents[i].section_name, b->parents[i].section_name);
	}
	assert_int_equal(a->n_rules, b->n_rules);
	for (i = 0; i < a->n_rules; i++)
		eq_rule(&a->rules[i], &b->rules[i]);
	assert_int_equal(a->mode, b->mode);
}

static void eq_service(const struct service *a, const struct service *b)
{
	size_t i;

	assert_int_equal(a->n_ips, b->n_ips);
	assert_memory_equal(a->ips, b->ips, a->n_ips * sizeof(*a->ips));
	assert_int_equal(a->headless, b->headless);
	assert_int_equal(a->n_ports, b->n_ports);
	for (i = 0; i < a->n_ports; i++) {
		const struct svc_port *x = &a->ports[i], *y = &b->ports[i];

		eq_str(x->name, y->name);
		assert_int_equal(x->port, y->port);
		eq_str(x->target_name, y->target_name);
		assert_int_equal(x->target_port, y->target_port);
		assert_int_equal(x->proto, y->proto);
		eq_str(x->app_protocol, y->app_protocol);
	}
}

static void eq_eps(const struct endpoint_slice *a,
		   const struct endpoint_slice *b)
{
	size_t i;

	eq_str(a->service, b->service);
	assert_int_equal(a->family, b->family);
	assert_int_equal(a->n_eps, b->n_eps);
	for (i = 0; i < a->n_eps; i++) {
		const struct endpoint *x = &a->eps[i], *y = &b->eps[i];

		assert_int_equal(x->n_addrs, y->n_addrs);
		assert_memory_equal(x->addrs, y->addrs,
				    x->n_addrs * sizeof(*x->addrs));
		assert_int_equal(x->ready, y->ready);
		eq_str(x->hostname, y->hostname);
		eq_str(x->target_name, y->target_name);
	}
	assert_int_equal(a->n_ports, b->n_ports);
	for (i = 0; i < a->n_ports; i++) {
		eq_str(a->ports[i].name, b->ports[i].name);
		assert_int_equal(a->ports[i].port, b->ports[i].port);
		assert_int_equal(a->ports[i].proto, b->ports[i].proto);
	}
}

/* Equal except for positions, which differ in the re-emitted text. */
static void eq_object(const struct object *a, const struct object *b)
{
	assert_int_equal(a->kind, b->kind);
	eq_str(a->ns, b->ns);
	eq_str(a->name, b->name);
	eq_str(a->creation, b->creation);
	switch (a->kind) {
	case OBJ_SERVICE:
		eq_service(&a->svc, &b->svc);
		break;
	case OBJ_ENDPOINT_SLICE:
		eq_eps(&a->eps, &b->eps);
		break;
	case OBJ_HTTP_ROUTE:
		eq_route(&a->route, &b->route);
		break;
	default:
		eq_str(a->enr.cgroup_path, b->enr.cgroup_path);
		eq_str(a->enr.netns_path, b->enr.netns_path);
		eq_str(a->enr.pod_ns, b->enr.pod_ns);
		eq_str(a->enr.pod_name, b->enr.pod_name);
	}
}

static char *join_yaml(const struct objvec *ov)
{
	size_t i, len = 1;
	char *out;

	for (i = 0; i < ov->n; i++)
		len += strlen(ov->v[i]->yaml) + 4;
	out = calloc(1, len);
	assert_non_null(out);
	for (i = 0; i < ov->n; i++) {
		if (i)
			strcat(out, "---\n");
		strcat(out, ov->v[i]->yaml);
	}
	return out;
}

static void test_round_trip(void **state)
{
	static const char *const files[] = {
		CANONICAL,	  DATA "bookinfo.yaml",
		DATA "kubectl-list.yaml", DATA "full-route.yaml",
		DATA "enrollments.yaml",
	};
	struct objvec a = { 0 }, b = { 0 }, c = { 0 };
	char *text, *text2;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		load_file_ok(files[i], &a);
	load_ok("apiVersion: v1\nkind: Service\n"
		"metadata:\n"
		"  name: quoting\n"
		"  annotations:\n"
		"    a: \"multi\\nline\"\n"
		"    b: '#not a comment'\n"
		"    c: \"tab\\there\"\n"
		"    d: !!str 5\n"
		"    e: \"\u00fc \\u00fc\"\n"
		"    f: |\n      literal\n      block\n"
		"    g: >-\n      folded\n      text\n"
		"spec: {ports: [{name: \"x80\", port: 80, targetPort: 'x80'}]}\n",
		&a);
	assert_int_equal(a.n, 12);
	text = join_yaml(&a);
	load_ok(text, &b);
	assert_int_equal(b.n, a.n);
	for (i = 0; i < a.n; i++)
		eq_object(a.v[i], b.v[i]);
	/* Re-emitting is a fixed point after one pass. */
	text2 = join_yaml(&b);
	assert_string_equal(text, text2);
	load_ok(text2, &c);
	for (i = 0; i < a.n; i++)
		assert_string_equal(b.v[i]->yaml, c.v[i]->yaml);
	assert_non_null(strstr(text, "targetPort: 'x80'"));
	assert_non_null(strstr(text, "d: '5'"));
	free(text);
	free(text2);
	objvec_free(&a);
	objvec_free(&b);
	objvec_free(&c);
}

/* ---- hostile input ------------------------------------------------------------ */

static void test_limit_bytes(void **state)
{
	static const char tiny[] = "a: b\n";

	/* The size is refused before a single byte is read. */
	expect_error_len(tiny, (size_t)LOAD_MAX_BYTES + 1,
			 "t.yaml:1:1: document 1: input of 67108865 bytes "
			 "exceeds the limit of 67108864 bytes");
}

static void test_limit_depth(void **state)
{
	char yaml[2 * LOAD_MAX_DEPTH + 8];
	size_t i;

	/* 64 levels are fine for the parser (the object is not). */
	for (i = 0; i < LOAD_MAX_DEPTH; i++)
		yaml[i] = '[';
	for (i = 0; i < LOAD_MAX_DEPTH; i++)
		yaml[LOAD_MAX_DEPTH + i] = ']';
	yaml[2 * LOAD_MAX_DEPTH] = '\0';
	expect_error(yaml, "t.yaml:1:1: document 1: a document must be a "
			   "Kubernetes object (a mapping), got a list");
	for (i = 0; i <= LOAD_MAX_DEPTH; i++)
		yaml[i] = '[';
	yaml[LOAD_MAX_DEPTH + 1] = '\0';
	expect_error(yaml,
		     "t.yaml:1:65: document 1: nesting deeper than 64 levels");
}

static void test_limit_scalar(void **state)
{
	size_t n = LOAD_MAX_SCALAR + 1;
	char *yaml = malloc(n + 8);

	assert_non_null(yaml);
	memcpy(yaml, "a: ", 3);
	memset(yaml + 3, 'x', n);
	strcpy(yaml + 3 + n, "\n");
	expect_error(yaml, "t.yaml:1:4: document 1: scalar of 1048577 bytes "
			   "exceeds the limit of 1048576");
	free(yaml);
}

static void test_limit_objects(void **state)
{
	static const char doc[] = "--- 0\n";
	size_t n = LOAD_MAX_OBJECTS + 1, dl = sizeof(doc) - 1, i;
	char *yaml = malloc(n * dl + 1);
	char msg[128];

	assert_non_null(yaml);
	for (i = 0; i < n; i++)
		memcpy(yaml + i * dl, doc, dl);
	yaml[n * dl] = '\0';
	snprintf(msg, sizeof(msg),
		 "t.yaml:%zu:5: document %zu: more than 1000000 objects", n, n);
	expect_error(yaml, msg);
	free(yaml);
}

static void test_limit_list_items(void **state)
{
	static const char head[] = "kind: List\nitems: [";
	size_t n = LOAD_MAX_OBJECTS, i, o = sizeof(head) - 1;
	char *yaml = malloc(o + 2 * n + 8);

	/* The document plus 1000000 items is one object too many. */
	assert_non_null(yaml);
	memcpy(yaml, head, o);
	for (i = 0; i < n; i++, o += 2)
		memcpy(yaml + o, "0,", 2);
	strcpy(yaml + o - 1, "]\n");
	expect_error(yaml, "t.yaml:2:2000007: document 1: more than 1000000 "
			   "objects");
	free(yaml);
}

static void test_limit_nodes(void **state)
{
	size_t n = LOAD_MAX_NODES, i, o = 1;
	char *yaml = malloc(2 * n + 8);

	assert_non_null(yaml);
	yaml[0] = '[';
	for (i = 0; i < n; i++, o += 2)
		memcpy(yaml + o, "a,", 2);
	strcpy(yaml + o - 1, "]\n");
	/* The list itself is a node: the last item is one too many. */
	expect_error(yaml, "t.yaml:1:8388608: document 1: document has more "
			   "than 4194304 YAML nodes");
	free(yaml);
}

/* Kubernetes has no limit on a Service's ports; ambit takes 1024. */
static void test_limit_service_ports(void **state)
{
	static const char head[] = "apiVersion: v1\nkind: Service\n"
				   "metadata: {name: s}\nspec: {ports: [";
	size_t o = sizeof(head) - 1, i;
	char *yaml = malloc(o + 1025 * 16 + 8);

	assert_non_null(yaml);
	memcpy(yaml, head, o);
	for (i = 0; i < 1025; i++)
		o += (size_t)sprintf(yaml + o, "{port: %zu},", i + 1);
	strcpy(yaml + o - 1, "]}\n");
	expect_error(yaml, "t.yaml:4:15: document 1: spec.ports: must have at "
			   "most 1024 items, got 1025");
	free(yaml);
}

static void test_alias_bomb(void **state)
{
	expect_error("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
		     "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		     "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		     "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
		     "t.yaml:2:8: document 1: YAML aliases are not supported");
	expect_error("apiVersion: v1\nkind: Service\n"
		     "metadata: {name: &n a, labels: {x: *n}}\n",
		     "t.yaml:3:36: document 1: YAML aliases are not supported");
}

/* ---- the malformed-input matrix -------------------------------------------------- */

#define ROUTE "apiVersion: gateway.networking.k8s.io/v1\n" \
	      "kind: HTTPRoute\nmetadata: {name: r}\nspec:\n"
#define SVC "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n"
#define EPS "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n" \
	    "metadata: {name: e, labels: {kubernetes.io/service-name: s}}\n"
#define ENR "apiVersion: ambit.io/v1alpha1\nkind: Enrollment\n" \
	    "metadata: {name: e}\n"
#define AT "t.yaml:"
#define RULE0 "document 1: spec.rules[0]."

struct bad_case {
	const char *what;
	const char *yaml;
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ "weight not a number",
	  ROUTE "  rules:\n  - backendRefs: [{name: b, port: 80, weight: abc}]\n",
	  AT "6:47: " RULE0 "backendRefs[0].weight: must be an integer "
	     "between 0 and 1000000, got \"abc\"" },
	{ "weight too large",
	  ROUTE "  rules:\n  - backendRefs: [{name: b, port: 80, weight: 2000000}]\n",
	  AT "6:47: " RULE0 "backendRefs[0].weight: must be an integer "
	     "between 0 and 1000000, got \"2000000\"" },
	{ "missing name",
	  "apiVersion: v1\nkind: Service\nmetadata: {namespace: x}\n",
	  AT "3:11: document 1: metadata.name: is required" },
	{ "invalid regex",
	  ROUTE "  rules:\n  - matches: [{path: {type: RegularExpression, value: \"(\"}}]\n",
	  AT "6:55: " RULE0 "matches[0].path.value: invalid regular "
	     "expression: missing closing parenthesis at offset 1" },
	{ "backendRef without port",
	  ROUTE "  rules:\n  - backendRefs: [{name: b}]\n",
	  AT "6:19: " RULE0 "backendRefs[0].port: is required for a Service "
	     "backend" },
	{ "bad IP",
	  SVC "  clusterIP: 10.0.0.256\n",
	  AT "5:14: document 1: spec.clusterIP: must be an IP address, got "
	     "\"10.0.0.256\"" },
	{ "SCTP",
	  SVC "  ports: [{port: 80, protocol: SCTP}]\n",
	  AT "5:32: document 1: spec.ports[0].protocol: SCTP is not supported "
	     "(only TCP and UDP)" },
	{ "tab indentation",
	  "apiVersion: v1\nkind: Service\nmetadata:\n\tname: x\n",
	  AT "4:1: document 1: while scanning for the next token: found "
	     "character that cannot start any token" },
	{ "unterminated quote",
	  "apiVersion: v1\nkind: \"Service\nmetadata: {name: x}\n",
	  AT "4:1: document 1: while scanning a quoted scalar: found "
	     "unexpected end of stream" },
	{ "invalid UTF-8",
	  "apiVersion: v1\nkind: \xff\n",
	  AT "2:7: document 1: invalid leading UTF-8 octet (byte 0xff)" },
	{ "scalar instead of list",
	  SVC "  ports: 5\n",
	  AT "5:10: document 1: spec.ports: must be a list, got \"5\"" },
	{ "list instead of mapping",
	  SVC "  ports: [[80]]\n",
	  AT "5:11: document 1: spec.ports[0]: must be a mapping, got a list" },
	{ "mapping instead of string",
	  "apiVersion: v1\nkind: Service\nmetadata: {name: {a: b}}\n",
	  AT "3:18: document 1: metadata.name: must be a string, got a "
	     "mapping" },
	{ "document is a list",
	  "- a\n- b\n",
	  AT "1:1: document 1: a document must be a Kubernetes object (a "
	     "mapping), got a list" },
	{ "ReplacePrefixMatch with an Exact match",
	  ROUTE "  rules:\n  - matches: [{path: {type: Exact, value: /a}}]\n"
		"    filters:\n    - type: URLRewrite\n      urlRewrite:\n"
		"        path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}\n"
		"    backendRefs: [{name: b, port: 80}]\n",
	  AT "10:22: " RULE0 "filters[0].urlRewrite.path.type: "
	     "ReplacePrefixMatch needs every match of the rule to be a "
	     "PathPrefix match" },
	{ "redirect with backendRefs",
	  ROUTE "  rules:\n  - filters:\n    - type: RequestRedirect\n"
		"      requestRedirect: {statusCode: 301}\n"
		"    backendRefs: [{name: b, port: 80}]\n",
	  AT "7:13: " RULE0 "filters[0].type: RequestRedirect filter cannot be "
	     "used together with backendRefs" },
	{ "redirect with URLRewrite",
	  ROUTE "  rules:\n  - filters:\n    - {type: URLRewrite, urlRewrite: {}}\n"
		"    - {type: RequestRedirect, requestRedirect: {}}\n",
	  AT "8:14: " RULE0 "filters[1].type: RequestRedirect and URLRewrite "
	     "filters cannot be used together" },
	{ "bad duration",
	  ROUTE "  rules:\n  - timeouts: {request: 10}\n",
	  AT "6:25: " RULE0 "timeouts.request: must be a Gateway API duration "
	     "such as \"10s\", \"500ms\" or \"1h30m\" (1 to 4 parts of up to 5 "
	     "digits and a unit h, m, s or ms; \"0s\" disables), got \"10\"" },
	{ "duration with 5 parts",
	  ROUTE "  rules:\n  - timeouts: {request: 1h1m1s1ms1s}\n",
	  AT "6:25: " RULE0 "timeouts.request: must be a Gateway API duration "
	     "such as \"10s\", \"500ms\" or \"1h30m\" (1 to 4 parts of up to 5 "
	     "digits and a unit h, m, s or ms; \"0s\" disables), got "
	     "\"1h1m1s1ms1s\"" },
	{ "backendRequest longer than request",
	  ROUTE "  rules:\n  - timeouts: {request: 1s, backendRequest: 2s}\n",
	  AT "6:45: " RULE0 "timeouts.backendRequest: must not be longer than "
	     "the request timeout" },
	{ "bad method",
	  ROUTE "  rules:\n  - matches: [{method: get}]\n",
	  AT "6:24: " RULE0 "matches[0].method: must be one of GET, HEAD, POST, "
	     "PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH; got \"get\"" },
	{ "bad status code",
	  ROUTE "  rules:\n  - filters: [{type: RequestRedirect, requestRedirect: {statusCode: 399}}]\n",
	  AT "6:69: " RULE0 "filters[0].requestRedirect.statusCode: must be one "
	     "of 301, 302, 303, 307 or 308, got \"399\"" },
	{ "unknown kind",
	  "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
	  AT "2:7: document 1: kind: unsupported kind \"Deployment\": ambit "
	     "reads Service, EndpointSlice, HTTPRoute, Enrollment, Pod and "
	     "Namespace" },
	{ "wrong apiVersion",
	  "apiVersion: v1\nkind: HTTPRoute\nmetadata: {name: r}\n",
	  AT "1:13: document 1: apiVersion: must be "
	     "\"gateway.networking.k8s.io/v1\" or "
	     "\"gateway.networking.k8s.io/v1beta1\" for kind HTTPRoute, got "
	     "\"v1\"" },
	{ "EndpointSlice without service-name",
	  "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	  "metadata: {name: e}\naddressType: IPv4\n",
	  AT "3:11: document 1: metadata.labels[\"kubernetes.io/service-name\"]: "
	     "is required" },
	{ "FQDN EndpointSlice",
	  EPS "addressType: FQDN\n",
	  AT "4:14: document 1: addressType: FQDN EndpointSlices are not "
	     "supported (only IPv4 and IPv6)" },
	{ "IPv6 address in an IPv4 slice",
	  EPS "addressType: IPv4\nendpoints: [{addresses: [10.0.0.1, \"fd00::1\"]}]\n",
	  AT "5:36: document 1: endpoints[0].addresses[1]: must be an IPv4 "
	     "address, got \"fd00::1\"" },
	{ "Enrollment with cgroup and netns",
	  ENR "spec: {cgroup: /sys/fs/cgroup/a, netns: /run/netns/a}\n",
	  AT "4:7: document 1: spec: exactly one of cgroup and netns must be "
	     "set" },
	{ "Enrollment with a relative path",
	  ENR "spec: {netns: run/netns/a}\n",
	  AT "4:15: document 1: spec.netns: must be an absolute path (at most "
	     "4095 characters), got \"run/netns/a\"" },
	{ "filter type without its config",
	  ROUTE "  rules:\n  - filters: [{type: RequestHeaderModifier}]\n",
	  AT "6:15: " RULE0 "filters[0].requestHeaderModifier: is required when "
	     "type is RequestHeaderModifier" },
	{ "config of another filter type",
	  ROUTE "  rules:\n  - filters: [{type: URLRewrite, urlRewrite: {}, requestRedirect: {}}]\n",
	  AT "6:67: " RULE0 "filters[0].requestRedirect: must not be set when "
	     "type is URLRewrite" },
	{ "filter repeated",
	  ROUTE "  rules:\n  - filters:\n"
		"    - {type: RequestHeaderModifier, requestHeaderModifier: {remove: [a]}}\n"
		"    - {type: RequestHeaderModifier, requestHeaderModifier: {remove: [b]}}\n",
	  AT "8:14: " RULE0 "filters[1].type: RequestHeaderModifier filter "
	     "cannot be repeated" },
	{ "unsupported filter type",
	  ROUTE "  rules:\n  - filters: [{type: CORS, cors: {}}]\n",
	  AT "6:22: " RULE0 "filters[0].type: CORS filters are not supported by "
	     "ambit" },
	{ "header value with CR LF",
	  ROUTE "  rules:\n  - filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x, value: \"a\\r\\nb: c\"}]}}]\n",
	  AT "6:92: " RULE0 "filters[0].requestHeaderModifier.set[0].value: "
	     "must not contain control characters, got \"a\\x0d\\x0ab: c\"" },
	{ "two actions for one header",
	  ROUTE "  rules:\n  - filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {set: [{name: X-A, value: a}], remove: [x-a]}}]\n",
	  AT "6:110: " RULE0 "filters[0].responseHeaderModifier.remove[0]: "
	     "header \"x-a\" already has an action in this filter (names are "
	     "case-insensitive)" },
	{ "duplicate header match",
	  ROUTE "  rules:\n  - matches: [{headers: [{name: X-A, value: a}, {name: x-a, value: b}]}]\n",
	  AT "6:56: " RULE0 "matches[0].headers[1].name: duplicate name \"x-a\" "
	     "(header names are case-insensitive)" },
	{ "bad header name",
	  ROUTE "  rules:\n  - matches: [{headers: [{name: \"a b\", value: a}]}]\n",
	  AT "6:33: " RULE0 "matches[0].headers[0].name: must be an HTTP header "
	     "name (1 to 256 letters, digits and !#$%&'*+-.^_`|~), got \"a b\"" },
	{ "path with //",
	  ROUTE "  rules:\n  - matches: [{path: {value: /a//b}}]\n",
	  AT "6:30: " RULE0 "matches[0].path.value: must not contain '//', "
	     "'/./' or '/../', nor end with '/.' or '/..', got \"/a//b\"" },
	{ "relative path",
	  ROUTE "  rules:\n  - matches: [{path: {type: Exact, value: a}}]\n",
	  AT "6:43: " RULE0 "matches[0].path.value: must be an absolute path "
	     "starting with '/', got \"a\"" },
	{ "too many backendRefs",
	  ROUTE "  rules:\n  - backendRefs: [{name: a, port: 1}, {name: a, port: 1},"
		" {name: a, port: 1}, {name: a, port: 1}, {name: a, port: 1},"
		" {name: a, port: 1}, {name: a, port: 1}, {name: a, port: 1},"
		" {name: a, port: 1}, {name: a, port: 1}, {name: a, port: 1},"
		" {name: a, port: 1}, {name: a, port: 1}, {name: a, port: 1},"
		" {name: a, port: 1}, {name: a, port: 1}, {name: a, port: 1}]\n",
	  AT "6:18: " RULE0 "backendRefs: must have at most 16 items, got 17" },
	{ "too many rules",
	  ROUTE "  rules: [{}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, "
		"{}, {}, {}, {}]\n",
	  AT "5:10: document 1: spec.rules: must have at most 16 items, got "
	     "17" },
	{ "empty rules",
	  ROUTE "  rules: []\n",
	  AT "5:10: document 1: spec.rules: must have at least one rule" },
	{ "port given as a string",
	  ROUTE "  rules:\n  - backendRefs: [{name: b, port: \"80\"}]\n",
	  AT "6:35: " RULE0 "backendRefs[0].port: must be an integer between 1 "
	     "and 65535, got string \"80\"" },
	{ "port given as a !!str",
	  SVC "  ports: [{port: !!str 80}]\n",
	  AT "5:18: document 1: spec.ports[0].port: must be an integer between "
	     "1 and 65535, got string \"80\"" },
	{ "parentRef port 0",
	  ROUTE "  parentRefs: [{name: p, port: 0}]\n",
	  AT "5:32: document 1: spec.parentRefs[0].port: must be an integer "
	     "between 1 and 65535, got \"0\"" },
	{ "bad targetPort name",
	  SVC "  ports: [{port: 80, targetPort: Http_Port}]\n",
	  AT "5:34: document 1: spec.ports[0].targetPort: must be a port number "
	     "or an IANA service name (a-z, 0-9 and '-', at least one letter, "
	     "no '--', at most 15 characters), got \"Http_Port\"" },
	{ "ports without names",
	  SVC "  ports: [{name: a, port: 80}, {port: 81}]\n",
	  AT "5:32: document 1: spec.ports[1].name: is required when the "
	     "Service has several ports" },
	{ "duplicate port name",
	  SVC "  ports: [{name: a, port: 80}, {name: a, port: 81}]\n",
	  AT "5:39: document 1: spec.ports[1].name: duplicate port name \"a\" "
	     "(spec.ports[0])" },
	{ "duplicate key",
	  "apiVersion: v1\nkind: Service\nmetadata: {name: a, name: b}\n",
	  AT "3:21: document 1: metadata.name: duplicate key (first at line 3)" },
	{ "invalid namespace",
	  "apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: Foo_Bar}\n",
	  AT "3:32: document 1: metadata.namespace: must be a lower-case RFC "
	     "1123 subdomain (a-z, 0-9, '-' and '.', starting and ending with a "
	     "letter or digit, at most 253 characters), got \"Foo_Bar\"" },
	{ "bad mode annotation",
	  "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
	  "metadata:\n  name: r\n  annotations: {ambit.io/mode: proxy}\n"
	  "spec: {}\n",
	  AT "5:32: document 1: metadata.annotations[\"ambit.io/mode\"]: must be "
	     "one of auto, l7; got \"proxy\"" },
	{ "mirror with percent and fraction",
	  ROUTE "  rules:\n  - filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m, port: 80}, percent: 5, fraction: {numerator: 1}}}]\n",
	  AT "6:108: " RULE0 "filters[0].requestMirror.fraction: only one of "
	     "percent and fraction may be set" },
	{ "fraction above 1",
	  ROUTE "  rules:\n  - filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m, port: 80}, fraction: {numerator: 3, denominator: 2}}}]\n",
	  AT "6:108: " RULE0 "filters[0].requestMirror.fraction.numerator: must "
	     "not be greater than the denominator (2)" },
	{ "hostname with upper case",
	  ROUTE "  hostnames: [Example.com]\n",
	  AT "5:15: document 1: spec.hostnames[0]: must be a lower-case "
	     "hostname, optionally prefixed by a \"*.\" wildcard label (a-z, "
	     "0-9, '-' and '.', at most 253 characters), got \"Example.com\"" },
	{ "duplicate rule name",
	  ROUTE "  rules: [{name: a}, {name: a}]\n",
	  AT "5:29: document 1: spec.rules[1].name: duplicate rule name \"a\" "
	     "(spec.rules[0])" },
	{ "non-mapping List item",
	  "apiVersion: v1\nkind: List\nitems:\n- 5\n",
	  AT "4:3: document 1: items[0]: must be a mapping, got \"5\"" },
	{ "error in a List item",
	  "apiVersion: v1\nkind: List\nitems:\n"
	  "- {apiVersion: v1, kind: Service, metadata: {name: a}}\n"
	  "- {apiVersion: v1, kind: Service, metadata: {name: b},"
	  " spec: {ports: [{port: 99999}]}}\n",
	  AT "5:78: document 1: spec.ports[0].port: must be an integer between "
	     "1 and 65535, got \"99999\"" },
	{ "error in the second document",
	  SVC "  clusterIP: 10.0.0.1\n---\n" SVC "  clusterIP: ::g\n",
	  AT "11:14: document 2: spec.clusterIP: must be an IP address, got "
	     "\"::g\"" },
	{ "syntax error in the second document",
	  SVC "  clusterIP: 10.0.0.1\n---\nkind: Service\nmetadata: {name: [b}\n",
	  AT "8:20: document 2: while parsing a flow sequence: did not find "
	     "expected ',' or ']'" },
	{ "complex mapping key",
	  "? [a, b]\n: c\n",
	  AT "1:3: document 1: mapping keys must be scalars (strings)" },
	{ "NUL in a string",
	  "apiVersion: v1\nkind: Service\nmetadata: {name: \"a\\0b\"}\n",
	  AT "3:18: document 1: metadata.name: must not contain NUL characters" },
	{ "ready not a bool",
	  EPS "addressType: IPv4\nendpoints: [{addresses: [10.0.0.1], conditions: {ready: yes}}]\n",
	  AT "5:57: document 1: endpoints[0].conditions.ready: must be true or "
	     "false, got \"yes\"" },
};

static void test_bad_input(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		print_message("case: %s\n", bad_cases[i].what);
		expect_error(bad_cases[i].yaml, bad_cases[i].msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_route),
		cmocka_unit_test(test_service),
		cmocka_unit_test(test_service_defaults),
		cmocka_unit_test(test_endpoint_slice),
		cmocka_unit_test(test_endpoint_slice_v6),
		cmocka_unit_test(test_enrollment),
		cmocka_unit_test(test_kubectl_list),
		cmocka_unit_test(test_multi_document),
		cmocka_unit_test(test_full_route),
		cmocka_unit_test(test_route_defaults),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_appends_and_all_or_nothing),
		cmocka_unit_test(test_reports_every_error),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_limit_bytes),
		cmocka_unit_test(test_limit_depth),
		cmocka_unit_test(test_limit_scalar),
		cmocka_unit_test(test_limit_objects),
		cmocka_unit_test(test_limit_list_items),
		cmocka_unit_test(test_limit_nodes),
		cmocka_unit_test(test_limit_service_ports),
		cmocka_unit_test(test_alias_bomb),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
