"""How an adapter finds its monitor: the one it was given, else the global one (``_current``)."""

from __future__ import annotations

from typing import Any, Optional

from .. import _current
from .._monitor import Monitor


def resolve(monitor: Optional[Monitor], framework: str, attach_if_missing: bool) -> Optional[Monitor]:
    """The adapter's monitor; with ``attach_if_missing``, ``attach(framework=…)`` when there is none.

    A failing implicit attach is reported once and the adapter stays silent: it runs inside the
    training loop and must not raise there.
    """
    if monitor is not None:
        return monitor
    current = _current.monitor
    if current is not None or not attach_if_missing or _current.attach is None:
        return current
    try:
        return _current.attach(framework=framework)
    except Exception as error:
        _current.warnings.warn_once(("implicit-attach", framework),
                                    f"rlwatch: could not attach for {framework}: {error}; metrics are not monitored")
        return None


def send(monitor: Optional[Monitor], step: Any, metrics: Any) -> None:
    if monitor is None:
        _current.warn_unattached()
        return
    monitor.log_metrics(step, metrics)
