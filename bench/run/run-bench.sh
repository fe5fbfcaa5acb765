#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run: Ward's cost against the same, unencrypted image under plain runc.
#   (a) cold start to the first reply (redis PING), runs alternating between
#       plain runc and each ward mode, medians over RUNS runs:
#       - debian redis (75 MB gzip layer), --insecure-host-keys
#       - redis-small (9 MB), --insecure-host-keys: no attestation
#       - redis-small, --coordinator: a converted image against a running
#         coordinator (sim TEE), the production shape: attestation, KBS
#         session, bundle, certificate and image key at every start
#       - redis-small, the embedded default (no options): a coordinator
#         started, attested and given a manifest, and the image converted,
#         at every start
#   (b) steady state: redis-benchmark -q -t get,set -n 200000 and nginx with
#       wrk, ROUNDS rounds alternating plain, plain+seccomp, ward and ward
#       from the image converted with --rootfs volume and --rootfs ext4,
#       medians.
# Every container uses the host's network namespace, so (b) compares the
# app, not a network path; ward's published-port proxy (private namespace,
# -p) is measured separately.
#
# The baselines (docs/running.md, "Measured"): "plain" is `runc run` of the
# image unpacked ahead of time with no seccomp filter at all; "plain+seccomp"
# is the same with a runc seccomp profile of ward-init's own allow-list (read
# from lib/agent/sandbox.c), which is what Docker's default profile costs. The
# fair comparison for ward is plain+seccomp: ward never runs an app unfiltered.
#
# Needs root, runc, redis-tools, wrk, jq, openssl and the images of
# ../shared/images/make-test-images.sh. Run from the source tree.
#
#   bench/run/run-bench.sh [WARD] [RUNS] [ROUNDS]
# WARD_BENCH_ONLY=start or steady runs only (a) or only (b) and the proxy.
# WARD_BASE=OTHER-WARD adds OTHER-WARD (e.g. a build of an older commit) to
# the (a) rows without --coordinator, alternating with WARD in the same runs.
set -euo pipefail
WARD=${1:-build/release/cmd/ward/ward}
RUNS=${2:-5}
ROUNDS=${3:-3}
IMAGES=${WARD_TEST_IMAGES:-/var/tmp/ward-test-images}
DEB=$IMAGES/debian/oci
SMALL=$IMAGES/redis-small/oci
T=$(mktemp -d /tmp/ward-bench-run.XXXXXX)
export WARD_STATE_ROOT=$T/state WARD_CONFIG_HOME=$T/cfg
RPORT=16390; NPORT=18080
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	sleep 0.3
	runc --root "$T/runc" list -q 2>/dev/null | while read -r id; do runc --root "$T/runc" delete -f "$id"; done
	rm -rf "$T"
}
trap cleanup EXIT
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
now_ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
wait_ping() { # wait_ping PORT: until PONG, 5 ms steps
	for _ in $(seq 6000); do
		redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.005
	done
	return 1
}
wait_http() { for _ in $(seq 3000); do curl -sf "http://127.0.0.1:$1/" >/dev/null && return 0; sleep 0.01; done; return 1; }

