#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Plain runc, the same unmodified nginx image, with its root filesystem on
# ext4 (the plain baseline of run-bench.sh), on tmpfs (where ward-init
# unpacks a --rootfs layers image), on overlayfs over tmpfs (the shape
# of a --rootfs volume image's root) and on ext4 in a loop device over a
# file in memory (the shape of a --rootfs ext4 image's root): what the
# root's filesystem alone costs nginx, with no ward involved. Alternating
# rounds, medians. First, bench/run/fsops.c prints what nginx's per-request
# file operations cost on each (a failed open, an open+read+close, a log
# append; ns per operation).
#   bench/run/nginx-rootfs.sh [ROUNDS]   (root, cc; port 80 must be free)
set -euo pipefail
ROUNDS=${1:-3}
IM=${WARD_TEST_IMAGES:-/var/tmp/ward-test-images}/debian/oci
T=$(mktemp -d /var/tmp/ward-bench-ngx.XXXXXX)
cleanup() {
	for v in ext4 tmpfs ovl loop; do runc --root "$T/runc" delete -f "n-$v" >/dev/null 2>&1 || true; done
	umount "$T/ovl" 2>/dev/null || true
	umount "$T/loop" 2>/dev/null || true # the loop device clears itself (autoclear)
	umount "$T/mem" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
man=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="nginx") | .digest' "$IM/index.json")
unpack() { for l in $(jq -r '.layers[].digest' "$IM/blobs/sha256/${man#sha256:}"); do tar -xzf "$IM/blobs/sha256/${l#sha256:}" -C "$1"; done; }
bundle() { # bundle NAME ROOT
	mkdir -p "$T/b-$1"
	(cd "$T/b-$1" && runc spec)
	jq --arg r "$2" '.process.terminal=false | .process.args=["nginx","-g","daemon off;"]
	| .root.path=$r | .root.readonly=false | .linux.namespaces |= map(select(.type != "network"))
	| .process.capabilities.bounding += ["CAP_CHOWN","CAP_SETUID","CAP_SETGID","CAP_DAC_OVERRIDE","CAP_FOWNER"]
	| .process.capabilities.effective = .process.capabilities.bounding
	| .process.capabilities.permitted = .process.capabilities.bounding' \
		"$T/b-$1/config.json" >"$T/c" && mv "$T/c" "$T/b-$1/config.json"
}
mkdir -p "$T/ext4" "$T/mem" "$T/ovl" "$T/loop"
unpack "$T/ext4"
mount -t tmpfs tmpfs "$T/mem"
mkdir "$T/mem/root" "$T/mem/up" "$T/mem/work"
unpack "$T/mem/root"
mount -t overlay overlay -o "lowerdir=$T/mem/root,upperdir=$T/mem/up,workdir=$T/mem/work" "$T/ovl"
truncate -s 2G "$T/mem/img" # sparse: memory only for what is written
mke2fs -q -F -t ext4 -b 4096 -m 0 -O ^has_journal -E lazy_itable_init=1,nodiscard -d "$T/ext4" "$T/mem/img"
mount -o loop,noinit_itable,discard "$T/mem/img" "$T/loop"
bundle ext4 "$T/ext4"; bundle tmpfs "$T/mem/root"; bundle ovl "$T/ovl"; bundle loop "$T/loop"
cc -O2 -o "$T/fsops" "$(dirname "$0")/fsops.c"
declare -A root=([ext4]=$T/ext4 [tmpfs]=$T/mem/root [ovl]=$T/ovl [loop]=$T/loop)
for v in ext4 tmpfs ovl loop; do
	h=${root[$v]}/var/www/html
	echo "file operations on $v, ns each: $("$T/fsops" "$h" "$h/index.nginx-debian.html")"
done
run() {
	local p
	runc --root "$T/runc" run -b "$T/b-$1" "n-$1" >/dev/null 2>&1 & p=$!
	for _ in $(seq 500); do curl -sf http://127.0.0.1/ >/dev/null && break; sleep 0.02; done
	wrk -t2 -c50 -d5s http://127.0.0.1/ | awk '/Requests\/sec/ {print $2}'
	runc --root "$T/runc" kill "n-$1" KILL; wait "$p" 2>/dev/null || true
	runc --root "$T/runc" delete -f "n-$1" >/dev/null 2>&1 || true
}
declare -A r
for _ in $(seq "$ROUNDS"); do for v in ext4 tmpfs ovl loop; do r[$v]+="$(run $v) "; done; done
e=$(echo ${r[ext4]} | tr ' ' '\n' | median)
for v in ext4 tmpfs ovl loop; do
	m=$(echo ${r[$v]} | tr ' ' '\n' | median)
	echo "nginx, root on $v: ${r[$v]}-> $m req/s ($(awk -v a="$e" -v b="$m" 'BEGIN {printf "%.1f", 100*b/a}')% of ext4)"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
