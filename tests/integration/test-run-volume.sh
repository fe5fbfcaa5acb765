#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ward run -v: redis-server, unmodified, with AOF persistence on a
# protected volume, against a real coordinator on the sim TEE. The data
# survives a restart of the container; the backing directory holds no
# plaintext; restoring an old copy of it (rollback) is refused at mount and
# audited at the coordinator; an authorised user's accept-rollback lets
# exactly that old state be mounted again.
source "$(dirname "$0")/test-run-lib.sh" "$1" "$2"
"$WARD" coordinator --help 2>&1 | grep -qi 'not available in this build' &&
	skip "this build has no coordinator"
strings "$WARD_INIT" | grep -q 'coordinator.pem' || skip "ward-init without the KBS transport"
[ -c /dev/fuse ] || skip "needs /dev/fuse"
DEB=$IMAGES/debian/oci
[ -d "$DEB" ] || skip "no debian test image"
command -v redis-cli >/dev/null || skip "needs redis-cli"
export WARD_CONFIG_HOME=$T/cfg WARD_SIM_STATE=$T/sim WARD_CACHE_ROOT=$T/cache
coord_start
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/eve.key" 2>/dev/null
openssl pkey -in "$T/eve.key" -pubout -out "$T/eve.pub"
check convert 0 "$WARD" convert -q --ward-init "$WARD_INIT" --tag redis \
	--recipient "jwe:$T/img.pub" "$DEB" -o "$T/conv"
WM=$(sim_meas "$T/conv")
python3 - "$T" "$WM" <<'EOP'
import json, sys
t, wm = sys.argv[1], sys.argv[2]
m = {"packages": {"kv": {"tees": ["sim"], "measurements": {"sim": [wm]}, "debug": False}},
     "secrets": {"imgkey": {"type": "user", "resource": "default/image-key/redis", "packages": ["kv"]}},
     "workloads": {"redis": {"package": "kv", "volumes": ["data"]}},
     "users": {"admin": {"public_key": open(t + "/admin.pub").read(), "roles": ["admin"]},
               "eve": {"public_key": open(t + "/eve.pub").read(), "roles": ["auditor"]}},
     "roles": {"admin": {"actions": ["update_manifest", "set_secret", "read_secret", "read_log"], "secrets": ["*"]},
               "auditor": {"actions": ["read_log"]}}}
json.dump(m, open(t + "/m.json", "w"))
EOP
check manifest-set 0 "$WARD" manifest set "$T/m.json" --coordinator "$URL"
check image-key 0 "$WARD" secret set imgkey --value-file "$T/img.key" --coordinator "$URL" \
	--user admin --key "$T/admin.key"
# the image must carry the coordinator's certificate (see test-run-coordinator.sh)
"$WARD" run -q --network host --coordinator "$URL" --workload redis "$T/conv" -- true >/dev/null 2>&1
cp "$(ls "$T"/cfg/coordinators/*.pem)" "$(echo "$T"/cache/wrapped-*)/rootfs/.ward/coordinator.pem"

mkdir "$T/vol"
P=$(free_port)
SECRET=plaintext-canary-$RANDOM$RANDOM
start() { # start NAME
	check "start-$1" 0 "$WARD" run -q -d --name "$1" --network host --coordinator "$URL" \
		--workload redis -v "$T/vol:/data" "$T/conv" -- redis-server --port "$P" \
		--protected-mode no --dir /data --appendonly yes --appendfsync always --save ""
	check "up-$1" 0 wait_for 150 sh -c "redis-cli -p $P ping | grep -q PONG"
}
stop() { # stop NAME
	check "stop-$1" 0 "$WARD" stop "$1"
	check "logs-$1" 0 "$WARD" logs "$1"
	contains "mounted-$1" "protected volume data mounted at /data"
	contains "committed-$1" "protected volume data committed and unmounted"
	"$WARD" rm "$1" >/dev/null 2>&1
}
start r1
check set 0 redis-cli -p "$P" set k "$SECRET"
stop r1
check backing-format 0 test -s "$T/vol/ward-volume" -a -s "$T/vol/meta"
check no-plaintext 1 grep -r -q -- "$SECRET" "$T/vol"
check no-plaintext-name 1 sh -c "ls -R '$T/vol' | grep -q appendonly"
cp -a "$T/vol" "$T/old"
start r2
check get-after-restart 0 redis-cli -p "$P" get k
contains get-after-restart "$SECRET"
check set-new 0 redis-cli -p "$P" set k newer-value
stop r2
# rollback: the host restores the old copy of the backing directory
rm -rf "$T/vol" && cp -a "$T/old" "$T/vol"
check rollback-refused 125 "$WARD" run -q --network host --coordinator "$URL" --workload redis \
	-v "$T/vol:/data" "$T/conv" -- redis-server --port "$P"
contains rollback-message "rollback detected"
check audit-log 0 "$WARD" log --coordinator "$URL" --user admin --key "$T/admin.key" --json
contains audit-refused "volume.refused"
contains audit-refused-reason "is older than the registered version"
contains audit-registered "volume.registered"
# a user without update_manifest may not accept it
check accept-unauthorised 1 "$WARD" volume accept-rollback "$T/vol" redis/data \
	--coordinator "$URL" --user eve --key "$T/eve.key"
contains accept-unauthorised-reason "role does not allow update_manifest"
check accept-rollback 0 "$WARD" volume accept-rollback "$T/vol" redis/data \
	--coordinator "$URL" --user admin --key "$T/admin.key"
start r3
check get-accepted 0 redis-cli -p "$P" get k
contains get-accepted "$SECRET"
stop r3
check audit-accepted 0 "$WARD" log --coordinator "$URL" --user admin --key "$T/admin.key" --json
contains audit-accepted "volume.rollback_accepted"
exit $fail
