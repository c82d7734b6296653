"""The module-level API without a server: never raising into training, lifecycle, detection, config."""

from __future__ import annotations

import json
import os
import textwrap
import unittest
from pathlib import Path

import support
import rlwatch_client as rlwatch
from rlwatch_client import _api
from rlwatch_client._alerts import format_alert


class Hostile:
    """A value whose every conversion raises."""

    def __float__(self) -> float:
        raise RuntimeError("no float for you")

    def __len__(self) -> int:
        raise RuntimeError("no len either")

    def item(self) -> float:
        raise RuntimeError("nor item")

    def __repr__(self) -> str:
        raise RuntimeError("not even repr")


class OfflineTests(support.TempDirTestCase):
    """``attach`` with no server at all: every step goes to the spool file."""

    def attach(self, **options) -> rlwatch.Monitor:
        options.setdefault("run_id", "offline-run")
        return rlwatch.attach(start_server=False, spool_dir=self.dir, **options)

    def tearDown(self) -> None:
        rlwatch.stop()
        super().tearDown()

    def test_steps_land_in_the_spool_in_replay_format(self) -> None:
        monitor = self.attach()
        for step in range(5):
            rlwatch.log_step(step, entropy=1.0, loss=float("nan") if step == 2 else 0.5, rewards=[1, 0, 1])
        with self.assertLogs("rlwatch_client", level="WARNING") as logs:
            rlwatch.stop()
        rows = support.read_jsonl(str(monitor.spool_path))
        self.assertEqual([row["step"] for row in rows], [0, 1, 2, 3, 4])
        self.assertEqual(rows[2]["loss"], "NaN")
        self.assertEqual(rows[0]["rewards"], [1.0, 0.0, 1.0])
        message = "\n".join(logs.output)
        self.assertIn(f"rlwatch replay {monitor.spool_path} --run-id offline-run", message)

    def test_bad_values_and_bad_steps_never_raise(self) -> None:
        monitor = self.attach()
        weird = [None, "high", b"x", object(), Hostile(), [1, "a"], {"deep": {"er": Hostile()}}, float("inf"),
                 10 ** 400, True, [[1.0]], (1, 2), set(), lambda: 1]
        with self.assertLogs("rlwatch_client", level="WARNING"):
            for index, value in enumerate(weird):
                rlwatch.log_step(index, value=value, rewards=value, ok=1.0)
            for step in ("3", None, 1.5, Hostile(), float("nan")):
                rlwatch.log_step(step, ok=1.0)
            monitor.log_metrics(Hostile(), {"ok": 1.0})
            monitor.log_metrics(100, Hostile())
        rlwatch.stop()
        rows = support.read_jsonl(str(monitor.spool_path))
        self.assertEqual([row["step"] for row in rows], list(range(len(weird))))
        self.assertTrue(all(row["ok"] == 1.0 for row in rows))

    def test_stop_is_idempotent_and_later_steps_are_ignored(self) -> None:
        monitor = self.attach()
        rlwatch.log_step(0, a=1.0)
        rlwatch.stop()
        rlwatch.stop()
        monitor.stop()
        with self.assertLogs("rlwatch_client", level="WARNING") as logs:
            rlwatch.log_step(1, a=1.0)
            rlwatch.log_step(2, a=1.0)
            monitor.log_metrics(3, {"a": 1.0})
        self.assertEqual(len(logs.records), 1)
        self.assertIn("after stop()", logs.output[0])
        self.assertTrue(monitor.stopped)
        self.assertIs(rlwatch.get_monitor(), monitor)
        self.assertFalse(rlwatch.flush(0.1))

    def test_queue_overflow_goes_to_the_spool_in_order(self) -> None:
        monitor = self.attach(max_queue=100, batch_size=10, flush_interval=3600)
        for step in range(1000):
            rlwatch.log_step(step, a=float(step))
        rlwatch.stop()
        rows = support.read_jsonl(str(monitor.spool_path))
        self.assertEqual([row["step"] for row in rows], list(range(1000)))

    def test_one_step_logged_in_two_calls_is_one_row(self) -> None:
        monitor = self.attach(flush_interval=3600)
        rlwatch.log_step(7, loss=0.5)
        rlwatch.log_step(7, reward_mean=0.1)
        rlwatch.stop()
        self.assertEqual(support.read_jsonl(str(monitor.spool_path)), [{"step": 7, "loss": 0.5, "reward_mean": 0.1}])

    def test_attaching_again_stops_the_previous_run(self) -> None:
        first = self.attach(run_id="first")
        with self.assertLogs("rlwatch_client", level="WARNING"):
            second = self.attach(run_id="second")
        self.assertTrue(first.stopped)
        self.assertIs(rlwatch.get_monitor(), second)

    def test_adapters_sit_where_0_5_1_kept_them(self) -> None:
        monitor = self.attach(framework="openrlhf")
        monitor._openrlhf_logger.log_train(1, {"kl": 0.1, "generated_samples": ["text", 1.0]})
        monitor._openrlhf_logger.log_eval(1, {"eval_accuracy": 0.5})
        monitor.verl_backend.log(data={"actor/entropy": 0.3}, step=2)
        self.assertIs(monitor.verl_backend, monitor._verl_tracker)
        rlwatch.stop()
        self.assertEqual(support.read_jsonl(str(monitor.spool_path)),
                         [{"step": 1, "kl": 0.1}, {"step": 2, "actor/entropy": 0.3}])

    def test_unknown_framework_is_refused_at_attach(self) -> None:
        with self.assertRaises(ValueError):
            self.attach(framework="deepspeed-chat")

    @unittest.skipUnless(hasattr(os, "fork"), "needs os.fork")
    def test_a_forked_child_logs_nothing_and_does_not_raise(self) -> None:
        monitor = self.attach(flush_interval=3600)
        rlwatch.log_step(0, a=1.0)
        pid = os.fork()
        if pid == 0:  # pragma: no cover (child)
            code = 0
            try:
                rlwatch.log_step(1, a=1.0)
                rlwatch.stop()
            except BaseException:
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status, 0)
        rlwatch.stop()
        self.assertEqual([row["step"] for row in support.read_jsonl(str(monitor.spool_path))], [0])


