#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Attestation verification throughput on one core, Ward against the raw
# ECDSA rate (openssl speed) and against the npm peer verifiers, in one
# run; then where the verdicts differ on the same real vectors.
#   bench/attest/run.sh [--seconds N] [--runs N]
# Needs: the release build (made here), node + npm (peers are installed
# offline-capable into $WARD_PEERS_DIR, default /var/tmp/ward-peers), jq.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=5
RUNS=3
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) SECS=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	*) echo "usage: $0 [--seconds N] [--runs N]" >&2; exit 2 ;;
	esac
done
V=${WARD_VECTORS:-$(cd .. && pwd)/shared/vectors}
PEERS_SRC=${WARD_PEERS_SRC:-$(cd .. && pwd)/shared/peers}
PEERS=${WARD_PEERS_DIR:-/var/tmp/ward-peers}
make --no-print-directory build >/dev/null
WARD=$PWD/build/release/cmd/ward/ward
T=$(mktemp -d /tmp/ward-bench-attest.XXXXXX)
trap 'rm -rf "$T"' EXIT
CPU="taskset -c 0"

# --- peers (pinned versions, see ../shared/peers/README.md) ---
if [ ! -d "$PEERS/node_modules/@phala/dcap-qvl" ]; then
	mkdir -p "$PEERS"
	(cd "$PEERS" && [ -f package.json ] || echo '{"private": true}' >package.json)
	(cd "$PEERS" && npm install --no-audit --no-fund \
		@phala/dcap-qvl@0.3.9 @phala/dcap-qvl-web@0.3.3 \
		@tinfoilsh/verifier@1.1.0 @freedomofpress/sigstore-browser@0.1.11 \
		@lit-protocol/sev-snp-utils-sdk@6.11.5 pako@2.1.0 >/dev/null)
fi

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# --- floor: raw signature verification on the same core ---
speed() { $CPU openssl speed -seconds "$SECS" "$1" 2>/dev/null | awk -v k="$2" '$0 ~ k {print $NF}'; }
P384=$(speed ecdsap384 "384 bits ecdsa")
P256=$(speed ecdsap256 "256 bits ecdsa")

# --- Ward: median of RUNS runs ---
ward_rate() { # ward_rate ARGS...
	for _ in $(seq "$RUNS"); do
		$CPU "$WARD" evidence bench "$@" --seconds "$SECS" 2>/dev/null | jq -r .per_sec
	done | median
}
SNP_CASE=$V/snp/azure-genoa-v3-hcl
W_SNP=$(ward_rate "$SNP_CASE/hcl-report.bin" --vcek "$SNP_CASE/vcek.pem")
W_SNP_MILAN=$(ward_rate "$V/snp/milan-v2-trustee/report.bin" --vcek "$V/snp/milan-v2-trustee/vcek.der")
TQ=$V/tdx/v4-uptodate-dcapqvl
W_TDX=$(ward_rate "$TQ/quote.dat" --qvl-collateral "$TQ/collateral.json" --at 2025-07-19T10:00:34Z)
W_TDX_FRESH=$(ward_rate "$TQ/quote.dat" --qvl-collateral "$TQ/collateral.json" --at 2025-07-19T10:00:34Z --fresh-collateral)
SQ=$V/sgx/v3-dcapqvl
W_SGX=$(ward_rate "$SQ/quote.dat" --qvl-collateral "$SQ/collateral.json" --at 2025-07-19T10:01:17Z)
W_SGX_FRESH=$(ward_rate "$SQ/quote.dat" --qvl-collateral "$SQ/collateral.json" --at 2025-07-19T10:01:17Z --fresh-collateral)

