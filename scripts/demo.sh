#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The ambit demo, on this one machine: installs dependencies, builds, and
# runs the canonical scenario in a sandbox it creates (a network namespace
# with loopback only, a cgroup subtree, a private bpffs) and removes again.
#   sudo ./scripts/demo.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "dependencies"
./scripts/install-deps.sh
step "build"
make -j"$(nproc)" >/dev/null
OUT=$top/.output
export OUT
exec bash scripts/demo-scenario.sh