class FreshProcessTests(support.TempDirTestCase):
    """Behaviour that depends on the process's global state, each in a new interpreter."""

    def test_log_step_before_attach_warns_once_and_drops(self) -> None:
        result = support.run_client(textwrap.dedent("""
            import rlwatch_client as rlwatch
            for step in range(3):
                rlwatch.log_step(step, entropy=1.0)
            print("still training")
        """), cwd=self.dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("still training", result.stdout)
        self.assertEqual(result.stderr.count("before rlwatch.attach()"), 1, result.stderr)

    def test_import_does_not_import_frameworks(self) -> None:
        result = support.run_client(textwrap.dedent("""
            import sys, rlwatch_client
            print(sorted(m for m in ("transformers", "torch", "numpy", "verl", "trl") if m in sys.modules))
        """), cwd=self.dir)
        self.assertEqual(result.stdout.strip(), "[]", result.stderr)

    def test_framework_detection_uses_already_imported_modules(self) -> None:
        cases = [((), {}, "manual"), (("openrlhf",), {}, "openrlhf"), (("verl", "openrlhf"), {}, "verl"),
                 (("trl", "verl"), {}, "trl"), (("verl",), {"RLWATCH_FRAMEWORK": "openrlhf"}, "openrlhf")]
        for modules, env, expected in cases:
            with self.subTest(modules=modules, env=env):
                result = support.run_client(textwrap.dedent(f"""
                    import sys, types
                    for name in {modules!r}:
                        sys.modules[name] = types.ModuleType(name)
                    import rlwatch_client as rlwatch
                    monitor = rlwatch.attach(start_server=False, spool_dir="spool", run_id="detect")
                    print(monitor.framework)
                    explicit = rlwatch.attach(start_server=False, spool_dir="spool", run_id="x", framework="manual")
                    print(explicit.framework)
                """), cwd=self.dir, env=env)
                self.assertEqual(result.stdout.split(), [expected, "manual"], result.stderr)

    def test_atexit_stops_and_reports_the_spool(self) -> None:
        result = support.run_client(textwrap.dedent("""
            import rlwatch_client as rlwatch
            rlwatch.attach(start_server=False, spool_dir="spool", run_id="exit-run")
            for step in range(10):
                rlwatch.log_step(step, entropy=1.0)
        """), cwd=self.dir)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("rlwatch replay", result.stderr)
        self.assertEqual(len(support.read_jsonl(os.path.join(self.dir, "spool", "exit-run.jsonl"))), 10)


class ConfigTests(support.TempDirTestCase):
    def test_file_then_config_then_keywords(self) -> None:
        path = Path(self.dir, "overrides.json")
        path.write_text(json.dumps({"entropy_collapse": {"threshold": 0.1, "warmup_steps": 5}, "alerts": {"cooldown_steps": 3}}))
        merged = _api._merge_config(str(path), {"entropy_collapse": {"threshold": 0.2}},
                                    {"entropy_collapse": {"consecutive_steps": 9}})
        self.assertEqual(merged, {"entropy_collapse": {"threshold": 0.2, "warmup_steps": 5, "consecutive_steps": 9},
                                  "alerts": {"cooldown_steps": 3}})

    def test_a_missing_config_file_is_an_error_not_silently_defaults(self) -> None:
        with self.assertRaises(FileNotFoundError):
            _api._merge_config(os.path.join(self.dir, "nope.yaml"), None, {})


class AlertFormatTests(unittest.TestCase):
    def test_one_headline_and_the_recommendation(self) -> None:
        text = format_alert({"step": 219, "detector": "entropy_collapse", "severity": "critical",
                             "message": "Entropy 0.05 below 1.0 for 50 steps", "recommendation": "Raise the entropy bonus"},
                            run_id="grpo-7b")
        self.assertEqual(text, "rlwatch CRITICAL step 219 entropy_collapse (run grpo-7b): Entropy 0.05 below 1.0 "
                               "for 50 steps\n  -> Raise the entropy bonus")


if __name__ == "__main__":
    unittest.main()
