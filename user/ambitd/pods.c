// SPDX-License-Identifier: Apache-2.0
/*
 * Enrollment by labels. ambitd keeps a table of pods and their network
 * namespaces: attached by the CNI plugin (`ambit pod attach`), or found by
 * address in --netns-dir for pods that existed before it. Every change of
 * the configuration then derives the Enrollments it manages (label
 * ambit.io/managed-by: ambitd) from that table and the Pod and Namespace
 * objects `ambit sync` brings: a pod whose labels say ambient is enrolled,
 * any other is not. Deriving inside the transaction keeps Enrollments and
 * labels consistent at every commit, and the proxy sees them in the state
 * file like any other Enrollment.
 *
 * The table is persisted (pods.json in the state directory) so a
 * restarted daemon still knows the pods CNI told it about.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "load.h"
#include "filerepl.h"
#include "log.h"
#include "mesh.h"
#include "nsutil.h"
#include "pods.h"
#include "strmap.h"

/* ---- the table -------------------------------------------------------------- */

const struct pod_binding *pods_find(const struct daemon *d, const char *ns,
				    const char *name)
{
	size_t i;

	for (i = 0; i < d->pods.n; i++) {
		if (!strcmp(d->pods.v[i].ns, ns) &&
		    !strcmp(d->pods.v[i].name, name))
			return &d->pods.v[i];
	}
	return NULL;
}

static void binding_free(struct pod_binding *b)
{
	free(b->ns);
	free(b->name);
	free(b->netns);
	free(b->container_id);
	memset(b, 0, sizeof(*b));
}

void pods_remove(struct daemon *d, const struct pod_binding *b)
{
	size_t i = (size_t)(b - d->pods.v);

	binding_free(&d->pods.v[i]);
	memmove(&d->pods.v[i], &d->pods.v[i + 1],
		(d->pods.n - i - 1) * sizeof(*d->pods.v));
	d->pods.n--;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int pods_put(struct daemon *d, const struct pod_binding *in)
{
	struct pod_binding b = *in, *slot;
	const struct pod_binding *old = pods_find(d, in->ns, in->name);

	b.ns = strdup(in->ns);
	b.name = strdup(in->name);
	b.netns = strdup(in->netns);
	b.container_id = dup_or_null(in->container_id);
	if (!b.ns || !b.name || !b.netns ||
	    (in->container_id && !b.container_id)) {
		binding_free(&b);
		return -ENOMEM;
	}
	if (old) {
		slot = &d->pods.v[old - d->pods.v];
		binding_free(slot);
		*slot = b;
		return 0;
	}
	if (d->pods.n == d->pods.cap) {
		size_t cap = d->pods.cap ? d->pods.cap * 2 : 16;
		struct pod_binding *v = realloc(d->pods.v, cap * sizeof(*v));

		if (!v) {
			binding_free(&b);
			return -ENOMEM;
		}
		d->pods.v = v;
		d->pods.cap = cap;
	}
	d->pods.v[d->pods.n++] = b;
	return 0;
}

void pods_free(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->pods.n; i++)
		binding_free(&d->pods.v[i]);
	free(d->pods.v);
	memset(&d->pods, 0, sizeof(d->pods));
}

/* ---- persistence -------------------------------------------------------------- */

static json_t *binding_json(const struct pod_binding *b)
{
	json_t *o = json_object(), *ips = json_array();
	char ip[INET6_ADDRSTRLEN];
	size_t i;

	for (i = 0; ips && i < b->n_ips; i++) {
		inet_ntop(b->ips[i].family, b->ips[i].bytes, ip, sizeof(ip));
		json_array_append_new(ips, json_string(ip));
	}
	if (!o || !ips) {
		json_decref(o);
		json_decref(ips);
		return NULL;
	}
	json_object_set_new(o, "namespace", json_string(b->ns));
	json_object_set_new(o, "name", json_string(b->name));
	json_object_set_new(o, "netns", json_string(b->netns));
	if (b->container_id)
		json_object_set_new(o, "containerID",
				    json_string(b->container_id));
	json_object_set_new(o, "ips", ips);
	json_object_set_new(o, "discovered", json_boolean(b->discovered));
	return o;
}

int pods_save(const struct daemon *d)
{
	json_t *root = json_object(), *arr = json_array(), *b;
	char *text = NULL;
	size_t i;
	int err = -ENOMEM;

	if (!root || !arr)
		goto out;
	for (i = 0; i < d->pods.n; i++) {
		b = binding_json(&d->pods.v[i]);
		if (!b || json_array_append_new(arr, b))
			goto out;
	}
	json_object_set(root, "pods", arr);
	text = json_dumps(root, JSON_INDENT(2));
	if (text)
		err = file_replace(d->pods_path, 0600, text, strlen(text));
out:
	if (err)
		pr_err("save %s: %s", d->pods_path, strerror(-err));
	free(text);
	json_decref(arr);
	json_decref(root);
	return err;
}

