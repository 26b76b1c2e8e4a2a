#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# ambit-cni with the real reference plugins from Debian's
# containernetworking-plugins: bridge + host-local create each pod's
# namespace networking, ambit-cni is chained after them, and a small
# runtime below invokes them all exactly as libcni does (CNI_* variables,
# the plugin's configuration with cniVersion, name and prevResult on
# stdin; DEL in reverse order with the cached result).
#
# The runtime runs inside a test-made "node" namespace: the bridge, its
# address and the host ends of the veths live there, never in the host's
# namespace. Pods are test namespaces on that bridge; addresses come from
# 198.18.0.0/24 (ipMasq off: no firewall rule anywhere), Service VIPs from
# 127.96.0.0/16.
source "$(dirname "$0")/lib.sh"

CNI=$OUT/ambit-cni
CNI_PLUGINS=/usr/lib/cni # Debian's containernetworking-plugins
NODE=$NS-node
CONFLIST=$T/podnet.conflist
RUNTIME_LOG=$T/runtime.log
BRIDGE=ambr0
BACKEND_POD=$NS-pod0

# ---- a runtime, the way libcni runs a network configuration list ------------

# The configuration plugin $2 of list $1 gets: the list's cniVersion and
# name, and prevResult $3 (JSON, or empty for none).
plugin_conf() {
	jq -c --argjson i "$2" --arg prev "$3" \
		'.plugins[$i] + {cniVersion: .cniVersion, name: .name}
		 + (if $prev == "" then {} else {prevResult: ($prev | fromjson)} end)' "$1"
}

# One plugin execution in the node namespace, with only what a runtime
# passes. exec_plugin CMD TYPE POD CONTAINER-ID K8S-ARGS <conf; stdout: its output.
exec_plugin() {
	local cmd=$1 type=$2 pod=$3 id=$4 args=$5 netns=""
	[ -n "$pod" ] && netns=/run/netns/$pod
	echo "# $cmd $type pod=$pod id=$id" >>"$RUNTIME_LOG"
	nsenter --net="/run/netns/$NODE" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		CNI_COMMAND="$cmd" CNI_CONTAINERID="$id" CNI_NETNS="$netns" \
		CNI_IFNAME=eth0 CNI_ARGS="$args" CNI_PATH="$CNI_PLUGINS:$OUT" \
		"$(plugin_path "$type")" 2>>"$RUNTIME_LOG"
}

plugin_path() {
	[ -x "$CNI_PLUGINS/$1" ] && { echo "$CNI_PLUGINS/$1"; return; }
	echo "$OUT/$1"
}

# K8S_* arguments as kubelet passes them (empty NS: not a Kubernetes pod).
k8s_args() { # ID NAMESPACE POD
	[ -n "${2:-}" ] || return 0
	echo "IgnoreUnknown=1;K8S_POD_NAMESPACE=$2;K8S_POD_NAME=$3;K8S_POD_INFRA_CONTAINER_ID=$1;K8S_POD_UID=uid-$3"
}

n_plugins() { jq '.plugins | length' "$1"; }

# cni_add LIST POD ID NAMESPACE PODNAME: every plugin in order, each one's
# result the next one's prevResult; the final result is cached in
# $T/cache.ID (as libcni does), each plugin's own output kept in $T/out.ID.I,
# a failing plugin's error object in $T/error.ID.
cni_add() {
	local list=$1 pod=$2 id=$3 args i prev="" out n
	args=$(k8s_args "$3" "${4:-}" "${5:-}")
	n=$(n_plugins "$list")
	for ((i = 0; i < n; i++)); do
		out=$(plugin_conf "$list" $i "$prev" |
			exec_plugin ADD "$(jq -r ".plugins[$i].type" "$list")" "$pod" "$id" "$args") || {
			echo "$out" >"$T/error.$id"
			echo "# plugin $i of $(basename "$list") failed: $out"
			return 1
		}
		echo "$out" >"$T/out.$id.$i"
		prev=$out
	done
	echo "$prev" >"$T/cache.$id"
}

