#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `ward evidence show|verify` on the real SEV-SNP vectors: exit codes, the
# fields printed, and the failure messages. Needs $WARD_VECTORS (or
# ../shared/vectors); skips cleanly without them.
set -u
WARD=$1
V=${WARD_VECTORS:-}
if [ -z "$V" ] || [ ! -d "$V/snp" ]; then
	echo "SKIP: SEV-SNP vectors not found (set WARD_VECTORS)"
	exit 0
fi
S=$V/snp
AT=2025-12-01T00:00:00Z
T=$(mktemp -d /tmp/ward-evidence-snp.XXXXXX)
trap 'rm -rf "$T"' EXIT
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

ALLOW_DEBUG=$T/allow-debug.json
echo '{"allow_debug_insecure": true}' >"$ALLOW_DEBUG"

# show: parsed fields, marked unverified.
check show-gosevguest 0 "$WARD" evidence show "$S/milan-v2-gosevguest/report.bin"
contains show-gosevguest "NOT VERIFIED"
contains show-gosevguest "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01"
check show-turin-json 0 "$WARD" evidence show --json "$S/turin-v5-routex/report.bin"
contains show-turin-json '"fmc": 0'
contains show-turin-json '"product": "Turin"'

# Positive cases (authentic + policy met).
check milan-v2-gosevguest 0 "$WARD" evidence verify "$S/milan-v2-gosevguest/report.bin" \
	--vcek "$S/milan-v2-gosevguest/vcek.der" --at $AT --policy "$ALLOW_DEBUG"
contains milan-v2-gosevguest "authentic: yes"
check milan-v2-trustee 0 "$WARD" evidence verify "$S/milan-v2-trustee/report.bin" \
	--vcek "$S/milan-v2-trustee/vcek.der" --at $AT --json
contains milan-v2-trustee '"ucode": 115'
contains milan-v2-trustee '"authentic": true'
check milan-v3-vlek 0 "$WARD" evidence verify "$S/milan-v3-vlek-trustee/report.bin" \
	--vcek "$S/milan-v3-vlek-trustee/vlek.der" --at 2025-06-01T00:00:00Z
contains milan-v3-vlek "signed by vlek"
check genoa-v3-trustee 0 "$WARD" evidence verify "$S/genoa-v3-trustee/report.bin" \
	--vcek "$S/genoa-v3-trustee/vcek.der" --at $AT
check genoa-v5-routex 0 "$WARD" evidence verify "$S/genoa-v5-routex/report.bin" \
	--vcek "$S/genoa-v5-routex/vcek-chain.pem" --at $AT
check turin-v5-routex 0 "$WARD" evidence verify "$S/turin-v5-routex/report.bin" \
	--vcek "$S/turin-v5-routex/vcek-chain.pem" --at $AT
contains turin-v5-routex "fmc=0"
check azure-milan 0 "$WARD" evidence verify "$S/azure-milan-v2-hcl/hcl-report.bin" \
	--vcek "$S/azure-milan-v2-hcl/vcek-chain.pem" --at $AT
contains azure-milan "azure-hcl"
check azure-genoa 0 "$WARD" evidence verify "$S/azure-genoa-v3-hcl/hcl-report.bin" \
	--vcek "$S/azure-genoa-v3-hcl/vcek.pem" --at $AT

# configfs-tsm report directory (outblob + auxblob + provider).
mkdir -p "$T/tsm"
cp "$S/genoa-v3-veraison-tsm/outblob.bin" "$T/tsm/outblob"
cp "$S/genoa-v3-veraison-tsm/auxblob.bin" "$T/tsm/auxblob"
printf 'sev_guest\n' >"$T/tsm/provider"
check tsm-dir 0 "$WARD" evidence verify "$T/tsm" --at $AT
contains tsm-dir "configfs-tsm"

check tsm-json 0 "$WARD" evidence verify "$S/genoa-v3-veraison-tsm/sevsnp-tsm-report.json" --at $AT
contains tsm-json "configfs-tsm"

# Collateral directory.
mkdir -p "$T/coll/snp/genoa/vcek"
cp "$S/genoa-v3-trustee/vcek.der" \
	"$T/coll/snp/genoa/vcek/371c55d6d15cb50f16dc31d39a24e300caaabff4431e841111429b73ec45ad67ea6e687ffae7bf84b54a5d0e6d79b3ef6ff0bd8b4cff94c2163af5c5de8718e8-191700000000000a.der"
