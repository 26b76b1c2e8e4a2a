#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# make bench, L7: HTTP/1.1 keep-alive requests/s and p50/p99 latency for the
# canonical route (my-favorite-service-mesh: istio -> reviews-v2 with
# hello: world added, everything else -> reviews-v1), all in one run inside a
# throwaway namespace:
#   direct    wrk -> ambit-echo (reviews-v2) on 127.0.2.1:9080: the limit
#   ambit     wrk in an enrolled cgroup -> the reviews VIP 127.96.0.10:9080
#             -> BPF connect redirect -> ambit-proxy -> backend
#   haproxy   wrk -> HAProxy on 127.0.5.1:9080 doing the same routing
#   nginx     wrk -> nginx on 127.0.6.1:9080 doing the same routing
#
# Requests: by default half carry the header and half do not (alternating,
# so the proxies route to both versions); L7_MIX=istio sends it on every
# request, L7_MIX=plain on none. The direct run sends the same requests to
# one backend.
#
# Placement (2 cores): the system under test gets CPU 0, the load generator
# CPU 1. Every proxy runs one worker (ambit-proxy --workers 1, HAProxy
# nbthread 1, nginx worker_processes 1) pinned to CPU 0, and the two
# ambit-echo backends (--workers 1) are pinned to CPU 0 as well, so a proxy
# and its backends share that one core. wrk (-t1) alone has CPU 1, so it
# should never be the bottleneck (its CPU use is reported). Besides the raw
# rates, the table gives each proxy's CPU use (from /proc, in cores) and
# requests/s per proxy core = rate / proxy CPU: the per-core efficiency.
#
# Rounds run every scenario once, rotating which goes first, so drift hits
# all alike; figures are medians over rounds, ratios are per round against
# that round's direct run, then medians.
#
# Knobs: L7_ROUNDS (3), L7_DURATION seconds per run (5), L7_CONNS (32),
# L7_MIX (mix|istio|plain), L7_PROXY_WORKERS (1), PIN_PROXY (0),
# PIN_BACKEND (0), PIN_CLIENT (1), L7_ONLY (scenarios to run; direct is
# always added), L7_PERF=1 also samples ambit-proxy with perf record
# (cpu-clock) during an extra run and prints the top symbols, L7_SYSCALLS=1
# counts each proxy's system calls per request with strace.
# The route is lib.sh's canonical_yaml (tests/data/canonical-route.yaml).
# Exit status 1 when a contender routes wrongly, wrk fails or ambit-proxy
# crashes (it is restarted and the run goes on; crashed rounds do not count).
# L7_NO_SOCKMAP=1 runs ambitd without the sk_msg fast path (--no-sockmap).
# Run standalone as root:  OUT=$PWD/.output bash tests/bench/l7.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$HERE/../e2e/lib.sh"
ROUNDS=${L7_ROUNDS:-3}
DURATION=${L7_DURATION:-5}
CONNS=${L7_CONNS:-32}
MIX=${L7_MIX:-mix}
WORKERS=${L7_PROXY_WORKERS:-1}
PIN_PROXY=${PIN_PROXY-0}
PIN_BACKEND=${PIN_BACKEND-0}
PIN_CLIENT=${PIN_CLIENT-1}
V1=127.0.1.1:9080
V2=127.0.2.1:9080
VIP=127.96.0.10:9080
HAPROXY_ADDR=127.0.5.1:9080
NGINX_ADDR=127.0.6.1:9080
URL_PATH=/reviews/1
read -ra SCENARIOS <<<"${L7_ONLY:-direct ambit haproxy nginx}"
[[ " ${SCENARIOS[*]} " == *" direct "* ]] || SCENARIOS=(direct "${SCENARIOS[@]}")
declare -A ADDR=([direct]=$V2 [ambit]=$VIP [haproxy]=$HAPROXY_ADDR [nginx]=$NGINX_ADDR)
declare -A SERVER_PIDS=()     # scenario -> pids whose CPU counts as the proxy's
# per "scenario,round"; read through namerefs in med_of and ratio_med
# shellcheck disable=SC2034
declare -A RATE P50 P99 PXC BEC WKC PERCORE CPUS
BACKEND_PIDS=()
BAD=0
CRASHES=0
HZ=$(getconf CLK_TCK)

PIN_P=() PIN_B=() PIN_C=() # taskset prefixes, set in bench()

