# SPDX-License-Identifier: Apache-2.0
# Shared by test-coordinator-*.sh: a temp dir, the sim TEE, a coordinator
# on 127.0.0.1 with a random port, keys and a manifest. Source it after
# setting WARD and KBS.
set -u
T=$(mktemp -d /tmp/ward-coord-test.XXXXXX)
export WARD_CONFIG_HOME=$T/cfg
COORD_PID=
fail=0
cleanup() {
	if [ -n "$COORD_PID" ]; then
		kill -9 "$COORD_PID" 2>/dev/null
		wait "$COORD_PID" 2>/dev/null
	fi
	if [ "$fail" = 0 ]; then rm -rf "$T"; else echo "(kept $T)"; fi
}
trap cleanup EXIT

# Measurements: the coordinator's own launch and the workload's.
CM=$(printf 'c%.0s' $(seq 96))
WM=$(printf 'a%.0s' $(seq 96))
OTHER_M=$(printf 'b%.0s' $(seq 96))

FAILN() { echo "FAIL $*"; fail=1; }
expect_rc() { # expect_rc NAME WANT CMD...
	local name=$1 want=$2; shift 2
	"$@" >"$T/out" 2>&1
	local rc=$?
	if [ "$rc" != "$want" ]; then FAILN "$name: exit $rc, expected $want"; cat "$T/out"; fi
}
expect_out() { # expect_out NAME PATTERN (in $T/out)
	if ! grep -q -- "$2" "$T/out"; then FAILN "$1: output lacks '$2'"; cat "$T/out"; fi
}

sim_init() {
	"$WARD" sim init --state "$T/sim" >/dev/null 2>&1 || { echo "sim init failed"; exit 1; }
	"$WARD" sim ark --state "$T/sim" >"$T/ark.pem"
	cat >"$T/ref.json" <<EOR
{"tees": ["sim"], "measurements": {"sim": ["$CM"]}, "debug": false, "sim_ark": "ark.pem"}
EOR
}

# coord_start [extra args...]: start and wait for the port file.
coord_start() {
	rm -f "$T/port"
	"$WARD" coordinator --state "$T/state" --listen 127.0.0.1:0 --sim-state "$T/sim" \
		--sim-measurement "${COORD_MEASUREMENT:-$CM}" --port-file "$T/port" "$@" \
		>>"$T/coord.log" 2>&1 &
	COORD_PID=$!
	for _ in $(seq 1500); do
		[ -s "$T/port" ] && break
		kill -0 "$COORD_PID" 2>/dev/null || break
		sleep 0.02
	done
	if [ ! -s "$T/port" ]; then
		kill -9 "$COORD_PID" 2>/dev/null
		wait "$COORD_PID" 2>/dev/null
		COORD_PID=
		return 1
	fi
	URL=https://127.0.0.1:$(cat "$T/port")
	return 0
}
coord_stop() { # graceful
	[ -n "$COORD_PID" ] && kill -TERM "$COORD_PID" && wait "$COORD_PID" 2>/dev/null
	COORD_PID=
}
coord_kill() {
	[ -n "$COORD_PID" ] && kill -9 "$COORD_PID" && wait "$COORD_PID" 2>/dev/null
	COORD_PID=
}

keys() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/admin.key" 2>/dev/null
	openssl pkey -in "$T/admin.key" -pubout -out "$T/admin.pub"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/reader.key" 2>/dev/null
	openssl pkey -in "$T/reader.key" -pubout -out "$T/reader.pub"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/stranger.key" 2>/dev/null
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/recovery.key" 2>/dev/null
	openssl pkey -in "$T/recovery.key" -pubout -out "$T/recovery.pub"
}

# manifest OUT [extra-secret-name] [tees-json]: the test manifest.
manifest() {
	python3 - "$T" "$WM" "$1" "${2:-}" "${3:-[\"sim\"]}" <<'EOP'
import json, sys
t, wm, out, extra, tees = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
meas = {tee: [wm] for tee in tees}
m = {
 "packages": {"web": {"tees": tees, "measurements": meas, "debug": False,
                      "image_digests": ["sha256:" + "ab" * 32],
                      "min_tcb": {"bootloader": 0, "tee": 0, "snp": 0, "microcode": 0}},
              "other": {"tees": ["sim"], "measurements": {"sim": ["dd" * 48]}}},
 "secrets": {"db.password": {"type": "password", "size": 20},
             "web.tls": {"type": "cert", "cert": {"subject": "CN=web", "dns": ["web.local"]}},
             "img": {"type": "symmetric", "resource": "default/key/img", "packages": ["web"]},
             "otherkey": {"type": "symmetric", "resource": "default/key/other", "packages": ["other"]},
             "api": {"type": "user", "size": 16},
             "sig": {"type": "ec-p256"}},
 "workloads": {"web": {"package": "web", "argv": ["/app", "--password={{ secret.db.password }}"],
                       "env": {"IMG_KEY": "{{ hex secret.img }}"},
                       "files": {"/etc/web.pem": "{{ pem secret.web.tls.cert }}"},
                       "volumes": ["data"], "dns": ["web.local"], "ips": ["10.0.0.5"]}},
 "users": {"admin": {"public_key": open(t + "/admin.pub").read(), "roles": ["admin"]},
           "reader": {"public_key": open(t + "/reader.pub").read(), "roles": ["auditor"]}},
 "roles": {"admin": {"actions": ["update_manifest", "set_secret", "read_secret", "read_log"], "secrets": ["*"]},
           "auditor": {"actions": ["read_log"]}},
 "recovery_keys": {"r1": open(t + "/recovery.pub").read()},
}
if extra:
    import os
    m["secrets"][extra] = {"type": os.environ.get("EXTRA_TYPE", "symmetric")}
json.dump(m, open(out, "w"), indent=1)
EOP
}

pin() { echo "$WARD_CONFIG_HOME/coordinators/127.0.0.1_$(cat "$T/port").pem"; }
kbs() { # kbs [args...]: one workload flow with the good measurement unless given
	"$KBS" --url "$URL" --pin "${PIN:-$(pin)}" --sim-state "$T/sim" "$@"
}
