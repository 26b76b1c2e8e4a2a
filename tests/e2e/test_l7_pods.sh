#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The second proxy placement: pods in their own network namespaces. The
# proxy lives in the "node" namespace; for a pod enrolled by its netns it
# opens its listener on the pod's own loopback and connects upstream from
# the pod's namespace, so a backend sees the pod's address. Pods and node
# are joined by veth pairs, test addresses from 198.18.0.0/15 (reserved
# for network tests), and nothing links any of it to the host.
source "$(dirname "$0")/lib.sh"

POD_A=$NS-a
POD_B=$NS-b

pod_link() { # POD IF-IN-POD IF-IN-NODE SUBNET(x.y.z)
	ip netns add "$1" && EXTRA_NETNS+=("$1")
	ip -n "$1" link set lo up
	ip -n "$NS" link add "$3" type veth peer name "$2" netns "$1"
	ip -n "$NS" addr add "$4.1/24" dev "$3"
	ip -n "$NS" link set "$3" up
	ip -n "$1" addr add "$4.2/24" dev "$2"
	ip -n "$1" link set "$2" up
	ip -n "$1" route add default via "$4.1"
}

in_pod() { # POD CGROUP CMD...
	local pod=$1 cg=$2
	shift 2
	bash -c "$IN_CG" "/run/netns/$pod" "$CG/$cg" "$@"
}

config_yaml() {
	cat <<'YAML'
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: reviews}, spec: {clusterIP: 127.96.0.10, ports: [{name: http, port: 9080}]}}
- {apiVersion: v1, kind: Service, metadata: {name: reviews-v1}, spec: {clusterIP: 127.96.1.1, ports: [{name: http, port: 9080}]}}
- {apiVersion: v1, kind: Service, metadata: {name: reviews-v2}, spec: {clusterIP: 127.96.1.2, ports: [{name: http, port: 9080}]}}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: v1, labels: {kubernetes.io/service-name: reviews-v1}}
  addressType: IPv4
  ports: [{name: http, port: 9080}]
  endpoints: [{addresses: [198.18.2.2]}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: v2, labels: {kubernetes.io/service-name: reviews-v2}}
  addressType: IPv4
  ports: [{name: http, port: 9080}]
  endpoints: [{addresses: [198.18.2.3]}]
YAML
}

jqr() { jq -r "$1" <<<"$2" 2>/dev/null; }

test_01_topology() {
	ip netns exec "$NS" sysctl -qw net.ipv4.ip_forward=1
	pod_link "$POD_A" eth0 veth-a 198.18.1
	pod_link "$POD_B" eth0 veth-b 198.18.2
	ip -n "$POD_B" addr add 198.18.2.3/24 dev eth0
	bash -c "$IN_CG" "/run/netns/$POD_B" "$CG/backends" "$ECHO" --name reviews-v1-pod-b \
		--listen 198.18.2.2:9080 --ready-file "$T/b1.ready" >"$T/b1.log" 2>&1 &
	BG_PIDS+=($!)
	bash -c "$IN_CG" "/run/netns/$POD_B" "$CG/backends" "$ECHO" --name reviews-v2-pod-b \
		--listen 198.18.2.3:9080 --ready-file "$T/b2.ready" >"$T/b2.log" 2>&1 &
	BG_PIDS+=($!)
	check "backends up in pod B" wait_for backends test -e "$T/b1.ready" -a -e "$T/b2.ready"
	check "pod A reaches pod B through the node" \
		in_pod "$POD_A" outsider bash -c 'exec 3<>/dev/tcp/198.18.2.2/9080'

}

test_02_daemon_and_proxy() {
	check "daemon starts" start_daemon --proxy-port "$PROXY_PORT"
	check "configuration applies" apply < <(config_yaml; echo ---; canonical_yaml)
	check "pod A enrolled by its namespace" \
		ambit enroll --netns "/run/netns/$POD_A" --namespace default --pod client-a
	check "proxy starts in the node namespace" start_proxy
	check "proxy opened a listener inside pod A" \
		wait_for "pod listener" grep -q "pod /run/netns/$POD_A: listening" "$T/proxy.log"
}

test_03_canonical_from_a_pod() {
	local out
	out=$(in_pod "$POD_A" client curl -sS --max-time 5 -H 'my-favorite-service-mesh: istio' \
		http://127.96.0.10:9080/reviews)
	check "pod A with the header reaches reviews-v2 ($(jqr .hostname "$out"))" \
		[ "$(jqr .hostname "$out")" = reviews-v2-pod-b ]
	check "it sees hello: world" [ "$(jqr '.headers.hello[0]' "$out")" = world ]
	check "upstream left from pod A's namespace (peer $(jqr .peer "$out"))" \
		grep -q '^198.18.1.2:' <<<"$(jqr .peer "$out")"
	out=$(in_pod "$POD_A" client curl -sS --max-time 5 http://127.96.0.10:9080/reviews)
	check "without it: reviews-v1 ($(jqr .hostname "$out"))" [ "$(jqr .hostname "$out")" = reviews-v1-pod-b ]
}

test_04_unenroll_closes_the_listener() {
	local out
	check "unenroll pod A" ambit unenroll --netns "/run/netns/$POD_A"
	check "proxy closed its listener in pod A" \
		wait_for "listener closed" grep -q "pod /run/netns/$POD_A: listeners closed" "$T/proxy.log"
	out=$(in_pod "$POD_A" client curl -sS --max-time 3 -o /dev/null -w '%{http_code}' \
		http://127.96.0.10:9080/ 2>&1)
	check "pod A is no longer redirected: the VIP is not there ($out)" \
		grep -q "Failed to connect\|Couldn't connect\|000" <<<"$out"
}

e2e_setup
e2e_run
