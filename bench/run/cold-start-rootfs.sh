#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run: cold start to the first redis PONG (and python3 start to exit)
# for the three wrapped-image
# layouts of `ward convert`, against plain runc on the same image, runs
# interleaved so all four see the same machine load:
#   plain   runc run of the image's layer unpacked ahead of time
#   layers  ward run of a --rootfs layers image (decrypt + gunzip + unpack
#           every layer into tmpfs at each start)
#   volume  ward run of a --rootfs volume image (mount the read-only
#           protected volume; only the blocks redis reads are decrypted)
#   ext4    ward run of a --rootfs ext4 image (decrypt the sealed ext4
#           image into memory, mount it through a loop device)
# Both ward images use the INSECURE --insecure-keys path (keys from convert
# --export-keys), so no coordinator round trips are counted; the prepared
# image cache is warm (as a pulled image would be for runc). Needs root,
# runc, redis-tools, /dev/fuse, loop devices and the images of
# ../shared/images/make-test-images.sh. Run under the shared lock:
#   flock /tmp/ward-bench.lock bench/run/cold-start-rootfs.sh [WARD] [RUNS]
set -euo pipefail
WARD=${1:-build/release/cmd/ward/ward}
RUNS=${2:-5}
IMAGES=${WARD_TEST_IMAGES:-/var/tmp/ward-test-images}
DEB=$IMAGES/debian/oci
T=$(mktemp -d /tmp/ward-bench-rootfs.XXXXXX)
export WARD_STATE_ROOT=$T/state WARD_CACHE_ROOT=$T/cache
RPORT=16392
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	sleep 0.3
	runc --root "$T/runc" list -q 2>/dev/null | while read -r id; do runc --root "$T/runc" delete -f "$id"; done
	rm -rf "$T"
}
trap cleanup EXIT
now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
wait_ping() {
	for _ in $(seq 3000); do
		redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.01
	done
	return 1
}

man=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="redis") | .digest' "$DEB/index.json")
layer=$(jq -r '.layers[0].digest' "$DEB/blobs/sha256/${man#sha256:}")
mkdir -p "$T/plain/rootfs"
tar -xzf "$DEB/blobs/sha256/${layer#sha256:}" -C "$T/plain/rootfs"
(cd "$T/plain" && runc spec)
jq '.process.terminal=false
	| .process.args=["redis-server","--port","'$RPORT'","--protected-mode","no","--save","","--appendonly","no"]
	| .root.readonly=false | .linux.namespaces |= map(select(.type != "network"))' \
	"$T/plain/config.json" >"$T/plain/c" && mv "$T/plain/c" "$T/plain/config.json"

LAYOUTS=(layers volume ext4)
for layout in "${LAYOUTS[@]}"; do
	t0=$(now_ms)
	"$WARD" convert -q --rootfs $layout --tag redis --export-keys "$T/$layout.keys" "$DEB" -o "$T/$layout"
	echo "convert --rootfs $layout: $(($(now_ms) - t0)) ms, ward layer $(du -sm "$T/$layout/blobs" | cut -f1) MB"
	# warm the prepared-image cache (a pulled image, for runc)
	"$WARD" run -q --insecure-keys "$T/$layout.keys" --network host "$T/$layout" -- true >/dev/null 2>&1
done

echo "== cold start to first redis PONG ($RUNS runs each, interleaved, medians)"
plain=(); layers=(); volume=(); ext4=()
ward_once() { # ward_once LAYOUT -> ms
	local t0 t1 p
	t0=$(now_ms)
	"$WARD" run -q --insecure-keys "$T/$1.keys" --network host "$T/$1" -- \
		redis-server --port $RPORT --protected-mode no --save "" --appendonly no >/dev/null 2>&1 &
	p=$!; pids+=("$p")
	wait_ping $RPORT; t1=$(now_ms)
	kill -TERM "$p"; wait "$p" 2>/dev/null || true
	echo $((t1 - t0))
}
for i in $(seq "$RUNS"); do
	t0=$(now_ms)
	runc --root "$T/runc" run -b "$T/plain" "plain-$i" >/dev/null 2>&1 &
	p=$!; pids+=("$p")
	wait_ping $RPORT; t1=$(now_ms)
	runc --root "$T/runc" kill "plain-$i" KILL 2>/dev/null || true; wait "$p" 2>/dev/null || true
	runc --root "$T/runc" delete -f "plain-$i" 2>/dev/null || true
	plain+=($((t1 - t0)))
	for layout in "${LAYOUTS[@]}"; do
		declare -n t=$layout
		t+=("$(ward_once "$layout")")
	done
done
report() { # report GOAL: the medians of plain and every layout
	local pm m layout
	pm=$(printf '%s\n' "${plain[@]}" | median)
	printf '%-22s %s ms -> median %s ms\n' "plain runc:" "${plain[*]}" "$pm"
	for layout in "${LAYOUTS[@]}"; do
		local -n t=$layout
		m=$(printf '%s\n' "${t[@]}" | median)
		printf '%-22s %s ms -> median %s ms (overhead %s ms%s)\n' "ward --rootfs $layout:" \
			"${t[*]}" "$m" "$((${m%.*} - ${pm%.*}))" "$1"
	done
	echo "load average: $(cat /proc/loadavg)"
}
report ", goal <= 150 ms"

# python3 reads ~100 files at start: run to exit (import json, print)
echo "== python3 -c 'import json' start to exit ($RUNS runs each, interleaved, medians)"
man=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="python") | .digest' "$DEB/index.json")
layer=$(jq -r '.layers[0].digest' "$DEB/blobs/sha256/${man#sha256:}")
mkdir -p "$T/plainpy/rootfs"
tar -xzf "$DEB/blobs/sha256/${layer#sha256:}" -C "$T/plainpy/rootfs"
(cd "$T/plainpy" && runc spec)
jq '.process.terminal=false | .process.args=["python3","-c","import json; print(1)"]
	| .root.readonly=false | .linux.namespaces |= map(select(.type != "network"))' \
	"$T/plainpy/config.json" >"$T/plainpy/c" && mv "$T/plainpy/c" "$T/plainpy/config.json"
for layout in "${LAYOUTS[@]}"; do
	"$WARD" convert -q --rootfs $layout --tag python --export-keys "$T/py$layout.keys" "$DEB" -o "$T/py$layout"
	"$WARD" run -q --insecure-keys "$T/py$layout.keys" --network host "$T/py$layout" -- true >/dev/null 2>&1
done
plain=(); layers=(); volume=(); ext4=()
for i in $(seq "$RUNS"); do
	t0=$(now_ms); runc --root "$T/runc" run -b "$T/plainpy" "py-$i" >/dev/null 2>&1; t1=$(now_ms)
	plain+=($((t1 - t0)))
	for layout in "${LAYOUTS[@]}"; do
		t0=$(now_ms)
		"$WARD" run -q --insecure-keys "$T/py$layout.keys" --network host "$T/py$layout" -- \
			python3 -c 'import json; print(1)' >/dev/null 2>&1
		t1=$(now_ms)
		declare -n t=$layout
		t+=($((t1 - t0)))
	done
done
report ""
