#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# L4 redirect on the real kernel: real sockets from a test cgroup inside a
# test namespace, to Service VIPs in 127.96.0.0/16 and fd00:96::/64,
# rewritten by the connect/sendmsg programs to per-version backends.
source "$(dirname "$0")/lib.sh"

services_yaml() {
	cat <<'EOF'
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: reviews, namespace: default}
  spec:
    clusterIP: 127.96.0.10
    ports: [{name: http, port: 9080, targetPort: 9080}]
- apiVersion: v1
  kind: Service
  metadata: {name: reviews-v1}
  spec:
    clusterIP: 127.96.1.1
    ports: [{name: http, port: 9080, targetPort: http-alt}]
- apiVersion: v1
  kind: Service
  metadata: {name: reviews-v2}
  spec:
    clusterIP: 127.96.1.2
    ports: [{name: http, port: 9080}]
- apiVersion: v1
  kind: Service
  metadata: {name: reviews-v3}
  spec:
    clusterIP: 127.96.1.3
    ports: [{name: http, port: 9080}]
- apiVersion: v1
  kind: Service
  metadata: {name: dns}
  spec:
    clusterIP: 127.96.0.53
    ports: [{name: dns, port: 53, targetPort: 5353, protocol: UDP}]
- apiVersion: v1
  kind: Service
  metadata: {name: web6}
  spec:
    clusterIPs: ["fd00:96::10"]
    ports: [{name: http, port: 80, targetPort: 9080}]
- apiVersion: v1
  kind: Service
  metadata: {name: empty}
  spec:
    clusterIP: 127.96.0.20
    ports: [{port: 80}]
EOF
}

slices_yaml() {
	local v2=${1:-127.0.2.1}
	cat <<EOF
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: reviews-v1-abc, labels: {kubernetes.io/service-name: reviews-v1}}
addressType: IPv4
ports: [{name: http, port: 9080, protocol: TCP}]
endpoints:
- addresses: [127.0.1.1]
  conditions: {ready: true}
- addresses: [127.0.1.2]
- addresses: [127.0.1.9]
  conditions: {ready: false}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: reviews-v2-abc, labels: {kubernetes.io/service-name: reviews-v2}}
