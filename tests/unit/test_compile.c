// SPDX-License-Identifier: Apache-2.0
/* The compiler: configurations in, data plane images out (no BPF, no root). */
#include <arpa/inet.h>
#include <linux/types.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compile.h"
#include "load.h"
#include "model.h"

#define BASE                                                                   \
	"apiVersion: v1\nkind: Service\nmetadata: {name: reviews}\n"           \
	"spec: {clusterIP: 127.96.0.10, ports: [{name: http, port: 9080}]}\n"  \
	"---\napiVersion: v1\nkind: Service\nmetadata: {name: v1}\n"          \
	"spec: {clusterIP: 127.96.1.1, ports: [{name: http, port: 9080, "      \
	"targetPort: web}]}\n"                                                 \
	"---\napiVersion: v1\nkind: Service\nmetadata: {name: v2}\n"          \
	"spec: {clusterIP: 127.96.1.2, ports: [{name: http, port: 9080}]}\n"   \
	"---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"         \
	"metadata: {name: v1-a, labels: {kubernetes.io/service-name: v1}}\n"   \
	"addressType: IPv4\nports: [{name: http, port: 8080}]\n"               \
	"endpoints: [{addresses: [127.0.1.2]}, {addresses: [127.0.1.1]},"      \
	" {addresses: [127.0.1.9], conditions: {ready: false}}]\n"             \
	"---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"         \
	"metadata: {name: v1-b, labels: {kubernetes.io/service-name: v1}}\n"   \
	"addressType: IPv4\nports: [{name: http, port: 8080}]\n"               \
	"endpoints: [{addresses: [127.0.1.1]}]\n"                              \
	"---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"         \
	"metadata: {name: v2-a, labels: {kubernetes.io/service-name: v2}}\n"   \
	"addressType: IPv4\nports: [{name: http, port: 9080}]\n"               \
	"endpoints: [{addresses: [127.0.2.1]}]\n"

#define ROUTE_HEAD(name, ts)                                                   \
	"---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"    \
	"metadata: {name: " name ", creationTimestamp: \"" ts "\"}\n"         \
	"spec:\n  parentRefs: [{group: \"\", kind: Service, name: reviews}]\n" \
	"  rules:\n"

struct fixture {
	struct objvec objs;
	struct image img;
};

static struct fixture fx;

static void compile_yaml(const char *yaml)
{
	struct diags d = {};
	int err = model_load("test.yaml", yaml, strlen(yaml), &fx.objs, &d);

	if (err) {
		char *t = diags_join(&d);

		fprintf(stderr, "load failed:\n%s", t);
		free(t);
	}
	assert_int_equal(err, 0);
	for (size_t i = 0; i < fx.objs.n; i++)
		fx.objs.v[i]->seq = i;
	assert_int_equal(compile_image(&fx.objs, &fx.img), 0);
	diags_free(&d);
}

static int teardown(void **state)
{
	image_free(&fx.img);
	objvec_free(&fx.objs);
	return 0;
}

static const struct img_service *svc_at(const char *ip, __u16 port, __u8 proto)
{
	struct ambit_svc_key k = { .port = htons(port), .proto = proto };

	if (strchr(ip, ':')) {
		k.family = AMBIT_FAMILY_V6;
		inet_pton(AF_INET6, ip, k.addr);
	} else {
		k.family = AMBIT_FAMILY_V4;
		inet_pton(AF_INET, ip, k.addr);
	}
	return image_find(&fx.img, &k);
}

static const char *ep(const struct img_version *v, size_t i)
{
	static char buf[64];

	return ep_str(&v->eps[i], buf, sizeof(buf));
}

static void test_service_without_route(void **state)
{
	const struct img_service *s;

	compile_yaml(BASE);
	s = svc_at("127.96.1.1", 9080, IPPROTO_TCP);
	assert_non_null(s);
	assert_false(s->l7);
	assert_null(s->route);
	assert_int_equal(s->n_versions, 1);
	/* Ready only, deduplicated across slices, sorted; the named
	 * targetPort resolves through the slice's port of the same name. */
	assert_int_equal(s->versions[0].n_eps, 2);
	assert_string_equal(ep(&s->versions[0], 0), "127.0.1.1:8080");
	assert_string_equal(ep(&s->versions[0], 1), "127.0.1.2:8080");
	s = svc_at("127.96.0.10", 9080, IPPROTO_TCP);
	assert_non_null(s);
	assert_int_equal(s->versions[0].n_eps, 0); /* no slices: refused */
}

