// SPDX-License-Identifier: Apache-2.0
/*
 * The L7 route engine: configurations loaded from YAML, compiled, turned
 * into route tables, then requests matched against them (every match type,
 * every precedence rule), backends picked by weight and filters turned into
 * actions. Run from the repository root (data in tests/unit/data).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/types.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "compile.h"
#include "l7route.h"
#include "load.h"
#include "model.h"

#define SVC(name, ip)                                                          \
	"---\napiVersion: v1\nkind: Service\nmetadata: {name: " name "}\n"    \
	"spec: {clusterIP: " ip ", ports: [{name: http, port: 9080}]}\n"

#define SLICE(svc, addr)                                                       \
	"---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"         \
	"metadata: {name: " svc "-a, labels: {kubernetes.io/service-name: "    \
	svc "}}\naddressType: IPv4\nports: [{name: http, port: 9080}]\n"       \
	"endpoints: [{addresses: [" addr "]}]\n"

/* reviews is routed; v1 and v2 have one endpoint each, v3 none (503). */
#define BASE                                                                   \
	"apiVersion: v1\nkind: Service\nmetadata: {name: reviews}\n"           \
	"spec: {clusterIP: 127.96.0.10, ports: [{name: http, port: 9080}]}\n"  \
	SVC("reviews-v1", "127.96.1.1") SVC("reviews-v2", "127.96.1.2")        \
	SVC("reviews-v3", "127.96.1.3") SLICE("reviews-v1", "127.0.1.1")       \
	SLICE("reviews-v2", "127.0.2.1")

#define ROUTE_META(meta)                                                       \
	"---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"    \
	"metadata: {" meta "}\n"                                               \
	"spec:\n  parentRefs: [{group: \"\", kind: Service, name: reviews, "   \
	"namespace: default}]\n  rules:\n"

#define ROUTE(name, ts) ROUTE_META("name: " name ", creationTimestamp: \"" ts "\"")
/* Without a creationTimestamp: ages by apply order (seq). */
#define ROUTE_NOTS(name) ROUTE_META("name: " name)
/* A consumer route: lives in the client's namespace @ns. */
#define CROUTE(ns, name) ROUTE_META("name: " name ", namespace: " ns)

#define TS1 "2024-01-01T00:00:00Z"
#define TS2 "2024-06-01T00:00:00Z"
#define TS3 "2024-09-01T00:00:00Z"

/* A rule: its match list (YAML flow) and the backend reviews-v1. */
#define RULE(m) "  - matches: [" m "]\n    backendRefs: [{name: reviews-v1, port: 9080}]\n"

struct fixture {
	struct objvec objs;
	struct image img;
	struct l7_table t;
	struct arena ar; /* per-request strings of l7_actions() */
};

static struct fixture fx;

static void build(const char *yaml)
{
	struct diags d = {};
	int err = model_load("test.yaml", yaml, strlen(yaml), &fx.objs, &d);

	if (err) {
		char *t = diags_join(&d);

		fprintf(stderr, "load failed:\n%s", t);
		free(t);
	}
	assert_int_equal(err, 0);
	diags_free(&d);
	for (size_t i = 0; i < fx.objs.n; i++)
		fx.objs.v[i]->seq = i;
	assert_int_equal(compile_image(&fx.objs, &fx.img), 0);
	assert_int_equal(l7_build(&fx.objs, &fx.img, &fx.t), 0);
}

static int teardown(void **state)
{
	l7_free(&fx.t);
	image_free(&fx.img);
	objvec_free(&fx.objs);
	arena_free(&fx.ar);
	memset(&fx, 0, sizeof(fx));
	return 0;
}

static const struct l7_port *port_at(const char *ip, uint16_t port)
{
	struct ambit_svc_key k = { .port = htons(port), .proto = IPPROTO_TCP };

	if (strchr(ip, ':')) {
		k.family = AMBIT_FAMILY_V6;
		inet_pton(AF_INET6, ip, k.addr);
	} else {
		k.family = AMBIT_FAMILY_V4;
		inet_pton(AF_INET, ip, k.addr);
	}
	return l7_find_port(&fx.t, &k);
}

static const struct l7_port *reviews(void)
{
	const struct l7_port *p = port_at("127.96.0.10", 9080);

	assert_non_null(p);
	return p;
}

/* ---- requests ----------------------------------------------------------- */

struct req {
	struct l7_request_view v;
	struct http_header h[16];
};

static struct req rq_buf;

static struct str_view sv(const char *s, size_t n)
{
	return (struct str_view){ s, n };
}

/*
 * A request: "METHOD /path?query" then "name: value" headers, NULL-ended.
 * Views point into the (literal) arguments; "Host" also fills v.host.
 */
static const struct l7_request_view *req(const char *line, ...)
{
	struct l7_request_view *v = &rq_buf.v;
	const char *sp = strchr(line, ' '), *target = sp + 1, *q, *h;
	va_list ap;

	memset(&rq_buf, 0, sizeof(rq_buf));
	v->method = sv(line, sp - line);
	q = strchr(target, '?');
	v->path = sv(target, q ? (size_t)(q - target) : strlen(target));
	if (q)
		v->query = sv(q + 1, strlen(q + 1));
	v->headers = rq_buf.h;
	va_start(ap, line);
	while ((h = va_arg(ap, const char *))) {
		struct http_header *hh = &rq_buf.h[v->n_headers++];
		const char *colon = strchr(h, ':'), *val = colon + 1;

		while (*val == ' ')
			val++;
		hh->name = sv(h, colon - h);
		hh->value = sv(val, strlen(val));
		if (hh->name.len == 4 && !strncasecmp(h, "host", 4))
			v->host = hh->value;
	}
	va_end(ap);
	return v;
}

/* "route/rule/match" of the winner ("-" for a rule without matches),
 * or "404". */
static const char *who(const struct l7_entry *e)
{
	static char buf[128];

	if (!e)
		return "404";
	if (!e->match)
		snprintf(buf, sizeof(buf), "%s/%zu/-", e->rule->route->name,
			 e->rule->index);
	else
		snprintf(buf, sizeof(buf), "%s/%zu/%zu", e->rule->route->name,
			 e->rule->index,
			 (size_t)(e->match - e->rule->rule->matches));
	return buf;
}

static const char *win_ns(const char *ns, const struct l7_request_view *rq)
{
	return who(l7_match(reviews(), ns, rq));
}

