#!/usr/bin/env bash
# OCSP benchmark (docs/benchmarks.md "OCSP"): our responder, a static Fastify
# server (the bound), cfssl ocspserve (pre-signed, from a file) and openssl ocsp
# (live signing), side by side on the same data, over loopback.
#
#   npm run build
#   DATABASE_URL=postgres://.../ocsp_bench_1m node dist/bench/ocsp/seed.js --count 1000000 --keys /tmp/bench-1m
#   bench/ocsp/run.sh postgres://.../ocsp_bench_1m /tmp/bench-1m 1000000 [rounds=3] [seconds=15] [peers=cfssl,openssl]
#
# Prints one JSON line per measurement (also appended to <keys>/results.jsonl
# and written to <keys>/run-<time>.jsonl), then this run's medians
# (bench/ocsp/summarize.ts): per server, and ours / bound and ours / cfssl
# taken round by round.
# wrk: 1 thread, 64 connections, keep-alive, POST with a random pre-built
# request per call (bench/ocsp/post.lua), after one unrecorded warm-up run per
# server (WARM_UP_SECONDS, 3); openssl ocsp: ab -n, a fresh server
# per round (it wedges when wrk opens and closes a connection without a request).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/node_modules/.bin:$PATH"

DB="$1"; KEYS="$2"; COUNT="$3"; ROUNDS="${4:-3}"; SECONDS_PER_RUN="${5:-15}"; PEERS="${6:-cfssl,openssl}"
OURS_PORT=3301; STATIC_PORT=3302; CFSSL_PORT=3303; OPENSSL_PORT=3304
RESULTS="$KEYS/results.jsonl"
RUN="$KEYS/run-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

record() { echo "{\"certificates\":$COUNT,\"server\":\"$1\",\"round\":$2,\"result\":$3}" | tee -a "$RESULTS" "$RUN"; }

# Requests: 100,000 random serials of the data set, SHA-1 CertIDs, no nonce.
node dist/bench/ocsp/make-requests.js "$KEYS/dev-issuing-ca.crt.pem" "$KEYS/serials-$COUNT.txt" "$KEYS/requests.hex" 100000
head -1 "$KEYS/requests.hex" | xxd -r -p > "$KEYS/one-request.der"

# Our responder, warmed up (the whole data set in its cache).
env GLIBC_TUNABLES=glibc.malloc.hugetlb=1 DATABASE_URL="$DB" OCSP_PORT=$OURS_PORT HOST=127.0.0.1 LOG_LEVEL=info NODE_ENV=production \
  PII_ENCRYPTION_KEY="$(head -c32 /dev/zero | base64)" PII_HMAC_KEY="$(head -c32 /dev/zero | tr '\0' '\1' | base64)" \
  SOFTWARE_KEY_PASSPHRASE=bench-ocsp-passphrase OCSP_CACHE_MAX_MB="${OCSP_CACHE_MAX_MB:-5120}" \
  node --max-old-space-size=8192 dist/apps/ocsp-responder/src/main.js > "$KEYS/responder.log" 2>&1 &
PIDS+=($!); OURS_PID=$!
until curl -s "http://127.0.0.1:$OURS_PORT/metrics" | grep -q '^ocsp_cache_warmed 1'; do sleep 1; kill -0 $OURS_PID; done
grep 'OCSP cache warmed' "$KEYS/responder.log" | sed 's/.*"msg":"\([^"]*\)".*/# \1/'
echo "# responder RSS after warm-up: $(( $(awk '/VmRSS/ {print $2}' /proc/$OURS_PID/status) / 1024 )) MiB"

# The static bound: one real response, always the same.
curl -s -X POST -H 'content-type: application/ocsp-request' --data-binary @"$KEYS/one-request.der" \
  "http://127.0.0.1:$OURS_PORT/ocsp" -o "$KEYS/one-response.der"
GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node dist/bench/ocsp/static-server.js $STATIC_PORT "$KEYS/one-response.der" > /dev/null 2>&1 &
PIDS+=($!); STATIC_PID=$!
until curl -s -o /dev/null -X POST -H 'content-type: application/ocsp-request' --data-binary @"$KEYS/one-request.der" "http://127.0.0.1:$STATIC_PORT/ocsp"; do sleep 0.5; done

# cfssl ocspserve: our stored responses, exported as base64 DER lines; one core (GOMAXPROCS=1) like ours.
if [[ "$PEERS" == *cfssl* ]]; then
  psql "$DB" -Atc "SELECT translate(encode(der, 'base64'), E'\n', '') FROM ocsp_response" > "$KEYS/cfssl-responses.txt"
  started=$(date +%s)
  GOMAXPROCS=1 cfssl ocspserve -port $CFSSL_PORT -responses "$KEYS/cfssl-responses.txt" -loglevel 4 > "$KEYS/cfssl.log" 2>&1 &
  PIDS+=($!); CFSSL_PID=$!
  until curl -s -o /dev/null -X POST -H 'content-type: application/ocsp-request' --data-binary @"$KEYS/one-request.der" "http://127.0.0.1:$CFSSL_PORT/"; do
    sleep 2; kill -0 $CFSSL_PID
  done
  echo "# cfssl start-up: $(( $(date +%s) - started )) s, RSS $(( $(awk '/VmRSS/ {print $2}' /proc/$CFSSL_PID/status) / 1024 )) MiB"
fi

