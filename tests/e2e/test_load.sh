#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Load and hostile sizes, end to end: 10k keep-alive connections held at
# once through ambit-proxy and 1M L4 connects through the redirect, each
# without an error and without a leak (fd count, RSS, BPF records back
# where they were); a 10 MB request header and absurd apply inputs refused
# with bounded memory. Heavy: tests/run.sh runs it once, in the normal e2e
# tier (not again on the sanitizer build).
source "$(dirname "$0")/lib.sh"

L7_VIP=127.96.7.1
L4_VIP=127.96.8.1
CONNS=${LOAD_CONNS:-10000}
L4_CONNECTS=${LOAD_L4_CONNECTS:-1000000}
CONNBENCH=$OUT/connbench
# RSS allowed to grow between two identical rounds (allocator noise, not a
# leak: 2 MiB is 200 bytes per connection of the 10k, less than one
# connection object, 488 B, or one I/O buffer).
RSS_SLACK_KB=2048

services_yaml() {
	cat <<'EOF'
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: load}, spec: {clusterIP: 127.96.7.1, ports: [{name: http, port: 80}]}}
- {apiVersion: v1, kind: Service, metadata: {name: load-v1}, spec: {clusterIP: 127.96.7.2, ports: [{name: http, port: 80, targetPort: 8080}]}}
- {apiVersion: v1, kind: Service, metadata: {name: conn}, spec: {clusterIP: 127.96.8.1, ports: [{name: tcp, port: 9000}]}}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: load-v1, labels: {kubernetes.io/service-name: load-v1}}
  addressType: IPv4
  ports: [{name: http, port: 8080}]
  endpoints: [{addresses: [127.0.7.1]}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: conn, labels: {kubernetes.io/service-name: conn}}
  addressType: IPv4
  ports: [{name: tcp, port: 9000}]
  endpoints: [{addresses: [127.0.8.1]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: load}
spec:
  parentRefs: [{group: "", kind: Service, name: load}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /load}}]
    backendRefs: [{name: load-v1, port: 80}]
EOF
}

fd_count() { ls "/proc/$1/fd" | wc -l; }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
hwm_kb() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status"; }
# Peak RSS from now on (VmHWM starts again at the current RSS).
reset_hwm() { echo 5 >"/proc/$1/clear_refs"; }
peer_records() { bpftool map dump pinned "$PINS/ambit_peers" -j 2>/dev/null | jq length; }
no_peer_records() { [ "$(peer_records)" = 0 ]; }

test_01_setup() {
	local out
	# Every process started from here inherits this: 10k client sockets
	# in the probe, 10k accepted ones and the upstreams in the proxy.
	ulimit -n "$(ulimit -Hn)"
	check "open-file limit allows 10k connections and more ($(ulimit -n))" \
		[ "$(ulimit -n)" -ge $((CONNS + 4096)) ]
	check "connbench is built" test -x "$CONNBENCH"
	backend load-v1 --listen 127.0.7.1:8080
	backend conn --mode tcp --listen 127.0.8.1:9000
	check "daemon starts with a proxy port" start_daemon --proxy-port "$PROXY_PORT"
	check "services and route apply" apply < <(services_yaml)
	check "enroll client cgroup" ambit enroll --cgroup "$CG/client" --name client
	# Pooled upstream connections go after 200 ms idle, so the proxy's
	# fd count settles within the test instead of after 30 s.
	check "proxy starts" start_proxy --pool-idle-timeout 200
	out=$(ambit get services)
	check "load is L7, conn is L4" \
		bash -c "grep -q ' load .* L7 ' <<<'$out' && grep -q ' conn .* L4 ' <<<'$out'"
}

# One round: CONNS connections, two requests each, all held open at once
# while the proxy's fds are counted; then closed. Prints the probe's line
# and the proxy's fd count while held: "conns=... open=N held_fds=M".
keepalive_round() {
	local hold=$T/hold pid fds
	rm -f "$hold"
	client "$PROBE" load "$L7_VIP:80" -c "$CONNS" -r 2 -P /load/x -H "$hold" \
		>"$T/probe.out" 2>"$T/probe.err" &
	pid=$!
	for _ in $(seq 1 1200); do
		[ -e "$hold" ] || ! kill -0 "$pid" 2>/dev/null && break
		sleep 0.05
	done
	fds=$(fd_count "$PROXY_PID")
	rm -f "$hold"
	wait "$pid"
	echo "$(cat "$T/probe.out") held_fds=$fds"
	head -5 "$T/probe.err" | sed 's/^/# probe: /' >&2
}

