#!/usr/bin/env bash
# HTTP ingest benchmark for `rlwatch serve` on loopback: batches of 100 steps with 64 rewards each.
#
# Usage: [REWARDS=64] scripts/bench_serve.sh [RLWATCH_BINARY] [DURATION_SECONDS] [CONNECTIONS]
# Needs `wrk` (apt-get install wrk) and a release build (swift build -c release --product rlwatch).
# Each wrk connection posts to its own run, so runs are judged in parallel as they would be with one
# training job per connection; within a run, the step numbers restart every batch (wrk sends a fixed
# body), which costs the detectors the same as increasing ones.
set -euo pipefail
BIN=${1:-.build/release/rlwatch}
DURATION=${2:-20}
CONNECTIONS=${3:-8}
WORK=$(mktemp -d /tmp/rlwatch-bench-serve.XXXXXX)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

REWARDS=${REWARDS:-64}
python3 - "$WORK/batch.json" "$REWARDS" <<'PY'
import json, random, sys
random.seed(0)
steps = []
for i in range(100):
    rewards = [round(random.random(), 4) for _ in range(int(sys.argv[2]))]
    steps.append({"step": i, "entropy": 1.2 - i * 1e-3, "kl": 0.01 + random.random() * 1e-3,
                  "loss": 0.3 + random.random() * 0.01, "grad_norm": 1.0 + random.random() * 0.1,
                  "learning_rate": 1e-6, "clip_ratio/region_mean": 0.01, "rewards": rewards})
open(sys.argv[1], "w").write(json.dumps(steps))
PY

"$BIN" serve --port 0 --log-dir "$WORK/logs" > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVER=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$WORK/serve.out")
for c in $(seq 1 "$CONNECTIONS"); do
  curl -s -o /dev/null -X POST "http://127.0.0.1:$PORT/api/v1/runs" -d "{\"run_id\": \"bench-$c\"}"
done

cat > "$WORK/post.lua" <<LUA
local body = io.open("$WORK/batch.json"):read("*a")
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("run", "bench-" .. counter) end
init = function() wrk.method = "POST"; wrk.body = body; wrk.headers["Content-Type"] = "application/json" end
request = function() return wrk.format(nil, "/api/v1/runs/" .. run .. "/steps") end
LUA
wrk -t "$CONNECTIONS" -c "$CONNECTIONS" -d "${DURATION}s" --latency -s "$WORK/post.lua" "http://127.0.0.1:$PORT" | tee "$WORK/wrk.txt"
RPS=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
echo "steps/s: $(python3 -c "print(round($RPS * 100))")"
echo "server RSS (MiB): $(awk '/VmHWM/ {print $2/1024}' /proc/$SERVER/status) peak"
curl -s "http://127.0.0.1:$PORT/metrics" | grep '^rlwatch_steps_ingested_total'
