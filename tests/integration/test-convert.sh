#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# ward convert end to end on real images: round trips (every layer's
# uncompressed tar byte-identical, so every file's content, mode, owner and
# xattrs too), interop with Debian's skopeo both ways, output formats,
# reproducibility, signatures, and hostile inputs.
# Usage: test-convert.sh WARD WARD_INIT SHARED_DIR CASE
set -u
WARD=$1
WARD_INIT=$2
SHARED=$3
CASE=$4
IMAGES=${WARD_TEST_IMAGES:-/var/tmp/ward-test-images}
VEC=${WARD_VECTORS:-$SHARED/vectors}/ocicrypt
T=$(mktemp -d /tmp/ward-convert-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
SEED=000102030405060708090a0b0c0d0e0f
fail=0
die() { echo "FAIL $CASE: $*"; exit 1; }
bad() { echo "FAIL $CASE: $*"; fail=1; }

# layer_diffids IMAGE_REF: the sha256 of every layer's uncompressed tar,
# read from an OCI layout dir (skopeo-style name:tag ref).
layer_diffids() {
	local dir=${1%:*} tag=${1##*:} m
	m=$(jq -r --arg t "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$dir/index.json")
	[ -n "$m" ] || m=$(jq -r '.manifests[0].digest' "$dir/index.json")
	jq -r '.layers[] | .digest + " " + .mediaType' "$dir/blobs/sha256/${m#sha256:}" |
	while read -r d mt; do
		case $mt in
		*zstd*) zstd -dc "$dir/blobs/sha256/${d#sha256:}" ;;
		*gzip*) gzip -dc "$dir/blobs/sha256/${d#sha256:}" ;;
		*) cat "$dir/blobs/sha256/${d#sha256:}" ;;
		esac | sha256sum | sed 's/ .*//;s/^/sha256:/'
	done
}
config_diffids() { # config_diffids DIR TAG
	local dir=$1 tag=$2 m c
	m=$(jq -r --arg t "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$dir/index.json")
	[ -n "$m" ] || m=$(jq -r '.manifests[0].digest' "$dir/index.json")
	c=$(jq -r '.config.digest' "$dir/blobs/sha256/${m#sha256:}")
	jq -r '.rootfs.diff_ids[]' "$dir/blobs/sha256/${c#sha256:}"
}
layer_digests() { # layer_digests DIR TAG: compressed blob digests
	local dir=$1 tag=$2 m
	m=$(jq -r --arg t "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$dir/index.json")
	[ -n "$m" ] || m=$(jq -r '.manifests[0].digest' "$dir/index.json")
	jq -r '.layers[].digest' "$dir/blobs/sha256/${m#sha256:}"
}
# file_listing DIR TAG: every member of every layer with mode, owner, size,
# xattrs and a content hash (python tarfile, independent of ward)
file_listing() {
	python3 - "$1" "$2" <<'PY'
import hashlib, json, sys, tarfile
d, tag = sys.argv[1], sys.argv[2]
idx = json.load(open(d + "/index.json"))
ms = [m for m in idx["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag] or idx["manifests"][:1]
man = json.load(open(d + "/blobs/sha256/" + ms[0]["digest"][7:]))
for i, l in enumerate(man["layers"]):
    with tarfile.open(d + "/blobs/sha256/" + l["digest"][7:], "r:*") as t:
        for m in t:
            h = hashlib.sha256(t.extractfile(m).read()).hexdigest() if m.isfile() else m.linkname
            x = sorted((k, v) for k, v in m.pax_headers.items() if k.startswith("SCHILY.xattr."))
            print(i, m.name, oct(m.mode), m.uid, m.gid, m.uname, m.gname, m.type, m.size, h, x)
PY
}
no_leftovers() { # no_leftovers DIR: nothing but what was there before
	local extra
	extra=$(ls -A "$1" | grep -v -x -F -f "$T/.before" || true)
	[ -z "$extra" ] || bad "left behind in $1: $extra"
}

mkkeys() {
	openssl genrsa -out "$T/rsa.pem" 2048 2>/dev/null &&
	openssl rsa -in "$T/rsa.pem" -pubout -out "$T/rsa.pub" 2>/dev/null &&
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ec.pem" 2>/dev/null &&
	openssl pkey -in "$T/ec.pem" -pubout -out "$T/ec.pub" 2>/dev/null &&
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$T/ec384.pem" 2>/dev/null &&
	openssl pkey -in "$T/ec384.pem" -pubout -out "$T/ec384.pub" 2>/dev/null || die "openssl keygen"
}

# round_trip INPUT TAG MODE [listing]: convert, decrypt with the private
# key, compare every layer's uncompressed digest with the input config's
# diff_ids (and optionally every file's metadata and content)
round_trip() {
	local in=$1 tag=$2 mode=$3 listing=${4:-}
	rm -rf "$T/conv" "$T/dec" "$T/orig"
	"$WARD" convert -q --mode "$mode" --recipient "jwe:$T/ec.pub" ${tag:+--tag "$tag"} \
		--reference-out "$T/ref.json" "$in" -o "$T/conv" || { bad "convert $in ($mode)"; return; }
	"$WARD" convert -q --decrypt --key "$T/ec.pem" "$T/conv" -o "$T/dec" || { bad "decrypt $in ($mode)"; return; }
	case $in in
	*.tar) skopeo copy -q "$( [ -n "$(tar tf "$in" manifest.json 2>/dev/null)" ] && echo docker-archive || echo oci-archive):$in" "oci:$T/orig:latest" ||
		{ bad "skopeo copy $in"; return; } ;;
	*) skopeo copy -q "oci:$in:${tag:-latest}" "oci:$T/orig:latest" || { bad "skopeo copy $in"; return; } ;;
	esac
	local want got cfg
	want=$(config_diffids "$T/orig" latest)
	cfg=$(config_diffids "$T/dec" latest)
	got=$(layer_diffids "$T/dec:latest")
	[ -n "$want" ] && [ "$got" = "$want" ] || bad "$in ($mode): decrypted layer tars differ: got [$got] want [$want]"
	[ "$cfg" = "$want" ] || bad "$in ($mode): decrypted config diff_ids differ"
	jq -e '.image_digest and .config_digest and .measurements.sim and (.layers|length>0)' "$T/ref.json" >/dev/null ||
		bad "$in ($mode): reference values incomplete"
	if [ -n "$listing" ]; then
		file_listing "$T/orig" latest >"$T/l1" && file_listing "$T/dec" latest >"$T/l2" || bad "listing"
		[ -s "$T/l1" ] && cmp -s "$T/l1" "$T/l2" || bad "$in ($mode): file listings differ"
	fi
}

