"""The TRL callback, driven through transformers' own ``CallbackHandler``, against the real server.

Needs ``transformers`` (it imports without torch: ``pip install transformers``); CI installs it, so
without it these tests fail rather than skip.
"""

from __future__ import annotations

import tempfile
import textwrap
import unittest

import support
import rlwatch_client as rlwatch

try:
    from transformers import TrainerCallback, TrainerControl, TrainerState
except ImportError as error:  # pragma: no cover
    _IMPORT_ERROR = error
else:
    _IMPORT_ERROR = None


class StubTrainer:
    """The part of ``transformers.Trainer`` that ``attach(trainer=…)`` uses."""

    def __init__(self) -> None:
        self.callbacks = []

    def add_callback(self, callback) -> None:
        self.callbacks.append(callback)


class TRLCallbackTests(support.TempDirTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        if _IMPORT_ERROR is not None:
            raise AssertionError(f"the TRL callback tests need transformers (pip install transformers): {_IMPORT_ERROR}")

    def setUp(self) -> None:
        super().setUp()
        self.server = support.Server(self.dir).start()
        self.addCleanup(self.server.stop)

    def tearDown(self) -> None:
        rlwatch.stop()
        super().tearDown()

    def train(self, callback, rows) -> None:
        support.drive_trainer(callback, rows, tempfile.mkdtemp(dir=self.dir))

    def test_a_real_trl_log_gives_the_same_alerts_as_replaying_it(self) -> None:
        path = support.fixture("trl-grpo-entropy-explosion.jsonl")
        rows = support.read_jsonl(str(path))
        seen = []
        rlwatch.attach(url=self.server.url, run_id="trl-run", framework="trl", on_alert=seen.append, print_alerts=False)
        callback = rlwatch.RLWatchTRLCallback()
        self.assertIsInstance(callback, TrainerCallback)
        self.train(callback, rows)

        # The end of training flushed for at most the 10 s stop_timeout and the client goes on sending after it;
        # on a loaded machine the last batches can still be on their way.
        support.wait_for(lambda: rlwatch.flush(5), 60, "every step of trl-run and its answer")
        self.assertEqual(self.server.step_count("trl-run"), len(rows))  # no summary row, no eval row
        expected = support.replay_alerts(str(path), cwd=self.dir)
        self.assertTrue(expected)
        self.assertEqual(sorted(support.alert_key(alert) for alert in seen), expected)
        stored = self.server.get("/api/v1/runs/trl-run/metrics?limit=1000")["steps"]
        self.assertEqual([row["step"] for row in stored], [row["step"] for row in rows])

    def test_the_end_of_training_closes_the_run_so_a_live_process_is_not_stalled(self) -> None:
        rows = support.read_jsonl(str(support.fixture("trl-grpo-entropy-explosion.jsonl")))[:20]
        rlwatch.attach(url=self.server.url, run_id="notebook-run", framework="trl", print_alerts=False)
        self.train(rlwatch.RLWatchTRLCallback(), rows)
        # The process (a notebook kernel, say) lives on; the server has the run closed, with every step.
        support.wait_for(lambda: self.server.get("/api/v1/runs/notebook-run").get("finished_at") is not None, 60,
                         "the run to be finished on the server")
        self.assertEqual(self.server.step_count("notebook-run"), len(rows))
        # Training again in the same process reopens the run.
        rlwatch.log_step(1000, loss=0.1)
        self.assertTrue(rlwatch.flush(30))
        self.assertIsNone(self.server.get("/api/v1/runs/notebook-run").get("finished_at"))

    def test_attach_with_a_trainer_adds_the_callback(self) -> None:
        trainer = StubTrainer()
        monitor = rlwatch.attach(url=self.server.url, run_id="trainer-run", trainer=trainer)
        self.assertEqual(monitor.framework, "trl")
        self.assertEqual(len(trainer.callbacks), 1)
        callback = trainer.callbacks[0]
        self.assertIsInstance(callback, rlwatch.RLWatchTRLCallback)
        self.train(callback, [{"step": step, "entropy": 1.5, "kl": 0.01, "reward": 0.5, "loss": 0.1}
                              for step in range(1, 31)])
        self.assertEqual(self.server.step_count("trainer-run"), 30)

    def test_the_callback_alone_attaches_on_train_begin(self) -> None:
        result = support.run_client(textwrap.dedent("""
            import rlwatch_client as rlwatch
            from support import drive_trainer
            drive_trainer(rlwatch.RLWatchTRLCallback(), [{"step": s, "entropy": 1.5, "loss": 0.1} for s in range(1, 11)], "out")
            print(rlwatch.get_monitor().run_id, rlwatch.get_monitor().framework)
        """), cwd=self.dir, env={"RLWATCH_URL": self.server.url, "RLWATCH_RUN_ID": "implicit"})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.split()[-2:], ["implicit", "trl"])
        self.assertEqual(self.server.step_count("implicit"), 10)

    def test_only_the_main_process_logs(self) -> None:
        rlwatch.attach(url=self.server.url, run_id="rank-1")
        callback = rlwatch.RLWatchTRLCallback()
        state = TrainerState(is_world_process_zero=False)
        state.global_step = 1
        callback.on_log(None, state, TrainerControl(), logs={"entropy": 1.0})
        self.assertTrue(rlwatch.flush(10))
        self.assertEqual(self.server.step_count("rank-1"), 0)


if __name__ == "__main__":
    unittest.main()
