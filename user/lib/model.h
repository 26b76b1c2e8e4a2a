/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The configuration model: the Kubernetes objects ambit understands, parsed
 * into plain C structs. Every object owns one arena; all strings and arrays
 * of an object live in it, so an object is freed with obj_free() alone.
 *
 * Optional scalars use explicit has_* flags rather than magic values.
 */
#ifndef AMBIT_MODEL_H
#define AMBIT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* Where a value came from: for error messages (1-based line/col). */
struct src_pos {
	const char *file; /* owned by the object's arena */
	int doc;          /* document number in the file, 1-based */
	int line;
	int col;
};

struct ip_addr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t bytes[16]; /* AF_INET uses the first 4 */
};

/* ---- v1 Service --------------------------------------------------------- */

struct svc_port {
	const char *name;        /* NULL when unnamed */
	uint16_t port;
	const char *target_name; /* targetPort given by name, else NULL */
	uint16_t target_port;    /* numeric targetPort; defaults to port */
	uint8_t proto;           /* IPPROTO_TCP (default) or IPPROTO_UDP */
	const char *app_protocol; /* NULL when absent */
	struct src_pos pos;
};

struct service {
	struct ip_addr *ips; /* clusterIP + clusterIPs, deduplicated */
	size_t n_ips;
	bool headless;       /* clusterIP: None */
	struct svc_port *ports;
	size_t n_ports;
};

/* ---- discovery.k8s.io/v1 EndpointSlice --------------------------------- */

struct ep_port {
	const char *name; /* NULL when unnamed; matches svc_port.name */
	uint16_t port;
	uint8_t proto;
};

struct endpoint {
	struct ip_addr *addrs;
	size_t n_addrs;
	bool ready;           /* conditions.ready; absent means ready */
	const char *hostname; /* NULL when absent */
	const char *target_name; /* targetRef.name (pod), NULL when absent */
	struct src_pos pos;
};

struct endpoint_slice {
	const char *service; /* label kubernetes.io/service-name (required) */
	uint8_t family;      /* addressType: AF_INET / AF_INET6 */
	struct endpoint *eps;
	size_t n_eps;
	struct ep_port *ports;
	size_t n_ports;
};

/* ---- gateway.networking.k8s.io/v1 HTTPRoute ---------------------------- */

enum path_match_type { PATH_PREFIX = 0, PATH_EXACT, PATH_REGEX };
enum value_match_type { MATCH_EXACT = 0, MATCH_REGEX };

struct path_match {
	uint8_t type;      /* enum path_match_type; default PathPrefix */
	const char *value; /* default "/" */
};

struct kv_match {
	uint8_t type; /* enum value_match_type; default Exact */
	const char *name;
	const char *value;
	struct src_pos pos;
};

struct route_match {
	bool has_path; /* false: implicit PathPrefix "/" */
	struct path_match path;
	struct kv_match *headers;
	size_t n_headers;
	struct kv_match *query;
	size_t n_query;
	const char *method; /* NULL: any */
	struct src_pos pos;
};

struct header_kv {
	const char *name;
	const char *value;
};

struct header_mod {
	struct header_kv *set;
	size_t n_set;
	struct header_kv *add;
	size_t n_add;
	const char **remove;
	size_t n_remove;
};

enum path_mod_type { PATHMOD_NONE = 0, PATHMOD_FULL, PATHMOD_PREFIX };

struct path_mod {
	uint8_t type; /* enum path_mod_type */
	const char *value; /* replaceFullPath / replacePrefixMatch */
};

struct redirect {
	const char *scheme;   /* NULL: keep */
	const char *hostname; /* NULL: request Host */
	struct path_mod path;
	bool has_port;
	uint16_t port;
	uint16_t status; /* default 302 */
};

struct rewrite {
	const char *hostname; /* NULL: keep */
	struct path_mod path;
};

struct object_ref {
	const char *group; /* "" for core; default "" for backends */
	const char *kind;  /* default "Service" */
	const char *ns;    /* NULL: the route's namespace */
	const char *name;
	bool has_port;
	uint16_t port;
	struct src_pos pos;
};

struct mirror {
	struct object_ref backend;
	bool has_percent;
	uint32_t percent;
	bool has_fraction;
	uint32_t frac_num;
	uint32_t frac_den; /* default 100 */
};

enum filter_type {
	FILTER_REQ_HEADER = 1,
	FILTER_RESP_HEADER,
	FILTER_REDIRECT,
	FILTER_REWRITE,
	FILTER_MIRROR,
	FILTER_EXTENSION, /* ExtensionRef: parsed, reported as unsupported */
};

struct filter {
	uint8_t type; /* enum filter_type */
	union {
		struct header_mod hdr; /* FILTER_REQ_HEADER / FILTER_RESP_HEADER */
		struct redirect redirect;
		struct rewrite rewrite;
		struct mirror mirror;
		struct object_ref ext;
	};
	struct src_pos pos;
};