static const char *win(const struct l7_request_view *rq)
{
	return win_ns(NULL, rq);
}

static const struct l7_entry *match_ok(const struct l7_request_view *rq)
{
	const struct l7_entry *e = l7_match(reviews(), NULL, rq);

	assert_non_null(e);
	return e;
}

/* ---- path matches ------------------------------------------------------- */

static void test_path_prefix(void **state)
{
	build(BASE ROUTE("r", TS1)
	      RULE("{path: {type: PathPrefix, value: /v2}}")
	      RULE("{path: {type: PathPrefix, value: /v3/}}"));
	assert_string_equal(win(req("GET /v2", NULL)), "r/0/0");
	assert_string_equal(win(req("GET /v2/", NULL)), "r/0/0");
	assert_string_equal(win(req("GET /v2/x/y", NULL)), "r/0/0");
	assert_string_equal(win(req("GET /v2?a=b", NULL)), "r/0/0");
	assert_string_equal(win(req("GET /v2x", NULL)), "404");
	assert_string_equal(win(req("GET /v", NULL)), "404");
	assert_string_equal(win(req("GET /V2", NULL)), "404");
	assert_string_equal(win(req("GET /", NULL)), "404");
	/* A trailing '/' in the value is ignored. */
	assert_string_equal(win(req("GET /v3", NULL)), "r/1/0");
	assert_string_equal(win(req("GET /v3/", NULL)), "r/1/0");
	assert_string_equal(win(req("GET /v3/a", NULL)), "r/1/0");
	assert_string_equal(win(req("GET /v3x", NULL)), "404");
}

static void test_path_root(void **state)
{
	build(BASE ROUTE("r", TS1)
	      RULE("{path: {type: PathPrefix, value: /}, headers: [{name: a, value: b}]}")
	      "  - backendRefs: [{name: reviews-v1, port: 9080}]\n");
	/* "/" matches everything, a rule without matches too. */
	assert_string_equal(win(req("GET /x/y?z", "a: b", NULL)), "r/0/0");
	assert_string_equal(win(req("OPTIONS *", "a: b", NULL)), "r/0/0");
	assert_string_equal(win(req("GET /x/y", NULL)), "r/1/-");
	assert_string_equal(win(req("GET /", NULL)), "r/1/-");
}

static void test_path_exact(void **state)
{
	build(BASE ROUTE("r", TS1)
	      RULE("{path: {type: Exact, value: /a/b}}"));
	assert_string_equal(win(req("GET /a/b", NULL)), "r/0/0");
	/* The query is not part of the path. */
	assert_string_equal(win(req("GET /a/b?x=1", NULL)), "r/0/0");
	assert_string_equal(win(req("GET /a/b/", NULL)), "404");
	assert_string_equal(win(req("GET /a/bc", NULL)), "404");
	assert_string_equal(win(req("GET /A/b", NULL)), "404");
	assert_string_equal(win(req("GET /a", NULL)), "404");
}

static void test_path_regex(void **state)
{
	build(BASE ROUTE("r", TS1)
	      RULE("{path: {type: RegularExpression, value: \"/u/[0-9]+\"}}")
	      RULE("{path: {type: RegularExpression, value: \"/a|/b\"}}")
	      RULE("{path: {type: RegularExpression, value: \"(?x) /c  # note\"}}"));
	assert_string_equal(win(req("GET /u/12", NULL)), "r/0/0");
	assert_string_equal(win(req("GET /u/12?q=1", NULL)), "r/0/0");
	/* Anchored at both ends. */
	assert_string_equal(win(req("GET /u/12/x", NULL)), "404");
	assert_string_equal(win(req("GET /x/u/12", NULL)), "404");
	assert_string_equal(win(req("GET /u/", NULL)), "404");
	/* Alternatives are anchored as a whole, not just the first/last. */
	assert_string_equal(win(req("GET /a", NULL)), "r/1/0");
	assert_string_equal(win(req("GET /b", NULL)), "r/1/0");
	assert_string_equal(win(req("GET /ab", NULL)), "404");
	assert_string_equal(win(req("GET /b/x", NULL)), "404");
	/* A trailing extended-mode comment does not break anchoring. */
	assert_string_equal(win(req("GET /c", NULL)), "r/2/0");
	assert_string_equal(win(req("GET /cd", NULL)), "404");
	/* Invalid UTF-8 in the request: no match, no error. */
	assert_string_equal(win(req("GET /u/\xff", NULL)), "404");
}

/* ---- header, query, method matches -------------------------------------- */

static void test_header_match(void **state)
{
	static char big[2100];
	const struct l7_request_view *rq;

	build(BASE ROUTE("r", TS1)
	      RULE("{headers: [{name: X-Env, value: Prod}]}")
	      RULE("{headers: [{name: x-list, value: \"a,b\"}]}")
	      RULE("{headers: [{name: x-rx, type: RegularExpression, value: \"v[0-9]+\"}]}")
	      RULE("{headers: [{name: x-rxj, type: RegularExpression, value: \"a,.*\"}]}")
	      RULE("{headers: [{name: x-empty, type: RegularExpression, value: \".*\"}]}"));
	/* Names are case-insensitive, values are not. */
	assert_string_equal(win(req("GET /", "x-env: Prod", NULL)), "r/0/0");
	assert_string_equal(win(req("GET /", "X-ENV: Prod", NULL)), "r/0/0");
	assert_string_equal(win(req("GET /", "x-env: prod", NULL)), "404");
	assert_string_equal(win(req("GET /", "x-envy: Prod", NULL)), "404");
	assert_string_equal(win(req("GET /", NULL)), "404");
	/* A repeated header is its values joined with ",". */
	assert_string_equal(win(req("GET /", "x-list: a", "X-List: b", NULL)), "r/1/0");
	assert_string_equal(win(req("GET /", "x-list: a,b", NULL)), "r/1/0");
	assert_string_equal(win(req("GET /", "x-list: a", NULL)), "404");
	assert_string_equal(win(req("GET /", "x-list: b", "x-list: a", NULL)), "404");
	assert_string_equal(win(req("GET /", "x-list: a", "x-list: b", "x-list: c",
				    NULL)), "404");
	assert_string_equal(win(req("GET /", "x-list: a,", "x-list: b", NULL)), "404");
	/* Regex: anchored, and on the joined value. */
	assert_string_equal(win(req("GET /", "x-rx: v12", NULL)), "r/2/0");
	assert_string_equal(win(req("GET /", "x-rx: v12x", NULL)), "404");
	assert_string_equal(win(req("GET /", "x-rx: xv12", NULL)), "404");
	assert_string_equal(win(req("GET /", "x-rxj: a", "x-rxj: zz", NULL)), "r/3/0");
	assert_string_equal(win(req("GET /", "x-rxj: a", NULL)), "404");
	/* A joined value bigger than the stack buffer. */
	memcpy(big, "x-rxj: ", 7);
	memset(big + 7, 'z', sizeof(big) - 8);
	rq = req("GET /", "x-rxj: a", big, NULL);
	assert_string_equal(win(rq), "r/3/0");
	/* An absent header never matches, even a regex accepting "". */
	assert_string_equal(win(req("GET /", "x-empty: ", NULL)), "r/4/0");
}

