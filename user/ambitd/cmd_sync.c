// SPDX-License-Identifier: Apache-2.0
/*
 * The daemon's half of `ambit sync`: one batch of Kubernetes watch events
 * (the CLI reads the stream and sends what arrived together) becomes one
 * transaction. Unlike `ambit apply`, a sync batch is not all or nothing:
 * the cluster is the truth and one bad object must never hold back the
 * others. So each object is loaded on its own (a bad one is reported with
 * its event number, kind, namespace and name, and skipped); an update older
 * than what the daemon has (by resourceVersion) is ignored; and when the
 * batch as a whole is refused (two Services claiming one address, say),
 * it is split in halves until the refused events are found, and only they
 * are left out.
 *
 * With --resync the batch is a full list: objects of the synced kinds the
 * daemon has and the list does not are deleted. A list too large for one
 * batch comes as plain batches, then --prune with the keys of the whole
 * list: the deleting then waits until every listed object is in, so no
 * object that exists is ever missing for a moment.
 *
 * Request: sync --kinds K[,K...] [--resync] [--origin NAME] [--unit WORD]
 * Body: a JSON array of {"n": NUMBER, "type": TYPE, "object": OBJECT}.
 * Request: sync --kinds K[,K...] --prune [--origin NAME]
 * Body: a JSON array of {"kind": K, "namespace": NS, "name": N} to keep.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "load_json.h"
#include "log.h"
#include "strmap.h"

#define WHERE_MAX 400

struct sync_opts {
	unsigned int kinds; /* 1 << OBJ_* of the synced kinds */
	bool resync;
	bool prune;         /* the body lists what to keep, not events */
	const char *origin; /* where the events came from, for messages */
	const char *unit;   /* "event" (a stream) or "item" (a List) */
};

/* One change the batch asks for: the winning event of its object, or a
 * deletion a full list asks for (ev SIZE_MAX). */
struct change {
	size_t ev;          /* index in the body */
	bool del;
	bool created;       /* the daemon did not have it */
	struct object *key; /* a stub naming the object (kind, ns, name) */
};

struct batch {
	const struct sync_opts *o;
	json_t *events;
	struct change *ch;
	size_t n_ch;
	struct strmap seen; /* keys listed in the batch (resync keeps them) */
	size_t *win;        /* collect(): seen's values, each key's winner */
	struct strmap store; /* the store by key */
	size_t created, updated, deleted, unchanged, stale, bad, refused;
	bool pods; /* Pods or Namespaces changed */
	struct sbuf *err;
};

static int kind_of(const char *k)
{
	static const struct { const char *name; int kind; } kinds[] = {
		{ "Service", OBJ_SERVICE },
		{ "EndpointSlice", OBJ_ENDPOINT_SLICE },
		{ "HTTPRoute", OBJ_HTTP_ROUTE },
		{ "Pod", OBJ_POD },
		{ "Namespace", OBJ_NAMESPACE },
	};
	size_t i;

	for (i = 0; k && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!strcmp(kinds[i].name, k))
			return kinds[i].kind;
	}
	return 0;
}

static int parse_kinds(const char *list, unsigned int *out)
{
	char buf[256], *tok, *save = NULL;
	int k;

	*out = 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		k = kind_of(tok);
		if (!k)
			return -EINVAL;
		*out |= 1u << k;
	}
	return *out ? 0 : -EINVAL;
}

static int parse_sync_opts(struct request *rq, struct sync_opts *o,
			   struct sbuf *err)
{
	static const struct option opts[] = {
		{ "kinds", required_argument, NULL, 'k' },
		{ "resync", no_argument, NULL, 'r' },
		{ "prune", no_argument, NULL, 'p' },
		{ "origin", required_argument, NULL, 'o' },
		{ "unit", required_argument, NULL, 'u' },
		{},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->origin = "<stream>";
	o->unit = "event";
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(rq->argc, rq->argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (parse_kinds(optarg, &o->kinds))
				goto bad;
			break;
		case 'p':
			o->prune = true;
			o->resync = true; /* it deletes what is not kept */
			break;
		case 'r': o->resync = true; break;
		case 'o': o->origin = optarg; break;
		case 'u': o->unit = optarg; break;
		default: goto bad;
		}
	}
	if (!o->kinds) {
		sb_printf(err, "error: sync: --kinds is required\n");
		return -EINVAL;
	}
	return 0;
bad:
	sb_printf(err, "error: sync: bad option '%s' (--kinds takes Service,"
		  "EndpointSlice,HTTPRoute,Pod,Namespace)\n",
		  rq->argv[optind - 1]);
	return -EINVAL;
}

/* ---- the events -------------------------------------------------------------- */

static const char *meta_str(const json_t *obj, const char *field)
{
	return json_string_value(json_object_get(json_object_get(obj,
								 "metadata"),
						 field));
}

