"""The exception the veRL and OpenRLHF adapters raise to end ``fit()`` when the server asks to stop training."""

from __future__ import annotations

from typing import Any, Dict


class RLWatchStopTraining(Exception):
    """Raised from a framework's logging call (veRL ``Tracking.log``, OpenRLHF ``log_train``) at the step after the
    server's answer carried an alert matching ``actions.on_critical``: it unwinds ``fit()`` the way any exception
    in the loop does, after the framework's own checkpoint save of that step. Catch it around ``fit()`` to exit
    cleanly. Never raised because the server is unreachable or slow.
    """

    def __init__(self, request: Dict[str, Any]) -> None:
        alert = request.get("alert", {})
        resume = (alert.get("metric_values") or {}).get("resume_from")
        self.request = request
        self.alert = alert
        super().__init__(
            f"rlwatch stopped training ({request.get('kind')}): {alert.get('severity')} {alert.get('detector')} at "
            f"step {alert.get('step')}: {alert.get('message')} [{request.get('reason')}]"
            + (f"; resume from {resume}" if resume else ""))


def stop_if_requested(monitor: Any, save: Any = None) -> None:
    """Raises ``RLWatchStopTraining`` when ``monitor`` holds a request to stop; calls ``save()`` first for
    ``save_and_stop`` when the adapter knows how to make the framework save."""
    request = getattr(monitor, "requested_action", None)
    if request is None:
        return
    result = "done"
    if request["kind"] == "save_and_stop" and save is not None:
        try:
            save()
        except Exception as error:  # the stop still happens: the run is in trouble
            result = f"checkpoint failed: {error!r}"
    monitor.action_taken(result)
    raise RLWatchStopTraining(request)
