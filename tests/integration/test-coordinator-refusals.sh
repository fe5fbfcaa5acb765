#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Refusals, each with the right status and an audit record: wrong
# measurement, TEE not listed, debug TEE, replayed nonce, wrong nonce,
# report data not binding the key, expired token, tampered token, resource
# of another package, unknown resource, unauthorised manifest updates.
WARD=$1 KBS=$2
. "$(dirname "$0")/coordinator-common.sh"

sim_init
keys
coord_start --token-ttl 2 || { echo "coordinator did not start"; cat "$T/coord.log"; exit 1; }
expect_rc "verify" 0 "$WARD" verify --coordinator "$URL" --reference "$T/ref.json"

# Before any manifest: attestation refused.
expect_rc "no manifest" 1 kbs --measurement "$WM"
expect_out "no manifest 401" "attest 401"
expect_out "no manifest reason" "no manifest is set"

manifest "$T/m1.json"
expect_rc "manifest set" 0 "$WARD" manifest set "$T/m1.json" --coordinator "$URL"
expect_rc "good flow" 0 kbs --measurement "$WM" --resource default/key/img

expect_rc "wrong measurement" 1 kbs --measurement "$OTHER_M"
expect_out "wrong measurement 401" "attest 401"
expect_out "wrong measurement reason" "measurement .* is not accepted"

expect_rc "debug TEE" 1 kbs --measurement "$WM" --policy 0xB0000
expect_out "debug 401" "attest 401"
expect_out "debug reason" "debug TEE refused"

expect_rc "replay" 1 kbs --measurement "$WM" --mode replay
expect_out "replay 401" "replay 401"
expect_out "replay reason" "nonce already used"

expect_rc "wrong nonce" 1 kbs --measurement "$WM" --mode wrong-nonce
expect_out "wrong nonce 401" "attest 401"
expect_out "wrong nonce reason" "report data does not bind"

expect_rc "bad binding" 1 kbs --measurement "$WM" --mode bad-binding
expect_out "bad binding 401" "attest 401"
expect_out "bad binding reason" "report data does not bind"

expect_rc "tampered token" 1 kbs --measurement "$WM" --mode tamper-token --resource default/key/img
expect_out "tampered 401" "resource default/key/img 401"
expect_out "tampered reason" "token signature invalid"

expect_rc "expired token" 1 kbs --measurement "$WM" --mode expired:3 --resource default/key/img
expect_out "expired 401" "resource default/key/img 401"

expect_rc "other package's resource" 1 kbs --measurement "$WM" --resource default/key/other
expect_out "other 403" "resource default/key/other 403"
expect_rc "unknown resource" 1 kbs --measurement "$WM" --resource default/key/nope
expect_out "unknown 404" "resource default/key/nope 404"
expect_rc "unknown workload" 1 kbs --measurement "$WM" --resource ward/bundle/nope
expect_out "unknown workload 404" "resource ward/bundle/nope 404"

expect_rc "no session" 1 "$KBS" --url "$URL" --pin "$(pin)" --sim-state "$T/sim" --measurement "$WM" --mode bearer --resource default/key/img --tee bogus
expect_out "bogus tee 400" "auth 400"

# Unauthorised manifest updates.
manifest "$T/m2.json" extra
expect_rc "update by reader" 1 "$WARD" manifest set "$T/m2.json" --coordinator "$URL" --user reader --key "$T/reader.key"
expect_out "reader 403" "HTTP 403"
expect_rc "update by stranger" 1 "$WARD" manifest set "$T/m2.json" --coordinator "$URL" --user admin --key "$T/stranger.key"
expect_out "stranger 401" "HTTP 401"
expect_rc "update by unknown user" 1 "$WARD" manifest set "$T/m2.json" --coordinator "$URL" --user nobody --key "$T/admin.key"
expect_out "unknown user 401" "HTTP 401"
# An invalid manifest: precise error.
echo '{"packages": {"web": {"tees": ["sim"], "measurements": {"sim": ["zz"]}}}}' >"$T/bad.json"
expect_rc "invalid manifest" 1 "$WARD" manifest set "$T/bad.json" --coordinator "$URL" --user admin --key "$T/admin.key"
expect_out "invalid manifest path" '\$.packages.web.measurements.sim\[0\]: expected 96 hex digits'

# max_instances: one live instance of "web" at a time.
python3 -c "
import json; m=json.load(open('$T/m1.json')); m['workloads']['web']['max_instances']=1
json.dump(m, open('$T/m4.json','w'))"
expect_rc "update max_instances" 0 "$WARD" manifest set "$T/m4.json" --coordinator "$URL" --user admin --key "$T/admin.key"
expect_rc "first instance" 0 kbs --measurement "$WM" --resource ward/bundle/web
expect_rc "second instance" 1 kbs --measurement "$WM" --resource ward/bundle/web
expect_out "second instance 403" "resource ward/bundle/web 403"
expect_out "second instance reason" "max_instances reached"
sleep 3 # the first session (token TTL 2 s) is gone
expect_rc "instance after expiry" 0 kbs --measurement "$WM" --resource ward/bundle/web

# TEE not listed: a signed update drops "sim" from the package.
manifest "$T/m3.json" "" '["snp"]'
expect_rc "update to snp only" 0 "$WARD" manifest set "$T/m3.json" --coordinator "$URL" --user admin --key "$T/admin.key"
expect_rc "sim not listed" 1 kbs --measurement "$WM"
expect_out "sim not listed 401" "attest 401"
expect_out "sim not listed reason" 'TEE "sim" is not accepted'

# Every refusal left an audit record with its reason.
expect_rc "log" 0 "$WARD" log --coordinator "$URL" --user admin --key "$T/admin.key" --json
for reason in "no manifest is set" "is not accepted by package web" "debug TEE refused" \
	"nonce already used" "report data does not bind" "token signature invalid" \
	"expired" "may not fetch this resource" "no such resource" "no such workload" \
	"role does not allow update_manifest" "signature does not verify" "unknown user" \
	'TEE \\"sim\\" is not accepted by package web' "max_instances reached"; do
	expect_out "audit: $reason" "$reason"
done
exit $fail
