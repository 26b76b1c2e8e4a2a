/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the YAML → model loader shared by load*.c: the conversion
 * context, typed field access with error reporting, and value checks.
 *
 * Conversion functions do not stop at the first error: each problem is
 * reported through lerr() (which counts it in lctx.nerr) and conversion
 * goes on, so one run lists every mistake. An object with any error is
 * dropped. Arena exhaustion sets lctx.nomem and is returned as -ENOMEM.
 */
#ifndef AMBIT_LOAD_PRIV_H
#define AMBIT_LOAD_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "model.h"
#include "ytree.h"

/* Longest field path kept in messages; longer ones are truncated. */
#define FP_MAX 256

struct lctx {
	struct diags *d;
	const char *file;  /* for messages */
	int doc;           /* 1-based document number */
	struct object *o;  /* the object being built */
	struct arena *a;   /* &o->arena */
	const char *ofile; /* file name copied into o's arena, for src_pos */
	unsigned nerr;     /* errors reported so far */
	bool nomem;
};

/* ---- field paths: "spec.rules[0].backendRefs[1].weight" ---------------- */

/** fp_key() - @parent + "." + @key into @out (FP_MAX bytes). */
void fp_key(char *out, const char *parent, const char *key);

/** fp_idx() - @parent + "[@i]" into @out (FP_MAX bytes). */
void fp_idx(char *out, const char *parent, size_t i);

/* ---- reporting ---------------------------------------------------------- */

/** lpos() - where @n is, with the file name owned by the object's arena. */
struct src_pos lpos(const struct lctx *c, const struct yt_node *n);

