#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make run`: Ward's main job on an embedded default, with what has landed.
# Today: verify real AMD SEV-SNP and Intel TDX evidence from ../shared/vectors
# and show that tampering is refused; then run the INSECURE sim TEE end to
# end (serve -> collect -> verify against a policy). When [run] lands this
# becomes "convert a sample image and run it confidentially".
set -euo pipefail
WARD=${1:?usage: run-demo.sh WARD}
cd "$(dirname "$0")/.."
V=${WARD_VECTORS:-$(cd .. && pwd)/shared/vectors}
T=$(mktemp -d /tmp/ward-demo.XXXXXX)
SIMPID=
trap '[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; rm -rf "$T"' EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ -d "$V/snp" ]; then
	step "1. A real SEV-SNP report from an AMD Genoa machine (report v5), VCEK chained to AMD's ARK built into ward"
	"$WARD" evidence verify "$V/snp/genoa-v5-routex/report.bin" --vcek "$V/snp/genoa-v5-routex/vcek-chain.pem" |
		grep -E '^(authentic|measurement|report_data|reported_tcb|chip_id|debug|policy|collateral)'

	step "2. The same report with one measurement bit flipped: refused"
	cp "$V/snp/genoa-v5-routex/report.bin" "$T/tampered.bin"
	printf '\x01' | dd of="$T/tampered.bin" bs=1 seek=$((0x90)) conv=notrunc status=none
	if "$WARD" evidence verify "$T/tampered.bin" --vcek "$V/snp/genoa-v5-routex/vcek-chain.pem"; then
		echo "tampered report accepted?!" >&2; exit 1
	fi

	step "3. A real Intel TDX quote with its Intel collateral, verified at the collateral's check time"
	"$WARD" evidence verify "$V/tdx/v4-uptodate-dcapqvl/quote.dat" \
		--qvl-collateral "$V/tdx/v4-uptodate-dcapqvl/collateral.json" --at 2025-07-19T10:00:34Z |
		grep -E '^(authentic|measurement |report_data|debug|policy)'
else
	echo "(../shared/vectors not found: skipping the real-evidence steps; set WARD_VECTORS)"
fi

step "4. The sim TEE (INSECURE, for machines without a TEE): serve, collect, verify"
SIM=${WARD_SIM_STATE:-$PWD/build/demo-sim}
MEAS=$(printf '%s' "ward demo workload" | sha384sum | cut -c1-96)
"$WARD" sim serve --state "$SIM" --socket "$T/sim.sock" --measurement "$MEAS" 2>"$T/sim.log" &
SIMPID=$!
for _ in $(seq 300); do [ -S "$T/sim.sock" ] && break; sleep 0.1; done
NONCE=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$WARD" evidence collect --tee sim --socket "$T/sim.sock" --report-data "$NONCE" -o "$T/sim.json"
printf '{"tees":["sim"],"measurements":["%s"],"report_data":"%s"}\n' "$MEAS" "$NONCE" >"$T/policy.json"
echo "policy: $(cat "$T/policy.json")"
"$WARD" evidence verify "$T/sim.json" --sim-state "$SIM" --policy "$T/policy.json" |
	grep -E '^(authentic|tee |insecure|measurement |policy)'
echo
echo "Done. Next: 'make test', and docs/attestation.md for formats, collateral and policy."
