#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The operators' view: ambitd's /metrics after real L4 and L7 traffic
# (checked by promtool and against the exact numbers of connections and
# requests made), the proxy's metrics missing but the daemon's still
# served when the proxy is down, the HTTP responder's edges, logfmt logs,
# and `ambit log-level` reaching the daemon and the proxy at run time.
source "$(dirname "$0")/lib.sh"

METRICS=127.0.0.1:15020
command -v promtool >/dev/null 2>&1 ||
	e2e_fail_setup "missing promtool (Debian's prometheus package; scripts/install-deps.sh)"

# Services beyond the canonical ones: an L4 Service with two endpoints, one
# whose endpoint refuses, one without endpoints, and a web route with a
# 404 and a 503 case.
extra_yaml() {
	web_yaml
	cat <<'EOF'
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: plain}, spec: {clusterIP: 127.96.3.1, ports: [{port: 80, targetPort: 8080}]}}
- {apiVersion: v1, kind: Service, metadata: {name: dead}, spec: {clusterIP: 127.96.3.9, ports: [{port: 80, targetPort: 8080}]}}
- {apiVersion: v1, kind: Service, metadata: {name: empty}, spec: {clusterIP: 127.96.3.8, ports: [{port: 80}]}}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: plain, labels: {kubernetes.io/service-name: plain}}
  addressType: IPv4
  ports: [{port: 8080}]
  endpoints: [{addresses: [127.0.3.1]}, {addresses: [127.0.3.2]}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: dead, labels: {kubernetes.io/service-name: dead}}
  addressType: IPv4
  ports: [{port: 8080}]
  endpoints: [{addresses: [127.0.3.9]}]
- apiVersion: gateway.networking.k8s.io/v1
  kind: HTTPRoute
  metadata: {name: web}
  spec:
    parentRefs: [{group: "", kind: Service, name: web, port: 80}]
    rules:
    - matches: [{path: {type: PathPrefix, value: /app}}]
      backendRefs: [{name: web-a, port: 80}]
    - matches: [{path: {type: PathPrefix, value: /down}}]
      backendRefs: [{name: web-none, port: 80}]
EOF
}

in_ns() { nsenter --net="$NSPATH" "$@"; }

# The daemon runs in the test namespace: its metrics port is that
# namespace's loopback, never the host's.
start_ns_daemon() {
	mkdir -p "$CG-proxy"
	bash -c "$IN_CG" "$NSPATH" "$CG-proxy" "$AMBITD" --cgroup "$CG" \
		--bpffs "$PINS" --socket "$SOCK" --state-dir "$STATE" \
		--proxy-port "$PROXY_PORT" --metrics "$METRICS" >>"$T/ambitd.log" 2>&1 &
	DAEMON_PID=$!
	wait_for "ambitd" test -S "$SOCK" && wait_for "ambitd answering" ambit stats
}

scrape() { # scrape FILE: GET /metrics into FILE
	in_ns curl -sS --max-time 10 -o "$1" "http://$METRICS/metrics"
}

# value FILE NAME LABELS: the value of the sample NAME{LABELS}, or "none".
value() {
	awk -v want="$2{$3}" 'index($0, want " ") == 1 { print $NF; found = 1 }
		END { if (!found) print "none" }' "$1"
}

# sum FILE NAME FILTER: the sum of NAME's samples whose labels hold FILTER.
sum() {
	awk -v name="$2{" -v f="$3" 'index($0, name) == 1 && index($0, f) { s += $NF }
		END { print s + 0 }' "$1"
}

is() { # is WHAT GOT WANT
	if [ "$2" = "$3" ]; then ok "$1 ($2)"; else not_ok "$1: got '$2', want '$3'"; fi
}

REVIEWS='service="default/reviews",port="9080"'
WEB='service="default/web",port="80"'
PLAIN='service="default/plain",port="80",protocol="TCP",vip="127.96.3.1"'
DEAD='service="default/dead",port="80",protocol="TCP",vip="127.96.3.9"'
EMPTY='service="default/empty",port="80",protocol="TCP",vip="127.96.3.8"'

