/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stale backends: which (service port, endpoint) pairs a configuration
 * change took away, so that the connections ambit made along them can be
 * closed. Pure C over two compiled images: unit-tested on its own.
 *
 * A pair (K, E) is stale when the old image sent service port K to
 * endpoint E and the new one no longer can:
 *   - K is gone (its Service or port was deleted);
 *   - K is L4 and E is in none of its versions (the endpoint left the
 *     backend Service, or its backendRef left the route; a backendRef
 *     with weight 0 keeps its endpoints: no new connections, old ones
 *     drain on their own);
 *   - K turned L7: E is no longer a ready endpoint of the backend Service
 *     it was chosen from (the mode change alone closes nothing).
 * Pairs are per service port: an endpoint that leaves Service A but stays
 * in Service B is stale for A's connections only.
 */
#ifndef AMBIT_STALE_H
#define AMBIT_STALE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "ambit/abi.h"
#include "compile.h"
#include "objvec.h"

/**
 * stale_pairs() - the pairs @old led to and @new (compiled from @new_all)
 * does not. Return: 0 with *@out (malloc'd, sorted, unique; the caller
 * frees it; NULL when *@n is 0), or -ENOMEM.
 */
int stale_pairs(const struct image *old, const struct image *new,
		const struct objvec *new_all, struct ambit_stale_key **out,
		size_t *n);

/**
 * stale_still_reachable() - does @new lead from the pair's service port
 * to its endpoint again? A later apply may bring an endpoint back before
 * a deferred pass ran. A port that is L7 in @new counts as reaching it:
 * a doubt never closes a connection.
 */
bool stale_still_reachable(const struct image *new,
			   const struct ambit_stale_key *pair);

/** stale_key_str() - "127.96.0.10:9080/TCP -> 127.0.1.1:9080" into @buf. */
char *stale_key_str(const struct ambit_stale_key *k, char *buf, size_t size);

#endif
