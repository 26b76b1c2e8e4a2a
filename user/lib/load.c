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

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

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
	{ { "v1" }, "Pod", OBJ_POD, load_pod },
	{ { "v1" }, "Namespace", OBJ_NAMESPACE, load_namespace },
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
		     "HTTPRoute, Enrollment, Pod and Namespace",
		     lshow(kind, show, sizeof(show)));
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

/* metadata.labels: string keys and values, kept in input order. */
static void load_labels(struct lctx *c, const struct yt_node *m)
{
	const struct yt_node *lm = lget(c, m, "labels", "metadata", L_OPT);
	const struct yt_node *k;
	struct object *o = c->o;
	char p[FP_MAX];

	if (!lm || !lis_map(c, lm, "metadata.labels") || !lm->n)
		return;
	o->labels = lalloc(c, lm->n / 2, sizeof(*o->labels));
	if (!o->labels)
		return;
	for (k = lm->first; k && k->next; k = k->next->next) {
		struct label *l = &o->labels[o->n_labels];

		fp_key(p, "metadata.labels", k->type == YT_SCALAR ? k->str : "?");
		l->key = lstr_node(c, k, p, NULL);
		/* A null value is an empty label value, as Kubernetes reads it. */
		l->value = yt_is_null(k->next) ? "" :
			   lstr_node(c, k->next, p, NULL);
		if (l->key && l->value)
			o->n_labels++;
	}
}

static void load_meta(struct lctx *c, const struct yt_node *root)
{
	const struct yt_node *m = lget(c, root, "metadata", "", L_REQ);
	const struct yt_node *ann, *ns;
	struct object *o = c->o;

	o->ns = obj_cluster_scoped(o->kind) ? "" : "default";
	if (!m || !lis_map(c, m, "metadata"))
		return;
	o->name = lstr(c, m, "name", "metadata", L_REQ, chk_dns_subdomain);
	/* Unset or "": the default namespace, as kubectl reads it. */
	ns = lget(c, m, "namespace", "metadata", L_OPT);
	if (ns && !(ns->type == YT_SCALAR && !ns->n) &&
	    !obj_cluster_scoped(o->kind))
		o->ns = lstr_node(c, ns, "metadata.namespace",
				  chk_dns_subdomain);
	o->creation = lstr(c, m, "creationTimestamp", "metadata", L_OPT,
			   NULL);
	o->resource_version = lstr(c, m, "resourceVersion", "metadata", L_OPT,
				   NULL);
	ann = lget(c, m, "annotations", "metadata", L_OPT);
	if (ann && lis_map(c, ann, "metadata.annotations") &&
	    o->kind == OBJ_HTTP_ROUTE)
		load_mode(c, ann);
	load_labels(c, m);
}

static bool is_one_of(const char *s, const char *const *names)
{
	for (; *names; names++) {
		if (!strcmp(s, *names))
			return true;
	}
	return false;
}

/*
 * What obj->yaml leaves out: other controllers' bookkeeping, large and
 * never read by ambit (managedFields, kubectl's last-applied copy, a
 * route's status, which `ambit get routes` computes itself), and of a Pod
 * everything but what enrollment needs. Kept small, the state file and
 * every reload of it stay cheap with thousands of synced objects.
 */
static bool drop_field(const char *const *p, int depth, void *ctx)
{
	static const char *const pod_spec[] = { "hostNetwork", "nodeName",
						NULL };
	static const char *const pod_status[] = { "phase", "podIP", "podIPs",
						  NULL };
	const struct object *o = ctx;

	if (depth == 1)
		return o->kind == OBJ_HTTP_ROUTE && !strcmp(p[0], "status");
	if (depth == 2 && !strcmp(p[0], "metadata"))
		return !strcmp(p[1], "managedFields");
	if (depth == 3 && !strcmp(p[0], "metadata") &&
	    !strcmp(p[1], "annotations"))
		return !strcmp(p[2], LAST_APPLIED);
	if (depth == 2 && o->kind == OBJ_POD && !strcmp(p[0], "spec"))
		return !is_one_of(p[1], pod_spec);
	if (depth == 2 && o->kind == OBJ_POD && !strcmp(p[0], "status"))
		return !is_one_of(p[1], pod_status);
	return false;
}

/* obj->yaml: the object's own subtree as a standalone document. */
static int set_yaml(struct lctx *c, const struct yt_node *n)
{
	size_t len;
	char *text;
	int err = yt_emit(n, drop_field, c->o, &text, &len);

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

int load_doc(struct lctx *c, const struct yt_node *root, struct objvec *vec)
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