# cni_del LIST POD ID NAMESPACE PODNAME: reverse order, every plugin given
# the cached result; the cache is dropped on success. POD may be empty
# (the namespace is already gone: CNI_NETNS unset).
cni_del() {
	local list=$1 pod=$2 id=$3 args i prev="" out
	args=$(k8s_args "$3" "${4:-}" "${5:-}")
	[ -s "$T/cache.$id" ] && prev=$(cat "$T/cache.$id")
	for ((i = $(n_plugins "$list") - 1; i >= 0; i--)); do
		out=$(plugin_conf "$list" $i "$prev" |
			exec_plugin DEL "$(jq -r ".plugins[$i].type" "$list")" "$pod" "$id" "$args") || {
			echo "$out" >"$T/error.$id"
			echo "# plugin $i of $(basename "$list") failed: $out"
			return 1
		}
	done
	rm -f "$T/cache.$id"
}

# cni_check LIST POD ID NAMESPACE PODNAME: in order, with the cached result.
cni_check() {
	local list=$1 pod=$2 id=$3 args i out
	args=$(k8s_args "$3" "${4:-}" "${5:-}")
	for ((i = 0; i < $(n_plugins "$list"); i++)); do
		out=$(plugin_conf "$list" $i "$(cat "$T/cache.$id")" |
			exec_plugin CHECK "$(jq -r ".plugins[$i].type" "$list")" "$pod" "$id" "$args") || {
			echo "$out" >"$T/error.$id"
			echo "# plugin $i of $(basename "$list") failed: $out"
			return 1
		}
	done
}

# The configuration lists: loopback alone (as runtimes run it), and the pod
# network: bridge with host-local, then ambit-cni. $1: ambit-cni's keys,
# $2: the spec version (default 1.0.0).
write_conflists() {
	local v=${2:-1.0.0}
	jq -n --arg v "$v" '{cniVersion: $v, name: "lo", plugins: [{type: "loopback"}]}' >"$T/lo.conflist"
	jq -n --arg v "$v" --arg dir "$T/ipam" --arg br "$BRIDGE" --argjson ours "$1" '{
		cniVersion: $v, name: "ambit-podnet",
		plugins: [
			{type: "bridge", bridge: $br, isGateway: true, ipMasq: false,
			 ipam: {type: "host-local", dataDir: $dir,
				ranges: [[{subnet: "198.18.0.0/24"}]]}},
			({type: "ambit-cni"} + $ours)
		]}' >"$CONFLIST"
}

# A pod the way a runtime makes one: its netns, loopback, then the network.
# new_pod POD ID [NAMESPACE PODNAME]; the result lands in $T/cache.ID.
# (Not in a subshell: EXTRA_NETNS must keep the namespace for teardown.)
new_pod() {
	ip netns add "$1" || return 1
	EXTRA_NETNS+=("$1")
	cni_add "$T/lo.conflist" "$1" "lo-$2" || return 1
	cni_add "$CONFLIST" "$@"
}

jqe() { jq -e "$@" >/dev/null; }
# Both files hold the same JSON document (and are not empty).
same_json() {
	[ -s "$1" ] && [ -s "$2" ] && diff <(jq -S . "$1") <(jq -S . "$2")
}

pod_ip() { jq -r '[.ips[] | select(.address | startswith("198.18."))][0].address | split("/")[0]' "$T/cache.$1"; }
in_pod() { # POD CGROUP CMD...
	local pod=$1 cg=$2
	shift 2
	bash -c "$IN_CG" "/run/netns/$pod" "$CG/$cg" "$@"
}
# Run ambit-cni alone with a configuration on stdin and the given CNI_*.
run_cni() { env -i PATH="$PATH" "$@" "$CNI" 2>>"$T/cni-direct.log"; }

# ---- tests -------------------------------------------------------------------

