#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `ward evidence` beyond SEV-SNP: TDX and SGX quotes with Intel collateral,
# a Gramine RA-TLS certificate, bench output, and the sim TEE end to end
# (ward sim serve -> ward evidence collect -> ward evidence verify).
set -u
WARD=$1
V=${WARD_VECTORS:-}
T=$(mktemp -d /tmp/ward-evidence-more.XXXXXX)
SIMPID=
trap '[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; rm -rf "$T"' EXIT
OUT=$T/out
fail=0
check() { # check NAME EXPECTED_RC CMD...
	local name=$1 want=$2; shift 2
	"$@" >"$OUT" 2>&1
	local rc=$?
	if [ "$rc" != "$want" ]; then
		echo "FAIL $name: exit $rc, expected $want"; cat "$OUT"; fail=1
	fi
}
contains() { # contains NAME PATTERN
	if ! grep -q -- "$2" "$OUT"; then
		echo "FAIL $1: output lacks '$2'"; cat "$OUT"; fail=1
	fi
}

# --- the sim TEE: collect, verify only with its root, policy must name it ---
SIM=${WARD_TEST_SIM_STATE:-$T/sim}
MEAS=$(printf 'ab%.0s' $(seq 48))
"$WARD" sim serve --state "$SIM" --socket "$T/sim.sock" --measurement "$MEAS" 2>"$T/sim.log" &
SIMPID=$!
for _ in $(seq 200); do [ -S "$T/sim.sock" ] && break; sleep 0.1; done
check sim-collect 0 "$WARD" evidence collect --tee sim --socket "$T/sim.sock" --report-data 0102 -o "$T/sim.json"
contains sim-collect-warns "INSECURE"
check sim-verify-no-root 1 "$WARD" evidence verify "$T/sim.json"
check sim-verify-default-policy 1 "$WARD" evidence verify "$T/sim.json" --sim-state "$SIM"
contains sim-verify-default-policy "insecure"
printf '{"tees":["sim"],"measurements":["%s"],"report_data":"0102"}' "$MEAS" >"$T/sim-policy.json"
check sim-verify 0 "$WARD" evidence verify "$T/sim.json" --sim-state "$SIM" --policy "$T/sim-policy.json" --json
contains sim-verify-tee '"tee": "sim"'
contains sim-verify-insecure '"insecure": true'
printf '{"tees":["sim"],"report_data":"0103"}' >"$T/sim-policy2.json"
check sim-verify-wrong-rd 1 "$WARD" evidence verify "$T/sim.json" --sim-state "$SIM" --policy "$T/sim-policy2.json"
contains sim-verify-wrong-rd "report_data"
# a sim report presented as SNP must never pass (it does not chain to AMD)
check sim-as-snp 1 "$WARD" evidence verify "$T/sim.json" --tee snp
check collect-usage 2 "$WARD" evidence collect --tee sim -o "$T/x"
check collect-no-tee 1 "$WARD" evidence collect --tee snp --report-data 01 -o "$T/x" --root "$T/empty"
contains collect-no-tee "sev-guest"
kill "$SIMPID"; wait "$SIMPID" 2>/dev/null; SIMPID=

if [ -z "$V" ] || [ ! -d "$V/tdx" ]; then
	echo "SKIP: Intel vectors not found (set WARD_VECTORS)"
	exit $fail
fi
Q=$V/tdx/v4-uptodate-dcapqvl
check tdx-verify 0 "$WARD" evidence verify "$Q/quote.dat" --qvl-collateral "$Q/collateral.json" --at 2025-07-19T10:00:34Z
contains tdx-verify "TCB UpToDate"
contains tdx-verify "policy: met"
check tdx-expired 1 "$WARD" evidence verify "$Q/quote.dat" --qvl-collateral "$Q/collateral.json" --at 2025-07-20T10:00:35Z
contains tdx-expired "NOT VERIFIED"
check tdx-no-collateral 1 "$WARD" evidence verify "$Q/quote.dat" --at 2025-07-19T10:00:34Z
contains tdx-no-collateral "collateral"
check tdx-show 0 "$WARD" evidence show "$Q/quote.dat"
contains tdx-show "NOT VERIFIED"
contains tdx-show "91eb2b44d141d4ec"
S=$V/sgx/v3-dcapqvl
check sgx-verify 0 "$WARD" evidence verify "$S/quote.dat" --qvl-collateral "$S/collateral.json" --at 2025-07-19T10:01:17Z --json
contains sgx-verify "ConfigurationAndSWHardeningNeeded"
contains sgx-verify "INTEL-SA-00615"
check sgx-debug-show 0 "$WARD" evidence show "$V/sgx/v3-occlum-trustee/quote.dat" --json
contains sgx-debug-show '"debug": true'
check ratls-show 0 "$WARD" evidence show "$V/ratls/gramine-legacy-oid-konvera/cert.der"
contains ratls-show "f94ccbe6a504676b"
check ratls-verify-no-collateral 1 "$WARD" evidence verify "$V/ratls/gramine-legacy-oid-konvera/cert.pem"
check bench 0 "$WARD" evidence bench "$Q/quote.dat" --qvl-collateral "$Q/collateral.json" --at 2025-07-19T10:00:34Z --seconds 1
contains bench '"kind":"throughput"'
contains bench '"verdict":"accept"'
check bench-seconds-usage 2 "$WARD" evidence verify "$Q/quote.dat" --seconds 1
exit $fail