static void test_query_match(void **state)
{
	build(BASE ROUTE("r", TS1)
	      RULE("{queryParams: [{name: v, value: \"1\"}]}")
	      RULE("{queryParams: [{name: Q, value: \"a%20b\"}]}")
	      RULE("{queryParams: [{name: rx, type: RegularExpression, value: \"[a-z]+\"}]}"));
	assert_string_equal(win(req("GET /?v=1", NULL)), "r/0/0");
	assert_string_equal(win(req("GET /p?x=2&v=1", NULL)), "r/0/0");
	/* The first occurrence counts. */
	assert_string_equal(win(req("GET /?v=1&v=2", NULL)), "r/0/0");
	assert_string_equal(win(req("GET /?v=2&v=1", NULL)), "404");
	/* Names are case-sensitive and compared whole. */
	assert_string_equal(win(req("GET /?V=1", NULL)), "404");
	assert_string_equal(win(req("GET /?vv=1", NULL)), "404");
	assert_string_equal(win(req("GET /?v=1x", NULL)), "404");
	assert_string_equal(win(req("GET /?v", NULL)), "404");
	assert_string_equal(win(req("GET /?v=1=2", NULL)), "404");
	/* Raw: no percent-decoding on either side. */
	assert_string_equal(win(req("GET /?Q=a%20b", NULL)), "r/1/0");
	assert_string_equal(win(req("GET /?Q=a+b", NULL)), "404");
	/* Regex, anchored; a name without '=' has an empty value. */
	assert_string_equal(win(req("GET /?a=1&rx=abc&b", NULL)), "r/2/0");
	assert_string_equal(win(req("GET /?rx=abc1", NULL)), "404");
	assert_string_equal(win(req("GET /?rx", NULL)), "404");
	assert_string_equal(win(req("GET /", NULL)), "404");
}

static void test_method_match(void **state)
{
	build(BASE ROUTE("r", TS1)
	      RULE("{method: GET}")
	      RULE("{method: POST, path: {value: /p}}"));
	assert_string_equal(win(req("GET /x", NULL)), "r/0/0");
	assert_string_equal(win(req("get /x", NULL)), "404");
	assert_string_equal(win(req("POST /p/q", NULL)), "r/1/0");
	assert_string_equal(win(req("POST /x", NULL)), "404");
	assert_string_equal(win(req("PUT /p", NULL)), "404");
}

static void test_match_or_and(void **state)
{
	/* Matches of a rule are ORed, conditions of a match ANDed. */
	build(BASE ROUTE("r", TS1)
	      RULE("{path: {value: /a}, headers: [{name: h, value: \"1\"}]},"
		   " {path: {value: /b}}"));
	assert_string_equal(win(req("GET /a", "h: 1", NULL)), "r/0/0");
	assert_string_equal(win(req("GET /a", NULL)), "404");
	assert_string_equal(win(req("GET /b", NULL)), "r/0/1");
	assert_string_equal(win(req("GET /c", "h: 1", NULL)), "404");
}

/* ---- precedence (one rule each, in spec order) -------------------------- */

static void test_prec_exact_over_prefix(void **state)
{
	/* The older route's prefix is as long and has a method and a header:
	 * Exact still wins. */
	build(BASE ROUTE("old", TS1)
	      RULE("{path: {type: PathPrefix, value: /x/y}, method: GET,"
		   " headers: [{name: h, value: \"1\"}]}")
	      ROUTE("new", TS2)
	      RULE("{path: {type: Exact, value: /x/y}}"));
	assert_string_equal(win(req("GET /x/y", "h: 1", NULL)), "new/0/0");
	assert_string_equal(win(req("GET /x/y/z", "h: 1", NULL)), "old/0/0");
}

static void test_prec_longer_prefix(void **state)
{
	build(BASE ROUTE("old", TS1)
	      RULE("{path: {value: /a}, method: GET, headers: [{name: h, value: \"1\"}]}")
	      ROUTE("new", TS2)
	      RULE("{path: {value: /a/b}}")
	      ROUTE("newest", TS3)
	      RULE("{path: {value: /a/b/}}"));
	assert_string_equal(win(req("GET /a/b/c", "h: 1", NULL)), "new/0/0");
	assert_string_equal(win(req("GET /a/c", "h: 1", NULL)), "old/0/0");
	/* "/a/b/" is "/a/b" (trailing '/' ignored): a tie the older wins. */
	assert_string_equal(win(req("GET /a/b", NULL)), "new/0/0");
}

static void test_prec_regex_rank(void **state)
{
	/* Regexes rank by pattern length among prefixes; at equal length
	 * the prefix first; Exact before both. */
	build(BASE ROUTE("old", TS1)
	      RULE("{path: {type: RegularExpression, value: \"/p/[a-o]+\"}}")
	      RULE("{path: {type: RegularExpression, value: \"/p/q.*\"}}")
	      ROUTE("new", TS2)
	      RULE("{path: {value: /p}}")
	      RULE("{path: {value: /p/qqq}}")
	      RULE("{path: {type: Exact, value: /p/x}}"));
	assert_string_equal(win(req("GET /p/abc", NULL)), "old/0/0");
	assert_string_equal(win(req("GET /p/qqq", NULL)), "new/1/0");
	assert_string_equal(win(req("GET /p/qz", NULL)), "old/1/0");
	assert_string_equal(win(req("GET /p/x", NULL)), "new/2/0");
	assert_string_equal(win(req("GET /p/1", NULL)), "new/0/0");
}

