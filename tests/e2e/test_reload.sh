#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Hitless proxy replacement: a planned reload or upgrade hands the
# listening sockets to the new ambit-proxy (fd passing) and the old one
# drains, so under wrk load not one connection is refused and not one
# request fails. Both ways: `ambit proxy reload` with the proxy supervised
# by ambitd, and a second ambit-proxy started by hand.
source "$(dirname "$0")/lib.sh"

URL=http://127.96.0.10:9080/

served() {
	client curl -sS --max-time 3 "$URL" 2>/dev/null | grep -q '"hostname":"reviews-v'
}

# wrk's summary: requests done, and every kind of error it counts.
wrk_errors() { # wrk_errors LOG -> "requests N errors N"
	awk '/requests in/ { r = $1 }
	     /Socket errors:/ { gsub(",", ""); e += $4 + $6 + $8 + $10 }
	     /Non-2xx or 3xx/ { e += $NF }
	     END { printf "requests %d errors %d\n", r, e + 0 }' "$1"
}

# Fresh connections, one request each, counted: none may be refused.
fresh_connections() { # fresh_connections SECONDS OUT
	client bash -c 'end=$((SECONDS + $1)); ok=0; bad=0
		while [ $SECONDS -lt $end ]; do
			if curl -s -o /dev/null --max-time 5 -w "%{http_code}" "$0" | grep -q 200
			then ok=$((ok + 1)); else bad=$((bad + 1)); fi
		done; echo "ok $ok bad $bad"' "$URL" "$1" >"$2"
}

# Load for SECS while RELOAD_CMD runs N times, a second apart.
under_load() { # under_load NAME N CMD...
	local name=$1 n=$2 i wrk_pid fresh_pid
	shift 2
	client wrk -t 2 -c 32 -d $((n + 3))s --latency "$URL" >"$T/wrk.$name" 2>&1 &
	wrk_pid=$!
	fresh_connections $((n + 2)) "$T/fresh.$name" &
	fresh_pid=$!
	sleep 1
	for i in $(seq 1 "$n"); do
		"$@" >>"$T/reload.$name" 2>&1 || echo "reload $i failed" >>"$T/reload.$name"
		sleep 1
	done
	wait "$wrk_pid" "$fresh_pid"
}

load_was_clean() { # load_was_clean NAME
	local w f
	w=$(wrk_errors "$T/wrk.$1")
	f=$(cat "$T/fresh.$1")
	echo "# $1: wrk $w; fresh connections $f"
	[ "$(echo "$w" | awk '{ print $4 }')" = 0 ] &&
		[ "$(echo "$w" | awk '{ print $2 }')" -gt 1000 ] &&
		[ "$(echo "$f" | awk '{ print $4 }')" = 0 ] &&
		[ "$(echo "$f" | awk '{ print $2 }')" -gt 10 ]
}

gone() { ! kill -0 "$1" 2>/dev/null; }

test_01_setup() {
	backend reviews-v2-5d4b-a --listen 127.0.2.1:9080
	backend reviews-v1-7f9c-a --listen 127.0.1.1:9080
	check "daemon starts with --proxy-bin" start_supervising 2
	check "configuration applies" apply < <(reviews_yaml; echo ---; canonical_yaml)
	check "enroll client cgroup" ambit enroll --cgroup "$CG/client"
	check "requests are served through the supervised proxy" wait_for "proxy" served
	check "the proxy offers its listeners for a successor" test -S "$STATE/ambit-proxy.sock"
}

test_02_supervised_reload_under_load() {
	local first last
	first=$(proxy_pid)
	under_load supervised 3 ambit proxy reload
	last=$(proxy_pid)
	sed 's/^/#   /' "$T/reload.supervised"
	check "three reloads, each answered with a takeover" \
		[ "$(grep -c 'took over from pid' "$T/reload.supervised")" = 3 ]
	check "zero refused connections, zero failed requests across them" \
		load_was_clean supervised
	check "a new proxy serves ($first -> $last)" [ "$first" != "$last" ]
	check "the replaced proxies drained and exited" wait_for "old gone" gone "$first"
	check "one proxy left in the test cgroup" \
		wait_for "one proxy" bash -c "[ \$(wc -l < '$CG-proxy/cgroup.procs') = 2 ]"
	check "the new one still serves" served
}

