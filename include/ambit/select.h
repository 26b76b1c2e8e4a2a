/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Weighted choice, shared by the BPF programs and user space (the unit tests
 * and `ambit trace` run exactly this code). No includes; needs abi.h first.
 *
 * Both choices scale a 32-bit random number into [0, n) by multiply-shift:
 * no division in the hot path and a bias below n / 2^32.
 */
#ifndef AMBIT_SELECT_H
#define AMBIT_SELECT_H

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* Scale a uniform 32-bit @rnd into [0, @n). */
static __always_inline __u32 ambit_scale(__u32 rnd, __u32 n)
{
	return (__u32)(((__u64)rnd * n) >> 32);
}

/*
 * Index of the version that owns the point ambit_scale(rnd, total) on the
 * cumulative weight line, or -1 when nothing can be chosen. A version of
 * weight 0 spans no points and is never chosen. Bounded loop.
 */
static __always_inline int ambit_pick_version(const struct ambit_svc_val *v,
					      __u32 rnd)
{
	__u32 point, i;

	if (!v->total_weight)
		return -1;
	point = ambit_scale(rnd, v->total_weight);
	for (i = 0; i < AMBIT_MAX_VERSIONS; i++) {
		if (i >= v->n_versions)
			break;
		if (point < v->versions[i].cum_weight)
			return (int)i;
	}
	return -1;
}

/* Endpoint index in [0, n) for @rnd; n must be > 0. */
static __always_inline __u32 ambit_pick_endpoint(__u32 rnd, __u32 n)
{
	return ambit_scale(rnd, n);
}

#endif