static void test_prec_method(void **state)
{
	build(BASE ROUTE("old", TS1)
	      RULE("{headers: [{name: a, value: \"1\"}, {name: b, value: \"1\"}],"
		   " queryParams: [{name: q, value: \"1\"}]}")
	      ROUTE("new", TS2)
	      RULE("{method: GET}"));
	assert_string_equal(win(req("GET /?q=1", "a: 1", "b: 1", NULL)), "new/0/0");
	assert_string_equal(win(req("PUT /?q=1", "a: 1", "b: 1", NULL)), "old/0/0");
}

static void test_prec_headers(void **state)
{
	build(BASE ROUTE("old", TS1)
	      RULE("{headers: [{name: a, value: \"1\"}], queryParams: "
		   "[{name: q, value: \"1\"}, {name: r, value: \"1\"}]}")
	      ROUTE("new", TS2)
	      RULE("{headers: [{name: a, value: \"1\"}, {name: b, value: \"1\"}]}"));
	assert_string_equal(win(req("GET /?q=1&r=1", "a: 1", "b: 1", NULL)), "new/0/0");
	assert_string_equal(win(req("GET /?q=1&r=1", "a: 1", NULL)), "old/0/0");
}

static void test_prec_query(void **state)
{
	build(BASE ROUTE("old", TS1)
	      RULE("{queryParams: [{name: q, value: \"1\"}]}")
	      ROUTE("new", TS2)
	      RULE("{queryParams: [{name: q, value: \"1\"}, {name: r, value: \"1\"}]}"));
	assert_string_equal(win(req("GET /?q=1&r=1", NULL)), "new/0/0");
	assert_string_equal(win(req("GET /?q=1", NULL)), "old/0/0");
}

static void test_prec_older_route(void **state)
{
	build(BASE ROUTE("a-new", TS2)
	      RULE("{path: {value: /x}}")
	      ROUTE("z-old", TS1)
	      RULE("{path: {value: /x}}"));
	assert_string_equal(win(req("GET /x", NULL)), "z-old/0/0");
	teardown(NULL);
	/* Without timestamps: apply order; a timestamp beats none. */
	build(BASE ROUTE_NOTS("b-first") RULE("{path: {value: /x}}")
	      ROUTE_NOTS("a-second") RULE("{path: {value: /x}}"));
	assert_string_equal(win(req("GET /x", NULL)), "b-first/0/0");
	teardown(NULL);
	build(BASE ROUTE_NOTS("a-none") RULE("{path: {value: /x}}")
	      ROUTE("z-dated", TS3) RULE("{path: {value: /x}}"));
	assert_string_equal(win(req("GET /x", NULL)), "z-dated/0/0");
}

static void test_prec_name_tie(void **state)
{
	build(BASE ROUTE("b", TS1)
	      RULE("{path: {value: /x}}")
	      ROUTE("a", TS1)
	      RULE("{path: {value: /x}}"));
	assert_string_equal(win(req("GET /x", NULL)), "a/0/0");
}

static void test_prec_rule_order(void **state)
{
	build(BASE ROUTE("r", TS1)
	      RULE("{path: {value: /y}}, {path: {value: /x}}")
	      RULE("{path: {value: /x}}, {path: {value: /x}}"));
	/* Rule order first, then match order within the rule. */
	assert_string_equal(win(req("GET /x", NULL)), "r/0/1");
	teardown(NULL);
	build(BASE ROUTE("r", TS1)
	      RULE("{path: {value: /y}}")
	      RULE("{path: {value: /x}, method: GET}, {path: {value: /x}, method: GET}"));
	assert_string_equal(win(req("GET /x", NULL)), "r/1/0");
}

/* ---- attachment --------------------------------------------------------- */

static void test_consumer_routes(void **state)
{
	build(BASE ROUTE("prod", TS1)
	      RULE("{path: {value: /}}")
	      CROUTE("client", "cons")
	      RULE("{headers: [{name: x, value: \"1\"}]}")
	      CROUTE("zzz", "cons2")
	      "  - backendRefs: [{name: reviews-v2, namespace: default, port: 9080}]\n"
	      CROUTE("aaa", "cons3")
	      "  - backendRefs: [{name: reviews-v2, namespace: default, port: 9080}]\n");
	assert_int_equal(reviews()->n_consumers, 3);
	/* For its namespace a consumer route replaces the producer's: the
	 * producer's catch-all does not apply there. */
	assert_string_equal(win_ns("client", req("GET /", "x: 1", NULL)), "cons/0/0");
	assert_string_equal(win_ns("client", req("GET /", NULL)), "404");
	assert_string_equal(win_ns("zzz", req("GET /", NULL)), "cons2/0/-");
	assert_string_equal(win_ns("aaa", req("GET /", NULL)), "cons3/0/-");
	/* Everyone else gets the producer routes. */
	assert_string_equal(win_ns("other", req("GET /", "x: 1", NULL)), "prod/0/0");
	assert_string_equal(win_ns("default", req("GET /", "x: 1", NULL)), "prod/0/0");
	assert_string_equal(win_ns(NULL, req("GET /", "x: 1", NULL)), "prod/0/0");
	/* A consumer route's backend defaults to the route's namespace. */
	assert_string_equal(l7_match(reviews(), "client", req("GET /", "x: 1", NULL))
			    ->rule->backends[0].ns, "client");
	assert_non_null(l7_match(reviews(), "client", req("GET /", "x: 1", NULL))
			->rule->backends[0].unresolved);
}

static void test_parent_port(void **state)
{
	const struct l7_port *p80, *p81;

	build(BASE "---\napiVersion: v1\nkind: Service\nmetadata: {name: multi}\n"
	      "spec: {clusterIP: 127.96.0.20, ports: [{name: a, port: 80},"
	      " {name: b, port: 81}]}\n"
	      "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
	      "metadata: {name: only81}\nspec:\n  parentRefs: [{group: \"\", "
	      "kind: Service, name: multi, port: 81}]\n  rules:\n"
	      RULE("{headers: [{name: a, value: \"1\"}]}")
	      "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
	      "metadata: {name: all}\nspec:\n  parentRefs: [{group: \"\", "
	      "kind: Service, name: multi}]\n  rules:\n"
	      RULE("{headers: [{name: b, value: \"1\"}]}"));
	p80 = port_at("127.96.0.20", 80);
	p81 = port_at("127.96.0.20", 81);
	assert_non_null(p80);
	assert_non_null(p81);
	assert_int_equal(p80->producer.n, 1);
	assert_string_equal(p80->producer.v[0].rule->route->name, "all");
	assert_int_equal(p81->producer.n, 2);
	assert_null(l7_match(p80, NULL, req("GET /", "a: 1", NULL)));
	assert_string_equal(who(l7_match(p81, NULL, req("GET /", "a: 1", NULL))),
			    "only81/0/0");
	assert_string_equal(who(l7_match(p80, NULL, req("GET /", "b: 1", NULL))),
			    "all/0/0");
	/* reviews has no route here: plain L4, no L7 table. */
	assert_null(port_at("127.96.0.10", 9080));
	assert_null(port_at("127.96.0.20", 82));
}

