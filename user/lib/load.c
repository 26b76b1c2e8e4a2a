// SPDX-License-Identifier: Apache-2.0
/*
 * YAML → model: streams, documents, `kind: List`, the kind table and
 * metadata. The kinds themselves are in load_service.c and load_route.c.
 *
 * The input is read twice. The first pass only checks syntax and the
 * hostile-input limits (aliases, depth, sizes, object count) without
 * building anything, so a bomb is refused before it costs memory; the
 * second pass builds one document's tree at a time and converts it.
 */
#include "load.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "load_priv.h"

struct kind_def {
	const char *api[2]; /* accepted apiVersions, the preferred first */
	const char *kind;
	uint8_t obj_kind;
	void (*load)(struct lctx *c, const struct yt_node *root);
};

static const struct kind_def kinds[] = {
	{ { "v1" }, "Service", OBJ_SERVICE, load_service },
	{ { "discovery.k8s.io/v1" }, "EndpointSlice", OBJ_ENDPOINT_SLICE,
	  load_endpoint_slice },
	{ { "gateway.networking.k8s.io/v1",
	    "gateway.networking.k8s.io/v1beta1" },
	  "HTTPRoute", OBJ_HTTP_ROUTE, load_route },
	{ { "ambit.io/v1alpha1" }, "Enrollment", OBJ_ENROLLMENT,
	  load_enrollment },
};

static const struct kind_def *kind_by_name(const char *kind)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!strcmp(kinds[i].kind, kind))
			return &kinds[i];
	}
	return NULL;
}

static bool api_ok(const struct kind_def *k, const char *api)
{
	return !strcmp(k->api[0], api) || (k->api[1] && !strcmp(k->api[1], api));
}

/* apiVersion + kind → kind_def, reporting what does not fit. */
static const struct kind_def *find_kind(struct lctx *c,
					const struct yt_node *root)
{
	const struct yt_node *api = lget(c, root, "apiVersion", "", L_REQ);
	const struct yt_node *kind = lget(c, root, "kind", "", L_REQ);
	const struct kind_def *k;
	char show[80];

	if (!api || !kind)
		return NULL;
	if (kind->type != YT_SCALAR || !(k = kind_by_name(kind->str))) {
		lerr(c, kind, "kind",
		     "unsupported kind %s: ambit reads Service, EndpointSlice, "
		     "HTTPRoute and Enrollment", lshow(kind, show, sizeof(show)));
		return NULL;
	}
	if (api->type == YT_SCALAR && api_ok(k, api->str))
		return k;
	lerr(c, api, "apiVersion", "must be \"%s\"%s%s%s for kind %s, got %s",
	     k->api[0], k->api[1] ? " or \"" : "", k->api[1] ? k->api[1] : "",
	     k->api[1] ? "\"" : "", k->kind, lshow(api, show, sizeof(show)));
	return NULL;
}

static void load_mode(struct lctx *c, const struct yt_node *ann)
{
	static const char *const modes[] = { "auto", "l7", NULL };
	int mode;

	if (lenum(c, ann, "ambit.io/mode", "metadata.annotations", L_OPT,
		  modes, &mode) == 1)
		c->o->route.mode = mode ? ROUTE_MODE_L7 : ROUTE_MODE_AUTO;
}

static void load_meta(struct lctx *c, const struct yt_node *root)
{
	const struct yt_node *m = lget(c, root, "metadata", "", L_REQ);
	const struct yt_node *ann, *ns;
	struct object *o = c->o;

	o->ns = "default";
	if (!m || !lis_map(c, m, "metadata"))
		return;
	o->name = lstr(c, m, "name", "metadata", L_REQ, chk_dns_subdomain);
	/* Unset or "": the default namespace, as kubectl reads it. */
	ns = lget(c, m, "namespace", "metadata", L_OPT);
	if (ns && !(ns->type == YT_SCALAR && !ns->n))
		o->ns = lstr_node(c, ns, "metadata.namespace",
				  chk_dns_subdomain);
	o->creation = lstr(c, m, "creationTimestamp", "metadata", L_OPT,
			   NULL);
	ann = lget(c, m, "annotations", "metadata", L_OPT);
	if (ann && lis_map(c, ann, "metadata.annotations") &&
	    o->kind == OBJ_HTTP_ROUTE)
		load_mode(c, ann);
	if (lget(c, m, "labels", "metadata", L_OPT))
		lis_map(c, lget_quiet(m, "labels"), "metadata.labels");
}

/* obj->yaml: the object's own subtree as a standalone document. */
static int set_yaml(struct lctx *c, const struct yt_node *n)
{
	size_t len;
	char *text;
	int err = yt_emit(n, &text, &len);

	if (err == -EINVAL)
		lerr(c, n, NULL, "cannot re-emit the object as YAML");
	if (err)
		return err == -ENOMEM ? err : 0;
	c->o->yaml = ldup(c, text, len);
	free(text);
	return 0;
}

