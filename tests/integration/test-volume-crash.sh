#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# kill -9 the FUSE server at random points during writes, many times;
# after each crash the volume must mount (never a torn state, never a
# false rollback), every file whose fsync returned must be intact, the
# files of the previous rounds must be intact, and the offline check of
# the whole volume must pass.
# Usage: test-volume-crash.sh WARD [ITERATIONS]
. "$(dirname "$0")/test-volume-lib.sh"
ITER=${2:-50}

B=$T/back
M=$T/mnt
LOG=$T/durable.log # outside the volume: names whose fsync returned
: >"$LOG"
vol_create "$B"

# content NAME SIZE: deterministic bytes for a file.
content() { { yes "$1" 2>/dev/null || true; } | head -c "$2"; }

writer() {
	local round=$1 i=0 size name
	while :; do
		i=$((i + 1))
		size=$(((RANDOM * 37 + i * 4099) % 300000))
		# r<round>-1 gets 100 bytes overwritten at offset 10 below: it
		# must be longer than that, or the overwrite changes its size
		[ $i -eq 1 ] && [ $size -lt 110 ] && size=$((size + 110))
		name=r$round-$i
		content "$name" $size >"$M/$name.tmp" || return
		# Overwrite part of an earlier, durable file in place as well.
		[ $i -gt 1 ] && printf 'X%.0s' {1..100} | dd of="$M/r$round-1" bs=1 seek=10 \
			conv=notrunc status=none 2>/dev/null
		mv "$M/$name.tmp" "$M/$name" || return
		sync "$M/$name" || return
		echo "$name $size" >>"$LOG"
	done
}

for it in $(seq 1 "$ITER"); do
	vol_mount "$B" "$M" --commit-interval $((RANDOM % 3 * 20 + 5)) ||
		fail "iteration $it: mount refused after a crash: $(tail -2 "$T/server.log")"
	# Everything recorded as durable so far is intact (r<round>-1 is
	# overwritten in place in its round: only its size is checked).
	# (All rounds every 10th iteration, else the rounds since.)
	if [ $((it % 10)) = 1 ]; then cp "$LOG" "$T/verify"; else grep "^r$((it - 1))-" "$LOG" >"$T/verify" || true; fi
	while read -r name size; do
		[ -f "$M/$name" ] || fail "iteration $it: durable file $name lost"
		case $name in
		*-1) [ "$(stat -c %s "$M/$name")" = "$size" ] || fail "iteration $it: $name size" ;;
		*) cmp -s "$M/$name" <(content "$name" "$size") ||
			fail "iteration $it: durable file $name corrupted" ;;
		esac
	done <"$T/verify"
	set -m # the writer gets its own process group
	writer "$it" 2>/dev/null &
	WPID=$!
	set +m
	sleep "0.$((RANDOM % 15 + 3))"
	# Kill the server first; the dead mount stays (ENOTCONN) until the
	# writer is gone too, so nothing lands in the bare mount point.
	kill -9 "$SERVER"
	wait "$SERVER" 2>/dev/null || true
	SERVER=
	kill -9 -- -$WPID 2>/dev/null || true # its whole process group
	wait $WPID 2>/dev/null || true
	vol_kill "$M"
	[ -z "$(ls -A "$M")" ] || fail "iteration $it: files written to the bare mount point"
done

# A last mount cleans crash leftovers; then the whole volume verifies.
vol_mount "$B" "$M" || fail "final mount"
while read -r name size; do
	case $name in
	*-1) [ "$(stat -c %s "$M/$name")" = "$size" ] || fail "final: $name size" ;;
	*) cmp -s "$M/$name" <(content "$name" "$size") || fail "final: $name corrupted or lost" ;;
	esac
done <"$LOG"
n=$(wc -l <"$LOG")
vol_umount "$M"
"$WARD" volume check "$B" --key-file "$KEY" --registry "$REG" >"$T/check.out" ||
	fail "offline check after $ITER crashes: $(cat "$T/check.out")"
grep -c integrity "$T/server.log" >/dev/null && fail "integrity failures logged after crashes"
echo "ok: $ITER kill -9 crashes, $n fsynced files intact, offline check passes"
echo PASS
