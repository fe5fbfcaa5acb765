#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run: Ward's cost against the same, unencrypted image under plain runc.
#   (a) cold start to the first reply (redis PING): medians over RUNS runs
#   (b) steady state: redis-benchmark -q -t get,set -n 200000 and nginx with wrk
# Both sides use the host's network namespace, so (b) compares the app, not a
# network path; ward's published-port proxy (private namespace, -p) is
# measured separately. Needs root, runc, redis-tools, wrk, and the images of
# ../shared/images/make-test-images.sh.
#
#   bench/run/run-bench.sh [WARD] [RUNS]
set -euo pipefail
WARD=${1:-build/release/cmd/ward/ward}
RUNS=${2:-5}
IMAGES=${WARD_TEST_IMAGES:-/var/tmp/ward-test-images}
DEB=$IMAGES/debian/oci
T=$(mktemp -d /tmp/ward-bench-run.XXXXXX)
export WARD_STATE_ROOT=$T/state
RPORT=16390; NPORT=18080
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
wait_ping() { # wait_ping PORT: until PONG, 10 ms steps
	for _ in $(seq 3000); do
		redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.01
	done
	return 1
}

# ---- the plain bundle: the same image's layer, unpacked, run by runc ----
man=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]=="redis") | .digest' "$DEB/index.json")
layer=$(jq -r '.layers[0].digest' "$DEB/blobs/sha256/${man#sha256:}")
mkdir -p "$T/plain/rootfs"
tar -xzf "$DEB/blobs/sha256/${layer#sha256:}" -C "$T/plain/rootfs"
(cd "$T/plain" && runc spec)
plain_config() { # plain_config ARGS-JSON
	jq --argjson a "$1" '.process.terminal=false | .process.args=$a | .root.readonly=false
		| .linux.namespaces |= map(select(.type != "network"))
		| .process.capabilities.bounding += ["CAP_CHOWN","CAP_SETUID","CAP_SETGID","CAP_DAC_OVERRIDE","CAP_FOWNER"]
		| .process.capabilities.effective = .process.capabilities.bounding
		| .process.capabilities.permitted = .process.capabilities.bounding' \
		"$T/plain/config.json" > "$T/plain/c" && mv "$T/plain/c" "$T/plain/config.json"
}
REDIS_ARGS='["redis-server","--port","'$RPORT'","--protected-mode","no","--save","","--appendonly","no"]'
plain_config "$REDIS_ARGS"

# warm the ward cache (the development conversion; a converted image is
# already in this shape) and the sim platform
"$WARD" run -q --insecure-host-keys --network host "$DEB:redis" -- true >/dev/null 2>&1

echo "== (a) cold start to first redis PONG ($RUNS runs each, medians)"
plain=(); ward=()
for i in $(seq "$RUNS"); do
	t0=$(now_ms)
	runc --root "$T/runc" run -b "$T/plain" "plain-$i" >/dev/null 2>&1 &
	p=$!; pids+=("$p")
	wait_ping $RPORT; t1=$(now_ms)
	runc --root "$T/runc" kill "plain-$i" KILL 2>/dev/null || true; wait "$p" 2>/dev/null || true
	runc --root "$T/runc" delete -f "plain-$i" 2>/dev/null || true
	plain+=($((t1 - t0)))

	t0=$(now_ms)
	"$WARD" run -q --insecure-host-keys --network host "$DEB:redis" -- \
		redis-server --port $RPORT --protected-mode no --save "" --appendonly no >/dev/null 2>&1 &
	p=$!; pids+=("$p")
	wait_ping $RPORT; t1=$(now_ms)
	kill -TERM "$p"; wait "$p" 2>/dev/null || true
	ward+=($((t1 - t0)))
done
pm=$(printf '%s\n' "${plain[@]}" | median); wm=$(printf '%s\n' "${ward[@]}" | median)
echo "plain runc: ${plain[*]} ms -> median $pm ms"
echo "ward run:   ${ward[*]} ms -> median $wm ms"
echo "start overhead: $((wm - pm)) ms (goal <= 150 ms)"

echo "== (b) steady state, host network"
bench_redis() { redis-benchmark -p "${1:-$RPORT}" -q -t get,set -n 200000 2>/dev/null | tr '\r' '\n' | grep 'requests per second'; }
runc --root "$T/runc" run -b "$T/plain" plain-b >/dev/null 2>&1 & pids+=($!)
wait_ping $RPORT; rp=$(bench_redis)
runc --root "$T/runc" kill plain-b KILL; sleep 0.3; runc --root "$T/runc" delete -f plain-b
"$WARD" run -q --insecure-host-keys --network host "$DEB:redis" -- \
	redis-server --port $RPORT --protected-mode no --save "" --appendonly no >/dev/null 2>&1 &
w=$!; pids+=("$w"); wait_ping $RPORT; rw=$(bench_redis); kill -TERM "$w"; wait "$w" || true
echo "redis plain: $(echo $rp)"
echo "redis ward:  $(echo $rw)"
ratio() { # ratio "SET: x requests per second..." lines
	for op in SET GET; do
		a=$(echo "$1" | awk -v o="$op:" '$1==o {print $2}'); b=$(echo "$2" | awk -v o="$op:" '$1==o {print $2}')
		echo "  $op: ward/plain = $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.1f%%", 100*b/a}')"
	done
}
ratio "$rp" "$rw"

NGINX_ARGS='["nginx","-g","daemon off;"]'
plain_config "$NGINX_ARGS"
sed -i "s/listen 80 default_server;/listen $NPORT default_server;/; s/listen \[::\]:80 default_server;//" \
	"$T/plain/rootfs/etc/nginx/sites-enabled/default"
wait_http() { for _ in $(seq 3000); do curl -sf "http://127.0.0.1:$1/" >/dev/null && return 0; sleep 0.01; done; return 1; }
bench_wrk() { wrk -t2 -c50 -d5s "http://127.0.0.1:$1/" | awk '/Requests\/sec/ {print $2}'; }
runc --root "$T/runc" run -b "$T/plain" plain-n >/dev/null 2>&1 & pids+=($!)
wait_http $NPORT; np=$(bench_wrk $NPORT)
runc --root "$T/runc" kill plain-n KILL; sleep 0.3; runc --root "$T/runc" delete -f plain-n
# ward's nginx listens on 80 (its unmodified config) in the host namespace
if ! curl -s http://127.0.0.1:80/ >/dev/null 2>&1; then
	"$WARD" run -q --insecure-host-keys --network host "$DEB:nginx" >/dev/null 2>&1 &
	w=$!; pids+=("$w"); wait_http 80; nw=$(bench_wrk 80); kill -TERM "$w"; wait "$w" || true
	echo "nginx plain: $np req/s, ward: $nw req/s -> $(awk -v a="$np" -v b="$nw" 'BEGIN {printf "%.1f%%", 100*b/a}')"
else
	echo "nginx: port 80 is busy on this host; skipped"
fi

echo "== ward's published-port proxy (private namespace, -p) for reference"
P=16391
"$WARD" run -q --insecure-host-keys -p $P:6379 "$DEB:redis" >/dev/null 2>&1 & w=$!; pids+=("$w")
wait_ping $P; rx=$(bench_redis $P)
kill -TERM "$w"; wait "$w" || true
echo "redis ward -p: $(echo $rx)"
ratio "$rp" "$rx"

# (c) [rootfs]: cold start by wrapped-image layout, plain runc vs ward
# convert --rootfs layers vs --rootfs volume, interleaved in one loop.
echo "== (c) cold start by image layout"
"$(dirname "$0")/cold-start-rootfs.sh" "$WARD" "$RUNS"
