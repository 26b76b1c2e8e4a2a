// SPDX-License-Identifier: Apache-2.0
#include "mapsync.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

struct epset {
	__u32 id;
	__u32 n;
	__u32 refs;     /* installed services using it */
	__u32 new_refs; /* during an apply: users in the new image */
	bool fresh;     /* written by the apply in progress */
	__u64 hash;
	struct ambit_ep_val *eps;
};

__u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static __u64 eps_hash(const struct ambit_ep_val *eps, __u32 n)
{
	const unsigned char *p = (const void *)eps;
	__u64 h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < n * sizeof(*eps); i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ^ n;
}

static char *hash_key(__u64 h, char *buf, size_t size)
{
	snprintf(buf, size, "%016" PRIx64, (uint64_t)h);
	return buf;
}

static struct epset *set_lookup(struct mapsync *ms,
				const struct ambit_ep_val *eps, __u32 n)
{
	__u64 h = eps_hash(eps, n);
	struct epset *s;
	void *cur = NULL;
	char key[24];

	hash_key(h, key, sizeof(key));
	while ((s = strmap_next(&ms->by_hash, key, &cur))) {
		if (s->n == n && !memcmp(s->eps, eps, n * sizeof(*eps)))
			return s;
	}
	return NULL;
}

static int set_track(struct mapsync *ms, struct epset *s)
{
	char key[24];
	struct epset **v = realloc(ms->sets, (ms->n_sets + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	ms->sets = v;
	if (strmap_add(&ms->by_hash, hash_key(s->hash, key, sizeof(key)), s))
		return -ENOMEM;
	ms->sets[ms->n_sets++] = s;
	return 0;
}

static void set_free(struct epset *s)
{
	if (s)
		free(s->eps);
	free(s);
}

static struct epset *set_new(__u32 id, const struct ambit_ep_val *eps, __u32 n)
{
	struct epset *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->eps = malloc((n ? n : 1) * sizeof(*eps));
	if (!s->eps) {
		free(s);
		return NULL;
	}
	memcpy(s->eps, eps, n * sizeof(*eps));
	s->id = id;
	s->n = n;
	s->hash = eps_hash(eps, n);
	return s;
}

static void delete_range(struct mapsync *ms, __u32 id, __u32 from, __u32 n)
{
	struct ambit_ep_key k = { .set_id = id };

	for (k.index = from; k.index < n; k.index++)
		bpf_map_delete_elem(ms->ep_fd, &k);
}

static void set_delete_entries(struct mapsync *ms, __u32 id, __u32 n)
{
	delete_range(ms, id, 0, n);
}

static int set_write(struct mapsync *ms, const struct epset *s)
{
	struct ambit_ep_key k = { .set_id = s->id };
	int err;

	for (k.index = 0; k.index < s->n; k.index++) {
		err = bpf_map_update_elem(ms->ep_fd, &k, &s->eps[k.index], BPF_ANY);
		if (err) {
			set_delete_entries(ms, s->id, k.index);
			return err;
		}
	}
	return 0;
}

/* The set holding exactly @eps: an existing one, or a fresh one written now. */
static struct epset *set_get(struct mapsync *ms, const struct ambit_ep_val *eps,
			     __u32 n, int *err)
{
	struct epset *s = set_lookup(ms, eps, n);

	if (s)
		return s;
	if (!ms->next_set_id)
		ms->next_set_id = 1; /* 0 means "no set"; also after wrap */
	s = set_new(ms->next_set_id, eps, n);
	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = set_write(ms, s);
	if (!*err)
		*err = set_track(ms, s);
	if (*err) {
		set_delete_entries(ms, s->id, s->n);
		set_free(s);
		return NULL;
	}
	ms->next_set_id++;
	s->fresh = true;
	return s;
}

static int inst_cmp(const void *a, const void *b)
{
	return svc_key_cmp(&((const struct installed *)a)->key,
			   &((const struct installed *)b)->key);
}

const struct ambit_svc_val *mapsync_find(const struct mapsync *ms,
					 const struct ambit_svc_key *key)
{
	const struct installed *hit = svc_key_search(ms->inst, ms->n_inst,
						     sizeof(*ms->inst),
						     offsetof(struct installed, key),
						     key);

	return hit ? &hit->val : NULL;
}

__u32 mapsync_svc_id(const struct mapsync *ms, const struct ambit_svc_key *key)
{
	const struct ambit_svc_val *v = mapsync_find(ms, key);

	return v ? v->svc_id : AMBIT_STATS_SERVICE;
}

static bool same_table(const struct ambit_svc_val *a,
		       const struct ambit_svc_val *b)
{
	struct ambit_svc_val x = *a;

	x.generation = b->generation;
	return !memcmp(&x, b, sizeof(x));
}

/* Phase 1: the new service values, with every endpoint set in place. */
static int build_vals(struct mapsync *ms, const struct image *img,
		      struct installed *next, __u32 *next_svc)
{
	size_t i, j;
	int err;

	for (i = 0; i < img->n_svcs; i++) {
		const struct img_service *s = &img->svcs[i];
		const struct ambit_svc_val *old = mapsync_find(ms, &s->key);
		struct ambit_svc_val *v = &next[i].val;

		next[i].key = s->key;
		svc_val_from_image(s, v);
		v->svc_id = old ? old->svc_id : (*next_svc)++;
		for (j = 0; j < s->n_versions; j++) {
			const struct img_version *iv = &s->versions[j];
			struct epset *set;

			if (iv->unresolved || !iv->n_eps)
				continue;
			set = set_get(ms, iv->eps, iv->n_eps, &err);
			if (!set)
				return err;
			set->new_refs++;
			v->versions[j].set_id = set->id;
		}
		v->generation = old && same_table(old, v) ? old->generation
							  : ms->generation + 1;
	}
	return 0;
}

/* Phase 2: the map holds old and new keys at once until phase 4. */
static int check_capacity(const struct mapsync *ms, const struct installed *next,
			  size_t n, char *err, size_t errlen)
{
	size_t i, added = 0;

	for (i = 0; i < n; i++)
		added += !mapsync_find(ms, &next[i].key);
	if (ms->n_inst + added <= ms->max_services)
		return 0;
	snprintf(err, errlen, "service map full: %zu service ports needed, "
		 "room for %u (ambitd --max-services)", ms->n_inst + added,
		 ms->max_services);
	return -E2BIG;
}

static void undo_writes(struct mapsync *ms, const struct installed *next,
			const size_t *written, size_t n_written)
{
	while (n_written--) {
		const struct installed *w = &next[written[n_written]];
		const struct ambit_svc_val *old = mapsync_find(ms, &w->key);

		if (old)
			bpf_map_update_elem(ms->svc_fd, &w->key, old, BPF_ANY);
		else
			bpf_map_delete_elem(ms->svc_fd, &w->key);
	}
}

/* Phase 3: flip changed services to their new tables. */
static int write_vals(struct mapsync *ms, const struct installed *next,
		      size_t n, char *err, size_t errlen)
{
	size_t *written = malloc((n ? n : 1) * sizeof(*written)), nw = 0, i;
	int ret = 0;

	if (!written)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct ambit_svc_val *old = mapsync_find(ms, &next[i].key);

		if (old && !memcmp(old, &next[i].val, sizeof(*old)))
			continue;
		ret = bpf_map_update_elem(ms->svc_fd, &next[i].key,
					  &next[i].val, BPF_ANY);
		if (ret) {
			snprintf(err, errlen, "write service map: %s (%d)",
				 strerror(-ret), ret);
			undo_writes(ms, next, written, nw);
			break;
		}
		written[nw++] = i;
	}
	free(written);
	return ret;
}

/* Phase 4: services no longer configured stop being redirected. */
static void delete_gone(struct mapsync *ms, const struct installed *next,
			size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < ms->n_inst; i++) {
		while (j < n && svc_key_cmp(&next[j].key, &ms->inst[i].key) < 0)
			j++;
		if (j < n && !svc_key_cmp(&next[j].key, &ms->inst[i].key))
			continue;
		if (bpf_map_delete_elem(ms->svc_fd, &ms->inst[i].key))
			pr_warn("delete service entry: %s", strerror(errno));
	}
}