static json_t *ev_obj(const struct batch *b, size_t i)
{
	return json_object_get(json_array_get(b->events, i), "object");
}

static unsigned long ev_num(const struct batch *b, size_t i)
{
	json_int_t n = json_integer_value(json_object_get(
		json_array_get(b->events, i), "n"));

	return n > 0 ? (unsigned long)n : i + 1;
}

/* "<stdin>: event 12: Service shop/web", for every message about it. */
static const char *ev_where(const struct batch *b, size_t i, char *buf)
{
	const json_t *obj = ev_obj(b, i);
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *ns = meta_str(obj, "namespace");
	const char *name = meta_str(obj, "name");

	snprintf(buf, WHERE_MAX, "%s: %s %lu: %s %s%s%s", b->o->origin,
		 b->o->unit, ev_num(b, i), kind ? kind : "(no kind)",
		 ns ? ns : "", ns ? "/" : "", name ? name : "(no name)");
	return buf;
}

static void ev_error(struct batch *b, size_t i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ev_error(struct batch *b, size_t i, const char *fmt, ...)
{
	char where[WHERE_MAX], msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sb_printf(b->err, "error: %s: %s\n", ev_where(b, i, where), msg);
}

/* A stub object: nothing but kind, namespace and name. */
static struct object *obj_stub(int kind, const char *ns, const char *name)
{
	struct object *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->kind = (uint8_t)kind;
	o->ns = arena_strdup(&o->arena, ns);
	o->name = arena_strdup(&o->arena, name);
	if (!o->ns || !o->name) {
		obj_free(o);
		return NULL;
	}
	return o;
}

static const char *skey(char *buf, size_t size, const struct object *o)
{
	snprintf(buf, size, "%d/%s/%s", o->kind, o->ns, o->name);
	return buf;
}

/*
 * The key of event @i as a stub, checked: a type ambit handles, a synced
 * kind, a name. NULL (reported) when it is none of those.
 */
static struct object *ev_key(struct batch *b, size_t i, bool *del)
{
	const json_t *ev = json_array_get(b->events, i), *obj = ev_obj(b, i);
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *ns = meta_str(obj, "namespace"), *name = meta_str(obj, "name");
	int kind = kind_of(json_string_value(json_object_get(obj, "kind")));

	if (!type || (strcmp(type, "ADDED") && strcmp(type, "MODIFIED") &&
		      strcmp(type, "DELETED"))) {
		ev_error(b, i, "event type %s is not ADDED, MODIFIED or DELETED",
			 type ? type : "(none)");
		return NULL;
	}
	if (!kind || !(b->o->kinds & (1u << kind))) {
		ev_error(b, i, "not a kind this sync handles (--source)");
		return NULL;
	}
	if (!name || !*name) {
		ev_error(b, i, "metadata.name is required");
		return NULL;
	}
	*del = !strcmp(type, "DELETED");
	if (obj_cluster_scoped(kind))
		ns = "";
	else if (!ns || !*ns)
		ns = "default";
	return obj_stub(kind, ns, name);
}

/* Load event @i's object on its own. NULL: reported, or out of memory. */
static struct object *ev_load(struct batch *b, size_t i)
{
	char where[WHERE_MAX];
	struct objvec v = {};
	struct diags dg = {};
	struct object *o = NULL;
	char *text;

	if (!model_load_json(ev_where(b, i, where), ev_obj(b, i), &v, &dg) &&
	    v.n == 1) {
		o = v.v[0];
		v.n = 0;
	} else {
		text = diags_join(&dg);
		sb_printf(b->err, "error: %s", text && *text ? text :
			  "a List inside an event\n");
		free(text);
	}
	objvec_free(&v);
	diags_free(&dg);
	return o;
}

/* ---- what the batch changes ----------------------------------------------- */

static int index_store(struct batch *b, const struct store *st)
{
	char key[600];
	size_t i;

	for (i = 0; i < st->objs.n; i++) {
		if (strmap_add(&b->store, skey(key, sizeof(key), st->objs.v[i]),
			       st->objs.v[i]))
			return -ENOMEM;
	}
	return 0;
}

/* Does event @i change anything? Counts what it does not. */
static bool ev_changes(struct batch *b, size_t i, struct change *c)
{
	char key[600];
	const struct object *old = strmap_get(&b->store,
					      skey(key, sizeof(key), c->key));
	const char *rv = meta_str(ev_obj(b, i), "resourceVersion");
	struct object *o;
	bool changes;

	c->created = !old;
	if (old && rv_older(rv, old->resource_version)) {
		b->stale++;
		return false;
	}
	if (c->del) {
		b->unchanged += !old; /* gone already */
		return old;
	}
	o = ev_load(b, i);
	if (!o) {
		b->bad++;
		return false;
	}
	changes = !old || strcmp(old->yaml, o->yaml);
	b->unchanged += !changes;
	obj_free(o);
	return changes;
}

/*
 * Keys of the batch. An object's events supersede one another in stream
 * order, except that one older (by resourceVersion) than an earlier one is
 * stale: the newest wins wherever it is.
 */
static int collect(struct batch *b)
{
	size_t n = json_array_size(b->events), i, *at;
	struct change *ev = calloc(n + 1, sizeof(*ev));
	size_t *win = calloc(n + 1, sizeof(*win));
	char key[600];
	int err = ev && win ? 0 : -ENOMEM;

	for (i = 0; !err && i < n; i++) {
		ev[i].ev = i;
		ev[i].key = ev_key(b, i, &ev[i].del);
		if (!ev[i].key) {
			b->bad++;
			continue;
		}
		at = strmap_get(&b->seen, skey(key, sizeof(key), ev[i].key));
		if (!at) {
			win[i] = i;
			err = strmap_add(&b->seen, key, &win[i]);
		} else if (rv_older(meta_str(ev_obj(b, i), "resourceVersion"),
				    meta_str(ev_obj(b, *at), "resourceVersion"))) {
			b->stale++;
			obj_free(ev[i].key);
			ev[i].key = NULL;
		} else {
			obj_free(ev[*at].key); /* superseded */
			ev[*at].key = NULL;
			*at = i;
		}
	}
	for (i = 0; i < n; i++) {
		if (!ev[i].key)
			continue;
		if (!err && ev_changes(b, i, &ev[i]))
			b->ch[b->n_ch++] = ev[i];
		else
			obj_free(ev[i].key);
	}
	free(ev);
	b->win = win; /* b->seen points into it */
	return err;
}

/* --prune: the keys of a whole list, sent after its objects. */
static int collect_keep(struct batch *b, const json_t *keep)
{
	char key[600];
	size_t i;

	for (i = 0; i < json_array_size(keep); i++) {
		const json_t *k = json_array_get(keep, i);
		int kind = kind_of(json_string_value(json_object_get(k, "kind")));
		const char *ns = json_string_value(json_object_get(k, "namespace"));
		const char *name = json_string_value(json_object_get(k, "name"));

		if (!kind || !name)
			continue;
		if (obj_cluster_scoped(kind))
			ns = "";
		else if (!ns || !*ns)
			ns = "default";
		snprintf(key, sizeof(key), "%d/%s/%s", kind, ns, name);
		if (strmap_add(&b->seen, key, b))
			return -ENOMEM;
	}
	return 0;
}

/* --resync: what the daemon has of the synced kinds and the list lacks. */
static int collect_gone(struct batch *b, const struct store *st)
{
	char key[600];
	size_t i;

	for (i = 0; i < st->objs.n; i++) {
		const struct object *o = st->objs.v[i];
		struct change *c = &b->ch[b->n_ch];

		if (!(b->o->kinds & (1u << o->kind)) ||
		    strmap_get(&b->seen, skey(key, sizeof(key), o)))
			continue;
		c->ev = SIZE_MAX; /* no event: the list lacks it */
		c->del = true;
		c->key = obj_stub(o->kind, o->ns, o->name);
		if (!c->key)
			return -ENOMEM;
		b->n_ch++;
	}
	return 0;
}

/* ---- applying ---------------------------------------------------------------- */

/* The changes [lo, hi) as one transaction. Return: 0 or the error. */
static int apply_range(struct daemon *d, struct batch *b, size_t lo, size_t hi,
		       struct sbuf *terr)
{
	struct validate_opts vo = { .allow_unresolved = true };
	struct objvec in = {}, gone = {};
	struct candidate c;
	size_t i;
	int err = 0;

	for (i = lo; !err && i < hi; i++) {
		struct change *ch = &b->ch[i];
		struct object *o;

		if (ch->del) {
			err = objvec_push(&gone, ch->key);
			continue;
		}
		o = ev_load(b, ch->ev); /* it loaded before: it loads again */
		err = !o ? -ENOMEM : objvec_push(&in, o);
		if (err && o)
			obj_free(o);
	}
	if (!err)
		err = store_begin_change(&d->st, &in, &gone, &c);
	if (err) {
		objvec_free(&in);
		candidate_free(&c);
		sb_printf(terr, "error: out of memory\n");
	} else {
		err = daemon_transact(d, &c, &vo, terr);
	}
	free(gone.v);
	return err;
}

static void count_applied(struct batch *b, size_t lo, size_t hi)
{
	size_t i;

	for (i = lo; i < hi; i++) {
		const struct change *c = &b->ch[i];

		if (c->del)
			b->deleted++;
		else if (c->created)
			b->created++;
		else
			b->updated++;
		b->pods |= c->key->kind == OBJ_POD ||
			   c->key->kind == OBJ_NAMESPACE;
	}
}

/*
 * What the transaction said about one change, without its headers ("error:
 * invalid configuration, nothing applied:") and without the change's own
 * name where a message repeats it.
 */
static void report_reasons(struct sbuf *err, const char *where,
			   const char *text)
{
	size_t wl = strlen(where), n, shown = 0;
	const char *line, *end;

	for (line = text; *line; line = *end ? end + 1 : end) {
		end = strchrnul(line, '\n');
		n = (size_t)(end - line);
		if (!n || (!strncmp(line, "error: ", 7) && line[n - 1] == ':'))
			continue;
		if (n > wl + 2 && !strncmp(line, where, wl) &&
		    !strncmp(line + wl, ": ", 2)) {
			line += wl + 2;
			n -= wl + 2;
		}
		sb_printf(err, "error: %s: not applied: %.*s\n", where, (int)n,
			  line);
		shown++;
	}
	if (!shown)
		sb_printf(err, "error: %s: not applied: %s", where, text);
}

static void report_refused(struct batch *b, const struct change *c,
			   const char *why)
{
	char where[WHERE_MAX];

	if (c->ev == SIZE_MAX)
		snprintf(where, sizeof(where), "%s: resync: deleting %s %s/%s",
			 b->o->origin, obj_kind_name(c->key->kind), c->key->ns,
			 c->key->name);
	else
		ev_where(b, c->ev, where);
	report_reasons(b->err, where, why);
	b->refused++;
}

/* All at once; when refused, each half on its own, down to single ones. */
static void apply_split(struct daemon *d, struct batch *b, size_t lo, size_t hi)
{
	struct sbuf terr = {};
	size_t mid;

	if (lo >= hi)
		return;
	if (!apply_range(d, b, lo, hi, &terr)) {
		count_applied(b, lo, hi);
	} else if (hi - lo == 1) {
		report_refused(b, &b->ch[lo], sb_str(&terr));
	} else {
		mid = lo + (hi - lo) / 2;
		apply_split(d, b, lo, mid);
		apply_split(d, b, mid, hi);
	}
	sb_free(&terr);
}

static void summary(const struct batch *b, struct sbuf *out)
{
	size_t n = json_array_size(b->events);

	unsigned long first = n ? ev_num(b, 0) : 0;
	unsigned long last = n ? ev_num(b, n - 1) : 0;
	char range[64];

	if (b->o->prune)
		snprintf(range, sizeof(range), "end of the list");
	else if (first == last)
		snprintf(range, sizeof(range), "%s %lu", b->o->unit, first);
	else
		snprintf(range, sizeof(range), "%ss %lu-%lu", b->o->unit,
			 first, last);
	sb_printf(out, "sync %s: %s%s: %zu created, %zu updated, "
		  "%zu deleted, %zu unchanged, %zu stale, %zu bad, %zu "
		  "refused\n", b->o->origin, range,
		  b->o->resync ? " (full list)" : "", b->created, b->updated,
		  b->deleted, b->unchanged, b->stale, b->bad, b->refused);
}

static void batch_free(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n_ch; i++)
		obj_free(b->ch[i].key);
	free(b->ch);
	strmap_free(&b->seen);
	free(b->win);
	strmap_free(&b->store);
	json_decref(b->events);
}

