# SPDX-License-Identifier: Apache-2.0
# Shared helpers for the ward run integration tests (sourced).
# Usage in a test: source test-run-lib.sh WARD WARD_INIT
set -u
WARD=$1
# WARD_TEST_INIT: a static ward-init to pair with a sanitizer build of ward
export WARD_INIT=${WARD_TEST_INIT:-$2}
IMAGES=${WARD_TEST_IMAGES:-/var/tmp/ward-test-images}
fail=0
T=$(mktemp -d /tmp/ward-test-run.XXXXXX)
export WARD_STATE_ROOT=$T/state
OUT=$T/out

skip() { echo "SKIP: $*"; rm -rf "$T"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
command -v runc >/dev/null || skip "needs runc"
# sanitizer builds link ward-init dynamically; it cannot run inside an image
if readelf -l "$WARD_INIT" 2>/dev/null | grep -q 'program interpreter'; then
	skip "ward-init is dynamically linked (sanitizer build): it needs the static one"
fi
"$WARD" run --insecure-host-keys 2>&1 | grep -q 'not available in this build' &&
	skip "distribution build: no INSECURE test switches"
[ -d "$IMAGES/tiny/oci" ] || skip "no test images in $IMAGES (shared/images/make-test-images.sh)"

cleanup_all() {
	# every container this test started: stop, remove; then the temp dir
	for d in "$WARD_STATE_ROOT"/*/; do
		[ -d "$d" ] || continue
		"$WARD" rm -f "$(basename "$d")" >/dev/null 2>&1
	done
	for id in $(runc --root "$WARD_STATE_ROOT/.runc" list -q 2>/dev/null); do
		runc --root "$WARD_STATE_ROOT/.runc" delete --force "$id" >/dev/null 2>&1
	done
	rm -rf "$T"
}
trap cleanup_all EXIT

check() { # check NAME EXPECTED_RC CMD...
	local name=$1 want=$2; shift 2
	"$@" >"$OUT" 2>&1
	local rc=$?
	if [ "$rc" != "$want" ]; then
		echo "FAIL $name: exit $rc, expected $want"; sed 's/^/    /' "$OUT"; fail=1
	else
		echo "ok   $name"
	fi
}
contains() { # contains NAME PATTERN
	if ! grep -q -- "$2" "$OUT"; then
		echo "FAIL $1: output lacks '$2'"; sed 's/^/    /' "$OUT"; fail=1
	fi
}
lacks() { # lacks NAME PATTERN
	if grep -q -- "$2" "$OUT"; then
		echo "FAIL $1: output has '$2'"; sed 's/^/    /' "$OUT"; fail=1
	fi
}
wait_for() { # wait_for TRIES CMD...: retry every 0.2 s
	local n=$1; shift
	for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
	return 1
}
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
run() { "$WARD" run -q --insecure-host-keys "$@"; }

# coord_start: the sim TEE, admin and image keys, a coordinator on a
# random loopback port, `ward verify` pinning it. Sets URL, PIN, CPID (the
# coordinator is killed on exit). Needs WARD_CONFIG_HOME, WARD_SIM_STATE.
coord_start() {
	CPID=
	trap '[ -n "$CPID" ] && kill $CPID 2>/dev/null; wait 2>/dev/null; cleanup_all' EXIT
	"$WARD" sim init --state "$T/sim" >/dev/null 2>&1
	"$WARD" sim ark --state "$T/sim" >"$T/ark.pem"
	CM=$(printf 'c%.0s' $(seq 96))
	echo "{\"tees\":[\"sim\"],\"measurements\":{\"sim\":[\"$CM\"]},\"debug\":false,\"sim_ark\":\"ark.pem\"}" >"$T/ref.json"
	for k in admin img; do
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/$k.key" 2>/dev/null
		openssl pkey -in "$T/$k.key" -pubout -out "$T/$k.pub"
	done
	"$WARD" coordinator --state "$T/cs" --listen 127.0.0.1:0 --sim-state "$T/sim" \
		--sim-measurement "$CM" --port-file "$T/port" >"$T/coord.log" 2>&1 &
	CPID=$!
	wait_for 250 test -s "$T/port"
	URL=https://127.0.0.1:$(cat "$T/port")
	check verify 0 "$WARD" verify --coordinator "$URL" --reference "$T/ref.json"
	# the pin ward verify wrote is measured into the image (ward-init's TLS pin)
	PIN=$(ls "$T"/cfg/coordinators/*.pem)
}

sim_meas() { # sim_meas IMAGE: the converted image's sim measurement
	python3 -c '
import hashlib, json, sys
idx = json.load(open(sys.argv[1] + "/index.json"))
m = json.load(open(sys.argv[1] + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
print(hashlib.sha384(b"ward-sim-v1:" + m["config"]["digest"].encode()).hexdigest())' "$1"
}

prepared_dir() { # prepared_dir IMAGE: its prepared rootfs in ward run's cache
	python3 -c '
import json, sys
idx = json.load(open(sys.argv[1] + "/index.json"))
m = json.load(open(sys.argv[1] + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
print(sys.argv[2] + "/wrapped-" + m["config"]["digest"][7:] + "/rootfs")' "$1" "$WARD_CACHE_ROOT"
}

# rootfs_images LAYOUT: the Debian python and redis images converted with
# --rootfs LAYOUT for the coordinator (T/python, T/redis, reference values
# T/*.ref), a manifest with workloads py and red (redis on port RP) and
# their image keys set. After coord_start.
rootfs_images() {
	local img s
	for img in python redis; do
		check convert-$img 0 "$WARD" convert -q --rootfs "$1" --ward-init "$WARD_INIT" --tag $img \
			--recipient "jwe:$T/img.pub" --coordinator-pin "$PIN" --reference-out "$T/$img.ref" \
			"$IMAGES/debian/oci" -o "$T/$img"
	done
	RP=$(free_port)
	python3 - "$T" "$(sim_meas "$T/python")" "$(sim_meas "$T/redis")" "$RP" <<'EOP'
import json, sys
t, pm, rm, port = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
m = {"packages": {"py": {"tees": ["sim"], "measurements": {"sim": [pm]}, "debug": False},
                  "red": {"tees": ["sim"], "measurements": {"sim": [rm]}, "debug": False}},
     "secrets": {"img-py": {"type": "user", "resource": "default/image-key/py", "packages": ["py"]},
                 "img-red": {"type": "user", "resource": "default/image-key/red", "packages": ["red"]}},
     "workloads": {"py": {"package": "py"},
                   "red": {"package": "red",
                           "argv": ["redis-server", "--port", port, "--protected-mode", "no",
                                    "--save", "", "--appendonly", "no"]}},
     "users": {"admin": {"public_key": open(t + "/admin.pub").read(), "roles": ["admin"]}},
     "roles": {"admin": {"actions": ["update_manifest", "set_secret", "read_secret", "read_log"],
                         "secrets": ["*"]}}}
json.dump(m, open(t + "/m.json", "w"))
EOP
	check manifest-set 0 "$WARD" manifest set "$T/m.json" --coordinator "$URL"
	for s in img-py img-red; do
		check secret-$s 0 "$WARD" secret set $s --value-file "$T/img.key" --coordinator "$URL" \
			--user admin --key "$T/admin.key"
	done
}
