"""Alerts the server returns, as plain dicts, and how they are shown in the training process."""

from __future__ import annotations

import sys
from typing import Any, Dict, Mapping

_COLOURS = {"critical": "\033[1;31m", "warning": "\033[1;33m"}
_RESET = "\033[0m"


def format_alert(alert: Mapping[str, Any], run_id: str, colour: bool = False) -> str:
    """One alert as a short block: a headline, then the recommendation indented under it.

    ``rlwatch CRITICAL step 219 entropy_collapse (run grpo-7b): Policy entropy …``
    ``  -> Raise the entropy bonus …``
    """
    severity = str(alert.get("severity") or "alert").lower()
    headline = (
        f"rlwatch {severity.upper()} step {alert.get('step', '?')} {alert.get('detector', '?')}"
        f" (run {run_id}): {alert.get('message', '')}"
    )
    if colour and severity in _COLOURS:
        headline = _COLOURS[severity] + headline + _RESET
    recommendation = alert.get("recommendation")
    text = headline + (f"\n  -> {recommendation}" if recommendation else "")
    values = alert.get("metric_values")
    if isinstance(values, Mapping) and values.get("resume_from"):
        text += f"\n  -> resume from {values['resume_from']} (step {values.get('resume_from_step', '?')})"
    action = alert.get("action")
    if isinstance(action, Mapping) and action.get("kind"):
        text += f"\n  -> actions: {action['kind']}" + (" (dry run)" if action.get("dry_run") else "")
    return text


def print_alert(alert: Mapping[str, Any], run_id: str) -> None:
    """Writes the alert to the training process's stderr; never raises."""
    try:
        stream = sys.stderr
        colour = hasattr(stream, "isatty") and stream.isatty()
        stream.write(format_alert(alert, run_id, colour) + "\n")
        stream.flush()
    except Exception:
        pass


def as_alert(value: Any) -> Dict[str, Any]:
    """The alert dict as the server sent it (copied, so callers may keep it)."""
    return dict(value) if isinstance(value, Mapping) else {"message": str(value)}
