"""Stalled, crashed and slowed-down training processes against a real ``rlwatch serve`` (issue: liveness).

Each test runs a real Python training loop with the client in a subprocess; the server is configured with
short stall and throughput times so the tests take seconds.
"""

from __future__ import annotations

import os
import textwrap
import time
from typing import Any, Dict, List

import support

CONFIG = """\
stall:
  after_seconds: 2
  critical_after_seconds: 4
  check_interval_seconds: 0.2
throughput:
  window_seconds: 1
  sustained_seconds: 1.5
  warmup_seconds: 3
"""

PRELUDE = """\
import os, sys, time
import rlwatch_client as rlwatch
rlwatch.attach(url=os.environ["RLWATCH_TEST_URL"], run_id=os.environ["RLWATCH_TEST_RUN"], flush_interval=0.1,
               print_alerts=False)
"""


class LivenessTests(support.TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        config = os.path.join(self.dir, "rlwatch.yaml")
        with open(config, "w") as writer:
            writer.write(CONFIG)
        self.server = support.Server(self.dir, extra_args=["--config", config]).start()

    def tearDown(self) -> None:
        self.server.stop()
        super().tearDown()

    def alerts(self, run_id: str) -> List[Dict[str, Any]]:
        try:
            return self.server.get(f"/api/v1/runs/{run_id}/alerts?status=all")["alerts"]
        except Exception:
            return []

    def kinds(self, run_id: str) -> List[tuple]:
        return [(a["detector"], a["severity"], a["status"]) for a in self.alerts(run_id)
                if a["detector"] in ("run_stalled", "run_crashed", "throughput_drop")]

    def client(self, run_id: str, body: str):
        code = PRELUDE + textwrap.dedent(body)
        return support.start_client(code, cwd=self.dir, env={"RLWATCH_TEST_URL": self.server.url,
                                                            "RLWATCH_TEST_RUN": run_id})

    def test_a_loop_that_stops_logging_is_stalled_then_critical_then_resumed(self) -> None:
        resume = os.path.join(self.dir, "resume")
        process = self.client("stall", f"""
            for step in range(1, 21):
                rlwatch.log_step(step, entropy=1.5, kl=0.01, loss=0.3)
                time.sleep(0.01)
            rlwatch.flush()
            while not os.path.exists({resume!r}):   # hung: no more steps, the process is still alive
                time.sleep(0.05)
            rlwatch.log_step(21, entropy=1.5, kl=0.01, loss=0.3)
            rlwatch.stop()
        """)
        try:
            support.wait_for(lambda: ("run_stalled", "warning", "delivered") in self.kinds("stall"), 60,
                             "a run_stalled warning")
            support.wait_for(lambda: ("run_stalled", "critical", "delivered") in self.kinds("stall"), 60,
                             "a run_stalled critical")
            stalled = [a for a in self.alerts("stall") if a["detector"] == "run_stalled"]
            self.assertEqual(stalled[0]["step"], 20)
            self.assertIn("No steps for", stalled[0]["message"])
            self.assertTrue(stalled[0]["recommendation"])
            open(resume, "w").close()
            _, stderr = process.communicate(timeout=60)
            self.assertEqual(process.returncode, 0, stderr)
            notes = [a for a in self.alerts("stall")
                     if a["detector"] == "run_stalled" and a.get("suppression_reason", "").startswith("resolved")]
            self.assertEqual(len(notes), 1, self.alerts("stall"))
            self.assertIn("resumed", notes[0]["message"])
            # stop() finished the run: no new stall however long we wait past the stall time.
            count = len(self.kinds("stall"))
            time.sleep(3)
            self.assertEqual(len(self.kinds("stall")), count, self.kinds("stall"))
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()

    def test_an_uncaught_exception_is_reported_as_a_crash_and_still_raised(self) -> None:
        process = self.client("crash", """
            for step in range(1, 11):
                rlwatch.log_step(step, entropy=1.5, kl=0.01, loss=0.3)
            secret = "hunter2"   # a local value: must never reach the server
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        """)
        _, stderr = process.communicate(timeout=120)
        # The exception is not swallowed: Python's own hook printed the traceback and the exit status is 1.
        self.assertEqual(process.returncode, 1)
        self.assertIn("Traceback", stderr)
        self.assertIn("RuntimeError: CUDA error: an illegal memory access", stderr)
        crashed = [a for a in self.alerts("crash") if a["detector"] == "run_crashed"]
        self.assertEqual(len(crashed), 1, self.alerts("crash"))
        self.assertEqual(crashed[0]["severity"], "critical")
        self.assertEqual(crashed[0]["step"], 10)
        self.assertIn("RuntimeError: CUDA error: an illegal memory access", crashed[0]["message"])
        self.assertNotIn("hunter2", str(self.alerts("crash")))
        self.assertIsNotNone(self.server.get("/api/v1/runs/crash").get("finished_at"))
        # A crashed run is closed: not reported stalled as well.
        time.sleep(3)
        self.assertEqual(self.kinds("crash"), [("run_crashed", "critical", "delivered")])

    def test_keyboard_interrupt_is_a_normal_stop_not_a_crash(self) -> None:
        process = self.client("interrupted", """
            for step in range(1, 6):
                rlwatch.log_step(step, entropy=1.5, kl=0.01, loss=0.3)
            raise KeyboardInterrupt
        """)
        process.communicate(timeout=120)
        self.assertNotEqual(process.returncode, 0)
        self.assertEqual(self.kinds("interrupted"), [])
        self.assertIsNotNone(self.server.get("/api/v1/runs/interrupted").get("finished_at"))

    def test_a_loop_slowed_down_four_times_raises_throughput_drop(self) -> None:
        process = self.client("slow", """
            step = 0
            start = time.monotonic()
            while time.monotonic() - start < 6:      # healthy: 20 steps/s
                step += 1
                rlwatch.log_step(step, entropy=1.5, kl=0.01, loss=0.3)
                time.sleep(0.05)
            start = time.monotonic()
            while time.monotonic() - start < 6:      # a throttled node: 5 steps/s
                step += 1
                rlwatch.log_step(step, entropy=1.5, kl=0.01, loss=0.3)
                time.sleep(0.2)
            rlwatch.stop()
        """)
        _, stderr = process.communicate(timeout=120)
        self.assertEqual(process.returncode, 0, stderr)
        drops = [a for a in self.alerts("slow") if a["detector"] == "throughput_drop"]
        self.assertGreaterEqual(len(drops), 1, self.alerts("slow"))
        self.assertEqual(drops[0]["severity"], "warning")
        self.assertIn("steps/min", drops[0]["message"])
        # Raised during the slow phase: after the first 100-odd healthy steps.
        self.assertGreater(drops[0]["step"], 100)
        self.assertNotIn("run_stalled", [a["detector"] for a in self.alerts("slow")])
