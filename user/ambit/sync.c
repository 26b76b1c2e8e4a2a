// SPDX-License-Identifier: Apache-2.0
/*
 * ambit sync: Kubernetes watch events in, the daemon kept in step.
 *
 * Reads what `kubectl get KIND -A --watch --output-watch-events -o json`
 * prints (one compact JSON event a line; pretty-printed events back to
 * back work as well) and sends the events to ambitd in batches: whatever
 * has arrived by the time the previous batch is applied goes as one
 * transaction, so a burst of a thousand events is a handful of applies.
 *
 * kubectl prints the objects that exist as a first burst of ADDED events,
 * then changes as they happen. That first burst (it ends when the stream
 * has been quiet for --settle ms) is a full list: the daemon deletes the
 * objects of the synced kinds it has and the list does not. --resync FILE
 * sends a `kubectl get -o json` List the same way first, which also covers
 * a kind with no objects at all (kubectl then prints nothing).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "jstream.h"
#include "proto.h"
#include "sync.h"

#define BATCH_BYTES (16u << 20) /* well under the protocol's 64 MiB */

struct sync_cli {
	const char *sock;
	const char *file;   /* - for stdin */
	const char *resync; /* a List to start from, or NULL */
	char kinds[128];    /* "Service,EndpointSlice,..." */
	bool no_resync;
	int settle_ms;
	size_t max_batch;
};

struct batch {
	json_t *events;
	size_t bytes;
	bool resync;
};

static const struct {
	const char *kind;
	const char *names[4]; /* kubectl's names for it, besides the kind */
} kind_names[] = {
	{ "Service", { "services", "service", "svc" } },
	{ "EndpointSlice", { "endpointslices", "endpointslice" } },
	{ "HTTPRoute", { "httproutes", "httproute" } },
	{ "Pod", { "pods", "pod", "po" } },
	{ "Namespace", { "namespaces", "namespace", "ns" } },
};
#define N_KINDS (sizeof(kind_names) / sizeof(kind_names[0]))

/* "svc", "Service" or "endpointslices.discovery.k8s.io" -> the kind. */
static const char *kind_named(const char *name)
{
	size_t i, j, len = strcspn(name, ".");

	for (i = 0; i < N_KINDS; i++) {
		if (strlen(kind_names[i].kind) == len &&
		    !strncasecmp(kind_names[i].kind, name, len))
			return kind_names[i].kind;
		for (j = 0; j < 4 && kind_names[i].names[j]; j++) {
			if (strlen(kind_names[i].names[j]) == len &&
			    !strncasecmp(kind_names[i].names[j], name, len))
				return kind_names[i].kind;
		}
	}
	return NULL;
}

static int parse_source(const char *list, char *out, size_t size)
{
	char buf[256], *tok, *save = NULL;
	const char *k;
	size_t o = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	out[0] = '\0';
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		k = kind_named(tok);
		if (!k) {
			fprintf(stderr, "error: sync: --source %s: not one of "
				"services, endpointslices, httproutes, pods, "
				"namespaces\n", tok);
			return -EINVAL;
		}
		o += (size_t)snprintf(out + o, size - o, "%s%s", o ? "," : "",
				      k);
	}
	return o ? 0 : -EINVAL;
}

/* A whole decimal number in [@min, @max]; -1 when @s is not one. */
static long number(const char *s, long min, long max)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s && !*end && v >= min && v <= max ? v : -1;
}

static int parse_args(int argc, char **argv, struct sync_cli *c)
{
	static const struct option opts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "source", required_argument, NULL, 's' },
		{ "resync", required_argument, NULL, 'r' },
		{ "no-resync", no_argument, NULL, 'R' },
		{ "settle", required_argument, NULL, 'S' },
		{ "max-batch", required_argument, NULL, 'b' },
		{},
	};
	int ch;

	c->file = "-";
	c->settle_ms = 500;
	c->max_batch = 1000;
	snprintf(c->kinds, sizeof(c->kinds),
		 "Service,EndpointSlice,HTTPRoute,Pod,Namespace");
	optind = 0;
	while ((ch = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': c->file = optarg; break;
		case 's':
			if (parse_source(optarg, c->kinds, sizeof(c->kinds)))
				return -EINVAL;
			break;
		case 'r': c->resync = optarg; break;
		case 'R': c->no_resync = true; break;
		case 'S': c->settle_ms = (int)number(optarg, 0, 600000); break;
		case 'b': c->max_batch = (size_t)number(optarg, 1, 100000); break;
		default:
			fprintf(stderr, "error: sync: bad arguments (ambit sync "
				"--help)\n");
			return -EINVAL;
		}
	}
	if (optind != argc || c->settle_ms < 0 || c->max_batch == (size_t)-1) {
		fprintf(stderr, "error: sync: bad arguments (ambit sync --help)\n");
		return -EINVAL;
	}
	return 0;
}

