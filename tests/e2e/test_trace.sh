#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# `ambit trace` on L7 ports: what ambit-proxy would do with one request,
# explained by the daemon with the proxy's own route engine. Trace sends
# nothing, so this needs no backends, no proxy and no traffic: the daemon
# (with a proxy port, so L7 ports are routed), the objects and enrollments.
source "$(dirname "$0")/lib.sh"

VIP=127.96.0.10:9080
WEB=127.96.2.1:80

services_yaml() {
	reviews_yaml
	echo ---
	web_yaml
}

# web: only some paths route (the rest is 404), with every filter kind;
# a consumer route of namespace shop takes everything for shop's clients.
web_routes_yaml() {
	cat <<'EOF'
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  parentRefs: [{group: "", kind: Service, name: web}]
  rules:
  - matches: [{path: {value: /v2}, headers: [{name: x-version, value: "2"}]}]
    backendRefs: [{name: web-b, port: 80}]
  - matches: [{path: {value: /v2}}]
    backendRefs: [{name: web-a, port: 80, weight: 70}, {name: web-b, port: 80, weight: 30}, {name: web-none, port: 80, weight: 0}]
  - matches: [{path: {value: /redirect}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {hostname: example.test, statusCode: 301, path: {type: ReplacePrefixMatch, replacePrefixMatch: /moved}}
  - matches: [{path: {value: /old}}]
    filters:
    - type: URLRewrite
      urlRewrite: {hostname: rewritten.test, path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-set, value: new}], remove: [x-gone]}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {add: [{name: x-resp, value: added}]}
    - type: RequestMirror
      requestMirror: {backendRef: {name: web-b, port: 80}, percent: 25}
    backendRefs: [{name: web-a, port: 80}]
  - matches: [{path: {value: /noeps}}]
    backendRefs: [{name: web-none, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web-shop, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: web, namespace: default}]
  rules:
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-consumer, value: shop}]}
    backendRefs: [{name: web-b, namespace: default, port: 80}]
EOF
}

# trace from the client to ADDR:PORT with request options; output in $TR.
TR=
trace() {
	local to=$1
	shift
	TR=$(ambit trace --cgroup "$CG/client" --to "$to" "$@" 2>&1)
}

# The part after "what the backend would see".
backend_view() { sed -n '/^what the backend would see/,$p' <<<"$TR"; }

# has DESCRIPTION FIXED-STRING: the last trace printed it (shown if not).
has() {
	if grep -qF -- "$2" <<<"$TR"; then ok "$1"; else
		not_ok "$1: no '$2' in:"
		sed 's/^/#   /' <<<"$TR"
	fi
}

hasnt() {
	if ! grep -qF -- "$2" <<<"$TR"; then ok "$1"; else
		not_ok "$1: unexpected '$2' in:"
		sed 's/^/#   /' <<<"$TR"
	fi
}

test_01_setup() {
	check "daemon starts with a proxy port" start_daemon --proxy-port "$PROXY_PORT"
	check "services apply" apply < <(services_yaml)
	check "canonical route applies" apply < <(canonical_yaml)
	check "web routes apply" apply < <(web_routes_yaml)
	check "enroll client cgroup" ambit enroll --cgroup "$CG/client" --name client
}

test_02_canonical_header_match() {
	trace "$VIP" --path /reviews/1 --header 'my-favorite-service-mesh: istio'
	echo "# one L7 trace:"
	sed 's/^/#   /' <<<"$TR"
	has "L7 mode with the proxy" "mode: L7"
	has "rule 0, match 0 wins" "match: default/reviews rule 0 match 0 wins"
	has "why: path and one header" "why: path PathPrefix / (length 1), 1 header"
	has "header condition shown" 'header my-favorite-service-mesh is "istio"'
	has "filter effect listed" "request header add hello: world"
	check "backend seen is reviews-v2" \
		grep -q '^what the backend would see (default/reviews-v2:9080, endpoint 127.0.2.1:9080)' <<<"$TR"
	check "reviews-v2 sees hello: world" grep -q '^  hello: world$' < <(backend_view)
	check "reviews-v2 sees the path" grep -q '^  GET /reviews/1 HTTP/1.1$' < <(backend_view)
}

test_03_canonical_no_header() {
	trace "$VIP" --path /reviews/1
	has "no header: rule 1 wins" "match: default/reviews rule 1 wins: candidate 2 of 2"
	has "catch-all rule explained" "the rule has no matches"
	check "backend seen is reviews-v1" \
		grep -q '^what the backend would see (default/reviews-v1:9080' <<<"$TR"
	check "reviews-v1 does not see hello" bash -c "! grep -qi '^  hello:' <<<\"\$1\"" _ "$(backend_view)"
	trace "$VIP" --header 'My-Favorite-Service-Mesh: linkerd' --header 'Connection: close, x-hop' --header 'x-hop: 1'
	has "another value: rule 1 wins" "match: default/reviews rule 1 wins"
	check "hop-by-hop headers are not forwarded" \
		bash -c "! grep -qiE '^  (connection|x-hop):' <<<\"\$1\"" _ "$(backend_view)"
}

test_04_no_match_404() {
	trace "$WEB" --path /nowhere
	has "nothing matches: 404" "ambit-proxy answers 404"
	hasnt "no backend view on 404" "what the backend would see"
	has "producer routes of the Service's namespace" "consumer routes: none apply: the client is in the Service's namespace"
	has "shop's consumer routes are mentioned" "consumer routes exist for clients in: shop"
}

