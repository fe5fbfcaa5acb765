#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Benchmark: complete KBS flows (auth + attest with sim SNP evidence +
# resource fetch, each over TLS 1.3 with keep-alive) per second against a
# real coordinator on loopback, with N concurrent clients.
#   [TOKEN_TTL=S] [VERIFIER=attest|builtin] [WARD_COORD_LOOPS=N] bench/coordinator/run.sh BUILD_DIR [CLIENTS] [FLOWS] [RESOURCE]
# Prints one JSON line per run (flows/s, p50/p99 ms, errors, server RSS
# before/after). The client runs on the same 2 cores and pays the sim
# TEE's report signing (ECDSA P-384), which real hardware does in the PSP.
set -eu
B=${1:?build dir, e.g. build/release}
CLIENTS=${2:-16}
FLOWS=${3:-5000}
RESOURCE=${4:-default/key/img}
WARD=$B/cmd/ward/ward
KBS=$B/bench/coordinator/ward-kbs-client
T=$(mktemp -d /tmp/ward-bench.XXXXXX)
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$T"' EXIT
export WARD_CONFIG_HOME=$T/cfg
CM=$(printf 'c%.0s' $(seq 96)); WM=$(printf 'a%.0s' $(seq 96))

"$WARD" sim init --state "$T/sim" >/dev/null 2>&1
"$WARD" sim ark --state "$T/sim" >"$T/ark.pem"
echo "{\"tees\":[\"sim\"],\"measurements\":{\"sim\":[\"$CM\"]},\"sim_ark\":\"ark.pem\"}" >"$T/ref.json"
cat >"$T/m.json" <<EOM
{"packages": {"web": {"tees": ["sim"], "measurements": {"sim": ["$WM"]}}},
 "secrets": {"img": {"type": "symmetric", "resource": "default/key/img", "packages": ["web"]},
             "pw": {"type": "password"}},
 "workloads": {"web": {"package": "web", "argv": ["/app", "{{ secret.pw }}"]}}}
EOM
"$WARD" --log-level error coordinator --state "$T/state" --listen 127.0.0.1:0 --sim-state "$T/sim" \
	--sim-measurement "$CM" --port-file "$T/port" ${TOKEN_TTL:+--token-ttl $TOKEN_TTL} ${VERIFIER:+--verifier $VERIFIER} 2>"$T/coord.log" &
PID=$!
for _ in $(seq 500); do [ -s "$T/port" ] && break; sleep 0.02; done
URL=https://127.0.0.1:$(cat "$T/port")
"$WARD" verify --coordinator "$URL" --reference "$T/ref.json" --pin-file "$T/pin.pem" >/dev/null 2>&1
"$WARD" manifest set "$T/m.json" --coordinator "$URL" --pin-file "$T/pin.pem" >/dev/null
# Warm-up, then the measured run.
"$KBS" --url "$URL" --pin "$T/pin.pem" --sim-state "$T/sim" --measurement "$WM" \
	--resource "$RESOURCE" --bench --clients 2 --flows 200 >/dev/null
"$KBS" --url "$URL" --pin "$T/pin.pem" --sim-state "$T/sim" --measurement "$WM" \
	--resource "$RESOURCE" --bench --clients "$CLIENTS" --flows "$FLOWS" --rss-pid "$PID"
echo "server cpu: $(awk '{printf "user %.2fs sys %.2fs", $14/100, $15/100}' /proc/$PID/stat)"
