#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Install every Debian package Ward's build, tests and benchmarks need.
# Idempotent: does nothing (and needs no network) when everything is present.
set -euo pipefail

PKGS=(
	# build
	build-essential cmake ninja-build pkg-config clang llvm libclang-rt-14-dev
	# libraries
	libssl-dev libjansson-dev libsqlite3-dev libarchive-dev libfuse3-dev
	libseccomp-dev libevent-dev zlib1g-dev libzstd-dev libdeflate-dev libisal-dev libext2fs-dev
	nettle-dev libgmp-dev
	# runtime tools used by tests and benchmarks
	openssl runc crun skopeo umoci jq hyperfine gocryptfs fuse3
	debootstrap busybox-static e2fsprogs redis-tools curl wrk sqlite3 iproute2
	util-linux
)
# Servers: installed without recommends, never started by apt (policy-rc.d).
SERVERS=(redis-server nginx)

missing=()
for p in "${PKGS[@]}" "${SERVERS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root (or: sudo $0)" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
