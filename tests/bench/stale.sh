#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# make bench: what one stale-connection pass costs (ambitd closing the
# connections to endpoints an apply removed, bpf/destroy.bpf.c). Each
# round an enrolled client holds one connection through the "victim"
# Service to 127.0.1.2; the round removes that endpoint (the pass closes
# the connection) and puts it back. The daemon reports the pass's wall
# time (ambit stats: lastPassUs) and its CPU time, the find step's and
# the namespace walks' (lastPassCpuUs, the steadier figure on a shared
# machine). Medians over rounds, with the client's namespace
# also holding:
#   nothing     no other socket
#   unrelated   STALE_CONNS connections never redirected (2 sockets each)
#   redirected  STALE_CONNS connections redirected through another VIP:
#               each has a record the find step reads, none is stale
# and, last, the same removal with nobody connected to the endpoint (the
# find step alone: no namespace is walked).
set -u
source "$(dirname "$0")/../e2e/lib.sh"
CONNS=${STALE_CONNS:-5000}
ROUNDS=${STALE_ROUNDS:-15}

config_yaml() { # config_yaml gone|back: the victim endpoint 127.0.1.2
	local victim='{addresses: [127.0.1.2]}'
	[ "$1" = gone ] && victim=
	cat <<EOF
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: victim}, spec: {clusterIP: 127.96.0.10, ports: [{port: 9080}]}}
- {apiVersion: v1, kind: Service, metadata: {name: held}, spec: {clusterIP: 127.96.0.11, ports: [{port: 9080}]}}
- {apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, metadata: {name: victim-1, labels: {kubernetes.io/service-name: victim}}, addressType: IPv4, endpoints: [$victim]}
- {apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, metadata: {name: held-1, labels: {kubernetes.io/service-name: held}}, addressType: IPv4, endpoints: [{addresses: [127.0.1.1]}]}
EOF
}

median() { sort -n | awk 'NF { v[++n] = $1 } END { print v[int((n + 1) / 2)] }'; }

# The victim: one redirected connection to 127.0.1.2, held until closed.
victim() {
	local out=$T/victim
	rm -f "$out"
	bash -c "$IN_CG" "$NSPATH" "$CG/client" "$PROBE" hold 127.96.0.10:9080 -t 60 \
		>"$out" 2>&1 &
	VICTIM=$!
	wait_for "victim connected" grep -q '^ok ' "$out"
}

# measure with|without: ROUNDS removals (with a victim each time, or
# none); prints "WALL_US CPU_US NAMESPACES CLOSED" (medians, total).
measure() {
	local i st wall=() cpu=() nsn=() closed=0
	for i in $(seq 1 "$ROUNDS"); do
		[ "$1" = with ] && { victim || return 1; }
		apply < <(config_yaml gone) || return 1
		st=$(ambit stats -o json)
		wall+=("$(jq -r .staleConnections.lastPassUs <<<"$st")")
		cpu+=("$(jq -r .staleConnections.lastPassCpuUs <<<"$st")")
		nsn+=("$(jq -r .staleConnections.lastPassNamespaces <<<"$st")")
		[ "$1" = with ] && wait "$VICTIM" 2>/dev/null &&
			grep -q '^closed ' "$T/victim" && closed=$((closed + 1))
		apply < <(config_yaml back) || return 1
	done
	echo "$(printf '%s\n' "${wall[@]}" | median) $(printf '%s\n' "${cpu[@]}" | median)" \
		"$(printf '%s\n' "${nsn[@]}" | median) $closed"
}

# Hold CONNS connections to ADDR from the enrolled client until killed.
hold_many() {
	local out=$T/many.$RANDOM
	bash -c "$IN_CG" "$NSPATH" "$CG/client" "$PROBE" many "$1" "$CONNS" 600 >"$out" 2>&1 &
	BG_PIDS+=($!)
	MANY_PID=$!
	wait_for "$CONNS connections" grep -q '^held\|^err' "$out" && grep -q '^held' "$out"
}

e2e_setup
backend b --mode tcp --listen 127.0.1.1:9080 --listen 127.0.1.2:9080
start_daemon || e2e_fail_setup "daemon"
apply < <(config_yaml back) || e2e_fail_setup "apply"
ambit enroll --cgroup "$CG/client" --name client >/dev/null || e2e_fail_setup "enroll"

nothing=$(measure with)
hold_many 127.0.1.1:9080 || e2e_fail_setup "unrelated connections"
unrelated=$(measure with)
stop_pid "$MANY_PID"
hold_many 127.96.0.11:9080 || e2e_fail_setup "redirected connections"
redirected=$(measure with)
nobody=$(measure without)
stop_pid "$MANY_PID"

row() { # LABEL "WALL CPU NAMESPACES CLOSED"
	# shellcheck disable=SC2086
	set -- "$1" $2
	printf '  %-46s %8s %8s %4s %7s\n' "$1" "$2" "$3" "$4" "$5/$ROUNDS"
}
echo "stale pass, medians of $ROUNDS rounds (microseconds):"
printf '  %-46s %8s %8s %4s %7s\n' "the client's namespace also holds" wall cpu ns closed
row "nothing" "$nothing"
row "$CONNS unrelated connections ($((2 * CONNS)) sockets)" "$unrelated"
row "$CONNS redirected connections ($((2 * CONNS)) sockets)" "$redirected"
row "same, and nobody connected to the endpoint" "$nobody"
for r in "$nothing" "$unrelated" "$redirected"; do
	set -- $r
	check "every victim was closed ($4/$ROUNDS)" [ "$4" = "$ROUNDS" ]
done
echo "$PASSED passed, $FAILED failed"