# ---- setup -------------------------------------------------------------------

l7_require() {
	local t
	for t in wrk haproxy nginx taskset curl jq bc; do
		command -v "$t" >/dev/null 2>&1 ||
			e2e_fail_setup "missing $t (scripts/install-deps.sh)"
	done
	[ -x "$PROXY" ] || e2e_fail_setup "missing $PROXY (make)"
}

start_backend() { # NAME ADDR
	local ready=$T/ready.$1
	bash -c "$IN_CG" "$NSPATH" "$CG/backends" "${PIN_B[@]}" "$ECHO" \
		--name "$1" --listen "$2" --workers 1 --ready-file "$ready" \
		>"$T/echo.$1.log" 2>&1 &
	BG_PIDS+=($!)
	BACKEND_PIDS+=($!)
	wait_for "backend $1" test -e "$ready"
}

# ambit-proxy as lib.sh's start_proxy starts it, but pinned and with
# $WORKERS workers.
start_ambit_proxy() {
	mkdir -p "$CG-proxy"
	rm -f "$T/proxy.ready"
	bash -c "$IN_CG" "$NSPATH" "$CG-proxy" "${PIN_P[@]}" "$PROXY" \
		--port "$PROXY_PORT" --config "$STATE/config.yaml" --bpffs "$PINS" \
		--workers "$WORKERS" --ready-file "$T/proxy.ready" >>"$T/proxy.log" 2>&1 &
	PROXY_PID=$!
	SERVER_PIDS[ambit]=$PROXY_PID
	wait_for "ambit-proxy" test -e "$T/proxy.ready" || { tail -20 "$T/proxy.log"; return 1; }
}

fill() { # TEMPLATE LISTEN
	sed -e "s|@T@|$T|g" -e "s|@LISTEN@|$2|g" -e "s|@V1@|$V1|g" -e "s|@V2@|$V2|g" \
		-e "s|@THREADS@|$WORKERS|g" -e "s|@WORKERS@|$WORKERS|g" "$1"
}

listening() { # ADDR: something accepts there (inside the namespace)
	nsenter --net="$NSPATH" bash -c "exec 3<>/dev/tcp/${1%:*}/${1#*:}" 2>/dev/null
}

start_haproxy() {
	mkdir -p "$T/haproxy"
	fill "$HERE/l7-haproxy.cfg.in" "$HAPROXY_ADDR" >"$T/haproxy/haproxy.cfg"
	haproxy -c -q -f "$T/haproxy/haproxy.cfg" || { echo "# haproxy config invalid"; return 1; }
	bash -c "$IN_CG" "$NSPATH" "$CG-proxy" "${PIN_P[@]}" haproxy -db \
		-f "$T/haproxy/haproxy.cfg" >"$T/haproxy/haproxy.log" 2>&1 &
	BG_PIDS+=($!)
	SERVER_PIDS[haproxy]=$!
	wait_for "haproxy" listening "$HAPROXY_ADDR" || { tail "$T/haproxy/haproxy.log"; return 1; }
}

start_nginx() {
	mkdir -p "$T/nginx"
	fill "$HERE/l7-nginx.conf.in" "$NGINX_ADDR" >"$T/nginx/nginx.conf"
	bash -c "$IN_CG" "$NSPATH" "$CG-proxy" "${PIN_P[@]}" nginx -q \
		-e "$T/nginx/error.log" -p "$T/nginx/" -c "$T/nginx/nginx.conf" \
		-g 'daemon off;' >"$T/nginx/nginx.log" 2>&1 &
	BG_PIDS+=($!)
	SERVER_PIDS[nginx]=$! # the master; its workers are found at sample time
	wait_for "nginx" listening "$NGINX_ADDR" || { tail "$T/nginx/error.log"; return 1; }
}

# ---- checks: every contender routes the same way ------------------------------

cg_of() { [ "$1" = ambit ] && echo "$CG/client" || echo "$CG-plain"; }

curl_json() { # SCENARIO [CURL ARGS]
	local s=$1
	shift
	bash -c "$IN_CG" "$NSPATH" "$(cg_of "$s")" curl -sS --max-time 5 "$@" \
		"http://${ADDR[$s]}$URL_PATH"
}

