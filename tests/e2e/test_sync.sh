#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Kubernetes objects in: `ambit sync` fed recorded watch streams
# (tests/data/k8s/, printed by the real kubectl, see record.py there) keeps
# a real ambitd in step, checked with `ambit get` and real traffic from an
# enrolled client. Then enrollment by labels: test-made network namespaces
# play pods (veth pairs to the test's node namespace, addresses from
# 198.18.0.0/15, no link to the host), attached with `ambit pod attach` as
# the CNI plugin does, or found by address in a --netns-dir of bind mounts
# this test makes. Last, scripts/ambit-k8s-watch runs with a stand-in
# kubectl that replays recorded output: there is no cluster here, so that
# one program is faked, nothing else.
source "$(dirname "$0")/lib.sh"

K=$TOP/tests/data/k8s
NETNS_DIR=$T/netns-dir
FIFO=$T/events
SYNC_PID=
SYNC_LOG=$T/sync.log

# Bind mounts in $NETNS_DIR keep namespaces alive: undo them first.
sync_teardown() {
	local m
	for m in "$NETNS_DIR"/*; do umount "$m" 2>/dev/null; done
	e2e_teardown
}

jqr() { jq -r "$1" <<<"$2" 2>/dev/null; }

# ---- a long-running sync fed through a FIFO, like kubectl's pipe ------------

# start_sync ARGS...: `ambit sync ARGS` reading $FIFO. A `sleep` holds
# the FIFO open for writing between feeds, as kubectl holds its stdout;
# the test shell itself never does, so nothing it starts inherits it.
start_sync() {
	rm -f "$FIFO"
	mkfifo "$FIFO"
	: >"$SYNC_LOG"
	"$AMBIT" --socket "$SOCK" sync "$@" <"$FIFO" >>"$SYNC_LOG" 2>&1 &
	SYNC_PID=$!
	BG_PIDS+=("$SYNC_PID")
	sleep 3600 >"$FIFO" &
	HOLD_PID=$!
	BG_PIDS+=("$HOLD_PID")
}

# feed FILE: what kubectl would print next.
feed() { cat "$1" >"$FIFO"; }

# end_sync: kubectl's end of the stream; the sync's exit status.
end_sync() {
	stop_pid "$HOLD_PID"
	wait "$SYNC_PID"
}

# applied N: the sync has reported N batches.
applied() { [ "$(grep -c '^sync ' "$SYNC_LOG")" -ge "$1" ]; }

svc_listed() { ambit get services | awk '{print $1 "/" $2}' | grep -qx "$1"; }
no_svc() { ! svc_listed "$1"; }
all_listed() { local s; for s in "$@"; do svc_listed "$s" || return 1; done; }
none_listed() { local s; for s in "$@"; do svc_listed "$s" && return 1; done; return 0; }

# The backend a client reaches at ADDR:PORT, or "refused".
reach() {
	local out
	out=$(client curl -sS --max-time 3 "http://$1/" 2>&1) || { echo refused; return; }
	jqr .hostname "$out"
}

route_yaml_has() { ambit get routes -o yaml | grep -q "$1"; }

# ---- Services, EndpointSlices, HTTPRoutes --------------------------------------

test_01_daemon_and_backends() {
	mkdir -p "$NETNS_DIR"
	check "daemon starts" start_daemon --netns-dir "$NETNS_DIR"
	check "client cgroup enrolled" ambit enroll --cgroup "$CG/client" --name client
	backend web-base --listen 127.0.10.3:8080
	backend web-v1 --listen 127.0.10.1:8080
	backend web-v2 --listen 127.0.10.2:8080
}

test_02_initial_list() {
	local out
	start_sync --source services,endpointslices,httproutes --settle 300
	feed "$K/a01-list.jsonl"
	check "first list applied" wait_for "first batch" applied 1
	check "first batch is one full list of 7 events" \
		grep -q 'events 1-7 (full list): 7 created' "$SYNC_LOG"
	check "Services listed" svc_listed shop/web-v1
	out=$(ambit get routes)
	check "route to the missing web-v2: Accepted, ResolvedRefs False (BackendNotFound)" \
		grep -q 'web .*Service/web:80 *True (Accepted) *False (BackendNotFound)' <<<"$out"
	out=$(ambit get routes -o json)
	check "route status names the missing backend" \
		[ "$(jqr '.[0].parents[0].conditions[1].message' "$out")" = "backendRef Service shop/web-v2 port 80 not found" ]
	check "web's traffic for the missing backend is refused" [ "$(reach 127.96.10.1:80)" = refused ]
}

test_03_service_arrives_later() {
	local out
	feed "$K/a02-v2-arrives.jsonl"
	check "web-v2 arrives" wait_for web-v2 svc_listed shop/web-v2
	out=$(ambit get routes)
	check "the route resolves: ResolvedRefs True" grep -q 'True (Accepted) *True (ResolvedRefs)' <<<"$out"
	check "web reaches web-v2 ($(reach 127.96.10.1:80))" [ "$(reach 127.96.10.1:80)" = web-v2 ]
}

test_04_update_and_stale_update() {
	feed "$K/a03-route-update.jsonl"
	check "route update applied" wait_for "route v1" route_yaml_has 'name: web-v1'
	check "the late, older MODIFIED (resourceVersion 1399) is ignored" \
		bash -c "'$AMBIT' --socket '$SOCK' get routes -o yaml | grep -q 'resourceVersion: \"1402\"'"
	check "the sync counted it stale" grep -q '1 updated, 0 deleted, 0 unchanged, 1 stale' "$SYNC_LOG"
	check "web reaches web-v1 ($(reach 127.96.10.1:80))" [ "$(reach 127.96.10.1:80)" = web-v1 ]
}

test_05_deletions() {
	feed "$K/a04-deletions.jsonl"
	check "web-v2 deleted" wait_for "web-v2 gone" no_svc shop/web-v2
	check "route deleted" bash -c "! '$AMBIT' --socket '$SOCK' get routes | grep -q Service/web"
	check "without a route web reaches its own endpoint ($(reach 127.96.10.1:80))" \
		[ "$(reach 127.96.10.1:80)" = web-base ]
	end_sync
	check "the sync ends with its stream, exit 0" [ $? -eq 0 ]
}

test_06_relist_deletes_what_is_gone() {
	local out
	out=$(ambit sync --source services,endpointslices,httproutes -f "$K/a05-relist.jsonl" 2>&1)
	check "a new watch's list applies ($out)" [ $? -eq 0 ]
	check "web-v1, gone from the list, is deleted" no_svc shop/web-v1
	check "web stays" svc_listed shop/web
	check "2 deleted (web-v1 and its slice), 4 unchanged" grep -q '2 deleted, 4 unchanged' <<<"$out"
}

test_07_bad_objects_skipped() {
	local out rc
	out=$(ambit sync --no-resync -f "$K/bad-objects.jsonl" 2>&1)
	rc=$?
	check "bad objects do not fail the sync (exit $rc)" [ "$rc" -eq 0 ]
	check "SCTP Service reported by event, kind, namespace/name and field" \
		grep -q 'bad-objects.jsonl: event 2: Service shop/sctp: spec.ports\[0\].protocol: SCTP is not supported' <<<"$out"
	check "FQDN EndpointSlice reported" \
		grep -q 'event 6: EndpointSlice shop/fqdn-h4k9s: addressType: FQDN EndpointSlices are not supported' <<<"$out"
	check "a clusterIP conflict is found and only that Service refused" \
		grep -q 'event 3: Service shop/dup-ip: not applied: spec.clusterIP: clusterIP 127.96.11.1 is already used by Service "shop/good-a"' <<<"$out"
	check "the good ones around them are in" all_listed shop/good-a shop/good-b
	check "summary: 3 created, 2 bad, 1 refused" grep -q '3 created, 0 updated, 0 deleted, 0 unchanged, 0 stale, 2 bad, 1 refused' <<<"$out"
	check "nothing of the bad ones got in" none_listed shop/sctp shop/dup-ip
}

test_08_stream_errors() {
	local out rc
	out=$(ambit sync --no-resync -f "$K/truncated.jsonl" 2>&1)
	rc=$?
	check "truncated stream: exit 1 ($rc)" [ "$rc" -eq 1 ]
	check "it says where and that it is truncated" \
		grep -q 'truncated.jsonl: line 2 column [0-9]* (byte [0-9]*): truncated: the input ended in the middle of a value (after event 1)' <<<"$out"
	check "the event before the cut was applied" svc_listed shop/web-v2
	out=$(printf '%s\n}{"type": oops\n' "$(head -1 "$K/error-expired.jsonl")" | ambit sync --no-resync 2>&1)
	rc=$?
	check "malformed JSON: exit 1 ($rc)" [ "$rc" -eq 1 ]
	check "it names the position" grep -q '<stdin>: malformed JSON after event 1: line 2 column 1' <<<"$out"
	check "the event before it was applied" svc_listed shop/before-error
	ambit sync --no-resync -f "$K/error-expired.jsonl" >"$T/err.out" 2>&1
	rc=$?
	check "an ERROR event (410 Expired) ends the sync: exit 1 ($rc)" [ "$rc" -eq 1 ]
	check "it says the watch must restart" \
		grep -q 'event 2: the watch failed: too old resource version: 1200 (1900) (reason Expired, code 410)' "$T/err.out"
	out=$(ambit sync --no-resync -f "$K/pretty.json" 2>&1)
	check "pretty-printed events back to back are read too ($out)" [ $? -eq 0 ]
}

# 1000 events in one burst (500 Services added, then each modified) must
# be a handful of transactions, not 1000.
test_09_burst_is_batched() {
	local before after tmpl
	tmpl=$(head -1 "$K/a02-v2-arrives.jsonl")
	jq -c --arg t ADDED 'range(0; 500) as $i | .type = $t |
		.object.metadata.name = "burst-\($i)" |
		.object.metadata.resourceVersion = "\(3000 + $i)" |
		.object.spec.clusterIP = "127.96.\(40 + ($i / 250 | floor)).\($i % 250 + 1)" |
		.object.spec.clusterIPs = [.object.spec.clusterIP]' <<<"$tmpl" >"$T/burst.jsonl"
	jq -c 'range(0; 500) as $i | .type = "MODIFIED" |
		.object.metadata.name = "burst-\($i)" |
		.object.metadata.resourceVersion = "\(4000 + $i)" |
		.object.metadata.labels.rev = "2" |
		.object.spec.clusterIP = "127.96.\(40 + ($i / 250 | floor)).\($i % 250 + 1)" |
		.object.spec.clusterIPs = [.object.spec.clusterIP]' <<<"$tmpl" >>"$T/burst.jsonl"
	before=$(ambit stats -o json | jq .applies)
	ambit sync --no-resync -f "$T/burst.jsonl" >"$T/burst.out" 2>&1
	after=$(ambit stats -o json | jq .applies)
	check "1000 events: $((after - before)) transaction(s)" [ $((after - before)) -ge 1 -a $((after - before)) -le 2 ]
	check "500 Services in, each at its last version" \
		[ "$(ambit get services -o yaml | grep -c 'rev: "2"')" -eq 500 ]
	ambit sync --source services,endpointslices,httproutes -f "$K/a05-relist.jsonl" >/dev/null 2>&1
	check "a full list takes them out again" no_svc shop/burst-0
}

# A full list larger than a batch: its parts go first, then what it lacks
# is deleted, so nothing that exists is missing in between.
test_09b_large_full_list() {
	local out tmpl
	tmpl=$(head -1 "$K/a02-v2-arrives.jsonl")
	ambit sync --no-resync -f "$K/bad-objects.jsonl" >/dev/null 2>&1 # good-a, good-b
	{
		jq -c 'range(0; 1100) as $i | .object.metadata.name = "big-\($i)" |
			.object.spec.clusterIP = "127.96.\(50 + ($i / 250 | floor)).\($i % 250 + 1)" |
			.object.spec.clusterIPs = [.object.spec.clusterIP]' <<<"$tmpl"
		grep -v EndpointSlice "$K/a05-relist.jsonl"
	} >"$T/biglist.jsonl"
	out=$(ambit sync --source services --max-batch 500 -f "$T/biglist.jsonl" 2>&1)
	check "three parts, none deleting" \
		[ "$(grep -c 'events [0-9]*-[0-9]*: [0-9]* created, 0 updated, 0 deleted' <<<"$out")" -eq 3 ]
	check "then the end of the list deletes what it lacks ($(grep 'end of the list' <<<"$out"))" \
		grep -q 'end of the list (full list): 0 created, 0 updated, 2 deleted' <<<"$out"
	check "good-a and good-b, not listed, are gone" none_listed shop/good-a shop/good-b
	check "the listed ones are in" all_listed shop/big-0 shop/big-1099 shop/web mesh/echo
	# The same as a `kubectl get -o json` List for --resync.
	jq -s '{apiVersion: "v1", kind: "List", metadata: {resourceVersion: ""},
		items: map(.object)}' "$T/biglist.jsonl" >"$T/biglist.json"
	ambit sync --no-resync -f "$K/bad-objects.jsonl" >/dev/null 2>&1
	out=$(ambit sync --source services --max-batch 500 --resync "$T/biglist.json" </dev/null 2>&1)
	check "--resync LIST in parts too: 3 parts, then the deletions" \
		[ "$(grep -c 'items [0-9]*-[0-9]*: 0 created, 0 updated, 0 deleted' <<<"$out")" -eq 3 ]
	check "(again good-a and good-b)" grep -q 'end of the list (full list): .* 2 deleted' <<<"$out"
	ambit sync --source services -f "$K/a05-relist.jsonl" >/dev/null 2>&1
	check "a smaller list takes them out again" no_svc shop/big-0
}

# ---- enrollment by labels ------------------------------------------------------------

POD_NS=()

# make_pod NAME N: netns $NS-NAME, eth0 198.18.N.2/24, node side 198.18.N.1.
make_pod() {
	local p=$NS-$1
	ip netns add "$p" && EXTRA_NETNS+=("$p")
	ip -n "$p" link set lo up
	ip -n "$NS" link add "vp$2" type veth peer name eth0 netns "$p"
	ip -n "$NS" addr add "198.18.$2.1/24" dev "vp$2"
	ip -n "$NS" link set "vp$2" up
	ip -n "$p" addr add "198.18.$2.2/24" dev eth0
	ip -n "$p" link set eth0 up
	ip -n "$p" route add default via "198.18.$2.1"
	POD_NS+=("$p")
}

# reach_from POD: whom a process in that pod reaches at mesh/echo's VIP.
reach_from() {
	local out
	out=$(bash -c "$IN_CG" "/run/netns/$NS-$1" "$CG/outsider" \
		curl -sS --max-time 3 http://127.96.20.1:80/ 2>&1) || { echo refused; return; }
	jqr .hostname "$out"
}

enrolled() { # enrolled NS/POD: listed by ambit get enrollments
	ambit get enrollments | grep -q "^${1%/*} *${1#*/} .*Enrolled.* pod=$1 by labels"
}
not_enrolled() { ! enrolled "$1"; }
only_enrolled() { enrolled "$1" && not_enrolled "$2"; } # only_enrolled IN OUT

