#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Stale backends: when an apply takes an endpoint away from a Service, the
# connections ambit redirected to it are closed (bpf_sock_destroy from a
# socket iterator, in every namespace enrolled workloads live in), and
# nothing else is: not connections to endpoints that stay, not the same
# endpoint reached through another Service, not connections that were
# never redirected. With --no-destroy-stale nothing is closed.
#
# Clients hold connections with `ambit-probe hold`: it prints "ok NAME"
# once connected, "echo ..." for every SIGUSR1 ping answered, and
# "closed ERRNO" when the connection is ended under it.
source "$(dirname "$0")/lib.sh"

POD=$E2E_ID-pod
POD_PATH=/run/netns/$POD

services_yaml() {
	cat <<'EOF'
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: web}
  spec: {clusterIP: 127.96.0.10, ports: [{port: 9080}]}
- apiVersion: v1
  kind: Service
  metadata: {name: web-v1}
  spec: {clusterIP: 127.96.1.1, ports: [{port: 9080}]}
- apiVersion: v1
  kind: Service
  metadata: {name: web-v2}
  spec: {clusterIP: 127.96.1.2, ports: [{port: 9080}]}
- apiVersion: v1
  kind: Service
  metadata: {name: other}
  spec: {clusterIP: 127.96.0.20, ports: [{port: 9080}]}
- apiVersion: v1
  kind: Service
  metadata: {name: dns}
  spec: {clusterIP: 127.96.0.53, ports: [{port: 53, targetPort: 5353, protocol: UDP}]}
- apiVersion: v1
  kind: Service
  metadata: {name: web6}
  spec: {clusterIPs: ["fd00:96::10"], ports: [{port: 80, targetPort: 9080}]}
- apiVersion: v1
  kind: Service
  metadata: {name: pod-local}
  spec: {clusterIP: 127.96.0.30, ports: [{port: 9080}]}
EOF
}

# slice NAME SERVICE FAMILY PROTO PORT ADDRESS... (none: no endpoints)
slice() {
	local name=$1 svc=$2 family=$3 proto=$4 port=$5 a eps=""
	shift 5
	for a in "$@"; do eps="$eps{addresses: [\"$a\"]}, "; done
	cat <<EOF
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: $name, labels: {kubernetes.io/service-name: $svc}}
addressType: $family
ports: [{port: $port, protocol: $proto}]
endpoints: [${eps%, }]
EOF
}

# slices V1 V6 DNS POD: web-v1's endpoint (or "none"), web6's, dns's,
# pod-local's. "other" always shares web-v1's first endpoint 127.0.1.1.
slices_yaml() {
	local v1=$1
	[ "$v1" = none ] && v1=
	# shellcheck disable=SC2086
	slice web-v1 web-v1 IPv4 TCP 9080 $v1
	slice web-v2 web-v2 IPv4 TCP 9080 127.0.1.2
	slice other other IPv4 TCP 9080 127.0.1.1
	slice web6 web6 IPv6 TCP 9080 "$2"
	slice dns dns IPv4 UDP 5353 "$3"
	slice pod-local pod-local IPv4 TCP 9080 "$4"
}

route_yaml() { # route_yaml W1 W2: web -> web-v1 W1, web-v2 W2
	cat <<EOF
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  parentRefs: [{group: "", kind: Service, name: web, port: 9080}]
  rules:
  - backendRefs:
    - {name: web-v1, port: 9080, weight: $1}
    - {name: web-v2, port: 9080, weight: $2}
EOF
}

# api: L7 (a path match) -> api-v1 (HTTP backend 127.0.1.5, or none).
api_yaml() {
	cat <<EOF
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: api}, spec: {clusterIP: 127.96.0.40, ports: [{port: 80}]}}
- {apiVersion: v1, kind: Service, metadata: {name: api-v1}, spec: {clusterIP: 127.96.1.40, ports: [{port: 80, targetPort: 9080}]}}
- apiVersion: gateway.networking.k8s.io/v1
  kind: HTTPRoute
  metadata: {name: api}
  spec:
    parentRefs: [{group: "", kind: Service, name: api, port: 80}]
    rules:
    - matches: [{path: {type: PathPrefix, value: /x}}]
      backendRefs: [{name: api-v1, port: 80}]
EOF
	slice api-v1 api-v1 IPv4 TCP 9080 "$@"
}

# ---- held connections ------------------------------------------------------

declare -A HOLD

# hold NAME CGROUP NETNS_PATH MODE ADDR: a connection kept open in the
# background; waits until it is up (or failed).
hold() {
	local name=$1 cg=$2 ns=$3 mode=$4 addr=$5
	rm -f "$T/hold.$name"
	bash -c "$IN_CG" "$ns" "$CG/$cg" "$PROBE" "$mode" "$addr" -t 90 \
		>"$T/hold.$name" 2>&1 &
	HOLD[$name]=$!
	BG_PIDS+=($!)
	wait_for "held connection $name" grep -q '^ok \|^err ' "$T/hold.$name"
}

