#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Build every libFuzzer target (clang, ASan+UBSan) and run each for a short
# time on a scratch copy of its seed corpus. A crash fails the run; the
# crashing input is kept in build/fuzz/artifacts/ to become a regression seed.
set -euo pipefail
seconds=${1:-30}
cd "$(dirname "$0")/.."
cmake --preset fuzz >/dev/null
# Build output is shown only when the build fails.
if ! cmake --build --preset fuzz >build-fuzz.log 2>&1; then
	grep -E 'error|FAILED' build-fuzz.log | head -40
	echo "fuzz-smoke: the fuzz build failed (full log: build-fuzz.log)" >&2
	exit 1
fi
rm -f build-fuzz.log
art=build/fuzz/artifacts
mkdir -p "$art"
status=0
mapfile -t targets < <(find build/fuzz -maxdepth 4 -type f -name 'fuzz-*' -perm -u+x | sort)
if [ ${#targets[@]} -eq 0 ]; then
	echo "fuzz-smoke: no fuzz targets found" >&2
	exit 1
fi
for t in "${targets[@]}"; do
	name=$(basename "$t"); name=${name#fuzz-}
	work=$(mktemp -d)
	[ -d "tests/data/fuzz/$name" ] && cp -r "tests/data/fuzz/$name/." "$work/"
	echo "fuzz-smoke: $name for ${seconds}s"
	if ! "$t" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$art/$name-" "$work" >"$art/$name.log" 2>&1; then
		echo "fuzz-smoke: $name FAILED (see $art/$name.log)"; tail -40 "$art/$name.log"
		status=1
	else
		grep -E '^(#[0-9]+.*DONE|Done)' "$art/$name.log" | tail -1 || true
	fi
	rm -rf "$work"
done
exit $status
