/* SPDX-License-Identifier: Apache-2.0 */
/* Zero-copy views of HTTP/1.1 message parts, shared by the parser, the
 * route matcher and the proxy. Views point into the connection's buffer. */
#ifndef AMBIT_HTTP_TYPES_H
#define AMBIT_HTTP_TYPES_H

#include <stddef.h>

struct str_view {
	const char *p;
	size_t len;
};

struct http_header {
	struct str_view name;  /* as received (case preserved) */
	struct str_view value; /* leading/trailing OWS stripped */
};

#endif
