#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# A daemon restart is invisible: while enrolled clients run L4 traffic (to
# a plain Service VIP) and L7 traffic (through ambit-proxy, by the
# canonical route), ambitd is killed with SIGKILL and started again with
# the same options. Not one connect or request may fail (counted from the
# clients' own output); configuration, enrollments and counters are the
# same afterwards; no program or link of this test's cgroup is duplicated.
# Done twice: with ambit-proxy started on its own, and with ambitd running
# it (--proxy-bin), where the proxy must outlive the daemon and be adopted.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/clients.sh"

L4_VIP=127.96.5.1:5432
L7_VIP=127.96.0.10:9080

# db's endpoints only grow: a removed endpoint's connections are closed by
# design (README: Removed endpoints), which is not what this test is about.
DB_EPS_1='[{addresses: [127.0.6.1]}]'
DB_EPS_2='[{addresses: [127.0.6.1]}, {addresses: [127.0.6.2]}]'
DB_EPS_3='[{addresses: [127.0.6.1]}, {addresses: [127.0.6.2]}, {addresses: [127.0.6.3]}]'

db_yaml() { # ENDPOINTS
	cat <<EOF
apiVersion: v1
kind: Service
metadata: {name: db}
spec: {clusterIP: 127.96.5.1, ports: [{name: pg, port: 5432}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: db, labels: {kubernetes.io/service-name: db}}
addressType: IPv4
ports: [{name: pg, port: 5432}]
endpoints: $1
EOF
}

# ---- what must survive -------------------------------------------------------

config_dump() {
	local what
	for what in services routes endpoints enrollments; do
		echo "== $what"
		ambit get "$what" -o json
	done
}

# One line per counter: "service backend connects noEndpoint toProxy
# noProxy", and per endpoint "service ep=ENDPOINT connects failed 0 0".
counters() {
	ambit stats -o json | jq -r '(.counters[] |
		"\(.service) \(.backend) \(.connects) \(.noEndpoint) \(.toProxy) \(.noProxy)"),
		((.endpoints // [])[] | "\(.service) ep=\(.endpoint) \(.connects) \(.failed) 0 0")' | sort
}

# Every counter of $1 is still there in $2, and no smaller.
counters_kept() {
	local svc be c ne tp np now
	while read -r svc be c ne tp np; do
		now=$(awk -v s="$svc" -v b="$be" '$1 == s && $2 == b' <<<"$2")
		[ -n "$now" ] || { echo "# counter $svc $be is gone"; return 1; }
		read -r _ _ c2 ne2 tp2 np2 <<<"$now"
		if [ "$c2" -lt "$c" ] || [ "$ne2" -lt "$ne" ] || [ "$tp2" -lt "$tp" ] ||
			[ "$np2" -lt "$np" ]; then
			echo "# counter $svc $be went back: $c $ne $tp $np -> $now"
			return 1
		fi
	done <<<"$1"
}

# ambit stats: "applies errors"
applies() { ambit stats -o json | jq -r '"\(.applies) \(.applyErrors)"'; }

cgroup_id() { stat -c %i "$CG"; }

# Links on this test's cgroup (other tests run their own at the same time).
links_of_cg() {
	bpftool link show -j | jq --argjson id "$(cgroup_id)" \
		'[.[] | select(.cgroup_id == $id)] | length'
}

# Programs attached to it, as the kernel reports them.
progs_on_cg() {
	bpftool cgroup show "$CG" -j | jq length
}

# Programs that use any of this test's pinned maps: those attached, plus
# any a daemon loaded and left behind (the sk_msg one hangs on the sockhash).
progs_of_maps() {
	local ids
	ids=$(for m in "$PINS"/ambit_*; do bpftool map show pinned "$m" -j | jq .id; done | jq -s .)
	bpftool prog show -j | jq --argjson m "$ids" \
		'[.[] | select(((.map_ids // []) - ((.map_ids // []) - $m)) | length > 0)] | length'
}

# Entries of the endpoint map that no service refers to: "N of M".
stray_endpoints() {
	local refs
	refs=$(bpftool map dump pinned "$PINS/ambit_services" -j | jq '[.[].formatted.value |
		.versions[:.n_versions][] | select(.set_id != 0) | {s: .set_id, n: .n_endpoints}] | unique')
	bpftool map dump pinned "$PINS/ambit_endpoints" -j | jq -r --argjson r "$refs" \
		'"\([.[].formatted.key | select(. as $k | any($r[]; .s == $k.set_id and $k.index < .n) | not)] | length) of \(length)"'
}

no_stray_endpoints() {
	for _ in $(seq 1 100); do # retired sets go after a 1 s grace
		[[ $(stray_endpoints) == "0 of "* ]] && return 0
		sleep 0.05
	done
	echo "# stray endpoint entries: $(stray_endpoints)"
	return 1
}

pinned_links() { find "$PINS/links" -mindepth 1 | wc -l; }

bpf_objects() {
	echo "links=$(links_of_cg) cgroup-progs=$(progs_on_cg)" \
		"map-progs=$(progs_of_maps) pinned-links=$(pinned_links)"
}

# ---- the clients -------------------------------------------------------------

start_clients() {
	rm -f "$T"/cl.*
	start_probe l4 tcp "$L4_VIP"
	start_probe l7-keepalive-v2 http "$L7_VIP" /reviews/1 -k \
		-H 'my-favorite-service-mesh: istio'
	start_probe l7-per-conn-v1 http "$L7_VIP" /reviews/2
	start_wrk "http://$L7_VIP/wrk" -H 'my-favorite-service-mesh: istio'
}

# What a client must have seen, every line: "NAME WANTED-BACKEND-REGEX".
check_client() {
	local name=$1 want=$2 f=$T/cl.$1 n bad
	n=$(client_lines "$f")
	bad=$(grep -cv "^ok $want " "$f")
	check "$LABEL: $name: $n attempts across the restart, none failed or misrouted ($bad bad$(
		[ "$bad" = 0 ] || echo ": $(grep -v "^ok $want " "$f" | sort | uniq -c | head -3 | tr -s ' \n' ' ')"))" \
		test "$n" -gt 0 -a "$bad" = 0
}

