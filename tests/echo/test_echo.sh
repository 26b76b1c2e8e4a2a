#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Self-test for ambit-echo.  Builds nothing: give it the binary.
#   tests/echo/test_echo.sh .output/ambit-echo
# Needs bash (for /dev/tcp), curl and coreutils.  Binds loopback only.
# Prints "ok - ..." / "not ok - ..." per check, then "N passed, N failed".

set -u

BIN=${1:-}
if [[ -z $BIN || ! -x $BIN ]]; then
	echo "usage: $0 PATH/TO/ambit-echo" >&2
	exit 2
fi
command -v curl >/dev/null || { echo "$0: curl is required" >&2; exit 2; }

TMP=$(mktemp -d)
PIDS=()
pass=0
fail=0

cleanup() {
	local p

	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

ok() { pass=$((pass + 1)); echo "ok - $1"; }
nok() {
	fail=$((fail + 1))
	echo "not ok - $1"
	[[ -n ${2:-} ]] && echo "#   ${2:0:600}"
	return 0
}
# expect_has DESC HAYSTACK NEEDLE
expect_has() {
	if [[ $2 == *"$3"* ]]; then ok "$1"; else nok "$1" "no '$3' in: $2"; fi
}
# expect_eq DESC GOT WANT
expect_eq() {
	if [[ $2 == "$3" ]]; then ok "$1"; else nok "$1" "got '$2', want '$3'"; fi
}
# expect_true DESC COMMAND...
expect_true() {
	local d=$1

	shift
	if "$@"; then ok "$d"; else nok "$d" "failed: $*"; fi
}

get() { curl -sS --max-time 5 "$@"; }

# raw HOST PORT DATA: send DATA, print everything until the server closes.
raw() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1
		printf "%s" "$3" >&3; cat <&3' _ "$@"
}

# start NAME ARGS...: run a server until its ready file shows; sets SRV_PID.
start() {
	local name=$1 rf=$TMP/$1.ready i

	shift
	rm -f "$rf"
	"$BIN" --name "$name" --ready-file "$rf" "$@" 2>>"$TMP/$name.log" &
	SRV_PID=$!
	PIDS+=("$SRV_PID")
	for ((i = 0; i < 100; i++)); do
		[[ -s $rf ]] && return 0
		kill -0 "$SRV_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# stop PID: SIGTERM, then its exit status (124 if it does not exit in 5 s).
stop() {
	local i

	kill -TERM "$1" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$1" 2>/dev/null; then
			wait "$1"
			return
		fi
		sleep 0.05
	done
	return 124
}

json_valid() {
	if command -v python3 >/dev/null; then
		python3 -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$1"
	elif command -v jq >/dev/null; then
		jq -e . >/dev/null <<<"$1"
	else
		return 2
	fi
}

peers() { grep -o '"peer":"[^"]*"' <<<"$1"; }

# ---- servers: random-ish high ports, retried if taken ----

P=
for _ in 1 2 3 4 5 6 7 8; do
	P=$((20000 + RANDOM % 4000 * 10))
	start alpha --listen "127.0.0.1:$P" --listen "[::1]:$P" \
		--udp "127.0.0.1:$((P + 1))" --udp "[::1]:$((P + 1))" && break
	P=
done
if [[ -z $P ]]; then
	nok "http server starts on 127.0.0.1 and [::1]"
	echo "$pass passed, $fail failed"
	exit 1
fi
ALPHA=$SRV_PID
ok "http server starts on 127.0.0.1:$P and [::1]:$P"
U=$((P + 1))
T=$((P + 2))
W=$((P + 3))
CLOSED=$((P + 9))
H4=http://127.0.0.1:$P
H6="http://[::1]:$P"

rf=$(cat "$TMP/alpha.ready")
expect_has "ready file lists the tcp listener" "$rf" "tcp 127.0.0.1:$P"
expect_has "ready file lists the udp listener" "$rf" "udp [::1]:$U"

# ---- HTTP echo ----

body=$(get "$H4/some/path?x=1&y=two")
expect_has "json hostname" "$body" '"hostname":"alpha"'
expect_has "json method" "$body" '"method":"GET"'
expect_has "json path keeps the query" "$body" '"path":"/some/path?x=1&y=two"'
expect_has "json host" "$body" "\"host\":\"127.0.0.1:$P\""
expect_has "json proto" "$body" '"proto":"HTTP/1.1"'
expect_has "json body_bytes is 0 for GET" "$body" '"body_bytes":0'
expect_has "json local address" "$body" "\"local\":\"127.0.0.1:$P\""
expect_has "json peer address" "$body" '"peer":"127.0.0.1:'
expect_has "json lower-cased header names" "$body" '"user-agent":["curl/'
json_valid "$body"
case $? in
0) ok "response is valid JSON" ;;
2) ok "response is valid JSON # SKIP no python3 or jq" ;;
*) nok "response is valid JSON" "$body" ;;
esac

