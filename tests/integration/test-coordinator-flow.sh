#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Full flow with sim evidence: verify + pin, set manifest, attest, fetch
# bundle/cert/keys; the leaf verifies against the CA and carries the
# attested key; signed manifest update, secrets, audit log, metrics.
WARD=$1 KBS=$2
. "$(dirname "$0")/coordinator-common.sh"

sim_init
keys
coord_start --metrics 127.0.0.1:0 || { echo "coordinator did not start"; cat "$T/coord.log"; exit 1; }

# Commands refuse without a pin.
expect_rc "manifest get before verify" 1 "$WARD" manifest get --coordinator "$URL"
expect_out "no pin message" "run 'ward verify"
# A reference with another measurement: loud refusal, nothing pinned.
sed "s/$CM/$OTHER_M/" "$T/ref.json" >"$T/ref-bad.json"
expect_rc "verify wrong measurement" 1 "$WARD" verify --coordinator "$URL" --reference "$T/ref-bad.json"
expect_out "verify refusal" "REFUSED"
[ -e "$(pin)" ] && FAILN "pinned after a refusal"
expect_rc "verify" 0 "$WARD" verify --coordinator "$URL" --reference "$T/ref.json"
expect_out "verify prints manifest" "manifest: none"

manifest "$T/m1.json"
expect_rc "manifest verify (local)" 0 "$WARD" manifest verify "$T/m1.json"
H1=$(cat "$T/out")
expect_rc "manifest set" 0 "$WARD" manifest set "$T/m1.json" --coordinator "$URL"
expect_out "manifest set hash" "$H1"
expect_rc "manifest verify (remote)" 0 "$WARD" manifest verify "$T/m1.json" --coordinator "$URL"
expect_rc "unsigned update refused" 1 "$WARD" manifest set "$T/m1.json" --coordinator "$URL"
expect_out "unsigned update 403" "HTTP 403"
# verify again: the attested manifest hash is printed.
expect_rc "verify after set" 0 "$WARD" verify --coordinator "$URL" --reference "$T/ref.json"
expect_out "verify manifest hash" "manifest: $H1"

# The workload flow, EC tee key.
mkdir -p "$T/w1"
expect_rc "kbs flow" 0 kbs --measurement "$WM" --out "$T/w1" --resource ward/bundle/web \
	--resource ward/cert/web --resource default/key/img --resource ward/volume/web.data
for r in ward/bundle/web ward/cert/web default/key/img ward/volume/web.data; do
	expect_out "resource $r" "resource $r 200"
done
python3 - "$T/w1" <<'EOP' || FAILN "bundle contents"
import json, sys, base64
d = sys.argv[1]
b = json.load(open(d + "/ward_bundle_web"))
img = open(d + "/default_key_img", "rb").read()
assert len(img) == 32, len(img)
assert b["env"]["IMG_KEY"] == img.hex(), "IMG_KEY is not the image key"
assert b["argv"][0] == "/app" and b["argv"][1].startswith("--password=") and len(b["argv"][1]) == 11 + 20
pem = base64.b64decode(b["files"]["/etc/web.pem"]).decode()
assert pem.startswith("-----BEGIN CERTIFICATE-----")
c = json.load(open(d + "/ward_cert_web"))
open(d + "/leaf.pem", "w").write(c["cert"])
open(d + "/ca.pem", "w").write(c["ca"])
assert len(open(d + "/ward_volume_web.data", "rb").read()) == 32
EOP
openssl verify -CAfile "$T/w1/ca.pem" "$T/w1/leaf.pem" >/dev/null 2>&1 || FAILN "leaf does not verify against the CA"
openssl x509 -in "$T/w1/leaf.pem" -noout -pubkey | cmp -s - "$T/w1/tee-pubkey.pem" ||
	FAILN "leaf does not carry the attested key"
openssl x509 -in "$T/w1/leaf.pem" -noout -ext subjectAltName 2>/dev/null | grep -q "DNS:web.local, IP Address:10.0.0.5" ||
	FAILN "leaf SANs"

# RSA tee key, bearer token instead of the cookie.
mkdir -p "$T/w2"
expect_rc "kbs flow rsa bearer" 0 kbs --measurement "$WM" --rsa --mode bearer --out "$T/w2" \
	--resource default/key/img
cmp -s "$T/w1/default_key_img" "$T/w2/default_key_img" || FAILN "image key differs between flows"

# Secrets: user secret set/get, rotation of a generated one.
expect_rc "secret set" 0 "$WARD" secret set api --value 00112233445566778899aabbccddeeff \
	--coordinator "$URL" --user admin --key "$T/admin.key"
