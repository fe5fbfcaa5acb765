#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Crash safety: kill -9 the coordinator at random points while signed
# manifest updates (each generating an RSA key secret) and secret
# rotations run, at least WARD_CRASH_KILLS (default 50) times. After each
# restart: the audit chain verifies, the current manifest is the one the
# last manifest record names, its generated secrets exist, and the image
# key released before the first crash is unchanged.
WARD=$1 KBS=$2
. "$(dirname "$0")/coordinator-common.sh"
KILLS=${WARD_CRASH_KILLS:-50}

sim_init
keys
PIN=$T/pin.pem
coord_start || { echo "coordinator did not start"; cat "$T/coord.log"; exit 1; }
expect_rc "verify" 0 "$WARD" verify --coordinator "$URL" --reference "$T/ref.json" --pin-file "$PIN"
manifest "$T/m0.json"
for k in 1 2 3 4; do EXTRA_TYPE=rsa manifest "$T/m$k.json" "extra$k"; done
expect_rc "manifest set" 0 "$WARD" manifest set "$T/m0.json" --coordinator "$URL" --pin-file "$PIN"
mkdir -p "$T/ref"
expect_rc "first release" 0 kbs --measurement "$WM" --out "$T/ref" --resource default/key/img
[ "$fail" = 0 ] || exit 1
coord_stop

admin() { "$WARD" "$@" --coordinator "$URL" --pin-file "$PIN" --user admin --key "$T/admin.key"; }

check_state() { # check_state ITERATION
	local it=$1
	admin log --json >"$T/log.json" 2>"$T/log.err" || { FAILN "iteration $it: log does not verify"; cat "$T/log.err"; return; }
	"$WARD" manifest get --coordinator "$URL" --pin-file "$PIN" >"$T/cur.json" 2>"$T/cur.err" ||
		{ FAILN "iteration $it: manifest get"; cat "$T/cur.err"; return; }
	python3 - "$T/log.json" "$T/cur.err" "$T/cur.json" <<'EOP' || FAILN "iteration $it: manifest and log disagree"
import json, sys, re
log = json.load(open(sys.argv[1]))["entries"]
cur = re.search(r"sha256 ([0-9a-f]{64})", open(sys.argv[2]).read()).group(1)
last = [e for e in log if e["kind"] in ("manifest.set", "manifest.update")][-1]
assert last["detail"]["hash"] == cur, (last, cur)
seq = int(re.search(r"manifest (\d+) of", open(sys.argv[2]).read()).group(1))
assert last["detail"]["seq"] == seq, (last, seq)
EOP
	# Every generated secret of the current manifest exists.
	for s in $(python3 -c "
import json,sys
m=json.load(open('$T/cur.json'))
print(' '.join(n for n,v in m['secrets'].items() if v['type']!='user'))"); do
		admin secret get "$s" >/dev/null 2>"$T/sec.err" || { FAILN "iteration $it: secret $s missing"; cat "$T/sec.err"; }
	done
}

kills=0
for it in $(seq "$KILLS"); do
	coord_start || { FAILN "iteration $it: coordinator did not restart"; tail -5 "$T/coord.log"; break; }
	(
		for k in 1 2 3 4 1 2 3 4; do
			admin manifest set "$T/m$k.json" >/dev/null 2>&1
			admin secret rotate db.password >/dev/null 2>&1
		done
	) &
	writer=$!
	sleep "0.$(( (RANDOM % 40) + 5 ))"
	kill -9 "$COORD_PID"; wait "$COORD_PID" 2>/dev/null; COORD_PID=
	kills=$((kills + 1))
	kill "$writer" 2>/dev/null; wait "$writer" 2>/dev/null
	coord_start || { FAILN "iteration $it: no restart after kill"; tail -5 "$T/coord.log"; break; }
	check_state "$it"
	if [ $((it % 10)) = 0 ] || [ "$it" = "$KILLS" ]; then
		rm -rf "$T/now"; mkdir -p "$T/now"
		kbs --measurement "$WM" --out "$T/now" --resource default/key/img >/dev/null 2>&1 ||
			FAILN "iteration $it: release after restart"
		cmp -s "$T/ref/default_key_img" "$T/now/default_key_img" ||
			FAILN "iteration $it: a released secret changed"
	fi
	coord_kill
	[ "$fail" = 0 ] || break
done
echo "kills: $kills"
[ "$kills" -ge "$KILLS" ] || FAILN "only $kills kills"
exit $fail
