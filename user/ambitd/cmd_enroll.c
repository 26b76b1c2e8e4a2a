// SPDX-License-Identifier: Apache-2.0
/* ambit enroll / unenroll: sugar for applying or deleting an Enrollment. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "load.h"
#include "mesh.h"

struct enroll_opts {
	const char *cgroup;
	const char *netns;
	const char *name;
	const char *ns;
	const char *pod;
};

static int parse_enroll_opts(struct request *rq, struct enroll_opts *o,
			     struct sbuf *err)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "netns", required_argument, NULL, 'n' },
		{ "name", required_argument, NULL, 'N' },
		{ "namespace", required_argument, NULL, 's' },
		{ "pod", required_argument, NULL, 'p' },
		{},
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(rq->argc, rq->argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o->cgroup = optarg; break;
		case 'n': o->netns = optarg; break;
		case 'N': o->name = optarg; break;
		case 's': o->ns = optarg; break;
		case 'p': o->pod = optarg; break;
		default:
			sb_printf(err, "error: %s: unknown option '%s'\n",
				  rq->argv[0], rq->argv[optind - 1]);
			return -EINVAL;
		}
	}
	return 0;
}

/* A DNS-1123 name from anything: lower-case, runs of others -> '-'. */
static void dns_name(const char *from, char *buf, size_t size)
{
	size_t n = 0;
	const char *p;

	for (p = from; *p && n + 1 < size && n < 63; p++) {
		if (isalnum((unsigned char)*p))
			buf[n++] = (char)tolower((unsigned char)*p);
		else if (n && buf[n - 1] != '-')
			buf[n++] = '-';
	}
	while (n && buf[n - 1] == '-')
		n--;
	buf[n] = '\0';
	if (!n)
		snprintf(buf, size, "workload");
}

static void yaml_quoted(struct sbuf *b, const char *s)
{
	sb_json_str(b, s); /* a JSON string is a valid YAML double-quoted one */
}

static void enrollment_yaml(const struct enroll_opts *o, struct sbuf *y)
{
	char name[64];

	dns_name(o->name ? o->name : o->pod ? o->pod :
		 o->cgroup ? o->cgroup : o->netns, name, sizeof(name));
	sb_printf(y, "apiVersion: ambit.io/v1alpha1\nkind: Enrollment\n"
		  "metadata:\n  name: %s\n  namespace: ", name);
	yaml_quoted(y, o->ns ? o->ns : "default");
	sb_printf(y, "\nspec:\n  %s: ", o->cgroup ? "cgroup" : "netns");
	yaml_quoted(y, o->cgroup ? o->cgroup : o->netns);
	if (o->pod) {
		sb_printf(y, "\n  pod:\n    namespace: ");
		yaml_quoted(y, o->ns ? o->ns : "default");
		sb_printf(y, "\n    name: ");
		yaml_quoted(y, o->pod);
	}
	sb_printf(y, "\n");
}

int cmd_enroll(struct daemon *d, struct request *rq, struct sbuf *out,
	       struct sbuf *err)
{
	struct enroll_opts o;
	struct sbuf y = {};
	int ret;

	if (parse_enroll_opts(rq, &o, err))
		return 1;
	if (!o.cgroup == !o.netns) {
		sb_printf(err, "error: enroll: give exactly one of --cgroup PATH "
			  "or --netns PATH\n");
		return 1;
	}
	enrollment_yaml(&o, &y);
	if (y.oom) {
		sb_free(&y);
		return 1;
	}
	/* An apply of the generated object, without the enroll options. */
	struct request sub = { .argc = 3, .body = y.buf, .body_len = y.len,
			       .argv = { rq->argv[0], "--filename",
					 "<ambit enroll>" } };
	ret = cmd_apply(d, &sub, out, err);
	sb_free(&y);
	return ret;
}

static bool enrollment_matches(const struct object *e,
			       const struct enroll_opts *o)
{
	if (e->kind != OBJ_ENROLLMENT)
		return false;
	if (o->name)
		return !strcmp(e->name, o->name) &&
		       (!o->ns || !strcmp(e->ns, o->ns));
	if (o->cgroup)
		return e->enr.cgroup_path && !strcmp(e->enr.cgroup_path, o->cgroup);
	return e->enr.netns_path && !strcmp(e->enr.netns_path, o->netns);
}

int cmd_unenroll(struct daemon *d, struct request *rq, struct sbuf *out,
		 struct sbuf *err)
{
	/* Unenrolling must never be blocked by unrelated dangling refs. */
	struct validate_opts vo = { .allow_unresolved = true };
	struct objvec gone = {};
	struct candidate c;
	struct diags dg = {};
	struct enroll_opts o;
	size_t i;

	if (parse_enroll_opts(rq, &o, err))
		return 1;
	for (i = 0; i < d->st.objs.n; i++) {
		const struct object *e = d->st.objs.v[i];

		if (!enrollment_matches(e, &o))
			continue;
		/* Labels decide those: the next change would enroll it again. */
		if (mesh_managed(e)) {
			sb_printf(err, "error: unenroll: %s/%s is enrolled by its "
				  "labels: change them (or ambit pod detach)\n",
				  e->ns, e->name);
			free(gone.v);
			return 1;
		}
		objvec_push(&gone, d->st.objs.v[i]);
	}
	if (!gone.n) {
		sb_printf(err, "error: unenroll: no such enrollment\n");
		free(gone.v);
		return 1;
	}
	if (store_begin_delete(&d->st, &gone, &c, &dg)) {
		candidate_free(&c);
		diags_free(&dg);
		free(gone.v);
		return 1;
	}
	if (daemon_transact(d, &c, &vo, err)) {
		free(gone.v);
		return 1;
	}
	sb_printf(out, "unenrolled %zu workload(s)\n", gone.n);
	free(gone.v);
	return 0;
}
