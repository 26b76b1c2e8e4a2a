#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The L7 path on the real kernel: an enrolled client's connection to a
# Service whose routes inspect requests goes to ambit-proxy (in the same
# namespace, outside the attached cgroup subtree), which routes each request
# by the HTTPRoute rules to echo backends that reflect what they received.
source "$(dirname "$0")/lib.sh"

VIP=127.96.0.10:9080

# The canonical Services, plus reviews-v3 and a Service without endpoints.
services_yaml() {
	reviews_yaml
	cat <<'EOF'
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: reviews-v3}, spec: {clusterIP: 127.96.1.3, ports: [{name: http, port: 9080}]}}
- {apiVersion: v1, kind: Service, metadata: {name: empty}, spec: {clusterIP: 127.96.1.9, ports: [{name: http, port: 9080}]}}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: v3, labels: {kubernetes.io/service-name: reviews-v3}}
  addressType: IPv4
  ports: [{name: http, port: 9080}]
  endpoints: [{addresses: [127.0.3.1]}]
EOF
}

# curl from the enrolled client; prints the body.
get() {
	client curl -sS --max-time 5 "$@"
}

# jq on a response body: jqr FILTER BODY
jqr() { jq -r "$1" <<<"$2" 2>/dev/null; }

# Without --proxy-bin there is nothing to reload: an error saying so.
reload_refused() {
	local out
	out=$(ambit proxy reload 2>&1) && return 1
	grep -q -- '--proxy-bin' <<<"$out"
}

test_01_setup() {
	backend reviews-v1-7f9c-a --listen 127.0.1.1:9080
	backend reviews-v2-5d4b-a --listen 127.0.2.1:9080
	backend reviews-v3-9a8b-a --listen 127.0.3.1:9080
	backend untouched --listen 127.96.0.10:9080
	check "daemon starts with a proxy port${L7_NO_FAST_PATH:+, without the sockmap fast path}" \
		start_daemon --proxy-port "$PROXY_PORT" ${L7_NO_FAST_PATH:+--no-sockmap}
	check "services apply" apply < <(services_yaml)
	check "canonical route applies" apply < <(canonical_yaml)
	check "enroll client cgroup" ambit enroll --cgroup "$CG/client" --name client
	check "proxy starts" start_proxy
	check "ambit proxy reload needs a daemon that runs the proxy" reload_refused
	check "service is L7 with a proxy" bash -c "'$AMBIT' --socket '$SOCK' get services | grep -q 'reviews .*L7'"
}

test_02_canonical_scenario() {
	local out
	out=$(get -H 'my-favorite-service-mesh: istio' "http://$VIP/reviews/1")
	check "header istio reaches reviews-v2 ($(jqr .hostname "$out"))" \
		[ "$(jqr .hostname "$out")" = reviews-v2-5d4b-a ]
	check "reviews-v2 sees hello: world" [ "$(jqr '.headers.hello[0]' "$out")" = world ]
	check "path reaches the backend unchanged" [ "$(jqr .path "$out")" = /reviews/1 ]
	out=$(get "http://$VIP/reviews/1")
	check "no header reaches reviews-v1 ($(jqr .hostname "$out"))" \
		[ "$(jqr .hostname "$out")" = reviews-v1-7f9c-a ]
	check "reviews-v1 does not see hello" [ "$(jqr '.headers.hello' "$out")" = null ]
	out=$(get -H 'my-favorite-service-mesh: linkerd' "http://$VIP/")
	check "another header value reaches reviews-v1" [ "$(jqr .hostname "$out")" = reviews-v1-7f9c-a ]
	check "the VIP itself is never reached" [ "$(jqr .hostname "$out")" != untouched ]
}

test_03_keepalive_switches_versions() {
	local out
	# One connection, three requests: routing is per request at L7.
	out=$(get -H 'x: y' "http://$VIP/a" -H 'my-favorite-service-mesh: istio' "http://$VIP/b" \
		--next "http://$VIP/c" -w '\n%{num_connects}\n')
	check "requests on one connection go to different versions" \
		bash -c "grep -c reviews-v2 <<<'$out' | grep -qx 2 && grep -c reviews-v1 <<<'$out' | grep -qx 1"
}

