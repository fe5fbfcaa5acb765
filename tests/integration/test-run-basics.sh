#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ward run end to end on the busybox image and a two-layer image derived from
# it: exit codes, argv and -e, PID 1, what the app can see, user, caps,
# seccomp, OCI whiteouts, crun, and cleanup.
source "$(dirname "$0")/test-run-lib.sh" "$1" "$2"
TINY=$IMAGES/tiny/oci

check exit-code 3 run "$TINY" -- sh -c 'exit 3'
check argv-env 0 run -e GREETING=hello -e B=2 "$TINY" -- sh -c 'echo "$GREETING $B $0 $1"' a1 a2
contains argv-env "hello 2 a1 a2"
check pid1 0 run "$TINY" -- cat /proc/1/cmdline
contains pid1 "/.ward/init"
check no-ward-dir 0 run "$TINY" -- sh -c 'ls -la /.ward /.ward/layers 2>&1; mount'
contains no-ward-dir "No such file"
lacks no-ward-dir "layers/"
check rootfs-tmpfs 0 run "$TINY" -- sh -c 'grep " / " /proc/mounts'
contains rootfs-tmpfs "ward-root / tmpfs"
check caps-seccomp 0 run "$TINY" -- cat /proc/self/status
contains caps-bnd "CapBnd:	00000000a80425fb"
contains seccomp "Seccomp:	2"
check seccomp-denies 0 run "$TINY" -- sh -c 'unshare -m true 2>&1; mount -t tmpfs x /mnt 2>&1; echo done'
contains seccomp-denies "Operation not permitted"
check hosts 0 run --name tiny-hosts "$TINY" -- sh -c 'hostname; cat /etc/hosts'
contains hosts "127.0.1.1	tiny-hosts"
# no --coordinator, no --insecure-*: the embedded coordinator (run/embedded)
check plain-embedded 0 "$WARD" run -q "$TINY" -- true
contains plain-embedded "INSECURE sim mode"
check no-coordinator-build 1 "$WARD" run -q --insecure-keys /dev/null "$TINY" -- true
check crun-exit-code 4 run --runtime crun "$TINY" -- sh -c 'exit 4'
check missing-program 127 run "$TINY" -- /no/such/program
contains missing-program "cannot execute"

# A two-layer image: layer 2 whites out /bin/ls, replaces /etc/motd's
# directory content (opaque /var) and sets USER 65534:65534.
L=$T/layout; cp -a "$TINY" "$L"
python3 - "$L" <<'PY'
import hashlib, io, json, os, sys, tarfile, gzip
L = sys.argv[1]
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{L}/blobs/sha256/{d}", "wb").write(data)
    return "sha256:" + d
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
    for name, data in [("bin/.wh.ls", b""), ("var/.wh..wh..opq", b""), ("var/new", b"layer2\n"),
                       ("etc/ward-test", b"two layers\n")]:
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = 0o644
        t.addfile(ti, io.BytesIO(data))
    # a hostile mount point: ward-init must not follow it when mounting proc
    ti = tarfile.TarInfo("proc"); ti.type = tarfile.SYMTYPE; ti.linkname = "/.ward/run"
    t.addfile(ti)
tar = buf.getvalue()
gz = gzip.compress(tar, mtime=0)
idx = json.load(open(f"{L}/index.json"))
m = json.load(open(f"{L}/blobs/sha256/{idx['manifests'][0]['digest'][7:]}"))
c = json.load(open(f"{L}/blobs/sha256/{m['config']['digest'][7:]}"))
c["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(tar).hexdigest())
c.setdefault("config", {})["User"] = "65534:65534"
cb = json.dumps(c).encode()
m["config"] = {"mediaType": m["config"]["mediaType"], "digest": blob(cb), "size": len(cb)}
m["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": blob(gz), "size": len(gz)})
mb = json.dumps(m).encode()
idx["manifests"][0].update(digest=blob(mb), size=len(mb))
json.dump(idx, open(f"{L}/index.json", "w"))
PY
check layered 0 run "$L" -- sh -c 'id; cat /etc/ward-test; ls /var; ls /bin/ls 2>&1; ls /bin/cat; grep CapEff /proc/self/status; cat /proc/1/cmdline'
contains layered-user "uid=65534(nobody) gid=65534"
contains layered-file "two layers"
contains layered-opaque "^new$"
contains layered-whiteout "/bin/ls: No such file"
contains layered-caps "CapEff:	0000000000000000"
contains layered-proc-symlink-replaced "/.ward/init"

# nothing left behind
left=$(ls -A "$WARD_STATE_ROOT" | grep -Ev '^\.(runc|crun)$')
check state-clean 0 test -z "$left"
[ -z "$left" ] || echo "    left: $left"
check runc-clean 0 test -z "$(runc --root "$WARD_STATE_ROOT/.runc" list -q)"
check no-mounts 0 sh -c "! grep -q '$T' /proc/mounts"
exit $fail