# The proxy is back to its idle fd count (connections closed, pool reaped).
proxy_fds_at_most() { [ "$(fd_count "$PROXY_PID")" -le "$1" ]; }
proxy_fds_settle() { wait_for "proxy fds back to $1" proxy_fds_at_most "$1"; }

test_02_10k_keepalive_connections_through_the_proxy() {
	local base out rss1 rss2 want="conns=$CONNS requests=$((CONNS * 2)) ok=$((CONNS * 2)) errors=0 open=$CONNS"
	base=$(fd_count "$PROXY_PID")
	out=$(keepalive_round)
	check "round 1: $CONNS connections held at once, 2 requests each, no error ($out)" \
		[ "${out% held_fds=*}" = "$want" ]
	check "the proxy held them all at once ($out, idle: $base fds)" \
		[ "${out##*held_fds=}" -ge $((base + CONNS)) ]
	proxy_fds_settle "$base"
	check "afterwards the proxy's fds are back to $base ($(fd_count "$PROXY_PID"))" \
		proxy_fds_at_most "$base"
	sleep 2.2 # spare buffers unused for a whole 1 s period are unmapped
	rss1=$(rss_kb "$PROXY_PID")
	out=$(keepalive_round)
	check "round 2, identical: no error ($out)" [ "${out% held_fds=*}" = "$want" ]
	proxy_fds_settle "$base"
	check "the proxy's fds are back to $base again ($(fd_count "$PROXY_PID"))" \
		proxy_fds_at_most "$base"
	sleep 2.2
	rss2=$(rss_kb "$PROXY_PID")
	check "the proxy's RSS is flat across round 2 (${rss1} -> ${rss2} KiB, slack $RSS_SLACK_KB)" \
		[ "$rss2" -le $((rss1 + RSS_SLACK_KB)) ]
	out=$(client curl -sS --max-time 5 "http://$L7_VIP/load/after" | jq -r .hostname)
	check "and still serving ($out)" [ "$out" = load-v1 ]
}

# N connects from two connbench clients at once (one per core); prints
# "OK ERRORS" summed over both.
l4_connects() {
	local n=$1 pid
	client "$CONNBENCH" "$L4_VIP:9000" -n $((n / 2)) -w 0 >"$T/cb.1" &
	pid=$!
	client "$CONNBENCH" "$L4_VIP:9000" -n $((n - n / 2)) -w 0 >"$T/cb.2"
	wait "$pid"
	cat "$T/cb.1" "$T/cb.2" | tr ' ' '\n' |
		awk -F= '$1 == "conns" { ok += $2 } $1 == "errors" { e += $2 }
			 END { print ok + 0, e + 0 }'
}

test_03_1m_l4_connects_through_the_redirect() {
	local fds rss out half=$((L4_CONNECTS / 2))
	out=$(client "$PROBE" tcp "$L4_VIP:9000")
	check "conn VIP redirects to its backend ($out)" grep -q '^ok conn ' <<<"$out"
	# Two identical halves: the daemon after the first (warm) is
	# compared with after the second.
	out=$(l4_connects "$half")
	check "first $half connects, zero errors (ok, errors: $out)" [ "$out" = "$half 0" ]
	fds=$(fd_count "$DAEMON_PID")
	rss=$(rss_kb "$DAEMON_PID")
	out=$(l4_connects "$half")
	check "second $half connects, zero errors (ok, errors: $out)" [ "$out" = "$half 0" ]
	check "the daemon's fds are flat ($fds -> $(fd_count "$DAEMON_PID"))" \
		[ "$(fd_count "$DAEMON_PID")" -le "$fds" ]
	check "the daemon's RSS is flat ($rss -> $(rss_kb "$DAEMON_PID") KiB, slack $RSS_SLACK_KB)" \
		[ "$(rss_kb "$DAEMON_PID")" -le $((rss + RSS_SLACK_KB)) ]
	wait_for "ambit_peers to drain" no_peer_records
	check "no record of a redirected socket is left in ambit_peers ($(peer_records))" \
		no_peer_records
	no_peer_records || bpftool map dump pinned "$PINS/ambit_peers" -j |
		jq -c '.[0:3][] | .formatted // .' | sed 's/^/# left: /'
}

