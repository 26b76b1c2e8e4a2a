#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# completion/ambit.bash, sourced into this shell the way bash loads it,
# answers real completion requests (COMP_WORDS/COMP_CWORD in, COMPREPLY
# out) against the built ambit: commands, options, fixed values, files;
# and offers every command and option the binary's --help names.
#   OUT=.output bash tests/deploy/test_completion.sh
source "$(dirname "$0")/lib.sh"

OUT=${OUT:?set OUT to the build directory}
[ -x "$OUT/ambit" ] || fail_setup "no $OUT/ambit (make)"
WORK=$(mktemp -d /tmp/ambit-completion-test.XXXX)
trap 'rm -rf "$WORK"' EXIT
PATH=$OUT:$PATH
# shellcheck source=../../completion/ambit.bash
source "$TOP/completion/ambit.bash" || fail_setup "completion/ambit.bash does not source"

# complete WORD...: COMPREPLY for the command line WORD..., the last word
# being the one under the cursor; sorted, one line.
complete_line() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_ambit 2>"$WORK/stderr"
	printf '%s\n' "${COMPREPLY[@]}" | grep . | sort | tr '\n' ' ' | sed 's/ $//'
}

# expect "WORDS" "REPLY": the completion of WORDS (split on blanks; a
# trailing blank means an empty current word) is exactly REPLY.
expect() {
	local line=$1 want=$2 got words
	read -ra words <<<"$line"
	[[ $line == *' ' ]] && words+=("")
	got=$(complete_line "${words[@]}")
	if [ "$got" = "$want" ] && [ ! -s "$WORK/stderr" ]; then
		ok "'$line' completes to '$want'"
	else
		not_ok "'$line' completes to '$want' (got '$got'$(cat "$WORK/stderr"))"
	fi
}

test_registered() {
	check "sourcing registers _ambit for ambit" \
		bash -c "source '$TOP/completion/ambit.bash' && complete -p ambit | grep -q -- '-F _ambit'"
}

test_cases() {
	expect "ambit ap" "apply"
	expect "ambit un" "unenroll"
	expect "ambit get " "endpoints enrollments routes services"
	expect "ambit get r" "routes"
	expect "ambit get services -o " "json wide yaml"
	expect "ambit get -o y" "yaml"
	expect "ambit stats -o " "json"
	expect "ambit describe " "route"
	expect "ambit proxy " "reload"
	expect "ambit apply --d" "--dry-run"
	expect "ambit apply --a" "--allow-unresolved"
	expect "ambit unenroll --n" "--name --namespace --netns"
	expect "ambit trace --u" "--udp"
	expect "ambit --socket /run/ambit/ambitd.sock get s" "services"
	expect "ambit --s" "--socket"
	# Values nothing can guess: no suggestion rather than a wrong one.
	expect "ambit trace --to " ""
	expect "ambit enroll --namespace " ""
	(
		mkdir "$WORK/files" && cd "$WORK/files" && touch route.yaml services.yaml && mkdir pods
		expect "ambit apply -f r" "route.yaml"
		expect "ambit delete -f s" "services.yaml"
		expect "ambit enroll --cgroup p" "pods"
	)
}

# The options of one command as its help defines them: in its usage line,
# or first on a line of its option list (prose may mention other
# programs' options: "ambitd runs (--proxy-bin)").
cmd_options() {
	ambit "$1" --help | awk '
		NR == 1 { sub(/^Usage: ambit /, ""); print; next }
		/^[ \t]+-/ { sub(/^[ \t]+/, ""); print $1, $2 }' |
		grep -oE '(^|[^[:alnum:]-])--?[[:alpha:]][[:alnum:]-]*' | sed 's/^[^-]*//' | sort -u
}

# Drift: every command of ambit --help, and every option of each command's
# --help, is offered.
test_follows_help() {
	local cmds cmd opts got missing=
	cmds=$(ambit --help 2>&1 | awk '$1 == "ambit" && $2 ~ /^[a-z][a-z-]*$/ { print $2 }')
	got=" $(complete_line ambit "") "
	for cmd in $cmds; do
		[[ $got == *" $cmd "* ]] || missing+="$cmd "
	done
	check_empty "every command of ambit --help is offered" "$missing"
	missing=
	for cmd in $cmds; do
		got=" $(complete_line ambit "$cmd" -) "
		opts=$(cmd_options "$cmd")
		for o in $opts; do
			[[ $got == *" $o "* ]] || missing+="$cmd $o, "
		done
	done
	check_empty "every option of each ambit COMMAND --help is offered" "$missing"
}

test_no_binary() {
	check "a missing ambit binary gives no completion and no error" \
		[ -z "$(complete_line "$WORK/no-such-ambit" "")$(cat "$WORK/stderr")" ]
}

# A command with two usage lines (pod attach / pod detach), from a stand-in
# binary that prints help the way ambit does.
test_several_usage_lines() {
	local fake=$WORK/fake/ambit
	mkdir -p "$WORK/fake"
	cat >"$fake" <<'EOF'
#!/bin/sh
if [ "$1" = --help ]; then
	printf 'Usage: ambit COMMAND\n\nCommands:\n  ambit pod attach --netns PATH\n        ambit pod detach [--container-id ID]\n'
elif [ "$1" = pod ]; then
	printf 'Usage: ambit pod attach --netns PATH [--ip ADDR]...\n        ambit pod detach [--container-id ID]\n\nTell ambitd.\n'
fi
EOF
	chmod 0755 "$fake"
	check "a command listed on two lines is offered once" [ "$(complete_line "$fake" "")" = "help pod" ]
	check "the fixed words of every usage line are offered" \
		[ "$(complete_line "$fake" pod "")" = "attach detach" ]
	check "the options of every usage line are offered" \
		[ "$(complete_line "$fake" pod --)" = "--container-id --help --ip --netns" ]
}

test_registered
test_cases
test_several_usage_lines
test_follows_help
test_no_binary
finish
