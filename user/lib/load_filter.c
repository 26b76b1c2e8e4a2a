// SPDX-License-Identifier: Apache-2.0
/* HTTPRoute filters and object references. */
#include "load_priv.h"

#include <string.h>

#define FILTER_MAX 16
#define HDR_MAX 16 /* items in set, add and remove each */

struct filter_def {
	const char *type; /* spec.rules[].filters[].type */
	const char *key;  /* the config field that goes with it */
	uint8_t ftype;    /* enum filter_type; 0: not supported */
	bool repeat;      /* may appear several times in one list */
};

static const struct filter_def fdefs[] = {
	{ "RequestHeaderModifier", "requestHeaderModifier", FILTER_REQ_HEADER,
	  false },
	{ "ResponseHeaderModifier", "responseHeaderModifier",
	  FILTER_RESP_HEADER, false },
	{ "RequestRedirect", "requestRedirect", FILTER_REDIRECT, false },
	{ "URLRewrite", "urlRewrite", FILTER_REWRITE, false },
	{ "RequestMirror", "requestMirror", FILTER_MIRROR, true },
	{ "ExtensionRef", "extensionRef", FILTER_EXTENSION, true },
	{ "CORS", "cors", 0, false },
	{ "ExternalAuth", "externalAuth", 0, false },
};

#define N_FDEFS (sizeof(fdefs) / sizeof(fdefs[0]))

/* fdefs[].type for lenum(), in the same order. */
static const char *const fnames[] = {
	"RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect",
	"URLRewrite", "RequestMirror", "ExtensionRef", "CORS", "ExternalAuth",
	NULL,
};

_Static_assert(sizeof(fnames) / sizeof(fnames[0]) == N_FDEFS + 1,
	       "fnames[] must list fdefs[] in order");

/* ---- object references ---------------------------------------------------- */

static const char *chk_obj_name(const char *s, size_t n)
{
	return n && n <= 253 ? NULL : "must be 1 to 253 characters long";
}

void load_ref(struct lctx *c, const struct yt_node *map, const char *path,
	      const char *def_group, const char *def_kind,
	      struct object_ref *ref)
{
	ref->pos = lpos(c, map);
	ref->group = def_group;
	ref->kind = def_kind;
	if (!lis_map(c, map, path))
		return;
	if (lget_quiet(map, "group"))
		ref->group = lstr(c, map, "group", path, L_OPT, chk_group);
	if (lget_quiet(map, "kind"))
		ref->kind = lstr(c, map, "kind", path, L_OPT, chk_kind);
	ref->ns = lstr(c, map, "namespace", path, L_OPT, chk_dns_label);
	ref->name = lstr(c, map, "name", path, L_REQ, chk_obj_name);
	ref->has_port = lport(c, map, "port", path, L_OPT, &ref->port) == 1;
}

void load_backend_obj(struct lctx *c, const struct yt_node *map,
		      const char *path, struct object_ref *ref)
{
	char p[FP_MAX];

	load_ref(c, map, path, "", "Service", ref);
	if (map->type != YT_MAP || lget_quiet(map, "port"))
		return;
	if (ref->group && ref->kind && !*ref->group &&
	    !strcmp(ref->kind, "Service")) {
		fp_key(p, path, "port");
		lerr(c, map, p, "is required for a Service backend");
	}
}

/* ---- header modifiers ----------------------------------------------------- */

/* Header names seen in one filter: one action per name. */
struct hdr_seen {
	const char *v[3 * HDR_MAX];
	size_t n;
};

static void hdr_note(struct lctx *c, struct hdr_seen *seen,
		     const struct yt_node *n, const char *path,
		     const char *name)
{
	if (!name)
		return;
	seen->v[seen->n] = name;
	if (ldup_str(seen->v, seen->n, true))
		lerr(c, n, path,
		     "header \"%s\" already has an action in this filter "
		     "(names are case-insensitive)", name);
	seen->n++;
}

static void hdr_kvs(struct lctx *c, const struct yt_node *n, const char *key,
		    const char *path, struct hdr_seen *seen,
		    struct header_kv **out, size_t *nout)
{
	const struct yt_node *v = lget(c, n, key, path, L_OPT), *it;
	char p[FP_MAX], ip[FP_MAX], np[FP_MAX];
	size_t i = 0;

