#!/usr/bin/env bash
# Two builds of the responder, alternating wrk rounds, with the CPU time each
# spends per answer (docs/benchmarks.md "Session 5"). Each build is started as
# run.sh starts ours and warmed up while /metrics is polled once a second (as
# a readiness probe does). A build directory is a copy of `dist/` with a
# `node_modules` link beside it, as for compare-builds.sh.
#
#   bench/ocsp/ab-rounds.sh postgres:///ocsp_bench_1m /tmp/bench-1m /tmp/before /tmp/after [rounds=5] [seconds=10]
#
# Prints one line per round and build: req/s, p99 and CPU µs per request
# (user + system from /proc/<pid>/stat).
#
# A_NODE_FLAGS / B_NODE_FLAGS: extra node flags for one side only (the same
# build twice with different V8 settings, e.g. B_NODE_FLAGS=--max-semi-space-size=64).
set -euo pipefail
cd "$(dirname "$0")/../.."
DB="$1"; KEYS="$2"; A="$3"; B="$4"; ROUNDS="${5:-5}"; SECS="${6:-10}"
NODE="$PWD/node_modules/.bin/node"
POST_LUA="$PWD/bench/ocsp/post.lua"
TICK=$(getconf CLK_TCK)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
declare -A DIR=([a]="$A" [b]="$B") PORT=([a]=3331 [b]=3332) FLAGS=([a]="${A_NODE_FLAGS:-}" [b]="${B_NODE_FLAGS:-}") PID

for side in a b; do
  (cd "${DIR[$side]}" && exec env GLIBC_TUNABLES=glibc.malloc.hugetlb=1 DATABASE_URL="$DB" OCSP_PORT=${PORT[$side]} HOST=127.0.0.1 \
    LOG_LEVEL=info NODE_ENV=production PII_ENCRYPTION_KEY="$(head -c32 /dev/zero | base64)" \
    PII_HMAC_KEY="$(head -c32 /dev/zero | tr '\0' '\1' | base64)" SOFTWARE_KEY_PASSPHRASE=bench-ocsp-passphrase \
    OCSP_CACHE_MAX_MB="${OCSP_CACHE_MAX_MB:-5120}" "$NODE" --max-old-space-size=8192 ${FLAGS[$side]} dist/apps/ocsp-responder/src/main.js > "$KEYS/ab-$side.log" 2>&1) &
  PID[$side]=$!; PIDS+=($!)
  until curl -s "http://127.0.0.1:${PORT[$side]}/metrics" | grep -q '^ocsp_cache_warmed 1'; do sleep 1; kill -0 "${PID[$side]}"; done
done

for round in $(seq 1 "$ROUNDS"); do
  for side in a b; do
    before=$(awk '{print $14 + $15}' "/proc/${PID[$side]}/stat")
    line=$(wrk -t1 -c64 -d"${SECS}s" -s "$POST_LUA" "http://127.0.0.1:${PORT[$side]}/ocsp" -- "$KEYS/requests.hex" | tail -1)
    after=$(awk '{print $14 + $15}' "/proc/${PID[$side]}/stat")
    requests=$(echo "$line" | sed 's/.*"requests":\([0-9]*\).*/\1/')
    rps=$(echo "$line" | sed 's/.*"rps":\([0-9.]*\).*/\1/')
    p99=$(echo "$line" | sed 's/.*"p99_ms":\([0-9.]*\).*/\1/')
    cpu=$(awk -v t=$((after - before)) -v hz="$TICK" -v n="$requests" 'BEGIN { printf "%.1f", n ? t * 1e6 / hz / n : 0 }')
    echo "{\"build\":\"${DIR[$side]}${FLAGS[$side]:+ ${FLAGS[$side]}}\",\"round\":$round,\"rps\":$rps,\"p99_ms\":$p99,\"cpu_us_per_request\":$cpu}"
  done
done