static void test_weighted_route_is_l4(void **state)
{
	struct ambit_svc_val val;
	const struct img_service *s;

	compile_yaml(BASE ROUTE_HEAD("r", "2024-01-01T00:00:00Z")
		     "  - matches: [{path: {type: PathPrefix, value: /}}]\n"
		     "    backendRefs: [{name: v1, port: 9080, weight: 70},"
		     " {name: v2, port: 9080, weight: 30},"
		     " {name: v2, port: 9080, weight: 0}]\n");
	s = svc_at("127.96.0.10", 9080, IPPROTO_TCP);
	assert_false(s->l7);
	assert_int_equal(s->n_versions, 3);
	assert_int_equal(s->total_weight, 100);
	svc_val_from_image(s, &val);
	assert_int_equal(val.versions[0].cum_weight, 70);
	assert_int_equal(val.versions[1].cum_weight, 100);
	assert_int_equal(val.versions[2].cum_weight, 100);
	assert_int_equal(val.versions[0].n_endpoints, 2);
	assert_string_equal(ep(&s->versions[1], 0), "127.0.2.1:9080");
}

static void expect_l7(const char *rule, const char *why)
{
	const struct img_service *s;

	compile_yaml(rule);
	s = svc_at("127.96.0.10", 9080, IPPROTO_TCP);
	assert_true(s->l7);
	assert_string_equal(s->l7_reason, why);
	teardown(NULL);
}

static void test_inspection_makes_l7(void **state)
{
	expect_l7(BASE ROUTE_HEAD("r", "2024-01-01T00:00:00Z")
		  "  - matches: [{headers: [{name: x, value: y}]}]\n"
		  "    backendRefs: [{name: v2, port: 9080}]\n",
		  "a rule matches on the request");
	expect_l7(BASE ROUTE_HEAD("r", "2024-01-01T00:00:00Z")
		  "  - filters: [{type: RequestHeaderModifier, "
		  "requestHeaderModifier: {add: [{name: a, value: b}]}}]\n"
		  "    backendRefs: [{name: v2, port: 9080}]\n",
		  "a rule has filters");
	expect_l7(BASE ROUTE_HEAD("r", "2024-01-01T00:00:00Z")
		  "  - timeouts: {request: 5s}\n"
		  "    backendRefs: [{name: v2, port: 9080}]\n",
		  "a rule has timeouts");
	expect_l7(BASE "---\napiVersion: gateway.networking.k8s.io/v1\n"
		  "kind: HTTPRoute\nmetadata: {name: r, annotations: "
		  "{ambit.io/mode: l7}}\nspec:\n  parentRefs: [{group: \"\", "
		  "kind: Service, name: reviews}]\n  rules:\n"
		  "  - backendRefs: [{name: v2, port: 9080}]\n",
		  "annotation ambit.io/mode: l7");
	expect_l7(BASE "---\napiVersion: gateway.networking.k8s.io/v1\n"
		  "kind: HTTPRoute\nmetadata: {name: r, namespace: client-ns}\n"
		  "spec:\n  parentRefs: [{group: \"\", kind: Service, "
		  "name: reviews, namespace: default}]\n  rules:\n"
		  "  - backendRefs: [{name: v2, namespace: default, port: 9080}]\n",
		  "consumer route (per-client routing)");
}

static void test_oldest_route_wins(void **state)
{
	const struct img_service *s;

	compile_yaml(BASE ROUTE_HEAD("b-new", "2024-06-01T00:00:00Z")
		     "  - backendRefs: [{name: v1, port: 9080}]\n"
		     ROUTE_HEAD("z-old", "2024-01-01T00:00:00Z")
		     "  - backendRefs: [{name: v2, port: 9080}]\n"
		     "  - backendRefs: [{name: v1, port: 9080}]\n");
	s = svc_at("127.96.0.10", 9080, IPPROTO_TCP);
	assert_string_equal(s->route->name, "z-old");
	assert_int_equal(s->rule, 0);
	assert_string_equal(s->versions[0].name, "v2");
	teardown(NULL);
	/* Same age: namespace/name order decides. */
	compile_yaml(BASE ROUTE_HEAD("b", "2024-01-01T00:00:00Z")
		     "  - backendRefs: [{name: v1, port: 9080}]\n"
		     ROUTE_HEAD("a", "2024-01-01T00:00:00Z")
		     "  - backendRefs: [{name: v2, port: 9080}]\n");
	assert_string_equal(svc_at("127.96.0.10", 9080, IPPROTO_TCP)->route->name, "a");
}

