// SPDX-License-Identifier: Apache-2.0
#include "stale.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "arena.h"

struct pairvec {
	struct ambit_stale_key *v;
	size_t n, cap;
};

static int ep_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct ambit_ep_val));
}

/* Image endpoint lists are sorted by memcmp and deduplicated. */
static bool in_list(const struct ambit_ep_val *eps, size_t n,
		    const struct ambit_ep_val *ep)
{
	return n && bsearch(ep, eps, n, sizeof(*eps), ep_cmp);
}

static bool in_versions(const struct img_service *s,
			const struct ambit_ep_val *ep)
{
	size_t i;

	for (i = 0; i < s->n_versions; i++) {
		if (in_list(s->versions[i].eps, s->versions[i].n_eps, ep))
			return true;
	}
	return false;
}

static int push(struct pairvec *pv, const struct ambit_svc_key *k,
		const struct ambit_ep_val *ep)
{
	struct ambit_stale_key *p;

	if (pv->n == pv->cap) {
		size_t cap = pv->cap ? pv->cap * 2 : 16;

		p = realloc(pv->v, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		pv->v = p;
		pv->cap = cap;
	}
	p = &pv->v[pv->n++];
	memset(p, 0, sizeof(*p));
	memcpy(p->vip, k->addr, sizeof(p->vip));
	memcpy(p->backend, ep->addr, sizeof(p->backend));
	p->vip_port = k->port;
	p->backend_port = ep->port;
	p->family = k->family;
	p->proto = k->proto;
	return 0;
}

/*
 * Endpoints of old version @v that port @now (same key; L7, or NULL when
 * gone) no longer reaches. An L7 port still reaches what is still a
 * ready endpoint of the backend Service.
 */
static int version_gone(const struct img_service *old,
			const struct img_version *v,
			const struct img_service *now, const struct cindex *ix,
			struct pairvec *pv)
{
	struct ambit_ep_val *still = NULL;
	struct arena ar = {};
	const char *why;
	size_t i, n_still = 0;
	int af = old->key.family == AMBIT_FAMILY_V4 ? AF_INET : AF_INET6;
	int err = 0;

	if (now && ix)
		err = cindex_backend(ix, &ar, v->ns, v->name, v->port, af,
				     &still, &n_still, &why);
	for (i = 0; !err && i < v->n_eps; i++) {
		if (now && !now->l7 && in_versions(now, &v->eps[i]))
			continue;
		if (now && now->l7 && in_list(still, n_still, &v->eps[i]))
			continue;
		err = push(pv, &old->key, &v->eps[i]);
	}
	arena_free(&ar);
	return err;
}

static int pair_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct ambit_stale_key));
}

static void sort_unique(struct pairvec *pv)
{
	size_t i, out = 0;

	if (!pv->n)
		return;
	qsort(pv->v, pv->n, sizeof(*pv->v), pair_cmp);
	for (i = 0; i < pv->n; i++) {
		if (!out || pair_cmp(&pv->v[out - 1], &pv->v[i]))
			pv->v[out++] = pv->v[i];
	}
	pv->n = out;
}

/* The index is only needed for ports that turned L7: built on demand. */
static int port_gone(const struct img_service *old, const struct image *new,
		     const struct objvec *new_all, struct cindex **ix,
		     struct pairvec *pv)
{
	const struct img_service *now = image_find(new, &old->key);
	size_t j;
	int err = 0;

	if (now && now->l7 && !*ix) {
		*ix = cindex_new(new_all);
		if (!*ix)
			return -ENOMEM;
	}
	for (j = 0; !err && j < old->n_versions; j++)
		err = version_gone(old, &old->versions[j], now,
				   now && now->l7 ? *ix : NULL, pv);
	return err;
}

int stale_pairs(const struct image *old, const struct image *new,
		const struct objvec *new_all, struct ambit_stale_key **out,
		size_t *n)
{
	struct pairvec pv = {};
	struct cindex *ix = NULL;
	size_t i;
	int err = 0;

	for (i = 0; !err && i < old->n_svcs; i++) {
		if (!old->svcs[i].l7) /* L7 ports' sockets go to the proxy */
			err = port_gone(&old->svcs[i], new, new_all, &ix, &pv);
	}
	cindex_del(ix);
	if (err) {
		free(pv.v);
		return err;
	}
	sort_unique(&pv);
	*out = pv.v;
	*n = pv.n;
	return 0;
}

bool stale_still_reachable(const struct image *new,
			   const struct ambit_stale_key *pair)
{
	struct ambit_svc_key k = { .port = pair->vip_port, .proto = pair->proto,
				   .family = pair->family };
	struct ambit_ep_val ep = { .port = pair->backend_port,
				   .family = pair->family };
	const struct img_service *s;

	memcpy(k.addr, pair->vip, sizeof(k.addr));
	memcpy(ep.addr, pair->backend, sizeof(ep.addr));
	s = image_find(new, &k);
	if (!s)
		return false;
	return s->l7 || in_versions(s, &ep);
}

char *stale_key_str(const struct ambit_stale_key *k, char *buf, size_t size)
{
	struct ambit_svc_key svc = { .port = k->vip_port, .proto = k->proto,
				     .family = k->family };
	struct ambit_ep_val ep = { .port = k->backend_port, .family = k->family };
	char a[80], b[80];

	memcpy(svc.addr, k->vip, sizeof(svc.addr));
	memcpy(ep.addr, k->backend, sizeof(ep.addr));
	snprintf(buf, size, "%s -> %s", svc_key_str(&svc, a, sizeof(a)),
		 ep_str(&ep, b, sizeof(b)));
	return buf;
}
