// SPDX-License-Identifier: Apache-2.0
/*
 * model_validate(), model_find() and service_port(): cross-object checks
 * over configurations loaded with model_load(). Every error is checked to
 * the exact message, including the position of the reference or object.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "load.h"
#include "model.h"
#include "validate.h"

#define SVC(name, extra)                                                      \
	"apiVersion: v1\nkind: Service\nmetadata: {name: " name "}\n"       \
	"spec: {ports: [{name: http, port: 80}, {name: admin, port: 9000}]" \
	extra "}\n"

/* The reviews route of the Gateway API docs, in ns default. */
#define ROUTE_HEAD                                              \
	"apiVersion: gateway.networking.k8s.io/v1\n"            \
	"kind: HTTPRoute\nmetadata: {name: r}\nspec:\n"

static void load(const char *file, const char *yaml, struct objvec *ov)
{
	struct diags d = { 0 };
	int err = model_load(file, yaml, strlen(yaml), ov, &d);
	size_t i;

	for (i = 0; i < d.n; i++)
		print_message("  load: %s\n", d.msgs[i]);
	assert_int_equal(err, 0);
	diags_free(&d);
}

/* Validate @ov: the messages must be exactly @want (NULL-terminated). */
static void expect(const struct objvec *ov, bool allow_unresolved,
		   const char *const *want)
{
	struct validate_opts o = { .allow_unresolved = allow_unresolved };
	struct diags d = { 0 };
	size_t i, n = 0;
	int err;

	while (want[n])
		n++;
	err = model_validate(ov, &o, &d);
	for (i = 0; i < d.n && (d.n != n || strcmp(d.msgs[i], want[i])); i++)
		print_message("  diag: %s\n", d.msgs[i]);
	assert_int_equal(err, n ? -EINVAL : 0);
	assert_int_equal(d.n, n);
	for (i = 0; i < n; i++)
		assert_string_equal(d.msgs[i], want[i]);
	diags_free(&d);
}

/* Services s (ns default) and t (ns other), plus one route. */
static void with_route(const char *route_spec, struct objvec *ov)
{
	char yaml[2048];

	load("svc.yaml",
	     SVC("s", ", clusterIP: 10.0.0.1") "---\n"
	     "apiVersion: v1\nkind: Service\n"
	     "metadata: {name: t, namespace: other}\n"
	     "spec: {ports: [{port: 8080}]}\n", ov);
	snprintf(yaml, sizeof(yaml), ROUTE_HEAD "%s", route_spec);
	load("r.yaml", yaml, ov);
}

static void test_valid(void **state)
{
	static const char *const none[] = { NULL };
	struct objvec ov = { 0 };

	with_route("  parentRefs:\n"
		   "  - {group: \"\", kind: Service, name: s, port: 80}\n"
		   "  - {group: \"\", kind: Service, name: s, sectionName: admin}\n"
		   "  - {group: \"\", kind: Service, name: t, namespace: other}\n"
		   "  rules:\n"
		   "  - backendRefs:\n"
		   "    - {name: s, port: 9000}\n"
		   "    - {name: t, namespace: other, port: 8080}\n"
		   "    filters:\n"
		   "    - type: RequestMirror\n"
		   "      requestMirror: {backendRef: {name: s, port: 80}}\n",
		   &ov);
	expect(&ov, false, none);
	objvec_free(&ov);
}

static void test_empty(void **state)
{
	static const char *const none[] = { NULL };
	struct objvec ov = { 0 };

	expect(&ov, false, none);
}

static void test_parent_not_service(void **state)
{
	static const char *const want[] = {
		"r.yaml:6:5: document 1: spec.parentRefs[0].kind: ambit "
		"implements only the mesh (GAMMA) case: a parentRef must be a "
		"Service (group \"\", kind Service), got group \"apps\" kind "
		"\"Deployment\"",
		"r.yaml:7:5: document 1: spec.parentRefs[1].kind: ambit "
		"implements only the mesh (GAMMA) case: a parentRef must be a "
		"Service (group \"\", kind Service), got group "
		"\"gateway.networking.k8s.io\" kind \"Gateway\"",
		"r.yaml:8:5: document 1: spec.parentRefs[2].kind: ambit "
		"implements only the mesh (GAMMA) case: a parentRef must be a "
		"Service (group \"\", kind Service), got group "
		"\"gateway.networking.k8s.io\" kind \"Service\"",
		NULL
	};
	struct objvec ov = { 0 };

	with_route("  parentRefs:\n"
		   "  - {group: apps, kind: Deployment, name: s}\n"
		   "  - {name: gw}\n"
		   "  - {kind: Service, name: s}\n",
		   &ov);
	/* Not a matter of resolution: refused either way. */
	expect(&ov, false, want);
	expect(&ov, true, want);
	objvec_free(&ov);
}

