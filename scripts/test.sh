#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The whole test suite, from a fresh clone, as root:
#   ./scripts/test.sh
# Installs dependencies, builds (plain and ASan+UBSan), runs every tier
# (unit, tools, e2e; unit and e2e again on the sanitizer build) and ends
# with "N passed, N failed". Exit status is non-zero on any failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

./scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }
if ! { make -j"$(nproc)" all tests && make -j"$(nproc)" SAN=1 all tests; } \
	>/tmp/ambit-build.$$ 2>&1; then
	cat /tmp/ambit-build.$$
	rm -f /tmp/ambit-build.$$
	echo "not ok - build"
	echo "0 passed, 1 failed"
	exit 1
fi
rm -f /tmp/ambit-build.$$
# Everything runs twice: plain, and under ASan+UBSan.
OUT=$top/.output SAN_OUT=$top/.output-san exec tests/run.sh all
