#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `make run`: Ward's main job on an embedded default. First (short): real
# AMD SEV-SNP and Intel TDX evidence from ../shared/vectors is verified and
# a tampered report refused. Then the main part: a sample image (Debian +
# python3 + redis, built once by ../shared/images/make-test-images.sh and
# cached) is converted and run confidentially with `ward run`'s embedded
# coordinator: attestation, a secret from the manifest, the unmodified app.
# Without a TEE this is the INSECURE sim mode, and ward says so.
set -euo pipefail
WARD=${1:?usage: run-demo.sh WARD}
cd "$(dirname "$0")/.."
V=${WARD_VECTORS:-$(cd .. && pwd)/shared/vectors}
IMAGES=${WARD_TEST_IMAGES:-/var/tmp/ward-test-images}
T=$(mktemp -d /tmp/ward-demo.XXXXXX)
trap 'rm -rf "$T"' EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ -d "$V/snp" ]; then
	step "Real evidence: an SEV-SNP report from an AMD Genoa machine, VCEK chained to AMD's ARK built into ward"
	"$WARD" evidence verify "$V/snp/genoa-v5-routex/report.bin" --vcek "$V/snp/genoa-v5-routex/vcek-chain.pem" |
		grep -E '^(authentic|measurement|reported_tcb|debug|policy)'
	step "The same report with one measurement bit flipped: refused"
	cp "$V/snp/genoa-v5-routex/report.bin" "$T/tampered.bin"
	printf '\x01' | dd of="$T/tampered.bin" bs=1 seek=$((0x90)) conv=notrunc status=none
	if "$WARD" evidence verify "$T/tampered.bin" --vcek "$V/snp/genoa-v5-routex/vcek-chain.pem"; then
		echo "tampered report accepted?!" >&2; exit 1
	fi
	step "A real Intel TDX quote with its Intel collateral"
	"$WARD" evidence verify "$V/tdx/v4-uptodate-dcapqvl/quote.dat" \
		--qvl-collateral "$V/tdx/v4-uptodate-dcapqvl/collateral.json" --at 2025-07-19T10:00:34Z |
		grep -E '^(authentic|measurement |debug|policy)'
else
	echo "(../shared/vectors not found: skipping the real-evidence steps; set WARD_VECTORS)"
fi

if [ "$(id -u)" != 0 ]; then
	echo "ward run needs root (runc, namespaces, mounts): run 'make run' as root" >&2
	exit 1
fi
step "The sample image (built once into $IMAGES, cached afterwards)"
bash ../shared/images/make-test-images.sh "$IMAGES" 2>&1 | grep -E 'building|wrote|debian/oci:' || true
IMG=$IMAGES/debian/oci

step "ward convert: the layers encrypted (AES-256-CTR + HMAC), keys wrapped to an image key"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/img.key" 2>/dev/null
openssl pkey -in "$T/img.key" -pubout -out "$T/img.pub"
"$WARD" convert --tag python --recipient "jwe:$T/img.pub" "$IMG" -o "$T/py" 2>&1 | tail -n 12
echo "(ward run below does this itself, with the coordinator's certificate measured into the image)"

step "ward run with the embedded coordinator: attest, get the keys and the manifest's secret, run python3 unmodified"
# No --coordinator: ward starts one (sim TEE), converts the image with the
# coordinator's pin measured in, sets a manifest with a generated password
# (WARD_DEMO_SECRET, from a template), and ward-init attests to it.
"$WARD" run "$IMG:python" -- python3 -c '
import hashlib, os, platform
s = os.environ["WARD_DEMO_SECRET"]
print("app: python %s, pid %d, in a root that only ward-init built" % (platform.python_version(), os.getpid()))
print("app: WARD_DEMO_SECRET from the manifest: %d chars, sha256 %s..." % (len(s), hashlib.sha256(s.encode()).hexdigest()[:16]))'

step "The same for redis: requirepass from a manifest template in the arguments, redis-cli authenticating"
"$WARD" run -q "$IMG:redis" -- sh -c '
redis-server --port 6379 --save "" --appendonly no --daemonize yes --requirepass "{{ secret.demo.password }}" >/dev/null
for i in 1 2 3 4 5 6 7 8 9 10; do redis-cli ping 2>&1 | grep -q NOAUTH && break; sleep 0.1; done
echo "redis-cli without the password: $(redis-cli set greeting hi 2>&1)"
echo "redis-cli with a wrong password: $(redis-cli --no-auth-warning -a wrong set greeting hi 2>&1 | head -1)"
redis-cli --no-auth-warning -a "$WARD_DEMO_SECRET" set greeting "hello from the TEE" >/dev/null
echo "redis-cli with the manifest secret: GET greeting -> $(redis-cli --no-auth-warning -a "$WARD_DEMO_SECRET" get greeting)"'

echo
echo "Done in ${SECONDS} s. Next: make test; docs/running.md (ward run, the coordinator), docs/attestation.md."