case $CASE in
roundtrip-small)
	mkkeys
	round_trip "$IMAGES/tiny/oci" latest ocicrypt listing
	round_trip "$IMAGES/tiny/oci-archive.tar" "" wrapped listing
	round_trip "$IMAGES/tiny/docker-archive.tar" "" ocicrypt listing
	round_trip "$IMAGES/redis-small/docker-archive.tar" "" wrapped listing
	round_trip "$IMAGES/redis-small/oci" latest ocicrypt
	;;
roundtrip-debian)
	mkkeys
	round_trip "$IMAGES/debian/nginx-docker-archive.tar" "" ocicrypt
	;;
skopeo-decrypts-ward)
	mkkeys
	for fmt_in in "$IMAGES/tiny/oci" "$IMAGES/redis-small/docker-archive.tar"; do
		rm -rf "$T/conv" "$T/d1" "$T/d2" "$T/d3" "$T/orig"
		"$WARD" convert -q --mode ocicrypt --recipient "jwe:$T/rsa.pub" --recipient "jwe:$T/ec.pub" \
			--recipient "jwe:$T/ec384.pub" "$fmt_in" -o "$T/conv" || { bad "convert $fmt_in"; continue; }
		jq -e '[.layers[] | select(.mediaType | endswith("+encrypted"))] | length > 0' \
			"$T/conv/blobs/sha256/$(jq -r '.manifests[0].digest[7:]' "$T/conv/index.json")" >/dev/null ||
			bad "no encrypted layers"
		case $fmt_in in *.tar) src=docker-archive:$fmt_in ;; *) src=oci:$fmt_in:latest ;; esac
		skopeo copy -q "$src" "oci:$T/orig:latest" || bad "skopeo copy orig"
		want=$(config_diffids "$T/orig" latest)
		for k in rsa ec ec384; do
			rm -rf "$T/d1"
			skopeo copy -q --decryption-key "$T/$k.pem" "oci:$T/conv:latest" "oci:$T/d1:latest" ||
				{ bad "skopeo cannot decrypt ward output with the $k key"; continue; }
			got=$(layer_diffids "$T/d1:latest")
			[ "$got" = "$want" ] || bad "skopeo-decrypted ($k) layers differ"
		done
		# a key that is not a recipient is refused by skopeo too
		openssl genrsa -out "$T/other.pem" 2048 2>/dev/null
		skopeo copy -q --decryption-key "$T/other.pem" "oci:$T/conv:latest" "oci:$T/d3:latest" 2>/dev/null &&
			bad "skopeo decrypted with a wrong key"
	done
	;;
