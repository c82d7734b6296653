"""OpenRLHF logger.

OpenRLHF's PPO trainers call ``self.wandb_logger.log_train(global_step, logs_dict)`` (and
``tensorboard_logger``) from ``save_logs_and_checkpoints``; it has no callback API. The logger here
has that interface; ``install_openrlhf(trainer)`` plugs it in next to any logger already there.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional

from .._actions import stop_if_requested
from .._monitor import Monitor
from ._resolve import resolve, send

#: A (text, reward) sample OpenRLHF puts in the training logs for W&B tables; not a metric.
_NOT_METRICS = ("generated_samples",)


class RLWatchOpenRLHFLogger:
    """``log_train(global_step, logs_dict)`` sends the step; ``log_eval`` is ignored; ``close()`` flushes."""

    def __init__(self, monitor: Optional[Monitor] = None) -> None:
        self._monitor = monitor
        self._hooked_trainer: Any = None

    def log_train(self, global_step: Any, logs_dict: Mapping[str, Any]) -> None:
        self._monitor = resolve(self._monitor, "openrlhf", attach_if_missing=True)
        if any(key in logs_dict for key in _NOT_METRICS):
            logs_dict = {key: value for key, value in logs_dict.items() if key not in _NOT_METRICS}
        send(self._monitor, global_step, logs_dict)
        if self._hooked_trainer is None:
            # Without the trainer hooked, the next log ends fit(); with it, the hook does after the step's save.
            stop_if_requested(self._monitor)

    def log_eval(self, global_step: Any, logs_dict: Mapping[str, Any]) -> None:
        """Evaluation metrics feed no detector; accepted and ignored."""

    def close(self) -> None:
        monitor = resolve(self._monitor, "openrlhf", attach_if_missing=False)
        if monitor is not None:
            monitor.end_training()

    finish = close


class _Both:
    """Forwards the logger calls to two loggers, and anything else to the first (the original)."""

    def __init__(self, original: Any, extra: RLWatchOpenRLHFLogger) -> None:
        self._original = original
        self._extra = extra

    def log_train(self, global_step: Any, logs_dict: Mapping[str, Any]) -> None:
        self._original.log_train(global_step, logs_dict)
        self._extra.log_train(global_step, logs_dict)

    def log_eval(self, global_step: Any, logs_dict: Mapping[str, Any]) -> None:
        self._original.log_eval(global_step, logs_dict)

    def close(self) -> None:
        self._extra.close()
        self._original.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)


def install_openrlhf(trainer: Any, monitor: Optional[Monitor] = None) -> RLWatchOpenRLHFLogger:
    """Makes an OpenRLHF trainer log to rlwatch too: sets ``trainer.wandb_logger`` to the rlwatch
    logger, or to a pair of (existing W&B logger, rlwatch logger) if W&B is configured.

    - Returns: The rlwatch logger.
    """
    logger = RLWatchOpenRLHFLogger(monitor)
    existing = getattr(trainer, "wandb_logger", None)
    trainer.wandb_logger = logger if existing is None else _Both(existing, logger)
    _hook_saves(trainer, logger)
    return logger


def _hook_saves(trainer: Any, logger: RLWatchOpenRLHFLogger) -> None:
    """Wraps ``save_logs_and_checkpoints(args, global_step, …)``, where OpenRLHF logs a step, then saves
    ``args.ckpt_path/global_step{N}`` every ``args.save_steps``: each save is reported, and a stop asked for by the
    server is raised after the step's logging and save (``save_and_stop`` saves first if this step did not)."""
    original = getattr(trainer, "save_logs_and_checkpoints", None)
    save = getattr(trainer, "_save_checkpoint", None)
    if original is None or getattr(original, "_rlwatch_wrapped", False):
        return
    logger._hooked_trainer = trainer

    def save_logs_and_checkpoints(args: Any, global_step: Any, *rest: Any, **kwargs: Any) -> Any:
        result = original(args, global_step, *rest, **kwargs)
        monitor = resolve(logger._monitor, "openrlhf", attach_if_missing=False)
        save_steps = getattr(args, "save_steps", -1)
        ckpt_path = getattr(args, "ckpt_path", None)
        saved = isinstance(save_steps, int) and save_steps > 0 and isinstance(global_step, int) \
            and global_step % save_steps == 0
        tag = f"global_step{global_step}"
        if monitor is not None and saved and ckpt_path:
            monitor.report_checkpoint(global_step, os.path.join(str(ckpt_path), tag))
        client_states = kwargs.get("client_states", rest[-1] if rest else {})

        def save_now() -> None:
            if not saved and save is not None:
                save(args, tag, client_states)
                if monitor is not None and ckpt_path:
                    monitor.report_checkpoint(global_step, os.path.join(str(ckpt_path), tag))

        stop_if_requested(monitor, save_now)
        return result

    save_logs_and_checkpoints._rlwatch_wrapped = True  # type: ignore[attr-defined]
    trainer.save_logs_and_checkpoints = save_logs_and_checkpoints
