# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# Reporting for the deploy tests (tests/deploy/test_*.sh): "ok -"/"not ok -"
# lines and a closing "N passed, N failed", as tests/run.sh counts them. A
# missing tool is a failure, never a skip.

set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PASSED=0
FAILED=0

ok() {
	PASSED=$((PASSED + 1))
	echo "ok - $*"
}

not_ok() {
	FAILED=$((FAILED + 1))
	echo "not ok - $*"
}

# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# check_empty DESCRIPTION TEXT: ok when TEXT is empty, else shows it.
check_empty() {
	if [ -z "$2" ]; then
		ok "$1"
	else
		not_ok "$1"
		printf '%s\n' "$2" | sed 's/^/#   /'
	fi
}

fail_setup() {
	echo "not ok - setup: $*"
	echo "0 passed, 1 failed"
	exit 1
}

need() { # TOOL...: each must be installed
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
			fail_setup "missing $t (scripts/install-deps.sh installs it)"
	done
}

finish() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