	fp_key(p, path, key);
	if (!v || !lis_seq(c, v, p, HDR_MAX) || !v->n)
		return;
	*out = lalloc(c, v->n, sizeof(**out));
	if (!*out)
		return;
	*nout = v->n;
	for (it = v->first; it; it = it->next, i++) {
		fp_idx(ip, p, i);
		if (!lis_map(c, it, ip))
			continue;
		(*out)[i].name = lstr(c, it, "name", ip, L_REQ,
				      chk_header_name);
		(*out)[i].value = lstr(c, it, "value", ip, L_REQ,
				       chk_header_value);
		fp_key(np, ip, "name");
		hdr_note(c, seen, lget_quiet(it, "name"), np, (*out)[i].name);
	}
}

static void hdr_remove(struct lctx *c, const struct yt_node *n,
		       const char *path, struct hdr_seen *seen,
		       struct header_mod *h)
{
	const struct yt_node *v = lget(c, n, "remove", path, L_OPT), *it;
	char p[FP_MAX], ip[FP_MAX];
	size_t i = 0;

	fp_key(p, path, "remove");
	if (!v || !lis_seq(c, v, p, HDR_MAX) || !v->n)
		return;
	h->remove = lalloc(c, v->n, sizeof(*h->remove));
	if (!h->remove)
		return;
	h->n_remove = v->n;
	for (it = v->first; it; it = it->next, i++) {
		fp_idx(ip, p, i);
		h->remove[i] = lstr_node(c, it, ip, chk_header_name);
		hdr_note(c, seen, it, ip, h->remove[i]);
	}
}

static void header_mod(struct lctx *c, const struct yt_node *n,
		       const char *path, struct header_mod *h)
{
	struct hdr_seen seen = { .n = 0 };

	if (!lis_map(c, n, path))
		return;
	hdr_kvs(c, n, "set", path, &seen, &h->set, &h->n_set);
	hdr_kvs(c, n, "add", path, &seen, &h->add, &h->n_add);
	hdr_remove(c, n, path, &seen, h);
}

/* ---- path modifiers, redirect, rewrite ------------------------------------ */

static const char *chk_full_path(const char *s, size_t n)
{
	size_t i;

	if (!n || s[0] != '/' || n > 1024)
		return "must be a path starting with '/' (at most 1024 "
		       "characters)";
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return "must not contain spaces or control characters";
	}
	return NULL;
}

/* "" is allowed: /foo/bar with prefix /foo becomes /bar. */
static const char *chk_prefix_path(const char *s, size_t n)
{
	return n ? chk_full_path(s, n) : NULL;
}

/* ReplacePrefixMatch replaces the matched prefix: there must be one. */
static bool prefix_matches_only(const struct route_rule *r)
{
	size_t i;

	for (i = 0; i < r->n_matches; i++) {
		if (r->matches[i].path.type != PATH_PREFIX)
			return false;
	}
	return true;
}

static void path_mod(struct lctx *c, const struct yt_node *n,
		     const char *path, const struct rule_info *ri,
		     struct path_mod *m)
{
	static const char *const types[] = { "ReplaceFullPath",
					     "ReplacePrefixMatch", NULL };
	const char *want, *other;
	char p[FP_MAX];
	int t;

	if (!lis_map(c, n, path) ||
	    lenum(c, n, "type", path, L_REQ, types, &t) != 1)
		return;
	m->type = t ? PATHMOD_PREFIX : PATHMOD_FULL;
	want = t ? "replacePrefixMatch" : "replaceFullPath";
	other = t ? "replaceFullPath" : "replacePrefixMatch";
	fp_key(p, path, other);
	if (lget(c, n, other, path, L_OPT))
		lerr(c, lget_quiet(n, other), p, "must not be set when type is %s",
		     types[t]);
	fp_key(p, path, want);
	if (!lget_quiet(n, want))
		lerr(c, n, p, "is required when type is %s", types[t]);
	m->value = lstr(c, n, want, path, L_OPT,
			t ? chk_prefix_path : chk_full_path);
	fp_key(p, path, "type");
	if (t && !prefix_matches_only(ri->rule))
		lerr(c, lget_quiet(n, "type"), p,
		     "ReplacePrefixMatch needs every match of the rule to be a "
		     "PathPrefix match");
}

