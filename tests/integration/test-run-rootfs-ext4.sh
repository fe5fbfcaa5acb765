#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ward convert --rootfs ext4 end to end: the Debian python and redis images
# converted with their root filesystem as a sealed ext4 image, run through a
# coordinator on the sim TEE (attestation, the image key as a KBS resource
# opening the image key): the app's root is ext4 (writable, in memory),
# python3 runs and every file of the image reads back, redis answers. Then
# the host's attacks on the prepared image, all refused before the app runs
# (125): one changed ciphertext byte, another image's file in its place, a
# truncated file, a changed header. No plaintext name reaches the host's
# cache. The embedded coordinator (WARD_ROOTFS=ext4) and the INSECURE
# --insecure-keys path (convert --export-keys) run too.
source "$(dirname "$0")/test-run-lib.sh" "$1" "$2"
"$WARD" coordinator --help 2>&1 | grep -qi 'not available in this build' &&
	skip "this build has no coordinator"
strings "$WARD_INIT" | grep -q 'coordinator.pem' || skip "ward-init without the KBS transport"
[ -d "$IMAGES/debian/oci" ] || skip "no Debian test image in $IMAGES"
[ -c /dev/loop-control ] || skip "needs /dev/loop-control (loop devices)"
export WARD_CONFIG_HOME=$T/cfg WARD_SIM_STATE=$T/sim WARD_CACHE_ROOT=$T/cache
coord_start
rootfs_images ext4
python3 - "$T/redis.ref" >"$OUT" <<'EOP' || { echo "FAIL reference: no ext4 rootfs"; cat "$OUT"; fail=1; }
import json, sys
r = json.load(open(sys.argv[1]))["rootfs"]
assert r["type"] == "ext4" and r["digest"].startswith("sha256:") and r["size"] >= 1 << 30, r
EOP
prepared() { echo "$(prepared_dir "$1")/.ward/rootfs/root.ext4"; }
flip() { # flip FILE OFFSET: invert one byte
	python3 -c '
import sys
f = open(sys.argv[1], "r+b"); o = int(sys.argv[2]); f.seek(o); b = f.read(1); f.seek(o); f.write(bytes([b[0] ^ 0xff]))' "$1" "$2"
}
crun() { "$WARD" run -q --network host --coordinator "$URL" "$@"; }

# python3 from the ext4 root; the root is ext4 and writable, owners kept
check python 0 crun --workload py "$T/python" -- python3 -c '
import os, sys
open("/usr/new", "w").write("n"); os.remove("/usr/new")
fs = [l.split(" - ")[1].split()[0] for l in open("/proc/self/mountinfo") if l.split()[4] == "/"]
print("py", sys.version_info[0], open("/etc/debian_version").read().strip(), "root", fs[-1])
print("shadow", os.stat("/etc/shadow").st_gid, oct(os.stat("/etc/shadow").st_mode & 0o777))
print("su", oct(os.stat("/usr/bin/su").st_mode & 0o7777))'
contains python "^py 3 12"
contains python-ext4 "root ext4$"
contains python-owner "^shadow 42 0o640"
contains python-setuid "^su 0o4755"
contains python-mounted "root image sha256:"
# the loop device is ward-init's alone: no loop control in the app's /dev,
# and no block device node it could make for another loop device
check python-no-loop 0 crun --workload py "$T/python" -- python3 -c '
import os, stat
print("loop-control", os.path.exists("/dev/loop-control"))
os.mkfifo("/tmp/fifo"); print("fifo ok")
try:
    os.mknod("/tmp/blk", 0o600 | stat.S_IFBLK, os.makedev(7, 0)); print("blk made")
except PermissionError as e:
    print("blk refused")'
contains python-no-loop "^loop-control False"
contains python-no-loop "^fifo ok"
contains python-no-loop "^blk refused"
check python-all-files 0 crun --workload py "$T/python" -- sh -c \
	'find / -xdev -type f -exec cat {} + >/dev/null && echo all-read'
contains python-all-files all-read

# redis: PING, SET, GET through the real server
check redis-start 0 crun -d --name red --workload red "$T/redis"
check redis-ping 0 wait_for 100 sh -c "redis-cli -p $RP ping | grep -q PONG"
check redis-set 0 redis-cli -p "$RP" set k from-ext4-root
check redis-get 0 redis-cli -p "$RP" get k
contains redis-get from-ext4-root
check redis-stop 0 "$WARD" stop red

# the embedded coordinator (INSECURE sim mode) converts with WARD_ROOTFS=ext4
check embedded-python 0 env WARD_ROOTFS=ext4 "$WARD" run -q "$IMAGES/debian/oci:python" -- \
	python3 -c 'import os; print("emb", len(os.environ["WARD_DEMO_SECRET"]))'
contains embedded-python "^emb 20"
contains embedded-python-ext4 "root image sha256:"
check embedded-bad-layout 1 env WARD_ROOTFS=squashfs "$WARD" run -q "$IMAGES/debian/oci:python" -- true
contains embedded-bad-layout "layers, volume or ext4"

# ---- the host attacks the prepared image (the cache holds ciphertext only)
PREP=$(prepared "$T/python")
[ -f "$PREP" ] || { echo "FAIL prepared: no ext4 image in the cache"; fail=1; }
grep -q 'python3' "$PREP" && { echo "FAIL ciphertext: a plaintext name in the image"; fail=1; }
cp "$PREP" "$T/pristine"
SIZE=$(stat -c %s "$PREP")
flip "$PREP" $((SIZE / 2))
check tampered-chunk 125 crun --workload py "$T/python" -- echo ran
contains tampered-chunk "fails its authentication tag"
lacks tampered-chunk "^ran$"
cp "$T/pristine" "$PREP"
flip "$PREP" 60 # an index entry: the header's digest changes
check tampered-header 125 crun --workload py "$T/python" -- echo ran
contains tampered-header "root image"
lacks tampered-header "^ran$"
cp "$T/pristine" "$PREP"
truncate -s $((SIZE - 16)) "$PREP"
check truncated 125 crun --workload py "$T/python" -- echo ran
contains truncated "header describes"
lacks truncated "^ran$"
cp "$(prepared "$T/redis")" "$PREP" # another image entirely
check substituted-image 125 crun --workload py "$T/python" -- echo ran
contains substituted-image "another image was substituted"
lacks substituted-image "^ran$"
cp "$T/pristine" "$PREP"
check restored 0 crun --workload py "$T/python" -- echo ran
contains restored "^ran$"
# nothing left attached: every loop device ward-init used was cleared
no_loop() { ! losetup -l -n -O BACK-FILE 2>/dev/null | grep -q 'ward-root'; }
wait_for 25 no_loop || { echo "FAIL loop: a ward-root loop device is still attached"; losetup -l; fail=1; }

# the INSECURE host key file path (convert --export-keys)
check convert-keys 0 "$WARD" convert -q --rootfs ext4 --ward-init "$WARD_INIT" --tag python \
	--export-keys "$T/keys.json" "$IMAGES/debian/oci" -o "$T/pyk"
check insecure-keys 0 "$WARD" run -q --network host --insecure-keys "$T/keys.json" "$T/pyk" -- \
	python3 -c 'print("insecure-path-ok")'
contains insecure-keys insecure-path-ok
exit $fail