# ---- plain bundles: an image's layers unpacked, run by runc ----
# plain_bundle DIR OCI-LAYOUT TAG
plain_bundle() {
	local man
	man=$(jq -r --arg t "$3" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$t) | .digest' "$2/index.json")
	mkdir -p "$1/rootfs"
	for l in $(jq -r '.layers[].digest' "$2/blobs/sha256/${man#sha256:}"); do
		tar -xzf "$2/blobs/sha256/${l#sha256:}" -C "$1/rootfs"
	done
	(cd "$1" && runc spec)
}
# the seccomp profile of plain+seccomp: ward-init's filter (allow-list,
# default EPERM; clone without namespace flags; clone3 ENOSYS; Docker's
# personality values), in runc's format
SECCOMP=$(sed -n '/^static const char \*const allowed\[\] = {/,/^};/p' lib/agent/sandbox.c |
	grep -o '"[a-z0-9_]*"' | tr -d '"' | jq -R . | jq -sc \
	'{defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1, architectures: ["SCMP_ARCH_X86_64"],
	  syscalls: ([{names: ., action: "SCMP_ACT_ALLOW"},
	    {names: ["clone"], action: "SCMP_ACT_ALLOW",
	     args: [{index: 0, value: 2114060416, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ"}]},
	    {names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38}]
	    + [0, 8, 131072, 131080, 4294967295 | {names: ["personality"], action: "SCMP_ACT_ALLOW",
	       args: [{index: 0, value: ., op: "SCMP_CMP_EQ"}]}])}')
# plain_config DIR ARGS-JSON [seccomp]
plain_config() {
	jq --argjson a "$2" --argjson sc "$SECCOMP" --arg with "${3:-}" \
		'.process.terminal=false | .process.args=$a | .root.readonly=false
		| .linux.namespaces |= map(select(.type != "network"))
		| .process.capabilities.bounding += ["CAP_CHOWN","CAP_SETUID","CAP_SETGID","CAP_DAC_OVERRIDE","CAP_FOWNER"]
		| .process.capabilities.effective = .process.capabilities.bounding
		| .process.capabilities.permitted = .process.capabilities.bounding
		| if $with == "seccomp" then .linux.seccomp = $sc else del(.linux.seccomp) end' \
		"$1/config.json" > "$1/c" && mv "$1/c" "$1/config.json"
}
REDIS_ARGS='["redis-server","--port","'$RPORT'","--protected-mode","no","--save","","--appendonly","no"]'
REDIS_CMD=(redis-server --port $RPORT --protected-mode no --save "" --appendonly no)
plain_bundle "$T/plain" "$DEB" redis
plain_bundle "$T/small" "$SMALL" latest
plain_config "$T/small" "$REDIS_ARGS"

# ---- a running coordinator (sim TEE) and redis-small converted for it ----
WARD_INIT=$(dirname "$WARD")/../ward-init/ward-init
export WARD_SIM_STATE=$T/sim
"$WARD" sim init --state "$T/sim" >/dev/null 2>&1
"$WARD" sim ark --state "$T/sim" >"$T/ark.pem"
CM=$(printf 'c%.0s' $(seq 96))
echo "{\"tees\":[\"sim\"],\"measurements\":{\"sim\":[\"$CM\"]},\"debug\":false,\"sim_ark\":\"ark.pem\"}" >"$T/ref.json"
for k in admin img; do
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$k.key" 2>/dev/null
	openssl pkey -in "$T/$k.key" -pubout -out "$T/$k.pub"
done
"$WARD" coordinator --state "$T/cs" --listen 127.0.0.1:0 --sim-state "$T/sim" \
	--sim-measurement "$CM" --port-file "$T/port" >"$T/coord.log" 2>&1 &
pids+=($!)
for _ in $(seq 500); do [ -s "$T/port" ] && break; sleep 0.02; done
URL=https://127.0.0.1:$(cat "$T/port")
"$WARD" verify --coordinator "$URL" --reference "$T/ref.json" >/dev/null
"$WARD" convert -q --ward-init "$WARD_INIT" --recipient "jwe:$T/img.pub" \
	--coordinator-pin "$(ls "$T"/cfg/coordinators/*.pem)" "$SMALL" -o "$T/conv" >/dev/null
# the Debian image with its root filesystem as a protected volume
# (--rootfs volume), for the attested Debian row and the nginx variant
"$WARD" convert -q --rootfs volume --tag redis --ward-init "$WARD_INIT" --recipient "jwe:$T/img.pub" \
	--coordinator-pin "$(ls "$T"/cfg/coordinators/*.pem)" "$DEB" -o "$T/convd" >/dev/null
"$WARD" convert -q --rootfs volume --tag nginx --export-keys "$T/ngx.keys" "$DEB" -o "$T/ngxvol" >/dev/null
"$WARD" convert -q --rootfs volume --tag redis --export-keys "$T/rds.keys" "$DEB" -o "$T/rdsvol" >/dev/null
# and as a sealed ext4 image (--rootfs ext4): attested start, steady state
"$WARD" convert -q --rootfs ext4 --tag redis --ward-init "$WARD_INIT" --recipient "jwe:$T/img.pub" \
	--coordinator-pin "$(ls "$T"/cfg/coordinators/*.pem)" "$DEB" -o "$T/conve" >/dev/null
"$WARD" convert -q --rootfs ext4 --tag nginx --export-keys "$T/ngxe.keys" "$DEB" -o "$T/ngxext4" >/dev/null
"$WARD" convert -q --rootfs ext4 --tag redis --export-keys "$T/rdse.keys" "$DEB" -o "$T/rdsext4" >/dev/null
sim_measurement() { # sim_measurement OCI-LAYOUT: the sim TEE's measurement of its config
	local man cfg
	man=$(jq -r '.manifests[0].digest' "$1/index.json")
	cfg=$(jq -r '.config.digest' "$1/blobs/sha256/${man#sha256:}")
	printf 'ward-sim-v1:%s' "$cfg" | sha384sum | cut -d' ' -f1
}
WM=$(sim_measurement "$T/conv"); WMD=$(sim_measurement "$T/convd"); WME=$(sim_measurement "$T/conve")
jq -n --arg wm "$WM" --arg wmd "$WMD" --arg wme "$WME" --rawfile pub "$T/admin.pub" --argjson argv "$(printf '%s\n' "${REDIS_CMD[@]}" | jq -R . | jq -sc .)" \
	'{packages: {kv: {tees: ["sim"], measurements: {sim: [$wm]}, debug: false},
	             kvd: {tees: ["sim"], measurements: {sim: [$wmd]}, debug: false},
	             kve: {tees: ["sim"], measurements: {sim: [$wme]}, debug: false}},
	  secrets: {imgkey: {type: "user", resource: "default/image-key/kv", packages: ["kv"]},
	            imgkeyd: {type: "user", resource: "default/image-key/kvd", packages: ["kvd"]},
	            imgkeye: {type: "user", resource: "default/image-key/kve", packages: ["kve"]}},
	  workloads: {kv: {package: "kv", argv: $argv}, kvd: {package: "kvd", argv: $argv},
	             kve: {package: "kve", argv: $argv}},
	  users: {admin: {public_key: $pub, roles: ["admin"]}},
	  roles: {admin: {actions: ["update_manifest", "set_secret"], secrets: ["*"]}}}' >"$T/m.json"
"$WARD" manifest set "$T/m.json" --coordinator "$URL" >/dev/null
for k in imgkey imgkeyd imgkeye; do
	"$WARD" secret set $k --value-file "$T/img.key" --coordinator "$URL" --user admin --key "$T/admin.key" >/dev/null
done

# warm the ward caches (the development conversion; a converted image is
# already in this shape) and the sim platform
"$WARD" run -q --insecure-host-keys --network host "$DEB:redis" -- true >/dev/null 2>&1
"$WARD" run -q --insecure-host-keys --network host "$SMALL" -- true >/dev/null 2>&1
"$WARD" run -q --network host --coordinator "$URL" --workload kv "$T/conv" >/dev/null 2>&1 &
w=$!; wait_ping $RPORT; kill -TERM $w; wait $w 2>/dev/null || true
"$WARD" run -q --network host --coordinator "$URL" --workload kvd "$T/convd" >/dev/null 2>"$T/kvd.err" &
w=$!; wait_ping $RPORT || { cat "$T/kvd.err" >&2; exit 1; }
kill -TERM $w; wait $w 2>/dev/null || true
"$WARD" run -q --network host --coordinator "$URL" --workload kve "$T/conve" >/dev/null 2>"$T/kve.err" &
w=$!; wait_ping $RPORT || { cat "$T/kve.err" >&2; exit 1; }
kill -TERM $w; wait $w 2>/dev/null || true

# ---- (a) cold start ----
# time_plain BUNDLE: ms from `runc run` to the first PONG
time_plain() {
	local t0 t1 p id=plain-$RANDOM
	t0=$(now_ms)
	runc --root "$T/runc" run -b "$1" "$id" >/dev/null 2>&1 &
	p=$!; pids+=("$p")
	wait_ping $RPORT; t1=$(now_ms)
	runc --root "$T/runc" kill "$id" KILL 2>/dev/null || true; wait "$p" 2>/dev/null || true
	runc --root "$T/runc" delete -f "$id" 2>/dev/null || true
	echo $((t1 - t0))
}
# time_ward WARD-BINARY WARD-RUN-ARGS...: ms from `ward run` to the first PONG
time_ward() {
	local t0 t1 p bin=$1
	shift
	t0=$(now_ms)
	"$bin" run -q --network host "$@" >/dev/null 2>&1 &
	p=$!; pids+=("$p")
	wait_ping $RPORT; t1=$(now_ms)
	kill -TERM "$p"; wait "$p" 2>/dev/null || true
	echo $((t1 - t0))
}
# start_row LABEL PLAIN-BUNDLE WARD-RUN-ARGS...: RUNS alternating pairs
# (triples with $WARD_BASE, unless the row uses --coordinator: the
# converted image carries the ward-init of WARD)
start_row() {
	local label=$1 bundle=$2 pm wm bm base=${WARD_BASE:-}
	local -a plain=() ward=() old=()
	shift 2
	[[ " $* " == *" --coordinator "* ]] && base=
	for _ in $(seq "$RUNS"); do
		plain+=("$(time_plain "$bundle")")
		ward+=("$(time_ward "$WARD" "$@")")
		if [ -n "$base" ]; then old+=("$(time_ward "$base" "$@")"); fi
	done
	pm=$(printf '%s\n' "${plain[@]}" | median); wm=$(printf '%s\n' "${ward[@]}" | median)
	echo "$label"
	echo "  plain runc: ${plain[*]} ms -> median $pm ms"
	echo "  ward run:   ${ward[*]} ms -> median $wm ms"
	echo "  start overhead: $((wm - pm)) ms (goal <= 150 ms; load $(cut -d' ' -f1 /proc/loadavg))"
	if [ -n "$base" ]; then
		bm=$(printf '%s\n' "${old[@]}" | median)
		echo "  WARD_BASE:  ${old[*]} ms -> median $bm ms, overhead $((bm - pm)) ms"
	fi
}
if [ "${WARD_BENCH_ONLY:-}" != steady ]; then
echo "== (a) cold start to first redis PONG ($RUNS alternating runs each, medians)"
plain_config "$T/plain" "$REDIS_ARGS"
start_row "debian redis, --insecure-host-keys (no attestation)" "$T/plain" \
	--insecure-host-keys "$DEB:redis" -- "${REDIS_CMD[@]}"
start_row "debian redis, --rootfs volume image, --coordinator (attested)" "$T/plain" \
	--coordinator "$URL" --workload kvd "$T/convd"
start_row "debian redis, --rootfs ext4 image, --coordinator (attested)" "$T/plain" \
	--coordinator "$URL" --workload kve "$T/conve"
start_row "redis-small, --insecure-host-keys (no attestation)" "$T/small" \
	--insecure-host-keys "$SMALL" -- "${REDIS_CMD[@]}"
start_row "redis-small, --coordinator (attested, converted image)" "$T/small" \
	--coordinator "$URL" --workload kv "$T/conv"
start_row "redis-small, embedded default coordinator (attested, converted at each start)" "$T/small" \
	"$SMALL" -- "${REDIS_CMD[@]}"
fi
[ "${WARD_BENCH_ONLY:-}" = start ] && exit 0

# ---- (b) steady state ----
bench_redis() { redis-benchmark -p "$RPORT" -q -t get,set -n 200000 2>/dev/null | tr '\r' '\n' | grep 'requests per second'; }
bench_wrk() { wrk -t2 -c50 -d5s "http://127.0.0.1:$1/" | awk '/Requests\/sec/ {print $2}'; }
redis_variant() { # redis_variant plain|seccomp|ward|wardvol|wardext4: prints "SET GET" req/s
	local out p
	case $1 in
	plain | seccomp)
		plain_config "$T/plain" "$REDIS_ARGS" "$1"
		runc --root "$T/runc" run -b "$T/plain" "rb-$1" >/dev/null 2>&1 & p=$!; pids+=("$p")
		wait_ping $RPORT; out=$(bench_redis)
		runc --root "$T/runc" kill "rb-$1" KILL; wait "$p" 2>/dev/null || true
		runc --root "$T/runc" delete -f "rb-$1" 2>/dev/null || true ;;
	ward)
		"$WARD" run -q --insecure-host-keys --network host "$DEB:redis" -- "${REDIS_CMD[@]}" >/dev/null 2>&1 &
		p=$!; pids+=("$p"); wait_ping $RPORT; out=$(bench_redis)
		kill -TERM "$p"; wait "$p" 2>/dev/null || true ;;
	wardvol) # the same from the --rootfs volume image (root on FUSE + overlay)
		"$WARD" run -q --insecure-keys "$T/rds.keys" --network host "$T/rdsvol" -- "${REDIS_CMD[@]}" >/dev/null 2>&1 &
		p=$!; pids+=("$p"); wait_ping $RPORT; out=$(bench_redis)
		kill -TERM "$p"; wait "$p" 2>/dev/null || true ;;
	wardext4) # the same from the --rootfs ext4 image (root: ext4 in memory)
		"$WARD" run -q --insecure-keys "$T/rdse.keys" --network host "$T/rdsext4" -- "${REDIS_CMD[@]}" >/dev/null 2>&1 &
		p=$!; pids+=("$p"); wait_ping $RPORT; out=$(bench_redis)
		kill -TERM "$p"; wait "$p" 2>/dev/null || true ;;
	esac
	echo "$(echo "$out" | awk '$1=="SET:" {print $2}') $(echo "$out" | awk '$1=="GET:" {print $2}')"
}
nginx_variant() { # nginx_variant plain|seccomp|ward|wardvol|wardext4: prints req/s
	local out p
	case $1 in
	plain | seccomp)
		plain_config "$T/plain" '["nginx","-g","daemon off;"]' "$1"
		runc --root "$T/runc" run -b "$T/plain" "nb-$1" >/dev/null 2>&1 & p=$!; pids+=("$p")
		wait_http $NPORT; out=$(bench_wrk $NPORT)
		runc --root "$T/runc" kill "nb-$1" KILL; wait "$p" 2>/dev/null || true
		runc --root "$T/runc" delete -f "nb-$1" 2>/dev/null || true ;;
	ward) # ward's nginx listens on 80 (its unmodified config) in the host namespace
		"$WARD" run -q --insecure-host-keys --network host "$DEB:nginx" >/dev/null 2>&1 &
		p=$!; pids+=("$p"); wait_http 80; out=$(bench_wrk 80)
		kill -TERM "$p"; wait "$p" 2>/dev/null || true ;;
	wardvol) # the same from the --rootfs volume image (root on FUSE + overlay)
		"$WARD" run -q --insecure-keys "$T/ngx.keys" --network host "$T/ngxvol" >/dev/null 2>&1 &
		p=$!; pids+=("$p"); wait_http 80; out=$(bench_wrk 80)
		kill -TERM "$p"; wait "$p" 2>/dev/null || true ;;
	wardext4) # the same from the --rootfs ext4 image (root: ext4 in memory)
		"$WARD" run -q --insecure-keys "$T/ngxe.keys" --network host "$T/ngxext4" >/dev/null 2>&1 &
		p=$!; pids+=("$p"); wait_http 80; out=$(bench_wrk 80)
		kill -TERM "$p"; wait "$p" 2>/dev/null || true ;;
	esac
	echo "$out"
}
pct() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f%%", 100*b/a}'; }