static void test_dual_stack(void **state)
{
	const struct l7_port *p;
	const struct l7_entry *e;
	char buf[64];

	build("apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
	      "spec: {clusterIPs: [127.96.0.7, \"fd00:96::7\"], ports: [{port: 80}]}\n"
	      "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	      "metadata: {name: w4, labels: {kubernetes.io/service-name: web}}\n"
	      "addressType: IPv4\nports: [{port: 80}]\n"
	      "endpoints: [{addresses: [127.0.0.7]}]\n"
	      "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	      "metadata: {name: w6, labels: {kubernetes.io/service-name: web}}\n"
	      "addressType: IPv6\nports: [{port: 80}]\n"
	      "endpoints: [{addresses: [\"fd00:a5::7\"]}]\n"
	      "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
	      "metadata: {name: r}\nspec:\n  parentRefs: [{group: \"\", "
	      "kind: Service, name: web}]\n  rules:\n"
	      "  - matches: [{path: {value: /x}}]\n"
	      "    backendRefs: [{name: web, port: 80}]\n");
	p = port_at("fd00:96::7", 80);
	assert_non_null(p);
	e = l7_match(p, NULL, req("GET /x", NULL));
	assert_non_null(e);
	assert_int_equal(e->rule->backends[0].n_eps, 1);
	assert_string_equal(ep_str(&e->rule->backends[0].eps[0], buf, sizeof(buf)),
			    "[fd00:a5::7]:80");
	e = l7_match(port_at("127.96.0.7", 80), NULL, req("GET /x", NULL));
	assert_string_equal(ep_str(&e->rule->backends[0].eps[0], buf, sizeof(buf)),
			    "127.0.0.7:80");
}

/* ---- backends ----------------------------------------------------------- */

static void test_weighted_pick(void **state)
{
	const struct l7_rule *r;
	size_t n[3] = { 0 }, i;

	build(BASE ROUTE("r", TS1)
	      "  - matches: [{path: {value: /w}}]\n"
	      "    backendRefs: [{name: reviews-v1, port: 9080, weight: 70},"
	      " {name: reviews-v2, port: 9080, weight: 30},"
	      " {name: reviews-v3, port: 9080, weight: 0}]\n"
	      "  - matches: [{path: {value: /z}}]\n"
	      "    backendRefs: [{name: reviews-v1, port: 9080, weight: 0}]\n");
	r = match_ok(req("GET /w", NULL))->rule;
	assert_int_equal(r->total_weight, 100);
	/* 10000 evenly spread draws: exactly 70/30, weight 0 never. */
	for (i = 0; i < 10000; i++) {
		uint32_t rnd = (uint32_t)((((uint64_t)i << 32) + 9999) / 10000);
		const struct l7_backend *b = l7_pick_backend(r, rnd);

		assert_non_null(b);
		n[b - r->backends]++;
	}
	assert_int_equal(n[0], 7000);
	assert_int_equal(n[1], 3000);
	assert_int_equal(n[2], 0);
	assert_ptr_equal(l7_pick_backend(r, 0), &r->backends[0]);
	assert_ptr_equal(l7_pick_backend(r, UINT32_MAX), &r->backends[1]);
	/* The same choice as the BPF side: point = rnd * total >> 32. */
	assert_ptr_equal(l7_pick_backend(r, 3006477107u), &r->backends[0]);
	assert_ptr_equal(l7_pick_backend(r, 3006477108u), &r->backends[1]);
	/* Only weight 0: nothing to pick (the proxy answers 500). */
	r = match_ok(req("GET /z", NULL))->rule;
	assert_int_equal(r->total_weight, 0);
	assert_null(l7_pick_backend(r, 12345));
}

static void test_unresolved_and_empty(void **state)
{
	const struct l7_rule *r;
	char buf[64];

	build(BASE ROUTE("r", TS1)
	      RULE("{path: {value: /a}}")
	      "  - matches: [{path: {value: /b}}]\n"
	      "    backendRefs: [{name: gone, port: 9080},"
	      " {name: reviews-v1, port: 9999}, {name: reviews-v3, port: 9080},"
	      " {group: example.com, kind: Thing, name: reviews-v1, port: 9080}]\n");
	r = match_ok(req("GET /a", NULL))->rule;
	assert_null(r->backends[0].unresolved);
	assert_int_equal(r->backends[0].n_eps, 1);
	assert_string_equal(ep_str(&r->backends[0].eps[0], buf, sizeof(buf)),
			    "127.0.1.1:9080");
	r = match_ok(req("GET /b", NULL))->rule;
	assert_int_equal(r->n_backends, 4);
	/* 500: no such Service, no such port, not a Service. */
	assert_non_null(r->backends[0].unresolved);
	assert_string_equal(r->backends[0].ns, "default");
	assert_non_null(r->backends[1].unresolved);
	assert_non_null(r->backends[3].unresolved);
	/* 503: resolves, but no ready endpoint. */
	assert_null(r->backends[2].unresolved);
	assert_int_equal(r->backends[2].n_eps, 0);
}

/* ---- filters ------------------------------------------------------------ */

static const struct l7_conn_info ci80 = { "http", 80 };
static const struct l7_conn_info ci9080 = { "http", 9080 };

static struct l7_actions act;

static void actions(const struct l7_request_view *rq,
		    const struct l7_conn_info *ci, uint32_t rnd, bool backend)
{
	const struct l7_entry *e = match_ok(rq);
	const struct l7_backend *b = backend ? l7_pick_backend(e->rule, 0) : NULL;

	assert_int_equal(l7_actions(e, b, rq, ci, rnd, &fx.ar, &act), 0);
}