static int retire_range(struct mapsync *ms, __u32 id, __u32 from, __u32 n)
{
	struct retired_set *r;

	r = realloc(ms->retired, (ms->n_retired + 1) * sizeof(*r));
	if (!r) {
		/* Can't defer: leaking the entries beats a torn lookup. */
		pr_warn("endpoint set %u not retired: out of memory", id);
		return -ENOMEM;
	}
	ms->retired = r;
	r[ms->n_retired] = (struct retired_set){ .id = id, .from = from,
						 .n = n, .at_ms = now_ms() };
	ms->n_retired++;
	return 0;
}

static int retire(struct mapsync *ms, const struct epset *s)
{
	return retire_range(ms, s->id, 0, s->n);
}

/*
 * After an apply (@ok) or its rollback: keep the sets that have users,
 * retire (ok) or delete at once (rollback: never published) the others.
 */
static void settle_sets(struct mapsync *ms, bool ok)
{
	size_t i, out = 0;
	char key[24];

	strmap_free(&ms->by_hash);
	for (i = 0; i < ms->n_sets; i++) {
		struct epset *s = ms->sets[i];

		if (ok)
			s->refs = s->new_refs;
		s->new_refs = 0;
		if (!ok && s->fresh)
			set_delete_entries(ms, s->id, s->n);
		else if (!s->refs)
			retire(ms, s);
		if ((!ok && s->fresh) || !s->refs) {
			set_free(s);
			continue;
		}
		s->fresh = false;
		ms->sets[out++] = s;
		strmap_add(&ms->by_hash, hash_key(s->hash, key, sizeof(key)), s);
	}
	ms->n_sets = out;
}