static void redirect_status(struct lctx *c, const struct yt_node *n,
			    const char *path, struct redirect *r)
{
	const struct yt_node *v = lget(c, n, "statusCode", path, L_OPT);
	char p[FP_MAX], show[80];
	int64_t code = 0;

	if (!v)
		return;
	if (lint_node(v, &code) && (code == 301 || code == 302 || code == 303 ||
				    code == 307 || code == 308)) {
		r->status = (uint16_t)code;
		return;
	}
	fp_key(p, path, "statusCode");
	lerr(c, v, p, "must be one of 301, 302, 303, 307 or 308, got %s",
	     lshow(v, show, sizeof(show)));
}

static void redirect(struct lctx *c, const struct yt_node *n,
		     const char *path, const struct rule_info *ri,
		     struct redirect *r)
{
	static const char *const schemes[] = { "http", "https", NULL };
	const struct yt_node *pv;
	char p[FP_MAX];
	int i;

	r->status = 302;
	if (!lis_map(c, n, path))
		return;
	if (lenum(c, n, "scheme", path, L_OPT, schemes, &i) == 1)
		r->scheme = schemes[i];
	r->hostname = lstr(c, n, "hostname", path, L_OPT, chk_precise_hostname);
	pv = lget(c, n, "path", path, L_OPT);
	fp_key(p, path, "path");
	if (pv)
		path_mod(c, pv, p, ri, &r->path);
	r->has_port = lport(c, n, "port", path, L_OPT, &r->port) == 1;
	redirect_status(c, n, path, r);
}

static void rewrite(struct lctx *c, const struct yt_node *n,
		    const char *path, const struct rule_info *ri,
		    struct rewrite *r)
{
	const struct yt_node *pv;
	char p[FP_MAX];

	if (!lis_map(c, n, path))
		return;
	r->hostname = lstr(c, n, "hostname", path, L_OPT, chk_precise_hostname);
	pv = lget(c, n, "path", path, L_OPT);
	fp_key(p, path, "path");
	if (pv)
		path_mod(c, pv, p, ri, &r->path);
}

/* ---- mirror, extensionRef ------------------------------------------------- */

static void fraction(struct lctx *c, const struct yt_node *n,
		     const char *path, struct mirror *m)
{
	int64_t num = 0, den = 100;
	char p[FP_MAX];

	if (!lis_map(c, n, path))
		return;
	if (lint(c, n, "numerator", path, L_REQ, 0, INT32_MAX, &num) != 1 ||
	    lint(c, n, "denominator", path, L_OPT, 1, INT32_MAX, &den) < 0)
		return;
	if (num > den) {
		fp_key(p, path, "numerator");
		lerr(c, lget_quiet(n, "numerator"), p,
		     "must not be greater than the denominator (%lld)",
		     (long long)den);
		return;
	}
	m->has_fraction = true;
	m->frac_num = (uint32_t)num;
	m->frac_den = (uint32_t)den;
}

static void mirror(struct lctx *c, const struct yt_node *n, const char *path,
		   struct mirror *m)
{
	const struct yt_node *b, *fr;
	char p[FP_MAX];
	int64_t pct;

	m->frac_den = 100;
	if (!lis_map(c, n, path))
		return;
	b = lget(c, n, "backendRef", path, L_REQ);
	fp_key(p, path, "backendRef");
	if (b)
		load_backend_obj(c, b, p, &m->backend);
	if (lint(c, n, "percent", path, L_OPT, 0, 100, &pct) == 1) {
		m->has_percent = true;
		m->percent = (uint32_t)pct;
	}
	fr = lget(c, n, "fraction", path, L_OPT);
	fp_key(p, path, "fraction");
	if (fr && lget_quiet(n, "percent"))
		lerr(c, fr, p, "only one of percent and fraction may be set");
	else if (fr)
		fraction(c, fr, p, m);
}

static void extension_ref(struct lctx *c, const struct yt_node *n,
			  const char *path, struct object_ref *ref)
{
	ref->pos = lpos(c, n);
	if (!lis_map(c, n, path))
		return;
	/* LocalObjectReference: all three required; group may be "". */
	ref->group = lstr(c, n, "group", path, L_REQ, chk_group);
	ref->kind = lstr(c, n, "kind", path, L_REQ, chk_kind);
	ref->name = lstr(c, n, "name", path, L_REQ, chk_obj_name);
}

