#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TDX, SGX and Trustee-format SNP evidence at /kbs/v0/attest with real
# recorded vectors: each is verified (the TDX quote with its dcap-qvl
# collateral at its check time, via the test-only --insecure-at), then
# refused for the right reason. Recorded evidence cannot bind this
# session's nonce, so "report data does not bind" proves verification
# passed; the SGX quote has no collateral, so its refusal names that.
WARD=$1 KBS=$2
. "$(dirname "$0")/coordinator-common.sh"
V=${WARD_VECTORS:-$(dirname "$0")/../../../shared/vectors}
TDX=$V/tdx/v4-uptodate-dcapqvl SGX=$V/sgx/v3-occlum-trustee/quote.dat
TRUSTEE=$V/snp/genoa-v3-trustee/evidence.json
if [ ! -f "$TDX/quote.dat" ] || [ ! -f "$SGX" ] || [ ! -f "$TRUSTEE" ]; then
	echo "vectors missing: skipped"; exit 0
fi

sim_init
keys
python3 - "$T" "$TDX/quote.dat" "$SGX" "$TRUSTEE" <<'EOP'
import base64, json, sys
t, tdx, sgx, trustee = sys.argv[1:5]
for name, path in (("tdx", tdx), ("sgx", sgx)):
    json.dump({"quote": base64.b64encode(open(path, "rb").read()).decode()},
              open(f"{t}/{name}.json", "w"))
q = open(sgx, "rb").read()
mrenclave = q[48 + 64:48 + 96].hex()  # SGX report body at 48: MRENCLAVE at +64
ev = json.load(open(trustee))
snp_m = bytes(ev["attestation_report"]["measurement"]).hex()
m = {"packages": {
        "td": {"tees": ["tdx"], "measurements": {"tdx": [
            "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407"
            "de03ae6dc5f87f27428b2538873118b7"]}, "tcb_statuses": ["UpToDate"]},
        "enclave": {"tees": ["sgx"], "measurements": {"sgx": [mrenclave]}},
        "vm": {"tees": ["snp"], "measurements": {"snp": [snp_m]}}},
     "workloads": {}, "secrets": {}}
json.dump(m, open(f"{t}/m.json", "w"))
EOP
coord_start --dcap-collateral "$TDX/collateral.json" --insecure-at 2025-07-19T10:00:34Z ||
	{ echo "coordinator did not start"; cat "$T/coord.log"; exit 1; }
expect_rc "verify" 0 "$WARD" verify --coordinator "$URL" --reference "$T/ref.json"
expect_rc "manifest set" 0 "$WARD" manifest set "$T/m.json" --coordinator "$URL"

expect_rc "tdx" 1 kbs --measurement "$WM" --tee tdx --evidence "$T/tdx.json"
expect_out "tdx 401" "attest 401"
expect_out "tdx verified, not bound" "report data does not bind"

expect_rc "tdx as sgx" 1 kbs --measurement "$WM" --tee sgx --evidence "$T/tdx.json"
expect_out "tdx as sgx reason" "evidence is a tdx quote, not sgx"

expect_rc "sgx" 1 kbs --measurement "$WM" --tee sgx --evidence "$T/sgx.json"
expect_out "sgx 401" "attest 401"
expect_out "sgx reason: its collateral is missing (before the debug policy)" "collateral missing: SGX TCB info for FMSPC"

expect_rc "trustee snp" 1 kbs --measurement "$WM" --tee snp --evidence "$TRUSTEE"
expect_out "trustee 401" "attest 401"
expect_out "trustee verified, not bound" "report data does not bind"

grep -q "report data does not bind" "$T/coord.log" || FAILN "refusals not logged"
exit $fail
