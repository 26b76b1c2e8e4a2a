// SPDX-License-Identifier: Apache-2.0
/*
 * One configuration change, all or nothing:
 *   validate -> resolve enrollments -> compile -> persist -> maps -> commit,
 * then (best effort) close connections to endpoints the change removed.
 * Until the maps are written nothing outside this process changed; if the
 * maps refuse, the old state file is written back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "filerepl.h"
#include "log.h"

static void report_diags(struct sbuf *err, const char *what, struct diags *dg)
{
	char *text = diags_join(dg);

	sb_printf(err, "error: %s:\n%s", what, text ? text : "(out of memory)\n");
	free(text);
	diags_free(dg);
}

static bool status_ok(const struct route_status *s)
{
	return s->accepted && s->resolved;
}

/* Was the same broken reference already there before this change? */
static bool known_problem(const struct image *old, const struct route_status *s)
{
	size_t i;

	for (i = 0; i < old->n_status; i++) {
		const struct route_status *o = &old->status[i];

		if (o->parent == s->parent && obj_same_key(o->route, s->route) &&
		    !status_ok(o) && o->message && s->message &&
		    !strcmp(o->message, s->message))
			return true;
	}
	return false;
}

/*
 * A change may not break a reference: a route naming a Service or port
 * that does not exist is an error, unless it was already so (then the
 * change is not to blame) or the caller allows it (ambit sync, where
 * objects arrive in any order). Such routes then get 500s/refusals for
 * that share, as the Gateway API says.
 */
static int check_new_unresolved(const struct image *old, const struct image *img,
				struct sbuf *err)
{
	struct diags dg = {};
	size_t i;

	for (i = 0; i < img->n_status; i++) {
		const struct route_status *s = &img->status[i];

		if (status_ok(s) || known_problem(old, s))
			continue;
		diag_add(&dg, s->pos, NULL, "httproute %s/%s: %s (%s)",
			 s->route->ns, s->route->name, s->message,
			 s->accepted ? s->resolved_reason : s->accepted_reason);
	}
	if (!dg.n)
		return 0;
	report_diags(err, "unresolved references, nothing applied "
			  "(--allow-unresolved accepts them)", &dg);
	return -EINVAL;
}

/* Steps that touch nothing but memory. */
static int prepare(struct daemon *d, struct candidate *c,
		   const struct validate_opts *vo, struct enroll_set *en,
		   struct image *img, struct sbuf *err)
{
	/* References are checked against the compiled result below. */
	struct validate_opts structural = { .allow_unresolved = true };
	struct diags dg = {};
	int ret;

	ret = model_validate(&c->all, &structural, &dg);
	if (ret) {
		report_diags(err, "invalid configuration, nothing applied", &dg);
		return ret;
	}
	/* Only what this change brings must resolve: a workload that went
	 * away since it was enrolled must not block unrelated changes. */
	ret = enroll_resolve(&c->all, en, &dg, &c->incoming);
	if (ret) {
		report_diags(err, "enrollment failed, nothing applied", &dg);
		enroll_set_free(en);
		return ret;
	}
	ret = compile_image(&c->all, img);
	if (ret) {
		sb_printf(err, "error: compile: %s\n", strerror(-ret));
		enroll_set_free(en);
		return ret;
	}
	if (!vo->allow_unresolved)
		ret = check_new_unresolved(&d->img, img, err);
	if (ret) {
		image_free(img);
		enroll_set_free(en);
	}
	return ret;
}

/* Persist, then write the maps; undo the persist if the maps refuse. */
static int publish(struct daemon *d, struct candidate *c,
		   const struct enroll_set *en, const struct image *img,
		   struct sbuf *err)
{
	char why[256] = "";
	int ret;

	ret = objs_save(&c->all, d->state_path);
	if (ret) {
		sb_printf(err, "error: save %s: %s, nothing applied\n",
			  d->state_path, strerror(-ret));
		return ret;
	}
	ret = mapsync_apply(&d->ms, img, why, sizeof(why));
	if (!ret) {
		ret = enroll_sync(d->dp.enroll_fd, en);
		if (ret) {
			snprintf(why, sizeof(why), "enroll map: %s", strerror(-ret));
			/* The old image was in the maps a moment ago. */
			mapsync_apply(&d->ms, &d->img, why + strlen(why), 0);
			enroll_sync(d->dp.enroll_fd, &d->en);
		}
	}
	if (ret) {
		sb_printf(err, "error: data plane refused the change, nothing "
			  "applied: %s\n", why);
		if (objs_save(&d->st.objs, d->state_path))
			pr_err("restore %s failed: state file is ahead of maps",
			       d->state_path);
	}
	return ret;
}

/* Replaced whole: a reader sees the old counters or the new ones. */
static void counters_save(const struct daemon *d)
{
	char text[64];
	int n, err;

	n = snprintf(text, sizeof(text), "applies %llu\napply_errors %llu\n",
		     (unsigned long long)d->applies,
		     (unsigned long long)d->apply_errors);
	err = file_replace(d->counters_path, 0644, text, (size_t)n);
	if (err)
		pr_warn("save apply counters to %s: %s", d->counters_path,
			strerror(-err));
}

void counters_load(struct daemon *d)
{
	unsigned long long applies, errors;
	FILE *f = fopen(d->counters_path, "re");
	int n;

	if (!f) {
		if (errno != ENOENT)
			pr_warn("read %s: %s; apply counters start at 0",
				d->counters_path, strerror(errno));
		return;
	}
	n = fscanf(f, "applies %llu apply_errors %llu", &applies, &errors);
	fclose(f);
	if (n != 2) {
		pr_warn("%s is malformed; apply counters start at 0",
			d->counters_path);
		return;
	}
	d->applies = applies;
	d->apply_errors = errors;
}

/* The Enrollments labels ask for go in with every change (pods.c). */
static int derive(struct daemon *d, struct candidate *c, struct sbuf *err)
{
	int ret = pods_derive(d, c);

	if (ret) {
		sb_printf(err, "error: enrollment by labels: %s, nothing "
			  "applied\n", strerror(-ret));
		candidate_free(c);
	}
	return ret;
}

int daemon_transact(struct daemon *d, struct candidate *c,
		    const struct validate_opts *vo, struct sbuf *err)
{
	struct enroll_set en = {};
	struct image img = {};
	int ret;

	ret = derive(d, c, err);
	if (ret)
		return ret;
	if (!c->incoming.n && !c->leaving.n) {
		candidate_free(c); /* nothing to do */
		return 0;
	}
	ret = prepare(d, c, vo, &en, &img, err);
	if (!ret) {
		ret = publish(d, c, &en, &img, err);
		if (ret) {
			image_free(&img);
			enroll_set_free(&en);
		}
	}
	/* New connects already avoid removed endpoints; end the old ones. */
	if (!ret)
		daemon_close_stale(d, &img, &c->all, &en);
	d->applies++;
	d->apply_errors += ret != 0;
	counters_save(d);
	if (ret) {
		candidate_free(c);
		return ret;
	}
	store_commit(&d->st, c);
	image_free(&d->img);
	d->img = img;
	enroll_set_free(&d->en);
	d->en = en;
	return 0;
}

int daemon_dry_run(struct daemon *d, struct candidate *c,
		   const struct validate_opts *vo, struct sbuf *err)
{
	struct enroll_set en = {};
	struct image img = {};
	int ret = derive(d, c, err);

	if (ret)
		return ret;
	ret = prepare(d, c, vo, &en, &img, err);

	if (!ret) {
		image_free(&img);
		enroll_set_free(&en);
	}
	candidate_free(c);
	return ret;
}
