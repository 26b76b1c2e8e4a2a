#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# make check: static analysis beyond -Werror. cppcheck over the C sources
# (shipped code, test tools). Exit 1 on any finding, or when cppcheck is
# missing (apt-get install cppcheck).
set -u
cd "$(dirname "$0")/.." || exit 1
command -v cppcheck >/dev/null || { echo "check: cppcheck not installed" >&2; exit 1; }
cppcheck --quiet --error-exitcode=1 --std=c11 --inline-suppr \
	--enable=warning,portability,performance \
	--suppress=missingIncludeSystem -D_GNU_SOURCE -Iinclude -Iuser/lib -Iuser/proxy \
	"-DLIBBPF_OPTS(T,N,...)=struct T N = { .sz = sizeof(struct T), __VA_ARGS__ }" \
	user/lib user/ambitd user/ambit user/proxy user/cni tests/tools tests/bench/connbench.c
