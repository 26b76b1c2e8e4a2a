#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The shipped settings run the real data plane with no more privilege than
# the systemd unit grants. ambitd is started the way the DaemonSet and the
# unit start it: ambitd-run with the ambit-config ConfigMap's settings
# (paths and cgroup pointed at this test's sandbox), under exactly the
# unit's CapabilityBoundingSet and NoNewPrivileges (setpriv, as systemd
# applies them to root). It must load and attach, supervise ambit-proxy,
# which enters an enrolled pod's network namespace to listen there, and
# serve both L4 and L7 traffic of that pod. Run as root.
#   OUT=.output bash tests/deploy/test_settings_run.sh
source "$(dirname "$0")/../e2e/lib.sh"

POD=$NS-pod
UNIT=$TOP/deploy/systemd/ambitd.service
for t in setpriv kubectl; do
	command -v "$t" >/dev/null || e2e_fail_setup "missing $t (scripts/install-deps.sh)"
done

# CAP_BPF CAP_NET_ADMIN ... -> -all,+bpf,+net_admin,...
unit_caps() {
	sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tr ' ' '\n' | grep . |
		sed 's/^CAP_//' | tr 'A-Z' 'a-z' | sed 's/^/+/' | paste -sd, | sed 's/^/-all,/'
}

# The ConfigMap's data as VAR=value lines (kubectl, offline).
configmap_env() {
	kubectl annotate --local -f "$TOP/deploy/20-configmap.yaml" -o json \
		ambit.io/check- 2>/dev/null | jq -r '.data | to_entries[] | "\(.key)=\(.value)"'
}

# Run a command as a process of cgroup $1 in pod $POD.
in_pod() {
	local cg=$1
	shift
	bash -c "$IN_CG" "/run/netns/$POD" "$CG/$cg" "$@"
}

start_as_unit() {
	local caps env=()
	caps=$(unit_caps)
	mapfile -t env < <(configmap_env)
	[ "${#env[@]}" -gt 0 ] || { echo "# no ConfigMap data"; return 1; }
	echo "# bounding set $caps; settings: ${env[*]}"
	mkdir -p "$CG-proxy"
	# Our sandbox instead of the node's paths; the metrics port of the
	# ConfigMap is in the test namespace, so it takes nothing of the host's.
	bash -c "$IN_CG" "$NSPATH" "$CG-proxy" env -i PATH="$PATH" "${env[@]}" \
		AMBITD="$AMBITD" AMBIT_PROXY_BIN="$PROXY" AMBIT_CGROUP="$CG" \
		AMBIT_BPFFS="$PINS" AMBIT_SOCKET="$SOCK" AMBIT_STATE_DIR="$STATE" \
		AMBIT_PROXY_WORKERS=1 \
		setpriv --bounding-set "$caps" --inh-caps -all --no-new-privs \
		"$TOP/scripts/ambitd-run" >>"$T/ambitd.log" 2>&1 &
	DAEMON_PID=$!
	wait_for "ambitd" test -S "$SOCK" && wait_for "ambitd answering" ambit stats
}

# CapEff of PID, as a set of names via setpriv's own decoding.
cap_eff() {
	awk '/^CapEff/ { print $2 }' "/proc/$1/status"
}

test_01_start() {
	ip netns add "$POD" && EXTRA_NETNS+=("$POD")
	ip -n "$POD" link set lo up
	# Backends on the pod's own loopback: the proxy reaches them from the
	# pod's namespace, L4 connects of the pod too.
	bash -c "$IN_CG" "/run/netns/$POD" "$CG/backends" "$ECHO" --name reviews-v1-pod \
		--listen 127.0.1.1:9080 --ready-file "$T/b1.ready" >"$T/b1.log" 2>&1 &
	BG_PIDS+=($!)
	bash -c "$IN_CG" "/run/netns/$POD" "$CG/backends" "$ECHO" --name reviews-v2-pod \
		--listen 127.0.2.1:9080 --ready-file "$T/b2.ready" >"$T/b2.log" 2>&1 &
	BG_PIDS+=($!)
	check "backends up in the pod" wait_for backends test -e "$T/b1.ready" -a -e "$T/b2.ready"
	if start_as_unit; then
		ok "ambitd-run with the ConfigMap's settings, under the unit's capabilities, starts ambitd"
	else
		not_ok "ambitd-run with the ConfigMap's settings, under the unit's capabilities, starts ambitd"
		STARTED=0 # the log's tail follows at the end
		return
	fi
	check "ambitd really runs with only those capabilities" \
		[ "$(cap_eff "$DAEMON_PID")" = "$(setpriv --bounding-set "$(unit_caps)" \
			awk '/^CapEff/ { print $2 }' /proc/self/status)" ]
	check "configuration applies" apply < <(reviews_yaml; echo ---; canonical_yaml)
	check "the pod is enrolled by its network namespace" \
		ambit enroll --netns "/run/netns/$POD" --namespace default --pod client
	check "ambitd started ambit-proxy" wait_for "proxy pid" test -s "$STATE/ambit-proxy.pid"
	check "the proxy, with the same capabilities, listens inside the pod (setns)" \
		wait_for "pod listener" grep -q "pod /run/netns/$POD: listening" "$T/ambitd.log"
	check "the proxy has no more capabilities than the daemon" \
		[ "$(cap_eff "$(cat "$STATE/ambit-proxy.pid")")" = "$(cap_eff "$DAEMON_PID")" ]
}

STARTED=1

test_02_traffic() {
	local out
	[ "$STARTED" = 1 ] || return 0 # reported above
	out=$(in_pod client curl -sS --max-time 5 http://127.96.1.1:9080/ 2>&1)
	check "L4: the pod reaches reviews-v1 through its VIP ($(jq -r .hostname <<<"$out" 2>/dev/null))" \
		[ "$(jq -r .hostname <<<"$out" 2>/dev/null)" = reviews-v1-pod ]
	out=$(in_pod client curl -sS --max-time 5 -H 'my-favorite-service-mesh: istio' \
		http://127.96.0.10:9080/reviews 2>&1)
	check "L7: the header sends the pod to reviews-v2 ($(jq -r .hostname <<<"$out" 2>/dev/null))" \
		[ "$(jq -r .hostname <<<"$out" 2>/dev/null)" = reviews-v2-pod ]
	check "which sees hello: world" [ "$(jq -r '.headers.hello[0]' <<<"$out" 2>/dev/null)" = world ]
	out=$(in_pod client curl -sS --max-time 5 http://127.96.0.10:9080/reviews 2>&1)
	check "L7: without it, reviews-v1" [ "$(jq -r .hostname <<<"$out" 2>/dev/null)" = reviews-v1-pod ]
}

# A pod known only by a process of it: /proc/PID/ns/net of a root process
# with every capability (what a runtime leaves), which only CAP_SYS_PTRACE
# lets the daemon and the proxy open.
test_03_pod_by_pid() {
	local pid
	[ "$STARTED" = 1 ] || return 0
	ip netns add "$POD-2" && EXTRA_NETNS+=("$POD-2")
	ip -n "$POD-2" link set lo up
	bash -c "$IN_CG" "/run/netns/$POD-2" "$CG/backends" sleep 600 &
	pid=$!
	BG_PIDS+=("$pid")
	check "a pod enrolled as /proc/$pid/ns/net" wait_for "enroll by pid" \
		ambit enroll --netns "/proc/$pid/ns/net" --namespace default --pod by-pid
	check "the proxy listens inside it" wait_for "pod listener" \
		grep -q "pod /proc/$pid/ns/net: listening" "$T/ambitd.log"
}

e2e_setup
e2e_run