ward-decrypts-skopeo)
	mkkeys
	if [ -d "$VEC" ]; then
		for v in rsa:rsa2048-priv.pem ecp256:ecp256-priv.pem; do
			rm -rf "$T/d"
			"$WARD" convert -q --decrypt --key "$VEC/${v#*:}" "$VEC/encrypted-${v%%:*}" -o "$T/d" ||
				{ bad "decrypt vector ${v%%:*}"; continue; }
			[ "$(layer_digests "$T/d" v1)" = "$(layer_digests "$VEC/plain" v1)" ] ||
				bad "vector ${v%%:*}: layer digests differ from plain"
		done
		rm -rf "$T/d"
		"$WARD" convert -q --decrypt --key "$VEC/rsa2048-priv.pem" "$VEC/encrypted-ecp256" -o "$T/d" 2>"$T/err" &&
			bad "decrypted the EC vector with the RSA key"
		grep -q "no suitable key" "$T/err" || bad "wrong-key message: $(cat "$T/err")"
		[ ! -e "$T/d" ] || bad "output left after a failed decrypt"
	else
		echo "note: $VEC missing, vector part skipped"
	fi
	# freshly made by skopeo, RSA and EC (P-256 and P-384)
	for k in rsa ec ec384; do
		rm -rf "$T/s" "$T/d"
		skopeo copy -q --encryption-key "jwe:$T/$k.pub" "oci:$IMAGES/redis-small/oci:latest" "oci:$T/s:latest" ||
			{ bad "skopeo encrypt ($k)"; continue; }
		"$WARD" convert -q --decrypt --key "$T/$k.pem" "$T/s" -o "$T/d" || { bad "ward decrypt skopeo ($k)"; continue; }
		[ "$(layer_digests "$T/d" latest)" = "$(layer_digests "$IMAGES/redis-small/oci" latest)" ] ||
			bad "skopeo ($k) -> ward: layer digests differ"
	done
	;;
