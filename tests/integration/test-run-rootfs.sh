#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ward convert --rootfs volume end to end: the Debian python and redis images
# converted with their root filesystem as a read-only protected volume, run
# through a coordinator on the sim TEE (attestation, the image key as a KBS
# resource opening the volume key): python3 runs, redis answers PING, every
# file of the image reads back intact through FUSE. Then the host's attacks
# on the prepared image: a changed byte in one data file makes that read
# fail (EIO) while the rest still reads; another state of the same volume
# (root hash mismatch) and tampered metadata make ward-init refuse to start
# (125). The embedded coordinator (WARD_ROOTFS=volume) and the INSECURE
# --insecure-keys path (convert --export-keys) run too.
source "$(dirname "$0")/test-run-lib.sh" "$1" "$2"
"$WARD" coordinator --help 2>&1 | grep -qi 'not available in this build' &&
	skip "this build has no coordinator"
strings "$WARD_INIT" | grep -q 'coordinator.pem' || skip "ward-init without the KBS transport"
[ -d "$IMAGES/debian/oci" ] || skip "no Debian test image in $IMAGES"
[ -c /dev/fuse ] || skip "needs /dev/fuse"
export WARD_CONFIG_HOME=$T/cfg WARD_SIM_STATE=$T/sim WARD_CACHE_ROOT=$T/cache
coord_start
rootfs_images volume
python3 - "$T/redis.ref" >"$OUT" <<'EOP' || { echo "FAIL reference: no rootfs"; cat "$OUT"; fail=1; }
import json, sys
r = json.load(open(sys.argv[1]))["rootfs"]
assert r["type"] == "volume" and r["root"].startswith("sha256:") and len(r["volume_id"]) == 32, r
EOP
prepared() { echo "$(prepared_dir "$1")/.ward/rootfs"; } # the volume's backing directory
crun() { "$WARD" run -q --network host --coordinator "$URL" "$@"; }

# python3 from the volume root; the root is writable (tmpfs overlay)
check python 0 crun --workload py "$T/python" -- python3 -c \
	'import json, sys; open("/tmp/x", "w").write("w"); open("/usr/new", "w").write("n"); print("py", sys.version_info[0], open("/etc/debian_version").read().strip())'
contains python "^py 3 12"
contains python-mounted "root volume sha256:"
check python-all-files 0 crun --workload py "$T/python" -- sh -c \
	'find / -xdev -type f -exec cat {} + >/dev/null && echo all-read'
contains python-all-files all-read

# redis: PING through the real server
check redis-start 0 crun -d --name red --workload red "$T/redis"
check redis-ping 0 wait_for 100 sh -c "redis-cli -p $RP ping | grep -q PONG"
check redis-set 0 redis-cli -p "$RP" set k from-volume-root
check redis-get 0 redis-cli -p "$RP" get k
contains redis-get from-volume-root
check redis-stop 0 "$WARD" stop red

# the embedded coordinator (INSECURE sim mode) converts with WARD_ROOTFS=volume
check embedded-python 0 env WARD_ROOTFS=volume "$WARD" run -q "$IMAGES/debian/oci:python" -- \
	python3 -c 'import os; print("emb", len(os.environ["WARD_DEMO_SECRET"]))'
contains embedded-python "^emb 20"
contains embedded-python-volume "root volume sha256:"
EP=$(free_port)
WARD_ROOTFS=volume "$WARD" run -q -p "$EP:6379" "$IMAGES/debian/oci:redis" >"$T/emb.log" 2>&1 &
EPID=$!
check embedded-redis-ping 0 wait_for 150 sh -c "redis-cli -p $EP ping | grep -q PONG"
kill -TERM $EPID; wait $EPID
grep -q 'root volume sha256:' "$T/emb.log" || { echo "FAIL embedded-redis: not a volume root"; cat "$T/emb.log"; fail=1; }
check embedded-bad-layout 1 env WARD_ROOTFS=squashfs "$WARD" run -q "$IMAGES/debian/oci:python" -- true
contains embedded-bad-layout "layers, volume or ext4"

