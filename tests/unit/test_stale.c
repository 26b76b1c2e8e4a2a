// SPDX-License-Identifier: Apache-2.0
/* Stale backends: which (service port, endpoint) pairs a change takes away. */
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
#include "stale.h"

/* shop: VIP 127.96.0.10 -> route over v1 (127.96.1.1) and v2; "other"
 * shares v1's endpoint 127.0.1.1; dns is UDP. */
#define SVCS                                                                   \
	"apiVersion: v1\nkind: Service\nmetadata: {name: shop}\n"              \
	"spec: {clusterIP: 127.96.0.10, ports: [{port: 9080}]}\n"              \
	"---\napiVersion: v1\nkind: Service\nmetadata: {name: v1}\n"          \
	"spec: {clusterIP: 127.96.1.1, ports: [{port: 9080}]}\n"               \
	"---\napiVersion: v1\nkind: Service\nmetadata: {name: v2}\n"          \
	"spec: {clusterIP: 127.96.1.2, ports: [{port: 9080}]}\n"               \
	"---\napiVersion: v1\nkind: Service\nmetadata: {name: other}\n"       \
	"spec: {clusterIP: 127.96.1.3, ports: [{port: 9080}]}\n"               \
	"---\napiVersion: v1\nkind: Service\nmetadata: {name: dns}\n"         \
	"spec: {clusterIP: 127.96.0.53, ports: [{port: 53, protocol: UDP}]}\n"

#define SLICE(name, svc, proto, port, addrs)                                   \
	"---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"         \
	"metadata: {name: " name ", labels: {kubernetes.io/service-name: "     \
	svc "}}\naddressType: IPv4\nports: [{port: " port ", protocol: "       \
	proto "}]\nendpoints: [" addrs "]\n"

#define V1_BOTH SLICE("v1", "v1", "TCP", "9080", \
		      "{addresses: [127.0.1.1]}, {addresses: [127.0.1.2]}")
#define V1_ONE SLICE("v1", "v1", "TCP", "9080", "{addresses: [127.0.1.2]}")
#define V2 SLICE("v2", "v2", "TCP", "9080", "{addresses: [127.0.2.1]}")
#define OTHER SLICE("other", "other", "TCP", "9080", "{addresses: [127.0.1.1]}")
#define DNS(a) SLICE("dns", "dns", "UDP", "5353", "{addresses: [" a "]}")

#define ROUTE(backends, extra)                                                 \
	"---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"    \
	"metadata: {name: shop, creationTimestamp: \"2024-01-01T00:00:00Z\"}\n" \
	"spec:\n  parentRefs: [{group: \"\", kind: Service, name: shop}]\n"   \
	"  rules:\n  - backendRefs: [" backends "]\n" extra

#define BOTH_BACKENDS "{name: v1, port: 9080, weight: 50}, " \
		      "{name: v2, port: 9080, weight: 50}"

struct side {
	struct objvec objs;
	struct image img;
};

static struct side before, after;
static struct ambit_stale_key *pairs;
static size_t n_pairs;

static void compile_side(struct side *s, const char *yaml)
{
	struct diags d = {};
	int err = model_load("test.yaml", yaml, strlen(yaml), &s->objs, &d);

	if (err) {
		char *t = diags_join(&d);

		fprintf(stderr, "load failed:\n%s", t);
		free(t);
	}
	assert_int_equal(err, 0);
	for (size_t i = 0; i < s->objs.n; i++)
		s->objs.v[i]->seq = i;
	assert_int_equal(compile_image(&s->objs, &s->img), 0);
	diags_free(&d);
}

/* Compile both sides and diff them. */
static void diff(const char *old_yaml, const char *new_yaml)
{
	compile_side(&before, old_yaml);
	compile_side(&after, new_yaml);
	assert_int_equal(stale_pairs(&before.img, &after.img, &after.objs,
				     &pairs, &n_pairs), 0);
}

static int teardown(void **state)
{
	image_free(&before.img);
	objvec_free(&before.objs);
	image_free(&after.img);
	objvec_free(&after.objs);
	free(pairs);
	pairs = NULL;
	n_pairs = 0;
	return 0;
}

static const char *pair(size_t i)
{
	static char buf[200];

	assert_true(i < n_pairs);
	return stale_key_str(&pairs[i], buf, sizeof(buf));
}

static void test_nothing_changed(void **state)
{
	diff(SVCS V1_BOTH V2 OTHER ROUTE(BOTH_BACKENDS, ""),
	     SVCS V1_BOTH V2 OTHER ROUTE(BOTH_BACKENDS, ""));
	assert_int_equal(n_pairs, 0);
	assert_null(pairs);
}

