#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ward-init refuses before exec: a tampered encrypted blob, a config whose
# digest was recomputed for tampered bytes (HMAC), a missing key, and an
# unreachable coordinator; no plaintext layer is left on the host.
source "$(dirname "$0")/test-run-lib.sh" "$1" "$2"
export WARD_CACHE_ROOT=$T/cache
TINY=$IMAGES/tiny/oci
MARK=ward-app-ran

check prepare 0 run "$TINY" -- true
C=$(ls -d "$WARD_CACHE_ROOT"/dev-*)
BLOB=$(ls "$C"/rootfs/.ward/layers/*)
cp "$BLOB" "$T/blob.orig"
python3 - "$BLOB" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 1
open(p, "wb").write(bytes(b))
PY
check tampered-blob 125 run "$TINY" -- echo $MARK
contains tampered-blob "encrypted blob digest mismatch"
contains tampered-refused "refusing to start the workload"
lacks tampered-no-exec "^$MARK"

# the attacker also rewrites the recorded digest: the HMAC still fails
NEW=$(sha256sum "$BLOB" | cut -d' ' -f1)
OLD=$(basename "$BLOB")
mv "$BLOB" "$C/rootfs/.ward/layers/$NEW"
sed -i "s/$OLD/$NEW/g" "$C/rootfs/.ward/config.json" "$C/keys.json"
check tampered-hmac 125 run "$TINY" -- echo $MARK
contains tampered-hmac "HMAC verification failed"
lacks tampered-hmac-no-exec "^$MARK"
mv "$C/rootfs/.ward/layers/$NEW" "$BLOB"; cp "$T/blob.orig" "$BLOB"
sed -i "s/$NEW/$OLD/g" "$C/rootfs/.ward/config.json" "$C/keys.json"
check restored 0 run "$TINY" -- echo $MARK
contains restored "^$MARK"

# a key file without this layer's key
echo '{"version":1,"layers":{}}' > "$C/keys.json"
check missing-key 125 run "$TINY" -- echo $MARK
contains missing-key "no key for layer"

# coordinator unreachable / not speaking: a clear error, non-zero exit
check coordinator-needs-workload 2 run --coordinator https://127.0.0.1:1 "$TINY" -- true
check coordinator-refusal 125 run --coordinator https://127.0.0.1:1 --workload web "$TINY" -- echo $MARK
contains coordinator-refusal "coordinator"
lacks coordinator-no-exec "^$MARK"

# no plaintext anywhere on the host: the only files are the encrypted blob,
# ward-init's config and the dev key file
check no-plaintext 0 sh -c "! find '$T' -name busybox -o -name passwd | grep -q ."
exit $fail