static void test_parent_unresolved(void **state)
{
	static const char *const want[] = {
		"r.yaml:6:5: document 1: spec.parentRefs[0].name: Service "
		"\"default/nope\" not found",
		"r.yaml:7:5: document 1: spec.parentRefs[1].port: Service "
		"\"default/s\" has no port 81",
		"r.yaml:8:5: document 1: spec.parentRefs[2].sectionName: "
		"Service \"default/s\" has no port named \"grpc\"",
		"r.yaml:9:5: document 1: spec.parentRefs[3].sectionName: port "
		"\"admin\" of Service \"default/s\" is 9000, not 80",
		"r.yaml:10:5: document 1: spec.parentRefs[4].name: Service "
		"\"default/t\" not found",
		NULL
	};
	static const char *const none[] = { NULL };
	struct objvec ov = { 0 };

	with_route("  parentRefs:\n"
		   "  - {group: \"\", kind: Service, name: nope}\n"
		   "  - {group: \"\", kind: Service, name: s, port: 81}\n"
		   "  - {group: \"\", kind: Service, name: s, sectionName: grpc}\n"
		   "  - {group: \"\", kind: Service, name: s, port: 80, sectionName: admin}\n"
		   "  - {group: \"\", kind: Service, name: t}\n",
		   &ov);
	expect(&ov, false, want);
	expect(&ov, true, none);
	objvec_free(&ov);
}

static void test_backend_unresolved(void **state)
{
	static const char *const want[] = {
		"r.yaml:8:7: document 1: spec.rules[0].backendRefs[0].name: "
		"Service \"default/missing\" not found",
		"r.yaml:9:7: document 1: spec.rules[0].backendRefs[1].port: "
		"Service \"default/s\" has no port 81",
		"r.yaml:10:7: document 1: spec.rules[0].backendRefs[2].name: "
		"Service \"default/t\" not found",
		"r.yaml:11:7: document 1: spec.rules[0].backendRefs[3].port: "
		"Service \"other/t\" has no port 80",
		NULL
	};
	static const char *const none[] = { NULL };
	struct objvec ov = { 0 };

	with_route("  parentRefs: [{group: \"\", kind: Service, name: s}]\n"
		   "  rules:\n"
		   "  - backendRefs:\n"
		   "    - {name: missing, port: 80}\n"
		   "    - {name: s, port: 81}\n"
		   "    - {name: t, port: 8080}\n"
		   "    - {name: t, namespace: other, port: 80}\n",
		   &ov);
	expect(&ov, false, want);
	expect(&ov, true, none);
	objvec_free(&ov);
}

static void test_backend_not_service(void **state)
{
	static const char *const want[] = {
		"r.yaml:9:7: document 1: spec.rules[0].backendRefs[1].kind: "
		"only Service backends are supported (group \"\", kind Service), "
		"got group \"example.com\" kind \"Bucket\"",
		"r.yaml:10:7: document 1: spec.rules[0].backendRefs[2].kind: "
		"only Service backends are supported (group \"\", kind Service), "
		"got group \"multicluster.x-k8s.io\" kind \"ServiceImport\"",
		NULL
	};
	struct objvec ov = { 0 };

	with_route("  parentRefs: [{group: \"\", kind: Service, name: s}]\n"
		   "  rules:\n"
		   "  - backendRefs:\n"
		   "    - {name: s, port: 80}\n"
		   "    - {group: example.com, kind: Bucket, name: b}\n"
		   "    - {group: multicluster.x-k8s.io, kind: ServiceImport, name: s, port: 80}\n",
		   &ov);
	expect(&ov, false, want);
	expect(&ov, true, want);
	objvec_free(&ov);
}

