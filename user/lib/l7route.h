/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTPRoute semantics for the L7 proxy, as the Gateway API v1 defines them
 * (see shared/gateway-api-notes.md): a table built once per configuration
 * snapshot, then per request: match (with precedence), pick a backend by
 * weight, and turn the rule's and backend's filters into actions.
 * Pure C, no sockets: unit-tested on its own.
 */
#ifndef AMBIT_L7ROUTE_H
#define AMBIT_L7ROUTE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ambit/abi.h"
#include "arena.h"
#include "compile.h"
#include "http_types.h"
#include "model.h"
#include "objvec.h"

struct l7_backend {
	const char *ns;
	const char *name;
	uint16_t port;
	uint32_t weight;
	const char *unresolved;    /* non-NULL: answer 500 */
	struct ambit_ep_val *eps;  /* ready endpoints (VIP's family); 0: 503 */
	size_t n_eps;
	const struct filter *filters; /* backendRef filters */
	size_t n_filters;
};

struct l7_rule {
	const struct object *route;
	size_t index;               /* rule index in the route */
	const struct route_rule *rule;
	struct l7_backend *backends;
	size_t n_backends;
	uint32_t total_weight;      /* 0 with backends: 500 (all weight 0) */
	struct l7_backend *mirrors; /* RequestMirror targets, filter order */
	size_t n_mirrors;
};

/* One match of one rule, with its regexes compiled (pcre2_code *). */
struct l7_entry {
	const struct route_match *match; /* NULL: matches every request */
	const struct l7_rule *rule;
	void *path_rx;
	void **header_rx; /* per header match; NULL for Exact */
	void **query_rx;  /* per query match; NULL for Exact */
};

struct l7_entries {
	struct l7_entry *v; /* sorted by precedence: first match wins */
	size_t n;
};

/* Consumer routes of one client namespace for one Service port. */
struct l7_consumer {
	const char *ns;
	struct l7_entries entries;
};

struct l7_port {
	struct ambit_svc_key key;   /* VIP:port/TCP as the client dialed it */
	const struct object *svc;
	struct l7_entries producer; /* routes in the Service's namespace */
	struct l7_consumer *consumers;
	size_t n_consumers;
};

struct l7_table {
	struct l7_port *ports; /* sorted by key */
	size_t n_ports;
	struct arena arena;
	void **rx;             /* every compiled regex, for l7_free */
	size_t n_rx;
};

/**
 * l7_build() - the table for every L7 service port of @img (compiled from
 * @all, both borrowed and required to outlive the table).
 * Return: 0 or -ENOMEM (then @t is empty).
 */
int l7_build(const struct objvec *all, const struct image *img,
	     struct l7_table *t);

/** l7_free() - release the table and its regexes. */
void l7_free(struct l7_table *t);

/** l7_find_port() - the port table for @key, or NULL (binary search). */
const struct l7_port *l7_find_port(const struct l7_table *t,
				   const struct ambit_svc_key *key);

/* What a request looks like to the matcher. */
struct l7_request_view {
	struct str_view method;
	struct str_view path;  /* raw, before '?' */
	struct str_view query; /* after '?', len 0 when none */
	struct str_view host;  /* Host header, may include ":port" */
	const struct http_header *headers;
	size_t n_headers;
};

/**
 * l7_match() - the winning entry for a request from a client in namespace
 * @client_ns (NULL when unknown). Consumer routes of that namespace, when
 * there are any, replace the producer routes for it. Return: the entry,
 * or NULL when nothing matches (answer 404).
 */
const struct l7_entry *l7_match(const struct l7_port *p, const char *client_ns,
				const struct l7_request_view *rq);

/**
 * l7_pick_backend() - a backend of @r chosen by weight with the 32-bit
 * random @rnd (the same choice as the BPF programs, ambit/select.h);
 * weight 0 is never chosen. NULL when the rule has no backend with
 * weight > 0.
 */
const struct l7_backend *l7_pick_backend(const struct l7_rule *r, uint32_t rnd);

enum l7_hdr_op_type { L7_HDR_SET = 1, L7_HDR_ADD, L7_HDR_REMOVE };

struct l7_hdr_op {
	uint8_t op; /* enum l7_hdr_op_type */
	const char *name;
	const char *value; /* NULL for REMOVE */
};

#define L7_MAX_OPS 64
#define L7_MAX_MIRRORS 8

/* Everything the filters of a rule and its chosen backend ask for. */
struct l7_actions {
	struct l7_hdr_op req[L7_MAX_OPS];  /* in filter order */
	size_t n_req;
	struct l7_hdr_op resp[L7_MAX_OPS];
	size_t n_resp;
	int redirect_status;   /* 0: no redirect, else 301/302/303/307/308 */
	char *location;        /* redirect target, NUL-terminated */
	const char *host;      /* URLRewrite hostname, NULL: keep */
	char *path;            /* rewritten path (no query), NULL: keep */
	const struct l7_backend *mirrors[L7_MAX_MIRRORS];
	size_t n_mirrors;      /* only those that won their percent draw */
};

/* How the client reached us, for RequestRedirect's defaults. */
struct l7_conn_info {
	const char *scheme; /* "http" */
	uint16_t port;      /* the Service port the client dialed */
};

/**
 * l7_actions() - apply the filters of @e's rule, then of backend @b (may
 * be NULL for a redirect rule), to request @rq. Strings are allocated in
 * @ar (a per-request arena). @rnd draws the mirror percentages.
 * Redirects follow the spec's defaults: hostname from Host (no port);
 * port: the filter's, else the scheme's well-known one when a scheme is
 * set, else the client's; omitted from Location when it is 80 for http or
 * 443 for https. ReplacePrefixMatch replaces the matched prefix only, on
 * segment boundaries. Return: 0, -ENOMEM, or -E2BIG when the filters ask
 * for more than L7_MAX_OPS header ops on one side or L7_MAX_MIRRORS
 * mirrors (@out then holds what fitted; answer 500).
 */
int l7_actions(const struct l7_entry *e, const struct l7_backend *b,
	       const struct l7_request_view *rq, const struct l7_conn_info *ci,
	       uint32_t rnd, struct arena *ar, struct l7_actions *out);

/**
 * l7_hdr_kept() - does an original header named @name survive @ops as is?
 * False when an op SETs it (the caller emits the SET values instead) or
 * REMOVEs it; ADD keeps it (the ADD value is emitted in addition). Names
 * compare case-insensitively.
 */
bool l7_hdr_kept(const struct l7_hdr_op *ops, size_t n, struct str_view name);

#endif