echo "== (b) steady state, host network ($ROUNDS alternating rounds, medians)"
declare -A set get ngx
for v in plain seccomp ward wardvol wardext4; do set[$v]=; get[$v]=; ngx[$v]=; done
for _ in $(seq "$ROUNDS"); do
	for v in plain seccomp ward wardvol wardext4; do
		read -r s g < <(redis_variant $v)
		set[$v]+="$s "; get[$v]+="$g "
	done
done
for v in plain seccomp ward wardvol wardext4; do
	echo "redis $v: SET ${set[$v]}-> $(echo ${set[$v]} | tr ' ' '\n' | median)/s;" \
		"GET ${get[$v]}-> $(echo ${get[$v]} | tr ' ' '\n' | median)/s"
done
med() { echo $1 | tr ' ' '\n' | median; }
echo "  SET: ward/plain = $(pct "$(med "${set[plain]}")" "$(med "${set[ward]}")")," \
	"ward/plain+seccomp = $(pct "$(med "${set[seccomp]}")" "$(med "${set[ward]}")")"
echo "  GET: ward/plain = $(pct "$(med "${get[plain]}")" "$(med "${get[ward]}")")," \
	"ward/plain+seccomp = $(pct "$(med "${get[seccomp]}")" "$(med "${get[ward]}")")"
