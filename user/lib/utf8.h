/* SPDX-License-Identifier: Apache-2.0 */
/* UTF-8 validation, for text that leaves us in formats that require it. */
#ifndef AMBIT_UTF8_H
#define AMBIT_UTF8_H

#include <stddef.h>

/*
 * utf8_seq() - length (2-4) of the valid multi-byte UTF-8 sequence at @s
 * (@n bytes available), or 0: no overlong forms, no surrogates, nothing
 * above U+10FFFF. ASCII is not a multi-byte sequence: 0.
 */
static inline size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	}
	return len;
}

#endif
