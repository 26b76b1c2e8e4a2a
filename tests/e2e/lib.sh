# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# End-to-end test harness. Each test file sources this, calls e2e_setup,
# defines test_* functions and calls e2e_run. Everything a run creates lives
# under one id: a network namespace with loopback only (plus a dummy link for
# IPv6 test prefixes), a cgroup subtree under the discovered cgroup2 mount,
# a private bpffs mount, a daemon socket and state dir. A trap tears it all
# down, also on failure. Traffic only ever goes to 127.0.0.0/8 and test
# prefixes inside that namespace: it has no link out.

set -u

OUT=${OUT:?OUT must point at the build directory}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
AMBIT=$OUT/ambit
AMBITD=$OUT/ambitd
ECHO=$OUT/ambit-echo
PROXY=$OUT/ambit-proxy
PROXY_PORT=15001
PROXY_PID=
PROBE=$OUT/ambit-probe

E2E_ID=ambit-e2e-$$
T=$(mktemp -d /tmp/$E2E_ID.XXXX)
NS=$E2E_ID
NSPATH=/run/netns/$NS
SOCK=$T/ambitd.sock
STATE=$T/state
BPFFS=$T/bpffs
PINS=$BPFFS/ambit
PASSED=0
FAILED=0
DAEMON_PID=
BG_PIDS=()
EXTRA_NETNS=() # more test namespaces (pods), deleted at teardown

e2e_fail_setup() {
	echo "not ok - setup: $*"
	echo "1 failed in setup"
	exit 1
}

e2e_require() {
	local t
	[ "$(id -u)" -eq 0 ] || e2e_fail_setup "must run as root"
	for t in ip nsenter mount findmnt bpftool jq "$AMBIT" "$AMBITD" "$ECHO" "$PROBE"; do
		command -v "$t" >/dev/null 2>&1 || [ -x "$t" ] ||
			e2e_fail_setup "missing $t (scripts/install-deps.sh; make)"
	done
	[ -z "${AMBITD_VALGRIND:-}" ] || command -v valgrind >/dev/null ||
		e2e_fail_setup "AMBITD_VALGRIND=1 needs valgrind (scripts/install-deps.sh)"
}

# The cgroup2 mount is discovered, never assumed.
cgroup2_root() {
	findmnt -rn -t cgroup2 -o TARGET | head -n1
}

e2e_setup() {
	e2e_require
	trap e2e_teardown EXIT
	CG_ROOT=$(cgroup2_root)
	[ -n "$CG_ROOT" ] || e2e_fail_setup "no cgroup2 mount"
	CG=$CG_ROOT/$E2E_ID
	mkdir -p "$CG/client" "$CG/outsider" "$CG/backends" "$STATE" "$BPFFS" ||
		e2e_fail_setup "cgroups"
	mount -t bpf bpf "$BPFFS" || e2e_fail_setup "mount bpffs"
	ip netns add "$NS" || e2e_fail_setup "netns"
	ip -n "$NS" link set lo up
	# IPv6 test prefix on a veth pair whose both ends stay inside the
	# namespace (this kernel has no dummy driver): no way out.
	ip -n "$NS" link add v6a type veth peer name v6b || e2e_fail_setup "veth"
	ip -n "$NS" link set v6a up
	ip -n "$NS" link set v6b up
	ip -n "$NS" -6 addr add fd00:a5::1/64 dev v6a nodad
	ip -n "$NS" -6 addr add fd00:a5::2/64 dev v6a nodad
	ip -n "$NS" -6 addr add fd00:a5::3/64 dev v6a nodad
}