formats)
	mkkeys
	for f in oci-archive docker-archive; do
		for m in wrapped ocicrypt; do
			o=$T/out-$m.$f.tar
			"$WARD" convert -q --mode $m --format $f --recipient "jwe:$T/rsa.pub" "$IMAGES/tiny/oci" -o "$o" ||
				{ bad "convert to $f ($m)"; continue; }
			skopeo inspect --raw "$f:$o" >/dev/null || bad "skopeo cannot read $f ($m)"
			rm -rf "$T/dec"
			"$WARD" convert -q --decrypt --key "$T/rsa.pem" "$o" -o "$T/dec" || bad "decrypt from $f ($m)"
			[ "$(layer_diffids "$T/dec:latest")" = "$(config_diffids "$IMAGES/tiny/oci" latest)" ] ||
				bad "$f ($m): decrypted layers differ"
		done
	done
	# wrapped output: umoci unpacks it; the rootfs is only /.ward
	rm -rf "$T/w" "$T/bundle"
	"$WARD" convert -q --recipient "jwe:$T/rsa.pub" "$IMAGES/redis-small/oci" -o "$T/w" || bad "wrapped"
	umoci unpack --image "$T/w:latest" "$T/bundle" >/dev/null 2>&1 || bad "umoci unpack wrapped"
	[ "$(ls -A "$T/bundle/rootfs")" = ".ward" ] || bad "wrapped rootfs holds more than .ward"
	[ -x "$T/bundle/rootfs/.ward/init" ] || bad "no executable /.ward/init"
	cmp -s "$T/bundle/rootfs/.ward/init" "$WARD_INIT" || bad "/.ward/init is not ward-init"
	jq -e '.process.args == ["/.ward/init"]' "$T/bundle/config.json" >/dev/null || bad "entrypoint not /.ward/init"
	jq -e '(.entrypoint|type) == "null" or (.entrypoint|type) == "array"' "$T/bundle/rootfs/.ward/config.json" >/dev/null &&
	jq -e '(.cmd[0] | endswith("redis-server")) and (.layers[0].keys_jwe|length>0) and (.layers[0]|has("symkey")|not)' \
		"$T/bundle/rootfs/.ward/config.json" >/dev/null || bad "ward config.json content"
	grep -q -i '"symkey"' -r "$T/w" && bad "a plaintext symkey reached the output"
	;;
reproducible)
	for m in wrapped ocicrypt; do
		for i in 1 2; do
			"$WARD" convert -q --mode $m --insecure-seed $SEED --source-date-epoch 1700000000 \
				--ward-init "$WARD_INIT" --export-keys "$T/k$m$i" "$IMAGES/tiny/docker-archive.tar" \
				-o "$T/r$m$i" 2>"$T/err$i" || bad "convert $m $i"
			grep -q "insecure" "$T/err$i" || bad "no warning for --insecure-seed"
		done
		diff -r "$T/r${m}1" "$T/r${m}2" >/dev/null || bad "$m output not byte-identical"
		cmp -s "$T/k${m}1" "$T/k${m}2" || bad "$m keys differ"
		[ "$(stat -c %a "$T/k${m}1")" = 600 ] || bad "exported keys not mode 0600"
	done
	;;
sign)
	mkkeys
	"$WARD" convert -q --mode ocicrypt --recipient "jwe:$T/rsa.pub" --sign "$T/ec.pem" \
		--reference-out "$T/ref.json" "$IMAGES/tiny/oci" -o "$T/s" || die "convert --sign"
	"$WARD" convert verify --key "$T/ec.pub" "$T/s" >"$T/out" || bad "ward convert verify"
	d=$(jq -r '.manifests[0].digest' "$T/s/index.json")
	grep -q "$d" "$T/out" || bad "verify does not print the digest"
	[ "$(jq -r .signature.message "$T/ref.json")" = "$d" ] || bad "reference signature message"
	# openssl alone: the signature is ECDSA-SHA256 (DER) over the ASCII digest
	jq -r '.manifests[0].annotations["dev.ward.image.signature"]' "$T/s/index.json" | base64 -d >"$T/sig.der"
	printf %s "$d" | openssl dgst -sha256 -verify "$T/ec.pub" -signature "$T/sig.der" >/dev/null ||
		bad "openssl does not verify the signature"
	"$WARD" convert verify --key "$T/ec384.pub" "$T/s" 2>/dev/null && bad "verified with the wrong key"
	# a modified manifest no longer verifies (the digest is recomputed)
	cp -r "$T/s" "$T/s2"
	mf=$T/s2/blobs/sha256/${d#sha256:}
	chmod u+w "$mf"; sed -i 's/"schemaVersion":2/"schemaVersion":2 /' "$mf"
	"$WARD" convert verify --key "$T/ec.pub" "$T/s2" 2>/dev/null && bad "verified a modified manifest"
	# RSA signer
	"$WARD" convert -q --mode ocicrypt --export-keys "$T/k" --sign "$T/rsa.pem" "$IMAGES/tiny/oci" -o "$T/s3" &&
		"$WARD" convert verify --key "$T/rsa.pub" "$T/s3" >/dev/null || bad "RSA signature"
	;;
hostile)
	mkkeys
	ls -A "$T" >"$T/.before"; echo .before >>"$T/.before"
	python3 - "$T" <<'PY' || die "building hostile images"
