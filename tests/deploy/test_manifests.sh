#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# deploy/ checked without a cluster: kubectl (Debian's kubernetes-client)
# parses every document offline (--local) and decodes the DaemonSet into
# its typed form, which drops misspelled or misplaced fields; jq then checks
# what each object needs. The Containerfile and the systemd unit get a
# parse-level check, `make install` into a scratch root shows that every
# path they and the DaemonSet run exists, and the binaries' libraries are
# all in the image's runtime stage. No image is built, nothing is applied.
#   OUT=.output bash tests/deploy/test_manifests.sh
source "$(dirname "$0")/lib.sh"

OUT=${OUT:?set OUT to the build directory}
DEPLOY=$TOP/deploy
need kubectl jq make readelf ldd dpkg systemd-analyze man
[ -x "$OUT/ambitd" ] || fail_setup "no $OUT/ambitd (make)"
WORK=$(mktemp -d /tmp/ambit-deploy-test.XXXX)
trap 'rm -rf "$WORK"' EXIT
# Nothing below talks to a cluster (--local); a configuration that points
# at a closed loopback port makes sure none is reachable by mistake.
cat >"$WORK/kubeconfig" <<'EOF'
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: none, user: {token: none}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
EOF
export KUBECONFIG=$WORK/kubeconfig

