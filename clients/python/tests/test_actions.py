"""Acting on alerts: the TRL callback stops (or checkpoints and stops) training through transformers' real
``CallbackHandler`` when the server's answer carries a matching alert, and never on a warning or a server outage;
checkpoints saved by the Trainer reach the server and later alerts name where to resume."""

from __future__ import annotations

import math
import os
import tempfile
import time
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


class _Namespace:
    def __init__(self, **values) -> None:
        self.__dict__.update(values)


class VerlTrainer:
    """veRL's ``RayPPOTrainer.fit`` as it orders a step: checkpoint every ``save_freq`` steps
    (``_save_checkpoint`` writes ``default_local_dir/global_step_{N}``), then ``logger.log(data, step)``."""

    def __init__(self, directory: str, save_freq: int) -> None:
        self.config = _Namespace(trainer=_Namespace(default_local_dir=directory, save_freq=save_freq))
        self.global_steps = 0
        self.saved = []

    def _save_checkpoint(self) -> None:
        path = os.path.join(self.config.trainer.default_local_dir, f"global_step_{self.global_steps}")
        os.makedirs(path, exist_ok=True)
        self.saved.append(self.global_steps)

    def fit(self, logger, steps) -> None:
        for row in steps:
            self.global_steps = row["step"]
            if self.global_steps % self.config.trainer.save_freq == 0:
                self._save_checkpoint()
            logger.log(data={"actor/entropy": row["entropy"], "actor/pg_loss": row["loss"]}, step=self.global_steps)
            time.sleep(0.02)


class OpenRLHFTrainer:
    """OpenRLHF's PPO trainer: ``save_logs_and_checkpoints(args, global_step, step_bar, logs_dict, client_states)``
    logs through ``self.wandb_logger.log_train``, then saves ``args.ckpt_path/global_step{N}`` every ``save_steps``."""

    def __init__(self, directory: str, save_steps: int) -> None:
        self.args = _Namespace(save_steps=save_steps, ckpt_path=directory, logging_steps=1)
        self.wandb_logger = None
        self.saved = []

    def _save_checkpoint(self, args, tag, client_states) -> None:
        os.makedirs(os.path.join(args.ckpt_path, tag), exist_ok=True)
        self.saved.append(tag)

    def save_logs_and_checkpoints(self, args, global_step, step_bar, logs_dict=None, client_states=None) -> None:
        if global_step % args.logging_steps == 0 and self.wandb_logger is not None:
            self.wandb_logger.log_train(global_step, logs_dict or {})
        if global_step % args.save_steps == 0:
            self._save_checkpoint(args, f"global_step{global_step}", client_states or {})

    def fit(self, steps) -> None:
        for row in steps:
            self.save_logs_and_checkpoints(self.args, row["step"], None,
                                           {"entropy": row["entropy"], "policy_loss": row["loss"]}, {})
            time.sleep(0.02)


class AdapterActionTests(support.TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.server = support.Server(self.dir).start()
        self.addCleanup(self.server.stop)

    def tearDown(self) -> None:
        rlwatch.stop()
        super().tearDown()

    def attach(self, run_id: str, framework: str, actions) -> rlwatch.Monitor:
        return rlwatch.attach(url=self.server.url, run_id=run_id, framework=framework, print_alerts=False,
                              spool_dir=os.path.join(self.dir, "spool"), config=dict(FAST_COLLAPSE, actions=actions))

    def test_verl_save_and_stop_ends_fit_after_a_checkpoint_and_names_it(self) -> None:
        self.attach("verl-stop", "verl", {"on_critical": "save_and_stop"})
        trainer = VerlTrainer(os.path.join(self.dir, "ckpt"), save_freq=10)
        tracking = _Namespace(logger={})
        backend = rlwatch.install_verl(tracking, trainer=trainer)

        class Tracking:
            def log(self, data, step):
                for sink in tracking.logger.values():
                    sink.log(data=data, step=step)

        with self.assertRaises(rlwatch.RLWatchStopTraining) as raised:
            trainer.fit(Tracking(), rows(low_from=30, count=400))
        self.assertIn("entropy_collapse", str(raised.exception))
        self.assertIn("resume from", str(raised.exception))
        self.assertIn(os.path.join(self.dir, "ckpt", "global_step_20"), str(raised.exception))
        stopped_at = trainer.global_steps
        self.assertLess(stopped_at, 400)
        self.assertEqual(trainer.saved[-1], stopped_at)  # save_and_stop saved the step it stopped at
        self.assertIs(backend, tracking.logger["rlwatch"])
        support.wait_for(lambda: rlwatch.flush(5), 30, "the reports")
        checkpoints = self.server.get("/api/v1/runs/verl-stop/checkpoints")["checkpoints"]
        self.assertEqual([c["step"] for c in checkpoints], trainer.saved)
        actions = self.server.get("/api/v1/runs/verl-stop/actions")["actions"]
        self.assertEqual([(a["action"], a["result"]) for a in actions], [("save_and_stop", "done")])

    def test_openrlhf_stop_is_raised_after_the_steps_logging_and_save(self) -> None:
        self.attach("orlhf-stop", "openrlhf", {"on_critical": "stop"})
        trainer = OpenRLHFTrainer(os.path.join(self.dir, "ckpt"), save_steps=10)
        rlwatch.install_openrlhf(trainer)
        with self.assertRaises(rlwatch.RLWatchStopTraining):
            trainer.fit(rows(low_from=30, count=400))
        self.assertEqual(trainer.saved[:2], ["global_step10", "global_step20"])
        support.wait_for(lambda: rlwatch.flush(5), 30, "the reports")
        checkpoints = self.server.get("/api/v1/runs/orlhf-stop/checkpoints")["checkpoints"]
        self.assertEqual([c["name"] for c in checkpoints], trainer.saved)
        self.assertEqual([a["action"] for a in self.server.get("/api/v1/runs/orlhf-stop/actions")["actions"]], ["stop"])

    def test_without_a_server_answer_fit_runs_to_the_end(self) -> None:
        self.attach("verl-outage", "verl", {"on_critical": "stop"})
        self.server.stop()
        trainer = VerlTrainer(os.path.join(self.dir, "ckpt"), save_freq=10)
        tracking = _Namespace(logger={})
        rlwatch.install_verl(tracking, trainer=trainer)

        class Tracking:
            def log(self, data, step):
                for sink in tracking.logger.values():
                    sink.log(data=data, step=step)

        trainer.fit(Tracking(), rows(low_from=30, count=60, nan_at=45))
        self.assertEqual(trainer.global_steps, 60)
