"""veRL tracking backend.

veRL's ``Tracking`` keeps its backends in the instance dict ``tracking.logger`` and calls each as
``backend.log(data=…, step=…)``; it has no registration API (rlwatch 0.5.1 looked for one that does
not exist). ``install_verl(tracking)`` puts the backend in that dict; ``install_verl()`` without an
instance hooks ``Tracking.__init__`` so that every ``Tracking`` created afterwards in this process
gets one (veRL's trainer builds its ``Tracking`` inside ``fit()``, out of the user's reach).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any, Mapping, Optional

from .._actions import stop_if_requested
from .._monitor import Monitor
from ._resolve import resolve, send

_BACKEND_NAME = "rlwatch"


class RLWatchVerlBackend:
    """A veRL tracking backend: ``log(data, step)`` sends the step, ``finish()`` flushes.

    - Parameters:
      - monitor: Default the global monitor; with none, the first ``log`` attaches one
        (``attach(framework="verl")``).
    """

    def __init__(self, monitor: Optional[Monitor] = None, trainer: Any = None) -> None:
        self._monitor = monitor
        self._trainer = trainer
        if trainer is not None:
            _report_saves(trainer, self)

    def log(self, data: Mapping[str, Any], step: Any, **kwargs: Any) -> None:
        self._monitor = resolve(self._monitor, "verl", attach_if_missing=True)
        send(self._monitor, step, data)
        # veRL's fit() logs a step after that step's checkpoint save: raising here ends fit() after it.
        trainer = self._trainer
        save = getattr(trainer, "_save_checkpoint", None) if trainer is not None else None
        stop_if_requested(self._monitor, save)

    def checkpoint_saved(self, step: Any, path: str) -> None:
        """Reports a checkpoint (``default_local_dir/global_step_N``); done by itself when given the trainer."""
        monitor = resolve(self._monitor, "verl", attach_if_missing=False)
        if monitor is not None:
            monitor.report_checkpoint(step, path)

    def finish(self, *args: Any, **kwargs: Any) -> None:
        monitor = resolve(self._monitor, "verl", attach_if_missing=False)
        if monitor is not None:
            monitor.end_training()

    close = finish


def _report_saves(trainer: Any, backend: RLWatchVerlBackend) -> None:
    """Wraps ``RayPPOTrainer._save_checkpoint`` (which writes ``config.trainer.default_local_dir/global_step_{N}``)
    so that each save is reported."""
    original = getattr(trainer, "_save_checkpoint", None)
    if original is None or getattr(original, "_rlwatch_wrapped", False):
        return

    def _save_checkpoint(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        try:
            step = getattr(trainer, "global_steps", None)
            root = trainer.config.trainer.default_local_dir
            backend.checkpoint_saved(step, os.path.join(str(root), f"global_step_{step}"))
        except Exception:  # never into training
            pass
        return result

    _save_checkpoint._rlwatch_wrapped = True  # type: ignore[attr-defined]
    trainer._save_checkpoint = _save_checkpoint


#: rlwatch 0.5.1's name for the same thing.
RLWatchVerLTracker = RLWatchVerlBackend


def install_verl(tracking: Any = None, monitor: Optional[Monitor] = None, trainer: Any = None) -> RLWatchVerlBackend:
    """Adds an rlwatch backend to a veRL ``Tracking`` (``tracking.logger["rlwatch"] = backend``).

    - Parameters:
      - tracking: A ``verl.utils.tracking.Tracking``. None: hook the class, so every ``Tracking``
        made later in this process (in veRL's trainer, the one ``fit()`` creates) gets the backend.
        Call it in the process that runs ``fit()`` (with Ray, inside the trainer's actor).
      - monitor: Default the global one.
      - trainer: veRL's ``RayPPOTrainer``, optional: its checkpoint saves are reported, and ``save_and_stop`` calls its
        ``_save_checkpoint()`` before stopping.
    - Returns: The backend (shared by every hooked ``Tracking``).
    - Throws: ``TypeError`` if ``tracking`` has no ``logger`` dict; ``ImportError`` without veRL.
    """
    backend = RLWatchVerlBackend(monitor, trainer)
    if tracking is not None:
        loggers = getattr(tracking, "logger", None)
        if not isinstance(loggers, MutableMapping):
            raise TypeError("rlwatch: install_verl() expects a verl.utils.tracking.Tracking (with a .logger dict), "
                            f"got {type(tracking).__name__}")
        loggers[_BACKEND_NAME] = backend
        return backend
    from verl.utils.tracking import Tracking  # noqa: WPS433 (the point is importing it only here)

    original = getattr(Tracking, "_rlwatch_original_init", None) or Tracking.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        loggers = getattr(self, "logger", None)
        if isinstance(loggers, MutableMapping):
            loggers[_BACKEND_NAME] = backend

    Tracking._rlwatch_original_init = original
    Tracking.__init__ = __init__
    return backend