static void test_mirror_backends(void **state)
{
	static const char *const want[] = {
		"r.yaml:9:35: document 1: "
		"spec.rules[0].filters[0].requestMirror.backendRef.name: "
		"Service \"default/gone\" not found",
		"r.yaml:15:37: document 1: "
		"spec.rules[0].backendRefs[0].filters[0].requestMirror.backendRef"
		".port: Service \"default/s\" has no port 1",
		NULL
	};
	struct objvec ov = { 0 };

	with_route("  parentRefs: [{group: \"\", kind: Service, name: s}]\n"
		   "  rules:\n"
		   "  - filters:\n"
		   "    - type: RequestMirror\n"
		   "      requestMirror: {backendRef: {name: gone, port: 80}}\n"
		   "    backendRefs:\n"
		   "    - name: s\n"
		   "      port: 80\n"
		   "      filters:\n"
		   "      - type: RequestMirror\n"
		   "        requestMirror: {backendRef: {name: s, port: 1}}\n",
		   &ov);
	expect(&ov, false, want);
	objvec_free(&ov);
}

/* A route's references default to the route's own namespace. */
static void test_route_namespace(void **state)
{
	static const char *const want[] = {
		"r.yaml:5:16: document 1: spec.parentRefs[0].name: Service "
		"\"other/s\" not found",
		NULL
	};
	struct objvec ov = { 0 };

	load("svc.yaml", SVC("s", ""), &ov);
	load("svc2.yaml",
	     "apiVersion: v1\nkind: Service\n"
	     "metadata: {name: t, namespace: other}\n"
	     "spec: {ports: [{port: 8080}]}\n", &ov);
	load("r.yaml",
	     "apiVersion: gateway.networking.k8s.io/v1\n"
	     "kind: HTTPRoute\nmetadata: {name: r, namespace: other}\nspec:\n"
	     "  parentRefs: [{group: \"\", kind: Service, name: s}]\n"
	     "  rules: [{backendRefs: [{name: t, port: 8080}]}]\n", &ov);
	expect(&ov, false, want);
	objvec_free(&ov);
}

static void test_duplicates(void **state)
{
	static const char *const want[] = {
		"b.yaml:5:1: document 2: metadata.name: duplicate Service "
		"\"default/s\": first defined at a.yaml:1:1 (document 1)",
		"b.yaml:10:1: document 3: metadata.name: duplicate Service "
		"\"default/s\": first defined at a.yaml:1:1 (document 1)",
		"b.yaml:20:1: document 5: metadata.name: duplicate Enrollment "
		"\"default/e\": first defined at b.yaml:15:1 (document 4)",
		NULL
	};
	static const char *const enr =
		"apiVersion: ambit.io/v1alpha1\nkind: Enrollment\n"
		"metadata: {name: e}\n";
	struct objvec ov = { 0 };
	char yaml[1024];

	load("a.yaml", SVC("s", ""), &ov);
	/* Same names in other kinds or namespaces are not duplicates. */
	snprintf(yaml, sizeof(yaml),
		 "apiVersion: v1\nkind: Service\n"
		 "metadata: {name: s, namespace: x}\n"
		 "---\n" SVC("s", ", clusterIP: 10.0.0.9")
		 "---\n" SVC("s", "")
		 "---\n%sspec: {cgroup: /a}\n"
		 "---\n%sspec: {cgroup: /b}\n"
		 "---\n"
		 "apiVersion: gateway.networking.k8s.io/v1\n"
		 "kind: HTTPRoute\nmetadata: {name: s}\nspec: {}\n",
		 enr, enr);
	load("b.yaml", yaml, &ov);
	expect(&ov, true, want);
	objvec_free(&ov);
}

static void test_enrollment_conflicts(void **state)
{
	static const char *const want[] = {
		"e.yaml:6:1: document 2: spec.cgroup: cgroup \"/sys/fs/cgroup/p1\" "
		"is already enrolled by Enrollment \"default/a\" at e.yaml:1:1 "
		"(document 1)",
		"e.yaml:21:1: document 5: spec.netns: netns \"/run/netns/n1\" is "
		"already enrolled by Enrollment \"default/d\" at e.yaml:16:1 "
		"(document 4)",
		NULL
	};
	struct objvec ov = { 0 };

#define ENR(name, spec)                                                  \
	"apiVersion: ambit.io/v1alpha1\nkind: Enrollment\n"             \
	"metadata: {name: " name "}\nspec: " spec "\n"
	load("e.yaml",
	     ENR("a", "{cgroup: /sys/fs/cgroup/p1}") "---\n"
	     ENR("b", "{cgroup: /sys/fs/cgroup/p1}") "---\n"
	     ENR("c", "{cgroup: /sys/fs/cgroup/p2}") "---\n"
	     ENR("d", "{netns: /run/netns/n1}") "---\n"
	     ENR("e", "{netns: /run/netns/n1}") "---\n"
	     /* A netns path equal to a cgroup path is not a conflict. */
	     ENR("f", "{netns: /sys/fs/cgroup/p2}"),
	     &ov);
#undef ENR
	expect(&ov, true, want);
	objvec_free(&ov);
}

