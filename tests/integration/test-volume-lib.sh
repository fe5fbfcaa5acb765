# SPDX-License-Identifier: Apache-2.0
# Shared helpers for the protected-volume integration tests (sourced).
# Needs root and a usable /dev/fuse; otherwise the tests exit 77 (skipped).

set -euo pipefail

WARD=${1:?usage: $0 WARD-BINARY [TOOLS...]}
T=$(mktemp -d /tmp/ward-vol-test.XXXXXX)
KEY=$T/key
REG=$T/registry
SERVER=

cleanup() {
	local m
	for m in "$T"/mnt*; do
		[ -d "$m" ] && mountpoint -q "$m" && fusermount3 -uz "$m" 2>/dev/null
	done
	[ -n "$SERVER" ] && kill -9 "$SERVER" 2>/dev/null
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

skip() {
	echo "SKIP: $*"
	exit 77
}

fail() {
	echo "FAIL: $*" >&2
	[ -f "$T/server.log" ] && tail -20 "$T/server.log" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || skip "needs root for FUSE"
[ -c /dev/fuse ] || skip "/dev/fuse missing"
command -v fusermount3 >/dev/null || skip "fusermount3 missing"

# vol_mount BACKING MOUNTPOINT [ward volume mount options...]
vol_mount() {
	local back=$1 mnt=$2
	shift 2
	mkdir -p "$mnt"
	"$WARD" volume mount "$back" "$mnt" --key-file "$KEY" --registry "$REG" "$@" \
		2>>"$T/server.log" &
	SERVER=$!
	for _ in $(seq 1 250); do
		mountpoint -q "$mnt" && return 0
		kill -0 "$SERVER" 2>/dev/null || { wait "$SERVER" || true; SERVER=; return 1; }
		sleep 0.02
	done
	return 1
}

vol_umount() {
	fusermount3 -u "$1"
	wait "$SERVER"
	SERVER=
}

# vol_kill MOUNTPOINT: kill -9 the server and drop the dead mount.
vol_kill() {
	kill -9 "$SERVER" 2>/dev/null || true
	wait "$SERVER" 2>/dev/null || true
	SERVER=
	fusermount3 -uz "$1" 2>/dev/null || umount -l "$1" 2>/dev/null || true
}

vol_create() {
	"$WARD" volume create "$1" --key-file "$KEY" ${2:+"$2"} --registry "$REG" >/dev/null
}

# Probe once: can we mount at all? (Also creates the key.)
"$WARD" volume create "$T/probe-back" --key-file "$KEY" --new-key --registry "$REG" >/dev/null ||
	fail "volume create"
vol_mount "$T/probe-back" "$T/mnt-probe" ||
	skip "cannot mount FUSE here: $(tail -1 "$T/server.log" 2>/dev/null)"
vol_umount "$T/mnt-probe"
rm -rf "$T/probe-back" "$T/mnt-probe"
: >"$T/server.log"
