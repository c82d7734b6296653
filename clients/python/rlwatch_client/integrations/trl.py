"""TRL / Hugging Face ``Trainer`` callback.

``RLWatchTRLCallback`` subclasses ``transformers.TrainerCallback`` when transformers can be imported
(it is imported when this module is, never by ``import rlwatch_client``), and is a duck-typed
stand-in with the same no-op event methods otherwise, which ``Trainer.add_callback`` accepts too.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional

from .._monitor import Monitor
from ._resolve import resolve, send

try:  # pragma: no branch
    from transformers import TrainerCallback as _Base
except Exception:  # ImportError, or a broken install: never fail the training script over it

    class _Base:  # type: ignore[no-redef]
        """Stand-in for ``transformers.TrainerCallback``: every event is a no-op."""

        def __getattr__(self, name: str) -> Any:
            if name.startswith("on_"):
                return _no_op
            raise AttributeError(name)


def _no_op(*args: Any, **kwargs: Any) -> None:
    return None


#: Keys of the Hugging Face end-of-training summary row (``train_runtime``, ``train_loss``, …),
#: which would otherwise add a spurious last step holding the run's average loss.
_SUMMARY_MARKER = "train_runtime"


class RLWatchTRLCallback(_Base):
    """Sends every ``Trainer.log`` row to rlwatch as ``log_step(state.global_step, **logs)``.

    Keys go as TRL logged them (``entropy``, ``kl``, ``reward``, ``rewards/<func>/mean``,
    ``completions/clipped_ratio`` …); the server maps them. Skipped: the end-of-training summary,
    pure evaluation rows (every key ``eval_*``: they would repeat a training step's number), and
    every process but the main one (``state.is_world_process_zero``).

    - Parameters:
      - monitor: The monitor to log to; default the global one. With none at ``on_train_begin``,
        the callback attaches one itself (``attach(framework="trl")``), so
        ``Trainer(..., callbacks=[RLWatchTRLCallback()])`` is enough on its own.
    """

    def __init__(self, monitor: Optional[Monitor] = None) -> None:
        self._monitor = monitor

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if getattr(state, "is_world_process_zero", True):
            self._monitor = resolve(self._monitor, "trl", attach_if_missing=True)

    def on_log(self, args: Any, state: Any, control: Any, logs: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> None:
        if not logs or not getattr(state, "is_world_process_zero", True):
            return
        if _SUMMARY_MARKER in logs or _only_eval(logs):
            return
        monitor = resolve(self._monitor, "trl", attach_if_missing=False)
        send(monitor, getattr(state, "global_step", None), logs)
        _act(monitor, control)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        _act(resolve(self._monitor, "trl", attach_if_missing=False), control)

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """``Trainer._save_checkpoint`` wrote ``output_dir/checkpoint-{global_step}``: reported, so that alerts name it."""
        monitor = resolve(self._monitor, "trl", attach_if_missing=False)
        if monitor is None or not getattr(state, "is_world_process_zero", True):
            return
        step = getattr(state, "global_step", None)
        output_dir = getattr(args, "output_dir", None)
        if isinstance(step, int) and output_dir:
            monitor.report_checkpoint(step, os.path.join(str(output_dir), f"checkpoint-{step}"))

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        monitor = resolve(self._monitor, "trl", attach_if_missing=False)
        if monitor is not None and getattr(state, "is_world_process_zero", True):
            monitor.end_training()


def _act(monitor: Optional[Monitor], control: Any) -> None:
    """At a step boundary: when the server's answer asked to stop (``actions.on_critical``), sets
    ``control.should_save`` (``save_and_stop``) and ``control.should_training_stop``; the Trainer then saves and leaves
    its loop cleanly (``on_train_end`` runs). Only an answer of the server sets the request: an unreachable or slow
    server never stops training."""
    if monitor is None or control is None:
        return
    request = monitor.requested_action
    if request is None:
        return
    if request["kind"] == "save_and_stop":
        control.should_save = True
    control.should_training_stop = True
    monitor.action_taken()


def _only_eval(logs: Mapping[str, Any]) -> bool:
    keys = [key for key in logs if key != "epoch"]
    return bool(keys) and all(isinstance(key, str) and key.startswith(("eval_", "test_")) for key in keys)