int mapsync_apply(struct mapsync *ms, const struct image *img, char *err,
		  size_t errlen)
{
	struct installed *next = calloc(img->n_svcs + 1, sizeof(*next));
	__u32 next_svc = ms->next_svc_id;
	int ret;

	if (!next)
		return -ENOMEM;
	ret = build_vals(ms, img, next, &next_svc);
	if (ret)
		snprintf(err, errlen, "write endpoint map: %s (%d)",
			 strerror(-ret), ret);
	if (!ret)
		ret = check_capacity(ms, next, img->n_svcs, err, errlen);
	if (!ret)
		ret = write_vals(ms, next, img->n_svcs, err, errlen);
	if (ret) {
		settle_sets(ms, false);
		free(next);
		return ret;
	}
	delete_gone(ms, next, img->n_svcs);
	settle_sets(ms, true);
	free(ms->inst);
	ms->inst = next;
	ms->n_inst = img->n_svcs;
	ms->next_svc_id = next_svc;
	ms->generation++;
	return 0;
}

void mapsync_reap(struct mapsync *ms, __u64 now)
{
	size_t i, out = 0;

	for (i = 0; i < ms->n_retired; i++) {
		struct retired_set *r = &ms->retired[i];

		if (now - r->at_ms >= MAPSYNC_GRACE_MS)
			delete_range(ms, r->id, r->from, r->n);
		else
			ms->retired[out++] = *r;
	}
	ms->n_retired = out;
}

void mapsync_free(struct mapsync *ms)
{
	size_t i;

	for (i = 0; i < ms->n_sets; i++)
		set_free(ms->sets[i]);
	free(ms->sets);
	free(ms->inst);
	free(ms->retired);
	strmap_free(&ms->by_hash);
	memset(ms, 0, sizeof(*ms));
}

/* Learn one endpoint set from the map (once, however many users). */
static int adopt_set(struct mapsync *ms, const struct ambit_version *v)
{
	struct ambit_ep_key k = { .set_id = v->set_id };
	struct ambit_ep_val *eps;
	struct epset *s;
	size_t i;

	for (i = 0; i < ms->n_sets; i++) {
		if (ms->sets[i]->id == v->set_id) {
			ms->sets[i]->refs++;
			return 0;
		}
	}
	eps = calloc(v->n_endpoints + 1, sizeof(*eps));
	if (!eps)
		return -ENOMEM;
	for (k.index = 0; k.index < v->n_endpoints; k.index++) {
		if (bpf_map_lookup_elem(ms->ep_fd, &k, &eps[k.index]))
			pr_warn("endpoint set %u lost entry %u", k.set_id, k.index);
	}
	s = set_new(v->set_id, eps, v->n_endpoints);
	free(eps);
	if (!s || set_track(ms, s)) {
		set_free(s);
		return -ENOMEM;
	}
	s->refs = 1;
	if (v->set_id >= ms->next_set_id)
		ms->next_set_id = v->set_id + 1;
	return 0;
}