attach() { # attach X NAMESPACE [more args]: pod client-X of netns $NS-X
	local x=$1 ns=$2
	shift 2
	ambit pod attach --namespace "$ns" --name "client-$x" --netns "/run/netns/$NS-$x" "$@"
}

test_10_pods() {
	make_pod a 1
	make_pod b 2
	make_pod c 3
	make_pod d 4
	make_pod e 5
	make_pod z 9 # no Pod has its address
	# client-d existed before ambitd: only its namespace, in the
	# runtime's directory, tells where it is.
	touch "$NETNS_DIR/cni-d" "$NETNS_DIR/cni-z" "$NETNS_DIR/not-a-netns"
	mount --bind "/run/netns/$NS-d" "$NETNS_DIR/cni-d"
	mount --bind "/run/netns/$NS-z" "$NETNS_DIR/cni-z"
	bash -c "$IN_CG" "$NSPATH" "$CG/backends" "$ECHO" --name echo-node \
		--listen 198.18.1.1:8080 --ready-file "$T/echo.ready" >"$T/echo.log" 2>&1 &
	BG_PIDS+=($!)
	check "mesh/echo's backend is up" wait_for echo test -e "$T/echo.ready"
	check "a pod not enrolled gets no redirect ($(reach_from a))" [ "$(reach_from a)" = refused ]
}