struct backend_ref {
	struct object_ref ref;
	uint32_t weight; /* default 1 */
	struct filter *filters;
	size_t n_filters;
};

struct route_rule {
	const char *name; /* v1.2 rule name, NULL when absent */
	struct route_match *matches;
	size_t n_matches; /* 0: matches everything */
	struct filter *filters;
	size_t n_filters;
	struct backend_ref *backends;
	size_t n_backends;
	int64_t timeout_request_ms; /* -1: unset, 0: disabled */
	int64_t timeout_backend_ms; /* -1: unset, 0: disabled */
	struct src_pos pos;
};

struct parent_ref {
	struct object_ref ref; /* group "" kind Service for the mesh case */
	const char *section_name;
};

enum route_mode { ROUTE_MODE_AUTO = 0, ROUTE_MODE_L7 };

struct http_route {
	const char **hostnames;
	size_t n_hostnames;
	struct parent_ref *parents;
	size_t n_parents;
	struct route_rule *rules;
	size_t n_rules;
	uint8_t mode; /* annotation ambit.io/mode: l7 forces the proxy path */
};

/* ---- ambit.io/v1alpha1 Enrollment -------------------------------------- */

struct enrollment {
	const char *cgroup_path; /* exactly one of cgroup_path / netns_path */
	const char *netns_path;
	const char *pod_ns;   /* spec.pod.namespace, NULL when absent */
	const char *pod_name; /* spec.pod.name, NULL when absent */
};

/* ---- v1 Pod and v1 Namespace (enrollment by labels) -------------------- */

struct pod_obj {
	struct ip_addr *ips; /* status.podIPs (or status.podIP), deduplicated */
	size_t n_ips;
	bool host_network;   /* spec.hostNetwork: the node's own namespace */
	const char *node;    /* spec.nodeName, NULL when absent */
	const char *phase;   /* status.phase, NULL when absent */
};

/* ---- objects ------------------------------------------------------------ */

enum obj_kind {
	OBJ_SERVICE = 1,
	OBJ_ENDPOINT_SLICE,
	OBJ_HTTP_ROUTE,
	OBJ_ENROLLMENT,
	OBJ_POD,
	OBJ_NAMESPACE, /* cluster-scoped: its ns is "" */
};

struct label {
	const char *key;
	const char *value;
};

struct object {
	uint8_t kind; /* enum obj_kind */
	const char *ns;   /* metadata.namespace, default "default" */
	const char *name; /* metadata.name (required) */
	const char *creation; /* metadata.creationTimestamp, NULL when absent */
	const char *resource_version; /* metadata.resourceVersion, or NULL */
	struct label *labels; /* metadata.labels, in input order */
	size_t n_labels;
	uint64_t seq;     /* apply order, set by the store: ages routes without
			     a creationTimestamp */
	const char *yaml; /* the object re-emitted as a YAML document */
	struct src_pos pos;
	union {
		struct service svc;
		struct endpoint_slice eps;
		struct http_route route;
		struct enrollment enr;
		struct pod_obj pod;
	};
	struct arena arena; /* owns everything above */
};

/** obj_kind_name() - "Service", "EndpointSlice", ... for a kind. */
const char *obj_kind_name(int kind);

/** obj_cluster_scoped() - a kind without a namespace (Namespace). */
bool obj_cluster_scoped(int kind);

/**
 * obj_label() - the value of label @key of @o, or NULL when it has none.
 */
const char *obj_label(const struct object *o, const char *key);

/**
 * obj_nsname() - "namespace/name", or "name" for a cluster-scoped object,
 * into @buf. Returns @buf.
 */
const char *obj_nsname(const struct object *o, char *buf, size_t size);

/**
 * rv_older() - is resourceVersion @a older than @b? Kubernetes calls them
 * opaque, but API servers hand out etcd revisions: decimal integers that
 * grow. Only when both are such integers can @a be older; otherwise
 * (absent, or not decimal) it is not, so an update is never lost.
 */
bool rv_older(const char *a, const char *b);

/** obj_free() - free an object and everything in its arena. NULL is fine. */
void obj_free(struct object *o);

struct objvec;

/**
 * model_find() - the first object of @kind named @ns/@name in @all (a NULL
 * @ns means "default"). A linear scan: callers with many look-ups should
 * index @all themselves.
 * Return: the object (still owned by @all) or NULL when there is none.
 */
const struct object *model_find(const struct objvec *all, int kind,
				const char *ns, const char *name);

/**
 * service_port() - the port of @s whose `port` is @port (TCP or UDP,
 * whichever comes first; the loader refuses two entries with the same
 * port and protocol). Return: a pointer into @s, or NULL.
 */
const struct svc_port *service_port(const struct service *s, uint16_t port);

#endif