addressType: IPv4
ports: [{name: http, port: 9080}]
endpoints: [{addresses: [$v2]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: reviews-v3-abc, labels: {kubernetes.io/service-name: reviews-v3}}
addressType: IPv4
ports: [{name: http, port: 9080}]
endpoints: [{addresses: [127.0.3.1]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: dns-abc, labels: {kubernetes.io/service-name: dns}}
addressType: IPv4
ports: [{name: dns, port: 5353, protocol: UDP}]
endpoints: [{addresses: [127.0.4.1]}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web6-abc, labels: {kubernetes.io/service-name: web6}}
addressType: IPv6
ports: [{name: http, port: 9080}]
endpoints: [{addresses: ["fd00:a5::2"]}, {addresses: ["fd00:a5::3"]}]
EOF
}

# reviews: v1 70%, v2 30%, v3 never.
route_yaml() {
	cat <<'EOF'
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  parentRefs: [{group: "", kind: Service, name: reviews, port: 9080}]
  rules:
  - backendRefs:
    - {name: reviews-v1, port: 9080, weight: 70}
    - {name: reviews-v2, port: 9080, weight: 30}
    - {name: reviews-v3, port: 9080, weight: 0}
EOF
}

test_01_setup() {
	backend v1-a --mode tcp --listen 127.0.1.1:9080
	backend v1-b --mode tcp --listen 127.0.1.2:9080
	backend v2-a --mode tcp --listen 127.0.2.1:9080
	backend v2-b --mode tcp --listen 127.0.2.2:9080
	backend v3-a --mode tcp --listen 127.0.3.1:9080
	backend dns-a --mode tcp --listen 127.0.4.1:9 --udp 127.0.4.1:5353
	backend v6-a --mode tcp --listen '[fd00:a5::2]:9080'
	backend v6-b --mode tcp --listen '[fd00:a5::3]:9080'
	# Anything that reaches a VIP unchanged lands here and says so.
	backend untouched --mode tcp --listen 127.96.0.10:9080 --listen 127.96.0.20:80
	check "daemon starts" start_daemon
	check "services and slices apply" apply < <(services_yaml; echo ---; slices_yaml)
	check "route applies" apply < <(route_yaml)
	check "enroll client cgroup" ambit enroll --cgroup "$CG/client" --name client
}

test_02_redirect_to_version() {
	local out
	out=$(client "$PROBE" tcp 127.96.1.2:9080 -n 20 | tally)
	check "reviews-v2 VIP reaches only v2 ($out)" [ "$out" = "v2-a=20 err=0" ]
	out=$(client "$PROBE" tcp 127.96.1.1:9080 -n 100 | tally)
	check "reviews-v1 VIP spreads over its 2 ready endpoints ($out)" \
		all_true '[ "$(count_of v1-a "$out")" -gt 20 ] && [ "$(count_of v1-b "$out")" -gt 20 ]'
}

test_03_weights_70_30() {
	local out v1 v2
	out=$(client "$PROBE" tcp 127.96.0.10:9080 -n 1000 | tally)
	v1=$(($(count_of v1-a "$out") + $(count_of v1-b "$out")))
	v2=$(count_of v2-a "$out")
	check "1000 connects, none failed ($out)" [ "$(count_of err "$out")" = 0 ]
	check "v1 gets 70% +-5% ($v1/1000)" all_true '[ "$v1" -ge 650 ] && [ "$v1" -le 750 ]'
	check "v2 gets 30% +-5% ($v2/1000)" all_true '[ "$v2" -ge 250 ] && [ "$v2" -le 350 ]'
	check "weight 0 gets nothing" [ "$(count_of v3-a "$out")" = 0 ]
	check "nothing reached the VIP itself" [ "$(count_of untouched "$out")" = 0 ]
}

test_04_getpeername_vip() {
	local out
	out=$(client "$PROBE" tcp 127.96.0.10:9080)
	check "getpeername returns the VIP ($out)" grep -q 'peer=127.96.0.10:9080$' <<<"$out"
}

test_05_udp_round_trip() {
	local out
	out=$(client "$PROBE" udp 127.96.0.53:53 hello)
	check "UDP reply comes from the VIP ($out)" \
		grep -q '^ok dns-a .*hello from=127.96.0.53:53 ' <<<"$out"
	out=$(client "$PROBE" udp 127.96.0.53:53 hi --connect)
	check "connected UDP: reply and getpeername show the VIP ($out)" \
		grep -q '^ok dns-a .*from=127.96.0.53:53 peer=127.96.0.53:53$' <<<"$out"
}

test_06_ipv6_vip() {
	local out
	out=$(client "$PROBE" tcp '[fd00:96::10]:80' -n 60 | tally)
	check "IPv6 VIP reaches both v6 endpoints ($out)" \
		all_true '[ "$(count_of v6-a "$out")" -gt 5 ] && [ "$(count_of v6-b "$out")" -gt 5 ] &&
		[ "$(count_of err "$out")" = 0 ]'
	out=$(client "$PROBE" tcp '[fd00:96::10]:80')
	check "IPv6 getpeername returns the VIP ($out)" grep -q 'peer=\[fd00:96::10\]:80$' <<<"$out"
}

test_07_not_enrolled_untouched() {
	local out
	out=$(outsider "$PROBE" tcp 127.96.0.10:9080 -n 5 | tally)
	check "non-enrolled workload reaches the VIP itself ($out)" [ "$out" = "untouched=5 err=0" ]
}

test_07b_proxy_mark_never_redirected() {
	local out
	# The proxy's mark (ambitd's default) exempts a socket even when an
	# enrolled workload owns it: the proxy can never loop into itself.
	out=$(client "$PROBE" tcp 127.96.0.10:9080 -n 3 -m 0x0a3b1700 | tally)
	check "a marked socket reaches the VIP itself ($out)" [ "$out" = "untouched=3 err=0" ]
	out=$(client "$PROBE" tcp 127.96.0.10:9080 -n 3 -m 0x1 | tally)
	check "another mark is redirected as usual ($out)" [ "$(count_of untouched "$out")" = 0 ]
}

test_08_no_endpoints_fail_fast() {
	local out
	out=$(client "$PROBE" tcp 127.96.0.20:80)
	check "no endpoints: ECONNREFUSED, not the VIP ($out)" [ "$out" = "err ECONNREFUSED" ]
}

test_09_endpoint_update() {
	local out
	check "move reviews-v2 to a new endpoint" apply < <(slices_yaml 127.0.2.2)
	out=$(client "$PROBE" tcp 127.96.1.2:9080 -n 20 | tally)
	check "new connections go to the new endpoint ($out)" [ "$out" = "v2-b=20 err=0" ]
}

# Links on this test's cgroup only: other tests attach their own meanwhile.
links_count() {
	bpftool link show -j | jq --argjson id "$(stat -c %i "$CG")" \
		'[.[] | select(.cgroup_id == $id)] | length'
}

test_10_kill9_restart() {
	local before after log=$T/loop.out out
	before=$(links_count)
	client "$PROBE" tcp 127.96.0.10:9080 -n 3000 >"$log" &
	local loop=$!
	sleep 0.3
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	sleep 0.3
	check "daemon restarts" start_daemon
	wait "$loop"
	out=$(tally <"$log")
	check "3000 connects across kill -9 and restart, zero failed ($out)" \
		all_true '[ "$(count_of err "$out")" = 0 ] && [ "$(grep -c "^ok" "$log")" = 3000 ] &&
		[ "$(count_of untouched "$out")" = 0 ]'
	after=$(links_count)
	check "no duplicate links after restart ($before -> $after)" [ "$before" = "$after" ]
	check "routes restored" bash -c "'$AMBIT' --socket '$SOCK' get routes | grep -q reviews"
	check "enrollment restored" bash -c "'$AMBIT' --socket '$SOCK' get enrollments | grep -q Enrolled"
}

# Each case: a file, and a string its error must contain.
malformed_cases() {
	cat <<'EOF'
weight-not-int|spec.rules[0].backendRefs[0].weight|apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: [{group: "", kind: Service, name: reviews}]\n  rules:\n  - backendRefs: [{name: reviews-v1, port: 9080, weight: abc}]
weight-too-big|weight|apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: [{group: "", kind: Service, name: reviews}]\n  rules:\n  - backendRefs: [{name: reviews-v1, port: 9080, weight: 2000000}]
missing-name|metadata.name|apiVersion: v1\nkind: Service\nmetadata: {namespace: default}\nspec: {clusterIP: 127.96.9.1, ports: [{port: 80}]}
bad-regex|:8:|apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: [{group: "", kind: Service, name: reviews}]\n  rules:\n  - matches:\n    - path: {type: RegularExpression, value: "/(a"}\n    backendRefs: [{name: reviews-v1, port: 9080}]
parent-not-service|parentRefs[0]|apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: [{group: apps, kind: Deployment, name: reviews}]\n  rules:\n  - backendRefs: [{name: reviews-v1, port: 9080}]
backend-missing-service|nope|apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: [{group: "", kind: Service, name: reviews}]\n  rules:\n  - backendRefs: [{name: nope, port: 9080}]
backend-missing-port|port|apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: [{group: "", kind: Service, name: reviews}]\n  rules:\n  - backendRefs: [{name: reviews-v1, port: 1234}]
backend-no-port|port|apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: [{group: "", kind: Service, name: reviews}]\n  rules:\n  - backendRefs: [{name: reviews-v1}]
duplicate|duplicate|apiVersion: v1\nkind: Service\nmetadata: {name: dup}\nspec: {clusterIP: 127.96.9.2, ports: [{port: 80}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: dup}\nspec: {clusterIP: 127.96.9.3, ports: [{port: 80}]}
bad-ip|clusterIP|apiVersion: v1\nkind: Service\nmetadata: {name: badip}\nspec: {clusterIP: 127.96.999.1, ports: [{port: 80}]}
bad-port|port|apiVersion: v1\nkind: Service\nmetadata: {name: badport}\nspec: {clusterIP: 127.96.9.4, ports: [{port: 70000}]}
sctp|SCTP|apiVersion: v1\nkind: Service\nmetadata: {name: sctp}\nspec: {clusterIP: 127.96.9.5, ports: [{port: 80, protocol: SCTP}]}
yaml-syntax|bad-yaml-syntax.yaml:4:5: document 1|apiVersion: v1\nkind: Service\nmetadata: {name: [unclosed\nspec: {}
unknown-kind|kind|apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}
scalar-for-list|spec.ports|apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: 127.96.9.6, ports: 80}
alias-bomb|alias|a: &a [x, x]\nb: [*a, *a]
bad-method|method|apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: [{group: "", kind: Service, name: reviews}]\n  rules:\n  - matches: [{method: FETCH}]\n    backendRefs: [{name: reviews-v1, port: 9080}]
bad-status|statusCode|apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: [{group: "", kind: Service, name: reviews}]\n  rules:\n  - filters: [{type: RequestRedirect, requestRedirect: {statusCode: 404}}]
bad-duration|timeouts|apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: [{group: "", kind: Service, name: reviews}]\n  rules:\n  - timeouts: {request: tenseconds}\n    backendRefs: [{name: reviews-v1, port: 9080}]
slice-bad-address|addresses|apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: x, labels: {kubernetes.io/service-name: reviews-v1}}\naddressType: IPv4\nendpoints: [{addresses: ["fd00::1"]}]
slice-no-service-label|kubernetes.io/service-name|apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: x}\naddressType: IPv4\nendpoints: [{addresses: [127.0.0.1]}]
enroll-missing-path|enroll|apiVersion: ambit.io/v1alpha1\nkind: Enrollment\nmetadata: {name: ghost}\nspec: {cgroup: /nonexistent/cgroup}
half-good-half-bad|weight|apiVersion: v1\nkind: Service\nmetadata: {name: good-one}\nspec: {clusterIP: 127.96.9.7, ports: [{port: 80}]}\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: reviews}\nspec:\n  parentRefs: [{group: "", kind: Service, name: reviews}]\n  rules:\n  - backendRefs: [{name: reviews-v1, port: 9080, weight: -1}]
delete-missing|not found|DELETE:apiVersion: v1\nkind: Service\nmetadata: {name: never-existed}\nspec: {clusterIP: 127.96.9.8, ports: [{port: 80}]}
EOF
}