# ---- the host attacks the prepared image (the cache holds ciphertext only)
PREP=$(prepared "$T/python")
[ -f "$PREP/meta" ] || { echo "FAIL prepared: no volume in the cache"; fail=1; }
grep -rq 'python3' "$T"/cache/wrapped-*/rootfs/.ward/rootfs 2>/dev/null &&
	{ echo "FAIL ciphertext: a plaintext name in the backing files"; fail=1; }
BIG=$(ls -S "$PREP" | grep '\.0$' | head -1)
cp -a "$PREP" "$T/pristine"
# one changed byte in the largest data file: reading it fails, nothing else does
python3 - "$PREP/$BIG" <<'EOP'
import sys
f = open(sys.argv[1], "r+b"); f.seek(100); b = f.read(1); f.seek(100); f.write(bytes([b[0] ^ 0xff]))
EOP
check tampered-block 0 crun --workload py "$T/python" -- sh -c \
	'find / -xdev -type f -size +1M -exec cat {} + >/dev/null 2>/tmp/e; cat /tmp/e; cat /etc/debian_version; echo still-runs'
contains tampered-block "Input/output error"
contains tampered-block "^12"
contains tampered-block still-runs
rm -rf "$PREP" && cp -a "$T/pristine" "$PREP"

# another state of the same volume under the same key: the host cannot make
# one; a key holder can (here the INSECURE export of a second conversion
# stands in). Root hash mismatch: refused before the app runs.
check convert-keys 0 "$WARD" convert -q --rootfs volume --ward-init "$WARD_INIT" --tag python \
	--export-keys "$T/keys.json" "$IMAGES/debian/oci" -o "$T/pyk"
python3 - "$T/keys.json" "$T/vk" <<'EOP'
import base64, json, sys
k = list(json.load(open(sys.argv[1]))["layers"].values())[0]
open(sys.argv[2], "wb").write(base64.b64decode(k["symkey"]))
EOP
check insecure-keys 0 "$WARD" run -q --network host --insecure-keys "$T/keys.json" "$T/pyk" -- \
	python3 -c 'print("insecure-path-ok")'
contains insecure-keys insecure-path-ok
PK=$(prepared "$T/pyk")
cp -a "$PK" "$T/newer" && mkdir "$T/mnt"
"$WARD" volume mount "$T/newer" "$T/mnt" --key-file "$T/vk" >"$T/mount.log" 2>&1 &
MP=$!
wait_for 50 mountpoint -q "$T/mnt"
echo injected >"$T/mnt/etc/injected" && sync
fusermount3 -u "$T/mnt"; wait $MP
rm -rf "$PK" && cp -a "$T/newer" "$PK"
check substituted-state 125 "$WARD" run -q --network host --insecure-keys "$T/keys.json" "$T/pyk" -- \
	sh -c 'echo ran; cat /etc/injected'
contains substituted-state "root hash .* differs from the image's"
lacks substituted-state "^ran$"
lacks substituted-state injected

# another volume entirely (the redis image's) in place of the python one
rm -rf "$PREP" && cp -a "$(prepared "$T/redis")" "$PREP"
check substituted-volume 125 crun --workload py "$T/python" -- echo ran
contains substituted-volume "root volume"
lacks substituted-volume "^ran$"
rm -rf "$PREP" && cp -a "$T/pristine" "$PREP"

# tampered metadata
python3 - "$PREP/meta" <<'EOP'
import sys
f = open(sys.argv[1], "r+b"); f.seek(80); b = f.read(1); f.seek(80); f.write(bytes([b[0] ^ 1]))
EOP
check tampered-meta 125 crun --workload py "$T/python" -- echo ran
contains tampered-meta "root volume"
lacks tampered-meta "^ran$"
exit $fail
