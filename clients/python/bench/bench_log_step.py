"""Microbenchmark: what one ``log_step`` call costs the training loop.

    python3 clients/python/bench/bench_log_step.py            # rlwatch_client
    /path/to/venv/bin/python bench_log_step.py --impl rlwatch051   # rlwatch 0.5.1 (pip install rlwatch==0.5.1)

Scenarios (a GRPO-like step: 10 float metrics; the same plus 64 per-sample rewards; numpy float32
values, which take the conversion path):

- ``enqueue``: the sender thread is idle during the timed loop (huge batch size and flush interval),
  so this is the pure cost of ``log_step`` itself (best of 3 runs of n calls).
- ``paced``: 1000 steps/s for 3 s with the default settings, the sender thread batching to a local
  sink server (a stdlib HTTP server in a subprocess answering ``{"accepted": n, "alerts": []}``);
  the loop busy-waits between steps, holding the GIL like a Python-heavy training loop. Each call is
  timed: mean, p99 and max show what sharing the GIL with the sender costs.

rlwatch 0.5.1 runs its detectors and a SQLite commit inside ``log_step``; it has one scenario.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

SINK = r"""
import json, sys
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        n = data.count(b"\n") if b"ndjson" in (self.headers.get("Content-Type") or "").encode() else 1
        body = json.dumps({"run_id": "bench", "resumed": False, "last_step": None, "steps": 0,
                           "accepted": n, "alerts": []}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
server = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def metrics(step: int) -> dict:
    x = step * 1e-4
    return dict(entropy=2.0 - x, kl=0.01 + x, reward_mean=0.5 + x, reward_std=0.3, advantage_std=1.0,
                loss=0.25 - x, grad_norm=1.1, learning_rate=1e-6, clip_fraction=0.02, response_length=412.0)


def time_calls(log_step, n: int, make):
    """Microseconds per call, best of 3 runs of n calls (payloads built before timing): wall-clock
    time, and the calling thread's CPU time, which a busy machine's scheduling does not inflate."""
    payloads = [make(i) for i in range(n)]
    best_wall = best_cpu = float("inf")
    step = 0
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.thread_time()
        for payload in payloads:
            log_step(step, **payload)
            step += 1
        best_cpu = min(best_cpu, (time.thread_time() - cpu) / n * 1e6)
        best_wall = min(best_wall, (time.perf_counter() - wall) / n * 1e6)
    return best_wall, best_cpu


def payload_makers():
    rewards = [float(i % 7) / 7 for i in range(64)]
    makers = [("10 floats", metrics), ("10 floats + 64 rewards", lambda i: dict(metrics(i), rewards=rewards))]
    try:
        import numpy as np

        makers.append(("10 numpy.float32", lambda i: {k: np.float32(v) for k, v in metrics(i).items()}))
    except ImportError:
        pass
    return makers


def time_paced(log_step, make, rate: float = 1000.0, seconds: float = 3.0):
    """Per-call durations (us) of ``log_step`` called ``rate`` times a second."""
    count = int(rate * seconds)
    payloads = [make(i) for i in range(count)]
    durations = []
    clock = time.perf_counter
    next_tick = clock()
    for step, payload in enumerate(payloads):
        while clock() < next_tick:
            pass
        start = clock()
        log_step(step, **payload)
        durations.append((clock() - start) * 1e6)
        next_tick += 1.0 / rate
    durations.sort()
    return sum(durations) / len(durations), durations[int(len(durations) * 0.99)], durations[-1]


def bench_client(n: int) -> None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import rlwatch_client as rlwatch

    sink = subprocess.Popen([sys.executable, "-c", SINK], stdout=subprocess.PIPE)
    url = f"http://127.0.0.1:{int(sink.stdout.readline())}"
    spool = tempfile.mkdtemp(prefix="rlwatch-bench-")
    idle = dict(batch_size=10**9, flush_interval=3600, max_queue=10**9)
    try:
        for label, make in payload_makers():
            monitor = rlwatch.attach(url=url, run_id="bench-enqueue", spool_dir=spool, print_alerts=False, **idle)
            wall, cpu = time_calls(monitor.log_step, n, make)
            monitor.stop(timeout=120)
            print(f"rlwatch_client  enqueue  {label:24s}  {wall:7.2f} us/call (thread CPU {cpu:.2f} us)")
        for label, make in payload_makers()[:2]:
            monitor = rlwatch.attach(url=url, run_id="bench-paced", spool_dir=spool, print_alerts=False)
            mean, p99, worst = time_paced(monitor.log_step, make)
            monitor.stop(timeout=60)
            print(f"rlwatch_client  paced    {label:24s}  {mean:7.2f} us/call mean, p99 {p99:.1f} us, max {worst:.0f} us")
    finally:
        sink.terminate()


def bench_051(n: int) -> None:
    import logging

    import rlwatch  # rlwatch 0.5.1

    logging.getLogger("rlwatch").setLevel(logging.ERROR)
    log_dir = tempfile.mkdtemp(prefix="rlwatch051-bench-")
    monitor = rlwatch.attach(framework="manual", run_id="bench", storage={"log_dir": log_dir})
    # 0.5.1 maps only canonical names in log_step (kl_divergence, not kl).
    def canonical(i):
        m = metrics(i)
        m["kl_divergence"] = m.pop("kl")
        return m

    import numpy as np

    rewards = np.array([float(i % 7) / 7 for i in range(64)])  # 0.5.1 calls rewards.tolist()
    for label, make in (("10 floats", canonical), ("10 floats + 64 rewards", lambda i: dict(canonical(i), rewards=rewards))):
        wall, cpu = time_calls(monitor.log_step, n, make)
        print(f"rlwatch 0.5.1   in-process {label:24s}  {wall:7.2f} us/call (thread CPU {cpu:.2f} us)")
    monitor.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", choices=("client", "rlwatch051"), default="client")
    parser.add_argument("-n", type=int, default=None, help="calls per timed run (default 100000; 2000 for 0.5.1)")
    args = parser.parse_args()
    print(json.dumps({"python": sys.version.split()[0], "platform": sys.platform}))
    if args.impl == "client":
        bench_client(args.n or 100_000)
    else:
        bench_051(args.n or 2_000)


if __name__ == "__main__":
    main()