static void expect_op(const struct l7_hdr_op *op, int type, const char *name,
		      const char *value)
{
	assert_int_equal(op->op, type);
	assert_string_equal(op->name, name);
	if (value)
		assert_string_equal(op->value, value);
	else
		assert_null(op->value);
}

static void test_header_filters(void **state)
{
	build(BASE ROUTE("r", TS1)
	      "  - filters:\n"
	      "    - type: RequestHeaderModifier\n"
	      "      requestHeaderModifier: {remove: [x-rm], add: [{name: x-add, value: a}],"
	      " set: [{name: X-Set, value: s}]}\n"
	      "    - type: ResponseHeaderModifier\n"
	      "      responseHeaderModifier: {add: [{name: x-resp, value: r}], remove: [server]}\n"
	      "    backendRefs:\n"
	      "    - name: reviews-v1\n      port: 9080\n      filters:\n"
	      "      - type: RequestHeaderModifier\n"
	      "        requestHeaderModifier: {set: [{name: x-set, value: backend}]}\n"
	      "      - type: ResponseHeaderModifier\n"
	      "        responseHeaderModifier: {set: [{name: x-resp, value: b}]}\n");
	actions(req("GET /", NULL), &ci80, 0, true);
	/* set, add, remove; rule filters before the backend's. */
	assert_int_equal(act.n_req, 4);
	expect_op(&act.req[0], L7_HDR_SET, "X-Set", "s");
	expect_op(&act.req[1], L7_HDR_ADD, "x-add", "a");
	expect_op(&act.req[2], L7_HDR_REMOVE, "x-rm", NULL);
	expect_op(&act.req[3], L7_HDR_SET, "x-set", "backend");
	assert_int_equal(act.n_resp, 3);
	expect_op(&act.resp[0], L7_HDR_ADD, "x-resp", "r");
	expect_op(&act.resp[1], L7_HDR_REMOVE, "server", NULL);
	expect_op(&act.resp[2], L7_HDR_SET, "x-resp", "b");
	assert_int_equal(act.redirect_status, 0);
	assert_null(act.path);
	assert_null(act.host);
	assert_int_equal(act.n_mirrors, 0);
	/* Kept as is unless SET or REMOVEd; names case-insensitive. */
	assert_false(l7_hdr_kept(act.req, act.n_req, sv("x-SET", 5)));
	assert_false(l7_hdr_kept(act.req, act.n_req, sv("X-RM", 4)));
	assert_true(l7_hdr_kept(act.req, act.n_req, sv("x-add", 5)));
	assert_true(l7_hdr_kept(act.req, act.n_req, sv("x-se", 4)));
	assert_true(l7_hdr_kept(act.req, act.n_req, sv("other", 5)));
	/* Without a backend only the rule's filters apply. */
	actions(req("GET /", NULL), &ci80, 0, false);
	assert_int_equal(act.n_req, 3);
	assert_int_equal(act.n_resp, 2);
}

#define REDIRECT(path, cfg)                                                    \
	"  - matches: [{path: {value: " path "}}]\n"                             \
	"    filters: [{type: RequestRedirect, requestRedirect: " cfg "}]\n"

static void expect_location(const char *target, const char *host,
			    const struct l7_conn_info *ci, int status,
			    const char *loc)
{
	actions(host ? req(target, host, NULL) : req(target, NULL), ci, 0, false);
	assert_int_equal(act.redirect_status, status);
	assert_string_equal(act.location, loc);
}

static void test_redirect(void **state)
{
	build(BASE ROUTE("r", TS1)
	      REDIRECT("/plain", "{}")
	      REDIRECT("/https", "{scheme: https}")
	      REDIRECT("/sport", "{scheme: https, port: 8443}")
	      REDIRECT("/p80", "{port: 80}")
	      REDIRECT("/toport", "{port: 8080}")
	      REDIRECT("/host", "{hostname: example.com, statusCode: 301}")
	      REDIRECT("/full", "{path: {type: ReplaceFullPath, replaceFullPath: /new}}")
	      REDIRECT("/old", "{path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2},"
		       " statusCode: 308}")
	      REDIRECT("/plainhttp", "{scheme: http}"));
	/* Defaults: 302, the request's scheme, Host without its port, the
	 * port the client dialed (omitted when it is the scheme's), path
	 * and query as they were. */
	expect_location("GET /plain?x=1", "Host: reviews:9080", &ci9080, 302,
			"http://reviews:9080/plain?x=1");
	expect_location("GET /plain?x=1", "Host: reviews:9080", &ci80, 302,
			"http://reviews/plain?x=1");
	expect_location("GET /plain", "Host: [fd00::1]:9080", &ci9080, 302,
			"http://[fd00::1]:9080/plain");
	/* No Host at all (HTTP/1.0): a relative Location. */
	expect_location("GET /plain?x=1", NULL, &ci9080, 302, "/plain?x=1");
	/* http -> https: port 443, omitted; an explicit port is kept. */
	expect_location("GET /https/a", "Host: reviews", &ci9080, 302,
			"https://reviews/https/a");
	expect_location("GET /sport", "Host: reviews", &ci9080, 302,
			"https://reviews:8443/sport");
	expect_location("GET /plainhttp", "Host: reviews:9080", &ci9080, 302,
			"http://reviews/plainhttp");
	expect_location("GET /p80", "Host: reviews:9080", &ci9080, 302,
			"http://reviews/p80");
	expect_location("GET /toport", "Host: reviews", &ci80, 302,
			"http://reviews:8080/toport");
	/* Hostname set, client port kept (no scheme given), 301. */
	expect_location("GET /host", "Host: reviews:9080", &ci9080, 301,
			"http://example.com:9080/host");
	expect_location("GET /full/x?q=1", "Host: reviews", &ci80, 302,
			"http://reviews/new?q=1");
	expect_location("GET /old/a/b?q", "Host: reviews", &ci80, 308,
			"http://reviews/v2/a/b?q");
	expect_location("GET /old", "Host: reviews", &ci80, 308,
			"http://reviews/v2");
}

static void test_rewrite(void **state)
{
	build(BASE ROUTE("r", TS1)
	      "  - matches: [{path: {value: /h}}]\n"
	      "    filters: [{type: URLRewrite, urlRewrite: {hostname: other.example}}]\n"
	      "    backendRefs: [{name: reviews-v1, port: 9080}]\n"
	      "  - matches: [{path: {value: /f}}]\n"
	      "    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplaceFullPath,"
	      " replaceFullPath: /full}}}]\n"
	      "    backendRefs: [{name: reviews-v1, port: 9080}]\n");
	actions(req("GET /h/x?q=1", NULL), &ci80, 0, true);
	assert_string_equal(act.host, "other.example");
	assert_null(act.path);
	actions(req("GET /f/x?q=1", NULL), &ci80, 0, true);
	assert_null(act.host);
	assert_string_equal(act.path, "/full"); /* no query: the caller's */
}

