// SPDX-License-Identifier: Apache-2.0
/* ambit apply / delete / enroll / unenroll: every change is a transaction. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "load.h"
#include "strmap.h"

struct change_opts {
	const char *file;
	bool allow_unresolved;
	bool dry_run;
};

static int parse_change_opts(struct request *rq, struct change_opts *o,
			     struct sbuf *err)
{
	static const struct option opts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "allow-unresolved", no_argument, NULL, 'u' },
		{ "dry-run", no_argument, NULL, 'n' },
		{},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->file = "-";
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(rq->argc, rq->argv, "f:", opts, NULL)) != -1) {
		if (c == 'f')
			o->file = optarg;
		else if (c == 'u')
			o->allow_unresolved = true;
		else if (c == 'n')
			o->dry_run = true;
		else {
			sb_printf(err, "error: %s: unknown option '%s'\n",
				  rq->argv[0], rq->argv[optind - 1]);
			return -EINVAL;
		}
	}
	return 0;
}

static const char *kind_word(int kind)
{
	switch (kind) {
	case OBJ_SERVICE: return "service";
	case OBJ_ENDPOINT_SLICE: return "endpointslice";
	case OBJ_HTTP_ROUTE: return "httproute";
	case OBJ_POD: return "pod";
	case OBJ_NAMESPACE: return "namespace";
	default: return "enrollment";
	}
}


/* "kind/ns/name created|configured|unchanged", like kubectl. */
static void describe_changes(const struct store *st, const struct objvec *in,
			     struct sbuf *out, bool dry)
{
	struct strmap ix = {};
	char key[600];
	size_t i;

	for (i = 0; i < st->objs.n; i++) {
		const struct object *o = st->objs.v[i];

		snprintf(key, sizeof(key), "%d/%s/%s", o->kind, o->ns, o->name);
		strmap_add(&ix, key, (void *)o);
	}
	for (i = 0; i < in->n; i++) {
		const struct object *o = in->v[i], *old;
		char name[520];

		snprintf(key, sizeof(key), "%d/%s/%s", o->kind, o->ns, o->name);
		old = strmap_get(&ix, key);
		sb_printf(out, "%s/%s %s%s\n", kind_word(o->kind),
			  obj_nsname(o, name, sizeof(name)), !old ? "created" :
			  strcmp(old->yaml, o->yaml) ? "configured" : "unchanged",
			  dry ? " (dry run)" : "");
	}
	strmap_free(&ix);
}

static int load_body(struct request *rq, const char *file, struct objvec *in,
		     struct sbuf *err)
{
	struct diags dg = {};
	char *text;
	int ret;

	ret = model_load(file, rq->body, rq->body_len, in, &dg);
	if (!ret)
		return 0;
	text = diags_join(&dg);
	sb_printf(err, "error: %s: cannot load, nothing applied:\n%s", file,
		  text ? text : "");
	free(text);
	diags_free(&dg);
	return ret;
}

int cmd_apply(struct daemon *d, struct request *rq, struct sbuf *out,
	      struct sbuf *err)
{
	struct validate_opts vo = {};
	struct change_opts o;
	struct objvec in = {};
	struct candidate c;
	struct sbuf summary = {};
	int ret;

	if (parse_change_opts(rq, &o, err) || load_body(rq, o.file, &in, err))
		return 1;
	vo.allow_unresolved = o.allow_unresolved;
	describe_changes(&d->st, &in, &summary, o.dry_run);
	ret = store_begin_apply(&d->st, &in, &c);
	if (ret) {
		objvec_free(&in);
		candidate_free(&c);
	} else {
		ret = o.dry_run ? daemon_dry_run(d, &c, &vo, err)
				: daemon_transact(d, &c, &vo, err);
	}
	if (!ret)
		sb_add(out, sb_str(&summary), summary.len);
	sb_free(&summary);
	return ret ? 1 : 0;
}

static int delete_objects(struct daemon *d, const struct objvec *in,
			  const struct validate_opts *vo, struct sbuf *out,
			  struct sbuf *err)
{
	struct diags dg = {};
	struct candidate c;
	size_t i;
	int ret;

	ret = store_begin_delete(&d->st, in, &c, &dg);
	if (ret) {
		char *text = diags_join(&dg);

		sb_printf(err, "error: nothing deleted:\n%s", text ? text : "");
		free(text);
		diags_free(&dg);
		candidate_free(&c);
		return 1;
	}
	if (daemon_transact(d, &c, vo, err))
		return 1;
	for (i = 0; i < in->n; i++) {
		char name[520];

		sb_printf(out, "%s/%s deleted\n", kind_word(in->v[i]->kind),
			  obj_nsname(in->v[i], name, sizeof(name)));
	}
	return 0;
}

int cmd_delete(struct daemon *d, struct request *rq, struct sbuf *out,
	       struct sbuf *err)
{
	struct validate_opts vo = {};
	struct change_opts o;
	struct objvec in = {};
	int ret;

	if (parse_change_opts(rq, &o, err) || load_body(rq, o.file, &in, err))
		return 1;
	vo.allow_unresolved = o.allow_unresolved;
	ret = delete_objects(d, &in, &vo, out, err);
	objvec_free(&in);
	return ret;
}
