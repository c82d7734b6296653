"""The veRL and OpenRLHF adapters against the real server, with those frameworks' call shapes."""

from __future__ import annotations

import random
import textwrap
import unittest

import support
import rlwatch_client as rlwatch


class Tracking:
    """veRL's ``verl.utils.tracking.Tracking`` as the trainer uses it: backends in ``self.logger``,
    each called as ``backend.log(data=…, step=…)``."""

    def __init__(self, project_name=None, experiment_name=None, default_backend="console", config=None) -> None:
        self.logger = {}

    def log(self, data, step, backend=None) -> None:
        for name, logger_instance in self.logger.items():
            if backend is None or name in backend:
                logger_instance.log(data=data, step=step)


class AdapterTestCase(support.TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.server = support.Server(self.dir).start()
        self.addCleanup(self.server.stop)

    def tearDown(self) -> None:
        rlwatch.stop()
        super().tearDown()


class VerlTests(AdapterTestCase):
    def test_a_real_verl_log_gives_the_same_alerts_as_replaying_it(self) -> None:
        path = support.fixture("verl-grpo-kl-explosion.file-logger.jsonl")
        rows = support.read_jsonl(str(path))
        seen = []
        rlwatch.attach(url=self.server.url, run_id="verl-run", framework="verl", on_alert=seen.append, print_alerts=False)
        tracking = Tracking()
        backend = rlwatch.install_verl(tracking)
        self.assertIs(tracking.logger["rlwatch"], backend)
        for row in rows:
            tracking.log(data=row["data"], step=row["step"])
        backend.finish()

        # The end of training flushed for at most the 10 s stop_timeout and the client goes on sending after it;
        # on a loaded machine the last batches can still be on their way.
        support.wait_for(lambda: rlwatch.flush(5), 60, "every step of verl-run and its answer")
        self.assertEqual(self.server.step_count("verl-run"), len(rows))
        expected = support.replay_alerts(str(path), cwd=self.dir)
        self.assertTrue(expected)
        self.assertEqual(sorted(support.alert_key(alert) for alert in seen), expected)

    def test_install_without_an_instance_hooks_every_new_tracking(self) -> None:
        result = support.run_client(textwrap.dedent("""
            import sys, types
            from test_adapters import Tracking
            for name in ("verl", "verl.utils", "verl.utils.tracking"):
                sys.modules[name] = types.ModuleType(name)
            sys.modules["verl.utils.tracking"].Tracking = Tracking
            import rlwatch_client as rlwatch
            backend = rlwatch.install_verl()          # attaches itself on first log
            backend_again = rlwatch.install_verl()    # idempotent: one hook, the latest backend
            tracking = Tracking("project", "experiment")  # what veRL's fit() does
            print(sorted(tracking.logger))
            for step in range(1, 21):
                tracking.log({"actor/entropy": 0.5, "actor/kl_loss": 0.001, "critic/score/mean": 0.7}, step)
            print(rlwatch.get_monitor().framework, rlwatch.flush(30))
        """), cwd=self.dir, env={"RLWATCH_URL": self.server.url, "RLWATCH_RUN_ID": "verl-hooked"})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.splitlines(), ["['rlwatch']", "verl True"])
        self.assertEqual(self.server.step_count("verl-hooked"), 20)

    def test_install_refuses_something_that_is_not_a_tracking(self) -> None:
        with self.assertRaises(TypeError):
            rlwatch.install_verl(object())


class OpenRLHFTests(AdapterTestCase):
    def test_openrlhf_logs_reach_the_server_next_to_an_existing_logger(self) -> None:
        class WandbLogger:
            def __init__(self) -> None:
                self.calls = []

            def log_train(self, global_step, logs_dict) -> None:
                self.calls.append(global_step)

            def log_eval(self, global_step, logs_dict) -> None:
                pass

            def close(self) -> None:
                self.calls.append("closed")

        class Trainer:
            wandb_logger = WandbLogger()
            tensorboard_logger = None

        trainer = Trainer()
        original = trainer.wandb_logger
        seen = []
        rlwatch.attach(url=self.server.url, run_id="openrlhf-run", framework="openrlhf", on_alert=seen.append,
                       print_alerts=False)
        logger = rlwatch.install_openrlhf(trainer)
        self.assertIsInstance(logger, rlwatch.RLWatchOpenRLHFLogger)
        rng = random.Random(1)
        with support.captured_log() as messages:
            for step in range(1, 301):
                metrics = support.grpo_step(step, rng)
                logs = {"entropy_loss": -metrics["entropy"], "kl": metrics["kl"], "reward": metrics["reward_mean"],
                        "policy_loss": metrics["loss"], "actor_grad_norm": metrics["grad_norm"],
                        "generated_samples": ["a completion", 0.5]}
                trainer.wandb_logger.log_train(step, logs)  # what save_logs_and_checkpoints does
                trainer.wandb_logger.log_eval(step, {"eval_accuracy": 0.3})
            trainer.wandb_logger.close()
        self.assertEqual(messages, [])  # generated_samples is not a metric: no warning
        self.assertEqual(original.calls[:3], [1, 2, 3])
        self.assertEqual(original.calls[-1], "closed")
        # The end of training flushed for at most the 10 s stop_timeout and the client goes on sending after it;
        # on a loaded machine the last batches can still be on their way.
        support.wait_for(lambda: rlwatch.flush(5), 60, "every step of openrlhf-run and its answer")
        self.assertEqual(self.server.step_count("openrlhf-run"), 300)
        self.assertIn("entropy_collapse", {alert["detector"] for alert in seen})


if __name__ == "__main__":
    unittest.main()