hold_first() { head -1 "$T/hold.$1"; }
# held NAME BACKEND: it is up, to BACKEND
held() { hold_first "$1" | grep -q "^ok $2 "; }
is_closed() { grep -q '^closed ' "$T/hold.$1"; }
echoes() { grep -c '^echo .*ping' "$T/hold.$1"; }
# (wait_for re-runs a command: counts must be read inside it, each time)
echoes_at_least() { [ "$(echoes "$1")" -ge "$2" ]; }

# A ping must come back on a connection that was left alone.
pings_back() {
	local name=$1 want=$(($(echoes "$1") + 1))
	kill -USR1 "${HOLD[$name]}" 2>/dev/null || return 1
	wait_for "echo on $name" echoes_at_least "$name" "$want"
}

release_all() {
	local name
	for name in "${!HOLD[@]}"; do stop_pid "${HOLD[$name]}"; done
	HOLD=()
}

stat_field() { ambit stats -o json | jq -r ".staleConnections.$1"; }
passes_at_least() { [ "$(stat_field passes)" -ge "$1" ]; }

# ---- tests --------------------------------------------------------------------

test_01_setup() {
	ip netns add "$POD" || e2e_fail_setup "pod netns"
	EXTRA_NETNS+=("$POD")
	ip -n "$POD" link set lo up
	backend v1 --mode tcp --listen 127.0.1.1:9080
	backend v2 --mode tcp --listen 127.0.1.2:9080
	backend v6-a --mode tcp --listen '[fd00:a5::2]:9080'
	backend v6-b --mode tcp --listen '[fd00:a5::3]:9080'
	backend dns-a --mode tcp --listen 127.0.4.1:9 --udp 127.0.4.1:5353
	backend dns-b --mode tcp --listen 127.0.4.2:9 --udp 127.0.4.2:5353
	# The pod's own backends live on its own loopback.
	local saved=$NSPATH
	NSPATH=$POD_PATH
	backend pod-a --mode tcp --listen 127.0.7.1:9080
	backend pod-b --mode tcp --listen 127.0.7.2:9080
	NSPATH=$saved
	check "daemon starts" start_daemon
	check "daemon says it closes stale connections" \
		grep -q 'connections to removed endpoints are closed' "$T/ambitd.log"
	check "services, slices, route apply" apply < <(services_yaml
		slices_yaml 127.0.1.1 fd00:a5::2 127.0.4.1 127.0.7.1; echo ---
		route_yaml 1 0)
	check "enroll the client cgroup" ambit enroll --cgroup "$CG/client" --name client
	check "enroll the pod namespace" ambit enroll --netns "$POD_PATH" --name pod
}

test_02_hold_connections() {
	hold web-v1 client "$NSPATH" hold 127.96.0.10:9080
	check "via web to v1 ($(hold_first web-v1))" held web-v1 v1
	# Weight 0 drains: no new connection, and nothing closed.
	check "route shifts web to v2 (v1 weight 0)" apply < <(route_yaml 0 1)
	hold web-v2 client "$NSPATH" hold 127.96.0.10:9080
	check "via web to v2 ($(hold_first web-v2))" held web-v2 v2
	check "weight 0 closed nothing: v1 still echoes" pings_back web-v1
	hold other client "$NSPATH" hold 127.96.0.20:9080
	check "via other to the same endpoint as v1 ($(hold_first other))" held other v1
	hold direct client "$NSPATH" hold 127.0.1.1:9080
	check "enrolled, straight to v1, not through a VIP" held direct v1
	hold outsider outsider "$NSPATH" hold 127.0.1.1:9080
	check "not enrolled, straight to v1" held outsider v1
	hold mapped client "$NSPATH" hold '[::ffff:127.96.1.1]:9080'
	check "dual-stack socket, v4-mapped VIP of web-v1 ($(hold_first mapped))" held mapped v1
	hold v6 client "$NSPATH" hold '[fd00:96::10]:80'
	check "IPv6 via web6 to v6-a ($(hold_first v6))" held v6 v6-a
	hold udp client "$NSPATH" hold-udp 127.96.0.53:53
	check "connected UDP via dns to dns-a ($(hold_first udp))" held udp dns-a
	hold pod outsider "$POD_PATH" hold 127.96.0.30:9080
	check "pod (enrolled by netns) via pod-local to pod-a ($(hold_first pod))" held pod pod-a
}