static void test_cluster_ip_conflicts(void **state)
{
	static const char *const want[] = {
		"s.yaml:6:1: document 2: spec.clusterIP: clusterIP 10.0.0.1 is "
		"already used by Service \"default/a\" at s.yaml:1:1 (document 1)",
		"s.yaml:11:1: document 3: spec.clusterIP: clusterIP 10.0.0.1 is "
		"already used by Service \"default/a\" at s.yaml:1:1 (document 1)",
		"s.yaml:21:1: document 5: spec.clusterIP: clusterIP fd00::1 is "
		"already used by Service \"default/d\" at s.yaml:16:1 (document 4)",
		NULL
	};
	struct objvec ov = { 0 };

#define S(name, spec)                                                   \
	"apiVersion: v1\nkind: Service\nmetadata: {name: " name "}\n"  \
	"spec: " spec "\n"
	load("s.yaml",
	     S("a", "{clusterIP: 10.0.0.1}") "---\n"
	     S("b", "{clusterIP: 10.0.0.1}") "---\n"
	     S("c", "{clusterIPs: [10.0.0.1]}") "---\n"
	     S("d", "{clusterIPs: [10.0.0.2, \"fd00::1\"]}") "---\n"
	     S("e", "{clusterIP: \"fd00:0::1\"}") "---\n"
	     S("f", "{clusterIP: None}") "---\n"
	     S("g", "{clusterIP: None}"),
	     &ov);
#undef S
	expect(&ov, true, want);
	objvec_free(&ov);
}

static void test_find(void **state)
{
	const struct object *o;
	struct objvec ov = { 0 };

	load("a.yaml",
	     SVC("s", "") "---\n"
	     "apiVersion: v1\nkind: Service\n"
	     "metadata: {name: s, namespace: other}\n"
	     "spec: {ports: [{port: 53, protocol: UDP}]}\n", &ov);
	o = model_find(&ov, OBJ_SERVICE, NULL, "s");
	assert_ptr_equal(o, ov.v[0]);
	assert_ptr_equal(model_find(&ov, OBJ_SERVICE, "default", "s"), o);
	assert_ptr_equal(model_find(&ov, OBJ_SERVICE, "other", "s"), ov.v[1]);
	assert_null(model_find(&ov, OBJ_HTTP_ROUTE, NULL, "s"));
	assert_null(model_find(&ov, OBJ_SERVICE, "nope", "s"));
	assert_ptr_equal(service_port(&o->svc, 9000), &o->svc.ports[1]);
	assert_null(service_port(&o->svc, 53));
	assert_int_equal(service_port(&ov.v[1]->svc, 53)->proto, 17);
	assert_string_equal(obj_kind_name(OBJ_SERVICE), "Service");
	assert_string_equal(obj_kind_name(OBJ_ENDPOINT_SLICE), "EndpointSlice");
	assert_string_equal(obj_kind_name(OBJ_HTTP_ROUTE), "HTTPRoute");
	assert_string_equal(obj_kind_name(OBJ_ENROLLMENT), "Enrollment");
	assert_string_equal(obj_kind_name(0), "unknown");
	obj_free(NULL);
	objvec_free(&ov);
}

/* The canonical route with the bookinfo Services: the whole demo. */
static void test_bookinfo(void **state)
{
	static const char *const none[] = { NULL };
	static const char *const files[] = {
		"tests/data/canonical-route.yaml",
		"tests/unit/data/bookinfo.yaml",
	};
	struct objvec ov = { 0 };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct diags d = { 0 };
		FILE *f = fopen(files[i], "rb");
		char buf[8192];
		size_t len;

		assert_non_null(f);
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		assert_int_equal(model_load(files[i], buf, len, &ov, &d), 0);
	}
	expect(&ov, false, none);
	objvec_free(&ov);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_parent_not_service),
		cmocka_unit_test(test_parent_unresolved),
		cmocka_unit_test(test_backend_unresolved),
		cmocka_unit_test(test_backend_not_service),
		cmocka_unit_test(test_mirror_backends),
		cmocka_unit_test(test_route_namespace),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_enrollment_conflicts),
		cmocka_unit_test(test_cluster_ip_conflicts),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_bookinfo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