test_01_setup() {
	backend reviews-v1-7f9c-a --listen 127.0.1.1:9080
	backend reviews-v2-5d4b-a --listen 127.0.2.1:9080
	backend web-a --listen 127.0.5.1:8080
	backend plain-1 --mode tcp --listen 127.0.3.1:8080
	backend plain-2 --mode tcp --listen 127.0.3.2:8080
	check "daemon starts in the test namespace with --metrics $METRICS" start_ns_daemon
	check "configuration applies" apply < <(reviews_yaml; echo ---; canonical_yaml; echo ---; extra_yaml)
	check "a bad apply is refused" bash -c "! '$AMBIT' --socket '$SOCK' apply -f - <<<'kind: [' 2>/dev/null"
	check "enroll client cgroup" ambit enroll --cgroup "$CG/client" --name client
	check "proxy starts" start_proxy
}

test_02_traffic() {
	local i codes=""
	# L4: 10 connects spread over two endpoints, 3 to a refusing endpoint,
	# 2 to a Service without endpoints (refused by BPF at once).
	client "$PROBE" tcp 127.96.3.1:80 -n 10 >"$T/plain.out"
	check "10 L4 connects answered" [ "$(grep -c '^ok plain-' "$T/plain.out")" = 10 ]
	client "$PROBE" tcp 127.96.3.9:80 -n 3 >"$T/dead.out"
	check "3 connects to a dead endpoint refused by it" [ "$(grep -c 'err ECONNREFUSED' "$T/dead.out")" = 3 ]
	client "$PROBE" tcp 127.96.3.8:80 -n 2 >"$T/empty.out"
	check "2 connects to a Service without endpoints refused" \
		[ "$(grep -c 'err ECONNREFUSED' "$T/empty.out")" = 2 ]
	# L7: one connection per request.
	for i in 1 2 3 4 5; do
		codes+=$(client curl -s -o /dev/null -w '%{http_code} ' --max-time 5 \
			-H 'my-favorite-service-mesh: istio' http://127.96.0.10:9080/)
	done
	for i in 1 2 3 4; do
		codes+=$(client curl -s -o /dev/null -w '%{http_code} ' --max-time 5 \
			http://127.96.0.10:9080/x)
	done
	for i in 1 2 3; do
		codes+=$(client curl -s -o /dev/null -w '%{http_code} ' --max-time 5 \
			http://127.96.2.1/app/$i)
	done
	codes+=$(client curl -s -o /dev/null -w '%{http_code} ' --max-time 5 \
		-H 'x-echo-status: 500' http://127.96.2.1/app/err)
	for i in 1 2; do
		codes+=$(client curl -s -o /dev/null -w '%{http_code} ' --max-time 5 \
			http://127.96.2.1/nope)
		codes+=$(client curl -s -o /dev/null -w '%{http_code} ' --max-time 5 \
			http://127.96.2.1/down)
	done
	is "L7 answers" "$codes" "200 200 200 200 200 200 200 200 200 200 200 200 500 404 503 404 503 "
}

test_03_exposition_is_valid() {
	check "GET /metrics answers" scrape "$T/m1"
	check "promtool check metrics accepts it" bash -c "promtool check metrics <'$T/m1' >'$T/promtool.out' 2>&1"
	[ -s "$T/promtool.out" ] && sed 's/^/#   promtool: /' "$T/promtool.out"
	check "ambit_build_info names version and commit" \
		grep -Eq '^ambit_build_info\{version="[^"]+",commit="[^"]+"\} 1$' "$T/m1"
	check "process_start_time_seconds is set" \
		awk '/^process_start_time_seconds / { exit !($2 > 1000000000) }' "$T/m1"
	check "ambit_proxy_up is 1" grep -qx 'ambit_proxy_up 1' "$T/m1"
}

test_04_bpf_counters() {
	local m=$T/m1
	is "L4 connects of default/plain" \
		"$(value "$m" ambit_connects_total "$PLAIN,backend=\"default/plain:80\"")" 10
	is "its endpoints' connects add up" "$(sum "$m" ambit_endpoint_connects_total "$PLAIN")" 10
	is "no other endpoint of default/plain" \
		"$(grep "^ambit_endpoint_connects_total{$PLAIN" "$m" |
		   grep -vc 'endpoint="127.0.3.[12]:8080"')" 0
	is "connects sent to the refusing endpoint" \
		"$(value "$m" ambit_endpoint_connects_total "$DEAD,endpoint=\"127.0.3.9:8080\"")" 3
	is "its connect failures" \
		"$(value "$m" ambit_endpoint_connect_failures_total "$DEAD,endpoint=\"127.0.3.9:8080\"")" 3
	is "refusals of the Service without endpoints" \
		"$(value "$m" ambit_connect_failures_total "$EMPTY,backend=\"default/empty:80\",reason=\"no_endpoint\"")" 2
	is "connections to the L7 Service sent to the proxy" \
		"$(value "$m" ambit_proxy_redirects_total 'service="default/reviews",port="9080",protocol="TCP",vip="127.96.0.10"')" 9
	is "and counted for the proxy's endpoint" \
		"$(value "$m" ambit_endpoint_connects_total 'service="default/reviews",port="9080",protocol="TCP",vip="127.96.0.10",endpoint="127.0.0.1:15001"')" 9
}

test_05_proxy_requests() {
	local m=$T/m1 r
	r="$REVIEWS,route=\"default/reviews\""
	is "reviews rule 0 -> v2, 200" \
		"$(value "$m" ambit_proxy_requests_total "$r,rule=\"0\",backend=\"default/reviews-v2:9080\",code=\"200\"")" 5
	is "reviews rule 1 -> v1, 200" \
		"$(value "$m" ambit_proxy_requests_total "$r,rule=\"1\",backend=\"default/reviews-v1:9080\",code=\"200\"")" 4
	r="$WEB,route=\"default/web\""
	is "web rule 0 -> web-a, 200" \
		"$(value "$m" ambit_proxy_requests_total "$r,rule=\"0\",backend=\"default/web-a:80\",code=\"200\"")" 3
	is "web rule 0 -> web-a, the backend's 500" \
		"$(value "$m" ambit_proxy_requests_total "$r,rule=\"0\",backend=\"default/web-a:80\",code=\"500\"")" 1
	is "web rule 1 -> web-none, 503" \
		"$(value "$m" ambit_proxy_requests_total "$r,rule=\"1\",backend=\"default/web-none:80\",code=\"503\"")" 2
	is "web: no rule matched, 404" \
		"$(value "$m" ambit_proxy_requests_total "$WEB,route=\"\",rule=\"\",backend=\"\",code=\"404\"")" 2
	is "requests in all" "$(sum "$m" ambit_proxy_requests_total '')" 17
	is "every request series has a histogram with the same count" "$(awk '
		/^ambit_proxy_requests_total\{/ { sub(/^ambit_proxy_requests_total/, ""); n[$1] = $2 }
		/^ambit_proxy_request_duration_seconds_count\{/ {
			sub(/^ambit_proxy_request_duration_seconds_count/, ""); c[$1] = $2 }
		/^ambit_proxy_request_duration_seconds_bucket\{.*le="\+Inf"/ {
			sub(/^ambit_proxy_request_duration_seconds_bucket/, "");
			sub(/,le="\+Inf"\}/, "}"); inf[$1] = $2 }
		END { for (k in n) if (c[k] != n[k] || inf[k] != n[k]) bad++;
		      for (k in c) if (!(k in n)) bad++; print bad + 0 }' "$m")" 0
	is "connections the proxy accepted" \
		"$(value "$m" ambit_proxy_connections_total 'result="accepted"')" 17
}

test_06_config_counts() {
	local m=$T/m1
	is "applies" "$(value "$m" ambit_applies_total 'verb="apply"')" 2
	is "apply errors" "$(value "$m" ambit_apply_errors_total 'verb="apply"')" 1
	is "enrolls" "$(value "$m" ambit_applies_total 'verb="enroll"')" 1
	is "enrolled workloads" "$(value "$m" ambit_enrolled_workloads 'state="active"')" 1
	is "the enroll map holds it" "$(value "$m" ambit_map_entries 'map="ambit_enroll"')" 1
	check "map capacities are reported" \
		grep -Eq '^ambit_map_capacity\{map="ambit_endpoints"\} [1-9]' "$m"
	is "L7 service ports" "$(value "$m" ambit_service_ports 'mode="L7"')" 2
}

test_07_proxy_down() {
	stop_proxy
	check "the daemon still answers with the proxy down" scrape "$T/m2"
	check "ambit_proxy_up is 0" grep -qx 'ambit_proxy_up 0' "$T/m2"
	check "the proxy's request metrics are gone" bash -c "! grep -q '^ambit_proxy_requests_total' '$T/m2'"
	check "the BPF counters are still there" grep -q '^ambit_connects_total{' "$T/m2"
	check "promtool still accepts it" bash -c "promtool check metrics <'$T/m2' >/dev/null 2>&1"
	check "proxy restarts" start_proxy
	check "scrape" scrape "$T/m3"
	check "ambit_proxy_up is 1 again" grep -qx 'ambit_proxy_up 1' "$T/m3"
}

test_08_http_edges() {
	local code big
	code=$(in_ns curl -s -o /dev/null -w '%{http_code}' "http://$METRICS/")
	is "GET / is 404" "$code" 404
	code=$(in_ns curl -s -o /dev/null -w '%{http_code}' -X POST "http://$METRICS/metrics")
	is "POST /metrics is 405" "$code" 405
	code=$(in_ns curl -s -o /dev/null -w '%{http_code}' -I "http://$METRICS/metrics")
	is "HEAD /metrics is 200" "$code" 200
	big=$(head -c 9000 /dev/zero | tr '\0' a)
	code=$(in_ns curl -s -o /dev/null -w '%{http_code}' -H "x-big: $big" "http://$METRICS/metrics")
	is "an oversized request head is 431" "$code" 431
	# A client that connects and says nothing holds the one slot until its
	# deadline: the control socket keeps answering, the next scrape waits.
	in_ns bash -c "exec 3<>/dev/tcp/${METRICS%:*}/${METRICS#*:}; sleep 8" &
	BG_PIDS+=($!)
	sleep 0.3
	check "the control socket answers while a client stalls metrics" ambit stats
	check "a scrape after the stalled client succeeds" scrape "$T/m4"
	check "and is complete" grep -q '^ambit_build_info' "$T/m4"
	check "a non-loopback --metrics address is refused" bash -c \
		"! '$AMBITD' --cgroup '$CG' --metrics 0.0.0.0:15020 2>'$T/remote.err' && grep -q 'not a loopback address' '$T/remote.err'"
}

# debug lines in a log: count FILE
debug_lines() { grep -c ' level=debug ' "$1"; }

test_09_log_level() {
	local d p
	is "the level starts at info" "$(ambit log-level)" info
	is "the proxy is told through the state directory" "$(cat "$STATE/log-level")" info
	check "ambit log-level debug" ambit log-level debug
	ambit get services >/dev/null
	check "the daemon logs at debug" grep -q ' level=debug msg=command cmd=get' "$T/ambitd.log"
	check "the proxy follows" wait_for "proxy at debug" \
		grep -q 'msg="log level changed" from=info to=debug' "$T/proxy.log"
	client curl -s -o /dev/null --max-time 5 http://127.96.2.1/app/debug
	check "the proxy logs requests at debug" grep -q ' level=debug msg=request .*code=200' "$T/proxy.log"
	check "ambit log-level info" ambit log-level info
	check "the proxy follows back" wait_for "proxy at info" \
		grep -q 'msg="log level changed" from=debug to=info' "$T/proxy.log"
	d=$(debug_lines "$T/ambitd.log")
	p=$(debug_lines "$T/proxy.log")
	ambit get services >/dev/null
	scrape "$T/m5"
	client curl -s -o /dev/null --max-time 5 http://127.96.2.1/app/quiet
	is "no more debug lines from the daemon" "$(debug_lines "$T/ambitd.log")" "$d"
	is "nor from the proxy" "$(debug_lines "$T/proxy.log")" "$p"
	check "an unknown level is refused" bash -c "! '$AMBIT' --socket '$SOCK' log-level loud 2>/dev/null"
	is "every daemon log line is logfmt with a level" \
		"$(grep -Evc '^ts=[0-9TZ:.-]+ level=(error|warn|info|debug|trace) msg=' "$T/ambitd.log")" 0
	is "every proxy log line too" \
		"$(grep -Evc '^ts=[0-9TZ:.-]+ level=(error|warn|info|debug|trace) msg=' "$T/proxy.log")" 0
}

e2e_setup
e2e_run
