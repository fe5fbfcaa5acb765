#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The pipeline: ward convert (wrapped mode, the ward-init of this build),
# then ward run of the converted image (layout dir and oci-archive), with
# the layer keys from convert's --export-keys file (the INSECURE stand-in
# for the coordinator). A converted image needs keys: none -> refused.
source "$(dirname "$0")/test-run-lib.sh" "$1" "$2"
export WARD_CACHE_ROOT=$T/cache
openssl ecparam -name prime256v1 -genkey -noout -out "$T/k.pem" 2>/dev/null
openssl pkey -in "$T/k.pem" -pubout -out "$T/pub.pem"

check convert-tiny 0 "$WARD" convert -q --ward-init "$WARD_INIT" --recipient "jwe:$T/pub.pem" \
	--export-keys "$T/tiny-keys.json" "$IMAGES/tiny/oci" -o "$T/tiny-conv"
check run-converted 6 "$WARD" run -q --insecure-keys "$T/tiny-keys.json" "$T/tiny-conv" -- \
	sh -c 'echo converted-ok; cat /proc/1/cmdline; exit 6'
contains run-converted converted-ok
contains run-converted-init "/.ward/init"
contains run-converted-verified "verified and unpacked in memory"
check run-converted-no-keys 1 "$WARD" run -q "$T/tiny-conv" -- true
contains run-converted-no-keys "a converted image needs --coordinator URL"
echo '{"version":1,"layers":{}}' > "$T/empty-keys.json"
check run-converted-wrong-keys 125 "$WARD" run -q --insecure-keys "$T/empty-keys.json" "$T/tiny-conv" -- true
contains run-converted-wrong-keys "no key for layer"

check convert-archive 0 "$WARD" convert -q --ward-init "$WARD_INIT" --format oci-archive \
	--export-keys "$T/arch-keys.json" "$IMAGES/tiny/oci" -o "$T/tiny-conv.tar"
check run-archive 0 "$WARD" run -q --insecure-keys "$T/arch-keys.json" "$T/tiny-conv.tar" -- echo archive-ok
contains run-archive archive-ok

# --compression zstd: ward-init unpacks the tar+zstd layers convert wrote
# (docker save layers are uncompressed, so they are recompressed)
check convert-zstd 0 "$WARD" convert -q --ward-init "$WARD_INIT" --compression zstd \
	--export-keys "$T/zstd-keys.json" "$IMAGES/tiny/docker-archive.tar" -o "$T/tiny-zstd"
check run-zstd 0 "$WARD" run -q --insecure-keys "$T/zstd-keys.json" "$T/tiny-zstd" -- echo zstd-ok
contains run-zstd zstd-ok
grep -q 'tar+zstd"' "$T"/tiny-zstd/blobs/sha256/* 2>/dev/null || { echo "FAIL convert-zstd: no tar+zstd layer"; fail=1; }

if [ -d "$IMAGES/debian/oci" ]; then
	check convert-python 0 "$WARD" convert -q --ward-init "$WARD_INIT" --tag python \
		--export-keys "$T/py-keys.json" "$IMAGES/debian/oci" -o "$T/py-conv"
	check run-python 3 "$WARD" run -q --insecure-keys "$T/py-keys.json" -e SECRET=from-env "$T/py-conv" -- \
		python3 -c 'import os, sys; print("py", os.environ["SECRET"], sys.argv[1:]); sys.exit(3)' x
	contains run-python "py from-env \['x'\]"
fi
exit $fail