/** lerr() - report a problem at @n (field @path) and count it. */
void lerr(struct lctx *c, const struct yt_node *n, const char *path,
	  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/**
 * lshow() - @n for a message: a scalar quoted, escaped and truncated,
 * else "a mapping" / "a list". Returns @buf.
 */
const char *lshow(const struct yt_node *n, char *buf, size_t size);

/* ---- memory ------------------------------------------------------------- */

/** lalloc() - @n zeroed elements in the object's arena; NULL on ENOMEM. */
void *lalloc(struct lctx *c, size_t n, size_t size);

/** ldup() - copy of @n bytes at @s in the object's arena. */
const char *ldup(struct lctx *c, const char *s, size_t n);

/* ---- typed access ------------------------------------------------------- */

/*
 * Fields are looked up by key in a mapping; a key that is absent or whose
 * value is null ("", ~, null) is unset, as in Kubernetes. @path is the
 * mapping's path; the helpers append the key themselves.
 */

enum { L_OPT = 0, L_REQ = 1 };

/* A value check: NULL when @s is fine, else what is wrong ("must be ..."). */
typedef const char *(*lcheck_fn)(const char *s, size_t n);

/**
 * lget() - the value of @key in @map, or NULL when unset. A repeated key is
 * reported. With L_REQ an unset key is reported as "is required".
 */
const struct yt_node *lget(struct lctx *c, const struct yt_node *map,
			   const char *key, const char *path, int flags);

/** lget_quiet() - lget() without reporting anything. */
const struct yt_node *lget_quiet(const struct yt_node *map, const char *key);

/** lis_map() - true when @n is a mapping, else reports it. */
bool lis_map(struct lctx *c, const struct yt_node *n, const char *path);

/**
 * lis_seq() - true when @n is a list of at most @max items (0: no limit),
 * else reports it.
 */
bool lis_seq(struct lctx *c, const struct yt_node *n, const char *path,
	     size_t max);

/** lstr_node() - the string @n, checked by @check (may be NULL). */
const char *lstr_node(struct lctx *c, const struct yt_node *n,
		      const char *path, lcheck_fn check);

/** lstr() - string field @key of @map; NULL when unset or invalid. */
const char *lstr(struct lctx *c, const struct yt_node *map, const char *key,
		 const char *path, int flags, lcheck_fn check);

/**
 * lint() - integer field in [@min, @max].
 * Return: 1 and *@out set; 0 when unset; -1 when invalid (reported).
 */
int lint(struct lctx *c, const struct yt_node *map, const char *key,
	 const char *path, int flags, int64_t min, int64_t max,
	 int64_t *out);

/**
 * lint_node() - whether @n is a plain decimal integer ([-+]?[0-9]+ that
 * fits in int64), with its value in *@out. Reports nothing.
 */
bool lint_node(const struct yt_node *n, int64_t *out);

/** lport() - lint() for a port number 1..65535. */
int lport(struct lctx *c, const struct yt_node *map, const char *key,
	  const char *path, int flags, uint16_t *out);

/** lbool() - true/false field; same returns as lint(). */
int lbool(struct lctx *c, const struct yt_node *map, const char *key,
	  const char *path, bool *out);

/**
 * lenum() - string field that must be one of the NULL-terminated @names;
 * *@out is its index. Same returns as lint().
 */
int lenum(struct lctx *c, const struct yt_node *map, const char *key,
	  const char *path, int flags, const char *const *names, int *out);

/**
 * lip() - the IP address in scalar @n; @family AF_INET / AF_INET6 forces
 * one, 0 takes either. Return: 0, or -1 when invalid (reported).
 */
int lip(struct lctx *c, const struct yt_node *n, const char *path,
	int family, struct ip_addr *out);

/** ldup_str() - true when a name in @names[0..@i) equals @names[@i]. */
bool ldup_str(const char *const *names, size_t i, bool nocase);

/*
 * ---- value checks (lcheck_fn, load_check.c) ------------------------------
 * Each returns NULL when the @n bytes at @s (NUL-terminated) are fine, else
 * a static "must be ..." text for the message.
 */

/** chk_dns_subdomain() - RFC 1123 subdomain: object names, namespaces. */
const char *chk_dns_subdomain(const char *s, size_t n);

/** chk_dns_label() - RFC 1123 label: port names, ref namespaces. */
const char *chk_dns_label(const char *s, size_t n);

/** chk_port_name() - IANA service name: a named targetPort. */
const char *chk_port_name(const char *s, size_t n);

/** chk_hostname() - Gateway API Hostname ("*." wildcard allowed). */
const char *chk_hostname(const char *s, size_t n);

/** chk_precise_hostname() - Gateway API PreciseHostname (no wildcard). */
const char *chk_precise_hostname(const char *s, size_t n);

/** chk_group() - "" (core) or an RFC 1123 subdomain. */
const char *chk_group(const char *s, size_t n);

/** chk_kind() - Gateway API Kind: ^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$ */
const char *chk_kind(const char *s, size_t n);

/** chk_header_name() - RFC 7230 token of at most 256 characters. */
const char *chk_header_name(const char *s, size_t n);

/** chk_header_value() - 1 to 4096 characters, no controls but tab. */
const char *chk_header_value(const char *s, size_t n);

/** chk_abs_path() - Exact / PathPrefix match value (the CRD's rules). */
const char *chk_abs_path(const char *s, size_t n);

/**
 * lregex() - report @re (the value of scalar @n) when PCRE2 cannot compile
 * it. Return: true when it compiles.
 */
bool lregex(struct lctx *c, const struct yt_node *n, const char *path,
	    const char *re);

/* ---- per kind (load_service.c, load_route.c) ---------------------------- */

/** load_service() - fill c->o->svc from the object at @root. */
void load_service(struct lctx *c, const struct yt_node *root);

/** load_endpoint_slice() - fill c->o->eps. */
void load_endpoint_slice(struct lctx *c, const struct yt_node *root);

/** load_enrollment() - fill c->o->enr. */
void load_enrollment(struct lctx *c, const struct yt_node *root);

/** load_pod() - fill c->o->pod (load_pod.c). */
void load_pod(struct lctx *c, const struct yt_node *root);

/** load_namespace() - a Namespace carries nothing but its metadata. */
void load_namespace(struct lctx *c, const struct yt_node *root);

/**
 * load_doc() - convert the document at @root (one object or a `kind:
 * List`), appending what loads to @vec; problems are counted in c->nerr.
 * Return: 0 or -ENOMEM.
 */
int load_doc(struct lctx *c, const struct yt_node *root, struct objvec *vec);

/** load_route() - fill c->o->route (spec only; the mode is metadata). */
void load_route(struct lctx *c, const struct yt_node *root);

/* What a filter list needs to know about its rule (load_filter.c). */
struct rule_info {
	const struct route_rule *rule; /* matches already parsed */
	size_t n_backends;             /* backendRefs of the rule */
	bool in_backend;               /* a backendRef's own filters */
};

/** load_filters() - parse the filter list @seq into *@out / *@n. */
void load_filters(struct lctx *c, const struct yt_node *seq, const char *path,
		  const struct rule_info *ri, struct filter **out, size_t *n);

/**
 * load_ref() - group, kind, namespace, name and port of the reference at
 * @map into @ref, with @def_group / @def_kind when unset; ref->pos is
 * @map's position.
 */
void load_ref(struct lctx *c, const struct yt_node *map, const char *path,
	      const char *def_group, const char *def_kind,
	      struct object_ref *ref);

/**
 * load_backend_obj() - a BackendObjectReference: load_ref() with group ""
 * and kind Service by default, and a port required for a Service.
 */
void load_backend_obj(struct lctx *c, const struct yt_node *map,
		      const char *path, struct object_ref *ref);

#endif