test_04_no_bypass_when_proxy_down() {
	local out
	stop_proxy
	out=$(client curl -sS --max-time 3 "http://$VIP/" 2>&1)
	check "proxy down: connection refused, never the VIP or a backend ($out)" \
		grep -q "Connection refused\|Failed to connect" <<<"$out"
	check "proxy restarts" start_proxy
}

WEB=127.96.2.1:80

# Every match type and filter on one Service (two routes: the spec allows
# 16 rules per route), each rule sending to web-a or web-b so the backend
# that answers tells which rule won.
web_routes_yaml() {
	cat <<'EOF'
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  parentRefs: [{group: "", kind: Service, name: web}]
  rules:
  - matches: [{path: {type: Exact, value: /exact}}]
    backendRefs: [{name: web-a, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /v2}}]
    backendRefs: [{name: web-b, port: 80}]
  - matches: [{path: {type: RegularExpression, value: "/re/[0-9]+"}}]
    backendRefs: [{name: web-b, port: 80}]
  - matches: [{path: {value: /hdr}, headers: [{type: RegularExpression, name: X-Version, value: "v[2-3]"}]}]
    backendRefs: [{name: web-b, port: 80}]
  - matches: [{path: {value: /q}, queryParams: [{name: version, value: "2"}]}]
    backendRefs: [{name: web-b, port: 80}]
  - matches: [{path: {value: /m}, method: POST}]
    backendRefs: [{name: web-b, port: 80}]
  - matches: [{path: {value: /m}}, {path: {value: /q}}, {path: {value: /hdr}}]
    backendRefs: [{name: web-a, port: 80}]
  - matches: [{path: {value: /p}}]
    backendRefs: [{name: web-a, port: 80}]
  - matches: [{path: {type: Exact, value: /p/exact}}]
    backendRefs: [{name: web-b, port: 80}]
  - matches: [{path: {value: /p/long}}]
    backendRefs: [{name: web-b, port: 80}]
  - matches: [{path: {value: /p/meth}, method: GET}, {path: {value: /p/meth}, headers: [{name: a, value: b}]}]
    backendRefs: [{name: web-b, port: 80}]
  - matches: [{path: {value: /p/meth}}]
    backendRefs: [{name: web-a, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web-filters, creationTimestamp: "2024-01-02T00:00:00Z"}
spec:
  parentRefs: [{group: "", kind: Service, name: web}]
  rules:
  - matches: [{path: {value: /set}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: x-set, value: new}]
        add: [{name: x-add, value: two}]
        remove: [x-gone]
    - type: ResponseHeaderModifier
      responseHeaderModifier: {add: [{name: x-resp, value: added}], remove: [x-echo-drop]}
    backendRefs: [{name: web-a, port: 80}]
  - matches: [{path: {value: /redirect}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {hostname: example.test, statusCode: 301, path: {type: ReplacePrefixMatch, replacePrefixMatch: /moved}}
  - matches: [{path: {value: /old}}]
    filters:
    - type: URLRewrite
      urlRewrite: {hostname: rewritten.test, path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}
    backendRefs: [{name: web-a, port: 80}]
  - matches: [{path: {value: /weights}}]
    backendRefs: [{name: web-a, port: 80, weight: 70}, {name: web-b, port: 80, weight: 30}, {name: web-none, port: 80, weight: 0}]
  - matches: [{path: {value: /missing}}]
    backendRefs: [{name: no-such-service, port: 80}]
  - matches: [{path: {value: /noeps}}]
    backendRefs: [{name: web-none, port: 80}]
  - matches: [{path: {value: /slow}}]
    timeouts: {request: 300ms}
    backendRefs: [{name: web-a, port: 80}]
  - matches: [{path: {value: /mirror}}]
    filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: web-mirror, port: 80}}
    backendRefs: [{name: web-a, port: 80}]
  - matches: [{path: {value: /backend-filter}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {add: [{name: x-rule, value: r}]}
    backendRefs:
    - name: web-a
      port: 80
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier: {add: [{name: x-backend, value: a}]}
EOF
}

# code, hostname and path of one request: "CODE HOST PATH"
probe_web() {
	local body code
	body=$(client curl -sS --max-time 5 -o - -w '\n%{http_code}' "$@")
	code=$(tail -n1 <<<"$body")
	body=$(sed '$d' <<<"$body")
	echo "$code $(jqr .hostname "$body") $(jqr .path "$body")"
}

expect_web() { # DESCRIPTION WANT CURL-ARGS...
	local what=$1 want=$2 got
	shift 2
	got=$(probe_web "$@")
	if [ "$got" = "$want" ]; then ok "$what"; else not_ok "$what: want '$want', got '$got'"; fi
}

test_05_setup_web() {
	backend web-a-1111-a --listen 127.0.5.1:8080
	backend web-b-2222-b --listen 127.0.5.2:8080
	backend web-mirror-3333-c --listen 127.0.5.3:8080 --log "$T/mirror.log"
	check "web services apply" apply < <(web_yaml)
	check "web routes apply (a missing backend allowed)" bash -c \
		"'$AMBIT' --socket '$SOCK' apply --allow-unresolved -f - >/dev/null" < <(web_routes_yaml)
	sleep 0.3
}

test_06_match_types() {
	expect_web "Exact path" "200 web-a-1111-a /exact" "http://$WEB/exact"
	expect_web "Exact does not match a longer path" "404  " "http://$WEB/exact/x"
	expect_web "PathPrefix matches the segment" "200 web-b-2222-b /v2" "http://$WEB/v2"
	expect_web "PathPrefix matches with a trailing slash" "200 web-b-2222-b /v2/" "http://$WEB/v2/"
	expect_web "PathPrefix matches below" "200 web-b-2222-b /v2/x" "http://$WEB/v2/x"
	expect_web "PathPrefix does not match /v2x" "404  " "http://$WEB/v2x"
	expect_web "RegularExpression path" "200 web-b-2222-b /re/123" "http://$WEB/re/123"
	expect_web "RegularExpression is anchored" "404  " "http://$WEB/re/123/x"
	expect_web "header regex, name case-insensitive" "200 web-b-2222-b /hdr" -H 'x-version: v3' "http://$WEB/hdr"
	expect_web "header regex miss" "200 web-a-1111-a /hdr" -H 'X-Version: v4' "http://$WEB/hdr"
	expect_web "query param" "200 web-b-2222-b /q?version=2&x=1" "http://$WEB/q?version=2&x=1"
	expect_web "query param miss" "200 web-a-1111-a /q?version=3" "http://$WEB/q?version=3"
	expect_web "method POST" "200 web-b-2222-b /m" -X POST "http://$WEB/m"
	expect_web "method GET falls through" "200 web-a-1111-a /m" "http://$WEB/m"
	expect_web "nothing matches: 404" "404  " "http://$WEB/nowhere"
}

test_07_precedence() {
	expect_web "exact beats prefix" "200 web-b-2222-b /p/exact" "http://$WEB/p/exact"
	expect_web "longer prefix wins" "200 web-b-2222-b /p/long/x" "http://$WEB/p/long/x"
	expect_web "shorter prefix elsewhere" "200 web-a-1111-a /p/other" "http://$WEB/p/other"
	expect_web "method match beats none" "200 web-b-2222-b /p/meth" "http://$WEB/p/meth"
	expect_web "header match beats none" "200 web-b-2222-b /p/meth" -X PUT -H 'a: b' "http://$WEB/p/meth"
	expect_web "neither: the plain rule" "200 web-a-1111-a /p/meth" -X PUT "http://$WEB/p/meth"
}

test_08_header_filters() {
	local out hdrs
	out=$(client curl -sS -D "$T/h" -H 'x-set: old' -H 'x-add: one' -H 'x-gone: bye' \
		-H 'x-echo-header: x-echo-drop: 1' "http://$WEB/set")
	hdrs=$(cat "$T/h")
	check "set replaces" [ "$(jqr '.headers["x-set"] | join(",")' "$out")" = new ]
	check "add appends" [ "$(jqr '.headers["x-add"] | join(",")' "$out")" = one,two ]
	check "remove removes" [ "$(jqr '.headers["x-gone"]' "$out")" = null ]
	check "response header added" grep -qi '^x-resp: added' <<<"$hdrs"
	check "response header removed" bash -c "! grep -qi '^x-echo-drop' '$T/h'"
	out=$(client curl -sS "http://$WEB/backend-filter")
	check "rule and backend filters both apply" \
		[ "$(jqr '.headers["x-rule"][0] + .headers["x-backend"][0]' "$out")" = ra ]
}

test_09_redirect_and_rewrite() {
	local hdrs out
	hdrs=$(client curl -sS -o /dev/null -D - "http://$WEB/redirect/page?x=1")
	check "redirect 301" grep -q '^HTTP/1.1 301' <<<"$hdrs"
	check "Location per spec ($(grep -i '^location' <<<"$hdrs" | tr -d '\r'))" \
		grep -qi '^location: http://example.test/moved/page?x=1' <<<"$hdrs"
	out=$(client curl -sS "http://$WEB/old/thing?y=2")
	check "URLRewrite prefix ($(jqr .path "$out"))" [ "$(jqr .path "$out")" = "/new/thing?y=2" ]
	check "URLRewrite hostname" [ "$(jqr .host "$out")" = rewritten.test ]
}

test_10_weights_per_request() {
	local out a b
	for i in $(seq 1 1000); do echo "url = http://$WEB/weights"; done >"$T/wurls"
	out=$(client curl -sS -K "$T/wurls" -w '\n' | jq -r .hostname | sort | uniq -c)
	a=$(awk '$2 == "web-a-1111-a" { print $1 }' <<<"$out")
	b=$(awk '$2 == "web-b-2222-b" { print $1 }' <<<"$out")
	check "70% +-5% per request on keep-alive (${a:-0}/1000)" all_true '[ "${a:-0}" -ge 650 ] && [ "${a:-0}" -le 750 ]'
	check "30% +-5% (${b:-0}/1000)" all_true '[ "${b:-0}" -ge 250 ] && [ "${b:-0}" -le 350 ]'
	check "weight 0 never, and nothing else ($(echo $out))" [ "$(wc -l <<<"$out")" = 2 ]
}

test_11_errors() {
	expect_web "backendRef to a missing Service: 500" "500  " "http://$WEB/missing"
	expect_web "backend without endpoints: 503" "503  " "http://$WEB/noeps"
	expect_web "timeouts.request: 504" "504  " -H 'x-echo-delay-ms: 1500' "http://$WEB/slow"
	expect_web "fast enough: 200" "200 web-a-1111-a /slow" "http://$WEB/slow"
}

# Raw bytes to the VIP; prints the status line of the answer.
raw() {
	client bash -c 'exec 3<>/dev/tcp/127.96.2.1/80 || exit 1
		printf "%b" "$1" >&3
		timeout 3 head -n1 <&3 | tr -d "\r"' _ "$1" </dev/null
}

smuggling_cases() {
	cat <<'EOF'
CL and TE together|400|POST /exact HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n
two Content-Lengths|400|POST /exact HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx
bad Content-Length|400|POST /exact HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\nx
TE not chunked|501|POST /exact HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n
TE chunked twice|501|POST /exact HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n
space before colon|400|GET /exact HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n
obs-fold|400|GET /exact HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n
bare LF|400|GET /exact HTTP/1.1\nHost: a\n\n
bare CR|400|GET /exact HTTP/1.1\r\nHost: a\rX: b\r\n\r\n
control character|400|GET /exact HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n
missing Host|400|GET /exact HTTP/1.1\r\n\r\n
two Hosts|400|GET /exact HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n
HTTP/2.0 in a 1.1 line|505|GET /exact HTTP/2.0\r\nHost: a\r\n\r\n
bad chunk size|400|POST /exact HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n
EOF
}

test_12_smuggling_matrix() {
	local name req want got
	while IFS='|' read -r name want req; do
		got=$(raw "$req")
		if [[ $got == "HTTP/1.1 $want"* ]]; then ok "strict parser: $name -> $want"
		else not_ok "strict parser: $name: want $want, got '$got'"; fi
	done < <(smuggling_cases)
	got=$(raw "GET /exact HTTP/1.1\r\nHost: a\r\nX: $(head -c 70000 /dev/zero | tr '\0' a)\r\n\r\n")
	check "70 KB header: 431 ($got)" [ "$got" = "HTTP/1.1 431 Request Header Fields Too Large" ]
	got=$(raw "GET /exact HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
	check "a clean request still works ($got)" [ "$got" = "HTTP/1.1 200 OK" ]
}

test_13_bodies() {
	local out
	head -c 300000 /dev/urandom >"$T/body"
	out=$(client curl -sS --data-binary @"$T/body" "http://$WEB/exact")
	check "Content-Length body streamed (300000)" [ "$(jqr .body_bytes "$out")" = 300000 ]
	out=$(client curl -sS -H 'Transfer-Encoding: chunked' --data-binary @"$T/body" "http://$WEB/exact")
	check "chunked body streamed" [ "$(jqr .body_bytes "$out")" = 300000 ]
	out=$(client curl -sS -H 'Expect: 100-continue' --data-binary @"$T/body" "http://$WEB/exact")
	check "Expect: 100-continue" [ "$(jqr .body_bytes "$out")" = 300000 ]
}

# A keep-alive client in bash: one request on fd 3, prints the hostname.
# Reads the response exactly (Content-Length), so the connection stays in
# step for the next request.
KA_CLIENT='get() {
	local line len=0 body
	printf "GET /%s HTTP/1.1\r\nHost: r\r\n\r\n" "$1" >&3
	while IFS= read -r -t 3 line <&3; do
		line=${line%$'"'"'\r'"'"'}
		[ -z "$line" ] && break
		case ${line,,} in content-length:*) len=${line#*: } ;; esac
	done
	IFS= read -r -t 3 -N "$len" body <&3
	grep -o "\"hostname\":\"[^\"]*\"" <<<"$body"
}'

test_14_route_update_mid_stream() {
	local fifo=$T/go before after pid
	mkfifo "$fifo"
	# One keep-alive connection: a request, then (after the update) another.
	client bash -c "$KA_CLIENT"'
		exec 3<>/dev/tcp/127.96.0.10/9080 || exit 1
		get one >"$1.1"
		read -r _ <"$1"
		get two >"$1.2"' _ "$fifo" &
	pid=$!
	wait_for "first response" test -s "$fifo.1"
	# Everything without the header now goes to reviews-v3.
	canonical_yaml | sed 's/name: reviews-v1, port/name: reviews-v3, port/' | apply
	sleep 0.5
	echo go >"$fifo"
	wait "$pid"
	before=$(cat "$fifo.1" 2>/dev/null)
	after=$(cat "$fifo.2" 2>/dev/null)
	check "before the update: v1 ($before)" grep -q reviews-v1 <<<"$before"
	check "same connection after the update: v3, no error ($after)" grep -q reviews-v3 <<<"$after"
	canonical_yaml | apply
}

test_16_mirror() {
	local n
	for i in 1 2 3 4 5; do expect_web "mirrored request $i answered by the primary" \
		"200 web-a-1111-a /mirror/$i" "http://$WEB/mirror/$i"; done
	sleep 0.3
	n=$(grep -c '^GET /mirror/' "$T/mirror.log" 2>/dev/null)
	check "the mirror backend got all 5 copies (${n:-0})" [ "${n:-0}" = 5 ]
	check "the mirror never answered the client" bash -c "! grep -q web-mirror <<<'$(probe_web "http://$WEB/mirror/x")'"
}

consumer_yaml() {
	cat <<'EOF'
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop-view, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: web, namespace: default}]
  rules:
  - backendRefs: [{name: web-b, namespace: default, port: 80}]
EOF
}