test_01_node_and_plugins() {
	local p
	for p in bridge host-local loopback; do
		check "reference plugin $CNI_PLUGINS/$p is installed (containernetworking-plugins)" \
			test -x "$CNI_PLUGINS/$p"
	done
	check "ambit-cni is built" test -x "$CNI"
	ip netns add "$NODE" && EXTRA_NETNS+=("$NODE")
	check "node namespace up" ip -n "$NODE" link set lo up
	write_conflists '{"socket": "'"$SOCK"'"}'
	check "conflist written" jqe '.plugins | length == 2' "$CONFLIST"
}

test_02_version() {
	local out br
	out=$(echo '{"cniVersion":"1.0.0"}' | run_cni CNI_COMMAND=VERSION)
	check "VERSION answers for the version asked ($out)" \
		jqe '.cniVersion == "1.0.0" and (.supportedVersions | index("1.0.0") and index("0.4.0") and index("0.3.1"))' <<<"$out"
	out=$(echo '{"cniVersion":"0.4.0"}' | run_cni CNI_COMMAND=VERSION)
	check "VERSION echoes 0.4.0" jqe '.cniVersion == "0.4.0"' <<<"$out"
	out=$(run_cni CNI_COMMAND=VERSION </dev/null)
	check "VERSION with empty stdin: the latest" jqe '.cniVersion == "1.0.0"' <<<"$out"
	# Every version bridge speaks that has chaining, we speak too.
	br=$(echo '{"cniVersion":"1.0.0"}' | CNI_COMMAND=VERSION "$CNI_PLUGINS/bridge")
	check "ambit-cni speaks every chaining version of bridge ($(jq -c .supportedVersions <<<"$br"))" \
		jqe --argjson ours "$out" '[.supportedVersions[] | select(. >= "0.3.0")] - $ours.supportedVersions == []' <<<"$br"
}

# pod0 is not a Kubernetes pod (no K8S_* arguments): ambit-cni passes it
# through without asking ambitd. It hosts the backend of the Service later.
test_03_plain_pod_passes_through() {
	local addr
	check "ADD of a non-Kubernetes pod through bridge, host-local, ambit-cni" \
		new_pod "$BACKEND_POD" pod0id
	check "ambit-cni's result is bridge's, unchanged" \
		same_json "$T/out.pod0id.0" "$T/out.pod0id.1"
	check "and in 1.0.0 form" jqe '.cniVersion == "1.0.0"' "$T/cache.pod0id"
	addr=$(pod_ip pod0id)
	check "pod got $addr/24 from host-local" \
		grep -q "inet $addr/24" <(ip -n "$BACKEND_POD" -4 addr show dev eth0)
	check "pod's loopback is up (loopback plugin)" \
		grep -q 'inet 127.0.0.1' <(ip -n "$BACKEND_POD" addr show dev lo)
	check "bridge $BRIDGE with 198.18.0.1 is in the node namespace" \
		grep -q 'inet 198.18.0.1/24' <(ip -n "$NODE" addr show dev "$BRIDGE")
	check "and not in the host's" bash -c "! ip link show dev $BRIDGE 2>/dev/null"
	check "no 198.18.0.0/24 route in the host's namespace" \
		bash -c "! ip route show | grep -q '198\\.18\\.0\\.'"
	# Not through in_pod: $! must be the backend itself, to stop it.
	bash -c "$IN_CG" "/run/netns/$BACKEND_POD" "$CG/backends" "$ECHO" --name backend-pod0 --mode tcp \
		--listen "$addr:8080" --ready-file "$T/backend.ready" >"$T/backend.log" 2>&1 &
	BG_PIDS+=($!)
	check "backend listens in the pod" wait_for backend test -e "$T/backend.ready"
	check "the node reaches it over the bridge" \
		bash -c "nsenter --net=/run/netns/$NODE '$ECHO' --tcp-client $addr:8080 2>/dev/null | grep -qx backend-pod0"
	check "ambit-cni logged the pass-through on stderr" \
		grep -q 'not a Kubernetes pod' "$RUNTIME_LOG"
	check "CHECK of the chain (bridge checks the pod's interface too)" \
		cni_check "$CONFLIST" "$BACKEND_POD" pod0id
}

