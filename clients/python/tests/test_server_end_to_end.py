"""The client against a real ``rlwatch serve``: alerts, diagnose, config, auth, numpy, a local server."""

from __future__ import annotations

import http.client
import json
import os
import textwrap
import unittest
import urllib.request
from urllib.parse import urlsplit
from pathlib import Path

import support
import rlwatch_client as rlwatch


class ServerTestCase(support.TempDirTestCase):
    token = None

    def setUp(self) -> None:
        super().setUp()
        self.server = support.Server(self.dir, token=self.token).start()
        self.addCleanup(self.server.stop)

    def tearDown(self) -> None:
        rlwatch.stop()
        super().tearDown()


class GRPORunTests(ServerTestCase):
    def test_entropy_collapse_is_alerted_in_training_and_reported_by_diagnose(self) -> None:
        result = support.run_client(textwrap.dedent("""
            import random
            import rlwatch_client as rlwatch
            from support import grpo_step
            rlwatch.attach(run_id="grpo-collapse")
            rng = random.Random(0)
            for step in range(300):
                rlwatch.log_step(step, **grpo_step(step, rng))
            print("training done")
        """), cwd=self.dir, env={"RLWATCH_URL": self.server.url})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("training done", result.stdout)
        # Printed in the training process, from the server's answers:
        self.assertRegex(result.stderr, r"rlwatch (WARNING|CRITICAL) step \d+ entropy_collapse \(run grpo-collapse\)")
        self.assertIn("  -> ", result.stderr)
        self.assertEqual(self.server.step_count("grpo-collapse"), 300)

        self.server.stop()
        report = support.diagnose("grpo-collapse", self.server.log_dir)
        self.assertEqual(report["total_steps"], 300)
        detectors = {alert["detector"] for alert in report["alerts"]}
        self.assertIn("entropy_collapse", detectors)
        collapse = [alert for alert in report["alerts"] if alert["detector"] == "entropy_collapse"]
        self.assertTrue(all(alert["step"] >= 150 for alert in collapse), collapse)
        self.assertIn("critical", {alert["severity"] for alert in collapse})

    def test_alerts_reach_on_alert_and_monitor_alerts(self) -> None:
        seen = []
        monitor = rlwatch.attach(url=self.server.url, run_id="nan-loss", on_alert=seen.append, print_alerts=False)
        for step in range(20):
            rlwatch.log_step(step, loss=float("nan") if step == 12 else 0.3, entropy=2.0)
        self.assertTrue(rlwatch.flush(30))
        self.assertIn((12, "loss_nan", "critical"), [support.alert_key(alert) for alert in seen])
        self.assertEqual(monitor.alerts, seen)
        self.assertIn("recommendation", seen[0])

    def test_resuming_a_run_appends_to_it(self) -> None:
        first = rlwatch.attach(url=self.server.url, run_id="resumed-run")
        for step in range(10):
            rlwatch.log_step(step, entropy=2.0)
        rlwatch.stop()
        with self.assertLogs("rlwatch_client", level="WARNING") as logs:
            rlwatch.attach(url=self.server.url, run_id="resumed-run")
        self.assertIn("resuming run resumed-run", "\n".join(logs.output))
        for step in range(10, 15):
            rlwatch.log_step(step, entropy=2.0)
        self.assertTrue(rlwatch.flush(30))
        self.assertEqual(self.server.step_count("resumed-run"), 15)
        self.assertTrue(first.stopped)

    def test_run_ids_with_spaces_non_ascii_and_percent_signs_are_kept_as_given(self) -> None:
        run_id = "grpo qwen-7b é 100%"
        monitor = rlwatch.attach(url=self.server.url, run_id=run_id, print_alerts=False)
        for step in range(12):
            rlwatch.log_step(step, loss=float("nan") if step == 9 else 0.3, entropy=2.0)
        self.assertTrue(rlwatch.flush(30))
        self.assertEqual(self.server.step_count(run_id), 12)
        self.assertIn((9, "loss_nan", "critical"), [support.alert_key(alert) for alert in monitor.alerts])
        rlwatch.stop()
        with urllib.request.urlopen(self.server.url + "/api/v1/runs", timeout=30) as answer:
            runs = [run["run_id"] for run in json.load(answer)["runs"]]
        self.assertEqual(runs, [run_id])
        # A path whose percent-encoding is broken is a 400 naming the problem, not an unknown run.
        address = urlsplit(self.server.url)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        try:
            connection.request("GET", "/api/v1/runs/bad%zzrun")
            answer = connection.getresponse()
            body = answer.read().decode()
        finally:
            connection.close()
        self.assertEqual(answer.status, 400, body)
        self.assertIn("percent-encoding", body)


