# SPDX-License-Identifier: Apache-2.0
# Shared helpers for the ward run integration tests (sourced).
# Usage in a test: source test-run-lib.sh WARD WARD_INIT
set -u
WARD=$1
# WARD_TEST_INIT: a static ward-init to pair with a sanitizer build of ward
export WARD_INIT=${WARD_TEST_INIT:-$2}
IMAGES=${WARD_TEST_IMAGES:-/var/tmp/ward-test-images}
fail=0
T=$(mktemp -d /tmp/ward-test-run.XXXXXX)
export WARD_STATE_ROOT=$T/state
OUT=$T/out

skip() { echo "SKIP: $*"; rm -rf "$T"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
command -v runc >/dev/null || skip "needs runc"
# sanitizer builds link ward-init dynamically; it cannot run inside an image
if readelf -l "$WARD_INIT" 2>/dev/null | grep -q 'program interpreter'; then
	skip "ward-init is dynamically linked (sanitizer build): it needs the static one"
fi
"$WARD" run --insecure-host-keys 2>&1 | grep -q 'not available in this build' &&
	skip "distribution build: no INSECURE test switches"
[ -d "$IMAGES/tiny/oci" ] || skip "no test images in $IMAGES (shared/images/make-test-images.sh)"

cleanup_all() {
	# every container this test started: stop, remove; then the temp dir
	for d in "$WARD_STATE_ROOT"/*/; do
		[ -d "$d" ] || continue
		"$WARD" rm -f "$(basename "$d")" >/dev/null 2>&1
	done
	for id in $(runc --root "$WARD_STATE_ROOT/.runc" list -q 2>/dev/null); do
		runc --root "$WARD_STATE_ROOT/.runc" delete --force "$id" >/dev/null 2>&1
	done
	rm -rf "$T"
}
trap cleanup_all EXIT

check() { # check NAME EXPECTED_RC CMD...
	local name=$1 want=$2; shift 2
	"$@" >"$OUT" 2>&1
	local rc=$?
	if [ "$rc" != "$want" ]; then
		echo "FAIL $name: exit $rc, expected $want"; sed 's/^/    /' "$OUT"; fail=1
	else
		echo "ok   $name"
	fi
}
contains() { # contains NAME PATTERN
	if ! grep -q -- "$2" "$OUT"; then
		echo "FAIL $1: output lacks '$2'"; sed 's/^/    /' "$OUT"; fail=1
	fi
}
lacks() { # lacks NAME PATTERN
	if grep -q -- "$2" "$OUT"; then
		echo "FAIL $1: output has '$2'"; sed 's/^/    /' "$OUT"; fail=1
	fi
}
wait_for() { # wait_for TRIES CMD...: retry every 0.2 s
	local n=$1; shift
	for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
	return 1
}
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
run() { "$WARD" run -q --insecure-host-keys "$@"; }