/* ---- talking to the daemon ----------------------------------------------- */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A daemon that is restarting comes back within seconds: wait for it. */
static int call_retrying(const struct sync_cli *c, int argc, char **argv,
			 const char *body, size_t len, struct ctl_reply *rep)
{
	long wait = 100;
	int ret, tries;

	for (tries = 0;; tries++) {
		ret = ctl_call(c->sock, argc, argv, body, len, rep);
		if (!ret || tries == 8 || (ret != -ECONNREFUSED &&
					   ret != -ENOENT && ret != -EPIPE))
			return ret;
		fprintf(stderr, "warning: sync: ambitd at %s: %s; retrying\n",
			c->sock, strerror(-ret));
		sleep_ms(wait);
		wait = wait < 2000 ? wait * 2 : 2000;
	}
}

/* Print the daemon's report of a call. Return: 0 or -1. */
static int reply_done(const struct sync_cli *c, int ret, struct ctl_reply *rep)
{
	if (ret) {
		fprintf(stderr, "error: sync: cannot reach ambitd at %s: %s\n",
			c->sock, strerror(-ret));
		return -1;
	}
	fputs(rep->out, stdout);
	fputs(rep->err, stderr);
	fflush(stdout);
	ret = rep->code ? -1 : 0;
	ctl_reply_free(rep);
	return ret;
}

/* Send a batch; the daemon's report is printed. Return: 0 or -1. */
static int send_batch(const struct sync_cli *c, struct batch *b,
		      const char *origin, const char *unit)
{
	char *argv[10] = { "sync", "--kinds", (char *)c->kinds, "--origin",
			   (char *)origin, "--unit", (char *)unit };
	int argc = 7, ret;
	struct ctl_reply rep;
	char *body;

	if (!json_array_size(b->events) && !b->resync)
		return 0;
	if (b->resync)
		argv[argc++] = "--resync";
	body = json_dumps(b->events, JSON_COMPACT);
	if (!body) {
		fprintf(stderr, "error: sync: out of memory\n");
		return -1;
	}
	ret = call_retrying(c, argc, argv, body, strlen(body), &rep);
	free(body);
	json_array_clear(b->events);
	b->bytes = 0;
	b->resync = false;
	return reply_done(c, ret, &rep);
}

/* Other controllers' bookkeeping: big, and the daemon drops it anyway. */
static void trim(json_t *obj)
{
	json_object_del(json_object_get(obj, "metadata"), "managedFields");
}

static int add_event(struct batch *b, unsigned long n, const char *type,
		     json_t *obj)
{
	json_t *ev = json_pack("{s:I,s:s,s:O}", "n", (json_int_t)n, "type",
			       type, "object", obj);
	size_t len;

	if (!ev)
		return -ENOMEM;
	trim(obj);
	len = json_dumpb(ev, NULL, 0, JSON_COMPACT);
	if (json_array_append_new(b->events, ev))
		return -ENOMEM;
	b->bytes += len;
	return 0;
}

static bool batch_full(const struct sync_cli *c, const struct batch *b)
{
	return json_array_size(b->events) >= c->max_batch ||
	       b->bytes >= BATCH_BYTES;
}

/* ---- full lists ------------------------------------------------------------------- */

/*
 * A full list (the stream's first burst, or --resync FILE) that may take
 * several batches. One batch: sent with --resync, its objects and the
 * deletion of what it lacks are one transaction. More: the batches go as
 * they are, then --prune with every listed key deletes the rest, so an
 * object that exists is never missing in between.
 */
struct lister {
	json_t *keep; /* {"kind", "namespace", "name"} of every listed object */
	bool split;   /* some of it was sent already */
};

static int keep_keys(struct lister *l, const struct batch *b)
{
	size_t i;

	for (i = 0; i < json_array_size(b->events); i++) {
		const json_t *o = json_object_get(json_array_get(b->events, i),
						  "object");
		const json_t *m = json_object_get(o, "metadata");
		json_t *k = json_pack("{s:O?,s:O?,s:O?}", "kind",
				      json_object_get(o, "kind"), "namespace",
				      json_object_get(m, "namespace"), "name",
				      json_object_get(m, "name"));

		if (!k || json_array_append_new(l->keep, k))
			return -ENOMEM;
	}
	return 0;
}