expect_rc "secret get" 0 "$WARD" secret get api --coordinator "$URL" --user admin --key "$T/admin.key"
expect_out "secret get value" '"value":"ABEiM0RVZneImaq7zN3u_w"'
expect_rc "secret set wrong size" 1 "$WARD" secret set api --value 0011 \
	--coordinator "$URL" --user admin --key "$T/admin.key"
expect_rc "secret get by reader refused" 1 "$WARD" secret get api --coordinator "$URL" --user reader --key "$T/reader.key"
expect_out "reader 403" "HTTP 403"
expect_rc "secret rotate" 0 "$WARD" secret rotate db.password --coordinator "$URL" --user admin --key "$T/admin.key"
mkdir -p "$T/w3"
expect_rc "kbs flow after rotate" 0 kbs --measurement "$WM" --out "$T/w3" --resource ward/bundle/web
python3 -c "
import json,sys
a=json.load(open('$T/w1/ward_bundle_web'))['argv'][1]; b=json.load(open('$T/w3/ward_bundle_web'))['argv'][1]
sys.exit(0 if a!=b else 1)" || FAILN "rotation did not change the password"

# Signed manifest update, history kept.
manifest "$T/m2.json" extra
python3 -c "
import json; m=json.load(open('$T/m2.json')); m['coordinator']={'dns': ['coord.test'], 'ips': ['127.0.0.2']}
json.dump(m, open('$T/m2.json','w'))"
expect_rc "signed update" 0 "$WARD" manifest set "$T/m2.json" --coordinator "$URL" --user admin --key "$T/admin.key"
expect_out "update seq 2" "manifest 2 set"
# The coordinator now serves a certificate with the manifest's names, for
# the same key: the old pin keeps working, a fresh verify sees the names.
expect_rc "old pin after reissue" 0 "$WARD" manifest get --coordinator "$URL"
expect_rc "verify after reissue" 0 "$WARD" verify --coordinator "$URL" --reference "$T/ref.json" --pin-file "$T/pin2.pem"
openssl x509 -in "$T/pin2.pem" -noout -ext subjectAltName 2>/dev/null | grep -q "DNS:localhost, DNS:coord.test" ||
	FAILN "reissued certificate lacks the manifest's names"
openssl x509 -in "$T/pin2.pem" -noout -pubkey | cmp -s - <(openssl x509 -in "$(pin)" -noout -pubkey) ||
	FAILN "reissued certificate has another key"
expect_rc "manifest get seq 1" 0 "$WARD" manifest get --coordinator "$URL" --seq 1
expect_out "history" "manifest 1 of 2"

# Audit log: chain verifies; records of every kind are there.
expect_rc "ward log" 0 "$WARD" log --coordinator "$URL" --user reader --key "$T/reader.key" --json
for k in coordinator.created manifest.set manifest.update attest.accepted resource.released secret.set secret.rotate admin.refused; do
	expect_out "audit $k" "\"kind\": \"$k\""
done
expect_rc "ward manifest log" 0 "$WARD" manifest log --coordinator "$URL" --user admin --key "$T/admin.key"
expect_out "log chain" "records verified"
expect_out "log has the attested head" "contains the attested head"
# A head the log does not contain (as if the log had been rewritten): refused.
cp "$(pin).head" "$T/head.save"
python3 -c "
import json; p='$(pin).head'; h=json.load(open(p)); h['audit_head']='00'*32; json.dump(h,open(p,'w'))"
expect_rc "log with a foreign head" 1 "$WARD" log --coordinator "$URL" --user admin --key "$T/admin.key"
expect_out "log refusal" "REFUSED"
cp "$T/head.save" "$(pin).head"

# Metrics.
MPORT=$(sed -n 's|.*metrics on http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$T/coord.log" | tail -1)
[ -n "$MPORT" ] || FAILN "metrics port not logged"
if [ -n "$MPORT" ]; then
	python3 -c "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$MPORT/metrics').read().decode())" >"$T/out"
	expect_out "metrics attest" 'ward_attestations_total{tee="sim",result="accepted"} 3'
	expect_out "metrics histogram" 'ward_request_duration_seconds_bucket'
fi

# Graceful shutdown.
kill -TERM "$COORD_PID"; wait "$COORD_PID"; rc=$?; COORD_PID=
[ "$rc" = 0 ] || FAILN "graceful shutdown exit $rc"
grep -q "INSECURE" "$T/coord.log" || FAILN "sim acceptance not logged as insecure"
exit $fail