# The same chain in spec 0.4.0, which Debian's plugins also speak.
test_03_spec_0_4_0() {
	write_conflists '{"socket": "'"$SOCK"'"}' 0.4.0
	check "ADD under 0.4.0" new_pod "$NS-pod8" pod8id
	check "bridge answered in 0.4.0" jqe '.cniVersion == "0.4.0"' "$T/out.pod8id.0"
	check "ambit-cni passed it on unchanged" same_json "$T/out.pod8id.0" "$T/out.pod8id.1"
	check "CHECK under 0.4.0" cni_check "$CONFLIST" "$NS-pod8" pod8id
	check "DEL under 0.4.0" cni_del "$CONFLIST" "$NS-pod8" pod8id
	check "bridge removed the pod's interface" \
		bash -c "! ip -n $NS-pod8 link show dev eth0 2>/dev/null"
	write_conflists '{"socket": "'"$SOCK"'"}'
}

# Configuration and environment errors: the spec's error object on stdout.
expect_cni_error() { # WHAT CODE ENV... <conf
	local what=$1 code=$2 out rc
	shift 2
	out=$(run_cni "$@")
	rc=$?
	check "$what: exit status non-zero ($rc), code $code ($out)" \
		jqe --argjson c "$code" '.code == $c and (.msg | length > 0) and (.cniVersion | type == "string")' <<<"$out"
	[ "$rc" -ne 0 ] || not_ok "$what exited 0"
}

test_04_errors() {
	local env=(CNI_COMMAND=ADD CNI_CONTAINERID=x CNI_NETNS=/run/netns/$BACKEND_POD CNI_IFNAME=eth0)
	local prev conf out
	prev=$(cat "$T/cache.pod0id")
	conf=$(plugin_conf "$CONFLIST" 1 "$prev")
	expect_cni_error "bad JSON" 6 "${env[@]}" <<<'{"cniVersion": "1.0.0", "name":'
	expect_cni_error "missing CNI_NETNS" 4 CNI_COMMAND=ADD CNI_CONTAINERID=x CNI_IFNAME=eth0 <<<"$conf"
	out=$(run_cni CNI_COMMAND=ADD CNI_CONTAINERID=x CNI_IFNAME=eth0 <<<"$conf")
	check "the message names CNI_NETNS" jqe '.msg | test("CNI_NETNS")' <<<"$out"
	expect_cni_error "unknown CNI_COMMAND" 4 CNI_COMMAND=FROB <<<"$conf"
	expect_cni_error "cniVersion 0.2.0 (no chaining)" 1 "${env[@]}" \
		<<<"$(jq -c '.cniVersion = "0.2.0"' <<<"$conf")"
	expect_cni_error "CHECK under 0.3.1" 1 CNI_COMMAND=CHECK CNI_CONTAINERID=x \
		CNI_NETNS=/run/netns/$BACKEND_POD CNI_IFNAME=eth0 <<<"$(jq -c '.cniVersion = "0.3.1"' <<<"$conf")"
	expect_cni_error "failOpen not a boolean" 7 "${env[@]}" \
		<<<"$(jq -c '.failOpen = "no"' <<<"$conf")"
	expect_cni_error "ADD without prevResult (not chained)" 7 "${env[@]}" \
		<<<"$(jq -c 'del(.prevResult)' <<<"$conf")"
	out=$(run_cni "${env[@]}" <<<"$(jq -c '.cniVersion = "0.4.0" | .failOpen = 1' <<<"$conf")")
	check "an error keeps the configuration's cniVersion ($out)" \
		jqe '.cniVersion == "0.4.0" and .code == 7' <<<"$out"
}