static int binding_from_json(const json_t *o, struct pod_binding *b)
{
	const json_t *ips = json_object_get(o, "ips");
	const char *ip;
	size_t i;

	memset(b, 0, sizeof(*b));
	b->ns = (char *)json_string_value(json_object_get(o, "namespace"));
	b->name = (char *)json_string_value(json_object_get(o, "name"));
	b->netns = (char *)json_string_value(json_object_get(o, "netns"));
	b->container_id = (char *)json_string_value(
		json_object_get(o, "containerID"));
	b->discovered = json_is_true(json_object_get(o, "discovered"));
	for (i = 0; i < json_array_size(ips) && b->n_ips < POD_BIND_MAX_IPS;
	     i++) {
		ip = json_string_value(json_array_get(ips, i));
		if (ip && !ip_parse(ip, &b->ips[b->n_ips]))
			b->n_ips++;
	}
	return b->ns && b->name && b->netns ? 0 : -EINVAL;
}

void pods_load(struct daemon *d)
{
	json_error_t e;
	json_t *root = json_load_file(d->pods_path, 0, &e);
	const json_t *arr = json_object_get(root, "pods");
	struct pod_binding b;
	size_t i;

	if (!root) {
		if (access(d->pods_path, F_OK) == 0)
			pr_err("%s:%d: %s: pods forgotten", d->pods_path,
			       e.line, e.text);
		return;
	}
	for (i = 0; i < json_array_size(arr); i++) {
		if (binding_from_json(json_array_get(arr, i), &b))
			pr_warn("%s: pods[%zu] incomplete, skipped",
				d->pods_path, i);
		else if (pods_put(d, &b))
			pr_err("%s: out of memory", d->pods_path);
	}
	json_decref(root);
}

int ip_parse(const char *s, struct ip_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->bytes) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->bytes) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

/* ---- deriving the managed Enrollments ---------------------------------------- */

struct derive {
	struct strmap ix;     /* "kind/ns/name" -> Pod, Namespace, Enrollment */
	struct strmap claims; /* netns path -> Enrollment made by hand */
	struct strmap want;   /* "ns/name" -> binding of a pod in the mesh */
	struct strmap netns;  /* netns path -> the wanted binding using it */
};

static const char *dkey(char *buf, size_t size, int kind, const char *ns,
			const char *name)
{
	snprintf(buf, size, "%d/%s/%s", kind, ns, name);
	return buf;
}

static int index_candidate(struct derive *x, const struct candidate *c)
{
	char key[600];
	size_t i;

	for (i = 0; i < c->all.n; i++) {
		const struct object *o = c->all.v[i];

		if (o->kind != OBJ_POD && o->kind != OBJ_NAMESPACE &&
		    o->kind != OBJ_ENROLLMENT)
			continue;
		if (strmap_add(&x->ix, dkey(key, sizeof(key), o->kind, o->ns,
					    o->name), (void *)o))
			return -ENOMEM;
		if (o->kind == OBJ_ENROLLMENT && !mesh_managed(o) &&
		    o->enr.netns_path &&
		    strmap_add(&x->claims, o->enr.netns_path, (void *)o))
			return -ENOMEM;
	}
	return 0;
}

static const struct object *dfind(const struct derive *x, int kind,
				  const char *ns, const char *name)
{
	char key[600];

	return strmap_get(&x->ix, dkey(key, sizeof(key), kind, ns, name));
}

bool pods_in_mesh(const struct objvec *all, const char *ns, const char *name,
		  char *why, size_t size)
{
	const struct object *pod = model_find(all, OBJ_POD, ns, name);
	const struct object *nso = model_find(all, OBJ_NAMESPACE, "", ns);

	return mesh_decide(pod, nso, why, size);
}

/* Should the pod of @b be enrolled, by what is in @x? */
static bool pod_wanted(const struct derive *x, const struct pod_binding *b)
{
	const struct object *e;

	if (!mesh_decide(dfind(x, OBJ_POD, b->ns, b->name),
			 dfind(x, OBJ_NAMESPACE, "", b->ns), NULL, 0))
		return false;
	/* Enrolled by hand already (by name or by namespace): the user's
	 * Enrollment stays the one in charge. */
	e = dfind(x, OBJ_ENROLLMENT, b->ns, b->name);
	if ((e && !mesh_managed(e)) || strmap_get(&x->claims, b->netns))
		return false;
	/* One namespace, one Enrollment: two would refuse every change. */
	return !strmap_get(&x->netns, b->netns);
}

/*
 * The pods that must be enrolled, by "ns/name". CNI's word first: when a
 * namespace found by address is also one CNI attached to another pod (an
 * address reused), CNI's pod has it.
 */
