#!/usr/bin/env bash
# Two builds of the responder side by side under the same HTTP load, with
# --trace-gc (docs/benchmarks.md "Off-heap response cache"): both started on
# the same pre-signed database and warmed up, then wrk on one and the other in
# turn. A build directory is a copy of `dist/` with a `node_modules` link beside
# it (e.g. `cp -r dist /tmp/before/ && ln -s $PWD/node_modules /tmp/before/`).
#
#   bench/ocsp/compare-builds.sh postgres:///ocsp_bench_1m /tmp/bench-1m /tmp/before /tmp/after [rounds=3] [seconds=30]
#
# Prints one JSON line per wrk run: wrk's figures, and the GC events of that
# run's window (scavenges, mark-compacts with their pause, incremental marking
# time and biggest marking step). Logs: <keys>/compare-<a|b>.log.
set -euo pipefail
cd "$(dirname "$0")/../.."
DB="$1"; KEYS="$2"; A="$3"; B="$4"; ROUNDS="${5:-3}"; SECS="${6:-30}"
NODE="$PWD/node_modules/.bin/node"
POST_LUA="$PWD/bench/ocsp/post.lua"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
declare -A DIR=([a]="$A" [b]="$B") PORT=([a]=3321 [b]=3322) PID

for side in a b; do
  (cd "${DIR[$side]}" && exec env DATABASE_URL="$DB" OCSP_PORT=${PORT[$side]} HOST=127.0.0.1 LOG_LEVEL=info NODE_ENV=production \
    PII_ENCRYPTION_KEY="$(head -c32 /dev/zero | base64)" PII_HMAC_KEY="$(head -c32 /dev/zero | tr '\0' '\1' | base64)" \
    SOFTWARE_KEY_PASSPHRASE=bench-ocsp-passphrase OCSP_CACHE_MAX_MB="${OCSP_CACHE_MAX_MB:-4096}" \
    "$NODE" --trace-gc --max-old-space-size=8192 dist/apps/ocsp-responder/src/main.js > "$KEYS/compare-$side.log" 2>&1) &
  PID[$side]=$!; PIDS+=($!)
  until curl -s "http://127.0.0.1:${PORT[$side]}/metrics" | grep -q '^ocsp_cache_warmed 1'; do sleep 1; kill -0 "${PID[$side]}"; done
  echo "# $side (${DIR[$side]}): $(grep -o 'OCSP cache warmed[^"]*' "$KEYS/compare-$side.log" | head -1), RSS $(( $(awk '/VmRSS/ {print $2}' /proc/${PID[$side]}/status) / 1024 )) MiB"
done

# GC events in lines from+1.. of a log, as JSON fields (V8's --trace-gc format).
gc_summary() {
  tail -n +$(($2 + 1)) "$1" | awk '
    / ms: (Scavenge|Minor Mark-Sweep) / {
      match($0, /MB, (pooled: [0-9.]+ MB, )?[0-9.]+ \//); s = substr($0, RSTART, RLENGTH); gsub(/MB, (pooled: [0-9.]+ MB, )?| \//, "", s); s += 0
      n++; sum += s; if (s > max) max = s }
    / ms: Mark-Compact / {
      match($0, /MB, (pooled: [0-9.]+ MB, )?[0-9.]+ \//); p = substr($0, RSTART, RLENGTH); gsub(/MB, (pooled: [0-9.]+ MB, )?| \//, "", p); p += 0
      m = 0; if (match($0, /\+ [0-9.]+ ms in/)) { m = substr($0, RSTART + 2, RLENGTH - 8) + 0 }
      b = 0; if (match($0, /biggest step [0-9.]+/)) { b = substr($0, RSTART + 13, RLENGTH - 13) + 0 }
      mc++; if (p > mcp) mcp = p; if (m > mcm) mcm = m; if (b > mcb) mcb = b
      heap = $0; sub(/.* -> /, "", heap); sub(/ .*/, "", heap) }
    / ms: Scavenge / { heap = $0; sub(/.* -> /, "", heap); sub(/ .*/, "", heap) }
    END { printf "\"scavenges\":%d,\"scavenge_ms_mean\":%.2f,\"scavenge_ms_max\":%.1f,\"mark_compacts\":%d,\"mark_compact_pause_ms_max\":%.1f,\"marking_ms_max\":%.1f,\"marking_step_ms_max\":%.1f,\"heap_mb_last\":%s",
      n, n ? sum / n : 0, max, mc, mcp, mcm, mcb, heap == "" ? 0 : heap }'
}

for round in $(seq 1 "$ROUNDS"); do
  for side in a b; do
    from=$(wc -l < "$KEYS/compare-$side.log")
    line=$(wrk -t1 -c64 -d"${SECS}s" -s "$POST_LUA" "http://127.0.0.1:${PORT[$side]}/ocsp" -- "$KEYS/requests.hex" | tail -1)
    echo "{\"build\":\"${DIR[$side]}\",\"round\":$round,\"wrk\":$line,$(gc_summary "$KEYS/compare-$side.log" "$from")}"
  done
done
for side in a b; do echo "# $side RSS at the end: $(( $(awk '/VmRSS/ {print $2}' /proc/${PID[$side]}/status) / 1024 )) MiB"; done
