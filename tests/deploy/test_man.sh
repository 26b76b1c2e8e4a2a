#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The man pages render without a warning (groff -ww, and man-db's own
# pipeline), have the usual sections, and name every option and command
# the binaries' --help names, so pages and binaries cannot drift apart.
#   OUT=.output bash tests/deploy/test_man.sh
source "$(dirname "$0")/lib.sh"

OUT=${OUT:?set OUT to the build directory}
MAN=$TOP/man
need groff man
for b in ambit ambitd ambit-proxy; do
	[ -x "$OUT/$b" ] || fail_setup "no $OUT/$b (make)"
done

# The page as plain text on very long lines: nothing hyphenated or broken.
plain() {
	groff -man -rLL=400n -Tascii -P-cbou "$1" 2>/dev/null
}

# Options a help text names: --long and -s, standing alone.
options_in() {
	grep -oE '(^|[^[:alnum:]-])--?[[:alpha:]][[:alnum:]-]*' | sed 's/^[^-]*//' | sort -u
}

# Every option of HELP must be in PAGE; prints the missing ones.
missing_options() { # PAGE HELP
	local text
	text=$(plain "$1")
	options_in <<<"$2" | while read -r o; do
		grep -qE -- "(^|[^[:alnum:]-])$o([^[:alnum:]-]|\$)" <<<"$text" || echo "$o"
	done
}

test_renders() {
	local page out
	for page in ambit.1 ambitd.8 ambit-proxy.8; do
		if [ ! -f "$MAN/$page" ]; then
			not_ok "$page exists"
			continue
		fi
		out=$(groff -man -ww -z "$MAN/$page" 2>&1)
		check_empty "$page renders with groff -ww without a warning" "$out"
		out=$(MANWIDTH=80 man --warnings -l "$MAN/$page" 2>&1 >/dev/null)
		check_empty "$page renders with man --warnings without a warning" "$out"
		out=$(for s in NAME SYNOPSIS DESCRIPTION OPTIONS 'EXIT STATUS' FILES EXAMPLES 'SEE ALSO'; do
			plain "$MAN/$page" | grep -qx "$s" || echo "$s"
		done)
		check_empty "$page has NAME, SYNOPSIS, DESCRIPTION, OPTIONS, EXIT STATUS, FILES, EXAMPLES, SEE ALSO" "$out"
	done
}

test_daemons() {
	check_empty "ambitd.8 names every option of ambitd --help" \
		"$(missing_options "$MAN/ambitd.8" "$("$OUT/ambitd" --help)")"
	check_empty "ambit-proxy.8 names every option of ambit-proxy --help" \
		"$(missing_options "$MAN/ambit-proxy.8" "$("$OUT/ambit-proxy" --help)")"
}

test_cli() {
	local cmds cmd help missing=
	help=$("$OUT/ambit" --help)
	cmds=$(awk '$1 == "ambit" && $2 ~ /^[a-z][a-z-]*$/ { print $2 }' <<<"$help" | sort -u)
	check "ambit --help lists commands" [ -n "$cmds" ]
	for cmd in $cmds; do
		help+=$'\n'$("$OUT/ambit" "$cmd" --help)
		# A command is documented where it starts an entry of COMMANDS.
		plain "$MAN/ambit.1" | sed -n '/^COMMANDS$/,/^[A-Z]/p' |
			grep -qE "^ +$cmd( |\$)" || missing+="$cmd "
	done
	check_empty "ambit.1 documents every command of ambit --help" "$missing"
	check_empty "ambit.1 names every option of ambit --help and each ambit COMMAND --help" \
		"$(missing_options "$MAN/ambit.1" "$help")"
}

# The check itself finds what is missing (an option dropped from a page).
test_check_bites() {
	local page=$TOP/man/ambitd.8 tmp
	tmp=$(mktemp)
	sed 's/^\.BI \\-\\-state\\-dir " DIR"$/.BI \\-\\-other " DIR"/' "$page" >"$tmp"
	check "a page without --state-dir is caught" \
		[ "$(missing_options "$tmp" "$("$OUT/ambitd" --help)")" = --state-dir ]
	rm -f "$tmp"
}

test_renders
test_daemons
test_cli
test_check_bites
finish