check_routing() { # SCENARIO
	local s=$1 a b
	a=$(curl_json "$s" -H 'my-favorite-service-mesh: istio')
	b=$(curl_json "$s")
	if [ "$s" = direct ]; then
		[ "$(jq -r .hostname <<<"$a" 2>/dev/null)" = reviews-v2 ] && return 0
	elif [ "$(jq -r .hostname <<<"$a" 2>/dev/null)" = reviews-v2 ] &&
		[ "$(jq -r '.headers.hello[0]' <<<"$a" 2>/dev/null)" = world ] &&
		[ "$(jq -r .hostname <<<"$b" 2>/dev/null)" = reviews-v1 ] &&
		[ "$(jq -r '.headers.hello' <<<"$b" 2>/dev/null)" = null ]; then
		return 0
	fi
	echo "# $s: routing check FAILED"
	echo "#   with header:    $a"
	echo "#   without header: $b"
	return 1
}

# ---- measuring ---------------------------------------------------------------

write_lua() {
	cat >"$T/l7.lua" <<'LUA'
-- One wrk thread: alternate requests with and without the header (L7_MIX=
-- mix), or send it always (istio) or never (plain). done() prints one line
-- of exact figures; latencies are in microseconds, wrk_cpu in CPU seconds.
local mix = os.getenv("L7_MIX") or "mix"
local n = 0
local with, without

function init(args)
	with = wrk.format(nil, nil, { ["my-favorite-service-mesh"] = "istio" })
	without = wrk.format()
end

function request()
	n = n + 1
	if mix == "istio" or (mix == "mix" and n % 2 == 0) then
		return with
	end
	return without
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"rate=%.1f p50_us=%d p99_us=%d requests=%d errors=%d non2xx=%d wrk_cpu=%.3f\n",
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50), latency:percentile(99), summary.requests,
		e.connect + e.read + e.write + e.timeout, e.status, os.clock()))
end
LUA
}

# Sum of utime+stime clock ticks of PIDS and their children (nginx workers).
ticks() {
	local p kids=
	for p in "$@"; do
		kids+=" $(cat /proc/"$p"/task/*/children 2>/dev/null)"
	done
	for p in "$@" $kids; do
		# fields after the ")" of comm: 12 and 13 are utime and stime
		sed 's/.*) //' /proc/"$p"/stat 2>/dev/null
	done | awk '{ t += $12 + $13 } END { print t + 0 }'
}

proxy_ticks() { # SCENARIO
	if [ "$1" = direct ]; then echo 0; else ticks "${SERVER_PIDS[$1]}"; fi
}

run_wrk() { # SCENARIO SECONDS: prints the Lua result line
	local s=$1
	L7_MIX=$MIX bash -c "$IN_CG" "$NSPATH" "$(cg_of "$s")" "${PIN_C[@]}" \
		wrk -t1 -c"$CONNS" -d"$2"s --latency -s "$T/l7.lua" \
		"http://${ADDR[$s]}$URL_PATH" 2>&1 | grep '^rate=' || echo "rate=0 failed"
}

# "cpuN busy steal total" clock ticks per CPU (busy without steal).
cpu_sample() {
	awk '/^cpu[0-9]/ { b = $2 + $3 + $4 + $7 + $8; print $1, b, $9, b + $9 + $5 + $6 }' /proc/stat
}

cpu_busy() { # BEFORE AFTER: "cpu0 97% st 1%, cpu1 64% st 0%"
	join <(echo "$1") <(echo "$2") | awk '{ t = $7 - $4; if (!t) t = 1
		printf "%s%s %d%% st %d%%", (NR > 1 ? ", " : ""), $1, 100 * ($5 - $2) / t, 100 * ($6 - $3) / t }'
}

field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

median() { sort -g | awk 'NF { v[++n] = $1 } END { print n ? v[int((n + 1) / 2)] : 0 }'; }

div() { # A B: A/B, or 0 when B is 0
	echo "if ($2 == 0) 0 else $1 / $2" | bc -l
}

proxy_alive() { kill -0 "$PROXY_PID" 2>/dev/null; }

# ambit-proxy died: show why, count it, start a new one so the run goes on.
proxy_crashed() { # WHEN
	CRASHES=$((CRASHES + 1))
	BAD=1
	echo "# ambit-proxy died ($1); its log (tail):"
	{ grep -m1 -A40 'ERROR: .*Sanitizer' "$T/proxy.log" || tail -3 "$T/proxy.log"; } |
		sed 's/^/#   /'
	wait "$PROXY_PID" 2>/dev/null
	mv "$T/proxy.log" "$T/proxy.log.$CRASHES"
	echo "# restarting ambit-proxy"
	start_ambit_proxy
}

