#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs every fuzz target for a bounded time on a scratch copy of its seed
# corpus, after replaying its regression inputs (tests/fuzz/regress/NAME/:
# every crash ever found, kept so it stays fixed). Prints ok/not ok lines.
#   tests/fuzz/run.sh SECONDS       (OUT= build directory)
set -u
OUT=${OUT:?}
secs=${1:-20}
top=$(cd "$(dirname "$0")/../.." && pwd)
status=0
for bin in "$OUT"/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin" | sed 's/^fuzz_//')
	work=$(mktemp -d)
	cp -r "$top/tests/fuzz/corpus/$name/." "$work/"
	regress=$top/tests/fuzz/regress/$name
	if [ -d "$regress" ] && ls "$regress"/* >/dev/null 2>&1; then
		if "$bin" "$regress"/* >"$work.log" 2>&1; then
			echo "ok - fuzz $name: $(ls "$regress" | wc -l) regression inputs pass"
		else
			echo "not ok - fuzz $name: a regression input fails"; tail -20 "$work.log"; status=1
		fi
	fi
	if "$bin" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 \
		-artifact_prefix="$work/" "$work" >"$work.log" 2>&1; then
		echo "ok - fuzz $name: $(grep -o 'Done [0-9]* runs' "$work.log" | tail -1) in ${secs}s, no crash"
	else
		echo "not ok - fuzz $name crashed; input saved under tests/fuzz/regress/$name/"
		mkdir -p "$regress"
		cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$regress/" 2>/dev/null
		grep -A15 "ERROR" "$work.log" | head -30
		status=1
	fi
	rm -rf "$work" "$work.log"
done
exit $status
