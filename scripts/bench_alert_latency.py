"""Alert latency: how long from the POST of a step that raises a critical until a webhook receives it.

Usage: python3 scripts/bench_alert_latency.py [RLWATCH_BINARY] [ALERTS]
(default .build/release/rlwatch, 200 alerts; build with `swift build -c release --product rlwatch`).

Starts `rlwatch serve` on an SQLite database in a temporary folder with a webhook channel pointing at a receiver
on 127.0.0.1, opens one run per alert, sends 5 healthy steps and then, timed, one step with a NaN loss (a
`loss_nan` critical). The latency is from just before that POST until the receiver has read the webhook's body.
Prints p50, p90, p99 and max in milliseconds. Target (issue 20): p99 <= 50 ms.
"""
import http.client
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/release/rlwatch")
count = int(sys.argv[2]) if len(sys.argv) > 2 else 200

arrivals = {}
arrived = threading.Condition()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        now = time.perf_counter()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        run = json.loads(body).get("run_id")
        with arrived:
            arrivals.setdefault(run, now)
            arrived.notify_all()

    def log_message(self, *args):
        pass


receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
receiver.daemon_threads = True
threading.Thread(target=receiver.serve_forever, daemon=True).start()

with tempfile.TemporaryDirectory() as work:
    with open(os.path.join(work, "rlwatch.yaml"), "w") as f:
        f.write("alerts:\n  cooldown_steps: 0\n  max_alerts_per_run: 1000000\n"
                f"  webhook: {{url: 'http://127.0.0.1:{receiver.server_address[1]}/hook'}}\n")
    server = subprocess.Popen([binary, "serve", "--port", "0", "--log-dir", os.path.join(work, "logs")],
                              cwd=work, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        port = int(line.rstrip().rsplit(":", 1)[1])
        connection = http.client.HTTPConnection("127.0.0.1", port)

        def post(path, payload):
            connection.request("POST", path, body=json.dumps(payload), headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            assert response.status in (200, 201), (path, response.status)

        latencies = []
        for index in range(count):
            run = f"latency-{index}"
            post("/api/v1/runs", {"run_id": run})
            post(f"/api/v1/runs/{run}/steps", [{"step": s, "loss": 0.5, "entropy": 1.0} for s in range(5)])
            started = time.perf_counter()
            post(f"/api/v1/runs/{run}/steps", [{"step": 5, "loss": "NaN", "entropy": 1.0}])
            with arrived:
                if not arrived.wait_for(lambda: run in arrivals, timeout=10):
                    sys.exit(f"no webhook for {run} within 10 s")
                latencies.append((arrivals[run] - started) * 1000)
        latencies.sort()

        def percentile(p):
            return latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))]

        print(f"alert latency over {count} loss_nan criticals (POST -> webhook body received): "
              f"p50 {percentile(50):.1f} ms, p90 {percentile(90):.1f} ms, p99 {percentile(99):.1f} ms, "
              f"max {latencies[-1]:.1f} ms")
    finally:
        server.terminate()
        server.wait(timeout=30)