static int wanted_pods(struct daemon *d, struct derive *x)
{
	char key[600];
	size_t i, pass;
	int err = 0;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; !err && i < d->pods.n; i++) {
			const struct pod_binding *b = &d->pods.v[i];

			if (b->discovered != (pass == 1) || !pod_wanted(x, b))
				continue;
			err = strmap_add(&x->want, nsname_key(key, sizeof(key),
							      b->ns, b->name),
					 (void *)b) ?:
			      strmap_add(&x->netns, b->netns, (void *)b);
		}
	}
	return err;
}

static bool enrollment_is(const struct object *e, const struct pod_binding *b)
{
	return e->enr.netns_path && !strcmp(e->enr.netns_path, b->netns) &&
	       e->enr.pod_ns && !strcmp(e->enr.pod_ns, b->ns) &&
	       e->enr.pod_name && !strcmp(e->enr.pod_name, b->name);
}

static void yaml_str(struct sbuf *y, const char *s)
{
	sb_json_str(y, s); /* a JSON string is a valid YAML double-quoted one */
}

/* The Enrollment for @b, loaded as any other; NULL when it cannot be. */
static struct object *make_enrollment(const struct pod_binding *b)
{
	struct objvec v = {};
	struct diags dg = {};
	struct sbuf y = {};
	struct object *o = NULL;
	__u64 cookie;
	int err;

	/* A namespace that is gone cannot be enrolled: an error for the
	 * whole transaction. Leave the pod out and say so instead. */
	err = netns_cookie_of(b->netns, &cookie);
	if (err) {
		pr_warn("pod %s/%s: netns %s: %s: not enrolled", b->ns,
			b->name, b->netns, strerror(-err));
		return NULL;
	}
	sb_printf(&y, "apiVersion: ambit.io/v1alpha1\nkind: Enrollment\n"
		  "metadata:\n  name: ");
	yaml_str(&y, b->name);
	sb_printf(&y, "\n  namespace: ");
	yaml_str(&y, b->ns);
	sb_printf(&y, "\n  labels:\n    " MESH_MANAGED_LABEL ": "
		  MESH_MANAGED_VALUE "\nspec:\n  netns: ");
	yaml_str(&y, b->netns);
	sb_printf(&y, "\n  pod:\n    namespace: ");
	yaml_str(&y, b->ns);
	sb_printf(&y, "\n    name: ");
	yaml_str(&y, b->name);
	sb_printf(&y, "\n");
	if (!y.oom && !model_load("<pods>", y.buf, y.len, &v, &dg) && v.n == 1) {
		o = v.v[0];
		v.n = 0;
	} else if (dg.n) {
		pr_err("pod %s/%s: %s", b->ns, b->name, dg.msgs[0]);
	}
	objvec_free(&v);
	diags_free(&dg);
	sb_free(&y);
	return o;
}

/* Drop managed Enrollments nobody wants; keep those that are right. */
static int drop_unwanted(struct derive *x, struct candidate *c, bool *done,
			 const struct pod_binding *base)
{
	struct objvec managed = {};
	char key[600];
	size_t i;
	int err = 0;

	for (i = 0; i < c->all.n && !err; i++) {
		if (mesh_managed(c->all.v[i]))
			err = objvec_push(&managed, c->all.v[i]);
	}
	for (i = 0; i < managed.n && !err; i++) {
		struct object *e = managed.v[i];
		const struct pod_binding *b = strmap_get(
			&x->want, nsname_key(key, sizeof(key), e->ns, e->name));

		if (!b)
			err = candidate_drop(c, e);
		else if (enrollment_is(e, b))
			done[b - base] = true;
	}
	free(managed.v);
	return err;
}

int pods_derive(struct daemon *d, struct candidate *c)
{
	struct derive x = {};
	bool *done = calloc(d->pods.n + 1, sizeof(*done));
	char key[600];
	size_t i;
	int err = done ? 0 : -ENOMEM;

	if (!err)
		err = index_candidate(&x, c);
	if (!err)
		err = wanted_pods(d, &x);
	if (!err)
		err = drop_unwanted(&x, c, done, d->pods.v);
	for (i = 0; !err && i < d->pods.n; i++) {
		const struct pod_binding *b = &d->pods.v[i];
		struct object *o;

		if (done[i] || strmap_get(&x.want, nsname_key(key, sizeof(key),
							      b->ns, b->name)) != b)
			continue;
		o = make_enrollment(b);
		if (o && candidate_put(&d->st, c, o)) {
			obj_free(o);
			err = -ENOMEM;
		}
	}
	strmap_free(&x.ix);
	strmap_free(&x.claims);
	strmap_free(&x.want);
	strmap_free(&x.netns);
	free(done);
	return err;
}

/* A transaction that changes nothing but what pods_derive() brings. */
int pods_reconcile(struct daemon *d, struct sbuf *err)
{
	struct validate_opts vo = { .allow_unresolved = true };
	struct objvec none = {};
	struct candidate c;

	if (store_begin_change(&d->st, &none, NULL, &c)) {
		candidate_free(&c);
		sb_printf(err, "error: out of memory\n");
		return -ENOMEM;
	}
	return daemon_transact(d, &c, &vo, err);
}