test_03_removed_endpoints_closed() {
	local out
	check "remove v1 from web-v1, move web6, dns and pod-local" \
		apply < <(slices_yaml none fd00:a5::3 127.0.4.2 127.0.7.2)
	check "v1 via web is closed ($(tail -1 "$T/hold.web-v1"))" \
		wait_for "web-v1 closed" is_closed web-v1
	check "dual-stack socket to v1 is closed" wait_for "mapped closed" is_closed mapped
	check "IPv6 to v6-a is closed" wait_for "v6 closed" is_closed v6
	check "connected UDP to dns-a is closed" wait_for "udp closed" is_closed udp
	check "pod namespace: pod-a is closed" wait_for "pod closed" is_closed pod
	check "the application saw ECONNABORTED ($(tail -1 "$T/hold.web-v1"))" \
		grep -q '^closed ECONNABORTED' "$T/hold.web-v1"
	# Only where the owners live: the client cgroup's namespace and the
	# pod's; not the daemon's own.
	check "the pass walked 2 namespaces ($(grep -o 'closed [0-9]* conn.*walked' "$T/ambitd.log"))" \
		grep -q 'closed 5 connections to 5 removed endpoints (2 namespaces walked' "$T/ambitd.log"
	check "v2 via web still echoes" pings_back web-v2
	check "v1 via other (it stays there) still echoes" pings_back other
	check "enrolled client's own connection to v1 still echoes" pings_back direct
	check "non-enrolled connection to v1 still echoes" pings_back outsider
	out=$(client "$PROBE" tcp 127.96.1.1:9080)
	check "web-v1 has nothing left: refused ($out)" [ "$out" = "err ECONNREFUSED" ]
	out=$(client "$PROBE" tcp '[fd00:96::10]:80' -n 10 | tally)
	check "new IPv6 connects go to v6-b ($out)" [ "$out" = "v6-b=10 err=0" ]
	out=$(client "$PROBE" udp 127.96.0.53:53 hi --connect)
	check "new UDP goes to dns-b ($out)" grep -q '^ok dns-b ' <<<"$out"
	check "stats count 4 TCP closed ($(stat_field closedTcp))" \
		[ "$(stat_field closedTcp)" = 4 ]
	check "stats count 1 UDP closed ($(stat_field closedUdp))" \
		[ "$(stat_field closedUdp)" = 1 ]
}

test_04_second_pass_spares_survivors() {
	check "second pass ran after the grace period" \
		wait_for "second pass" passes_at_least 2
	check "it found nothing left to close: no namespace walked" \
		[ "$(stat_field lastPassNamespaces)" = 0 ]
	check "v2 via web still echoes" pings_back web-v2
	check "v1 via other still echoes" pings_back other
	check "non-enrolled connection to v1 still echoes" pings_back outsider
	check "no destroy failed ($(stat_field failed))" [ "$(stat_field failed)" = 0 ]
	release_all
}

test_05_switch_off() {
	local out
	stop_daemon
	check "daemon restarts with --no-destroy-stale" start_daemon --no-destroy-stale
	check "log says connections stay open" \
		grep -q 'stay open (--no-destroy-stale)' "$T/ambitd.log"
	check "v1 back in web-v1, route to v1" \
		apply < <(slices_yaml 127.0.1.1 fd00:a5::2 127.0.4.1 127.0.7.1; echo ---
			  route_yaml 1 0)
	hold off client "$NSPATH" hold 127.96.0.10:9080
	check "via web to v1 ($(hold_first off))" held off v1
	check "remove v1 again" apply < <(slices_yaml none fd00:a5::2 127.0.4.1 127.0.7.1)
	sleep 1.5 # past the grace period: no second pass either
	check "switch off: the connection to v1 still echoes" pings_back off
	out=$(ambit stats)
	check "stats say closing is off" grep -q 'stale connections: off (--no-destroy-stale)' <<<"$out"
	release_all
}

# The proxy's pooled upstream connections to 127.0.1.5:9080.
pooled_is() {
	[ "$(ip netns exec "$NS" ss -Htn state established dst 127.0.1.5:9080 | wc -l)" = "$1" ]
}

test_06_l7_pool_drops_removed_backends() {
	local out
	stop_daemon
	check "daemon restarts with a proxy" start_daemon --proxy-port "$PROXY_PORT"
	check "proxy starts" start_proxy
	backend api-a --listen 127.0.1.5:9080
	check "L7 route to api-a applies" apply < <(api_yaml 127.0.1.5)
	out=$(client curl -s -o /dev/null -w '%{http_code}' http://127.96.0.40/x)
	check "a request through the proxy ($out)" [ "$out" = 200 ]
	check "the proxy pools its upstream connection" wait_for "pooled" pooled_is 1
	check "remove api-a's endpoint" apply < <(api_yaml)
	check "the pooled connection to it is closed" wait_for "pool pruned" pooled_is 0
	out=$(client curl -s -o /dev/null -w '%{http_code}' http://127.96.0.40/x)
	check "no endpoint: 503 ($out)" [ "$out" = 503 ]
}

e2e_setup
e2e_run