check collateral 0 "$WARD" evidence verify "$S/genoa-v3-trustee/report.bin" --collateral "$T/coll" --at $AT
check collateral-missing 1 "$WARD" evidence verify "$S/genoa-v5-routex/report.bin" --collateral "$T/coll" --at $AT
contains collateral-missing "VCEK missing: $T/coll/snp/genoa/vcek/e0234bedb3918431"
check require-crl 1 "$WARD" evidence verify "$S/genoa-v3-trustee/report.bin" --collateral "$T/coll" --at $AT --require-crl
contains require-crl "CRL missing"

# Negative cases.
check gosevguest-default-policy 1 "$WARD" evidence verify "$S/milan-v2-gosevguest/report.bin" \
	--vcek "$S/milan-v2-gosevguest/vcek.der" --at $AT
contains gosevguest-default-policy "policy not met: debug"
check genoa-v2-no-vcek 1 "$WARD" evidence verify "$S/genoa-v2-routex-parseonly/report.bin" --at $AT
contains genoa-v2-no-vcek "VCEK missing"
check vlek-expired 1 "$WARD" evidence verify "$S/milan-v3-vlek-trustee/report.bin" \
	--vcek "$S/milan-v3-vlek-trustee/vlek.der" --at 2026-01-01T00:00:00Z
check negative-vcek 1 "$WARD" evidence verify "$S/milan-v2-trustee/report.bin" \
	--vcek "$S/milan-v2-trustee/NEGATIVE-vcek-invalid-legacy.der" --at $AT
check other-chip 1 "$WARD" evidence verify "$S/genoa-v3-trustee/report.bin" \
	--vcek "$S/genoa-v5-routex/vcek-chain.pem" --at $AT
contains other-chip "another chip"
cp "$S/milan-v2-trustee/report.bin" "$T/tcb.bin"
printf '\x04' | dd of="$T/tcb.bin" bs=1 seek=384 conv=notrunc status=none
check reported-tcb-bumped 1 "$WARD" evidence verify "$T/tcb.bin" --vcek "$S/milan-v2-trustee/vcek.der" --at $AT
contains reported-tcb-bumped "REPORTED_TCB"
cp "$S/genoa-v3-trustee/report.bin" "$T/trailing.bin"
printf 'x' >>"$T/trailing.bin"
check trailing 1 "$WARD" evidence verify "$T/trailing.bin" --vcek "$S/genoa-v3-trustee/vcek.der" --at $AT
check json-failure 1 "$WARD" evidence verify "$S/genoa-v2-routex-parseonly/report.bin" --at $AT --json
contains json-failure '"authentic": false'
contains json-failure '"code": "not-found"'

# Policy: every failed check named.
cat >"$T/strict.json" <<'P'
{"measurements": ["000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"],
 "min_tcb": {"snp": 99}, "max_vmpl": 0, "report_data": "00"}
P
check policy-fails 1 "$WARD" evidence verify "$S/genoa-v3-trustee/report.bin" \
	--vcek "$S/genoa-v3-trustee/vcek.der" --at $AT --policy "$T/strict.json"
contains policy-fails "policy not met: measurement, min_tcb, report_data"
contains policy-fails "policy: NOT MET"

# Usage errors.
check no-args 2 "$WARD" evidence
check bad-sub 2 "$WARD" evidence frob
check no-file 2 "$WARD" evidence verify
check bad-at 2 "$WARD" evidence verify x --at yesterday
check bad-tee 2 "$WARD" evidence verify x --tee tdx2
check show-extra 2 "$WARD" evidence show x --policy p
check help 0 "$WARD" evidence verify --help
contains help "Usage: ward evidence"
check sim-needs-root 2 "$WARD" evidence verify "$S/genoa-v3-trustee/report.bin" --tee sim
check sim-bad-root 1 "$WARD" evidence verify "$S/genoa-v3-trustee/report.bin" --tee sim --sim-state "$T/nosim"
check missing-file 1 "$WARD" evidence verify "$T/nope.bin"
contains missing-file "nope.bin"
exit $fail
