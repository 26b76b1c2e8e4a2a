#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# ambitd runs ambit-proxy (--proxy-bin) and keeps it running: a proxy that
# dies is restarted; a daemon that dies leaves the proxy serving, and the
# restarted daemon adopts it instead of starting a second one.
source "$(dirname "$0")/lib.sh"


served() { # the canonical route answers through the proxy
	client curl -sS --max-time 3 -H 'my-favorite-service-mesh: istio' \
		http://127.96.0.10:9080/ 2>/dev/null | grep -q '"hostname":"reviews-v2'
}

test_01_setup() {
	backend reviews-v2-5d4b-a --listen 127.0.2.1:9080
	backend reviews-v1-7f9c-a --listen 127.0.1.1:9080
	check "daemon starts with --proxy-bin" start_supervising 1 --proxy-mark 0x5a5a00
	check "configuration applies" apply < <(reviews_yaml; echo ---; canonical_yaml)
	check "enroll client cgroup" ambit enroll --cgroup "$CG/client"
	check "the daemon started the proxy" wait_for "proxy pid" test -s "$STATE/ambit-proxy.pid"
	check "requests are served through it" wait_for "proxy serving" served
	check "the proxy marks its sockets with the daemon's --proxy-mark" \
		bash -c "tr '\\0' ' ' < /proc/$(proxy_pid)/cmdline | grep -q -- '--mark 0x5a5a00'"
}

test_02_proxy_crash_restarted() {
	local old
	old=$(proxy_pid)
	kill -9 "$old"
	check "a killed proxy is restarted" wait_for "new proxy" \
		bash -c "[ -s '$STATE/ambit-proxy.pid' ] && [ \"\$(cat '$STATE/ambit-proxy.pid')\" != '$old' ]"
	check "and serves again" wait_for "proxy serving" served
}

test_03_daemon_restart_adopts_proxy() {
	local before after
	before=$(proxy_pid)
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	check "with the daemon gone the proxy still serves" served
	check "daemon restarts" start_supervising 1 --proxy-mark 0x5a5a00
	sleep 0.6
	after=$(proxy_pid)
	check "it adopted the running proxy ($before -> $after)" [ "$before" = "$after" ]
	check "no second proxy was started" [ "$(grep -c 'started ambit-proxy' "$T/ambitd.log")" = 2 ]
	check "requests are still served" served
}

e2e_setup
e2e_run
