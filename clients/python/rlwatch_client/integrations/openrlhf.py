"""OpenRLHF logger.

OpenRLHF's PPO trainers call ``self.wandb_logger.log_train(global_step, logs_dict)`` (and
``tensorboard_logger``) from ``save_logs_and_checkpoints``; it has no callback API. The logger here
has that interface; ``install_openrlhf(trainer)`` plugs it in next to any logger already there.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from .._monitor import Monitor
from ._resolve import resolve, send

#: A (text, reward) sample OpenRLHF puts in the training logs for W&B tables; not a metric.
_NOT_METRICS = ("generated_samples",)


class RLWatchOpenRLHFLogger:
    """``log_train(global_step, logs_dict)`` sends the step; ``log_eval`` is ignored; ``close()`` flushes."""

    def __init__(self, monitor: Optional[Monitor] = None) -> None:
        self._monitor = monitor

    def log_train(self, global_step: Any, logs_dict: Mapping[str, Any]) -> None:
        self._monitor = resolve(self._monitor, "openrlhf", attach_if_missing=True)
        if any(key in logs_dict for key in _NOT_METRICS):
            logs_dict = {key: value for key, value in logs_dict.items() if key not in _NOT_METRICS}
        send(self._monitor, global_step, logs_dict)

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
    return logger