# Send a request head with one N-byte header; print the answer's status
# line (or what happened).
huge_header() {
	client bash -c 'exec 3<>/dev/tcp/'"$L7_VIP"'/80 || exit 1
		{ printf "GET /load HTTP/1.1\r\nHost: a\r\nX-Huge: "
		  head -c "$1" /dev/zero | tr "\0" a
		  printf "\r\n\r\n"; } >&3 2>/dev/null
		timeout 5 head -n1 <&3 | tr -d "\r"' _ "$1"
}

test_04_10mb_header() {
	local out hwm rss
	rss=$(rss_kb "$PROXY_PID")
	reset_hwm "$PROXY_PID"
	out=$(huge_header $((10 << 20)))
	hwm=$(hwm_kb "$PROXY_PID")
	check "a 10 MB request header gets 431 ($out)" \
		[ "$out" = "HTTP/1.1 431 Request Header Fields Too Large" ]
	check "the proxy never buffered it: peak RSS $hwm KiB, $rss before (slack $RSS_SLACK_KB)" \
		[ "$hwm" -le $((rss + RSS_SLACK_KB)) ]
	out=$(client curl -sS --max-time 5 "http://$L7_VIP/load/after" | jq -r .hostname)
	check "the proxy still serves ($out)" [ "$out" = load-v1 ]
}

config_now() { ambit get services -o yaml; ambit get routes -o yaml; ambit get endpoints -o yaml; }

# A million HTTPRoutes, each an ordinary block-style document.
million_routes() {
	awk 'BEGIN { for (i = 0; i < 1000000; i++)
		printf "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r%d}\nspec:\n  parentRefs: [{group: \"\", kind: Service, name: load}]\n  rules:\n  - backendRefs: [{name: load-v1, port: 80}]\n", i }'
}

# refused FILE WANT: `ambit apply -f FILE` exits 1 and says WANT.
refused() {
	local out rc
	out=$(ambit apply -f "$1" 2>&1)
	rc=$?
	echo "$out" | head -c 300
	[ "$rc" = 1 ] && grep -qF -- "$2" <<<"$out"
}

test_05_absurd_apply_inputs() {
	local before rss out rc mb
	before=$(config_now)
	rss=$(rss_kb "$DAEMON_PID")
	reset_hwm "$DAEMON_PID"
	million_routes >"$T/routes-1m.yaml"
	mb=$(du -m "$T/routes-1m.yaml" | cut -f1)
	out=$(refused "$T/routes-1m.yaml" "larger than 64 MiB, refused")
	rc=$?
	check "1M HTTPRoutes ($mb MB): refused, naming the limit ($out)" [ "$rc" = 0 ]
	out=$(refused - "larger than 64 MiB, refused" <"$T/routes-1m.yaml")
	rc=$?
	check "the same on stdin ($out)" [ "$rc" = 0 ]
	rm -f "$T/routes-1m.yaml"
	# Within the size limit: a list 200000 levels deep.
	head -c 200000 /dev/zero | tr '\0' '[' >"$T/deep.yaml"
	out=$(refused "$T/deep.yaml" "deep.yaml:1:65: document 1: nesting deeper than 64 levels")
	rc=$?
	check "200000 levels of nesting: refused at level 65 ($out)" [ "$rc" = 0 ]
	check "the daemon's peak RSS stayed bounded ($(hwm_kb "$DAEMON_PID") KiB, $rss before)" \
		[ "$(hwm_kb "$DAEMON_PID")" -le $((rss + RSS_SLACK_KB)) ]
	check "configuration unchanged" [ "$(config_now)" = "$before" ]
}

e2e_setup
e2e_run
