#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ward run IMAGE with no --coordinator: the embedded default coordinator
# (INSECURE sim mode). A plain image is converted with the coordinator's
# pin measured in, the manifest's demo secret reaches the unmodified app
# ($WARD_DEMO_SECRET, and a template in -- ARGS), a published port works
# from the coordinator's network namespace, and the child coordinator and
# the temporary state are gone after a normal exit, a SIGTERM and a refusal.
source "$(dirname "$0")/test-run-lib.sh" "$1" "$2"
strings "$WARD_INIT" | grep -q 'coordinator.pem' || skip "ward-init without the KBS transport"
export WARD_SIM_STATE=$T/sim
BG=
trap '[ -n "$BG" ] && kill $BG 2>/dev/null; wait 2>/dev/null; cleanup_all' EXIT

gone() { # gone NAME: the embedded dirs named in $OUT (state, image) and its coordinator are gone
	local d dirs
	dirs=$(grep -o '/\(tmp\|dev/shm\)/ward-embedded\.[A-Za-z0-9]*' "$OUT" | head -2)
	if [ -z "$dirs" ]; then
		echo "FAIL $1: no embedded state dir in the output"; fail=1
	fi
	for d in $dirs; do
		if [ -e "$d" ] || pgrep -f -- "$d" >/dev/null; then
			echo "FAIL $1: $d or its coordinator is left"; fail=1
		fi
	done
}

check tiny 3 "$WARD" run "$IMAGES/tiny/oci" -- sh -c 'echo secret-len ${#WARD_DEMO_SECRET}; exit 3'
contains tiny-secret "secret-len 20"
contains tiny-attested "ward-init: attested to https://127.0.0.1:"
contains tiny-pinned "embedded coordinator attested (sim), certificate pinned"
[ "$(grep -c 'INSECURE sim mode' "$OUT")" = 1 ] || { echo "FAIL tiny-warning: not exactly once"; fail=1; }
gone tiny-cleanup

# redis with --requirepass from a template in -- ARGS, through -p, stopped by SIGTERM
if [ -d "$IMAGES/debian/oci" ]; then
	P=$(free_port)
	"$WARD" run -p "$P:6379" "$IMAGES/debian/oci:redis" -- redis-server --protected-mode no \
		--save "" --appendonly no --requirepass '{{ secret.demo.password }}' >"$T/bg.out" 2>&1 &
	BG=$!
	check redis-up 0 wait_for 150 sh -c "redis-cli -p $P ping 2>&1 | grep -q NOAUTH"
	check redis-noauth 0 redis-cli -p "$P" set k v
	contains redis-noauth NOAUTH
	check redis-literal-template 0 redis-cli -p "$P" -a '{{ secret.demo.password }}' --no-auth-warning ping
	contains redis-literal-template WRONGPASS
	kill -TERM $BG
	check redis-sigterm 0 sh -c "wait_for() { for _ in \$(seq 100); do kill -0 $BG 2>/dev/null || return 0; sleep 0.1; done; return 1; }; wait_for"
	BG=
	cp "$T/bg.out" "$OUT"
	contains redis-attested "ward-init: attested to"
	gone redis-cleanup
fi

check detach-refused 2 "$WARD" run -d "$IMAGES/tiny/oci"
contains detach-refused "needs --coordinator URL"
"$WARD" convert -q --ward-init "$WARD_INIT" --export-keys "$T/k.json" "$IMAGES/tiny/oci" -o "$T/conv" >/dev/null 2>&1
check converted-refused 1 "$WARD" run "$T/conv"
contains converted-refused "a converted image needs --coordinator URL"
gone converted-cleanup
exit $fail
