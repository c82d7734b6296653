#!/usr/bin/env bash
# Alert storm: does a slow alert channel slow `rlwatch serve`'s ingest, and does the server's memory stay bounded?
#
# Usage: scripts/bench_alert_storm.sh [RLWATCH_BINARY] [DURATION_SECONDS] [CONNECTIONS]
# Needs `wrk` and a release build. Runs the same ingest benchmark twice: without any alert channel, then with
# RLWATCH_WEBHOOK_URL pointing at a receiver that answers each request after 2 s. Every batch of 100 steps
# raises 25 loss_nan alerts (every fourth loss is NaN; the detector re-arms after three finite losses) and
# cooldown and per-run cap are lifted, so every one is delivered and queued in the outbox. Prints steps/s, p99
# latency, the server's peak RSS (VmHWM), alerts stored and deliveries still pending for each.
set -euo pipefail
BIN=$(realpath "${1:-.build/release/rlwatch}")
DURATION=${2:-20}
CONNECTIONS=${3:-8}
WORK=$(mktemp -d /tmp/rlwatch-bench-storm.XXXXXX)
SERVER=""
RECEIVER=""
trap 'kill $SERVER $RECEIVER 2>/dev/null || true; rm -rf "$WORK"' EXIT

python3 - "$WORK/batch.json" <<'PY'
import json, random, sys
random.seed(0)
steps = []
for i in range(100):
    loss = "NaN" if i % 4 == 3 else 0.3 + random.random() * 0.01
    steps.append({"step": i, "entropy": 1.2 - i * 1e-3, "kl": 0.01 + random.random() * 1e-3,
                  "loss": loss, "grad_norm": 1.0 + random.random() * 0.1, "learning_rate": 1e-6})
open(sys.argv[1], "w").write(json.dumps(steps))
PY
cat > "$WORK/rlwatch.yaml" <<'YAML'
alerts:
  cooldown_steps: 0
  max_alerts_per_run: 100000000
  webhook: {timeout_seconds: 30}
YAML

# The slow receiver: every request answered 200 after 2 s (threaded, so the dispatcher's concurrent sends overlap).
python3 -c '
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(2)
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H); s.daemon_threads = True
open(sys.argv[1], "w").write(str(s.server_address[1])); s.serve_forever()
' "$WORK/receiver.port" &
RECEIVER=$!
for _ in $(seq 100); do [ -s "$WORK/receiver.port" ] && break; sleep 0.1; done
RECEIVER_PORT=$(cat "$WORK/receiver.port")

cat > "$WORK/post.lua" <<LUA
local body = io.open("$WORK/batch.json"):read("*a")
local counter = 0
setup = function(thread) counter = counter + 1; thread:set("run", "storm-" .. counter) end
init = function() wrk.method = "POST"; wrk.body = body; wrk.headers["Content-Type"] = "application/json" end
request = function() return wrk.format(nil, "/api/v1/runs/" .. run .. "/steps") end
LUA

# bench LABEL [ENV=VALUE...]: one serve process, one wrk run against it.
bench() {
  local label=$1; shift
  local dir="$WORK/$label"
  mkdir -p "$dir"
  cp "$WORK/rlwatch.yaml" "$dir/rlwatch.yaml"
  (cd "$dir" && exec env "$@" "$BIN" serve --port 0 --log-dir "$dir/logs" > "$dir/serve.out" 2> "$dir/serve.err") &
  SERVER=$!
  for _ in $(seq 100); do grep -q "listening on" "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
  local port
  port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$dir/serve.out")
  for c in $(seq 1 "$CONNECTIONS"); do
    curl -s -o /dev/null -X POST "http://127.0.0.1:$port/api/v1/runs" -d "{\"run_id\": \"storm-$c\"}"
  done
  wrk -t "$CONNECTIONS" -c "$CONNECTIONS" -d "${DURATION}s" --latency -s "$WORK/post.lua" "http://127.0.0.1:$port" \
    > "$dir/wrk.txt"
  local rps p99 hwm
  rps=$(awk '/Requests\/sec/ {print $2}' "$dir/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$dir/wrk.txt")
  hwm=$(awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$SERVER/status")
  kill -INT "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  SERVER=""
  python3 - "$dir/logs" "$label" "$rps" "$p99" "$hwm" <<'PY'
import glob, sqlite3, sys
logs, label, rps, p99, hwm = sys.argv[1:6]
db = sqlite3.connect(glob.glob(logs + "/*.db")[0])
tables = {r[0] for r in db.execute("select name from sqlite_master where type='table'")}
alerts = db.execute("select count(*) from alerts").fetchone()[0] if "alerts" in tables else "?"
outbox = [t for t in tables if "deliver" in t and "attempt" not in t]
status = dict(db.execute("select status, count(*) from %s group by status" % outbox[0]).fetchall()) if outbox else {}
print(f"{label:10s} steps/s {round(float(rps) * 100):>8}  p99 {p99:>9}  server peak RSS {hwm:>7} MiB  "
      f"alerts stored {alerts}  deliveries {status or 'none'}")
PY
}

bench no-channel
bench slow-webhook "RLWATCH_WEBHOOK_URL=http://127.0.0.1:$RECEIVER_PORT/hook"