test_11_attach_before_any_labels() {
	local out
	out=$(attach a mesh --container-id sandbox-a --ip 198.18.1.2)
	check "attach answers ($out)" [ $? -eq 0 ]
	check "without Namespace or Pod objects: not enrolled" grep -q 'not enrolled (no ambient label on the pod, and its Namespace is not known)' <<<"$out"
	check "attach client-b" attach b plain --container-id sandbox-b1
	check "attach client-c" attach c mesh
	out=$(ambit pod attach --namespace mesh --name x --netns "/run/netns/nonexistent-$$" 2>&1)
	check "a netns that does not exist is refused: exit $?" [ $? -eq 1 ]
	check "saying why ($out)" grep -q "netns /run/netns/nonexistent-$$: No such file or directory" <<<"$out"
}

test_12_labels_from_sync() {
	local out
	start_sync --source namespaces,pods --settle 300
	feed "$K/b01-list.jsonl"
	check "namespaces and pods synced" wait_for pods applied 1
	check "mesh/client-a enrolled (namespace label)" wait_for client-a enrolled mesh/client-a
	check "plain/client-b not (no label)" not_enrolled plain/client-b
	check "mesh/client-c not (opts out)" not_enrolled mesh/client-c
	check "mesh/client-d, never attached, found in --netns-dir and enrolled" \
		wait_for client-d enrolled mesh/client-d
	out=$(ambit get enrollments)
	check "client-d's enrollment names its namespace in --netns-dir" grep -q "$NETNS_DIR/cni-d) pod=mesh/client-d" <<<"$out"
	out=$(ambit get pods)
	check "get pods: client-c opted out" grep -q 'client-c .*no .*opted out: pod label istio.io/dataplane-mode=none' <<<"$out"
	check "get pods: the hostNetwork pod is never in" grep -q 'node-agent .*hostNetwork pod' <<<"$out"
	check "get pods: client-d found, not told" grep -q "client-d .*yes .*cni-d (found)" <<<"$out"
	check "get namespaces: mesh is ambient" bash -c "'$AMBIT' --socket '$SOCK' get namespaces | grep -q '^mesh  *ambient'"
	check "client-a reaches mesh/echo ($(reach_from a))" [ "$(reach_from a)" = echo-node ]
	check "client-d reaches mesh/echo ($(reach_from d))" [ "$(reach_from d)" = echo-node ]
	check "client-b is not redirected ($(reach_from b))" [ "$(reach_from b)" = refused ]
	check "client-c is not redirected ($(reach_from c))" [ "$(reach_from c)" = refused ]
	check "the decoy namespace is nobody's" bash -c "! '$AMBIT' --socket '$SOCK' get pods | grep -q cni-z"
	out=$(ambit unenroll --name client-a --namespace mesh 2>&1)
	check "unenroll of a pod its labels enroll is refused, saying so" \
		grep -q 'mesh/client-a is enrolled by its labels: change them' <<<"$out"
}