static int send_prune(const struct sync_cli *c, const struct lister *l,
		      const char *origin)
{
	char *argv[] = { "sync", "--kinds", (char *)c->kinds, "--prune",
			 "--origin", (char *)origin };
	struct ctl_reply rep;
	char *body = json_dumps(l->keep, JSON_COMPACT);
	int ret = body ? call_retrying(c, 6, argv, body, strlen(body), &rep)
		       : -ENOMEM;

	free(body);
	return reply_done(c, ret, &rep);
}

/* Send @b, part of a full list; @last: the list ends with it. */
static int send_list_part(const struct sync_cli *c, struct lister *l,
			  struct batch *b, const char *origin, const char *unit,
			  bool last)
{
	int ret;

	if (keep_keys(l, b)) {
		fprintf(stderr, "error: sync: out of memory\n");
		return -1;
	}
	if (last && !l->split) {
		b->resync = true;
		return send_batch(c, b, origin, unit);
	}
	ret = send_batch(c, b, origin, unit);
	l->split = true;
	if (!ret && last)
		ret = send_prune(c, l, origin);
	return ret;
}

static int resync_file(const struct sync_cli *c)
{
	struct lister l = { .keep = json_array() };
	struct batch b = { .events = json_array() };
	json_error_t e;
	json_t *list = json_load_file(c->resync, 0, &e);
	json_t *items = json_object_get(list, "items");
	size_t i, n = json_array_size(items);
	int ret = 0;

	if (!list || !json_is_array(items)) {
		fprintf(stderr, "error: sync: --resync %s: %s%s\n", c->resync,
			list ? "not a List (no items)" : e.text,
			list ? "" : " (a `kubectl get -o json` List)");
		ret = -1;
	}
	for (i = 0; !ret && i < n; i++) {
		ret = add_event(&b, i + 1, "ADDED", json_array_get(items, i));
		if (!ret && batch_full(c, &b) && i + 1 < n)
			ret = send_list_part(c, &l, &b, c->resync, "item", false);
	}
	/* An empty List is a full list too: everything of the kinds goes. */
	if (!ret)
		ret = send_list_part(c, &l, &b, c->resync, "item", true);
	json_decref(b.events);
	json_decref(l.keep);
	json_decref(list);
	return ret ? -1 : 0;
}

/* ---- the stream ----------------------------------------------------------------- */

struct reader {
	int fd;
	struct jstream js;
	bool eof;
	json_t *failed;    /* the Status of an ERROR event, once one came */
	unsigned long n;   /* values read */
	unsigned long failed_at; /* the ERROR event's number */
	const char *name;  /* for messages */
};

/* Wait up to @ms (-1: forever) for input; read what is there. */
static int fill(struct reader *r, int ms)
{
	struct pollfd p = { .fd = r->fd, .events = POLLIN };
	char buf[65536];
	ssize_t n;
	int ret;

	ret = poll(&p, 1, ms);
	if (ret < 0 && errno != EINTR)
		return -errno;
	if (ret <= 0)
		return 0;
	n = read(r->fd, buf, sizeof(buf));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -errno;
	if (n == 0) {
		r->eof = true;
		return 0;
	}
	return jstream_feed(&r->js, buf, (size_t)n) ?: 1;
}

/* An ERROR event carries a Status: the watch broke and must restart. */
static void watch_error(const struct reader *r)
{
	const json_t *st = r->failed;
	const char *msg = json_string_value(json_object_get(st, "message"));
	const char *reason = json_string_value(json_object_get(st, "reason"));
	json_int_t code = json_integer_value(json_object_get(st, "code"));

	fprintf(stderr, "error: sync: %s: event %lu: the watch failed: %s "
		"(reason %s, code %lld); a restart with a full list is "
		"needed\n", r->name, r->failed_at, msg ? msg : "(no message)",
		reason ? reason : "none", (long long)code);
}

/*
 * One value of the stream into the batch. Return: 0, 1 when the stream
 * must end (an ERROR event), -1 on a malformed event.
 */
static int take_event(struct reader *r, struct batch *b, json_t *ev)
{
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object");

	r->n++;
	if (type && !strcmp(type, "BOOKMARK"))
		return 0; /* a resourceVersion checkpoint: nothing changed */
	if (type && !strcmp(type, "ERROR")) {
		r->failed = json_incref(obj);
		r->failed_at = r->n;
		return 1;
	}
	if (!type || !json_is_object(obj)) {
		fprintf(stderr, "error: sync: %s: event %lu: not a watch event "
			"({\"type\": ..., \"object\": {...}}): skipped\n",
			r->name, r->n);
		return 0;
	}
	return add_event(b, r->n, type, obj) ? -1 : 0;
}

