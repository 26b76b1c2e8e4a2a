/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Regular expressions of HTTPRoute matches (path, header and query values
 * of type RegularExpression). The Gateway API leaves the dialect to the
 * implementation: ambit's is PCRE2 with these options, so whatever the
 * loader accepts, the data plane compiles with the same result.
 */
#ifndef AMBIT_RX_H
#define AMBIT_RX_H

#include <stddef.h>

/*
 * PCRE2_UTF: patterns are UTF-8 (YAML is). PCRE2_MATCH_INVALID_UTF: a
 * request path or header with invalid UTF-8 simply fails to match instead
 * of being an error at match time.
 */
#define AMBIT_RX_OPTIONS (PCRE2_UTF | PCRE2_MATCH_INVALID_UTF)

/**
 * rx_check() - whether @len bytes at @re compile with AMBIT_RX_OPTIONS.
 * Return: 0 when they do; -EINVAL with PCRE2's message in @msg (@size
 * bytes) and the offset of the problem in *@off (PCRE2 failing to get
 * memory is reported the same way, with its own message).
 */
int rx_check(const char *re, size_t len, char *msg, size_t size, size_t *off);

#endif