test_13_attached_before_its_pod() {
	local out
	out=$(attach e mesh)
	check "no Pod object yet: the namespace decides ($out)" grep -q 'enrolled (namespace label istio.io/dataplane-mode=ambient)' <<<"$out"
	check "client-e reaches mesh/echo" [ "$(reach_from e)" = echo-node ]
	# CNI says another pod has client-d's namespace (found by address):
	# CNI's word wins, and one namespace never gets two Enrollments,
	# which would refuse every later change.
	out=$(ambit pod attach --namespace mesh --name reused --netns "$NETNS_DIR/cni-d" 2>&1)
	check "a namespace CNI gives to another pod goes to that pod ($out)" \
		only_enrolled mesh/reused mesh/client-d
	check "detached, client-d has it again" ambit pod detach --namespace mesh --name reused
	check "client-d enrolled again" enrolled mesh/client-d
	feed "$K/b02-pod-e.jsonl"
	check "its Pod arrives, opting out: unenrolled" wait_for "client-e out" not_enrolled mesh/client-e
	check "client-e is no longer redirected" [ "$(reach_from e)" = refused ]
}

test_14_label_changes() {
	feed "$K/b03-labels.jsonl"
	check "client-b enrolled by its new pod label" wait_for client-b enrolled plain/client-b
	check "mesh lost its label: client-a unenrolled" wait_for "client-a out" not_enrolled mesh/client-a
	check "and client-d" not_enrolled mesh/client-d
	check "client-b reaches mesh/echo ($(reach_from b))" [ "$(reach_from b)" = echo-node ]
	check "client-a is no longer redirected ($(reach_from a))" [ "$(reach_from a)" = refused ]
}