# Stop a process we started: TERM, then KILL if it lingers.
stop_pid() {
	local i
	kill "$1" 2>/dev/null || return 0
	for i in $(seq 1 60); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

e2e_teardown() {
	local p
	for p in "${BG_PIDS[@]}" $PROXY_PID $DAEMON_PID; do stop_pid "$p"; done
	# A proxy the daemon ran (--proxy-bin) outlives it by design: stop it.
	[ -s "$STATE/ambit-proxy.pid" ] && stop_pid "$(cat "$STATE/ambit-proxy.pid")"
	"$AMBITD" --teardown --bpffs "$PINS" >/dev/null 2>&1
	umount "$BPFFS" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip netns del "$NS-kp" 2>/dev/null # benchmarks' kube-proxy namespace
	for p in "${EXTRA_NETNS[@]}"; do ip netns del "$p" 2>/dev/null; done
	for p in client outsider backends; do rmdir "$CG/$p" 2>/dev/null; done
	rmdir "$CG-plain" 2>/dev/null # benchmarks' program-free cgroup
	rmdir "$CG-proxy" 2>/dev/null # the proxy lives outside the subtree
	rmdir "$CG" 2>/dev/null || echo "# warning: $CG not removed (processes left?)"
	rm -rf "$T"
}

# Run a command as a process of cgroup $1 inside the test namespace. The
# cgroup is joined first: `ip netns exec` would hide the cgroup2 mount.
IN_CG='echo $$ > "$1/cgroup.procs" && shift && exec nsenter --net="$0" "$@"'
in_cg() {
	local cg=$1
	shift
	bash -c "$IN_CG" "$NSPATH" "$CG/$cg" "$@"
}

client() { in_cg client "$@"; }
outsider() { in_cg outsider "$@"; }

# Start a backend in the namespace; waits until it listens.
# backend NAME ARGS... (ambit-echo arguments after --name)
backend() {
	local name=$1 ready=$T/ready.$1.$RANDOM
	shift
	# Not through in_cg: $! must be the backend itself, not a subshell.
	bash -c "$IN_CG" "$NSPATH" "$CG/backends" "$ECHO" --name "$name" \
		--ready-file "$ready" "$@" >"$T/echo.$name.log" 2>&1 &
	BG_PIDS+=($!)
	wait_for "backend $name ready" test -e "$ready"
}

wait_for() { # WAIT_TRIES (default 100) times 50 ms
	local what=$1 i
	shift
	for i in $(seq 1 "${WAIT_TRIES:-100}"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "# timed out waiting for $what"
	return 1
}

# AMBITD_VALGRIND=1: every daemon runs under valgrind's memcheck, one log
# per process in $T; e2e_run fails on any error or definite leak in them.
# tests/valgrind.supp says what is suppressed and why.
AMBITD_VALGRIND=${AMBITD_VALGRIND:-}

start_daemon() {
	local vg=() tries=100
	if [ -n "$AMBITD_VALGRIND" ]; then
		vg=(valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
			--errors-for-leak-kinds=definite --show-leak-kinds=definite
			--suppressions="$TOP/tests/valgrind.supp"
			--log-file="$T/valgrind.ambitd.%p.log")
		tries=1200 # memcheck starts it some 30 times slower
	fi
	# No metrics port in the host's namespace: runs in parallel would
	# fight over it (test_metrics.sh runs its daemon in the test netns).
	"${vg[@]}" "$AMBITD" --cgroup "$CG" --bpffs "$PINS" --socket "$SOCK" \
		--state-dir "$STATE" --metrics off "$@" >>"$T/ambitd.log" 2>&1 &
	DAEMON_PID=$!
	WAIT_TRIES=$tries wait_for "ambitd" test -S "$SOCK" ||
		{ tail -20 "$T/ambitd.log"; return 1; }
	WAIT_TRIES=$tries wait_for "ambitd answering" "$AMBIT" --socket "$SOCK" stats
}

# Every valgrind log shows no error: a summary of 0 errors (definite leaks
# count as errors), or, for a daemon killed with -9, no error report at all.
valgrind_clean() {
	local f n=0 bad=0
	for f in "$T"/valgrind.ambitd.*.log; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		if grep -q 'ERROR SUMMARY: 0 errors' "$f" ||
			{ ! grep -q 'ERROR SUMMARY' "$f" && ! grep -qE '^==[0-9]+== +(at|by) 0x' "$f"; }; then
			continue
		fi
		bad=$((bad + 1))
		echo "# $f:"
		grep -E '^==[0-9]+==' "$f" | head -40 | sed 's/^/#   /'
	done
	echo "# $n valgrind logs, $bad with errors"
	[ "$n" -gt 0 ] && [ "$bad" = 0 ]
}

# ambitd running the proxy (--proxy-bin): both in the test namespace,
# outside the attached subtree. start_supervising WORKERS [AMBITD ARGS...]
start_supervising() {
	local workers=$1
	shift
	mkdir -p "$CG-proxy"
	bash -c "$IN_CG" "$NSPATH" "$CG-proxy" "$AMBITD" --cgroup "$CG" \
		--bpffs "$PINS" --socket "$SOCK" --state-dir "$STATE" \
		--proxy-port "$PROXY_PORT" --proxy-bin "$PROXY" \
		--proxy-arg --workers --proxy-arg "$workers" "$@" >>"$T/ambitd.log" 2>&1 &
	DAEMON_PID=$!
	wait_for "ambitd" test -S "$SOCK" && wait_for "ambitd answering" ambit stats
}

# The pid of the proxy the daemon runs.
proxy_pid() { cat "$STATE/ambit-proxy.pid" 2>/dev/null; }

# ambit-proxy in the test namespace, in a cgroup outside the attached
# subtree (as in production: its own sockets are never redirected).
start_proxy() {
	mkdir -p "$CG-proxy"
	rm -f "$T/proxy.ready"
	bash -c "$IN_CG" "$NSPATH" "$CG-proxy" "$PROXY" --port "$PROXY_PORT" \
		--config "$STATE/config.yaml" --bpffs "$PINS" --workers 2 \
		--ready-file "$T/proxy.ready" "$@" >>"$T/proxy.log" 2>&1 &
	PROXY_PID=$!
	wait_for "ambit-proxy" test -e "$T/proxy.ready" || { tail -20 "$T/proxy.log"; return 1; }
}

stop_proxy() {
	[ -n "$PROXY_PID" ] || return 0
	stop_pid "$PROXY_PID"
	PROXY_PID=
}

stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	stop_pid "$DAEMON_PID"
	DAEMON_PID=
}

ambit() { "$AMBIT" --socket "$SOCK" "$@"; }

# The canonical route of shared/design.md, and its Services with one
# endpoint per version (127.0.1.1 v1, 127.0.2.1 v2): one copy for every test.
canonical_yaml() { cat "$TOP/tests/data/canonical-route.yaml"; }
reviews_yaml() { cat "$TOP/tests/data/reviews-services.yaml"; }
# web and its backends web-a (127.0.5.1), web-b (127.0.5.2), web-mirror
# (127.0.5.3) and web-none (no endpoints), for the L7 feature tests.
web_yaml() { cat "$TOP/tests/data/web-services.yaml"; }

# apply YAML from stdin; fails the caller on error (output shown).
apply() {
	local out
	out=$(ambit apply -f - 2>&1) || { echo "# apply failed: $out"; return 1; }
}

# Count lines of probe output per backend name: "v1=700 v2=300 err=0".
tally() {
	awk '$1 == "ok" { n[$2]++ } $1 == "err" { e++ }
	     END { for (k in n) printf "%s=%d ", k, n[k]; printf "err=%d\n", e + 0 }'
}

count_of() { # count_of NAME TALLY
	echo "$2" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }' | grep . || echo 0
}