# --- peers: throughput and per-case verdicts ---
peer() { # peer OUT SCRIPT ARGS...
	local out=$1 script=$2; shift 2
	(cd "$PEERS" && $CPU node "$PEERS_SRC/$script" --probes --bench-seconds "$SECS" --runs "$RUNS" "$@" "$V") >"$out" 2>"$out.err" || true
}
peer "$T/qvl-tdx.json" dcap-qvl-check.mjs
peer "$T/qvl-sgx.json" dcap-qvl-check.mjs --bench-case sgx/v3-dcapqvl --no-bench
peer "$T/qvl-sgx-bench.json" dcap-qvl-check.mjs --bench-case sgx/v3-dcapqvl
peer "$T/tinfoil.json" snp-check.mjs --peer tinfoil-chain
peer "$T/lit.json" snp-check.mjs --peer lit
rate() { jq -r 'select(.kind=="throughput") | .median_per_sec' "$1" 2>/dev/null | head -1; }
Q_TDX=$(rate "$T/qvl-tdx.json"); Q_SGX=$(rate "$T/qvl-sgx-bench.json")
TIN=$(rate "$T/tinfoil.json"); LIT=$(rate "$T/lit.json")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "") printf "%.2f", a / b; else print "n/a" }'; }
echo "== attestation verification, one core (taskset -c 0), medians of $RUNS x ${SECS}s =="
printf '%-44s %12s %s\n' "what" "per second" "ratio"
printf '%-44s %12.0f\n' "openssl ECDSA P-384 verify (floor)" "$P384"
printf '%-44s %12.0f\n' "openssl ECDSA P-256 verify" "$P256"
printf '%-44s %12.0f %s\n' "ward SNP Genoa HCL report (chain cached)" "$W_SNP" "$(ratio "$W_SNP" "$P384") x P-384 (goal >= 0.70)"
printf '%-44s %12.0f %s\n' "ward SNP Milan report (chain cached)" "$W_SNP_MILAN" "$(ratio "$W_SNP_MILAN" "$P384") x P-384"
printf '%-44s %12s\n' "@tinfoilsh/verifier chain-only, same HCL case" "${TIN:-n/a}"
printf '%-44s %12s %s\n' "  ward / tinfoil" "" "$(ratio "$W_SNP" "${TIN:-0}")"
printf '%-44s %12s\n' "@lit-protocol/sev-snp-utils-sdk, Milan case" "${LIT:-n/a}"
printf '%-44s %12s %s\n' "  ward / lit" "" "$(ratio "$W_SNP_MILAN" "${LIT:-0}")"
printf '%-44s %12.0f\n' "ward TDX v4 quote, collateral cached" "$W_TDX"
printf '%-44s %12.0f\n' "ward TDX v4 quote, collateral re-verified" "$W_TDX_FRESH"
printf '%-44s %12s\n' "@phala/dcap-qvl TDX (collateral per call)" "${Q_TDX:-n/a}"
printf '%-44s %12s %s\n' "  ward cached / dcap-qvl" "" "$(ratio "$W_TDX" "${Q_TDX:-0}") (goal >= 10)"
printf '%-44s %12s %s\n' "  ward re-verified / dcap-qvl" "" "$(ratio "$W_TDX_FRESH" "${Q_TDX:-0}")"
printf '%-44s %12.0f\n' "ward SGX v3 quote, collateral cached" "$W_SGX"
printf '%-44s %12.0f\n' "ward SGX v3 quote, collateral re-verified" "$W_SGX_FRESH"
printf '%-44s %12s %s\n' "@phala/dcap-qvl SGX" "${Q_SGX:-n/a}" "ward cached / peer $(ratio "$W_SGX" "${Q_SGX:-0}")"
echo "(the peers re-check their collateral on every call, like 'collateral re-verified';"
echo " dcap-qvl checks no CRL signatures and never evaluates the TDX module identity)"