/* One URLRewrite ReplacePrefixMatch case in a configuration of its own. */
static void rewrite_case(const char *prefix, const char *repl,
			 const char *target, const char *want)
{
	char yaml[4096];

	snprintf(yaml, sizeof(yaml), "%s%s"
		 "  - matches: [{path: {type: PathPrefix, value: \"%s\"}}]\n"
		 "    filters: [{type: URLRewrite, urlRewrite: {path: {type: "
		 "ReplacePrefixMatch, replacePrefixMatch: \"%s\"}}}]\n"
		 "    backendRefs: [{name: reviews-v1, port: 9080}]\n",
		 BASE, ROUTE("r", TS1), prefix, repl);
	build(yaml);
	actions(req(target, NULL), &ci80, 0, true);
	if (!act.path || strcmp(act.path, want))
		fail_msg("prefix %s -> \"%s\" on %s: got %s, want %s", prefix,
			 repl, target, act.path ? act.path : "(null)", want);
	teardown(NULL);
}

static void test_rewrite_prefix(void **state)
{
	/* The spec's table (HTTPPathModifier.ReplacePrefixMatch). */
	rewrite_case("/foo", "/xyz", "GET /foo/bar", "/xyz/bar");
	rewrite_case("/foo", "/xyz/", "GET /foo/bar", "/xyz/bar");
	rewrite_case("/foo/", "/xyz", "GET /foo/bar", "/xyz/bar");
	rewrite_case("/foo/", "/xyz/", "GET /foo/bar", "/xyz/bar");
	rewrite_case("/foo", "/xyz", "GET /foo", "/xyz");
	rewrite_case("/foo", "/xyz", "GET /foo/", "/xyz/");
	rewrite_case("/foo", "", "GET /foo/bar", "/bar");
	rewrite_case("/foo", "", "GET /foo/", "/");
	rewrite_case("/foo", "", "GET /foo", "/");
	rewrite_case("/foo", "/", "GET /foo/", "/");
	rewrite_case("/foo", "/", "GET /foo", "/");
	/* And the brief's: segment boundaries, no double slash. */
	rewrite_case("/foo", "/bar", "GET /foo/baz?q=1", "/bar/baz");
	rewrite_case("/foo", "/bar", "GET /foo", "/bar");
	rewrite_case("/foo", "/", "GET /foo/baz", "/baz");
	rewrite_case("/foo/bar", "/x", "GET /foo/bar/baz/", "/x/baz/");
	/* Prefix "/": the replacement goes in front of the whole path. */
	rewrite_case("/", "/bar", "GET /x/y", "/bar/x/y");
	rewrite_case("/", "/", "GET /x", "/x");
}

static void test_mirror(void **state)
{
	const struct l7_rule *r;

	build(BASE ROUTE("r", TS1)
	      "  - filters:\n"
	      "    - {type: RequestMirror, requestMirror: {backendRef: {name: reviews-v2,"
	      " port: 9080}, percent: 0}}\n"
	      "    - {type: RequestMirror, requestMirror: {backendRef: {name: reviews-v3,"
	      " port: 9080}, percent: 100}}\n"
	      "    - {type: RequestMirror, requestMirror: {backendRef: {name: reviews-v1,"
	      " port: 9080}, fraction: {numerator: 1, denominator: 4}}}\n"
	      "    - {type: RequestMirror, requestMirror: {backendRef: {name: gone,"
	      " port: 9080}}}\n"
	      "    backendRefs:\n"
	      "    - name: reviews-v1\n      port: 9080\n      filters:\n"
	      "      - {type: RequestMirror, requestMirror: {backendRef: {name: reviews-v2,"
	      " port: 9080}}}\n");
	r = match_ok(req("GET /", NULL))->rule;
	/* Resolved at build time, rule's then the backendRef's, in order. */
	assert_int_equal(r->n_mirrors, 5);
	assert_string_equal(r->mirrors[0].name, "reviews-v2");
	assert_int_equal(r->mirrors[0].n_eps, 1);
	assert_string_equal(r->mirrors[1].name, "reviews-v3");
	assert_int_equal(r->mirrors[1].n_eps, 0);
	assert_non_null(r->mirrors[3].unresolved);
	assert_ptr_equal(r->mirrors[4].filters, NULL);
	/* rnd 0: percent 0 never; 100 always; 1/4 yes; none always. */
	actions(req("GET /", NULL), &ci80, 0, true);
	assert_int_equal(act.n_mirrors, 4);
	assert_ptr_equal(act.mirrors[0], &r->mirrors[1]);
	assert_ptr_equal(act.mirrors[1], &r->mirrors[2]);
	assert_ptr_equal(act.mirrors[2], &r->mirrors[3]);
	assert_ptr_equal(act.mirrors[3], &r->mirrors[4]);
	/* Half way: the 1/4 fraction loses its draw. */
	actions(req("GET /", NULL), &ci80, 0x80000000u, true);
	assert_int_equal(act.n_mirrors, 3);
	assert_ptr_equal(act.mirrors[1], &r->mirrors[3]);
	/* The top of the range: 100 percent still mirrors, 0 still not. */
	actions(req("GET /", NULL), &ci80, UINT32_MAX, false);
	assert_int_equal(act.n_mirrors, 2);
	assert_ptr_equal(act.mirrors[0], &r->mirrors[1]);
	assert_ptr_equal(act.mirrors[1], &r->mirrors[3]);
	/* 1/4 exactly: the last rnd that wins and the first that loses. */
	actions(req("GET /", NULL), &ci80, 0x3fffffffu, false);
	assert_int_equal(act.n_mirrors, 3);
	actions(req("GET /", NULL), &ci80, 0x40000000u, false);
	assert_int_equal(act.n_mirrors, 2);
}

