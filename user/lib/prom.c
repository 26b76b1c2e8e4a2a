// SPDX-License-Identifier: Apache-2.0
#include "prom.h"

#include <stdio.h>
#include <string.h>

#include "utf8.h"

static const uint64_t bucket_us[PROM_N_BUCKETS - 1] = PROM_BUCKETS_US;

/* HELP text escapes only backslash and newline. */
void prom_family(struct sbuf *b, const char *name, const char *type,
		 const char *help)
{
	sb_printf(b, "# HELP %s ", name);
	for (; *help; help++) {
		if (*help == '\\')
			sb_add(b, "\\\\", 2);
		else if (*help == '\n')
			sb_add(b, "\\n", 2);
		else
			sb_add(b, help, 1);
	}
	sb_printf(b, "\n# TYPE %s %s\n", name, type);
}

void prom_label(struct sbuf *b, const char *name, const char *value)
{
	const unsigned char *s = (const unsigned char *)(value ? value : "");
	size_t n = strlen((const char *)s), i = 0, k;

	sb_printf(b, "%s%s=\"", b->len ? "," : "", name);
	while (i < n) {
		if (s[i] == '\\' || s[i] == '"') {
			sb_add(b, "\\", 1);
			sb_add(b, (const char *)s + i++, 1);
		} else if (s[i] == '\n') {
			sb_add(b, "\\n", 2);
			i++;
		} else if (s[i] < 0x80) {
			sb_add(b, (const char *)s + i++, 1);
		} else if ((k = utf8_seq(s + i, n - i))) {
			sb_add(b, (const char *)s + i, k);
			i += k;
		} else {
			sb_add(b, "\xef\xbf\xbd", 3); /* U+FFFD */
			i++;
		}
	}
	sb_add(b, "\"", 1);
}

void prom_label_u(struct sbuf *b, const char *name, unsigned long long v)
{
	char num[24];

	snprintf(num, sizeof(num), "%llu", v);
	prom_label(b, name, num);
}

static void sample_name(struct sbuf *b, const char *name, const char *suffix,
			const char *labels)
{
	if (labels && *labels)
		sb_printf(b, "%s%s{%s} ", name, suffix, labels);
	else
		sb_printf(b, "%s%s ", name, suffix);
}

void prom_u64(struct sbuf *b, const char *name, const char *labels,
	      unsigned long long v)
{
	sample_name(b, name, "", labels);
	sb_printf(b, "%llu\n", v);
}

void prom_f64(struct sbuf *b, const char *name, const char *labels, double v)
{
	sample_name(b, name, "", labels);
	sb_printf(b, "%.17g\n", v);
}

unsigned int prom_bucket(uint64_t us)
{
	unsigned int i;

	for (i = 0; i < PROM_N_BUCKETS - 1; i++) {
		if (us <= bucket_us[i])
			return i;
	}
	return PROM_N_BUCKETS - 1;
}

uint64_t prom_histogram(struct sbuf *b, const char *name, const char *labels,
			const uint64_t *counts, uint64_t sum_us)
{
	const char *sep = labels && *labels ? "," : "";
	uint64_t cum = 0;
	unsigned int i;

	for (i = 0; i < PROM_N_BUCKETS; i++) {
		cum += counts[i];
		if (i < PROM_N_BUCKETS - 1)
			sb_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name,
				  labels ? labels : "", sep, bucket_us[i] / 1e6,
				  (unsigned long long)cum);
		else
			sb_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name,
				  labels ? labels : "", sep,
				  (unsigned long long)cum);
	}
	sample_name(b, name, "_sum", labels);
	sb_printf(b, "%.6f\n", sum_us / 1e6);
	sample_name(b, name, "_count", labels);
	sb_printf(b, "%llu\n", (unsigned long long)cum);
	return cum;
}
