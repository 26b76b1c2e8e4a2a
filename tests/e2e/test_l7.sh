#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The L7 path on the real kernel: an enrolled client's connection to a
# Service whose routes inspect requests goes to ambit-proxy (in the same
# namespace, outside the attached cgroup subtree), which routes each request
# by the HTTPRoute rules to echo backends that reflect what they received.
source "$(dirname "$0")/lib.sh"

VIP=127.96.0.10:9080

services_yaml() {
	cat <<'EOF'
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: reviews}, spec: {clusterIP: 127.96.0.10, ports: [{name: http, port: 9080}]}}
- {apiVersion: v1, kind: Service, metadata: {name: reviews-v1}, spec: {clusterIP: 127.96.1.1, ports: [{name: http, port: 9080}]}}
- {apiVersion: v1, kind: Service, metadata: {name: reviews-v2}, spec: {clusterIP: 127.96.1.2, ports: [{name: http, port: 9080}]}}
- {apiVersion: v1, kind: Service, metadata: {name: reviews-v3}, spec: {clusterIP: 127.96.1.3, ports: [{name: http, port: 9080}]}}
- {apiVersion: v1, kind: Service, metadata: {name: empty}, spec: {clusterIP: 127.96.1.9, ports: [{name: http, port: 9080}]}}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: v1, labels: {kubernetes.io/service-name: reviews-v1}}
  addressType: IPv4
  ports: [{name: http, port: 9080}]
  endpoints: [{addresses: [127.0.1.1]}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: v2, labels: {kubernetes.io/service-name: reviews-v2}}
  addressType: IPv4
  ports: [{name: http, port: 9080}]
  endpoints: [{addresses: [127.0.2.1]}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: v3, labels: {kubernetes.io/service-name: reviews-v3}}
  addressType: IPv4
  ports: [{name: http, port: 9080}]
  endpoints: [{addresses: [127.0.3.1]}]
EOF
}

# The canonical route of shared/design.md, verbatim.
canonical_yaml() {
	cat <<'EOF'
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews}
spec:
  parentRefs: [{group: "", kind: Service, name: reviews, port: 9080}]
  rules:
  - matches: [{headers: [{name: my-favorite-service-mesh, value: istio}]}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {add: [{name: hello, value: world}]}
    backendRefs: [{name: reviews-v2, port: 9080}]
  - backendRefs: [{name: reviews-v1, port: 9080}]
EOF
}

# curl from the enrolled client; prints the body.
get() {
	client curl -sS --max-time 5 "$@"
}

# jq on a response body: jqr FILTER BODY
jqr() { jq -r "$1" <<<"$2" 2>/dev/null; }

test_01_setup() {
	backend reviews-v1-7f9c-a --listen 127.0.1.1:9080
	backend reviews-v2-5d4b-a --listen 127.0.2.1:9080
	backend reviews-v3-9a8b-a --listen 127.0.3.1:9080
	backend untouched --listen 127.96.0.10:9080
	check "daemon starts with a proxy port" start_daemon --proxy-port "$PROXY_PORT"
	check "services apply" apply < <(services_yaml)
	check "canonical route applies" apply < <(canonical_yaml)
	check "enroll client cgroup" ambit enroll --cgroup "$CG/client" --name client
	check "proxy starts" start_proxy
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

e2e_setup
e2e_run