int cmd_sync(struct daemon *d, struct request *rq, struct sbuf *out,
	     struct sbuf *err)
{
	struct sync_opts o;
	struct batch b = { .o = &o, .err = err };
	json_t *keep = NULL;
	json_error_t je;
	int ret;

	if (parse_sync_opts(rq, &o, err))
		return 1;
	b.events = json_loadb(rq->body, rq->body_len, 0, &je);
	if (!json_is_array(b.events)) {
		sb_printf(err, "error: sync: the request body is not a JSON "
			  "array: %s\n", b.events ? "" : je.text);
		json_decref(b.events);
		return 1;
	}
	if (o.prune) {
		keep = b.events; /* the list's keys, not events */
		b.events = json_array();
	}
	/* Room for every event, and with --resync every stored object. */
	b.ch = calloc(json_array_size(b.events) + d->st.objs.n + 1,
		      sizeof(*b.ch));
	ret = b.ch && b.events ? index_store(&b, &d->st) : -ENOMEM;
	if (!ret)
		ret = keep ? collect_keep(&b, keep) : collect(&b);
	if (!ret && o.resync)
		ret = collect_gone(&b, &d->st);
	if (!ret)
		apply_split(d, &b, 0, b.n_ch);
	if (!ret && b.pods)
		pods_after_sync(d, out);
	if (!ret)
		summary(&b, out);
	else
		sb_printf(err, "error: sync: %s\n", strerror(-ret));
	batch_free(&b);
	json_decref(keep);
	return ret ? 1 : 0;
}
