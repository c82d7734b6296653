#!/usr/bin/env bash
# PostgreSQL store benchmarks, with SQLite's figures beside them:
#   1. batched ingest into the store (`rlwatch db bench`: appends of 1000 steps, 64 rewards each, 4 runs in parallel);
#   2. HTTP ingest through `rlwatch serve` (wrk, batches of 100 steps, as scripts/bench_serve.sh);
#   3. 100 concurrent runs at 10 steps/s each: ingest latency p50/p99 and server RSS (scripts/bench_pg_runs.py).
#
# Usage: PG=postgres://postgres@127.0.0.1:55432/postgres scripts/bench_pg.sh [RLWATCH_BINARY] [WRK_SECONDS]
# Needs a release build (swift build -c release --product rlwatch), `wrk`, `psql`, python3 and a PostgreSQL server
# (PG is the URL of any database on it: a scratch database is created and dropped).
set -euo pipefail
BIN=${1:-.build/release/rlwatch}
DURATION=${2:-15}
PG=${PG:-${RLWATCH_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:55432/postgres}}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/rlwatch-bench-pg.XXXXXX)
DB=rlwatch_bench_$$
BASE=${PG%/*}
SERVER=
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  psql "$PG" -q -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fresh_pg() {
  psql "$PG" -q -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
  "$BIN" db migrate --database "$BASE/$DB" >/dev/null
}
start_serve() {  # start_serve STORE-ARGS...
  "$BIN" serve --port 0 "$@" > "$WORK/serve.out" 2> "$WORK/serve.err" &
  SERVER=$!
  for _ in $(seq 200); do grep -q "listening on" "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
  PORT=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$WORK/serve.out")
}
stop_serve() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=; }

echo "== 1. store ingest (rlwatch db bench: 200k steps, 1000-step appends, 4 runs in parallel, 64 rewards)"
fresh_pg
echo -n "postgresql: "; "$BIN" db bench --database "$BASE/$DB" --steps 200000 --batch 1000 --runs 4
echo -n "sqlite:     "; "$BIN" db bench --database "sqlite:$WORK/bench.db" --steps 200000 --batch 1000 --runs 4

python3 - "$WORK/batch.json" <<'PY'
import json, random, sys
random.seed(0)
steps = [{"step": i, "entropy": 1.2 - i * 1e-3, "kl": 0.01 + random.random() * 1e-3, "loss": 0.3 + random.random() * 0.01,
          "grad_norm": 1.0 + random.random() * 0.1, "learning_rate": 1e-6, "clip_ratio/region_mean": 0.01,
          "rewards": [round(random.random(), 4) for _ in range(64)]} for i in range(100)]
open(sys.argv[1], "w").write(json.dumps(steps))
PY
cat > "$WORK/post.lua" <<LUA
local body = io.open("$WORK/batch.json"):read("*a")
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("run", "bench-" .. counter) end
init = function() wrk.method = "POST"; wrk.body = body; wrk.headers["Content-Type"] = "application/json" end
request = function() return wrk.format(nil, "/api/v1/runs/" .. run .. "/steps") end
LUA
http_bench() {  # http_bench LABEL STORE-ARGS...
  local label=$1; shift
  start_serve "$@"
  for c in $(seq 1 8); do curl -s -o /dev/null -X POST "http://127.0.0.1:$PORT/api/v1/runs" -d "{\"run_id\": \"bench-$c\"}"; done
  wrk -t 8 -c 8 -d "${DURATION}s" --latency -s "$WORK/post.lua" "http://127.0.0.1:$PORT" > "$WORK/wrk.txt"
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
  echo "$label: $(python3 -c "print(round($rps * 100))") steps/s  (batch p99 $p99, peak RSS $(awk '/VmHWM/ {print int($2/1024)}' /proc/$SERVER/status) MiB)"
  stop_serve
}
echo "== 2. HTTP ingest through serve (wrk, 8 connections/runs, 100-step batches, ${DURATION}s)"
fresh_pg
http_bench "postgresql" --database "$BASE/$DB"
http_bench "sqlite    " --log-dir "$WORK/http-logs"

# The Python client flushes every 0.5 s, so 10 steps/s arrive as 5-step batches (200 requests/s); one step per
# request (1000 requests/s) is the worst case of a client that does not batch.
echo "== 3. 100 runs x 10 steps/s, 30 s each: 5 steps per request (the client's 0.5 s flush), then 1"
fresh_pg
for target in "postgresql|--database $BASE/$DB" "postgresql, synchronous_commit=off|--database $BASE/$DB?synchronous_commit=off" \
              "sqlite|--log-dir $WORK/runs-logs"; do
  start_serve ${target#*|}
  for per in 5 1; do
    echo "${target%%|*}, $per step(s) per request:"; python3 "$HERE/bench_pg_runs.py" "$PORT" "$SERVER" 100 10 30 "$per"
  done
  stop_serve
done