/* ---- one filter, filter lists --------------------------------------------- */

static void filter_config(struct lctx *c, const struct yt_node *cfg,
			  const char *path, const struct rule_info *ri,
			  struct filter *f)
{
	switch (f->type) {
	case FILTER_REQ_HEADER:
	case FILTER_RESP_HEADER:
		header_mod(c, cfg, path, &f->hdr);
		break;
	case FILTER_REDIRECT:
		redirect(c, cfg, path, ri, &f->redirect);
		break;
	case FILTER_REWRITE:
		rewrite(c, cfg, path, ri, &f->rewrite);
		break;
	case FILTER_MIRROR:
		mirror(c, cfg, path, &f->mirror);
		break;
	case FILTER_EXTENSION:
		extension_ref(c, cfg, path, &f->ext);
		break;
	}
}

/* Config fields of other filter types must not be set (CRD rules). */
static void filter_others(struct lctx *c, const struct yt_node *n,
			  const char *path, size_t t)
{
	const struct yt_node *v;
	char p[FP_MAX];
	size_t i;

	for (i = 0; i < N_FDEFS; i++) {
		v = lget_quiet(n, fdefs[i].key);
		if (i == t || !v)
			continue;
		fp_key(p, path, fdefs[i].key);
		lerr(c, v, p, "must not be set when type is %s", fdefs[t].type);
	}
}

/* Combination rules across one list; @seen has a bit per filter type. */
static void filter_combo(struct lctx *c, const struct yt_node *tn,
			 const char *path, const struct rule_info *ri,
			 const struct filter_def *def, unsigned *seen)
{
	unsigned bit = 1u << def->ftype;
	unsigned clash = 1u << (def->ftype == FILTER_REDIRECT ? FILTER_REWRITE :
								 FILTER_REDIRECT);

	if (!def->repeat && (*seen & bit))
		lerr(c, tn, path, "%s filter cannot be repeated", def->type);
	if ((def->ftype == FILTER_REDIRECT || def->ftype == FILTER_REWRITE) &&
	    (*seen & clash))
		lerr(c, tn, path,
		     "RequestRedirect and URLRewrite filters cannot be used "
		     "together");
	if (def->ftype == FILTER_REDIRECT && !ri->in_backend && ri->n_backends)
		lerr(c, tn, path,
		     "RequestRedirect filter cannot be used together with "
		     "backendRefs");
	*seen |= bit;
}

static void load_filter(struct lctx *c, const struct yt_node *n,
			const char *path, const struct rule_info *ri,
			struct filter *f, unsigned *seen)
{
	const struct filter_def *def;
	const struct yt_node *cfg;
	char p[FP_MAX];
	int t;

	f->pos = lpos(c, n);
	if (!lis_map(c, n, path) ||
	    lenum(c, n, "type", path, L_REQ, fnames, &t) != 1)
		return;
	def = &fdefs[t];
	fp_key(p, path, "type");
	if (!def->ftype) {
		lerr(c, lget_quiet(n, "type"), p,
		     "%s filters are not supported by ambit", def->type);
		return;
	}
	filter_combo(c, lget_quiet(n, "type"), p, ri, def, seen);
	filter_others(c, n, path, (size_t)t);
	f->type = def->ftype;
	cfg = lget(c, n, def->key, path, L_OPT);
	fp_key(p, path, def->key);
	if (!cfg)
		lerr(c, n, p, "is required when type is %s", def->type);
	else
		filter_config(c, cfg, p, ri, f);
}

void load_filters(struct lctx *c, const struct yt_node *seq, const char *path,
		  const struct rule_info *ri, struct filter **out, size_t *n)
{
	const struct yt_node *it;
	char p[FP_MAX];
	unsigned seen = 0;
	size_t i = 0;

	if (!lis_seq(c, seq, path, FILTER_MAX) || !seq->n)
		return;
	*out = lalloc(c, seq->n, sizeof(**out));
	if (!*out)
		return;
	*n = seq->n;
	for (it = seq->first; it; it = it->next, i++) {
		fp_idx(p, path, i);
		load_filter(c, it, p, ri, &(*out)[i], &seen);
	}
}