# ---- the daemon, two ways --------------------------------------------------

DAEMON_ARGS=(--proxy-port "$PROXY_PORT")

restart_supervised() { start_supervising 2; }

kill9_daemon() {
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	rm -f "$SOCK" # a killed daemon leaves it; the check below waits for the new one
}

# kill -9 and restart under load. LABEL names the case; RESTART starts the
# daemon again with the options it had.
restart_under_load() {
	local restart=$1 applies_before cfg_before cfg_after objs_before objs_after st_before st_after
	objs_before=$(bpf_objects)
	start_clients
	check "$LABEL: clients run before the kill" progress 50
	# Move db's endpoints right before the kill: the old set is retired,
	# due to go a second later, when the daemon dies.
	check "$LABEL: db endpoints move" apply < <(db_yaml "$DB_EPS")
	cfg_before=$(config_dump)
	st_before=$(counters)
	applies_before=$(applies)
	kill9_daemon
	check "$LABEL: with the daemon dead, traffic still flows" progress 50
	check "$LABEL: the daemon restarts with the same options" "$restart"
	check "$LABEL: and traffic still flows after" progress 50
	stop_clients
	check_client l4 'db-[abc]'
	check_client l7-keepalive-v2 'reviews-v2-5d4b-a status=200'
	check "$LABEL: the keep-alive client kept its one connection" \
		bash -c "! grep -qv ' conn=1\$' '$T/cl.l7-keepalive-v2'"
	check_client l7-per-conn-v1 'reviews-v1-7f9c-a status=200'
	check_wrk "$LABEL: "
	cfg_after=$(config_dump)
	check "$LABEL: services, routes, endpoints and enrollments unchanged" \
		[ "$cfg_before" = "$cfg_after" ]
	[ "$cfg_before" = "$cfg_after" ] || diff <(echo "$cfg_before") <(echo "$cfg_after") | head -20
	st_after=$(counters)
	check "$LABEL: every counter kept its value across the restart ($(wc -l <<<"$st_before") counters)" \
		counters_kept "$st_before" "$st_after"
	check "$LABEL: and so did the apply counters ($applies_before -> $(applies))" \
		[ "$(applies)" = "$applies_before" ]
	check "$LABEL: no endpoint entry left behind by the killed daemon" no_stray_endpoints
	objs_after=$(bpf_objects)
	# The killed daemon's programs go once nothing holds them: allow a
	# moment for the kernel to free them.
	for _ in $(seq 1 100); do
		[ "$objs_after" = "$objs_before" ] && break
		sleep 0.05
		objs_after=$(bpf_objects)
	done
	check "$LABEL: no duplicate program or link ($objs_before -> $objs_after)" \
		[ "$objs_after" = "$objs_before" ]
}

test_01_setup() {
	backend db-a --mode tcp --listen 127.0.6.1:5432
	backend db-b --mode tcp --listen 127.0.6.2:5432
	backend db-c --mode tcp --listen 127.0.6.3:5432
	backend reviews-v1-7f9c-a --listen 127.0.1.1:9080
	backend reviews-v2-5d4b-a --listen 127.0.2.1:9080
	check "daemon starts with a proxy port" start_daemon "${DAEMON_ARGS[@]}"
	check "services and routes apply" apply < <(reviews_yaml; echo ---; canonical_yaml; echo ---; db_yaml "$DB_EPS_1")
	check "enroll client cgroup" ambit enroll --cgroup "$CG/client" --name client
	check "proxy starts on its own" start_proxy
	check "9 links on the test cgroup ($(links_of_cg))" [ "$(links_of_cg)" = 9 ]
}

test_02_kill9_with_separate_proxy() {
	LABEL="own proxy"
	DB_EPS=$DB_EPS_2
	restart_under_load restart_plain
	check "the proxy that served throughout is the one started before" kill -0 "$PROXY_PID"
}

restart_plain() { start_daemon "${DAEMON_ARGS[@]}"; }

test_03_kill9_with_supervised_proxy() {
	local before
	LABEL="supervised proxy"
	DB_EPS=$DB_EPS_3
	stop_proxy
	stop_daemon
	check "daemon starts running the proxy (--proxy-bin)" restart_supervised
	check "it started the proxy" wait_for "proxy pid" test -s "$STATE/ambit-proxy.pid"
	check "which serves" wait_for "proxy serving" client "$PROBE" http "$L7_VIP" / -n 1
	before=$(cat "$STATE/ambit-proxy.pid")
	restart_under_load restart_supervised
	check "the restarted daemon adopted the proxy ($before -> $(cat "$STATE/ambit-proxy.pid"))" \
		[ "$before" = "$(cat "$STATE/ambit-proxy.pid")" ]
	check "no second proxy was started" [ "$(grep -c 'started ambit-proxy' "$T/ambitd.log")" = 1 ]
}

e2e_setup
e2e_run