test_05_precedence_and_weights() {
	trace "$WEB" --path /v2/x --header 'X-Version: 2'
	has "header match wins over the plain prefix" "match: default/web rule 0 match 0 wins: candidate 4 of 5; the 3 before it do not match"
	has "why shows the prefix length" "why: path PathPrefix /v2 (length 3), 1 header"
	trace "$WEB" --path /v2x
	has "/v2x is not under /v2: 404" "answers 404"
	trace "$WEB" --path '/v2?a=b'
	has "plain prefix rule" "match: default/web rule 1 match 0 wins"
	has "70% share" " 70.0%  default/web-a:80 weight 70"
	has "30% share" " 30.0%  default/web-b:80 weight 30"
	has "weight 0 never chosen" "default/web-none:80 weight 0  never chosen"
	has "query reaches the backend" "  GET /v2?a=b HTTP/1.1"
	trace "$WEB" --path /noeps
	has "no endpoints: 503" "has no ready endpoint: ambit-proxy answers 503"
}

test_06_redirect() {
	trace "$WEB" --path '/redirect/page?x=1'
	has "redirect filter listed" "redirect: 301, Location: http://example.test/moved/page?x=1"
	has "the proxy answers the redirect" "ambit-proxy answers 301 with Location: http://example.test/moved/page?x=1"
	hasnt "no backend contacted" "what the backend would see"
}

test_07_rewrite_and_filters() {
	trace "$WEB" --method POST --path '/old/thing?y=2' --header 'x-set: old' --header 'x-gone: bye' --host web.local
	has "path rewrite" "rewrite path: /old/thing -> /new/thing"
	has "host rewrite" "rewrite Host: web.local -> rewritten.test"
	has "request header set" "request header set x-set: new"
	has "request header remove" "request header remove x-gone"
	has "response header add" "response header add x-resp: added"
	has "mirror with its percentage" "mirror: a copy to default/web-b:80 for 25% of requests"
	check "rewritten request line" grep -q '^  POST /new/thing?y=2 HTTP/1.1$' < <(backend_view)
	check "rewritten Host" grep -q '^  Host: rewritten.test$' < <(backend_view)
	check "set replaces the old value" bash -c "grep -q '^  x-set: new$' <<<\"\$1\" && ! grep -q 'x-set: old' <<<\"\$1\"" _ "$(backend_view)"
	check "removed header gone" bash -c "! grep -q 'x-gone' <<<\"\$1\"" _ "$(backend_view)"
}

test_08_consumer_route() {
	check "re-enroll the client in namespace shop" bash -c \
		"'$AMBIT' --socket '$SOCK' unenroll --name client --namespace default >/dev/null &&
		 '$AMBIT' --socket '$SOCK' enroll --cgroup '$CG/client' --name client --namespace shop >/dev/null"
	trace "$WEB" --path /nowhere
	has "client namespace from the Enrollment" "client namespace: shop (namespace of Enrollment shop/client)"
	has "consumer routes apply" "consumer routes: yes: routes of namespace shop attach to this port"
	has "the consumer route wins" "match: shop/web-shop rule 0 wins"
	has "its filter applies" "request header set x-consumer: shop"
	check "backend is web-b with x-consumer" bash -c \
		"grep -q '^what the backend would see (default/web-b:80' <<<\"\$1\" && grep -q '^  x-consumer: shop$' <<<\"\$1\"" _ "$(backend_view)"
	trace "$VIP" --header 'my-favorite-service-mesh: istio'
	has "no consumer route elsewhere: producer routes" "consumer routes: none from namespace shop; the producer routes of default apply"
	check "back to namespace default" bash -c \
		"'$AMBIT' --socket '$SOCK' unenroll --name client --namespace shop >/dev/null &&
		 '$AMBIT' --socket '$SOCK' enroll --cgroup '$CG/client' --name client >/dev/null"
}

test_09_l4_unchanged() {
	trace 127.96.1.1:9080
	has "plain Service is L4" "mode: L4: redirected at connect() by BPF, no proxy"
	has "L4 route line" "route: none attached; plain Service balancing"
	has "L4 backends" "backends (one chosen per connection, by weight):"
	hasnt "no L7 explanation" "what the backend would see"
	trace 127.96.1.1:9080 --path /x
	has "request options noted as irrelevant" "note: --method, --path, --header and --host do not matter here"
}

# expect_error DESCRIPTION MESSAGE TRACE-ARGS...: exit 1 with MESSAGE.
expect_error() {
	local what=$1 msg=$2 rc=0
	shift 2
	TR=$(ambit trace --cgroup "$CG/client" --to "$VIP" "$@" 2>&1) || rc=$?
	if [ "$rc" -eq 1 ] && grep -qF -- "$msg" <<<"$TR"; then ok "$what"; else
		not_ok "$what: exit $rc, output: $TR"
	fi
}

test_10_bad_input() {
	expect_error "header without a colon: exit 1" "bad --header 'no-colon'" --header 'no-colon'
	expect_error "header with an empty name: exit 1" "bad --header ': x'" --header ': x'
	expect_error "header name with a blank: exit 1" "bad --header 'a b: c'" --header 'a b: c'
	expect_error "path without a slash: exit 1" "bad --path" --path nope
	expect_error "two Host headers: exit 1" "more than one Host" --header 'Host: a' --header 'host: b'
	expect_error "bad method: exit 1" "bad --method" --method 'G T'
	expect_error "missing value: exit 1" "missing value" --header
}

e2e_setup
e2e_run