run_malformed_case() {
	local name=$1 want=$2 body=$3 verb=apply out rc
	if [[ $body == DELETE:* ]]; then verb=delete; body=${body#DELETE:}; fi
	printf '%b\n' "$body" >"$T/bad-$name.yaml"
	out=$(ambit "$verb" -f "$T/bad-$name.yaml" 2>&1)
	rc=$?
	if [ "$rc" = 1 ] && grep -qF -- "$want" <<<"$out" &&
		grep -qF "bad-$name.yaml" <<<"$out"; then
		ok "malformed $name: exit 1, error names '$want'"
	else
		not_ok "malformed $name: rc=$rc, want '$want' in: $(head -c 300 <<<"$out")"
	fi
}

test_11_malformed_matrix() {
	local before after name want body out v1 n=0
	before=$(ambit get services -o json; ambit get routes -o yaml)
	while IFS='|' read -r name want body; do
		run_malformed_case "$name" "$want" "$body"
		n=$((n + 1))
	done < <(malformed_cases)
	check "matrix has at least 20 cases ($n)" [ "$n" -ge 20 ]
	after=$(ambit get services -o json; ambit get routes -o yaml)
	check "configuration unchanged after every bad input" [ "$before" = "$after" ]
	out=$(client "$PROBE" tcp 127.96.0.10:9080 -n 300 | tally)
	v1=$(($(count_of v1-a "$out") + $(count_of v1-b "$out")))
	check "previous route still fully in force ($out)" \
		all_true '[ "$v1" -ge 180 ] && [ "$v1" -le 240 ] && [ "$(count_of err "$out")" = 0 ] &&
		[ "$(count_of v3-a "$out")" = 0 ]'
}

test_12_bpftool_named_fields() {
	local m n=0 bad=0
	for m in "$PINS"/ambit_*; do
		n=$((n + 1))
		# Every pinned map must carry BTF: bpftool then prints "formatted".
		# Except the sockhash: the kernel takes no BTF for socket maps
		# (its values are sockets); bpftool shows its keys as bytes.
		[ "$(basename "$m")" = ambit_sockhash ] && continue
		if ! bpftool map show pinned "$m" -j | jq -e '.btf_id > 0' >/dev/null; then
			not_ok "map $(basename "$m") has BTF"
			bad=$((bad + 1))
		fi
	done
	check "11 pinned maps ($n)" [ "$n" = 11 ]
	check "every pinned map has BTF" [ "$bad" = 0 ]
	check "ambit_services dump has named fields" bash -c \
		"bpftool map dump pinned '$PINS/ambit_services' -j | jq -e '.[0].formatted.value.versions[0].cum_weight != null and .[0].formatted.key.port != null'"
	check "ambit_endpoints dump has named fields" bash -c \
		"bpftool map dump pinned '$PINS/ambit_endpoints' -j | jq -e '.[0].formatted.key.set_id != null and .[0].formatted.value.addr != null'"
	check "ambit_enroll dump has named fields" bash -c \
		"bpftool map dump pinned '$PINS/ambit_enroll' -j | jq -e '.[0].formatted.key.kind != null'"
	check "ambit_stats dump has named fields" bash -c \
		"bpftool map dump pinned '$PINS/ambit_stats' -j | jq -e '.[0].formatted.values[0].value.connects != null'"
	check "9 pinned links" bash -c "ls '$PINS/links' | grep -c . | grep -qx 9"
}

test_13_netns_enrollment() {
	local out
	check "unenroll the client cgroup" ambit unenroll --name client
	out=$(client "$PROBE" tcp 127.96.0.10:9080 -n 3 | tally)
	check "unenrolled client reaches the VIP itself ($out)" [ "$out" = "untouched=3 err=0" ]
	check "enroll the whole namespace" ambit enroll --netns "$NSPATH" --name pod
	out=$(outsider "$PROBE" tcp 127.96.1.2:9080 -n 5 | tally)
	check "every workload in the namespace is redirected ($out)" [ "$out" = "v2-b=5 err=0" ]
}

test_14_trace_explains() {
	local out
	out=$(ambit trace --netns "$NSPATH" --to 127.96.0.10:9080)
	check "trace names the winning route" grep -q 'route: default/reviews rule 0' <<<"$out"
	check "trace shows the 70% share" grep -q '70.0%  default/reviews-v1:9080' <<<"$out"
	check "trace says L4" grep -q 'mode: L4' <<<"$out"
	out=$(ambit trace --cgroup "$CG/outsider" --to 127.96.0.10:9080)
	check "trace says a non-enrolled cgroup is untouched" grep -q 'not enrolled' <<<"$out"
}

peer_records() {
	bpftool map dump pinned "$PINS/ambit_peers" -j 2>/dev/null | jq length
}

# For wait_for: evaluated on every try, not once before waiting.
no_peer_records() { [ "$(peer_records)" = 0 ]; }
one_peer_record() { [ "$(peer_records)" = 1 ]; }

test_14b_peer_records_leave_with_sockets() {
	local n
	check "no record outlives its socket (thousands of connects so far)" \
		wait_for "peer records to drain" no_peer_records
	client bash -c 'exec 3<>/dev/tcp/127.96.0.10/9080; sleep 2' &
	local pid=$!
	wait_for "a redirected socket" one_peer_record
	n=$(peer_records)
	check "a live redirected socket has one ($n)" [ "$n" = 1 ]
	wait "$pid"
	check "and it goes when the socket closes" wait_for "peer record" no_peer_records
	client "$PROBE" tcp 127.96.0.20:80 -n 20 >/dev/null
	check "refused connects leave none ($(peer_records))" [ "$(peer_records)" = 0 ]
}

refused_start() { # WANT ARGS...: ambitd must exit 1 and say WANT
	local want=$1 out
	shift
	out=$("$AMBITD" --bpffs "$T/never" --socket "$T/never.sock" \
		--state-dir "$T/never-state" "$@" 2>&1)
	[ $? = 1 ] && grep -qF -- "$want" <<<"$out"
}

test_15_daemon_refuses_bad_cgroups() {
	check "refuses the host root cgroup" refused_start "refusing to attach to the root cgroup" --cgroup "$CG_ROOT"
	check "refuses a non-cgroup2 path" refused_start "is not a cgroup v2 directory" --cgroup /tmp
	check "refuses a missing cgroup" refused_start "is not a cgroup v2 directory" --cgroup "$E2E_ID/nonexistent"
	check "needs --cgroup" refused_start "need --cgroup" --verbose
	check "nothing was attached by refused starts" [ ! -e "$T/never" ]
}

test_16_control_socket_root_only() {
	local out
	check "socket is 0600" [ "$(stat -c %a "$SOCK")" = 600 ]
	out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$AMBIT" --socket "$SOCK" get services 2>&1)
	check "non-root user cannot open the socket ($out)" [ $? = 1 ]
	# Open the socket up to show the daemon's own peer-credential check.
	chmod 711 "$T" && chmod 666 "$SOCK"
	out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$AMBIT" --socket "$SOCK" get services 2>&1)
	check "daemon refuses a non-root peer even so ($out)" \
		grep -q 'permission denied: ambitd only serves root' <<<"$out"
	chmod 600 "$SOCK" && chmod 700 "$T"
	check "CLI help works without a daemon" bash -c "'$AMBIT' --socket /nonexistent apply --help | grep -qi 'all or'"
	check "unknown command exits 1" bash -c "! '$AMBIT' --socket '$SOCK' frobnicate 2>/dev/null"
}

e2e_setup
e2e_run