/* The endpoint leaves v1: stale for v1's VIP and for shop (routed there),
 * not for "other", which still has it. */
static void test_endpoint_removed_per_service(void **state)
{
	diff(SVCS V1_BOTH V2 OTHER ROUTE(BOTH_BACKENDS, ""),
	     SVCS V1_ONE V2 OTHER ROUTE(BOTH_BACKENDS, ""));
	assert_int_equal(n_pairs, 2);
	assert_string_equal(pair(0), "127.96.0.10:9080/TCP -> 127.0.1.1:9080");
	assert_string_equal(pair(1), "127.96.1.1:9080/TCP -> 127.0.1.1:9080");
}

static void test_service_deleted(void **state)
{
	diff(SVCS V1_BOTH V2 OTHER, SVCS V1_BOTH V2);
	assert_int_equal(n_pairs, 1);
	assert_string_equal(pair(0), "127.96.1.3:9080/TCP -> 127.0.1.1:9080");
}

/* Weight 0 drains (endpoints stay in the table), removal cuts. */
static void test_weight_zero_keeps_removal_cuts(void **state)
{
	diff(SVCS V1_BOTH V2 ROUTE(BOTH_BACKENDS, ""),
	     SVCS V1_BOTH V2 ROUTE("{name: v1, port: 9080, weight: 0}, "
				   "{name: v2, port: 9080, weight: 1}", ""));
	assert_int_equal(n_pairs, 0);
	teardown(state);
	diff(SVCS V1_BOTH V2 ROUTE(BOTH_BACKENDS, ""),
	     SVCS V1_BOTH V2 ROUTE("{name: v2, port: 9080}", ""));
	assert_int_equal(n_pairs, 2);
	assert_string_equal(pair(0), "127.96.0.10:9080/TCP -> 127.0.1.1:9080");
	assert_string_equal(pair(1), "127.96.0.10:9080/TCP -> 127.0.1.2:9080");
}

/* Turning L7 alone closes nothing; an endpoint gone at the same time does. */
#define L7_ROUTE ROUTE(BOTH_BACKENDS, \
		       "    matches: [{headers: [{name: x, value: y}]}]\n")

static bool shop_is_l7(void)
{
	struct ambit_svc_key k = { .port = htons(9080), .proto = IPPROTO_TCP,
				   .family = AMBIT_FAMILY_V4 };
	const struct img_service *s;

	inet_pton(AF_INET, "127.96.0.10", k.addr);
	s = image_find(&after.img, &k);
	return s && s->l7;
}

static void test_turning_l7(void **state)
{
	diff(SVCS V1_BOTH V2 ROUTE(BOTH_BACKENDS, ""), SVCS V1_BOTH V2 L7_ROUTE);
	assert_true(shop_is_l7());
	assert_int_equal(n_pairs, 0);
	teardown(state);
	diff(SVCS V1_BOTH V2 ROUTE(BOTH_BACKENDS, ""), SVCS V1_ONE V2 L7_ROUTE);
	assert_int_equal(n_pairs, 2);
	assert_string_equal(pair(0), "127.96.0.10:9080/TCP -> 127.0.1.1:9080");
	assert_string_equal(pair(1), "127.96.1.1:9080/TCP -> 127.0.1.1:9080");
}

static void test_udp(void **state)
{
	diff(SVCS DNS("127.0.4.1"), SVCS DNS("127.0.4.2"));
	assert_int_equal(n_pairs, 1);
	assert_string_equal(pair(0), "127.96.0.53:53/UDP -> 127.0.4.1:5353");
	assert_int_equal(pairs[0].proto, IPPROTO_UDP);
}

/* A deferred pass drops pairs a later apply brought back. */
static void test_still_reachable(void **state)
{
	diff(SVCS V1_BOTH V2 OTHER ROUTE(BOTH_BACKENDS, ""),
	     SVCS V1_ONE V2 OTHER ROUTE(BOTH_BACKENDS, ""));
	assert_int_equal(n_pairs, 2);
	assert_false(stale_still_reachable(&after.img, &pairs[0]));
	assert_true(stale_still_reachable(&before.img, &pairs[0]));
	assert_true(stale_still_reachable(&before.img, &pairs[1]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_nothing_changed, teardown),
		cmocka_unit_test_teardown(test_endpoint_removed_per_service, teardown),
		cmocka_unit_test_teardown(test_service_deleted, teardown),
		cmocka_unit_test_teardown(test_weight_zero_keeps_removal_cuts, teardown),
		cmocka_unit_test_teardown(test_turning_l7, teardown),
		cmocka_unit_test_teardown(test_udp, teardown),
		cmocka_unit_test_teardown(test_still_reachable, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