for m in SET GET; do
	for l in vol ext4; do
		[ $m = SET ] && { a=${set[plain]}; b=${set[seccomp]}; c=${set[ward$l]}; } ||
			{ a=${get[plain]}; b=${get[seccomp]}; c=${get[ward$l]}; }
		echo "  $m --rootfs ${l/vol/volume}: ward/plain = $(pct "$(med "$a")" "$(med "$c")")," \
			"ward/plain+seccomp = $(pct "$(med "$b")" "$(med "$c")")"
	done
done
echo "  (load $(cut -d' ' -f1 /proc/loadavg))"

sed -i "s/listen 80 default_server;/listen $NPORT default_server;/; s/listen \[::\]:80 default_server;//" \
	"$T/plain/rootfs/etc/nginx/sites-enabled/default"
if ! curl -s http://127.0.0.1:80/ >/dev/null 2>&1; then
	for _ in $(seq "$ROUNDS"); do
		for v in plain seccomp ward wardvol wardext4; do ngx[$v]+="$(nginx_variant $v) "; done
	done
	for v in plain seccomp ward wardvol wardext4; do
		echo "nginx $v: ${ngx[$v]}-> $(echo ${ngx[$v]} | tr ' ' '\n' | median) req/s"
	done
	a=$(echo ${ngx[plain]} | tr ' ' '\n' | median); s=$(echo ${ngx[seccomp]} | tr ' ' '\n' | median)
	w=$(echo ${ngx[ward]} | tr ' ' '\n' | median)
	echo "  nginx: ward/plain = $(pct "$a" "$w"), ward/plain+seccomp = $(pct "$s" "$w") (load $(cut -d' ' -f1 /proc/loadavg))"
	v=$(echo ${ngx[wardvol]} | tr ' ' '\n' | median)
	echo "  nginx --rootfs volume: ward/plain = $(pct "$a" "$v"), ward/plain+seccomp = $(pct "$s" "$v")"
	v=$(echo ${ngx[wardext4]} | tr ' ' '\n' | median)
	echo "  nginx --rootfs ext4: ward/plain = $(pct "$a" "$v"), ward/plain+seccomp = $(pct "$s" "$v")"
else
	echo "nginx: port 80 is busy on this host; skipped"
fi

echo "== ward's published-port proxy (private namespace, -p) for reference"
P=16391
"$WARD" run -q --insecure-host-keys -p $P:6379 "$DEB:redis" >/dev/null 2>&1 & w=$!; pids+=("$w")
wait_ping $P
rx=$(redis-benchmark -p $P -q -t get,set -n 200000 2>/dev/null | tr '\r' '\n' | grep 'requests per second')
kill -TERM "$w"; wait "$w" || true
echo "redis ward -p: $(echo $rx)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

# (c) [rootfs]: cold start by wrapped-image layout, plain runc vs ward
# convert --rootfs layers vs --rootfs volume, interleaved in one loop.
echo "== (c) cold start by image layout"
"$(dirname "$0")/cold-start-rootfs.sh" "$WARD" "$RUNS"