# ---- reporting ---------------------------------------------------------------

ok() {
	PASSED=$((PASSED + 1))
	echo "ok - $*"
}

not_ok() {
	FAILED=$((FAILED + 1))
	echo "not ok - $*"
}

# all_true 'COND && COND ...': for check, which sees one command only
# (`check D [ a ] && [ b ]` would check just the first). Evaluated in the
# caller's scope, so its locals are visible.
all_true() { eval "$1"; }

# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# Run every test_* function (or those named in $E2E_ONLY), each once.
e2e_run() {
	local t
	for t in $(declare -F | awk '{print $3}' | grep '^test_'); do
		if [ -n "${E2E_ONLY:-}" ] && ! echo " $E2E_ONLY " | grep -q " $t "; then
			continue
		fi
		echo "# $t"
		"$t"
	done
	# A clean stop lets sanitizer builds report leaks into the logs.
	stop_proxy
	stop_daemon
	for t in ambitd proxy; do
		[ -f "$T/$t.log" ] || continue
		check "$t log free of sanitizer reports" \
			bash -c "! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$T/$t.log'"
	done
	[ -z "$AMBITD_VALGRIND" ] ||
		check "ambitd under valgrind: no memory error, no definite leak" valgrind_clean
	if [ "$FAILED" -gt 0 ]; then
		for t in ambitd proxy; do
			[ -f "$T/$t.log" ] || continue
			echo "# $t log (tail):"
			tail -30 "$T/$t.log" | sed 's/^/#   /'
		done
	fi
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
