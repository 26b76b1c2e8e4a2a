#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs everything ambit needs to build, test and run the demo on Debian 12.
# Idempotent: packages already present are left alone; apt only runs when
# something is missing.
set -euo pipefail

PKGS=(
	# toolchain
	build-essential pkg-config clang llvm
	# BPF
	libbpf-dev bpftool libelf-dev zlib1g-dev
	# user space libraries
	libyaml-dev libpcre2-dev libcmocka-dev libjansson-dev
	# tests, demo and benchmarks
	iproute2 util-linux curl wrk iptables nftables jq procps bc
	# L7 benchmark baselines (tests/bench/l7.sh)
	haproxy nginx
	# sanitizer runtime for clang builds; valgrind for the daemon's run
	libclang-rt-14-dev valgrind
	# Kubernetes side: manifest checks (kubectl --dry-run=client), the CNI
	# reference plugins ambit-cni chains after, promtool for /metrics
	kubernetes-client containernetworking-plugins prometheus
	# deploy checks: man pages render (groff, man), the unit verifies
	# (systemd-analyze)
	groff-base man-db systemd
)

missing=()
for p in "${PKGS[@]}"; do
	# Another package may already ship kubectl (Google's cloud SDK does);
	# Debian's would conflict with it over /usr/bin/kubectl.
	[ "$p" = kubernetes-client ] && command -v kubectl >/dev/null 2>&1 && continue
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "install-deps: all ${#PKGS[@]} packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing ${missing[*]}; run as root" >&2
	exit 1
fi

# haproxy, nginx and prometheus are tools here, not services of this host:
# their packages would start them (nginx on 0.0.0.0:80). A policy-rc.d
# that says "no" keeps every package's service from starting, for the
# duration of this install only.
guard=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	guard=/usr/sbin/policy-rc.d
	printf '#!/bin/sh\nexit 101\n' >"$guard"
	chmod 0755 "$guard"
	trap 'rm -f "$guard"' EXIT
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
