// SPDX-License-Identifier: Apache-2.0
/* The weighted choice the BPF programs run, tested in user space. */
#include <linux/types.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ambit/abi.h"
#include "ambit/select.h"

static void set_weights(struct ambit_svc_val *v, const __u32 *w, __u32 n)
{
	__u32 i, cum = 0;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < n; i++) {
		cum += w[i];
		v->versions[i].cum_weight = cum;
	}
	v->n_versions = n;
	v->total_weight = cum;
}

/* Sweep the random space evenly: shares must match weights closely. */
static void count_picks(const struct ambit_svc_val *v, __u64 *counts, __u32 steps)
{
	__u64 r;

	for (r = 0; r < steps; r++) {
		int i = ambit_pick_version(v, (__u32)(r * (0x100000000ull / steps)));

		assert_true(i >= 0 && i < (int)v->n_versions);
		counts[i]++;
	}
}

static void test_shares_follow_weights(void **state)
{
	const __u32 w[] = { 70, 30, 0 };
	struct ambit_svc_val v;
	__u64 c[3] = {};

	set_weights(&v, w, 3);
	count_picks(&v, c, 100000);
	assert_in_range(c[0], 69900, 70100);
	assert_in_range(c[1], 29900, 30100);
	assert_int_equal(c[2], 0);
}

static void test_weight_zero_never_chosen_anywhere(void **state)
{
	const __u32 w[] = { 0, 5, 0, 1000000, 0 };
	struct ambit_svc_val v;
	__u64 c[5] = {};

	set_weights(&v, w, 5);
	count_picks(&v, c, 200000);
	assert_int_equal(c[0], 0);
	assert_int_equal(c[2], 0);
	assert_int_equal(c[4], 0);
	assert_true(c[1] > 0);
	/* The extremes of the random range stay in bounds. */
	assert_int_equal(ambit_pick_version(&v, 0), 1);
	assert_int_equal(ambit_pick_version(&v, 0xffffffffu), 3);
}

static void test_nothing_to_choose(void **state)
{
	const __u32 w[] = { 0, 0 };
	struct ambit_svc_val v;

	set_weights(&v, w, 2);
	assert_int_equal(ambit_pick_version(&v, 12345), -1);
	set_weights(&v, w, 0);
	assert_int_equal(ambit_pick_version(&v, 0), -1);
}

static void test_max_versions_and_weights(void **state)
{
	__u32 w[AMBIT_MAX_VERSIONS], i;
	struct ambit_svc_val v;
	__u64 c[AMBIT_MAX_VERSIONS] = {};

	for (i = 0; i < AMBIT_MAX_VERSIONS; i++)
		w[i] = AMBIT_MAX_WEIGHT;
	set_weights(&v, w, AMBIT_MAX_VERSIONS);
	assert_int_equal(v.total_weight, AMBIT_MAX_VERSIONS * AMBIT_MAX_WEIGHT);
	count_picks(&v, c, 160000);
	for (i = 0; i < AMBIT_MAX_VERSIONS; i++)
		assert_in_range(c[i], 9900, 10100);
}

static void test_endpoint_index_in_range(void **state)
{
	__u32 n, r;

	for (n = 1; n < 50; n++) {
		assert_int_equal(ambit_pick_endpoint(0, n), 0);
		assert_int_equal(ambit_pick_endpoint(0xffffffffu, n), n - 1);
		for (r = 0; r < 1000; r++)
			assert_true(ambit_pick_endpoint(r * 4294967u, n) < n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shares_follow_weights),
		cmocka_unit_test(test_weight_zero_never_chosen_anywhere),
		cmocka_unit_test(test_nothing_to_choose),
		cmocka_unit_test(test_max_versions_and_weights),
		cmocka_unit_test(test_endpoint_index_in_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