test_17_consumer_routes() {
	check "enroll a workload of namespace shop" \
		ambit enroll --cgroup "$CG/outsider" --name shopper --namespace shop
	check "a consumer route in shop applies" apply < <(consumer_yaml)
	sleep 0.3
	local out
	out=$(outsider curl -sS "http://$WEB/exact")
	check "shop's client gets shop's route ($(jqr .hostname "$out"))" [ "$(jqr .hostname "$out")" = web-b-2222-b ]
	out=$(outsider curl -sS "http://$WEB/nowhere")
	check "even where the producer has no rule ($(jqr .hostname "$out"))" [ "$(jqr .hostname "$out")" = web-b-2222-b ]
	expect_web "other namespaces keep the producer routes" "200 web-a-1111-a /exact" "http://$WEB/exact"
}

l7_entries() {
	bpftool map dump pinned "$PINS/ambit_l7_conns" -j 2>/dev/null | jq length
}

# For wait_for: evaluated on every try, not once before waiting.
no_l7_entries() { [ "$(l7_entries)" = 0 ]; }
one_l7_entry() { [ "$(l7_entries)" = 1 ]; }

test_18_records_go_with_their_sockets() {
	local n
	check "records of closed connections are gone (no LRU, no leak)" \
		wait_for "l7 records to drain" no_l7_entries
	client bash -c 'exec 3<>/dev/tcp/127.96.0.10/9080; sleep 2' &
	local pid=$!
	wait_for "a live connection's record" one_l7_entry
	n=$(l7_entries)
	check "a live connection has its record ($n)" [ "$n" = 1 ]
	wait "$pid"
	check "and loses it when it closes" wait_for "record removal" no_l7_entries
}

