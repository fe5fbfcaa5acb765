#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run/trace-start.sh: where the start path of `ward run` goes.
# Runs `ward run ... IMAGE -- true` with WARD_TRACE=1 and prints each trace
# line of `ward run`, the embedded coordinator and ward-init as milliseconds
# since the first one, with the step's own duration.
#
#   bench/run/trace-start.sh [WARD] [IMAGE] [WARD-RUN-OPTIONS...]
# e.g. trace-start.sh build/release/cmd/ward/ward /var/tmp/ward-test-images/tiny/oci --network host
set -euo pipefail
WARD=${1:-build/release/cmd/ward/ward}
IMAGE=${2:-${WARD_TEST_IMAGES:-/var/tmp/ward-test-images}/tiny/oci}
shift 2 || shift $#
T=$(mktemp -d /tmp/ward-trace.XXXXXX)
trap 'rm -rf "$T"' EXIT
export WARD_STATE_ROOT=$T/state WARD_TRACE=1
start=$(date +%s.%6N)
WARD_TRACE=1 "$WARD" run -q "$@" "$IMAGE" -- true 2>&1 >/dev/null | grep '^ward-trace ' |
	awk -v s="$start" '{t = $2; $1 = ""; $2 = ""; printf "%8.1f ms  (+%6.1f)  %s\n", (t - s) * 1000, (p ? (t - p) * 1000 : (t - s) * 1000), substr($0, 3); p = t}'
end=$(date +%s.%6N)
awk -v s="$start" -v e="$end" 'BEGIN {printf "%8.1f ms  total (until ward run exited)\n", (e - s) * 1000}'
