#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Protected-volume benchmark: Ward volume vs gocryptfs vs the plain
# directory, in the same run on the same disk. Medians of RUNS runs of:
#   1 GiB sequential write (dd bs=1M, fdatasync at the end), sequential
#   read with caches dropped, random 4 KiB reads (caches dropped) and
#   writes (one fsync at the end) on a 256 MiB file, and untar of a
#   large source tree (tar -x, then sync).
# Needs root (FUSE, drop_caches) and gocryptfs.
# Usage: bench/volume/run.sh [WARD-BINARY] [WORKDIR]
#   env: SIZE_MB (1024), RUNS (3), RAND_OPS (20000), TREE (/usr/include),
#        BLOCK_SIZE (the Ward volume's block size, default 4096)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WARD=${1:-$HERE/../../build/release/cmd/ward/ward}
W=${2:-/var/tmp/ward-vol-bench}
SIZE_MB=${SIZE_MB:-1024}
RUNS=${RUNS:-3}
RAND_OPS=${RAND_OPS:-20000}
TREE=${TREE:-/usr/include}
BLOCK_SIZE=${BLOCK_SIZE:-4096}

[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
command -v gocryptfs >/dev/null || { echo "gocryptfs not installed"; exit 1; }
[ -x "$WARD" ] || { echo "no ward binary at $WARD (build the release preset)"; exit 1; }

rm -rf "$W"
mkdir -p "$W"
SERVER=
cleanup() {
	for m in "$W"/mnt-*; do mountpoint -q "$m" 2>/dev/null && fusermount3 -u "$m"; done
	[ -n "$SERVER" ] && wait "$SERVER" 2>/dev/null
	rm -rf "$W" /dev/shm/ward-bench-tree.tar
}
trap cleanup EXIT

cc -O2 -o "$W/randio" "$HERE/randio.c"
tar -C "$(dirname "$TREE")" -cf /dev/shm/ward-bench-tree.tar "$(basename "$TREE")"
NTREE=$(tar -tf /dev/shm/ward-bench-tree.tar | wc -l)

now() { date +%s.%N; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

wait_mount() {
	for _ in $(seq 1 250); do mountpoint -q "$1" && return 0; sleep 0.02; done
	echo "mount at $1 failed"; exit 1
}

setup() { # target -> sets D, the directory to use
	case $1 in
	plain) mkdir -p "$W/plain"; D=$W/plain ;;
	gocryptfs)
		mkdir -p "$W/gc" "$W/mnt-gc"
		echo bench >"$W/gc.pw"
		gocryptfs -init -q -passfile "$W/gc.pw" "$W/gc" >/dev/null 2>&1
		gocryptfs -q -passfile "$W/gc.pw" "$W/gc" "$W/mnt-gc" >/dev/null 2>&1
		wait_mount "$W/mnt-gc"
		D=$W/mnt-gc ;;
	ward)
		mkdir -p "$W/mnt-ward"
		"$WARD" volume create "$W/ward" --key-file "$W/ward.key" --new-key \
			--block-size "$BLOCK_SIZE" --registry "$W/ward.reg" >/dev/null
		"$WARD" volume mount "$W/ward" "$W/mnt-ward" --key-file "$W/ward.key" \
			--registry "$W/ward.reg" >/dev/null 2>"$W/ward.log" &
		SERVER=$!
		wait_mount "$W/mnt-ward"
		D=$W/mnt-ward ;;
	esac
}

teardown() {
	case $1 in
	plain) rm -rf "$W/plain" ;;
	gocryptfs) fusermount3 -u "$W/mnt-gc"; rm -rf "$W/gc" ;;
	ward) fusermount3 -u "$W/mnt-ward"; wait "$SERVER"; SERVER=; rm -rf "$W/ward" "$W/ward.key" "$W/ward.reg" ;;
	esac
}

declare -A R
for target in plain gocryptfs ward; do
	setup $target
	for run in $(seq 1 "$RUNS"); do
		rm -f "$D/seq"
		drop
		t0=$(now)
		dd if=/dev/zero of="$D/seq" bs=1M count="$SIZE_MB" conv=fdatasync status=none
		t1=$(now)
		echo "$SIZE_MB * 1.048576 / ($t1 - $t0)" | bc -l >>"$W/$target.seqw"
		drop
		t0=$(now)
		dd if="$D/seq" of=/dev/null bs=1M status=none
		t1=$(now)
		echo "$SIZE_MB * 1.048576 / ($t1 - $t0)" | bc -l >>"$W/$target.seqr"
		rm -f "$D/seq"

		[ -f "$D/rand" ] || dd if=/dev/zero of="$D/rand" bs=1M count=256 conv=fdatasync status=none
		drop
		"$W/randio" read "$D/rand" "$RAND_OPS" "$run" | cut -d' ' -f1 >>"$W/$target.randr"
		"$W/randio" write "$D/rand" "$RAND_OPS" "$run" | cut -d' ' -f1 >>"$W/$target.randw"

		rm -rf "$D/tree"
		mkdir "$D/tree"
		drop
		t0=$(now)
		tar -C "$D/tree" -xf /dev/shm/ward-bench-tree.tar
		sync
		t1=$(now)
		echo "$t1 - $t0" | bc -l >>"$W/$target.untar"
		rm -rf "$D/tree"
	done
	for m in seqw seqr randr randw untar; do
		R[$target.$m]=$(median <"$W/$target.$m")
	done
	teardown $target
	echo "done: $target" >&2
done

ratio() { echo "scale=2; $1 / $2" | bc -l; }
printf '\nWard volume benchmark (%s, medians of %d runs, %s, Ward block size %s, load %s)\n' \
	"$(date -u +%FT%TZ)" "$RUNS" "$(df --output=source "$W" | tail -1)" "$BLOCK_SIZE" \
	"$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %12s %12s %12s %10s %10s\n' "" plain gocryptfs ward "ward/gcfs" "ward/plain"
for m in seqw seqr randr randw; do
	case $m in
	seqw) label="seq write 1 MiB (MB/s)" ;;
	seqr) label="seq read, cold (MB/s)" ;;
	randr) label="rand 4K read, cold (IOPS)" ;;
	randw) label="rand 4K write+fsync (IOPS)" ;;
	esac
	printf '%-28s %12.0f %12.0f %12.0f %10s %10s\n' "$label" "${R[plain.$m]}" "${R[gocryptfs.$m]}" \
		"${R[ward.$m]}" "$(ratio "${R[ward.$m]}" "${R[gocryptfs.$m]}")" \
		"$(ratio "${R[ward.$m]}" "${R[plain.$m]}")"
done
# For time, lower is better: print speed ratios (gocryptfs time / ward time).
printf '%-28s %12.2f %12.2f %12.2f %10s %10s\n' "untar $NTREE entries (s)" "${R[plain.untar]}" \
	"${R[gocryptfs.untar]}" "${R[ward.untar]}" "$(ratio "${R[gocryptfs.untar]}" "${R[ward.untar]}")" \
	"$(ratio "${R[plain.untar]}" "${R[ward.untar]}")"
printf '(ratios > 1 mean Ward is faster; for untar the ratio is time(other)/time(ward))\n'
printf 'goal: seq read and write >= 1.5x gocryptfs, untar ratio >= 1.0\n'
