/* SPDX-License-Identifier: Apache-2.0 */
/* Gateway API tie-breaking between routes attached to the same parent. */
#ifndef AMBIT_ROUTE_ORDER_H
#define AMBIT_ROUTE_ORDER_H

#include <stdbool.h>

#include "model.h"

/**
 * route_precedes() - true when route @a wins a tie against route @b: the
 * older creationTimestamp first (a route without one counts as newer than
 * any that has one, and such routes age by apply order), then
 * "namespace/name" alphabetically.
 */
bool route_precedes(const struct object *a, const struct object *b);

#endif
