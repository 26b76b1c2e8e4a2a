#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The whole test suite, from a fresh clone, as root:
#   ./scripts/test.sh
# Installs dependencies, builds, runs every tier (unit, tools, e2e) and ends
# with "N passed, N failed". Exit status is non-zero on any failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

./scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }
if ! make -j"$(nproc)" all tests >/tmp/ambit-build.$$ 2>&1; then
	cat /tmp/ambit-build.$$
	rm -f /tmp/ambit-build.$$
	echo "not ok - build"
	echo "0 passed, 1 failed"
	exit 1
fi
rm -f /tmp/ambit-build.$$
OUT=$top/.output exec tests/run.sh all