test_15_restart_keeps_pods() {
	local before after
	before=$(ambit get enrollments -o json | jq -c '[.[] | .pod]')
	stop_daemon
	# Forget client-d: a daemon that starts finds it again by address.
	jq '.pods |= map(select(.name != "client-d"))' "$STATE/pods.json" >"$T/pods.json" &&
		mv "$T/pods.json" "$STATE/pods.json"
	check "daemon restarts" start_daemon --netns-dir "$NETNS_DIR"
	check "at start it finds client-d's namespace again" \
		bash -c "'$AMBIT' --socket '$SOCK' get pods | grep -q 'client-d .*cni-d (found)'"
	after=$(ambit get enrollments -o json | jq -c '[.[] | .pod]')
	check "same enrollments after a restart ($after)" [ "$before" = "$after" ]
	check "attachments persisted" bash -c "'$AMBIT' --socket '$SOCK' get pods | grep -q 'client-b .*yes .*(cni)'"
	check "client-b still reaches mesh/echo" [ "$(reach_from b)" = echo-node ]
}

test_16_detach() {
	local out
	out=$(ambit pod detach --namespace plain --name client-b --container-id sandbox-old)
	check "a DEL for an older sandbox is ignored ($out)" grep -q 'attached to another sandbox' <<<"$out"
	check "client-b still enrolled" enrolled plain/client-b
	out=$(ambit pod detach --namespace plain --name client-b --container-id sandbox-b1)
	check "detach ($out)" grep -q 'detached: not enrolled' <<<"$out"
	check "client-b unenrolled" not_enrolled plain/client-b
	check "client-b is no longer redirected" [ "$(reach_from b)" = refused ]
	out=$(ambit pod detach --namespace plain --name client-b)
	check "detach again is fine ($out)" grep -q 'was not attached: nothing to do' <<<"$out"
	end_sync
	check "the pods sync ends with its stream" [ $? -eq 0 ]
}

