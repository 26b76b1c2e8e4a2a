# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Clients that run while a test changes things under them (test_restart,
# test_soak): ambit-probe processes and a paced wrk in the enrolled client
# cgroup, each writing what it saw to $T/cl.NAME, until $T/stop appears.
# Sourced after lib.sh.

CLIENTS=() # "NAME PID" of each running probe
WRK_PID=
CLIENTS_STOP=$T/stop

# start_probe NAME MODE ADDR [ARGS...]: ambit-probe until the stop file.
start_probe() {
	local name=$1
	shift
	bash -c "$IN_CG" "$NSPATH" "$CG/client" "$PROBE" "$@" -u "$CLIENTS_STOP" \
		>"$T/cl.$name" 2>/dev/null &
	BG_PIDS+=($!)
	CLIENTS+=("$name $!")
}

# start_wrk URL [wrk args...]: keep-alive load, paced (1 ms between
# requests on each of 4 connections) so it does not starve the machine.
start_wrk() {
	local url=$1
	shift
	echo 'function delay() return 1 end' >"$T/pace.lua"
	bash -c "$IN_CG" "$NSPATH" "$CG/client" wrk -t1 -c4 -d3600s -s "$T/pace.lua" \
		"$@" "$url" >"$T/cl.wrk" 2>&1 &
	WRK_PID=$!
	BG_PIDS+=("$WRK_PID")
}

client_lines() { wc -l <"$1" 2>/dev/null || echo 0; }

# progress N: wait (bounded) until every probe answered N more times. The
# traffic goes on whatever the load of the machine: no assertion depends
# on a clock.
progress() {
	local n=$1 c name pid want
	for c in "${CLIENTS[@]}"; do
		read -r name pid <<<"$c"
		want=$(($(client_lines "$T/cl.$name") + n))
		for _ in $(seq 1 400); do
			[ "$(client_lines "$T/cl.$name")" -ge "$want" ] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		[ "$(client_lines "$T/cl.$name")" -ge "$want" ] || {
			echo "# client $name made no progress"
			return 1
		}
	done
}

stop_clients() {
	local c name pid
	touch "$CLIENTS_STOP"
	for c in "${CLIENTS[@]}"; do
		read -r name pid <<<"$c"
		wait "$pid"
	done
	kill -INT "$WRK_PID" 2>/dev/null # wrk prints its summary and ends
	wait "$WRK_PID"
	CLIENTS=()
	rm -f "$CLIENTS_STOP"
}

# check_wrk LABEL: wrk ran, with no socket error and no non-2xx answer.
check_wrk() {
	local reqs
	reqs=$(awk '/requests in/ { print $1 }' "$T/cl.wrk")
	check "$1wrk: ${reqs:-no} requests on keep-alive connections, no socket error, all 2xx$(
		grep -E 'Socket errors|Non-2xx' "$T/cl.wrk" | tr -s ' \n' ' ')" \
		bash -c "[ '${reqs:-0}' -gt 0 ] && ! grep -qE 'Socket errors|Non-2xx' '$T/cl.wrk'"
}
