"""A server that takes 2 s per request must not slow the training loop, nor lose steps at exit.

The slow server is a stdlib ``http.server`` on loopback that sleeps before answering, standing in
for an overloaded or distant ``rlwatch serve``; it speaks the same API and records what it stored.
"""

from __future__ import annotations

import json
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import support
import rlwatch_client as rlwatch


class SlowServer:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.steps: list = []
        self.requests = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(outer.delay)
                if self.path.endswith("/steps"):
                    steps = [json.loads(line)["step"] for line in body.splitlines() if line.strip()]
                    with outer._lock:
                        outer.steps.extend(steps)
                        outer.requests += 1
                    answer = {"accepted": len(steps), "alerts": []}
                else:
                    answer = {"run_id": "slow", "resumed": False, "last_step": None, "steps": 0}
                data = json.dumps(answer).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up waiting
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class SlowServerTests(support.TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.server = SlowServer(delay=2.0)
        self.addCleanup(self.server.close)

    def tearDown(self) -> None:
        rlwatch.stop()
        super().tearDown()

    def test_log_step_does_not_wait_for_the_server_and_stop_keeps_the_rest(self) -> None:
        monitor = rlwatch.attach(url=self.server.url, run_id="slow", spool_dir=self.dir)
        for step in range(600):
            rlwatch.log_step(step, entropy=2.0, loss=0.3)
        time.sleep(0.8)  # the sender is now inside a 2 s request

        start = time.perf_counter()
        for step in range(600, 10_600):
            rlwatch.log_step(step, entropy=2.0, loss=0.3, kl=0.01, reward_mean=0.5, grad_norm=1.0)
        elapsed = time.perf_counter() - start
        # A behaviour check (the loop is not blocked), not a benchmark: ~5 us/call is typical.
        self.assertLess(elapsed, 1.0, f"10 000 log_step calls took {elapsed:.2f} s with a slow server")

        start = time.perf_counter()
        rlwatch.stop(timeout=3.0)
        stopped_in = time.perf_counter() - start
        # stop() honours its timeout; the margin absorbs a loaded 2-core machine.
        self.assertLess(stopped_in, 3.0 + 5.0, f"stop(timeout=3) took {stopped_in:.1f} s")

        spooled = [row["step"] for row in support.read_jsonl(str(monitor.spool_path))] if monitor.spool_path.exists() else []
        time.sleep(2.5)  # let a request the client gave up on finish on the server side
        with self.server._lock:
            received = list(self.server.steps)
        self.assertEqual(set(received) | set(spooled), set(range(10_600)), "steps were lost")
        self.assertEqual(spooled, sorted(spooled), "the spool is out of order")
        self.assertGreater(len(spooled), 0)

    def test_flush_returns_after_its_timeout(self) -> None:
        rlwatch.attach(url=self.server.url, run_id="slow-flush", spool_dir=self.dir)
        rlwatch.log_step(0, entropy=2.0)
        start = time.perf_counter()
        delivered = rlwatch.flush(timeout=0.5)
        self.assertLess(time.perf_counter() - start, 1.5)
        self.assertFalse(delivered)
        self.assertTrue(rlwatch.flush(timeout=10))


if __name__ == "__main__":
    unittest.main()