OBJS=$WORK/objects.json
DS_FILE=$(grep -l '^kind: DaemonSet' "$DEPLOY"/*.yaml | head -n1)
jq_ok() { jq -e "$@" >/dev/null; }
ds() { jq '.[] | select(.kind == "DaemonSet")' "$OBJS"; }
pod() { ds | jq '.spec.template.spec'; }
# Every container, init containers included, tagged with its kind.
containers() {
	pod | jq '[(.initContainers // [])[] | . + {init: true}] + .containers | .[]'
}

# The hostPath volumes, each with why it is there (README says the same).
HOST_PATHS=(/sys/fs/bpf /sys/fs/cgroup /run/ambit /var/lib/ambit /run/netns
	/opt/cni/bin /etc/cni/net.d)

test_parse() {
	local docs n
	if ! kubectl annotate --local -f "$DEPLOY" -o json ambit.io/manifest-check- \
		>"$WORK/raw.json" 2>"$WORK/err"; then
		not_ok "kubectl parses every document in deploy/: $(cat "$WORK/err")"
		fail_setup "deploy/ does not parse"
	fi
	jq -s . "$WORK/raw.json" >"$OBJS"
	docs=$(cat "$DEPLOY"/*.yaml | grep -c '^kind:')
	n=$(jq length "$OBJS")
	check "kubectl parses every document in deploy/ ($n of $docs)" [ "$n" = "$docs" ]
	check "the objects: Namespace, ServiceAccount, ClusterRole, ClusterRoleBinding, ConfigMap, DaemonSet" \
		[ "$(jq -c '[.[].kind] | sort' "$OBJS")" = \
		'["ClusterRole","ClusterRoleBinding","ConfigMap","DaemonSet","Namespace","ServiceAccount"]' ]
	check_empty "namespaced objects are in ambit-system" "$(jq -r '.[] |
		select(.kind | IN("Namespace", "ClusterRole", "ClusterRoleBinding") | not) |
		select(.metadata.namespace != "ambit-system") | "\(.kind)/\(.metadata.name)"' "$OBJS")"
}

# The typed decode keeps known fields only: any set field that does not
# come back is misspelled or in the wrong place.
test_typed() {
	local lost
	if ! kubectl set env --local -f "$DS_FILE" -o json AMBIT_MANIFEST_CHECK=1 \
		>"$WORK/typed.json" 2>"$WORK/err"; then
		not_ok "$WHAT: the DaemonSet decodes as apps/v1: $(cat "$WORK/err")"
		return
	fi
	ds >"$WORK/ds.json"
	lost=$(jq -rn --slurpfile u "$WORK/ds.json" --slurpfile t "$WORK/typed.json" '
		$u[0] | paths(scalars) as $p | getpath($p) as $v |
		select($v != false and $v != 0 and $v != "") |
		select(($t[0] | getpath($p)) != $v) | $p | map(tostring) | join(".")')
	check_empty "$WHAT: the DaemonSet decodes as apps/v1 with no unknown field" "$lost"
}

test_daemonset_wiring() {
	check "$WHAT: DaemonSet selector matches the pod template's labels" \
		jq_ok '.spec.selector.matchLabels as $s | .spec.template.metadata.labels as $l |
			($s | length) > 0 and ($s | to_entries | all($l[.key] == .value))' \
		<(ds)
	check_empty "$WHAT: every volumeMount has a volume" "$(pod | jq -r '
		[.volumes[].name] as $v | [(.initContainers // [])[], .containers[]][] |
		.name as $c | .volumeMounts[]? | select(.name | IN($v[]) | not) |
		"\($c): \(.name)"')"
	check_empty "$WHAT: every volume is mounted" "$(pod | jq -r '
		[[(.initContainers // [])[], .containers[]][] | .volumeMounts[]?.name] as $m |
		.volumes[].name | select(IN($m[]) | not)')"
}

test_daemonset_refs() {
	check "serviceAccountName is the ServiceAccount of deploy/" jq_ok \
		--arg sa "$(pod | jq -r .serviceAccountName)" \
		'any(.[]; .kind == "ServiceAccount" and .metadata.name == $sa and
			.metadata.namespace == "ambit-system")' "$OBJS"
	check "the ClusterRoleBinding binds that ServiceAccount to the ClusterRole" jq_ok \
		--arg sa "$(pod | jq -r .serviceAccountName)" '
		(.[] | select(.kind == "ClusterRole") | .metadata.name) as $role |
		any(.[]; .kind == "ClusterRoleBinding" and .roleRef.kind == "ClusterRole" and
			.roleRef.name == $role and
			any(.subjects[]; .kind == "ServiceAccount" and .name == $sa and
				.namespace == "ambit-system"))' "$OBJS"
	check "envFrom names the ConfigMap of deploy/" jq_ok \
		--arg cm "$(containers | jq -r '.envFrom[]?.configMapRef.name')" \
		'any(.[]; .kind == "ConfigMap" and .metadata.name == $cm)' "$OBJS"
	check "every container runs the same image" \
		[ "$(containers | jq -r .image | sort -u | wc -l)" = 1 ]
}

test_rbac() {
	check_empty "ClusterRole verbs are exactly get, list, watch" "$(jq -r '
		.[] | select(.kind == "ClusterRole") | .rules[] |
		select((.verbs | sort) != ["get", "list", "watch"]) | tojson' "$OBJS")"
	check "ClusterRole resources are exactly what ambit routes by" [ "$(jq -c '
		[.[] | select(.kind == "ClusterRole") | .rules[] | select(.nonResourceURLs | not) |
		 .apiGroups[] as $g | .resources[] | "\($g)/\(.)"] | sort' "$OBJS")" = \
		'["/namespaces","/pods","/services","discovery.k8s.io/endpointslices","gateway.networking.k8s.io/httproutes"]' ]
	check_empty "ClusterRole has no nonResourceURLs, resourceNames or wildcards" "$(jq -r '
		.[] | select(.kind == "ClusterRole") | .rules[] |
		select(.nonResourceURLs or .resourceNames or
		       ([.apiGroups[], .resources[], .verbs[]] | any(. == "*"))) | tojson' "$OBJS")"
}

test_containers() {
	check_empty "$WHAT: every container requests CPU and memory and has a memory limit" \
		"$(containers | jq -r 'select((.resources.requests.cpu and
			.resources.requests.memory and .resources.limits.memory) | not) | .name')"
	check_empty "$WHAT: every container has a securityContext" \
		"$(containers | jq -r 'select(.securityContext | not) | .name')"
	check "$WHAT: only the $1 container is privileged" \
		[ "$(containers | jq -r 'select(.securityContext.privileged) | .name')" = "$1" ]
	check_empty "$WHAT: the others drop every capability, no escalation, read-only root" \
		"$(containers | jq -r 'select(.securityContext.privileged | not) |
			select((.securityContext.allowPrivilegeEscalation == false and
				.securityContext.readOnlyRootFilesystem == true and
				(.securityContext.capabilities.drop | index("ALL"))) | not) | .name')"
}

test_propagation() {
	check_empty "Bidirectional propagation only in the privileged container, for bpffs" \
		"$(containers | jq -r '.securityContext.privileged as $p | .volumeMounts[]? |
			select(.mountPropagation == "Bidirectional") |
			select(($p and .mountPath == "/sys/fs/bpf") | not) | .mountPath')"
	check "the netns directory is mounted HostToContainer (new pods appear)" \
		jq_ok 'any(.volumeMounts[]?; .mountPath == "/var/run/netns" and
			.mountPropagation == "HostToContainer")' <(containers | jq -s 'map(select(.name == "ambitd"))[0]')
}

test_host_access() {
	local paths want
	paths=$(pod | jq -r '.volumes[].hostPath.path // empty' | sort)
	want=$(printf '%s\n' "${HOST_PATHS[@]}" | sort)
	check "hostPath volumes are the documented set" [ "$paths" = "$want" ]
	check_empty "README (Installing on a cluster) says what each host path is for" \
		"$(for p in "${HOST_PATHS[@]}"; do
			sed -n '/^## Installing on a cluster/,/^## /p' "$TOP/README.md" |
				grep -qF -- "\`$p\`" || echo "$p"
		done)"
	justified 'hostPID: true' 'hostNetwork: true'
}

justified() { # LINE...: each in $DS_FILE, with a comment right above it
	local line
	for line in "$@"; do
		check "$WHAT: $line is justified by a comment right above it" \
			awk -v want="$line" '{ s = $0; sub(/^ +/, "", s) }
				s == want { found = 1; exit !(prev ~ /^ *#/) } { prev = $0 }
				END { if (!found) exit 1 }' "$DS_FILE"
	done
}

# ambitd-run turns the ConfigMap into flags: the real ambitd must take them.
test_configmap() {
	local vars=() unknown args
	mapfile -t vars < <(jq -r '.[] | select(.kind == "ConfigMap") | .data |
		to_entries[] | "\(.key)=\(.value)"' "$OBJS")
	unknown=$(for v in "${vars[@]}"; do
		"$TOP/scripts/ambitd-run" --help | grep -qw -- "${v%%=*}" || echo "${v%%=*}"
	done)
	check_empty "every ConfigMap key is a setting ambitd-run knows" "$unknown"
	if ! args=$(env -i PATH="$PATH" "${vars[@]}" AMBITD="$OUT/ambitd" \
		"$TOP/scripts/ambitd-run" --print 2>&1); then
		not_ok "ambitd-run builds a command line from the ConfigMap: $args"
		return
	fi
	mapfile -t args <<<"$args"
	echo "# ${args[*]}"
	check "ambitd accepts the ConfigMap's settings" parses_all "${args[@]}"
}

# --help last: ambitd parses every option before it, then exits 0.
parses_all() {
	"$@" --help >/dev/null
}

test_install() {
	if ! make -s -C "$TOP" O="$OUT" install DESTDIR="$WORK/root" >"$WORK/install.log" 2>&1; then
		not_ok "make install into a scratch root"
		sed 's/^/#   /' "$WORK/install.log"
		return
	fi
	ok "make install into a scratch root"
	check_empty "make install puts the binaries, scripts, man pages, completion and unit in place" \
		"$(for f in usr/sbin/ambitd usr/sbin/ambit-proxy usr/bin/ambit \
			usr/libexec/ambit/ambitd-run usr/libexec/ambit/ambit-cni-install \
			usr/share/man/man1/ambit.1 usr/share/man/man8/ambitd.8 \
			usr/share/man/man8/ambit-proxy.8 \
			usr/share/bash-completion/completions/ambit \
			usr/lib/systemd/system/ambitd.service etc/default/ambitd; do
			[ -e "$WORK/root/$f" ] || echo "missing /$f"
		done)"
}

# The Containerfile, instruction by instruction (continuations joined).
containerfile() {
	sed -e 's/^[[:space:]]*#.*//' "$DEPLOY/Containerfile" |
		awk '/\\$/ { sub(/\\$/, ""); buf = buf $0; next }
		     { print buf $0; buf = "" }' | grep -v '^[[:space:]]*$'
}