import gzip, hashlib, io, json, os, sys, tarfile
T = sys.argv[1]
def sha(b): return "sha256:" + hashlib.sha256(b).hexdigest()
def tarbytes(members, fmt=tarfile.GNU_FORMAT):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=fmt) as t:
        for m, data in members:
            t.addfile(m, io.BytesIO(data) if data else None)
    return b.getvalue()
def ti(name, type=tarfile.REGTYPE, link="", size=0):
    m = tarfile.TarInfo(name); m.type = type; m.linkname = link; m.size = size; return m
def layout(name, layer_tar, gz=True, mutate=None, config_raw=None, manifest_raw=None):
    d = os.path.join(T, name); os.makedirs(d + "/blobs/sha256")
    def put(b):
        open(d + "/blobs/sha256/" + sha(b)[7:], "wb").write(b); return sha(b)
    blob = gzip.compress(layer_tar, mtime=0) if gz else layer_tar
    if mutate == "truncate": blob = blob[: len(blob) // 2]
    cfg = config_raw or json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/x"]},
        "rootfs": {"type": "layers", "diff_ids": [sha(layer_tar)]}}).encode()
    cd = put(cfg); ld = put(blob)
    if mutate == "digest":  # same size, one content byte changed
        open(d + "/blobs/sha256/" + ld[7:], "wb").write(blob.replace(b"hi\n", b"hx\n"))
    man = manifest_raw or json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfg)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gz else ""), "digest": ld,
                    "size": len(blob)}]}).encode()
    if isinstance(man, str): man = man.replace("@CFG@", cd).replace("@LAYER@", ld).replace("@CFGSIZE@", str(len(cfg))).replace("@LSIZE@", str(len(blob))).encode()
    md = put(man)
    open(d + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
    json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": md, "size": len(man), "annotations": {"org.opencontainers.image.ref.name": "latest"}}]},
        open(d + "/index.json", "w"))