test_05_daemon_unreachable() {
	# failOpen false (default): the ADD fails with "try again later", the
	# runtime cleans up with DEL, which succeeds without ambitd.
	write_conflists '{"socket": "'"$T/nowhere.sock"'"}'
	if new_pod "$NS-pod9" pod9id shop web-9; then
		not_ok "ADD without ambitd fails (failOpen false)"
	else
		ok "ADD without ambitd fails (failOpen false)"
	fi
	check "with code 11, try again later" \
		jqe '.code == 11 and (.msg | test("unreachable"))' "$T/error.pod9id"
	check "the runtime's DEL after the failed ADD succeeds without ambitd" \
		cni_del "$CONFLIST" "$NS-pod9" pod9id shop web-9
	# failOpen true: the pod starts, outside the mesh, with a warning.
	write_conflists '{"socket": "'"$T/nowhere.sock"'", "failOpen": true}'
	check "ADD without ambitd passes with failOpen true" \
		cni_add "$CONFLIST" "$NS-pod9" pod9id shop web-9
	check "its result is bridge's" same_json "$T/out.pod9id.0" "$T/out.pod9id.1"
	check "and the warning says so" grep -q 'failOpen: the pod goes on outside the mesh' "$RUNTIME_LOG"
	check "CHECK without ambitd passes with failOpen true" \
		cni_check "$CONFLIST" "$NS-pod9" pod9id shop web-9
	check "DEL" cni_del "$CONFLIST" "$NS-pod9" pod9id shop web-9
	write_conflists '{"socket": "'"$SOCK"'"}'
}

# ---- with ambitd: labels decide, ambit-cni tells ----------------------------

VIP=127.96.0.20

# Namespaces and Pods as `ambit sync` brings them (before the sandbox: the
# Pod object exists before kubelet creates its sandbox), and a Service
# whose endpoint is the backend pod. $1: the backend pod's address.
cluster_yaml() {
	cat <<YAML
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: mesh, labels: {istio.io/dataplane-mode: ambient}}}
- {apiVersion: v1, kind: Namespace, metadata: {name: plain}}
- {apiVersion: v1, kind: Pod, metadata: {name: client-1, namespace: mesh, labels: {app: client}}}
- {apiVersion: v1, kind: Pod, metadata: {name: client-2, namespace: plain, labels: {app: client}}}
- {apiVersion: v1, kind: Pod, metadata: {name: client-3, namespace: mesh, labels: {istio.io/dataplane-mode: none}}}
- {apiVersion: v1, kind: Service, metadata: {name: web, namespace: mesh}, spec: {clusterIP: $VIP, ports: [{name: tcp, port: 8080}]}}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: web-1, namespace: mesh, labels: {kubernetes.io/service-name: web}}
  addressType: IPv4
  ports: [{name: tcp, port: 8080}]
  endpoints: [{addresses: [$1]}]
YAML
}

# What a client in POD gets from the Service VIP: the backend's name, or ERR.
vip_from() { in_pod "$1" client "$ECHO" --tcp-client "$VIP:8080" --timeout-ms 2000 2>/dev/null; }
enrolled() { ambit get enrollments -o json | jqe --arg n "/run/netns/$1" 'any(.[]; .netns == $n and .status == "Enrolled")'; }
not_enrolled() { ! enrolled "$1"; }
refused() { grep -q '^ERR' <<<"$1"; }

test_06_daemon_knows_the_labels() {
	mkdir -p "$T/no-netns" # pods are attached by CNI here, not discovered
	check "daemon starts" start_daemon --netns-dir "$T/no-netns"
	check "Namespaces, Pods, the Service apply" apply < <(cluster_yaml "$(pod_ip pod0id)")
}

test_07_meshed_pod_is_enrolled_at_add() {
	local got
	check "ADD of mesh/client-1" new_pod "$NS-pod1" pod1id mesh client-1
	check "ambit-cni's result is bridge's, unchanged" same_json "$T/out.pod1id.0" "$T/out.pod1id.1"
	check "ambitd enrolled its netns (namespace label ambient)" enrolled "$NS-pod1"
	check "ambitd's answer is in the runtime's log" \
		grep -q 'ADD mesh/client-1 .*attached.*: enrolled' "$RUNTIME_LOG"
	got=$(vip_from "$NS-pod1")
	check "a client in the pod reaches the Service VIP: the backend pod ($got)" \
		[ "$got" = backend-pod0 ]
}