test_19_graceful_drain() {
	local out pid
	client curl -sS --max-time 5 -H 'x-echo-delay-ms: 800' "http://$WEB/exact" >"$T/drain.out" &
	pid=$!
	sleep 0.3
	kill -TERM "$PROXY_PID"
	wait "$pid"
	out=$(cat "$T/drain.out")
	check "a request in flight at SIGTERM completes ($(jqr .hostname "$out"))" \
		[ "$(jqr .hostname "$out")" = web-a-1111-a ]
	wait "$PROXY_PID" 2>/dev/null
	PROXY_PID=
	out=$(client curl -sS --max-time 3 "http://$WEB/exact" 2>&1)
	check "after the drain new connections are refused" grep -q "Failed to connect\|Couldn't connect" <<<"$out"
	check "proxy restarts" start_proxy
}

test_20_upgrade_passthrough() {
	local out
	out=$(client bash -c 'exec 3<>/dev/tcp/127.96.2.1/80 || exit 1
		printf "GET /exact HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: ambit-echo\r\n\r\n" >&3
		sleep 0.3
		printf "hello-tunnel\n" >&3
		timeout 1 cat <&3' | tr -d '\r')
	check "upgrade answered 101 through the proxy" grep -q '^HTTP/1.1 101' <<<"$out"
	check "the Upgrade header reached the backend and came back" grep -qi '^upgrade: ambit-echo' <<<"$out"
	check "bytes flow both ways after the upgrade" grep -q '^hello-tunnel$' <<<"$out"
}

test_21_half_close() {
	local out n=0 i other=
	for i in $(seq 1 20); do
		out=$(client "$PROBE" halfclose "$WEB" /exact)
		if [ "$out" = "HTTP/1.1 200 OK" ]; then n=$((n + 1)); else other+="[$out] "; fi
	done
	check "a client that half-closes after its request gets the answer ($n/20 $other)" [ "$n" = 20 ]
}

test_22_pipelining() {
	local out
	# Three requests in one write: three answers, in request order.
	out=$(client bash -c 'exec 3<>/dev/tcp/127.96.2.1/80 || exit 1
		printf "GET /exact HTTP/1.1\r\nHost: a\r\n\r\nGET /v2/p HTTP/1.1\r\nHost: a\r\n\r\nGET /p/exact HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" >&3
		timeout 3 cat <&3' | grep -o '"path":"[^"]*"' | tr '\n' ' ')
	check "pipelined requests answered in order ($out)" \
		[ "$out" = '"path":"/exact" "path":"/v2/p" "path":"/p/exact" ' ]
}

test_23_slow_client_timeout() {
	local out
	stop_proxy
	check "proxy restarts with a 500 ms header timeout" start_proxy --header-timeout 500
	# Half a head, then nothing (slowloris): answered 408 and closed by
	# the proxy (cat ends on EOF, not when timeout 5 would kill it).
	out=$(client bash -c 'exec 3<>/dev/tcp/127.96.2.1/80 || exit 1
		printf "GET /exact HTTP/1.1\r\nHost: a\r\nX-Slow: " >&3
		timeout 5 cat <&3 | head -n1 | tr -d "\r"
		echo "cat=${PIPESTATUS[0]}"')
	check "a head not finished in time gets 408 ($(head -n1 <<<"$out"))" \
		[ "$(head -n1 <<<"$out")" = "HTTP/1.1 408 Request Timeout" ]
	check "and the proxy closes the connection ($(tail -n1 <<<"$out"))" \
		[ "$(tail -n1 <<<"$out")" = cat=0 ]
	stop_proxy
	check "proxy restarts with defaults" start_proxy
}

# raw_status REQUEST: the status line the proxy answers, and "cat=0" when
# it then closed the connection itself (timeout 5 would make it 124).
raw_status() {
	client bash -c 'exec 3<>/dev/tcp/127.96.2.1/80 || exit 1
		printf "%b" "$1" >&3
		timeout 5 cat <&3 | head -n1 | tr -d "\r"
		echo "cat=${PIPESTATUS[0]}"' _ "$1" | tr '\n' ' '
}

test_24_header_limits_configurable() {
	local big fields out
	big="GET /exact HTTP/1.1\r\nHost: a\r\nX: $(head -c 3000 /dev/zero | tr '\0' a)\r\nConnection: close\r\n\r\n"
	fields="GET /exact HTTP/1.1\r\nHost: a\r\n$(for i in $(seq 1 20); do printf 'X-%d: v\\r\\n' "$i"; done)Connection: close\r\n\r\n"
	out=$(raw_status "$big")
	check "by default a 3 KB header passes ($out)" [ "$out" = "HTTP/1.1 200 OK cat=0 " ]
	out=$(raw_status "$fields")
	check "by default 21 header fields pass ($out)" [ "$out" = "HTTP/1.1 200 OK cat=0 " ]
	stop_proxy
	check "proxy restarts with --max-header-bytes 2048 --max-header-fields 10" \
		start_proxy --max-header-bytes 2048 --max-header-fields 10
	out=$(raw_status "$big")
	check "then a 3 KB header gets 431 ($out)" \
		[ "$out" = "HTTP/1.1 431 Request Header Fields Too Large cat=0 " ]
	out=$(raw_status "$fields")
	check "and 21 header fields get 431 ($out)" \
		[ "$out" = "HTTP/1.1 431 Request Header Fields Too Large cat=0 " ]
	out=$(raw_status "GET /exact HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	check "a request within the limits still passes ($out)" [ "$out" = "HTTP/1.1 200 OK cat=0 " ]
	stop_proxy
	check "proxy restarts with defaults" start_proxy
}

test_25_stalled_body_cut() {
	local out
	[ -s "$T/body" ] || head -c 300000 /dev/urandom >"$T/body"
	stop_proxy
	check "proxy restarts with a 500 ms transfer timeout" start_proxy --transfer-timeout 500
	# A head announcing 100 bytes of body, 3 of them, then nothing: the
	# client holds the connection and an upstream until the timeout.
	out=$(raw_status "POST /exact HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc")
	check "a request body that stalls gets 408 and the connection closed ($out)" \
		[ "$out" = "HTTP/1.1 408 Request Timeout cat=0 " ]
	out=$(client curl -sS --max-time 5 -o /dev/null -w '%{http_code}' \
		-H 'x-echo-delay-ms: 800' --data-binary @"$T/body" "http://$WEB/exact")
	check "a whole body, then an answer slower than that: not cut ($out)" [ "$out" = 200 ]
	stop_proxy
	check "proxy restarts with defaults" start_proxy
}

test_26_unrequested_backend_bytes_dropped() {
	local out
	# The backend answers request 1 and then, unasked, a 299: that is no
	# answer to request 2 on the same client connection.
	out=$(client curl -sS --max-time 5 -o /dev/null -w '%{http_code} ' \
		-H 'x-echo-extra-response: 299' "http://$WEB/exact" \
		--next -o /dev/null -w '%{http_code} %{num_connects}' "http://$WEB/exact")
	check "a backend's unrequested answer never reaches the next request ($out)" \
		[ "$out" = "200 200 0" ]
}

test_15_not_an_open_relay() {
	local out
	# Straight to the proxy port, not through a redirect: refused.
	out=$(client curl -sS --max-time 3 "http://127.0.0.1:$PROXY_PORT/exact" 2>&1)
	check "direct connection to the proxy is not served ($out)" \
		grep -q "Empty reply\|reset\|Recv failure" <<<"$out"
}

e2e_setup
e2e_run
