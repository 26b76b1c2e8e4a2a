/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Image -> BPF maps, as one transaction.
 *
 * Endpoint sets are immutable and content-addressed: a set is written once
 * under a fresh id, shared by every version with the same endpoints, and
 * retired (deleted after a grace period) when nothing refers to it. A
 * service value names its sets, so replacing that one value switches a
 * service from the complete old table to the complete new one.
 *
 * Order: write new sets; check capacity; write changed service values;
 * delete services that went away; retire unused sets. A failure before the
 * last two steps rolls back everything written, so an apply is all or
 * nothing in the maps too.
 */
#ifndef AMBITD_MAPSYNC_H
#define AMBITD_MAPSYNC_H

#include <linux/types.h>
#include <stddef.h>

#include "ambit/abi.h"
#include "compile.h"
#include "strmap.h"

/* Old sets live this long after their last user left: any connect that
 * read the old service value has long finished its lookups by then. */
#define MAPSYNC_GRACE_MS 1000

struct epset;

struct installed {
	struct ambit_svc_key key;
	struct ambit_svc_val val;
};

/* Entries [from, n) of set @id, to delete once the grace period is over. */
struct retired_set {
	__u32 id;
	__u32 from;
	__u32 n;
	__u32 pad;
	__u64 at_ms;
};

struct mapsync {
	int svc_fd;
	int ep_fd;
	__u32 max_services;
	struct installed *inst; /* sorted by key: what the map holds */
	size_t n_inst;
	struct epset **sets;    /* live sets */
	size_t n_sets;
	struct strmap by_hash;  /* content hash -> set */
	__u32 next_set_id;
	__u32 next_svc_id;
	__u64 generation;
	struct retired_set *retired;
	size_t n_retired;
};

/**
 * mapsync_adopt() - start from what the pinned maps hold (a previous daemon
 * may have filled them): learn installed services, sets and ids. Endpoint
 * entries no service refers to (a daemon killed within the grace period
 * of retiring a set left them) are retired, as that daemon would have.
 * Return: 0 or -errno.
 */
int mapsync_adopt(struct mapsync *ms, int svc_fd, int ep_fd, __u32 max_services);

/**
 * mapsync_apply() - make the maps hold @img. On failure nothing changed
 * and @err (of @errlen bytes) says why. Return: 0 or -errno.
 */
int mapsync_apply(struct mapsync *ms, const struct image *img, char *err,
		  size_t errlen);

/** mapsync_reap() - delete retired sets older than the grace period. */
void mapsync_reap(struct mapsync *ms, __u64 now_ms);

/** mapsync_svc_id() - installed svc id for @key, or AMBIT_STATS_SERVICE. */
__u32 mapsync_svc_id(const struct mapsync *ms, const struct ambit_svc_key *key);

/** mapsync_find() - installed value for @key, or NULL. */
const struct ambit_svc_val *mapsync_find(const struct mapsync *ms,
					 const struct ambit_svc_key *key);

/** mapsync_free() - free bookkeeping (the maps are left as they are). */
void mapsync_free(struct mapsync *ms);

/** now_ms() - CLOCK_MONOTONIC in milliseconds. */
__u64 now_ms(void);

#endif
