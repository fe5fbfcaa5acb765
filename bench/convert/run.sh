#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/convert/run.sh: `ward convert --mode ocicrypt` against
# `skopeo copy --encryption-key jwe:` on the same inputs in the same run.
#
#   inputs: the Debian nginx docker-archive (~190 MB, uncompressed layer) from
#           shared/images/make-test-images.sh, a >= 500 MB docker-archive
#           built here from the Debian image plus layers of files installed
#           from Debian packages on this machine (/usr/lib, /usr/share, ...),
#           and the Debian image as an oci-archive with gzip layers (built
#           here with skopeo; both tools pass compressed layers through)
#   compares, output format against the same output format:
#           ward (gzip, default: ISA-L igzip) vs skopeo (gzip, default)
#           ward --gzip-level 1 (libdeflate)  vs the same skopeo runs
#           ward --compression zstd           vs skopeo --dest-compress-format zstd
#           (each at its default level; output sizes are printed, so the
#           size side of the trade-off is visible)
#   prints: medians of RUNS (default 3) wall and CPU (user + system) times,
#           the ratios skopeo/ward, ward's throughput in MB/s next to this
#           machine's single-core AES-256-CTR + HMAC-SHA256 limit (openssl
#           speed), peak RSS and output sizes. The goal is about wall time;
#           the CPU ratio says how much of it survives a busy machine.
# Goal: ward >= 3x skopeo's throughput, peak RSS <= 64 MB.
# Environment: WARD (default build/release/cmd/ward/ward), RUNS, WARD_TEST_IMAGES,
#              BENCH_DIR (default /var/tmp/ward-bench-convert).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-3}
IMAGES=${WARD_TEST_IMAGES:-/var/tmp/ward-test-images}
BENCH=${BENCH_DIR:-/var/tmp/ward-bench-convert}
WARD=${WARD:-build/release/cmd/ward/ward}
if [ ! -x "$WARD" ]; then
	cmake --preset release >/dev/null && cmake --build --preset release >/dev/null
fi
command -v skopeo >/dev/null || { echo "skopeo missing (apt-get install skopeo)"; exit 1; }
[ -e "$IMAGES/debian/nginx-docker-archive.tar" ] ||
	bash ../shared/images/make-test-images.sh "$IMAGES" >/dev/null
mkdir -p "$BENCH"
T=$(mktemp -d "$BENCH/run.XXXXXX")
trap 'rm -rf "$T"' EXIT
openssl genrsa -out "$T/k.pem" 2048 2>/dev/null
openssl rsa -in "$T/k.pem" -pubout -out "$T/k.pub" 2>/dev/null

# the >= 500 MB image: the Debian layer plus layers of package files
BIG=$BENCH/big-docker-archive.tar
if [ ! -e "$BIG" ]; then
	echo "building $BIG (once) ..."
	python3 - "$IMAGES/debian/nginx-docker-archive.tar" "$BIG.tmp" <<'PY'
import hashlib, io, json, os, sys, tarfile
src, out = sys.argv[1], sys.argv[2]
target = 520 << 20
layers = []
with tarfile.open(src) as s:
    man = json.load(s.extractfile("manifest.json"))[0]
    base = s.extractfile(man["Layers"][0]).read()
layers.append(base)
total = len(base)
for root in ("/usr/lib", "/usr/share", "/usr/bin", "/usr/libexec", "/usr/include", "/usr/sbin"):
    if total >= target:
        break
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for dp, dns, fns in os.walk(root):
            dns.sort()
            for fn in sorted(fns):
                p = os.path.join(dp, fn)
                try:
                    st = os.lstat(p)
                    if not (os.path.isfile(p) or os.path.islink(p)):
                        continue
                    t.add(p, arcname=p.lstrip("/"), recursive=False)
                except OSError:
                    pass
                if total + b.tell() >= target:
                    break
            if total + b.tell() >= target:
                break
    layers.append(b.getvalue())
    total += len(layers[-1])
diff_ids = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/bash"]},
                  "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
with tarfile.open(out, "w") as t:
    def add(name, data):
        ti = tarfile.TarInfo(name); ti.size = len(data); t.addfile(ti, io.BytesIO(data))
    names = []
    for i, l in enumerate(layers):
        names.append("%d/layer.tar" % i); add(names[-1], l)
    add("config.json", cfg)
    add("manifest.json", json.dumps([{"Config": "config.json", "RepoTags": ["localhost/ward-bench/big:latest"], "Layers": names}]).encode())
print("built %d layers, %.0f MB of layer tars" % (len(layers), total / 1e6))
PY
	mv "$BIG.tmp" "$BIG"
fi

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# time_run LABEL CMD...: wall seconds, peak RSS (KB) and CPU seconds
# (user + system) of one run
time_run() {
	local label=$1; shift
	/usr/bin/time -f "%e %M %U %S" -o "$T/time" "$@" >/dev/null 2>"$T/err" ||
		{ echo "$label failed: $(cat "$T/err")" >&2; return 1; }
	awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}' "$T/time"
}

