// SPDX-License-Identifier: Apache-2.0
#include "route_order.h"

#include <string.h>

static int cmp_age(const struct object *a, const struct object *b)
{
	if (a->creation && b->creation) {
		/* RFC 3339 UTC timestamps as Kubernetes writes them
		 * ("2024-05-01T10:00:00Z") order lexicographically. */
		int c = strcmp(a->creation, b->creation);

		if (c)
			return c;
		return 0;
	}
	if (a->creation || b->creation)
		return a->creation ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

bool route_precedes(const struct object *a, const struct object *b)
{
	int c = cmp_age(a, b);

	if (c)
		return c < 0;
	c = strcmp(a->ns, b->ns);
	if (c)
		return c < 0;
	return strcmp(a->name, b->name) < 0;
}