hdrs=$(get -o /dev/null -D - "$H4/")
expect_has "content-type is application/json" "$hdrs" \
	"Content-Type: application/json"

body=$(get -g "$H6/v6")
expect_has "IPv6 listener reports [::1] local" "$body" "\"local\":\"[::1]:$P\""
expect_has "IPv6 peer" "$body" '"peer":"[::1]:'

body=$(get -H 'X-Multi: one' -H 'X-Other: x' -H 'X-Multi: two' "$H4/")
expect_has "repeated headers keep all values in order" "$body" \
	'"x-multi":["one","two"]'

body=$(get -H 'X-Quote: say "hi" \ now' -H $'X-Utf: caf\xc3\xa9 \xff' "$H4/")
expect_has "JSON escapes quotes and backslashes" "$body" \
	'"x-quote":["say \"hi\" \\ now"]'
expect_has "JSON keeps UTF-8, escapes invalid bytes" "$body" \
	'"x-utf":["café \u00ff"]'
json_valid "$body"
case $? in
0) ok "escaped response is valid JSON" ;;
2) ok "escaped response is valid JSON # SKIP no python3 or jq" ;;
*) nok "escaped response is valid JSON" "$body" ;;
esac

code=$(get -o /dev/null -w '%{http_code}' -H 'x-echo-status: 503' "$H4/")
expect_eq "x-echo-status sets the status" "$code" 503
code=$(get -o /dev/null -w '%{http_code}' -H 'x-echo-status: abc' "$H4/")
expect_eq "bad x-echo-status is a 400" "$code" 400
hdrs=$(get -o /dev/null -D - -H 'x-echo-header: X-Foo: bar' \
	-H 'x-echo-header: X-Foo: baz' "$H4/")
expect_has "x-echo-header adds a header" "$hdrs" "X-Foo: bar"
expect_has "x-echo-header is repeatable" "$hdrs" "X-Foo: baz"

t=$(get -o /dev/null -w '%{time_total}' -H 'x-echo-delay-ms: 300' "$H4/")
expect_true "x-echo-delay-ms delays the answer ($t s)" \
	awk -v t="$t" 'BEGIN { exit !(t >= 0.29 && t < 3) }'
get -o /dev/null -H 'x-echo-delay-ms: 1500' "$H4/slow" &
slow=$!
sleep 0.1
t=$(get -o /dev/null -w '%{time_total}' "$H4/fast")
expect_true "a delayed answer does not block others ($t s)" \
	awk -v t="$t" 'BEGIN { exit !(t < 0.5) }'
wait "$slow"

two=$(get "$H4/one" "$H4/two")
mapfile -t p < <(peers "$two")
expect_true "keep-alive: two requests share one connection" \
	test "${#p[@]}" = 2 -a "${p[0]:-x}" = "${p[1]:-y}"
two=$(get -H 'Connection: close' "$H4/one" "$H4/two")
mapfile -t p < <(peers "$two")
expect_true "Connection: close is honoured" \
	test "${#p[@]}" = 2 -a "${p[0]:-x}" != "${p[1]:-x}"
hdrs=$(get -o /dev/null -D - -H 'Connection: close' "$H4/")
expect_has "Connection: close is answered in kind" "$hdrs" "Connection: close"

hdrs=$(get -I "$H4/head")
expect_has "HEAD gets headers only" "$hdrs" "HTTP/1.1 200 OK"

# ---- request bodies ----