ok = tarbytes([(ti("etc/"), None), (ti("etc/motd", size=3), b"hi\n")])
layout("traversal", tarbytes([(ti("../../etc/evil", size=1), b"x")]))
layout("absolute", tarbytes([(ti("/etc/evil", size=1), b"x")]))
layout("symlink", tarbytes([(ti("a/link", tarfile.SYMTYPE, "../../../etc/shadow"), None)]))
layout("hardlink", tarbytes([(ti("h", tarfile.LNKTYPE, "../outside"), None)]))
layout("device", tarbytes([(ti("dev/sda", tarfile.BLKTYPE), None)]))
neg = bytearray(tarbytes([(ti("f", size=0), None)]))
neg[124:136] = b"\xff" * 12
s = sum(neg[:148]) + 8 * 32 + sum(neg[156:512]); neg[148:156] = b"%06o\0 " % s
layout("negsize", bytes(neg))
huge = bytearray(tarbytes([(ti("f", size=0), None)]))
huge[124:136] = b"\x80" + b"\0" * 3 + b"\x7f" + b"\xff" * 7
s = sum(huge[:148]) + 8 * 32 + sum(huge[156:512]); huge[148:156] = b"%06o\0 " % s
layout("hugesize", bytes(huge))
layout("truncgz", ok, mutate="truncate")
layout("digest", ok, gz=False, mutate="digest")
layout("diffid", ok, config_raw=json.dumps({"rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}).encode())
layout("wrongtype", ok, config_raw=json.dumps({"config": {"Cmd": "/bin/sh"}, "rootfs": {"type": "layers", "diff_ids": [sha(ok)]}}).encode())
layout("dupkey", ok, manifest_raw='{"schemaVersion":2,"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"@CFG@","size":@CFGSIZE@},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"@LAYER@","size":@LSIZE@}]}')
layout("good", ok)
# a docker-archive whose layer symlink points outside the archive
b = io.BytesIO()
with tarfile.open(fileobj=b, mode="w") as t:
    def add(name, data=None, type=tarfile.REGTYPE, link=""):
        m = ti(name, type, link, len(data or b"")); t.addfile(m, io.BytesIO(data) if data else None)
    cfg = json.dumps({"rootfs": {"type": "layers", "diff_ids": [sha(ok)]}}).encode()
    add("c.json", cfg)
    add("l/layer.tar", None, tarfile.SYMTYPE, "../../../etc/passwd")
    add("manifest.json", json.dumps([{"Config": "c.json", "RepoTags": ["x:latest"], "Layers": ["l/layer.tar"]}]).encode())
open(os.path.join(T, "dockerlink.tar"), "wb").write(b.getvalue())
PY
	: >"$T/err"
	ls -A "$T" >"$T/.before"; echo .before >>"$T/.before"
	"$WARD" convert -q --mode ocicrypt --recipient "jwe:$T/rsa.pub" "$T/good" -o "$T/out-good" || bad "good image refused"
	rm -rf "$T/out-good"
	while read -r name msg; do
		for m in ocicrypt wrapped; do
			"$WARD" convert -q --mode $m --recipient "jwe:$T/rsa.pub" --export-keys "$T/keys-$name" \
				"$T/$name" -o "$T/out-$name" 2>"$T/err"
			rc=$?
			[ $rc = 1 ] || bad "$name ($m): exit $rc, expected 1"
			grep -q -- "$msg" "$T/err" || bad "$name ($m): message lacks '$msg': $(cat "$T/err")"
			no_leftovers "$T"
		done
	done <<'LIST'
traversal escapes the root
absolute absolute path
symlink symlink 'a/link' -> '../../../etc/shadow' escapes
hardlink hard link
device device node
negsize negative
hugesize exceeds the limit
truncgz truncated
digest digest mismatch
diffid diff_id
wrongtype config.Cmd must be an array
dupkey duplicate
dockerlink.tar leaves the archive
LIST
	# archive outputs are streamed: a failure in a later layer leaves nothing either
	for f in oci-archive docker-archive; do
		"$WARD" convert -q --mode ocicrypt --format $f --recipient "jwe:$T/rsa.pub" "$T/truncgz" \
			-o "$T/out-arch" 2>"$T/err"
		[ $? = 1 ] || bad "truncgz to $f: expected exit 1"
		grep -q truncated "$T/err" || bad "truncgz to $f: $(cat "$T/err")"
		no_leftovers "$T"
	done
	;;
zstd)
	mkkeys
	# an OCI layout with a zstd layer (tiny's tar, recompressed with zstd)
	python3 - "$T" "$IMAGES/tiny/oci" <<'PY' || die "building the zstd image"
import gzip, hashlib, json, os, subprocess, sys
T, src = sys.argv[1], sys.argv[2]
idx = json.load(open(src + "/index.json"))
man = json.load(open(src + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
tar = gzip.decompress(open(src + "/blobs/sha256/" + man["layers"][0]["digest"][7:], "rb").read())
z = subprocess.run(["zstd", "-q", "-c", "-3"], input=tar, stdout=subprocess.PIPE, check=True).stdout
d = T + "/zimg"; os.makedirs(d + "/blobs/sha256")
def put(b):
    h = hashlib.sha256(b).hexdigest(); open(d + "/blobs/sha256/" + h, "wb").write(b); return "sha256:" + h
cfg = open(src + "/blobs/sha256/" + man["config"]["digest"][7:], "rb").read()
m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(cfg), "size": len(cfg)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd", "digest": put(z), "size": len(z)}]}).encode()
open(d + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": put(m), "size": len(m), "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}, open(d + "/index.json", "w"))
PY
	for m in ocicrypt wrapped; do
		rm -rf "$T/c" "$T/d"
		"$WARD" convert -q --mode $m --recipient "jwe:$T/ec.pub" "$T/zimg" -o "$T/c" || { bad "convert zstd ($m)"; continue; }
		if [ $m = ocicrypt ]; then
			jq -e '.layers[0].mediaType == "application/vnd.oci.image.layer.v1.tar+zstd+encrypted"' \
				"$T/c/blobs/sha256/$(jq -r '.manifests[0].digest[7:]' "$T/c/index.json")" >/dev/null ||
				bad "zstd layer media type"
		fi
		"$WARD" convert -q --decrypt --key "$T/ec.pem" "$T/c" -o "$T/d" || { bad "decrypt zstd ($m)"; continue; }
		[ "$(layer_digests "$T/d" latest)" = "$(layer_digests "$T/zimg" latest)" ] || bad "zstd ($m): layer differs"
	done
	# --compression zstd: uncompressed docker-save layers become tar+zstd
	# (several independent frames: redis-small's layer is > 4 MiB); skopeo
	# decrypts and reads them back, so does ward
	src=$IMAGES/redis-small/docker-archive.tar
	rm -rf "$T/orig"
	skopeo copy -q "docker-archive:$src" "oci:$T/orig:latest" || die "skopeo copy $src"
	want=$(config_diffids "$T/orig" latest)
	for m in ocicrypt wrapped; do
		rm -rf "$T/c" "$T/d"
		"$WARD" convert -q --mode $m --compression zstd --recipient "jwe:$T/rsa.pub" \
			--recipient "jwe:$T/ec.pub" --ward-init "$WARD_INIT" "$src" -o "$T/c" ||
			{ bad "convert --compression zstd ($m)"; continue; }
		"$WARD" convert -q --decrypt --key "$T/ec.pem" "$T/c" -o "$T/d" || { bad "decrypt zstd output ($m)"; continue; }
		jq -e '[.layers[].mediaType] | all(. == "application/vnd.oci.image.layer.v1.tar+zstd")' \
			"$T/d/blobs/sha256/$(jq -r '.manifests[0].digest[7:]' "$T/d/index.json")" >/dev/null ||
			bad "zstd output ($m): decrypted media types are not tar+zstd"
		[ "$(layer_diffids "$T/d:latest")" = "$want" ] || bad "zstd output ($m): ward-decrypted layers differ"
		big=$(ls -S "$T/d/blobs/sha256" | head -1)
		frames=$(python3 -c 'import sys
b = open(sys.argv[1], "rb").read(); print(b.count(bytes([0x28, 0xb5, 0x2f, 0xfd])))' "$T/d/blobs/sha256/$big")
		[ "$frames" -ge 2 ] || bad "zstd output ($m): expected several frames, found $frames magic numbers"
		[ $m = ocicrypt ] || continue
		jq -e '[.layers[].mediaType] | all(. == "application/vnd.oci.image.layer.v1.tar+zstd+encrypted")' \
			"$T/c/blobs/sha256/$(jq -r '.manifests[0].digest[7:]' "$T/c/index.json")" >/dev/null ||
			bad "zstd output: media types are not tar+zstd+encrypted"
		for k in rsa ec; do
			rm -rf "$T/s"
			skopeo copy -q --decryption-key "$T/$k.pem" "oci:$T/c:latest" "oci:$T/s:latest" ||
				{ bad "skopeo cannot decrypt ward's zstd output ($k)"; continue; }
			[ "$(layer_diffids "$T/s:latest")" = "$want" ] || bad "skopeo-decrypted zstd layers ($k) differ"
		done
	done
	# deterministic whatever the thread count; a level changes the bytes
	for th in 1 2; do
		"$WARD" convert -q --mode ocicrypt --compression zstd --threads $th --insecure-seed $SEED \
			--export-keys "$T/zk$th" "$src" -o "$T/z$th" 2>/dev/null || bad "convert zstd --threads $th"
	done
	diff -r "$T/z1" "$T/z2" >/dev/null || bad "zstd output differs between --threads 1 and 2"
	"$WARD" convert -q --mode ocicrypt --compression zstd --zstd-level 1 --insecure-seed $SEED \
		--export-keys "$T/zk3" "$src" -o "$T/z3" 2>/dev/null || bad "convert --zstd-level 1"
	diff -r "$T/z1" "$T/z3" >/dev/null && bad "--zstd-level 1 gave the same bytes as level 3"
	# compressed input layers are kept as they are: --compression does not recompress them
	rm -rf "$T/c" "$T/d"
	"$WARD" convert -q --mode ocicrypt --compression zstd --recipient "jwe:$T/ec.pub" "$IMAGES/tiny/oci" -o "$T/c" &&
		"$WARD" convert -q --decrypt --key "$T/ec.pem" "$T/c" -o "$T/d" || bad "zstd option on a gzip image"
	[ "$(layer_digests "$T/d" latest)" = "$(layer_digests "$IMAGES/tiny/oci" latest)" ] ||
		bad "a gzip input layer was not kept byte for byte"
	# usage errors
	for args in "--compression lz4" "--compression" "--zstd-level 0" "--zstd-level 20" "--zstd-level x"; do
		"$WARD" convert $args --recipient "jwe:$T/ec.pub" "$src" -o "$T/u" >/dev/null 2>"$T/err"
		[ $? = 2 ] || bad "ward convert $args: not exit 2"
		[ ! -e "$T/u" ] || bad "output left after a usage error"
	done
	"$WARD" convert --compression lz4 --recipient "jwe:$T/ec.pub" "$src" -o "$T/u" 2>"$T/err"
	grep -q "gzip or zstd" "$T/err" || bad "--compression message: $(cat "$T/err")"
	# a truncated zstd layer is refused
	zb=$(ls -S "$T/zimg/blobs/sha256" | head -1)
	head -c 1000 "$T/zimg/blobs/sha256/$zb" >"$T/short" && cp "$T/short" "$T/zimg/blobs/sha256/$zb"
	"$WARD" convert -q --mode ocicrypt --recipient "jwe:$T/ec.pub" "$T/zimg" -o "$T/c2" 2>"$T/err" && bad "truncated zstd accepted"
	[ ! -e "$T/c2" ] || bad "output left after a truncated zstd layer"
	;;
cli)
	mkkeys
	# silent on a pipe (no progress), summary on stdout
	"$WARD" convert --mode ocicrypt --recipient "jwe:$T/rsa.pub" "$IMAGES/tiny/oci" -o "$T/o" >"$T/out" 2>"$T/err" || bad "convert"
	[ -s "$T/err" ] && bad "stderr not silent on a pipe: $(cat "$T/err")"
	grep -q "^image digest:  sha256:" "$T/out" || bad "no summary"
	grep -q "^sim measurement: [0-9a-f]\{96\}$" "$T/out" || bad "no sim measurement"
	"$WARD" convert -v --mode ocicrypt --recipient "jwe:$T/rsa.pub" "$IMAGES/tiny/oci" -o "$T/o2" >/dev/null 2>"$T/err" || bad "convert -v"
	grep -q "layer 1/1" "$T/err" || bad "--verbose prints no layer line"
	# the measurement is SHA-384("ward-sim-v1:" + config digest)
	cd_=$(grep "^config digest:" "$T/out" | awk '{print $3}')
	want=$(printf 'ward-sim-v1:%s' "$cd_" | sha384sum | cut -d' ' -f1)
	grep -q "^sim measurement: $want$" "$T/out" || bad "sim measurement differs from SHA-384 recomputation"
	# usage errors
	for args in "" "--mode x $IMAGES/tiny/oci -o $T/u" "$IMAGES/tiny/oci" "$IMAGES/tiny/oci -o $T/u" \
		"--recipient rsa.pub $IMAGES/tiny/oci -o $T/u" "--decrypt $T/o -o $T/u"; do
		"$WARD" convert $args >/dev/null 2>&1
		[ $? = 2 ] || bad "usage error not exit 2: ward convert $args"
	done
	# existing output, missing input: exit 1, clear message
	"$WARD" convert --recipient "jwe:$T/rsa.pub" "$IMAGES/tiny/oci" -o "$T/o" 2>"$T/err"; [ $? = 1 ] || bad "existing output"
	grep -q "already exists" "$T/err" || bad "existing output message"
	"$WARD" convert --recipient "jwe:$T/rsa.pub" "$T/nope" -o "$T/o3" 2>"$T/err"; [ $? = 1 ] || bad "missing input"
	# plaintext keys never reach the disk without --export-keys
	grep -rq symkey "$T/o" && bad "symkey on disk"
	;;
*)
	die "unknown case"
	;;
esac
exit $fail