# `ambit get KIND -o yaml` is input for `ambit apply`, for every kind.
test_17_yaml_round_trip() {
	local kind out
	ambit sync --no-resync -f "$K/a01-list.jsonl" >/dev/null 2>&1
	for kind in services endpoints routes pods namespaces enrollments; do
		out=$(ambit get "$kind" -o yaml | ambit apply -f - 2>&1)
		check "get $kind -o yaml | apply: accepted, all unchanged" \
			bash -c "[ -n \"\$1\" ] && ! grep -qv ' unchanged$' <<<\"\$1\"" _ "$out"
	done
	check "routes -o yaml carry the conditions a controller would write" \
		bash -c "'$AMBIT' --socket '$SOCK' get routes -o yaml | grep -q 'controllerName: ambit.io/ambitd'"
}

# ---- the watch loop ----------------------------------------------------------------------

# A stand-in kubectl for scripts/ambit-k8s-watch: there is no cluster in
# this test. It replays what the real kubectl printed (tests/data/k8s):
# run N of `get RES -A -o json` prints $FAKE/RES.list.N, run N of a watch
# $FAKE/RES.watch.N and then ends (the watch expires), except the last
# one given, which stays open like a quiet watch.
fake_kubectl() {
	local svc_event='^{"type":"[A-Z]*","object":{"apiVersion":"v1","kind":"Service",'
	FAKE=$T/fake
	mkdir -p "$FAKE" "$T/bin"
	cat >"$T/bin/kubectl" <<'EOF'
#!/usr/bin/env bash
res=$2 mode=list
case " $* " in *" --watch "*) mode=watch ;; esac
echo "$*" >>"$FAKE/calls"
n=$(($(cat "$FAKE/$res.$mode.count" 2>/dev/null || echo 0) + 1))
echo "$n" >"$FAKE/$res.$mode.count"
f=$FAKE/$res.$mode.$n
if [ ! -e "$f" ]; then
	[ "$mode" = watch ] && exec -a "$0" sleep 600 # a quiet watch
	f=$(ls "$FAKE/$res.$mode".* | grep -v count | sort | tail -1)
