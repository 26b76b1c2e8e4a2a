#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The canonical scenario (shared/design.md), run in a throwaway sandbox by
# scripts/demo.sh: Services reviews, reviews-v1, reviews-v2 with VIPs in
# 127.96.0.0/16, echo backends in a test namespace, a client in an enrolled
# cgroup. Uses the e2e harness for setup and teardown.
set -u
source "$(dirname "$0")/../tests/e2e/lib.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

config() {
	cat <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: reviews}
spec: {clusterIP: 127.96.0.10, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: reviews-v1}
spec: {clusterIP: 127.96.1.1, ports: [{name: http, port: 9080}]}
---
apiVersion: v1
kind: Service
metadata: {name: reviews-v2}
spec: {clusterIP: 127.96.1.2, ports: [{name: http, port: 9080}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: reviews-v1-1, labels: {kubernetes.io/service-name: reviews-v1}}
addressType: IPv4
ports: [{name: http, port: 9080}]
endpoints: [{addresses: [127.0.1.1]}, {addresses: [127.0.1.2]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: reviews-v2-1, labels: {kubernetes.io/service-name: reviews-v2}}
addressType: IPv4
ports: [{name: http, port: 9080}]
endpoints: [{addresses: [127.0.2.1]}]
YAML
}

weighted_route() {
	cat <<'YAML'
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews}
spec:
  parentRefs: [{group: "", kind: Service, name: reviews, port: 9080}]
  rules:
  - backendRefs:
    - {name: reviews-v1, port: 9080, weight: 80}
    - {name: reviews-v2, port: 9080, weight: 20}
YAML
}

demo() {
	say "sandbox: namespace $NS, cgroup $CG, bpffs $BPFFS"
	backend reviews-v1-7f9c-a --listen 127.0.1.1:9080
	backend reviews-v1-7f9c-b --listen 127.0.1.2:9080
	backend reviews-v2-5d4b-a --listen 127.0.2.1:9080
	start_daemon --proxy-port "$PROXY_PORT" || { tail "$T/ambitd.log"; return 1; }
	start_proxy || return 1
	say "push Services and EndpointSlices, enroll the client's cgroup"
	config | run ambit apply -f -
	run ambit enroll --cgroup "$CG/client" --name client
	say "the canonical route (header match + header add): L7, via ambit-proxy"
	canonical_yaml | run ambit apply -f -
	run ambit get routes
	run ambit trace --cgroup "$CG/client" --to 127.96.0.10:9080
	sleep 0.2 # the proxy follows the configuration file
	say "curl reviews:9080 with the header"
	printf '$ curl -H "my-favorite-service-mesh: istio" http://127.96.0.10:9080/reviews/1\n'
	client curl -sS -H 'my-favorite-service-mesh: istio' http://127.96.0.10:9080/reviews/1 |
		jq '{hostname, path, hello: .headers.hello}'
	say "curl reviews:9080 without it"
	printf '$ curl http://127.96.0.10:9080/reviews/1\n'
	client curl -sS http://127.96.0.10:9080/reviews/1 | jq '{hostname, path, hello: .headers.hello}'
	say "a pure weighted route is L4: BPF picks the version at connect(), no proxy"
	weighted_route | run ambit apply -f -
	run ambit trace --cgroup "$CG/client" --to 127.96.0.10:9080
	say "1000 requests, each on its own connection (Connection: close)"
	for i in $(seq 1 1000); do echo "url = http://127.96.0.10:9080/"; done >"$T/urls"
	client curl -sS -H 'Connection: close' -K "$T/urls" | jq -r .hostname |
		sed 's/-[0-9a-f]*-[a-z]$//' | sort | uniq -c
	say "the same 1000 requests on ONE keep-alive connection: L4 pins a version"
	client curl -sS -K "$T/urls" | jq -r .hostname |
		sed 's/-[0-9a-f]*-[a-z]$//' | sort | uniq -c
	echo "(annotate the route ambit.io/mode: l7 to weigh every request instead)"
	say "data plane counters"
	run ambit stats
	say "pinned state (bpftool)"
	run ls "$PINS" "$PINS/links"
}

e2e_setup
demo
