#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# scripts/ambit-cni-install, as the DaemonSet's init container runs it, on
# scratch CNI directories: the plugin lands in the bin directory, the
# node's first configuration ends with {"type": "ambit-cni"} and is
# otherwise untouched, a second run changes nothing, a single-plugin .conf
# becomes a list, --uninstall puts everything back, errors name the file.
#   bash tests/deploy/test_cni_install.sh
source "$(dirname "$0")/lib.sh"

need jq cmp
INSTALL=$TOP/scripts/ambit-cni-install
WORK=$(mktemp -d /tmp/ambit-cni-install-test.XXXX)
trap 'rm -rf "$WORK"' EXIT
BIN=$WORK/bin
CONF=$WORK/net.d
PLUGIN=$WORK/ambit-cni
printf '#!/bin/sh\necho ambit-cni\n' >"$PLUGIN"
chmod 0755 "$PLUGIN"

fresh() {
	rm -rf "$BIN" "$CONF"
	mkdir -p "$BIN" "$CONF"
}

run() { # ARGS...: the installer on the scratch directories
	"$INSTALL" --plugin "$PLUGIN" --cni-bin-dir "$BIN" --cni-conf-dir "$CONF" "$@" \
		>"$WORK/out" 2>&1
}

# What a network add-on writes: an interface plugin and more chained ones.
bridge_list() {
	cat <<'EOF'
{
  "cniVersion": "1.0.0",
  "name": "podnet",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
}

fails() { ! "$@"; }

types() { jq -c '[.plugins[].type]' "$1"; }

test_first_install() {
	fresh
	bridge_list >"$CONF/10-podnet.conflist"
	cp "$CONF/10-podnet.conflist" "$WORK/orig.conflist"
	check "installs on a node with a plugin list" run
	check "the plugin is in the bin directory, executable, the same bytes" \
		bash -c "[ -x '$BIN/ambit-cni' ] && cmp -s '$PLUGIN' '$BIN/ambit-cni'"
	check "ambit-cni is appended last" \
		[ "$(types "$CONF/10-podnet.conflist")" = '["bridge","portmap","ambit-cni"]' ]
	check "the entry is exactly {\"type\": \"ambit-cni\"}" \
		[ "$(jq -c '.plugins[-1]' "$CONF/10-podnet.conflist")" = '{"type":"ambit-cni"}' ]
	check "everything else is as it was" [ "$(jq -S 'del(.plugins[-1])' "$CONF/10-podnet.conflist")" = \
		"$(jq -S . "$WORK/orig.conflist")" ]
	check_empty "no temporary file is left" "$(find "$CONF" "$BIN" -name '*.ambit-tmp')"
}

test_idempotent() {
	local before after
	before=$(stat -c '%i %Y %s' "$CONF/10-podnet.conflist" "$BIN/ambit-cni"; md5sum "$CONF/10-podnet.conflist")
	sleep 1 # a rewrite would show in the modification time
	check "a second run succeeds" run
	after=$(stat -c '%i %Y %s' "$CONF/10-podnet.conflist" "$BIN/ambit-cni"; md5sum "$CONF/10-podnet.conflist")
	check "and changes nothing (same inodes, times, bytes)" [ "$before" = "$after" ]
	check "and says so" grep -q 'already ends with ambit-cni' "$WORK/out"
}

test_moved_back_last() {
	# The network's agent rewrote its list and appended after us.
	jq '.plugins += [{"type": "bandwidth"}]' "$CONF/10-podnet.conflist" >"$WORK/t" &&
		mv "$WORK/t" "$CONF/10-podnet.conflist"
	check "a run after another plugin was appended succeeds" run
	check "ambit-cni is last again, and there once" \
		[ "$(types "$CONF/10-podnet.conflist")" = '["bridge","portmap","bandwidth","ambit-cni"]' ]
}

test_first_of_several() {
	fresh
	bridge_list >"$CONF/20-b.conflist"
	bridge_list >"$CONF/05-a.json"
	echo '{"cniVersion": "1.0.0", "name": "x", "plugins": [{"type": "loopback"}]}' \
		>"$CONF/10-c.conflist"
	echo 'not a configuration' >"$CONF/01-notes.txt"
	check "installs with several configurations" run
	check "the first by name (05-a.json) gets the entry" \
		[ "$(types "$CONF/05-a.json")" = '["bridge","portmap","ambit-cni"]' ]
	check "the others are untouched" \
		bash -c "[ \"\$(jq -c '[.plugins[].type]' '$CONF/10-c.conflist')\" = '[\"loopback\"]' ] &&
			[ \"\$(jq -c '[.plugins[].type]' '$CONF/20-b.conflist')\" = '[\"bridge\",\"portmap\"]' ]"
}

test_single_plugin_conf() {
	fresh
	jq '.plugins[0] + {cniVersion, name}' <(bridge_list) >"$CONF/10-bridge.conf"
	cp "$CONF/10-bridge.conf" "$WORK/orig.conf"
	check "installs on a node with a single-plugin .conf" run
	check "it became 10-bridge.conflist: bridge, then ambit-cni" \
		[ "$(types "$CONF/10-bridge.conflist" 2>/dev/null)" = '["bridge","ambit-cni"]' ]
	check "name and cniVersion kept on the list" \
		[ "$(jq -c '[.name, .cniVersion]' "$CONF/10-bridge.conflist")" = '["podnet","1.0.0"]' ]
	check "the .conf is out of the runtime's way (kept as .ambit-orig)" \
		bash -c "[ ! -e '$CONF/10-bridge.conf' ] && cmp -s '$WORK/orig.conf' '$CONF/10-bridge.conf.ambit-orig'"
	check "a second run leaves it as it is" run
	check "still one ambit-cni" [ "$(types "$CONF/10-bridge.conflist")" = '["bridge","ambit-cni"]' ]
	check "--uninstall" run --uninstall
	check "restores the original .conf byte for byte" \
		bash -c "cmp -s '$WORK/orig.conf' '$CONF/10-bridge.conf' && [ ! -e '$CONF/10-bridge.conflist' ]"
	check "and removes the plugin" [ ! -e "$BIN/ambit-cni" ]
}

test_uninstall_list() {
	fresh
	bridge_list >"$CONF/10-podnet.conflist"
	run
	check "--uninstall on a list" run --uninstall
	check "takes the entry out, the rest as it was" \
		[ "$(jq -S . "$CONF/10-podnet.conflist")" = "$(bridge_list | jq -S .)" ]
	check "and removes the plugin" [ ! -e "$BIN/ambit-cni" ]
}

test_errors() {
	fresh
	check "no configuration: fails" fails run
	check "naming the directory" grep -q "no CNI configuration.*$CONF" "$WORK/out"
	echo '{"cniVersion": "1.0.0", "plugins": [' >"$CONF/10-broken.conflist"
	cp "$CONF/10-broken.conflist" "$WORK/broken"
	check "invalid JSON: fails" fails run
	check "naming the file" grep -q "10-broken.conflist: not valid JSON" "$WORK/out"
	check "and leaves it alone" cmp -s "$WORK/broken" "$CONF/10-broken.conflist"
	rm -f "$CONF/10-broken.conflist"
	echo '{"cniVersion": "1.0.0", "name": "x"}' >"$CONF/10-odd.conf"
	check "neither a list nor a plugin: fails" fails run
	check "naming the file" grep -q "10-odd.conf: neither a plugin list nor a plugin" "$WORK/out"
	rm -f "$CONF/10-odd.conf"
	bridge_list >"$CONF/10-podnet.conflist"
	check "a plugin that is not there: fails" \
		bash -c "! '$INSTALL' --plugin '$WORK/none' --cni-bin-dir '$BIN' --cni-conf-dir '$CONF' 2>'$WORK/out'"
	check "naming it" grep -q "$WORK/none not found" "$WORK/out"
	check "and the configuration is left alone" \
		[ "$(types "$CONF/10-podnet.conflist")" = '["bridge","portmap"]' ]
	check "an unknown argument: fails" bash -c "! '$INSTALL' --bogus 2>/dev/null"
}

# The network add-on writes its configuration a little after we start
# (nodes where ambit's pod comes up first): --wait bridges the gap.
test_wait() {
	fresh
	(sleep 1 && bridge_list >"$CONF/.10-podnet.tmp" && mv "$CONF/.10-podnet.tmp" "$CONF/10-podnet.conflist") &
	check "--wait: a configuration written later is found and patched" run --wait 10
	wait
	check "with ambit-cni last" \
		[ "$(types "$CONF/10-podnet.conflist")" = '["bridge","portmap","ambit-cni"]' ]
}

test_first_install
test_idempotent
test_moved_back_last
test_first_of_several
test_single_plugin_conf
test_uninstall_list
test_errors
test_wait
finish