# --- verdicts on the same vectors ---
echo
echo "== verdicts: ward vs peers on the real vectors =="
ward_verdict() { # authentic + default policy; prints accept/reject
	if "$WARD" evidence verify "$@" >/dev/null 2>&1; then echo accept; else echo reject; fi
}
ward_authentic() {
	local o
	o=$("$WARD" evidence verify "$@" --json 2>/dev/null || true)
	[ "$(echo "$o" | jq -r '.authentic // false' 2>/dev/null)" = true ] && echo accept || echo reject
}
S=$V/snp
declare -A W
W[snp/milan-v2-gosevguest]=$(ward_authentic "$S/milan-v2-gosevguest/report.bin" --vcek "$S/milan-v2-gosevguest/vcek.der")
W[snp/milan-v2-trustee]=$(ward_verdict "$S/milan-v2-trustee/report.bin" --vcek "$S/milan-v2-trustee/vcek.der")
W[snp/milan-v2-trustee#NEGATIVE-vcek-invalid-legacy]=$(ward_verdict "$S/milan-v2-trustee/report.bin" --vcek "$S/milan-v2-trustee/NEGATIVE-vcek-invalid-legacy.der")
W[snp/milan-v2-trustee#NEGATIVE-vcek-invalid-new]=$(ward_verdict "$S/milan-v2-trustee/report.bin" --vcek "$S/milan-v2-trustee/NEGATIVE-vcek-invalid-new.der")
W[snp/milan-v3-vlek-trustee]=$(ward_verdict "$S/milan-v3-vlek-trustee/report.bin" --vcek "$S/milan-v3-vlek-trustee/vlek.der")
W[snp/genoa-v3-trustee]=$(ward_verdict "$S/genoa-v3-trustee/report.bin" --vcek "$S/genoa-v3-trustee/vcek.der")
W[snp/genoa-v5-routex]=$(ward_verdict "$S/genoa-v5-routex/report.bin" --vcek "$S/genoa-v5-routex/vcek-chain.pem")
W[snp/genoa-v3-veraison-tsm]=$(ward_verdict "$S/genoa-v3-veraison-tsm/sevsnp-tsm-report.json")
W[snp/genoa-v2-routex-parseonly]=$(ward_verdict "$S/genoa-v2-routex-parseonly/report.bin")
W[snp/turin-v5-routex]=$(ward_verdict "$S/turin-v5-routex/report.bin" --vcek "$S/turin-v5-routex/vcek-chain.pem")
W[snp/azure-milan-v2-hcl]=$(ward_verdict "$S/azure-milan-v2-hcl/hcl-report.bin" --vcek "$S/azure-milan-v2-hcl/vcek-chain.pem")
W[snp/azure-genoa-v3-hcl]=$(ward_verdict "$S/azure-genoa-v3-hcl/hcl-report.bin" --vcek "$S/azure-genoa-v3-hcl/vcek.pem")
W[tdx/v4-uptodate-dcapqvl]=$(ward_verdict "$TQ/quote.dat" --qvl-collateral "$TQ/collateral.json" --at 2025-07-19T10:00:34Z)
W[sgx/v3-dcapqvl]=$(ward_verdict "$SQ/quote.dat" --qvl-collateral "$SQ/collateral.json" --at 2025-07-19T10:01:17Z)
# Split PCS collateral -> the offline directory layout (docs/attestation-dcap.md).
mkcoll() { # mkcoll DIR CASE FMSPC
	local d=$1/dcap c=$2
	mkdir -p "$d/$3"
	for f in rootcrl pckcrl-platform; do
		for e in der hex; do [ -f "$c/$f.$e" ] && cp "$c/$f.$e" "$d/$f.$e"; done
	done
	cp "$c/tcbinfo-issuer-chain.pem" "$d/tcb-signing-chain.pem"
	cp "$c/qeidentity.json" "$d/td-qe-identity.json"
	cp "$c/tcbinfo.json" "$d/$3/tcbinfo-tdx.json"
}
mkcoll "$T/c-relaunch" "$V/tdx/v5-relaunch-advised-oe" 90c06f000000
mkcoll "$T/c-spr" "$V/tdx/v4-spr-gotdxguest" 50806f000000
W[tdx/v5-relaunch-advised-oe]=$(ward_verdict "$V/tdx/v5-relaunch-advised-oe/quote.dat" --collateral "$T/c-relaunch" --at 2025-03-10T00:00:00Z)
W[tdx/v4-spr-gotdxguest]=$(ward_verdict "$V/tdx/v4-spr-gotdxguest/quote.dat" --collateral "$T/c-spr" --at 2023-07-01T01:00:00Z)

printf '%-52s %-8s %-8s %-8s %-8s %s\n' case expected ward qvl tinfoil lit
for c in "${!W[@]}"; do echo "$c"; done | sort | while read -r c; do
	exp=$(cat "$T"/*.json 2>/dev/null | jq -r --arg c "$c" 'select(.case==$c and .kind==null) | .expected.verdict // empty' | head -1)
	q=$(jq -r --arg c "$c" 'select(.case==$c and .kind==null) | .verdict' "$T/qvl-tdx.json" 2>/dev/null | head -1)
	ti=$(jq -r --arg c "$c" 'select(.case==$c and .kind==null) | .verdict' "$T/tinfoil.json" 2>/dev/null | head -1)
	li=$(jq -r --arg c "$c" 'select(.case==$c and .kind==null) | .verdict' "$T/lit.json" 2>/dev/null | head -1)
	w=${W[$c]}
	flag=""
	[ -n "$exp" ] && [ "$w" != n/a ] && [ "$w" != "$exp" ] && flag="WARD DIFFERS FROM EXPECTED"
	for p in "$q" "$ti" "$li"; do
		[ -n "$exp" ] && [ -n "$p" ] && [ "$p" != skipped ] && [ "$p" != "$exp" ] && flag="${flag:+$flag; }a peer differs from expected"
	done
	printf '%-52s %-8s %-8s %-8s %-8s %-8s %s\n' "$c" "${exp:--}" "$w" "${q:--}" "${ti:--}" "${li:--}" "$flag"
done
echo
echo "== peer probes that should have been rejected but were accepted =="
cat "$T"/*.json | jq -r 'select(.kind=="probe" and .matches_expected==false) | "\(.peer | split(" ")[0]) \(.case) \(.probe): \(.verdict)"' | sort -u
