// SPDX-License-Identifier: Apache-2.0
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rx.h"

#include <errno.h>
#include <pcre2.h>

int rx_check(const char *re, size_t len, char *msg, size_t size, size_t *off)
{
	PCRE2_SIZE eoff = 0;
	pcre2_code *code;
	int ec = 0;

	code = pcre2_compile((PCRE2_SPTR)re, len, AMBIT_RX_OPTIONS, &ec, &eoff,
			     NULL);
	if (code) {
		pcre2_code_free(code);
		return 0;
	}
	/* A message too long for @size comes back truncated: still fine. */
	if (size && pcre2_get_error_message(ec, (PCRE2_UCHAR *)msg, size) ==
			    PCRE2_ERROR_BADDATA)
		msg[0] = '\0';
	*off = eoff;
	return -EINVAL;
}
