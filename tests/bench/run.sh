#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# make bench: connection setup rate and connect() latency from a client to a
# Service VIP, all in one run inside a throwaway namespace, as ratios to a
# direct connection to the backend (the limit):
#   direct            client in a cgroup with no programs, to the endpoint
#   ambit N           enrolled client, VIP redirected by connect4, with N
#                     service ports in the map
#   iptables N        kube-proxy-style nat OUTPUT DNAT chain, N services,
#                     the measured one last (worst case: a linear chain)
#   nftables map N    one nat rule with a verdict map of N services
# Traffic stays in the namespace: VIPs in 127.96.0.0/16, backend on 127/8.
set -u
source "$(dirname "$0")/../e2e/lib.sh"
BENCH=$OUT/connbench
COUNT=${BENCH_COUNT:-5000}
ROUNDS=${BENCH_ROUNDS:-8}
PIN_SERVER=
PIN_CLIENT=
TARGET_VIP=127.96.255.254
TARGET_PORT=80
BACKEND=127.0.1.1:9080
RESULTS=()

# Service i -> "VIP PORT". 127.96/16 holds 65536 VIPs; above 50000 services
# each Service carries two ports (counts below are service ports).
svc_addr() {
	local i=$1
	echo "127.96.$((i >> 8 & 255)).$((i & 255))"
}

gen_services() { # N service ports, plus the target, as one kind: List
	awk -v n="$1" -v vip="$TARGET_VIP" 'BEGIN {
		svcs = n > 50000 ? int(n / 2) : n; ports = n > 50000 ? 2 : 1
		print "apiVersion: v1\nkind: List\nitems:"
		for (i = 0; i < svcs; i++) {
			printf "- {apiVersion: v1, kind: Service, metadata: {name: s%d}, spec: {clusterIP: 127.96.%d.%d, ports: [", i, int(i / 256) % 256, i % 256
			for (p = 0; p < ports; p++)
				printf "%s{name: p%d, port: %d, targetPort: 9080}", p ? ", " : "", p, 80 + p
			print "]}}"
		}
		printf "- {apiVersion: v1, kind: Service, metadata: {name: target}, spec: {clusterIP: %s, ports: [{port: 80, targetPort: 9080}]}}\n", vip
		print "- {apiVersion: discovery.k8s.io/v1, kind: EndpointSlice, metadata: {name: target-1, labels: {kubernetes.io/service-name: target}}, addressType: IPv4, endpoints: [{addresses: [127.0.1.1]}]}"
	}'
}

# One connbench run pinned to the client CPU: prints its result line.
run_bench() { # NETNS CGROUP ADDR
	local ns=$1 cg=$2
	shift 2
	bash -c "$IN_CG" "/run/netns/$ns" "$cg" $PIN_CLIENT "$BENCH" "$@" -n "$COUNT" -w 500
}

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

median() { sort -n | awk 'NF { v[++n] = $1 } END { print v[int((n + 1) / 2)] }'; }

# Alternate direct and scenario runs, swapping which goes first each round
# (the second of two back-to-back runs is measurably slower here), so drift
# and order hit both alike; keep the median of each figure and of the
# per-round ratios.
measure() { # NAME NETNS CGROUP ADDR
	local name=$1 ns=$2 cg=$3 addr=$4 r d x rates= p50s= p99s= rr= pr=
	for r in $(seq 1 "$ROUNDS"); do
		if ((r % 2)); then
			d=$(run_bench "$NS" "$PLAIN" "$BACKEND")
			x=$(run_bench "$ns" "$cg" "$addr") || echo "# $name: errors: $x"
		else
			x=$(run_bench "$ns" "$cg" "$addr") || echo "# $name: errors: $x"
			d=$(run_bench "$NS" "$PLAIN" "$BACKEND")
		fi
		rates+="$(field rate "$x")"$'\n'
		p50s+="$(field p50_us "$x")"$'\n'
		p99s+="$(field p99_us "$x")"$'\n'
		rr+="$(echo "$(field rate "$x") / $(field rate "$d")" | bc -l)"$'\n'
		pr+="$(echo "$(field p99_us "$x") / $(field p99_us "$d")" | bc -l)"$'\n'
	done
	RESULTS+=("$(printf '%-22s %10.0f %8.1f %8.1f %9.3f %9.2fx' "$name" \
		"$(median <<<"$rates")" "$(median <<<"$p50s")" "$(median <<<"$p99s")" \
		"$(median <<<"$rr")" "$(median <<<"$pr")")")
	echo "  ${RESULTS[-1]}"
}