static void test_parent_port_and_udp(void **state)
{
	const struct img_service *s;

	compile_yaml("apiVersion: v1\nkind: Service\nmetadata: {name: reviews}\n"
		     "spec: {clusterIP: 127.96.0.10, ports: [{name: a, port: 80},"
		     " {name: b, port: 81}, {name: d, port: 53, protocol: UDP}]}\n"
		     "---\napiVersion: v1\nkind: Service\nmetadata: {name: v2}\n"
		     "spec: {clusterIP: 127.96.1.2, ports: [{port: 9080}]}\n"
		     "---\napiVersion: gateway.networking.k8s.io/v1\n"
		     "kind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: "
		     "[{group: \"\", kind: Service, name: reviews, port: 81}]\n"
		     "  rules:\n  - backendRefs: [{name: v2, port: 9080}]\n");
	s = svc_at("127.96.0.10", 80, IPPROTO_TCP);
	assert_null(s->route); /* the route names port 81 only */
	s = svc_at("127.96.0.10", 81, IPPROTO_TCP);
	assert_string_equal(s->route->name, "r");
	s = svc_at("127.96.0.10", 53, IPPROTO_UDP);
	assert_non_null(s);
	assert_null(s->route); /* HTTPRoutes never attach to UDP */
}

static void test_unresolved_status(void **state)
{
	const struct img_service *s;
	size_t i, n = 0;

	compile_yaml(BASE ROUTE_HEAD("r", "2024-01-01T00:00:00Z")
		     "  - backendRefs: [{name: gone, port: 9080, weight: 1},"
		     " {name: v2, port: 9080, weight: 1}]\n"
		     "---\napiVersion: gateway.networking.k8s.io/v1\n"
		     "kind: HTTPRoute\nmetadata: {name: orphan}\nspec:\n"
		     "  parentRefs: [{group: \"\", kind: Service, name: nosuch}]\n"
		     "  rules:\n  - backendRefs: [{name: v2, port: 9080}]\n");
	s = svc_at("127.96.0.10", 9080, IPPROTO_TCP);
	assert_non_null(s->versions[0].unresolved);
	assert_null(s->versions[1].unresolved);
	for (i = 0; i < fx.img.n_status; i++) {
		const struct route_status *st = &fx.img.status[i];

		n++;
		if (!strcmp(st->route->name, "r")) {
			assert_true(st->accepted);
			assert_false(st->resolved);
			assert_string_equal(st->resolved_reason, "BackendNotFound");
			assert_non_null(strstr(st->message, "default/gone"));
		} else {
			assert_false(st->accepted);
			assert_string_equal(st->accepted_reason, "NoMatchingParent");
		}
	}
	assert_int_equal(n, 2);
}

static void test_dual_stack(void **state)
{
	const struct img_service *s4, *s6;

	compile_yaml("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
		     "spec: {clusterIPs: [127.96.0.7, \"fd00:96::7\"], "
		     "ports: [{port: 80, targetPort: 8080}]}\n"
		     "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		     "metadata: {name: w4, labels: {kubernetes.io/service-name: web}}\n"
		     "addressType: IPv4\nports: [{port: 8080}]\n"
		     "endpoints: [{addresses: [127.0.0.7]}]\n"
		     "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
		     "metadata: {name: w6, labels: {kubernetes.io/service-name: web}}\n"
		     "addressType: IPv6\nports: [{port: 8080}]\n"
		     "endpoints: [{addresses: [\"fd00:a5::7\"]}]\n");
	s4 = svc_at("127.96.0.7", 80, IPPROTO_TCP);
	s6 = svc_at("fd00:96::7", 80, IPPROTO_TCP);
	assert_non_null(s4);
	assert_non_null(s6);
	assert_int_equal(s4->versions[0].n_eps, 1);
	assert_int_equal(s6->versions[0].n_eps, 1);
	assert_string_equal(ep(&s4->versions[0], 0), "127.0.0.7:8080");
	assert_string_equal(ep(&s6->versions[0], 0), "[fd00:a5::7]:8080");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_service_without_route, teardown),
		cmocka_unit_test_teardown(test_weighted_route_is_l4, teardown),
		cmocka_unit_test_teardown(test_inspection_makes_l7, teardown),
		cmocka_unit_test_teardown(test_oldest_route_wins, teardown),
		cmocka_unit_test_teardown(test_parent_port_and_udp, teardown),
		cmocka_unit_test_teardown(test_unresolved_status, teardown),
		cmocka_unit_test_teardown(test_dual_stack, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