test_03_manual_takeover_under_load() {
	local supervised
	supervised=$(proxy_pid)
	# An operator (or a package upgrade) starts another proxy by hand.
	under_load manual 1 start_proxy
	check "the hand-started proxy took over" grep -q 'took over [0-9]* listening sockets' "$T/proxy.log"
	check "zero refused connections, zero failed requests" load_was_clean manual
	check "the supervised one handed off and exited" wait_for "old gone" gone "$supervised"
	stop_proxy
}

# test_03's takeover left the supervisor without its proxy: it starts one
# again, and a reload works on that one.
test_04_supervisor_recovers_after_a_takeover() {
	local out
	check "after the takeover the supervisor runs a proxy again" wait_for "proxy" served
	out=$(ambit proxy reload 2>&1)
	check "ambit proxy reload works again ($out)" grep -q 'took over from pid' <<<"$out"
	# Through $AMBIT: bash -c does not see the ambit() shell function.
	check "bad usage is refused" bash -c "! '$AMBIT' --socket '$SOCK' proxy restart-all 2>/dev/null"
}

kill_proxy() { kill -9 "$(proxy_pid)"; }

# kill -9 under load: the daemon keeps copies of the proxy's listeners and
# hands them to the proxy it restarts, so what arrives meanwhile waits in
# the kernel's queue. Only requests in flight at the kill may fail: at most
# one per wrk connection (32) and one for the fresh-connection loop.
test_05_crash_fails_only_in_flight() {
	local before w f
	check "a supervised proxy serves" wait_for "proxy" served
	sleep 1.5 # the daemon refreshes its copies every second
	before=$(proxy_pid)
	under_load crash 1 kill_proxy
	w=$(wrk_errors "$T/wrk.crash")
	f=$(cat "$T/fresh.crash")
	echo "# crash: wrk $w; fresh connections $f"
	check "the crashed proxy was replaced" [ "$(proxy_pid)" != "$before" ]
	check "the new one got the daemon's copies of the listeners" \
		grep -qs 'inherited [1-9][0-9]* listening sockets at start' "$T/proxy.log" "$T/ambitd.log"
	check "failed requests ($(echo "$w" | awk '{ print $4 }')) <= 32 in flight" \
		[ "$(echo "$w" | awk '{ print $4 }')" -le 32 ]
	check "fresh connections: at most the one in flight failed" \
		[ "$(echo "$f" | awk '{ print $4 }')" -le 1 ]
	check "wrk went on after the crash" [ "$(echo "$w" | awk '{ print $2 }')" -gt 1000 ]
	check "served after the crash" served
}

# Listeners bind only where designed: the proxy on loopback port
# $PROXY_PORT (v4 and v6), nothing else reachable; its handoff socket is
# root's alone.
test_06_listeners_only_where_designed() {
	local pid listens
	pid=$(proxy_pid)
	listens=$(nsenter --net="$NSPATH" ss -Hltnp | grep "pid=$pid," | awk '{ print $4 }' | sort -u | tr '\n' ' ')
	echo "# proxy listens on: $listens"
	check "the proxy listens on 127.0.0.1:$PROXY_PORT and [::1]:$PROXY_PORT only" \
		[ "$listens" = "127.0.0.1:$PROXY_PORT [::1]:$PROXY_PORT " ]
	check "the proxy has no UDP socket" \
		bash -c "! nsenter --net='$NSPATH' ss -Huanp | grep -q 'pid=$pid,'"
	check "the handoff socket is root's, mode 0600" \
		[ "$(stat -c '%U %a' "$STATE/ambit-proxy.sock")" = "root 600" ]
}

e2e_setup
e2e_run
