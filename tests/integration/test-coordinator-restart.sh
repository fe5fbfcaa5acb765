#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Restart with the same state keeps secrets and identity; a changed
# sealing key (new launch measurement) is refused until `ward coordinator
# recover` unwraps the data key with a recovery key; then secrets survive.
WARD=$1 KBS=$2
. "$(dirname "$0")/coordinator-common.sh"

sim_init
keys
PIN=$T/pin.pem
coord_start --verifier builtin || { echo "coordinator did not start"; cat "$T/coord.log"; exit 1; }
expect_rc "verify" 0 "$WARD" verify --coordinator "$URL" --reference "$T/ref.json" --pin-file "$PIN"
manifest "$T/m1.json"
expect_rc "manifest set" 0 "$WARD" manifest set "$T/m1.json" --coordinator "$URL" --pin-file "$PIN"
mkdir -p "$T/a" "$T/b" "$T/c"
expect_rc "flow 1" 0 kbs --measurement "$WM" --out "$T/a" --resource ward/bundle/web --resource default/key/img --resource ward/volume/web.data

# Graceful restart: same identity (the pin still works), same secrets.
coord_stop
coord_start --verifier builtin || { echo "restart failed"; cat "$T/coord.log"; exit 1; }
expect_rc "flow 2" 0 kbs --measurement "$WM" --out "$T/b" --resource ward/bundle/web --resource default/key/img --resource ward/volume/web.data
for f in ward_bundle_web default_key_img ward_volume_web.data; do
	cmp -s "$T/a/$f" "$T/b/$f" || FAILN "$f changed across a restart"
done
expect_rc "manifest verify after restart" 0 "$WARD" manifest verify "$T/m1.json" --coordinator "$URL" --pin-file "$PIN"

# A new sealing key: the coordinator refuses to start.
coord_stop
NEW_CM=$(printf 'e%.0s' $(seq 96))
COORD_MEASUREMENT=$NEW_CM coord_start && FAILN "started with a changed sealing key"
grep -q "ward recover" "$T/coord.log" || FAILN "no recovery hint in the log"
# Recovery with a wrong key fails, with the manifest's recovery key works.
expect_rc "recover wrong key" 1 "$WARD" coordinator recover --state "$T/state" --sim-state "$T/sim" \
	--sim-measurement "$NEW_CM" --key "$T/admin.key"
expect_rc "recover" 0 "$WARD" coordinator recover --state "$T/state" --sim-state "$T/sim" \
	--sim-measurement "$NEW_CM" --key "$T/recovery.key"
COORD_MEASUREMENT=$NEW_CM coord_start || { FAILN "start after recovery"; cat "$T/coord.log"; exit 1; }
expect_rc "flow 3" 0 kbs --measurement "$WM" --out "$T/c" --resource ward/bundle/web --resource default/key/img --resource ward/volume/web.data
for f in ward_bundle_web default_key_img ward_volume_web.data; do
	cmp -s "$T/a/$f" "$T/c/$f" || FAILN "$f changed across recovery"
done
# The old reference no longer matches the new measurement: loud refusal.
expect_rc "verify old reference" 1 "$WARD" verify --coordinator "$URL" --reference "$T/ref.json" --pin-file "$T/pin2.pem"
expect_out "verify refusal" "REFUSED"
expect_rc "log after recovery" 0 "$WARD" log --coordinator "$URL" --pin-file "$PIN" --user admin --key "$T/admin.key" --json
expect_out "recovered audit" '"kind": "coordinator.recovered"'
exit $fail
