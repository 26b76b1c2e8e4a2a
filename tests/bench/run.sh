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
COUNT=${BENCH_COUNT:-20000}
ROUNDS=${BENCH_ROUNDS:-3}
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

measure() { # NAME CGROUP ADDR
	local name=$1 cg=$2 addr=$3 r line best=
	for r in $(seq 1 "$ROUNDS"); do
		line=$(in_cg "$cg" "$BENCH" "$addr" -n "$COUNT") || {
			echo "# $name: errors: $line"
		}
		# Keep the round with the median rate.
		best+="$line"$'\n'
	done
	line=$(printf '%s' "$best" | sort -t= -k5 -n | sed -n "$(((ROUNDS + 1) / 2))p")
	RESULTS+=("$name|$line")
	printf '  %-22s %s\n' "$name" "$line"
}

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

report() {
	local base r name line rate p50 p99
	base=${RESULTS[0]#*|}
	echo
	printf '%-22s %10s %8s %8s %8s   %s\n' scenario conn/s p50_us p99_us rate/dir "p99 vs direct"
	for r in "${RESULTS[@]}"; do
		name=${r%%|*}
		line=${r#*|}
		rate=$(field rate "$line")
		p50=$(field p50_us "$line")
		p99=$(field p99_us "$line")
		printf '%-22s %10s %8s %8s %8.3f   %.2fx\n' "$name" "$rate" "$p50" "$p99" \
			"$(echo "$rate / $(field rate "$base")" | bc -l)" \
			"$(echo "$p99 / $(field p99_us "$base")" | bc -l)"
	done
}

ambit_scenario() { # N
	local t0 t1
	gen_services "$1" >"$T/svc-$1.yaml"
	t0=$(date +%s.%N)
	ambit apply -f "$T/svc-$1.yaml" >/dev/null || { echo "# apply $1 failed"; return 1; }
	t1=$(date +%s.%N)
	echo "# applied $1 service ports in $(echo "$t1 - $t0" | bc) s"
	measure "ambit $1" client "$TARGET_VIP:$TARGET_PORT"
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
	} | ip netns exec "$NS" iptables-restore || { echo "# iptables-restore failed"; return 1; }
	measure "iptables $1" plain "$TARGET_VIP:$TARGET_PORT"
	ip netns exec "$NS" iptables -t nat -F
	ip netns exec "$NS" iptables -t nat -X
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
	ip netns exec "$NS" nft -f "$T/nft-$1.conf" || { echo "# nft failed"; return 1; }
	measure "nftables map $1" plain "$TARGET_VIP:$TARGET_PORT"
	ip netns exec "$NS" nft delete table ip kp
}

bench() {
	# A cgroup outside the attached subtree: no program runs for it.
	PLAIN=$CG-plain
	mkdir -p "$PLAIN"
	ip netns exec "$NS" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
	backend bench-a --mode tcp --workers 2 --listen "$BACKEND"
	start_daemon --max-services 262144 || return 1
	ambit enroll --cgroup "$CG/client" --name client >/dev/null
	echo "connect() of $COUNT connections x $ROUNDS rounds (median round)"
	measure "direct" plain "$BACKEND"
	ambit_scenario 1
	ambit_scenario 10000
	ambit_scenario 100000
	stop_daemon
	"$AMBITD" --teardown --bpffs "$PINS" >/dev/null 2>&1
	iptables_scenario 1
	iptables_scenario 1000
	iptables_scenario 10000
	nft_scenario 10000
	nft_scenario 100000
	report
}

# in_cg takes a name under $CG; "plain" is outside the subtree.
in_cg() {
	local cg=$1
	shift
	if [ "$cg" = plain ]; then cg=$PLAIN; else cg=$CG/$cg; fi
	bash -c "$IN_CG" "$NSPATH" "$cg" "$@"
}

e2e_setup
bench