head -c 10000 /dev/zero >"$TMP/10k"
head -c 5000000 /dev/zero >"$TMP/5m"
body=$(get -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/10k" "$H4/up")
expect_has "chunked upload is counted" "$body" '"body_bytes":10000'
expect_has "upload method" "$body" '"method":"POST"'
body=$(get --data-binary @"$TMP/10k" "$H4/up")
expect_has "content-length upload is counted" "$body" '"body_bytes":10000'
body=$(get -w ' %{time_total}' --data-binary @"$TMP/5m" "$H4/big")
expect_has "5 MB upload (Expect: 100-continue) is counted" "$body" \
	'"body_bytes":5000000'
expect_true "100-continue means no 1 s expect wait (${body##* } s)" \
	awk -v t="${body##* }" 'BEGIN { exit !(t < 0.9) }'
out=$(raw 127.0.0.1 "$P" $'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n')
expect_has "chunk extensions and trailers" "$out" '"body_bytes":11'

# ---- raw HTTP: pipelining and bad requests ----

out=$(raw 127.0.0.1 "$P" $'GET /first HTTP/1.1\r\nHost: x\r\nx-echo-delay-ms: 200\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
n=$(grep -c '^HTTP/1.1 200' <<<"$out")
expect_eq "pipelined requests all answered" "$n" 2
rest=${out#*\"path\":\"/first\"}
expect_true "pipelined answers come in order despite a delay" \
	test "$rest" != "$out" -a "${rest#*\"path\":\"/second\"}" != "$rest"

out=$(raw 127.0.0.1 "$P" $'BLAH\r\n\r\n')
rc=$?
expect_has "malformed request line gets 400" "$out" "HTTP/1.1 400"
expect_eq "connection closed after a 400" "$rc" 0
out=$(raw 127.0.0.1 "$P" $'GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n')
expect_has "malformed header field gets 400" "$out" "HTTP/1.1 400"
out=$(raw 127.0.0.1 "$P" $'GET / HTTP/1.1\r\nX: y\r\n\r\n')
expect_has "HTTP/1.1 without Host gets 400" "$out" "HTTP/1.1 400"
out=$(raw 127.0.0.1 "$P" $'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n')
expect_has "Content-Length plus chunked gets 400" "$out" "HTTP/1.1 400"
out=$(raw 127.0.0.1 "$P" $'GET /old HTTP/1.0\r\n\r\n')
expect_has "HTTP/1.0 is answered" "$out" '"proto":"HTTP/1.0"'
big=$(head -c 70000 /dev/zero | tr '\0' a)
out=$(raw 127.0.0.1 "$P" $'GET / HTTP/1.1\r\nHost: x\r\nX-Big: '"$big"$'\r\n\r\n')
expect_has "header section over 64 KiB gets 431" "$out" "HTTP/1.1 431"

# ---- concurrency ----

urls=()
for ((i = 0; i < 400; i++)); do urls+=("$H4/c$i"); done
# every delay runs at once: all done in about 0.5 s, not 400 * 0.5 s
start_t=$SECONDS
codes=$(curl -s --max-time 20 -Z --parallel-immediate --parallel-max 400 \
	-H 'x-echo-delay-ms: 500' -H 'Connection: close' \
	-w '\n%{http_code}\n' "${urls[@]}" 2>/dev/null)
n=$(grep -c '^200$' <<<"$codes")
expect_eq "400 concurrent delayed requests all answered" "$n" 400
expect_true "and the delays overlap ($((SECONDS - start_t)) s)" \
	test $((SECONDS - start_t)) -le 5

# ---- TCP mode and the TCP client ----

if start beta --mode tcp --listen "127.0.0.1:$T" --listen "[::1]:$T"; then
	ok "tcp-mode server starts"
else
	nok "tcp-mode server starts" "$(cat "$TMP/beta.log")"
fi
out=$("$BIN" --tcp-client "127.0.0.1:$T" 2>/dev/null)
expect_eq "tcp mode: first line is the name" "$out" beta
out=$("$BIN" --tcp-client "[::1]:$T" --count 3 2>"$TMP/err")
expect_eq "tcp-client --count 3 over IPv6" "$out" $'beta\nbeta\nbeta'
expect_has "tcp-client summary on stderr" "$(cat "$TMP/err")" \
	"tcp-client [::1]:$T: 3 ok, 0 failed"
# shellcheck disable=SC2016 # expanded by the inner bash
out=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; read -r a <&3
	printf "hello echo\n" >&3; read -r b <&3; echo "$a|$b"' _ "$T")
expect_eq "tcp mode echoes what it receives" "$out" "beta|hello echo"
out=$("$BIN" --tcp-client "127.0.0.1:$CLOSED" --count 2 2>/dev/null)
rc=$?
expect_eq "tcp-client reports refused connections" "$out" \
	$'ERR ECONNREFUSED\nERR ECONNREFUSED'
expect_eq "tcp-client exits 1 on failures" "$rc" 1
out=$("$BIN" --tcp-client "127.0.0.1:$P" --timeout-ms 200 2>/dev/null)
expect_eq "tcp-client times out on a silent server" "$out" "ERR ETIMEDOUT"

# ---- UDP ----

out=$("$BIN" --udp-client "127.0.0.1:$U" "ping 1" 2>/dev/null)
expect_eq "udp reply names backend and local address" "$out" \
	"alpha 127.0.0.1:$U ping 1"
out=$("$BIN" --udp-client "[::1]:$U" ping --count 2 2>/dev/null)
expect_eq "udp over IPv6, --count 2" "$out" \
	$'alpha [::1]:'"$U"$' ping\nalpha [::1]:'"$U"' ping'
out=$("$BIN" --udp-client "127.0.0.1:$CLOSED" ping --timeout-ms 500 2>/dev/null)
expect_eq "udp-client reports refused" "$out" "ERR ECONNREFUSED"

# ---- workers, port 0, stdout readiness ----

if start gamma --workers 4 --listen "127.0.0.1:$W" --udp "127.0.0.1:$W"; then
	urls=()
	for ((i = 0; i < 40; i++)); do urls+=("http://127.0.0.1:$W/w$i"); done
	n=$(get -H 'Connection: close' "${urls[@]}" | grep -c '"hostname":"gamma"')
	expect_eq "--workers 4 answers over SO_REUSEPORT" "$n" 40
	n=$("$BIN" --udp-client "127.0.0.1:$W" x --count 20 2>/dev/null |
		grep -c "^gamma 127.0.0.1:$W x$")
	expect_eq "--workers 4 answers UDP" "$n" 20
	stop "$SRV_PID"
	expect_eq "multi-worker server exits 0 on SIGTERM" "$?" 0
else
	nok "--workers 4 server starts" "$(cat "$TMP/gamma.log")"
fi

if start delta --mode tcp --workers 2 --listen 127.0.0.1:0; then
	port=$(sed -n 's/^tcp 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TMP/delta.ready")
	expect_true "port 0: ready file names the chosen port" \
		test "${port:-0}" -gt 0
	n=$("$BIN" --tcp-client "127.0.0.1:${port:-1}" --count 20 2>/dev/null |
		grep -c '^delta$')
	expect_eq "port 0 with 2 workers: all share the port" "$n" 20
	stop "$SRV_PID"
else
	nok "port-0 server starts" "$(cat "$TMP/delta.log")"
fi

"$BIN" --name eps --listen "127.0.0.1:$((P + 4))" >"$TMP/eps.out" \
	2>/dev/null &
eps=$!
PIDS+=("$eps")
for ((i = 0; i < 100; i++)); do
	[[ -s $TMP/eps.out ]] && break
	sleep 0.05
done
expect_eq "without --ready-file, 'ready' goes to stdout" \
	"$(cat "$TMP/eps.out")" ready
kill -INT "$eps"
wait "$eps"
expect_eq "exits 0 on SIGINT" "$?" 0

"$BIN" --name dup --listen "127.0.0.1:$P" 2>"$TMP/dup.err" >/dev/null
expect_eq "listening on a taken port fails with 1" "$?" 1
expect_has "and says why" "$(cat "$TMP/dup.err")" "Address already in use"

# ---- command line ----

bad_args() {
	"$BIN" "$@" >/dev/null 2>&1
	expect_eq "bad arguments exit 2: $*" "$?" 2
}
bad_args
bad_args --name x
bad_args --listen 127.0.0.1:1
bad_args --name x --listen nope
bad_args --name x --listen 127.0.0.1:99999
bad_args --name x --listen ::1:80
bad_args --name x --listen 127.0.0.1:1 --mode foo
bad_args --name x --listen 127.0.0.1:1 --workers 0
bad_args --name 'a b' --listen 127.0.0.1:1
bad_args --name x --listen 127.0.0.1:1 --bogus
bad_args --udp-client 127.0.0.1:1
bad_args --tcp-client 127.0.0.1:1 extra
out=$("$BIN" --help)
expect_eq "--help exits 0" "$?" 0
expect_has "--help shows usage" "$out" "usage: ambit-echo --name NAME"

# ---- shutdown ----

stop "$ALPHA"
expect_eq "server exits 0 on SIGTERM" "$?" 0
expect_true "ready file removed on exit" test ! -e "$TMP/alpha.ready"

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
