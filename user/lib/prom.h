/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text exposition format (version 0.0.4), written into an sbuf:
 * HELP/TYPE headers, samples with escaped label values, and latency
 * histograms with fixed buckets. Shared by ambitd and ambit-proxy.
 */
#ifndef AMBIT_PROM_H
#define AMBIT_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Upper bounds of the latency buckets, in microseconds (+Inf follows). */
#define PROM_BUCKETS_US                                                      \
	{ 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,        \
	  500000, 1000000, 2500000, 5000000, 10000000, 30000000, 60000000 }
#define PROM_N_BUCKETS 17 /* the 16 above and +Inf */

/** prom_family() - "# HELP @name @help" and "# TYPE @name @type" lines. */
void prom_family(struct sbuf *b, const char *name, const char *type,
		 const char *help);

/**
 * prom_label() - append @name="@value" to a label list, with a ',' first
 * unless @b is empty. The value is escaped (\\ \" \n) and invalid UTF-8
 * becomes U+FFFD, as the format requires; NULL is "".
 */
void prom_label(struct sbuf *b, const char *name, const char *value);

/** prom_label_u() - prom_label() with an unsigned number as the value. */
void prom_label_u(struct sbuf *b, const char *name, unsigned long long v);

/** prom_u64() - "@name{@labels} @v" (no braces when @labels is empty). */
void prom_u64(struct sbuf *b, const char *name, const char *labels,
	      unsigned long long v);

/** prom_f64() - the same with a floating point value. */
void prom_f64(struct sbuf *b, const char *name, const char *labels, double v);

/** prom_bucket() - index of the bucket for a duration of @us microseconds. */
unsigned int prom_bucket(uint64_t us);

/**
 * prom_histogram() - the _bucket (cumulative, le in seconds), _sum
 * (seconds) and _count samples of histogram @name from per-bucket counts
 * @counts[PROM_N_BUCKETS] (not cumulative) and the sum @sum_us.
 * Return: the count (the +Inf bucket).
 */
uint64_t prom_histogram(struct sbuf *b, const char *name, const char *labels,
			const uint64_t *counts, uint64_t sum_us);

#endif