static void test_extension_ref_ignored(void **state)
{
	build(BASE ROUTE("r", TS1)
	      "  - filters:\n"
	      "    - {type: ExtensionRef, extensionRef: {group: example.com, kind: Foo,"
	      " name: bar}}\n"
	      "    - {type: RequestHeaderModifier, requestHeaderModifier: {add: "
	      "[{name: a, value: b}]}}\n"
	      "    backendRefs: [{name: reviews-v1, port: 9080}]\n");
	actions(req("GET /", NULL), &ci80, 0, true);
	assert_int_equal(act.n_req, 1);
	expect_op(&act.req[0], L7_HDR_ADD, "a", "b");
}

/* "set: [{name: s0, value: v}, ...]" style lists of 16 names each. */
static void hdr_lists(char *buf, size_t size, const char *pfx)
{
	size_t off = 0, i;
	static const char *const kinds[] = { "set", "add" };

	for (size_t k = 0; k < 2; k++) {
		off += snprintf(buf + off, size - off, "%s%s: [", k ? ", " : "",
				kinds[k]);
		for (i = 0; i < 16; i++)
			off += snprintf(buf + off, size - off,
					"%s{name: %s%c%zu, value: v}", i ? ", " : "",
					pfx, kinds[k][0], i);
		off += snprintf(buf + off, size - off, "]");
	}
	off += snprintf(buf + off, size - off, ", remove: [");
	for (i = 0; i < 16; i++)
		off += snprintf(buf + off, size - off, "%s%sr%zu", i ? ", " : "",
				pfx, i);
	snprintf(buf + off, size - off, "]");
}

static void test_too_many_ops(void **state)
{
	char rule[2048], be[2048], yaml[8192];
	const struct l7_request_view *rq;
	const struct l7_entry *e;

	/* 48 ops on the rule, 48 on the backend: more than L7_MAX_OPS is
	 * refused, never written past the array. */
	hdr_lists(rule, sizeof(rule), "a");
	hdr_lists(be, sizeof(be), "b");
	snprintf(yaml, sizeof(yaml), "%s%s"
		 "  - filters: [{type: RequestHeaderModifier, "
		 "requestHeaderModifier: {%s}}]\n"
		 "    backendRefs:\n"
		 "    - name: reviews-v1\n      port: 9080\n"
		 "      filters: [{type: RequestHeaderModifier, "
		 "requestHeaderModifier: {%s}}]\n",
		 BASE, ROUTE("r", TS1), rule, be);
	build(yaml);
	rq = req("GET /", NULL);
	e = match_ok(rq);
	assert_int_equal(l7_actions(e, NULL, rq, &ci80, 0, &fx.ar, &act), 0);
	assert_int_equal(act.n_req, 48);
	assert_int_equal(l7_actions(e, &e->rule->backends[0], rq, &ci80, 0,
				    &fx.ar, &act), -E2BIG);
	assert_int_equal(act.n_req, L7_MAX_OPS);
}

/* ---- the canonical route (shared/gateway-api-notes.md) ------------------ */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_canonical(void **state)
{
	char *route = slurp("tests/data/canonical-route.yaml");
	char *yaml = malloc(strlen(BASE) + strlen(route) + 8);
	const struct l7_request_view *rq;
	const struct l7_entry *e;
	const struct l7_backend *b;

	assert_non_null(yaml);
	strcpy(yaml, BASE "---\n");
	strcat(yaml, route);
	build(yaml);
	free(yaml);
	free(route);

	rq = req("GET /reviews/0", "Host: reviews:9080",
		 "My-Favorite-Service-Mesh: istio", NULL);
	e = match_ok(rq);
	assert_int_equal(e->rule->index, 0);
	b = l7_pick_backend(e->rule, 0xdeadbeef);
	assert_string_equal(b->name, "reviews-v2");
	assert_int_equal(l7_actions(e, b, rq, &ci9080, 0, &fx.ar, &act), 0);
	assert_int_equal(act.n_req, 1);
	expect_op(&act.req[0], L7_HDR_ADD, "hello", "world");
	assert_true(l7_hdr_kept(act.req, act.n_req, sv("hello", 5)));

	rq = req("GET /reviews/0", "Host: reviews:9080",
		 "my-favorite-service-mesh: linkerd", NULL);
	e = match_ok(rq);
	assert_int_equal(e->rule->index, 1);
	b = l7_pick_backend(e->rule, 0xdeadbeef);
	assert_string_equal(b->name, "reviews-v1");
	assert_int_equal(l7_actions(e, b, rq, &ci9080, 0, &fx.ar, &act), 0);
	assert_int_equal(act.n_req, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_path_prefix, teardown),
		cmocka_unit_test_teardown(test_path_root, teardown),
		cmocka_unit_test_teardown(test_path_exact, teardown),
		cmocka_unit_test_teardown(test_path_regex, teardown),
		cmocka_unit_test_teardown(test_header_match, teardown),
		cmocka_unit_test_teardown(test_query_match, teardown),
		cmocka_unit_test_teardown(test_method_match, teardown),
		cmocka_unit_test_teardown(test_match_or_and, teardown),
		cmocka_unit_test_teardown(test_prec_exact_over_prefix, teardown),
		cmocka_unit_test_teardown(test_prec_longer_prefix, teardown),
		cmocka_unit_test_teardown(test_prec_regex_rank, teardown),
		cmocka_unit_test_teardown(test_prec_method, teardown),
		cmocka_unit_test_teardown(test_prec_headers, teardown),
		cmocka_unit_test_teardown(test_prec_query, teardown),
		cmocka_unit_test_teardown(test_prec_older_route, teardown),
		cmocka_unit_test_teardown(test_prec_name_tie, teardown),
		cmocka_unit_test_teardown(test_prec_rule_order, teardown),
		cmocka_unit_test_teardown(test_consumer_routes, teardown),
		cmocka_unit_test_teardown(test_parent_port, teardown),
		cmocka_unit_test_teardown(test_dual_stack, teardown),
		cmocka_unit_test_teardown(test_weighted_pick, teardown),
		cmocka_unit_test_teardown(test_unresolved_and_empty, teardown),
		cmocka_unit_test_teardown(test_header_filters, teardown),
		cmocka_unit_test_teardown(test_redirect, teardown),
		cmocka_unit_test_teardown(test_rewrite, teardown),
		cmocka_unit_test_teardown(test_rewrite_prefix, teardown),
		cmocka_unit_test_teardown(test_mirror, teardown),
		cmocka_unit_test_teardown(test_extension_ref_ignored, teardown),
		cmocka_unit_test_teardown(test_too_many_ops, teardown),
		cmocka_unit_test_teardown(test_canonical, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
