#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CTest fixture: make sure the test images exist (built from Debian packages
# by shared/images/make-test-images.sh; idempotent, so cheap when present).
# Usage: test-convert-setup.sh SHARED_DIR
set -u
SHARED=$1
DIR=${WARD_TEST_IMAGES:-/var/tmp/ward-test-images}
need="tiny/oci tiny/docker-archive.tar tiny/oci-archive.tar redis-small/docker-archive.tar
      redis-small/oci debian/oci debian/nginx-docker-archive.tar"
have_all() { for n in $need; do [ -e "$DIR/$n" ] || return 1; done; }
if have_all; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
	echo "test images missing in $DIR and not root: cannot build them" >&2
	exit 1
fi
mkdir -p "$DIR"
# another builder may hold the lock: wait for it, then run (idempotent)
flock "$DIR/.lock" true
bash "$SHARED/images/make-test-images.sh" "$DIR" || exit 1
have_all