# the machine's AES-256-CTR + HMAC-SHA256 limit on one core (1 MiB blocks)
speed() { openssl speed -elapsed -seconds 2 -bytes 1048576 "$@" 2>/dev/null | awk '/^(aes|hmac|AES|HMAC)/ {print $NF}' | sed 's/k$//' | tail -1; }
ctr_k=$(speed -evp aes-256-ctr)
hmac_k=$(speed -hmac sha256 -evp sha256 2>/dev/null || true)
[ -n "$hmac_k" ] || hmac_k=$(openssl speed -elapsed -seconds 2 -bytes 1048576 -evp sha256 2>/dev/null | awk '/^sha256/ {print $NF}' | sed 's/k$//')
limit=$(awk -v a="$ctr_k" -v b="$hmac_k" 'BEGIN {a*=1000; b*=1000; printf "%.0f", 1 / (1/a + 1/b) / 1e6}')
echo "machine: $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg); AES-256-CTR $(awk -v a="$ctr_k" 'BEGIN{printf "%.0f", a/1000}') MB/s, HMAC-SHA256 $(awk -v a="$hmac_k" 'BEGIN{printf "%.0f", a/1000}') MB/s, CTR+HMAC limit ${limit} MB/s (one core)"
echo

# the Debian image as an oci-archive with gzip layers (compressed input)
OCIAR=$BENCH/debian-oci-archive.tar
if [ ! -e "$OCIAR" ]; then
	echo "building $OCIAR (once) ..."
	rm -f "$OCIAR.tmp"
	skopeo copy -q "docker-archive:$IMAGES/debian/nginx-docker-archive.tar" "oci-archive:$OCIAR.tmp:latest"
	mv "$OCIAR.tmp" "$OCIAR"
fi

# run_one KEY OUT CMD...: one timed run; appends wall time, peak RSS, CPU
# time and output size (bytes under OUT) to $T/KEY.{t,rss,cpu,size}
run_one() {
	local key=$1 out=$2 t m c
	shift 2
	rm -rf "$out"
	sync
	read -r t m c < <(time_run "$key" "$@")
	[ -n "${t:-}" ] || exit 1
	echo "$t" >>"$T/$key.t"
	echo "$m" >>"$T/$key.rss"
	echo "$c" >>"$T/$key.cpu"
	du -sb "$out" | cut -f1 >"$T/$key.size"
	rm -rf "$out"
}

# report SIZE WARD-KEY WARD-LABEL SKOPEO-KEY SKOPEO-LABEL
report() {
	local size=$1 wk=$2 wl=$3 sk=$4 sl=$5
	awk -v w="$(median <"$T/$wk.t")" -v s="$(median <"$T/$sk.t")" -v b="$size" -v l="$limit" \
		-v wr="$(sort -n "$T/$wk.rss" | tail -1)" -v sr="$(sort -n "$T/$sk.rss" | tail -1)" \
		-v wc="$(median <"$T/$wk.cpu")" -v sc="$(median <"$T/$sk.cpu")" \
		-v wo="$(cat "$T/$wk.size")" -v so="$(cat "$T/$sk.size")" -v wl="$wl" -v sl="$sl" 'BEGIN {
		printf "  %-44s %6.2f s  %7.1f MB/s  (%.0f%% of the CTR+HMAC limit)  CPU %5.2f s  peak RSS %5.1f MB %s  output %.1f MB\n", wl, w, b/w/1e6, 100*b/w/1e6/l, wc, wr/1024, (wr/1024 <= 64 ? "(<= 64 MB: ok)" : "(> 64 MB: MISSED)"), wo/1e6
		printf "  %-44s %6.2f s  %7.1f MB/s  CPU %5.2f s  peak RSS %5.1f MB  output %.1f MB\n", sl, s, b/s/1e6, sc, sr/1024, so/1e6
		printf "  ratio skopeo/ward: %.2fx wall, %.2fx CPU %s\n", s/w, sc/wc, (s/w >= 3 ? "(goal >= 3x: met)" : "(goal >= 3x: NOT met)")
	}'
}

K="jwe:$T/k.pub"
for in in "$IMAGES/debian/nginx-docker-archive.tar" "$BIG" "$OCIAR"; do
	size=$(stat -c %s "$in")
	kind=docker-archive
	case $in in *oci-archive.tar) kind=oci-archive ;; esac
	rm -f "$T"/*.t "$T"/*.rss "$T"/*.cpu "$T"/*.size
	for i in $(seq "$RUNS"); do
		run_one wg "$T/w" "$WARD" convert -q --mode ocicrypt --recipient "$K" "$in" -o "$T/w"
		run_one sg "$T/s" skopeo copy -q --encryption-key "$K" "$kind:$in" "oci:$T/s:latest"
		[ $kind = docker-archive ] || continue
		run_one wl "$T/w" "$WARD" convert -q --mode ocicrypt --gzip-level 1 --recipient "$K" "$in" -o "$T/w"
		run_one wz "$T/w" "$WARD" convert -q --mode ocicrypt --compression zstd --recipient "$K" "$in" -o "$T/w"
		run_one sz "$T/s" skopeo copy -q --dest-compress-format zstd --encryption-key "$K" "$kind:$in" "oci:$T/s:latest"
	done
	printf '%s (%.0f MB %s), median of %d, load %s:\n' "$(basename "$in")" "$(echo "$size / 1000000" | bc -l)" "$kind" "$RUNS" "$(cut -d' ' -f1-3 /proc/loadavg)"
	if [ $kind = docker-archive ]; then
		report "$size" wg "ward convert --mode ocicrypt (gzip)" sg "skopeo copy --encryption-key (gzip)"
		report "$size" wl "ward ... --gzip-level 1 (libdeflate)" sg "skopeo copy --encryption-key (gzip)"
		report "$size" wz "ward ... --compression zstd" sz "skopeo ... --dest-compress-format zstd"
	else
		report "$size" wg "ward convert --mode ocicrypt (layers kept)" sg "skopeo copy --encryption-key (layers kept)"
	fi
	echo
done
