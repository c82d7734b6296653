"""Acting on alerts: the TRL callback stops (or checkpoints and stops) training through transformers' real
``CallbackHandler`` when the server's answer carries a matching alert, and never on a warning or a server outage;
checkpoints saved by the Trainer reach the server and later alerts name where to resume."""

from __future__ import annotations

import math
import os
import tempfile
import unittest

import support
import rlwatch_client as rlwatch

try:
    from transformers import TrainerControl, TrainerState, TrainingArguments
    from transformers.trainer_callback import CallbackHandler, DefaultFlowCallback
except ImportError as error:  # pragma: no cover
    _IMPORT_ERROR = error
else:
    _IMPORT_ERROR = None

#: Entropy collapse after 10 low steps (warning after 5), judged from step 6.
FAST_COLLAPSE = {"entropy_collapse": {"consecutive_steps": 10, "warmup_steps": 5, "baseline_window": 5}}


def rows(low_from: int, count: int, nan_at: int = -1):
    out = []
    for step in range(1, count + 1):
        entropy = 0.5 if step >= low_from else 2.0 + 0.01 * (step % 3)
        out.append({"step": step, "entropy": entropy, "loss": math.nan if step == nan_at else 0.3, "kl": 0.01})
    return out


class Trainer:
    """Drives ``transformers``' ``CallbackHandler`` the way ``Trainer.train`` does each step: step end, log."""

    def __init__(self, callback, output_dir: str) -> None:
        self.handler = CallbackHandler([DefaultFlowCallback(), callback], model=None, processing_class=None,
                                       optimizer=None, lr_scheduler=None)
        self.args = TrainingArguments(output_dir=output_dir)
        self.state, self.control = TrainerState(), TrainerControl()
        self.state.max_steps = 10_000  # DefaultFlowCallback stops at max_steps
        self.handler.on_train_begin(self.args, self.state, self.control)

    def step(self, row) -> None:
        self.state.global_step = row["step"]
        self.control = self.handler.on_step_end(self.args, self.state, self.control)
        self.control = self.handler.on_log(self.args, self.state, self.control,
                                           {key: value for key, value in row.items() if key != "step"})

    def save(self) -> None:
        self.control = self.handler.on_save(self.args, self.state, self.control)


class ActionTests(support.TempDirTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        if _IMPORT_ERROR is not None:
            raise AssertionError(f"these tests need transformers (pip install transformers): {_IMPORT_ERROR}")

    def setUp(self) -> None:
        super().setUp()
        self.server = support.Server(self.dir).start()
        self.addCleanup(self.server.stop)

    def tearDown(self) -> None:
        rlwatch.stop()
        super().tearDown()

    def attach(self, run_id: str, actions) -> rlwatch.Monitor:
        return rlwatch.attach(url=self.server.url, run_id=run_id, framework="trl", print_alerts=False,
                              spool_dir=os.path.join(self.dir, "spool"),
                              config=dict(FAST_COLLAPSE, actions=actions))

    def train(self, monitor, steps, output_dir=None) -> Trainer:
        trainer = Trainer(rlwatch.RLWatchTRLCallback(monitor), output_dir or tempfile.mkdtemp(dir=self.dir))
        for row in steps:
            trainer.step(row)
        self.assertTrue(monitor.flush(30))
        trainer.step({"step": steps[-1]["step"] + 1, "entropy": 0.5, "loss": 0.3})  # the next step boundary
        return trainer

    def test_a_critical_stops_training_at_the_next_step_boundary(self) -> None:
        monitor = self.attach("stop-run", {"on_critical": "stop"})
        trainer = self.train(monitor, rows(low_from=10, count=30))
        self.assertTrue(any(alert["severity"] == "critical" for alert in monitor.alerts))
        self.assertTrue(trainer.control.should_training_stop)
        self.assertFalse(trainer.control.should_save)
        support.wait_for(lambda: self.server.get("/api/v1/runs/stop-run/actions")["actions"], 30, "the action")
        action = self.server.get("/api/v1/runs/stop-run/actions")["actions"][0]
        self.assertEqual((action["action"], action["actor"], action["severity"]), ("stop", "client", "critical"))

    def test_save_and_stop_sets_should_save_and_the_checkpoint_is_named_by_later_alerts(self) -> None:
        monitor = self.attach("save-run", {"on_critical": "save_and_stop"})
        output_dir = tempfile.mkdtemp(dir=self.dir)
        trainer = Trainer(rlwatch.RLWatchTRLCallback(monitor), output_dir)
        for row in rows(low_from=10, count=8):
            trainer.step(row)
        trainer.save()  # Trainer._save_checkpoint at step 8 calls on_save
        support.wait_for(lambda: self.server.get("/api/v1/runs/save-run/checkpoints")["checkpoints"], 30,
                         "the checkpoint on the server")
        for row in rows(low_from=10, count=30)[8:]:
            trainer.step(row)
        self.assertTrue(monitor.flush(30))
        trainer.step({"step": 31, "entropy": 0.5, "loss": 0.3})
        self.assertTrue(trainer.control.should_save)
        self.assertTrue(trainer.control.should_training_stop)
        critical = next(alert for alert in monitor.alerts if alert["severity"] == "critical")
        self.assertEqual(critical["metric_values"]["resume_from"], os.path.join(output_dir, "checkpoint-8"))
        self.assertEqual(critical["metric_values"]["resume_from_step"], 8)

    def test_a_warning_does_not_stop_training(self) -> None:
        monitor = self.attach("warn-run", {"on_critical": "stop"})
        trainer = self.train(monitor, rows(low_from=10, count=16))  # 7 low steps: a warning, no critical
        self.assertTrue(monitor.alerts)
        self.assertTrue(all(alert["severity"] == "warning" for alert in monitor.alerts))
        self.assertFalse(trainer.control.should_training_stop)

    def test_notify_only_by_default(self) -> None:
        monitor = rlwatch.attach(url=self.server.url, run_id="default-run", framework="trl", print_alerts=False,
                                 spool_dir=os.path.join(self.dir, "spool"),
                                 config=FAST_COLLAPSE)
        trainer = self.train(monitor, rows(low_from=10, count=30))
        self.assertTrue(any(alert["severity"] == "critical" for alert in monitor.alerts))
        self.assertFalse(trainer.control.should_training_stop)

    def test_a_server_outage_never_stops_training(self) -> None:
        monitor = self.attach("outage-run", {"on_critical": "stop"})
        self.server.stop()
        trainer = Trainer(rlwatch.RLWatchTRLCallback(monitor), tempfile.mkdtemp(dir=self.dir))
        for row in rows(low_from=10, count=30, nan_at=25):
            trainer.step(row)
        self.assertFalse(monitor.flush(2))
        trainer.step({"step": 31, "entropy": 0.5, "loss": 0.3})
        self.assertEqual(monitor.alerts, [])
        self.assertFalse(trainer.control.should_training_stop)
        self.assertFalse(trainer.control.should_save)


if __name__ == "__main__":
    unittest.main()