test_08_unmeshed_pods_are_not() {
	local got
	check "ADD of plain/client-2" new_pod "$NS-pod2" pod2id plain client-2
	check "its result is bridge's" same_json "$T/out.pod2id.0" "$T/out.pod2id.1"
	check "not enrolled (its namespace has no label)" not_enrolled "$NS-pod2"
	got=$(vip_from "$NS-pod2")
	check "the VIP is not redirected for it ($got)" refused "$got"
	check "ADD of mesh/client-3, labelled none" new_pod "$NS-pod3" pod3id mesh client-3
	check "not enrolled (the pod opts out)" not_enrolled "$NS-pod3"
}

# ambit-cni's CHECK alone, as the runtime would run it for POD (ID, NS/NAME).
cni_check_ours() {
	plugin_conf "$CONFLIST" 1 "$(cat "$T/cache.$2")" |
		run_cni CNI_COMMAND=CHECK CNI_CONTAINERID="$3" CNI_NETNS="/run/netns/$1" \
			CNI_IFNAME=eth0 CNI_ARGS="$(k8s_args "$3" "$4" "$5")"
}

test_09_check() {
	local out
	check "CHECK of the meshed pod" cni_check "$CONFLIST" "$NS-pod1" pod1id mesh client-1
	check "CHECK of an unmeshed pod" cni_check "$CONFLIST" "$NS-pod2" pod2id plain client-2
	out=$(cni_check_ours "$NS-pod1" pod1id other-sandbox mesh client-1)
	check "CHECK from a sandbox ambitd was not told about fails: code 101 ($out)" \
		jqe '.code == 101 and (.details | test("not attached to this sandbox"))' <<<"$out"
	# The pod's namespace replaced behind ambitd's back: what is at the
	# path now is not what is enrolled.
	check "ADD of mesh/client-4" new_pod "$NS-pod4" pod4id mesh client-4
	check "enrolled" enrolled "$NS-pod4"
	ip netns del "$NS-pod4" && ip netns add "$NS-pod4"
	out=$(cni_check_ours "$NS-pod4" pod4id pod4id mesh client-4)
	check "CHECK after its netns was replaced fails: code 101 ($out)" \
		jqe '.code == 101 and (.details | test("should be enrolled"))' <<<"$out"
	check "DEL of mesh/client-4" cni_del "$CONFLIST" "$NS-pod4" pod4id mesh client-4
}

test_10_del() {
	local got
	check "DEL of mesh/client-1" cni_del "$CONFLIST" "$NS-pod1" pod1id mesh client-1
	check "its netns is no longer enrolled" not_enrolled "$NS-pod1"
	got=$(vip_from "$NS-pod1")
	check "the VIP is no longer redirected for it ($got)" refused "$got"
	check "DEL again succeeds" cni_del "$CONFLIST" "$NS-pod1" pod1id mesh client-1
	ip netns del "$NS-pod2"
	check "DEL after the netns is gone (no CNI_NETNS) succeeds" \
		cni_del "$CONFLIST" "" pod2id plain client-2
	stop_daemon
	check "DEL with ambitd down succeeds" cni_del "$CONFLIST" "$NS-pod3" pod3id mesh client-3
	check "and says so in the runtime's log" \
		grep -q 'DEL mesh/client-3 .*ambitd unreachable' "$RUNTIME_LOG"
}

test_99_plugin_logs_clean() {
	check "ambit-cni's stderr free of sanitizer reports" \
		bash -c "! cat '$RUNTIME_LOG' '$T/cni-direct.log' 2>/dev/null |
			grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:'"
}

e2e_setup
e2e_run