measure_one() { # SCENARIO ROUND
	local s=$1 r=$2 px0 be0 px1 be1 x t0 t1 el c0 c1
	if [ "$s" = ambit ] && ! proxy_alive; then
		proxy_crashed "before round $r"
	fi
	c0=$(cpu_sample)
	px0=$(proxy_ticks "$s")
	be0=$(ticks "${BACKEND_PIDS[@]}")
	t0=$(date +%s.%N)
	x=$(run_wrk "$s" "$DURATION")
	t1=$(date +%s.%N)
	px1=$(proxy_ticks "$s")
	be1=$(ticks "${BACKEND_PIDS[@]}")
	c1=$(cpu_sample)
	el=$(echo "$t1 - $t0" | bc -l)
	if [ "$(field errors "$x")" != 0 ] || [ "$(field non2xx "$x")" != 0 ]; then
		echo "# $s round $r: $x"
	fi
	if [ "$s" = ambit ] && ! proxy_alive; then
		# its CPU time is gone with it: this round does not count
		echo "# ambit round $r discarded"
		proxy_crashed "during round $r"
		return
	fi
	if [ -z "$(field p50_us "$x")" ]; then
		echo "# $s round $r: wrk failed"
		BAD=1
		return
	fi
	CPUS[$s,$r]=$(cpu_busy "$c0" "$c1")
	RATE[$s,$r]=$(field rate "$x")
	P50[$s,$r]=$(field p50_us "$x")
	P99[$s,$r]=$(field p99_us "$x")
	# CPU in cores over the wrk run (the window includes wrk's start-up,
	# a few ms: it slightly understates, alike for every scenario)
	PXC[$s,$r]=$(echo "($px1 - $px0) / $HZ / $el" | bc -l)
	BEC[$s,$r]=$(echo "($be1 - $be0) / $HZ / $el" | bc -l)
	WKC[$s,$r]=$(echo "$(field wrk_cpu "$x") / $DURATION" | bc -l)
	if [ "$s" != direct ]; then
		# shellcheck disable=SC2034 # read through a nameref in med_of
		PERCORE[$s,$r]=$(div "${RATE[$s,$r]}" "${PXC[$s,$r]}")
	fi
	printf '#   round %d %-8s %7.0f req/s p50 %5d us p99 %6d us | cores: proxy %.2f backends %.2f wrk %.2f | busy %s\n' \
		"$r" "$s" "${RATE[$s,$r]}" "${P50[$s,$r]}" "${P99[$s,$r]}" \
		"${PXC[$s,$r]}" "${BEC[$s,$r]}" "${WKC[$s,$r]}" "${CPUS[$s,$r]}"
}

med_of() { # ARRAY-NAME SCENARIO
	local -n a=$1
	local r
	for r in $(seq 1 "$ROUNDS"); do echo "${a[$2,$r]:-}"; done | median
}

ratio_med() { # ARRAY-NAME SCENARIO: median over rounds of scenario/direct
	local -n a=$1
	local r
	for r in $(seq 1 "$ROUNDS"); do
		[ -n "${a[$2,$r]:-}" ] && [ -n "${a[direct,$r]:-}" ] && div "${a[$2,$r]}" "${a[direct,$r]}"
	done | median
}

valid_n() { # SCENARIO: rounds that count, of all
	local r n=0
	for r in $(seq 1 "$ROUNDS"); do [ -n "${RATE[$1,$r]:-}" ] && n=$((n + 1)); done
	echo "$n/$ROUNDS"
}