class ConfigTests(ServerTestCase):
    def test_config_overrides_are_sent_with_the_run(self) -> None:
        rlwatch.attach(url=self.server.url, run_id="tuned", config={"entropy_collapse": {"consecutive_steps": 10}},
                       kl_explosion={"sigma_multiplier": 4.0})
        run = self.server.get("/api/v1/runs/tuned")
        self.assertEqual(run["config"]["entropy_collapse"]["consecutive_steps"], 10)
        self.assertEqual(run["config"]["kl_explosion"]["sigma_multiplier"], 4.0)

    def test_a_bad_config_key_fails_attach_with_the_key(self) -> None:
        with self.assertRaises(rlwatch.ConfigError) as raised:
            rlwatch.attach(url=self.server.url, run_id="typo", config={"entropy_collapse": {"treshold": 0.5}})
        self.assertIsInstance(raised.exception, ValueError)
        self.assertEqual(raised.exception.key, "entropy_collapse.treshold")
        monitor = rlwatch.get_monitor()
        self.assertTrue(monitor is None or monitor.run_id != "typo")


class ValueTests(ServerTestCase):
    def test_awkward_values_arrive_as_numbers(self) -> None:
        rlwatch.attach(url=self.server.url, run_id="values")
        rlwatch.log_step(0, entropy=True, loss=float("inf"), grad_norm=float("nan"), custom={"a": 1, "b": "x"},
                         rewards=[[1, 0], [1, 1]])
        rlwatch.log_step(1, entropy=1.5, loss=0.2, rewards=(0.5, 0.25))
        self.assertTrue(rlwatch.flush(30))
        rows = self.metrics("values")
        self.assertEqual([row["step"] for row in rows], [0, 1])
        self.assertEqual(rows[1]["entropy"], 1.5)
        self.assertEqual(self.server.step_count("values"), 2)

    def test_numpy_scalars_and_arrays(self) -> None:
        try:
            import numpy as np
        except ImportError:
            self.skipTest("numpy is not installed")
        rlwatch.attach(url=self.server.url, run_id="numpy-run")
        rng = np.random.default_rng(0)
        for step in range(50):
            rewards = rng.normal(0.5, 0.1, size=(4, 8)).astype(np.float32)
            rlwatch.log_step(np.int64(step), entropy=np.float32(2.0), kl=np.float64(0.01), rewards=rewards,
                             reward_mean=rewards.mean(), advantage_std=np.array(1.0))
        self.assertTrue(rlwatch.flush(30))
        rows = self.metrics("numpy-run")
        self.assertEqual(len(rows), 50)
        self.assertAlmostEqual(rows[0]["entropy"], 2.0)

    def metrics(self, run_id: str) -> list:
        answer = self.server.get(f"/api/v1/runs/{run_id}/metrics?limit=1000")
        return answer["steps"]


class TokenTests(ServerTestCase):
    token = "s3cret-token-0123456789"

    def test_the_right_token_is_sent_on_every_call(self) -> None:
        result = support.run_client(textwrap.dedent("""
            import rlwatch_client as rlwatch
            rlwatch.attach(run_id="with-token")
            for step in range(5):
                rlwatch.log_step(step, entropy=2.0)
            assert rlwatch.flush(30)
        """), cwd=self.dir, env={"RLWATCH_URL": self.server.url, "RLWATCH_TOKEN": self.token})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.server.step_count("with-token"), 5)

    def test_a_wrong_token_keeps_every_step_in_the_spool(self) -> None:
        result = support.run_client(textwrap.dedent("""
            import rlwatch_client as rlwatch
            rlwatch.attach(run_id="bad-token", spool_dir="spool")
            for step in range(5):
                rlwatch.log_step(step, entropy=2.0)
            print("still training")
        """), cwd=self.dir, env={"RLWATCH_URL": self.server.url, "RLWATCH_TOKEN": "wrong"})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("still training", result.stdout)
        self.assertIn("HTTP 401", result.stderr)
        self.assertIn("rlwatch replay", result.stderr)
        self.assertEqual(len(support.read_jsonl(os.path.join(self.dir, "spool", "bad-token.jsonl"))), 5)


class LocalServerTests(support.TempDirTestCase):
    def test_without_a_url_the_client_runs_rlwatch_serve_itself(self) -> None:
        bin_dir = Path(self.dir, "bin")
        bin_dir.mkdir()
        (bin_dir / "rlwatch").symlink_to(support.rlwatch_binary())
        result = support.run_client(textwrap.dedent("""
            import rlwatch_client as rlwatch
            monitor = rlwatch.attach(run_id="local-run", log_dir="logs")
            print("url", monitor.url)
            print("pid", monitor._local_server.process.pid)
            for step in range(40):
                rlwatch.log_step(step, entropy=2.0, loss=float("nan") if step == 30 else 0.1)
            assert rlwatch.flush(30)
        """), cwd=self.dir, env={"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"})
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
        self.assertTrue(lines["url"].startswith("http://127.0.0.1:"), result.stdout)
        with self.assertRaises(ProcessLookupError):  # stopped (and reaped) at exit
            os.kill(int(lines["pid"]), 0)
        self.assertIn("loss_nan", result.stderr)
        report = support.diagnose("local-run", os.path.join(self.dir, "logs"))
        self.assertEqual(report["total_steps"], 40)


if __name__ == "__main__":
    unittest.main()
