/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The compiler: a validated configuration in, an image of what the data
 * plane must hold out. Pure C, no BPF calls: the daemon diffs images into
 * the maps, `ambit get`/`trace` print them, unit tests inspect them.
 *
 * A Service port is L4 when the routes attached to it need no request
 * inspection: every rule matches everything (no matches, or only
 * PathPrefix "/"), has no filters (on the rule or its backends) and no
 * timeouts, and no route forces `ambit.io/mode: l7`. Then the rule that wins
 * by Gateway API precedence (oldest route, then namespace/name, then rule
 * order) decides, and its weighted backendRefs become BPF versions.
 * Anything else is L7: marked for the proxy.
 */
#ifndef AMBIT_COMPILE_H
#define AMBIT_COMPILE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "ambit/abi.h"
#include "arena.h"
#include "objvec.h"

/* One backend version of a service port (a backendRef, or the Service
 * itself when no route is attached). */
struct img_version {
	const char *ns;   /* backend Service */
	const char *name;
	__u16 port;       /* backend Service port */
	__u32 weight;
	const char *unresolved; /* why nothing can be reached, or NULL */
	struct ambit_ep_val *eps; /* ready endpoints, sorted, deduplicated */
	size_t n_eps;
};

struct img_service {
	struct ambit_svc_key key;
	const struct object *svc;     /* the Service */
	const struct svc_port *port;  /* its port */
	bool l7;
	const char *l7_reason;        /* why the proxy is needed */
	const struct object *route;   /* winning route (L4), NULL: none */
	size_t rule;                  /* winning rule index in that route */
	struct img_version versions[AMBIT_MAX_VERSIONS];
	size_t n_versions;
	__u32 total_weight;
};

/* Gateway API conditions of one route for one parentRef. */
struct route_status {
	const struct object *route;
	size_t parent;      /* index in route.parents */
	bool accepted;
	const char *accepted_reason; /* Accepted, NoMatchingParent, ... */
	bool resolved;
	const char *resolved_reason; /* ResolvedRefs, BackendNotFound, ... */
	const char *message;         /* names the failing reference */
	const struct src_pos *pos;   /* of the failing reference, or NULL */
};

struct image {
	struct img_service *svcs; /* sorted by key */
	size_t n_svcs;
	struct route_status *status;
	size_t n_status;
	struct arena arena; /* owns all of the above */
};

/**
 * compile_image() - compile @all (already validated) into @img.
 * Return: 0, or -ENOMEM (then @img is empty). Free with image_free().
 */
int compile_image(const struct objvec *all, struct image *img);

/** image_free() - release an image; it is empty afterwards. */
void image_free(struct image *img);

/** image_find() - the service entry for @key, or NULL (binary search). */
const struct img_service *image_find(const struct image *img,
				     const struct ambit_svc_key *key);

/**
 * svc_key_search() - binary search of @n elements of @stride bytes at
 * @base, sorted by the ambit_svc_key at @key_off in each; NULL: none.
 */
const void *svc_key_search(const void *base, size_t n, size_t stride,
			   size_t key_off, const struct ambit_svc_key *key);

/** is_service_ref() - a reference to a core Service (group "", kind Service)? */
bool is_service_ref(const struct object_ref *r);

/**
 * route_attaches() - does HTTPRoute @route name port @port of Service
 * @svc (a parentRef to the Service without a port, or with that port)?
 */
bool route_attaches(const struct object *route, const struct object *svc,
		    __u16 port);

/** svc_val_from_image() - the BPF value for @s, with set ids left 0. */
void svc_val_from_image(const struct img_service *s,
			struct ambit_svc_val *val);

/** svc_key_cmp() - total order on keys (memcmp of the packed struct). */
int svc_key_cmp(const struct ambit_svc_key *a, const struct ambit_svc_key *b);

/** svc_key_str() - "127.96.0.1:80/TCP" or "[fd00::1]:80/UDP" into @buf. */
char *svc_key_str(const struct ambit_svc_key *k, char *buf, size_t size);

/** ep_str() - "10.0.0.1:8080" or "[fd00::5]:8080" into @buf. */
char *ep_str(const struct ambit_ep_val *e, char *buf, size_t size);

/* An index of a configuration's Services, EndpointSlices and routes, for
 * resolving many backends (the L7 table builder uses it). */
struct cindex;

/** cindex_new() - index @all (borrowed, must outlive it); NULL: ENOMEM. */
struct cindex *cindex_new(const struct objvec *all);

/** cindex_del() - free an index. NULL is fine. */
void cindex_del(struct cindex *ix);

/**
 * cindex_backend() - the ready endpoints (sorted, deduplicated, in @ar) of
 * TCP port @port of Service @ns/@name, of address family @af (AF_INET or
 * AF_INET6), with each endpoint's resolved target port. When the Service
 * or port does not exist, *@unresolved says so and *@n is 0.
 * Return: 0 or -ENOMEM.
 */
int cindex_backend(const struct cindex *ix, struct arena *ar, const char *ns,
		   const char *name, __u16 port, int af, struct ambit_ep_val **eps,
		   size_t *n, const char **unresolved);

#endif