# Packages installed by the RUN lines of stage N (0: build, 1: runtime).
stage_packages() {
	containerfile | awk -v want="$1" '/^FROM / { stage++ } stage == want + 1 && /^RUN / {
		n = split($0, w, /[[:space:]]+/); on = 0
		for (i = 1; i <= n; i++) {
			if (w[i] == "install" && w[i - 1] == "apt-get") { on = 1; continue }
			if (w[i] == "&&") on = 0
			if (on && w[i] !~ /^-/ && w[i] != "") print w[i]
		} }' | sort -u
}

test_containerfile() {
	local bad copies missing pkgs deps
	bad=$(containerfile | awk '{ print $1 }' | grep -vxE \
		'FROM|RUN|COPY|ADD|ENV|ARG|WORKDIR|USER|ENTRYPOINT|CMD|LABEL|EXPOSE|VOLUME|STOPSIGNAL|HEALTHCHECK|SHELL')
	check_empty "Containerfile: every line is a known instruction" "$bad"
	check "Containerfile: a debian:12 build stage, then debian:12-slim" \
		[ "$(containerfile | awk '/^FROM / { $1 = ""; print }' | tr -s ' ' | tr '\n' ';')" = \
		" debian:12 AS build; debian:12-slim;" ]
	check "Containerfile: ENTRYPOINT is a JSON array" \
		jq_ok 'type == "array"' <(containerfile | sed -n 's/^ENTRYPOINT //p')
	pkgs=$(sed -n '/^PKGS=(/,/^)/p' "$TOP/scripts/install-deps.sh" | sed 's/#.*//' |
		tr -s ' \t' '\n' | grep -v '^PKGS=\|^)' | grep . | sort -u)
	check_empty "build stage installs only packages of scripts/install-deps.sh" \
		"$(comm -23 <(stage_packages 0) <(echo "$pkgs"))"
	[ -d "$WORK/root" ] || return 0
	copies=$(containerfile | awk '/^COPY --from=build/ { sub("^/staging", "", $3); print $3 }')
	missing=$(for c in $copies; do [ -d "$WORK/root$c" ] || echo "$c"; done)
	check_empty "every directory the image copies is made by make install" "$missing"
	# What the DaemonSet runs must be in one of the copied directories.
	missing=$(containers | jq -r '.command[0], (.readinessProbe.exec.command[0] // empty)' |
		sort -u | while read -r cmd; do
			case $cmd in /*) ;; *) cmd=/usr/bin/$cmd ;; esac
			in_image=0
			for c in $copies; do
				case $cmd in "$c"*) [ -x "$WORK/root$cmd" ] && in_image=1 ;; esac
			done
			[ "$in_image" = 1 ] || echo "$cmd"
		done)
	check_empty "every command of the DaemonSet is in the image" "$missing"
	check "the init container finds the ambit-cni plugin where make install puts it" \
		test -x "$WORK/root/opt/cni/bin/ambit-cni"
	# The libraries the shipped binaries link, by Debian package.
	deps=$(for c in $copies; do
		find "$WORK/root$c" -type f -perm -u+x 2>/dev/null; done | while read -r b; do
		[ "$(head -c4 "$b" | tr -d '\177')" = ELF ] || continue
		readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | while read -r lib; do
			path=$(ldd "$b" | awk -v l="$lib" '$1 == l { print $3 }')
			pkg=
			for p in "$path" "/usr$path" "${path#/usr}"; do
				pkg=$(dpkg -S "$p" 2>/dev/null | head -n1 | cut -d: -f1) && [ -n "$pkg" ] && break
			done
			echo "${pkg:-unknown:$lib}"
		done
	done | sort -u | grep -vx libc6)
	echo "# runtime libraries:" $deps
	check_empty "runtime stage installs every library the binaries link" \
		"$(comm -23 <(echo "$deps") <(stage_packages 1))"
}

# The unit as installed (paths follow PREFIX), its keys, and systemd's own
# verification with the scratch root's paths and man pages.
test_systemd() {
	local unit=$WORK/root/usr/lib/systemd/system/ambitd.service key
	[ -f "$unit" ] || { not_ok "unit installed"; return; }
	for key in 'ExecStart=/usr/libexec/ambit/ambitd-run' 'RuntimeDirectory=ambit' \
		'StateDirectory=ambit' 'KillMode=process' 'EnvironmentFile=-/etc/default/ambitd' \
		'NoNewPrivileges=yes' 'ProtectSystem=strict'; do
		check "unit: $key" grep -qxF -- "$key" "$unit"
	done
	check "unit: ProtectKernelTunables is not set (it would make /sys/fs/bpf read-only)" \
		bash -c "! grep -q '^ProtectKernelTunables=' '$unit'"
	check_empty "unit: every line is a section, a comment or a Key=value" \
		"$(grep -vE '^(\[(Unit|Service|Install)\]|#.*|[A-Z][A-Za-z]+=.*|)$' "$unit")"
	sed -e "s|/usr/|$WORK/root/usr/|g" -e "s|/etc/default/|$WORK/root/etc/default/|" \
		"$unit" >"$WORK/ambitd.service"
	local out
	out=$(MANPATH=$WORK/root/usr/share/man systemd-analyze verify "$WORK/ambitd.service" 2>&1)
	check_empty "systemd-analyze verify: no unknown key, binaries and man pages found" "$out"
	echo "# $(systemd-analyze security --offline=true "$WORK/ambitd.service" 2>/dev/null |
		grep -i 'overall exposure')"
}

# deploy/uninstall/: what README's removal runs.
test_uninstall() {
	local f=$DEPLOY/uninstall/ambit-uninstall.yaml
	WHAT=ambit-uninstall
	OBJS=$WORK/uninstall.json
	DS_FILE=$f
	if ! kubectl annotate --local -f "$f" -o json ambit.io/manifest-check- \
		2>"$WORK/err" | jq -s . >"$OBJS"; then
		not_ok "$WHAT: kubectl parses $f: $(cat "$WORK/err")"
		return
	fi
	check "$WHAT: one DaemonSet in ambit-system" jq_ok \
		'length == 1 and .[0].kind == "DaemonSet" and .[0].metadata.namespace == "ambit-system"' "$OBJS"
	test_typed
	test_daemonset_wiring
	test_containers teardown
	justified 'hostNetwork: true'
	check "$WHAT: removes the CNI entry first, then the data plane" \
		[ "$(pod | jq -c '[.initContainers[].command]')" = \
		'[["/usr/libexec/ambit/ambit-cni-install","--uninstall","--cni-bin-dir","/host/opt/cni/bin","--cni-conf-dir","/host/etc/cni/net.d"],["/usr/sbin/ambitd","--teardown"]]' ]
	check_empty "$WHAT: host paths are those of the ambit DaemonSet" \
		"$(pod | jq -r '.volumes[].hostPath.path // empty' | while read -r p; do
			printf '%s\n' "${HOST_PATHS[@]}" | grep -qx "$p" || echo "$p"
		done)"
}

WHAT=ambit
test_parse
test_typed
test_daemonset_wiring
test_daemonset_refs
test_rbac
test_containers ambitd
test_propagation
test_host_access
test_configmap
test_install
test_containerfile
test_systemd
test_uninstall
finish
