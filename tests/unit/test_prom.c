// SPDX-License-Identifier: Apache-2.0
/* Prometheus text output: label escaping, histograms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "prom.h"

static void test_label_escaping(void **state)
{
	struct sbuf b = {};

	prom_label(&b, "service", "shop/reviews");
	prom_label(&b, "q", "a\"b\\c\nd");
	prom_label(&b, "empty", "");
	prom_label(&b, "null", NULL);
	prom_label(&b, "utf8", "h\xc3\xa9");
	prom_label(&b, "bad", "x\xffy");
	prom_label_u(&b, "port", 9080);
	assert_string_equal(sb_str(&b),
		"service=\"shop/reviews\",q=\"a\\\"b\\\\c\\nd\",empty=\"\","
		"null=\"\",utf8=\"h\xc3\xa9\",bad=\"x\xef\xbf\xbdy\",port=\"9080\"");
	sb_free(&b);
}

static void test_family_and_samples(void **state)
{
	struct sbuf b = {};

	prom_family(&b, "ambit_x_total", "counter", "a\\b\nc");
	prom_u64(&b, "ambit_x_total", "", 3);
	prom_u64(&b, "ambit_x_total", "k=\"v\"", 18446744073709551615ull);
	prom_f64(&b, "ambit_t", NULL, 1700000000.25);
	assert_string_equal(sb_str(&b),
		"# HELP ambit_x_total a\\\\b\\nc\n# TYPE ambit_x_total counter\n"
		"ambit_x_total 3\nambit_x_total{k=\"v\"} 18446744073709551615\n"
		"ambit_t 1700000000.25\n");
	sb_free(&b);
}

static void test_buckets(void **state)
{
	assert_int_equal(prom_bucket(0), 0);
	assert_int_equal(prom_bucket(500), 0);   /* le is inclusive */
	assert_int_equal(prom_bucket(501), 1);
	assert_int_equal(prom_bucket(1000000), 10);
	assert_int_equal(prom_bucket(60000000), PROM_N_BUCKETS - 2);
	assert_int_equal(prom_bucket(60000001), PROM_N_BUCKETS - 1);
	assert_int_equal(prom_bucket(UINT64_MAX), PROM_N_BUCKETS - 1);
}

static void test_histogram_is_cumulative(void **state)
{
	uint64_t c[PROM_N_BUCKETS] = { 0 };
	struct sbuf b = {};
	uint64_t n;

	c[prom_bucket(300)] += 2;     /* 0.0005 */
	c[prom_bucket(20000)] += 1;   /* 0.025 */
	c[prom_bucket(90000000)] += 1; /* +Inf */
	n = prom_histogram(&b, "h", "a=\"1\"", c, 90040600);
	assert_int_equal(n, 4);
	assert_non_null(strstr(sb_str(&b), "h_bucket{a=\"1\",le=\"0.0005\"} 2\n"));
	assert_non_null(strstr(sb_str(&b), "h_bucket{a=\"1\",le=\"0.01\"} 2\n"));
	assert_non_null(strstr(sb_str(&b), "h_bucket{a=\"1\",le=\"0.025\"} 3\n"));
	assert_non_null(strstr(sb_str(&b), "h_bucket{a=\"1\",le=\"60\"} 3\n"));
	assert_non_null(strstr(sb_str(&b), "h_bucket{a=\"1\",le=\"+Inf\"} 4\n"));
	assert_non_null(strstr(sb_str(&b), "h_sum{a=\"1\"} 90.040600\n"));
	assert_non_null(strstr(sb_str(&b), "h_count{a=\"1\"} 4\n"));
	sb_free(&b);
	prom_histogram(&b, "h", "", c, 0);
	assert_non_null(strstr(sb_str(&b), "h_bucket{le=\"+Inf\"} 4\nh_sum 0.000000\nh_count 4\n"));
	sb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_family_and_samples),
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_histogram_is_cumulative),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