fi
cat "$f"
EOF
	chmod +x "$T/bin/kubectl"
	cp "$K/list-services-1.json" "$FAKE/services.list.1"
	cp "$K/list-services-2.json" "$FAKE/services.list.2"
	# The Service events of recorded streams (an object's keys are sorted:
	# apiVersion, then kind).
	grep "$svc_event" "$K/a01-list.jsonl" >"$FAKE/services.watch.1"
	grep "$svc_event" "$K/a05-relist.jsonl" >"$FAKE/services.watch.2"
	# A third watch lists, sees one more Service come, then falls behind:
	# an ERROR event (410 Gone).
	cat "$FAKE/services.watch.2" "$K/error-expired.jsonl" >"$FAKE/services.watch.3"
	cp "$K/list-httproutes-empty.json" "$FAKE/httproutes.list.1"
}

watch_log_has() { grep -q "$1" "$T/watch.log"; }

# Nothing the loop started is left: no kubectl, no sync ([s] keeps pgrep
# from matching a command line that merely contains the pattern).
loop_children_gone() {
	! pgrep -f "$T/bin/[k]ubectl" >/dev/null &&
		! pgrep -f 'sync --source [s]ervices --resync' >/dev/null
}

test_18_watch_loop() {
	local wpid
	fake_kubectl
	ambit sync --no-resync -f "$K/a01-list.jsonl" >/dev/null 2>&1 # a route to delete
	FAKE=$FAKE PATH=$T/bin:$PATH "$TOP/scripts/ambit-k8s-watch" --socket "$SOCK" \
		--ambit "$AMBIT" --kinds services,httproutes --backoff-min 0.2 \
		2>"$T/watch.log" &
	wpid=$!
	BG_PIDS+=("$wpid")
	check "the services watch ends and restarts with a new list" \
		wait_for restart watch_log_has 'kind=services msg="watch ended after [0-9]*s (kubectl exit 0, ambit sync exit 0); relisting in 0.2s'
	check "second round applied: web-v1 deleted by the new list" wait_for "web-v1 gone" no_svc shop/web-v1
	check "an empty route list deletes the route (kubectl printed nothing)" \
		wait_for "route gone" bash -c "! '$AMBIT' --socket '$SOCK' get routes | grep -q Service/web"
	check "kubectl was run as the loop documents" \
		grep -q -- '^get services -A --watch --output-watch-events -o json$' "$FAKE/calls"
	check "sync's reports are logged" watch_log_has 'kind=services msg="sync .*(full list)'
	check "backoff doubles while watches end quickly" wait_for backoff watch_log_has 'relisting in 0.4s'
	check "an ERROR event (410 Expired) is logged as an error" \
		wait_for expired watch_log_has 'level=error .*kind=services msg="sync: .*the watch failed: too old resource version'
	check "and the watch starts over" \
		wait_for expired watch_log_has 'ambit sync exit 1); relisting in 0.8s'
	check "what came before the ERROR was applied (not as a full list)" \
		watch_log_has 'kind=services msg="sync <stdin>: events 1-3: 1 created'
	check "the next list deletes what the broken watch had added" \
		wait_for "relisted" no_svc shop/before-error
	kill "$wpid"
	wait "$wpid"
	check "SIGTERM stops it cleanly" [ $? -eq 0 ]
	check "and every kubectl and sync it ran" wait_for children loop_children_gone
	if [ "$FAILED" -gt 0 ]; then sed 's/^/#   /' "$T/watch.log" | tail -20; fi
}

e2e_setup
trap sync_teardown EXIT
e2e_run