# wrk's JSON line, plus the server's CPU time per request (user + system, from /proc/<pid>/stat):
# on a shared machine the throughput moves with other processes' load, CPU per request much less.
TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run_wrk() {
  local before after line requests
  before=$(cpu_ticks "$2")
  line=$(wrk -t1 -c64 -d"${SECONDS_PER_RUN}s" -s bench/ocsp/post.lua "$1" -- "$KEYS/requests.hex" | tail -1)
  after=$(cpu_ticks "$2")
  requests=$(echo "$line" | sed 's/.*"requests":\([0-9]*\).*/\1/')
  echo "${line%\}},\"cpu_us_per_request\":$(awk -v t=$((after - before)) -v hz="$TICK" -v n="$requests" 'BEGIN { printf "%.1f", n ? t * 1e6 / hz / n : 0 }')}"
}

# Warm-up: one unrecorded wrk run per server, so that the first recorded round
# does not include the JIT compiling the request path (it gave p99 over 10 ms
# to the static bound as well as to ours in round 1).
WARM_UP_SECONDS="${WARM_UP_SECONDS:-3}"
warm_up() { wrk -t1 -c64 -d"${WARM_UP_SECONDS}s" -s bench/ocsp/post.lua "$1" -- "$KEYS/requests.hex" > /dev/null; }
warm_up "http://127.0.0.1:$STATIC_PORT/ocsp"
warm_up "http://127.0.0.1:$OURS_PORT/ocsp"
if [[ "$PEERS" == *cfssl* ]]; then warm_up "http://127.0.0.1:$CFSSL_PORT/"; fi

for round in $(seq 1 "$ROUNDS"); do
  # Static and ours back to back, in alternating order (whatever the second run of a pair inherits cancels out).
  if (( round % 2 == 1 )); then
    record static "$round" "$(run_wrk "http://127.0.0.1:$STATIC_PORT/ocsp" $STATIC_PID)"
    record ours "$round" "$(run_wrk "http://127.0.0.1:$OURS_PORT/ocsp" $OURS_PID)"
  else
    record ours "$round" "$(run_wrk "http://127.0.0.1:$OURS_PORT/ocsp" $OURS_PID)"
    record static "$round" "$(run_wrk "http://127.0.0.1:$STATIC_PORT/ocsp" $STATIC_PID)"
  fi
  if [[ "$PEERS" == *cfssl* ]]; then record cfssl "$round" "$(run_wrk "http://127.0.0.1:$CFSSL_PORT/" $CFSSL_PID)"; fi
  if [[ "$PEERS" == *openssl* ]]; then
    # openssl ocsp: live signing with the same delegated responder key, from an index of the same certificates.
    if [ ! -f "$KEYS/index-$COUNT.txt" ]; then
      psql "$DB" -Atc "SELECT CASE WHEN status = 'valid' THEN 'V' ELSE 'R' END || E'\t' || to_char(not_after AT TIME ZONE 'UTC', 'YYMMDDHH24MISS') || 'Z' || E'\t' ||
                        CASE WHEN status = 'valid' THEN '' ELSE to_char(revoked_at AT TIME ZONE 'UTC', 'YYMMDDHH24MISS') || 'Z' || CASE WHEN revocation_reason = 6 THEN ',certificateHold' ELSE ',keyCompromise' END END ||
                        E'\t' || upper(encode(serial, 'hex')) || E'\tunknown\t/CN=bench' FROM certificate WHERE der = '\x3000'::bytea" > "$KEYS/index-$COUNT.txt"
      psql "$DB" -Atc "SELECT encode(certificate_der, 'base64') FROM ocsp_signer WHERE active" | fold -w64 | { echo '-----BEGIN CERTIFICATE-----'; cat; echo '-----END CERTIFICATE-----'; } > "$KEYS/ocsp-signer.pem"
      echo 'unique_subject = no' > "$KEYS/index-$COUNT.txt.attr"
      ls "$KEYS"/dev-ocsp-signer-*.key.pem | head -1 | xargs -I{} cp {} "$KEYS/ocsp-signer.key.pem"
    fi
    openssl ocsp -index "$KEYS/index-$COUNT.txt" -port $OPENSSL_PORT -rsigner "$KEYS/ocsp-signer.pem" -rkey "$KEYS/ocsp-signer.key.pem" \
      -passin pass:bench-ocsp-passphrase -CA "$KEYS/dev-issuing-ca.crt.pem" -nmin 60 > "$KEYS/openssl.log" 2>&1 &
    OPENSSL_PID=$!
    until grep -q -i 'waiting' "$KEYS/openssl.log" 2>/dev/null || [ -n "$(ss -ltn "sport = :$OPENSSL_PORT" | tail -n +2)" ]; do sleep 1; kill -0 $OPENSSL_PID; done
    out=$(ab -q -n 5000 -c 64 -p "$KEYS/one-request.der" -T application/ocsp-request "http://127.0.0.1:$OPENSSL_PORT/" 2>&1)
    rps=$(echo "$out" | awk '/Requests per second/ {print $4}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}'); p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    failed=$(echo "$out" | awk '/Failed requests/ {print $3}')
    record openssl "$round" "{\"rps\":${rps:-0},\"p50_ms\":${p50:-0},\"p99_ms\":${p99:-0},\"failed\":${failed:-0},\"tool\":\"ab -n 5000 -c 64\"}"
    kill $OPENSSL_PID 2>/dev/null || true; wait $OPENSSL_PID 2>/dev/null || true
  fi
done
echo "# responder RSS at the end: $(( $(awk '/VmRSS/ {print $2}' /proc/$OURS_PID/status) / 1024 )) MiB"
curl -s "http://127.0.0.1:$OURS_PORT/metrics" | grep -E '^ocsp_(requests_total|cache_hits|cache_misses|live_signatures_total|database_lookups)' | sed 's/^/# /'
echo "# medians: $(node dist/bench/ocsp/summarize.js "$RUN")"