report() {
	echo
	echo "$ROUNDS rounds of $COUNT connects each, alternating with direct; medians"
	printf '%-22s %10s %8s %8s %9s %10s\n' scenario conn/s p50_us p99_us "rate/dir" "p99/dir"
	printf '%s\n' "${RESULTS[@]}"
}

ambit_scenario() { # N
	local t0 t1
	gen_services "$1" >"$T/svc-$1.yaml"
	t0=$(date +%s.%N)
	ambit apply -f "$T/svc-$1.yaml" >/dev/null || { echo "# apply $1 failed"; return 1; }
	t1=$(date +%s.%N)
	echo "# applied $1 service ports in $(echo "$t1 - $t0" | bc) s"
	measure "ambit $1" "$NS" "$CG/client" "$TARGET_VIP:$TARGET_PORT"
}

iptables_scenario() { # N
	local i
	{
		echo "*nat"
		echo ":KUBE-SERVICES - [0:0]"
		for ((i = 0; i < $1; i++)); do echo ":KUBE-SVC-$i - [0:0]"; done
		echo "-A OUTPUT -j KUBE-SERVICES"
		for ((i = 0; i < $1; i++)); do
			echo "-A KUBE-SERVICES -d $(svc_addr "$i")/32 -p tcp --dport 80 -j KUBE-SVC-$i"
			echo "-A KUBE-SVC-$i -p tcp -j DNAT --to-destination $BACKEND"
		done
		echo "-A KUBE-SERVICES -d $TARGET_VIP/32 -p tcp --dport 80 -j DNAT --to-destination $BACKEND"
		echo "COMMIT"
	} | ip netns exec "$KP" iptables-restore || { echo "# iptables-restore failed"; return 1; }
	measure "iptables $1" "$KP" "$PLAIN" "$TARGET_VIP:$TARGET_PORT"
	ip netns exec "$KP" iptables -t nat -F
	ip netns exec "$KP" iptables -t nat -X
}

nft_scenario() { # N
	local i
	{
		echo "table ip kp {"
		echo " map svc { type ipv4_addr . inet_service : ipv4_addr . inet_service; elements = {"
		for ((i = 0; i < $1; i++)); do echo "  $(svc_addr "$i") . 80 : 127.0.1.1 . 9080,"; done
		echo "  $TARGET_VIP . 80 : 127.0.1.1 . 9080 } }"
		echo " chain out { type nat hook output priority -100; dnat ip addr . port to ip daddr . tcp dport map @svc; }"
		echo "}"
	} >"$T/nft-$1.conf"
	ip netns exec "$KP" nft -f "$T/nft-$1.conf" || { echo "# nft failed"; return 1; }
	measure "nftables map $1" "$KP" "$PLAIN" "$TARGET_VIP:$TARGET_PORT"
	ip netns exec "$KP" nft delete table ip kp
}

# A second namespace for kube-proxy-style rules: they would slow every
# connection in the first one, the direct baseline included.
setup_kp_netns() {
	KP=$NS-kp
	ip netns add "$KP" || return 1
	ip -n "$KP" link set lo up
	bash -c "$IN_CG" "/run/netns/$KP" "$CG/backends" $PIN_SERVER "$ECHO" \
		--name kp --mode tcp --listen "$BACKEND" --ready-file "$T/kp.ready" \
		>"$T/echo.kp.log" 2>&1 &
	BG_PIDS+=($!)
	wait_for "kp backend" test -e "$T/kp.ready"
}

bench() {
	# A cgroup outside the attached subtree: no program runs for it.
	PLAIN=$CG-plain
	mkdir -p "$PLAIN"
	if [ "$(nproc)" -ge 2 ]; then
		PIN_SERVER="taskset -c 0"
		PIN_CLIENT="taskset -c 1"
	fi
	bash -c "$IN_CG" "$NSPATH" "$CG/backends" $PIN_SERVER "$ECHO" --name bench-a \
		--mode tcp --listen "$BACKEND" --ready-file "$T/bench.ready" \
		>"$T/echo.bench.log" 2>&1 &
	BG_PIDS+=($!)
	wait_for "backend" test -e "$T/bench.ready" || return 1
	setup_kp_netns || return 1
	start_daemon --max-services 262144 || return 1
	ambit enroll --cgroup "$CG/client" --name client >/dev/null
	echo "connect(): client on CPU 1, backend on CPU 0 (2-core machine)"
	measure "direct" "$NS" "$PLAIN" "$BACKEND"
	ambit_scenario 1
	ambit_scenario 10000
	ambit_scenario 100000
	iptables_scenario 1
	iptables_scenario 1000
	iptables_scenario 10000
	nft_scenario 10000
	nft_scenario 100000
	report
}

e2e_setup
bench