report() {
	local s rate p50 p99 rr pr pxc bec wkc pc a h
	echo
	echo "L7, canonical route, wrk -t1 -c$CONNS keep-alive, ${DURATION}s runs, $ROUNDS rounds; requests: $MIX"
	echo "proxies: 1 worker each on CPU ${PIN_PROXY:-any} with the backends (CPU ${PIN_BACKEND:-any}); wrk on CPU ${PIN_CLIENT:-any}"
	echo "medians over rounds; ratios per round against that round's direct run, then medians"
	echo "cpu columns in cores; per_core = req/s / proxy cpu. direct has CPU ${PIN_BACKEND:-?} for its backend"
	echo "alone; behind a proxy, that core serves the proxy and the backends together"
	printf '%-8s %9s %7s %7s %8s %8s %6s %6s %6s %9s %6s\n' scenario req/s p50_us p99_us \
		"rate/dir" "p99/dir" px_cpu be_cpu wrk_cpu per_core rounds
	for s in "${SCENARIOS[@]}"; do
		rate=$(med_of RATE "$s") p50=$(med_of P50 "$s") p99=$(med_of P99 "$s")
		rr=$(ratio_med RATE "$s") pr=$(ratio_med P99 "$s")
		pxc=$(med_of PXC "$s") bec=$(med_of BEC "$s") wkc=$(med_of WKC "$s")
		pc=$(med_of PERCORE "$s")
		if [ "$s" = direct ]; then
			printf '%-8s %9.0f %7d %7d %8.3f %7.2fx %6s %6.2f %6.2f %9s %6s\n' "$s" \
				"$rate" "$p50" "$p99" "$rr" "$pr" - "$bec" "$wkc" - "$(valid_n "$s")"
		else
			printf '%-8s %9.0f %7d %7d %8.3f %7.2fx %6.2f %6.2f %6.2f %9.0f %6s\n' "$s" \
				"$rate" "$p50" "$p99" "$rr" "$pr" "$pxc" "$bec" "$wkc" "$pc" "$(valid_n "$s")"
		fi
	done
	[[ " ${SCENARIOS[*]} " == *" ambit "* && " ${SCENARIOS[*]} " == *" haproxy "* ]] || return 0
	echo
	echo "targets:"
	if [ "$(valid_n ambit)" = "0/$ROUNDS" ] || [ "$(valid_n haproxy)" = "0/$ROUNDS" ]; then
		echo "  not judged: no valid ambit or haproxy round"
		return 0
	fi
	a=$(med_of PERCORE ambit) h=$(med_of PERCORE haproxy)
	verdict "ambit-proxy ahead of HAProxy in req/s per core ($(printf '%.0f vs %.0f' "$a" "$h"))" \
		"$(echo "$a > $h" | bc -l)"
	a=$(med_of RATE ambit) h=$(med_of RATE haproxy)
	verdict "ambit-proxy ahead of HAProxy in req/s, same core ($(printf '%.0f vs %.0f' "$a" "$h"))" \
		"$(echo "$a > $h" | bc -l)"
	a=$(med_of P99 ambit) h=$(med_of P99 haproxy)
	verdict "ambit-proxy p99 no worse than HAProxy's (${a} vs ${h} us)" \
		"$(echo "$a <= $h" | bc -l)"
	rr=$(ratio_med RATE ambit)
	verdict "ambit within 2x of direct in req/s ($(printf '%.2fx slower' "$(div 1 "$rr")"))" \
		"$(echo "$rr >= 0.5" | bc -l)"
}

verdict() { # TEXT 1|0
	if [ "$2" = 1 ]; then echo "  met:     $1"; else echo "  not met: $1"; fi
}

# Optional: where ambit-proxy spends its time (cpu-clock sampling: this VM
# may have no hardware counters).
perf_profile() {
	command -v perf >/dev/null || { echo "# perf not installed"; return 0; }
	echo
	echo "perf: ambit-proxy, cpu-clock samples during one ${DURATION}s run"
	perf record -q -e cpu-clock -F 2000 -g -p "$PROXY_PID" -o "$T/perf.data" \
		-- sleep "$DURATION" >/dev/null 2>&1 &
	local perf_pid=$!
	run_wrk ambit "$DURATION" >/dev/null
	wait "$perf_pid"
	perf report -i "$T/perf.data" --no-children --sort dso --stdio -q 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -6
	perf report -i "$T/perf.data" --no-children --sort sym --stdio -q 2>/dev/null |
		grep -E '^ +[0-9.]+%' >"$T/perf.syms"
	echo "top symbols:"
	head -15 "$T/perf.syms"
	echo "top user-space symbols:"
	grep -F '[.]' "$T/perf.syms" | head -15
}