/* Return: 0 (problems are counted in c->nerr) or -ENOMEM. */
static int load_object(struct lctx *c, const struct yt_node *n,
		       struct objvec *vec)
{
	const struct kind_def *k = find_kind(c, n);
	unsigned nerr = c->nerr;
	struct object *o;
	bool keep;
	int err = 0;

	if (!k)
		return 0;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	c->o = o;
	c->a = &o->arena;
	c->ofile = ldup(c, c->file, strlen(c->file));
	o->kind = k->obj_kind;
	o->pos = lpos(c, n);
	load_meta(c, n);
	k->load(c, n);
	if (c->nerr == nerr && !c->nomem)
		err = set_yaml(c, n);
	keep = !err && c->nerr == nerr && !c->nomem;
	if (keep)
		err = objvec_push(vec, o);
	if (!keep || err)
		obj_free(o);
	c->o = NULL;
	c->a = NULL;
	return c->nomem ? -ENOMEM : err;
}

static bool is_list_kind(const struct yt_node *kind)
{
	return kind && kind->type == YT_SCALAR && kind->n >= 4 &&
	       !strcmp(kind->str + kind->n - 4, "List");
}

static int load_list(struct lctx *c, const struct yt_node *root,
		     struct objvec *vec)
{
	const struct yt_node *items = lget(c, root, "items", "", L_OPT);
	const struct yt_node *it;
	char p[FP_MAX];
	size_t i = 0;
	int err = 0;

	if (!items || !lis_seq(c, items, "items", 0))
		return 0;
	for (it = items->first; it && !err; it = it->next, i++) {
		fp_idx(p, "items", i);
		if (!lis_map(c, it, p))
			continue;
		if (is_list_kind(lget_quiet(it, "kind"))) {
			lerr(c, it, p, "a List inside a List is not supported");
			continue;
		}
		err = load_object(c, it, vec);
	}
	return err;
}

static int load_doc(struct lctx *c, const struct yt_node *root,
		    struct objvec *vec)
{
	char show[80];

	if (yt_is_null(root))
		return 0; /* an empty document */
	if (root->type != YT_MAP) {
		lerr(c, root, NULL,
		     "a document must be a Kubernetes object (a mapping), got %s",
		     lshow(root, show, sizeof(show)));
		return 0;
	}
	if (is_list_kind(lget_quiet(root, "kind")))
		return load_list(c, root, vec);
	return load_object(c, root, vec);
}

/* First pass: syntax and limits only. */
static int check_stream(const char *file, const char *buf, size_t len,
			struct diags *d)
{
	struct yt_reader r;
	struct yt_node *root;
	int err = yt_open(&r, file, buf, len, d, false);

	while (!err && (err = yt_next(&r, &root)) == 1)
		err = 0;
	yt_close(&r);
	return err;
}

/* Second pass: build and convert one document at a time. */
static int load_stream(const char *file, const char *buf, size_t len,
		       struct objvec *vec, struct diags *d)
{
	struct lctx c = { .d = d, .file = file };
	struct yt_reader r;
	struct yt_node *root;
	int err = yt_open(&r, file, buf, len, d, true);

	while (!err && (err = yt_next(&r, &root)) == 1) {
		c.doc = r.doc;
		err = load_doc(&c, root, vec);
	}
	yt_close(&r);
	if (!err && c.nomem)
		err = -ENOMEM;
	if (!err && c.nerr)
		err = -EINVAL;
	return err;
}

/* All or nothing: on ENOMEM @out is left as it was. */
static int move_objects(struct objvec *from, struct objvec *out)
{
	size_t n0 = out->n, i;

	for (i = 0; i < from->n; i++) {
		if (objvec_push(out, from->v[i]) < 0) {
			out->n = n0; /* @from still owns them all */
			return -ENOMEM;
		}
	}
	from->n = 0;
	return 0;
}

int model_load(const char *file, const char *buf, size_t len,
	       struct objvec *out, struct diags *d)
{
	struct objvec tmp = { 0 };
	int err;

	if (!file)
		file = "<input>";
	if (len > LOAD_MAX_BYTES) {
		struct src_pos pos = { file, 1, 1, 1 };

		diag_add(d, &pos, NULL,
			 "input of %zu bytes exceeds the limit of %u bytes", len,
			 LOAD_MAX_BYTES);
		return -EINVAL;
	}
	err = check_stream(file, buf, len, d);
	if (!err)
		err = load_stream(file, buf, len, &tmp, d);
	if (!err)
		err = move_objects(&tmp, out);
	objvec_free(&tmp);
	return err;
}
