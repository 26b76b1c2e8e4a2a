#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Regenerates vmlinux/<arch>/vmlinux.h from the running kernel's BTF.
#
# The programs are CO-RE, so one header per architecture is enough: it only
# has to describe the types, relocations fix offsets at load time.
#   x86_64: ./scripts/gen-vmlinux.sh            (committed as vmlinux/x86)
#   arm64:  run the same on an arm64 host with BTF; it writes vmlinux/arm64
#   other:  ./scripts/gen-vmlinux.sh /path/to/vmlinux-with-btf ARCH
set -euo pipefail
src=${1:-/sys/kernel/btf/vmlinux}
case "${2:-$(uname -m)}" in
x86_64 | x86) arch=x86 ;;
aarch64 | arm64) arch=arm64 ;;
*) arch=${2:-$(uname -m)} ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$top/vmlinux/$arch"
bpftool btf dump file "$src" format c >"$top/vmlinux/$arch/vmlinux.h.tmp"
mv "$top/vmlinux/$arch/vmlinux.h.tmp" "$top/vmlinux/$arch/vmlinux.h"
echo "wrote vmlinux/$arch/vmlinux.h ($(wc -l <"$top/vmlinux/$arch/vmlinux.h") lines)"