# Others' load on the machine skews everything: say so up front.
quiet_check() {
	local a b busy
	a=$(cpu_sample)
	sleep 1
	b=$(cpu_sample)
	busy=$(cpu_busy "$a" "$b")
	echo "# idle check, before any load: $busy"
	if tr ',' '\n' <<<"$busy" | awk '$2 + $4 > 20 { bad = 1 } END { exit !bad }'; then
		echo "# WARNING: the machine is busy with other work: figures will be noisy and low"
		ps -eo pcpu=,pid=,comm= --sort=-pcpu | head -5 | sed 's/^/#   /'
	fi
}

# Optional: system calls per request of each proxy (strace -c on its
# worker for one short run; strace slows it down, the counts stay right).
syscall_profile() {
	command -v strace >/dev/null || { echo "# strace not installed"; return 0; }
	local s pids p sp x req
	echo
	echo "system calls per request (strace -c, one ${DURATION}s run each)"
	for s in "${SCENARIOS[@]}"; do
		[ "$s" = direct ] && continue
		pids=${SERVER_PIDS[$s]}
		[ "$s" = nginx ] && pids=$(cat /proc/"$pids"/task/*/children)
		sp=()
		for p in $pids; do sp+=(-p "$p"); done
		strace -f -c -o "$T/strace.$s" "${sp[@]}" 2>/dev/null &
		p=$!
		sleep 0.5
		x=$(run_wrk "$s" "$DURATION")
		kill -INT "$p" 2>/dev/null
		wait "$p" 2>/dev/null
		req=$(field requests "$x")
		awk -v s="$s" -v n="${req:-0}" '
			$NF == "total" { tot = $4; next }
			$1 ~ /^[0-9.]+$/ && NF >= 5 { calls[$NF] = $4; errs[$NF] = NF == 6 ? $5 : 0 }
			END {
				if (!n) { print "  " s ": no requests"; exit }
				printf "  %-8s %6.2f per request:", s, tot / n
				for (k in calls) if (calls[k] / n >= 0.05) {
					printf " %s %.2f", k, calls[k] / n
					if (errs[k] / n >= 0.05) printf " (%.2f failed)", errs[k] / n
				}
				print ""
			}' "$T/strace.$s"
	done
}

bench() {
	l7_require
	PLAIN=$CG-plain
	mkdir -p "$PLAIN" "$CG-proxy"
	if [ "$(nproc)" -lt 2 ]; then
		PIN_PROXY='' PIN_BACKEND='' PIN_CLIENT=
		echo "# fewer than 2 CPUs: nothing pinned"
	fi
	[ -z "$PIN_PROXY" ] || PIN_P=(taskset -c "$PIN_PROXY")
	[ -z "$PIN_BACKEND" ] || PIN_B=(taskset -c "$PIN_BACKEND")
	[ -z "$PIN_CLIENT" ] || PIN_C=(taskset -c "$PIN_CLIENT")
	write_lua
	start_backend reviews-v1 "$V1" || return 1
	start_backend reviews-v2 "$V2" || return 1
	start_daemon --proxy-port "$PROXY_PORT" ${L7_NO_SOCKMAP:+--no-sockmap} || return 1
	apply < <(reviews_yaml) || return 1
	apply < <(canonical_yaml) || return 1
	ambit enroll --cgroup "$CG/client" --name client >/dev/null || return 1
	start_ambit_proxy || return 1
	start_haproxy || return 1
	start_nginx || return 1
	local s r i n=${#SCENARIOS[@]}
	for s in "${SCENARIOS[@]}"; do check_routing "$s" || BAD=1; done
	[ "$BAD" = 0 ] || return 1
	quiet_check
	echo "# warm-up: 1s each"
	for s in "${SCENARIOS[@]}"; do run_wrk "$s" 1 >/dev/null; done
	for r in $(seq 1 "$ROUNDS"); do
		for i in $(seq 0 $((n - 1))); do
			measure_one "${SCENARIOS[$(((i + r - 1) % n))]}" "$r"
		done
	done
	report
	proxy_alive || proxy_crashed "after the last round"
	[ "${L7_PERF:-0}" = 1 ] && perf_profile
	[ "${L7_SYSCALLS:-0}" = 1 ] && syscall_profile
	proxy_alive || proxy_crashed "during the profiles"
	[ "$CRASHES" = 0 ] || echo "ambit-proxy crashed $CRASHES time(s) during this run (see above): a bug to fix"
	return "$BAD"
}

e2e_setup
bench
