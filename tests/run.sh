#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs the test tiers and sums them: unit (cmocka), tools (echo backend
# self-test), e2e (real kernel, root), deploy (manifests, unit, image
# recipe, man pages, completion, CNI install; tests/deploy/). The last line
# is always
#   N passed, N failed
# and the exit status is non-zero when anything failed. A suite that dies
# without reporting counts as a failure, never as a pass.
#   tests/run.sh [all|unit|tools|fuzz|e2e|deploy]     (OUT= build directory;
#   SAN_OUT= an ASan+UBSan build whose unit and e2e suites run too)
set -u
OUT=${OUT:?set OUT to the build directory}
export OUT
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
tier=${1:-all}
PASSED=0
FAILED=0
SUITES_FAILED=()

# Count a suite's "ok -"/"not ok -" lines, or cmocka's summary.
count_output() {
	local log=$1 p f
	if grep -q '^\[==========\]' "$log"; then
		p=$(awk '/^\[  PASSED  \]/ { s += $4 } END { print s + 0 }' "$log")
		f=$(awk '/^\[  FAILED  \] [0-9]+ test/ { s += $4 } END { print s + 0 }' "$log")
	else
		p=$(grep -c '^ok ' "$log")
		f=$(grep -c '^not ok ' "$log")
	fi
	echo "$p $f"
}

run_suite() {
	local name=$1 log rc p f
	shift
	log=$(mktemp)
	echo "=== $name"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	read -r p f < <(count_output "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited $rc without reporting a failure"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name ran no test"
		f=1
	fi
	[ "$f" -gt 0 ] && SUITES_FAILED+=("$name")
	PASSED=$((PASSED + p))
	FAILED=$((FAILED + f))
	rm -f "$log"
}

run_unit() {
	local t
	for t in "$OUT"/tests/test_*; do
		[ -x "$t" ] || continue
		run_suite "unit/$(basename "$t")" "$t"
	done
}

# In a network namespace of its own (root, like the e2e tier): its
# servers take random ports, which nothing else on the machine can then
# hold already.
run_tools() {
	run_suite tools/echo unshare --net bash -c \
		'ip link set lo up && exec bash tests/echo/test_echo.sh "$0"' \
		"$OUT/ambit-echo"
}

run_deploy() {
	local t
	for t in tests/deploy/test_*.sh; do
		run_suite "deploy/$(basename "$t" .sh)" bash "$t"
	done
}

run_fuzz() {
	run_suite fuzz bash tests/fuzz/run.sh "${FUZZ_SECS:-20}"
}

run_e2e() {
	local t
	for t in tests/e2e/test_*.sh; do
		run_suite "e2e/$(basename "$t" .sh)" bash "$t"
	done
	# The L7 suite again with the sk_msg fast path off (ambitd
	# --no-sockmap): it must pass both ways.
	run_suite "e2e/test_l7-sockmap" env L7_NO_FAST_PATH=1 bash tests/e2e/test_l7.sh
	# The L4 suite again with ambitd under valgrind's memcheck (restart,
	# applies, enrollments, the malformed matrix): any memory error or
	# definite leak in its logs fails it. About a minute.
	run_suite "e2e/test_l4-valgrind" env AMBITD_VALGRIND=1 bash tests/e2e/test_l4.sh
}

# The same unit and e2e suites against the ASan+UBSan build, when given.
run_san() {
	local t
	[ -n "${SAN_OUT:-}" ] || return 0
	for t in "$SAN_OUT"/tests/test_*; do
		[ -x "$t" ] || continue
		run_suite "san/unit/$(basename "$t")" "$t"
	done
	# The soak runs 10 s here instead of 30 (SOAK_SECS): the same
	# checks, fewer generations, on the slower sanitizer build.
	for t in tests/e2e/test_*.sh; do
		# test_load (10k connections, 1M connects: minutes, and
		# sanitizers would only slow it) runs once, in the e2e tier.
		[ "$(basename "$t")" = test_load.sh ] && continue
		run_suite "san/e2e/$(basename "$t" .sh)" env OUT="$SAN_OUT" \
			SOAK_SECS=10 bash "$t"
	done
}

case $tier in
all) run_unit; run_tools; run_fuzz; run_e2e; run_deploy; run_san ;;
fuzz) run_fuzz ;;
unit) run_unit ;;
tools) run_tools ;;
e2e) run_e2e ;;
deploy) run_deploy ;;
*) echo "usage: tests/run.sh [all|unit|tools|fuzz|e2e|deploy]" >&2; exit 2 ;;
esac

[ "${#SUITES_FAILED[@]}" -gt 0 ] && echo "failed suites: ${SUITES_FAILED[*]}"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