/* Take every complete value read so far. Return as take_event(). */
static int drain(struct reader *r, struct batch *b, const struct sync_cli *c)
{
	char why[256];
	json_t *v;
	int ret;

	while ((ret = jstream_next(&r->js, &v, why, sizeof(why))) == 1) {
		ret = take_event(r, b, v);
		json_decref(v);
		if (ret)
			return ret;
		if (json_array_size(b->events) >= c->max_batch ||
		    b->bytes >= BATCH_BYTES)
			return 0;
	}
	if (ret < 0) {
		fprintf(stderr, "error: sync: %s: malformed JSON after event "
			"%lu: %s\n", r->name, r->n, why);
		return -1;
	}
	return 0;
}

/*
 * Gather a batch: wait for the first event (at most @empty_ms; -1: as long
 * as it takes), then take what is there, waiting up to @more_ms for more.
 * Return: 0, 1 when the stream ended cleanly or by an ERROR event, -1.
 */
static int gather(struct reader *r, struct batch *b, const struct sync_cli *c,
		  int empty_ms, int more_ms)
{
	int ret = 0, got;

	for (;;) {
		ret = drain(r, b, c);
		if (ret || batch_full(c, b))
			return ret;
		if (r->eof)
			break;
		got = fill(r, json_array_size(b->events) ? more_ms : empty_ms);
		if (got < 0) {
			fprintf(stderr, "error: sync: %s: read: %s\n", r->name,
				strerror(-got));
			return -1;
		}
		if (!got && !r->eof &&
		    (json_array_size(b->events) || empty_ms >= 0))
			return 0; /* nothing more for now: apply this */
	}
	return 1;
}

static int end_of_stream(struct reader *r)
{
	char why[256];

	if (!jstream_end(&r->js, why, sizeof(why))) {
		printf("sync %s: the stream ended after %lu events\n", r->name,
		       r->n);
		return 0;
	}
	fprintf(stderr, "error: sync: %s: %s (after event %lu)\n", r->name,
		why, r->n);
	return -1;
}

/*
 * The first burst is the full list kubectl prints before watching; it ends
 * with a --settle pause (or the stream). An ERROR event before that leaves
 * it unfinished: nothing is deleted on its word.
 */
static int run_list(const struct sync_cli *c, struct reader *r,
		    struct batch *b, struct lister *l, bool *listing)
{
	int ret = gather(r, b, c, l->split ? c->settle_ms : -1, c->settle_ms);
	bool last = !batch_full(c, b);

	/* Nothing at all, or a broken watch: no word to delete anything on
	 * (an empty stream may be a kubectl that failed). */
	if (r->failed || (ret && !l->split && !json_array_size(b->events))) {
		*listing = false;
		return send_batch(c, b, r->name, "event") ? -1 : ret;
	}
	if (send_list_part(c, l, b, r->name, "event", last))
		return -1;
	*listing = !last;
	return ret;
}

static int run_stream(const struct sync_cli *c, struct reader *r)
{
	struct lister l = { .keep = json_array() };
	struct batch b = { .events = json_array() };
	bool listing = !c->no_resync;
	int ret;

	for (;;) {
		if (listing) {
			ret = run_list(c, r, &b, &l, &listing);
		} else {
			ret = gather(r, &b, c, -1, 0);
			/* What arrived before an error is still applied. */
			if (send_batch(c, &b, r->name, "event"))
				ret = -1;
		}
		if (ret)
			break;
	}
	json_decref(b.events);
	json_decref(l.keep);
	if (r->failed) {
		watch_error(r);
		return -1;
	}
	return ret < 0 ? -1 : end_of_stream(r);
}

int sync_main(const char *sock, int argc, char **argv)
{
	struct sync_cli c = { .sock = sock };
	struct reader r = { .fd = 0, .name = "<stdin>" };
	int ret;

	if (parse_args(argc, argv, &c))
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(c.file, "-")) {
		r.fd = open(c.file, O_RDONLY | O_CLOEXEC);
		r.name = c.file;
		if (r.fd < 0) {
			fprintf(stderr, "error: sync: %s: %s\n", c.file,
				strerror(errno));
			return 1;
		}
	}
	ret = c.resync ? resync_file(&c) : 0;
	if (!ret)
		ret = run_stream(&c, &r);
	jstream_free(&r.js);
	json_decref(r.failed);
	if (r.fd > 0)
		close(r.fd);
	return ret ? 1 : 0;
}