static int adopt_service(struct mapsync *ms, const struct installed *in)
{
	__u32 i;
	int err;

	if (in->val.svc_id >= ms->next_svc_id)
		ms->next_svc_id = in->val.svc_id + 1;
	if (in->val.generation > ms->generation)
		ms->generation = in->val.generation;
	for (i = 0; i < in->val.n_versions && i < AMBIT_MAX_VERSIONS; i++) {
		if (!in->val.versions[i].set_id)
			continue;
		err = adopt_set(ms, &in->val.versions[i]);
		if (err)
			return err;
	}
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct ambit_ep_key *x = a, *y = b;

	if (x->set_id != y->set_id)
		return x->set_id < y->set_id ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Every key of the endpoint map, sorted by set and index. */
static struct ambit_ep_key *all_ep_keys(int fd, size_t *n)
{
	struct ambit_ep_key k, prev, *v = NULL, *bigger;
	size_t cap = 0;
	bool first = true;

	*n = 0;
	while (!bpf_map_get_next_key(fd, first ? NULL : &prev, &k)) {
		first = false;
		prev = k;
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			bigger = realloc(v, cap * sizeof(*v));
			if (!bigger) {
				free(v);
				return NULL;
			}
			v = bigger;
		}
		v[(*n)++] = k;
	}
	if (*n)
		qsort(v, *n, sizeof(*v), key_cmp);
	return v ? v : calloc(1, sizeof(*v));
}

static int set_id_cmp(const void *a, const void *b)
{
	__u32 x = (*(struct epset *const *)a)->id, y = (*(struct epset *const *)b)->id;

	return x < y ? -1 : x > y;
}

/*
 * Entries beyond what the adopted sets hold: sets a killed daemon had
 * retired but not yet deleted. A connect may still be reading them (the
 * grace period), so they are retired again, not deleted now; and no new
 * set may take their ids before they are gone. Keys and sets are walked
 * together, both in id order.
 */
static int adopt_strays(struct mapsync *ms)
{
	size_t n, i, j, s = 0;
	struct ambit_ep_key *keys = all_ep_keys(ms->ep_fd, &n);
	int err = 0;

	if (!keys)
		return -ENOMEM;
	if (ms->n_sets)
		qsort(ms->sets, ms->n_sets, sizeof(*ms->sets), set_id_cmp);
	for (i = 0; i < n && !err; i = j) {
		__u32 id = keys[i].set_id, live = 0;

		while (s < ms->n_sets && ms->sets[s]->id < id)
			s++;
		if (s < ms->n_sets && ms->sets[s]->id == id)
			live = ms->sets[s]->n;
		for (j = i; j < n && keys[j].set_id == id; j++)
			;
		if (id >= ms->next_set_id)
			ms->next_set_id = id + 1;
		if (keys[j - 1].index < live)
			continue;
		pr_info("endpoint set %u: entries %u..%u are no service's: "
			"retired", id, live, keys[j - 1].index);
		err = retire_range(ms, id, live, keys[j - 1].index + 1);
	}
	free(keys);
	return err;
}

int mapsync_adopt(struct mapsync *ms, int svc_fd, int ep_fd, __u32 max_services)
{
	struct ambit_svc_key key, prev;
	bool first = true;
	size_t cap = 0;
	int err = 0;

	memset(ms, 0, sizeof(*ms));
	ms->svc_fd = svc_fd;
	ms->ep_fd = ep_fd;
	ms->max_services = max_services;
	ms->next_set_id = 1;
	while (!err && !bpf_map_get_next_key(svc_fd, first ? NULL : &prev, &key)) {
		first = false;
		prev = key;
		if (ms->n_inst == cap) {
			struct installed *v;

			cap = cap ? cap * 2 : 64;
			v = realloc(ms->inst, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			ms->inst = v;
		}
		ms->inst[ms->n_inst].key = key;
		if (!bpf_map_lookup_elem(svc_fd, &key, &ms->inst[ms->n_inst].val))
			err = adopt_service(ms, &ms->inst[ms->n_inst++]);
	}
	if (ms->n_inst)
		qsort(ms->inst, ms->n_inst, sizeof(*ms->inst), inst_cmp);
	return err ? err : adopt_strays(ms);
}
