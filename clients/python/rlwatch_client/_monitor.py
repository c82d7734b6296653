"""``Monitor``: one monitored run, as returned by ``attach()``."""

from __future__ import annotations

import logging
import threading
from array import array
from collections import deque
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional

from ._alerts import print_alert
from ._local_server import LocalServer
from ._shipper import ConfigError, Shipper, spool_path
from ._spool import Spool
from ._transport import Transport
from ._values import REWARDS_KEY, ValueCleaner

log = logging.getLogger("rlwatch_client")


class Monitor:
    """A run being streamed to an rlwatch server (or to the spool file while there is none).

    ``log_step`` only puts the step on an in-memory queue; a daemon thread batches the queue to the
    server and prints the alerts it answers with. Nothing here raises into the training loop.

    Create one with ``rlwatch_client.attach()``.
    """

    def __init__(
        self,
        *,
        run_id: str,
        framework: str,
        config: Dict[str, Any],
        url: Optional[str],
        token: Optional[str],
        spool_dir: str,
        batch_size: int = 500,
        flush_interval: float = 0.5,
        max_queue: int = 10_000,
        request_timeout: float = 10.0,
        max_backoff: float = 30.0,
        stop_timeout: float = 10.0,
        print_alerts: bool = True,
        on_alert: Optional[Callable[[Dict[str, Any]], None]] = None,
        local_server: Optional[LocalServer] = None,
        log_dir: Optional[str] = None,
        adapters: Optional[Callable[[str, "Monitor"], Any]] = None,
    ) -> None:
        self.framework = framework
        self.config = config
        self.url = url
        self.log_dir = log_dir
        self.stop_timeout = stop_timeout
        self._local_server = local_server
        #: Makes a framework adapter bound to this monitor (``attach()`` passes one); kept out of this module so
        #: that ``Monitor`` imports no adapter and the adapters can import ``Monitor``.
        self._adapters = adapters
        self._print_alerts = print_alerts
        self._user_on_alert = on_alert
        self._alerts: Deque[Dict[str, Any]] = deque(maxlen=10_000)
        self._cleaner = ValueCleaner()
        self._queue: Deque = deque()
        self._batch_size = batch_size
        self._closed = False
        self._forked = False
        self._stop_lock = threading.Lock()
        self._trl_callback = None
        #: rlwatch 0.5.1's attribute names for the adapters; see ``verl_backend`` and ``openrlhf_logger``.
        self._verl_tracker = None
        self._openrlhf_logger = None
        #: The first alert whose server answer asked to act on training (``actions.on_critical``), until taken.
        self._requested: Optional[Dict[str, Any]] = None
        self._acted = False

        self.spool_path = spool_path(spool_dir, run_id)
        spool = Spool(self.spool_path, batch_size)
        transport = Transport(url, token, request_timeout) if url else None
        registration: Dict[str, Any] = {"run_id": run_id, "framework": framework}
        if config:
            registration["config"] = config
        self._shipper = Shipper(
            transport=transport,
            queue=self._queue,
            spool=spool,
            registration=registration,
            batch_size=batch_size,
            flush_interval=flush_interval,
            max_queue=max_queue,
            request_timeout=request_timeout,
            max_backoff=max_backoff,
            on_alert=self._on_alert,
        )
        if spool.inherited:
            log.warning("rlwatch: found %d unsent steps of run %s in %s from an earlier process; they are sent first",
                        spool.inherited, run_id, self.spool_path)
        if transport is not None:
            try:
                registered = self._shipper.register(min(request_timeout, 5.0))
            except ConfigError:
                spool.close()
                transport.close()
                raise
            if not registered:
                self._shipper.report_unreachable()
        else:
            log.warning(
                "rlwatch: no rlwatch server (RLWATCH_URL is unset; no rlwatch-server wheel and no `rlwatch` on "
                "PATH); steps of run %s "
                "are written to %s. Watch them live with `rlwatch watch %s --run-id %s`, or ingest them later "
                "with `rlwatch replay %s --run-id %s`",
                run_id, self.spool_path, self.spool_path, run_id, self.spool_path, run_id,
            )
        self._shipper.start()

    # MARK: - Logging (the hot path)

    def log_step(self, step: int, **metrics: Any) -> None:
        """Queues one step's metrics; returns at once and never raises.

        Values may be Python numbers, bools, numpy scalars/arrays, torch tensors (GPU ones too),
        nested dicts (flattened with ``/``) and, for ``rewards``, lists/arrays of per-sample rewards.
        ``None`` means "not logged"; anything else unusable is dropped with one warning per key.

        Unlike rlwatch 0.5.1 this returns None, not the alerts: detection runs in the server, and its
        alerts are printed to stderr, passed to ``on_alert`` and collected in ``alerts``.
        """
        if self._closed:
            self._after_stop()
            return
        try:
            if type(step) is not int:
                step = self._cleaner.clean_step(step)
                if step is None:
                    return
            for key, value in metrics.items():
                kind = type(value)
                if kind is not float and kind is not int:
                    if kind is list and key == REWARDS_KEY and value:
                        try:  # the common non-scalar: a flat list of rewards, converted at C speed
                            metrics[key] = array("d", value)
                            continue
                        except TypeError:
                            pass
                    metrics = self._cleaner.clean(metrics)
                    break
            queue = self._queue
            queue.append((step, metrics))
            if len(queue) >= self._batch_size:
                self._shipper.nudge(len(queue))
        except Exception as error:  # never into training
            self._cleaner.warn_once(("log_step", type(error)), f"rlwatch: could not log a step: {error!r}")

    def log_metrics(self, step: Any, metrics: Mapping[str, Any]) -> None:
        """``log_step`` for a metrics dict whose keys need not be identifiers (``actor/entropy``).

        What the adapters call. Unlike ``log_step``, a dict with no usable value logs nothing.
        """
        if self._closed:
            self._after_stop()
            return
        try:
            clean_step = self._cleaner.clean_step(step)
            if clean_step is None:
                return
            clean = self._cleaner.clean(metrics)
            if not clean:  # as in 0.5.1's adapters: a row with nothing usable is not a step
                return
            self._queue.append((clean_step, clean))
            if len(self._queue) >= self._batch_size:
                self._shipper.nudge(len(self._queue))
        except Exception as error:  # never into training
            self._cleaner.warn_once(("log_step", type(error)), f"rlwatch: could not log a step: {error!r}")

    # MARK: - Checkpoints and actions

    def report_checkpoint(self, step: Any, path: str) -> None:
        """Tells the server that the trainer saved a checkpoint at ``step`` in ``path``, so that later alerts name
        it as where to resume (``resume_from``). Returns at once and never raises; the adapters call it."""
        try:
            clean_step = self._cleaner.clean_step(step)
            if clean_step is None or not path or self._closed:
                return
            self._shipper.post_side("checkpoints", {"step": int(clean_step), "path": str(path)})
        except Exception as error:  # never into training
            self._cleaner.warn_once(("checkpoint", type(error)), f"rlwatch: could not report a checkpoint: {error!r}")

    @property
    def requested_action(self) -> Optional[Dict[str, Any]]:
        """The action the server asked for (``{"kind": "stop" | "save_and_stop", "reason", "alert"}``), or None.

        Set only by an answer of the server that carries an alert matching the ``actions:`` section; never by the
        server being unreachable or slow. Stays set once set (a run is stopped once).
        """
        return self._requested

    def action_taken(self, result: str = "done") -> None:
        """Reports, once, that the adapter acted on ``requested_action`` (shown by the API, dashboard, diagnose)."""
        request = self._requested
        if request is None or self._acted:
            return
        self._acted = True
        alert = request.get("alert", {})
        log.warning("rlwatch: %s training of run %s: %s %s at step %s (%s)",
                    "checkpointing and stopping" if request["kind"] == "save_and_stop" else "stopping",
                    self.run_id, alert.get("severity"), alert.get("detector"), alert.get("step"), request.get("reason"))
        self._shipper.post_side("actions", {
            "action": request["kind"], "step": alert.get("step") if isinstance(alert.get("step"), int) else -1,
            "detector": str(alert.get("detector") or "?"), "severity": str(alert.get("severity") or "?"),
            "reason": str(request.get("reason") or ""), "result": result,
        })

    # MARK: - Lifecycle

    @property
    def run_id(self) -> str:
        """The run's id (as the server knows it)."""
        return self._shipper.run_id

    @property
    def alerts(self) -> List[Dict[str, Any]]:
        """The alerts the server has returned so far (the latest 10 000), oldest first."""
        return list(self._alerts)

    @property
    def stopped(self) -> bool:
        return self._closed

    def flush(self, timeout: float = 10.0) -> bool:
        """Blocks until every step logged so far is on the server (or a send fails, or ``timeout``).

        - Returns: True if everything was delivered.
        """
        if self._closed or self._forked:
            return False
        return self._shipper.flush(timeout)

    def end_training(self, timeout: Optional[float] = None) -> bool:
        """Training is over but the process goes on (a notebook, evaluation after training): flushes, then closes
        the run on the server so that its silence is not reported as a stall. Steps logged later reopen it.
        The trainer integrations call it at the end of training; ``stop()`` does the same and more.

        - Returns: True if every step reached the server before the run was closed.
        """
        if self._closed or self._forked:
            return False
        delivered = self._shipper.flush(self.stop_timeout if timeout is None else timeout)
        self._shipper.request_finish()
        return delivered

    def stop(self, timeout: Optional[float] = None) -> None:
        """Flushes (at most ``timeout`` seconds, default ``stop_timeout``), tells the server the run
        finished, stops a server ``attach`` started, and says on stderr where unsent steps are.

        Idempotent; registered with ``atexit``; safe to call from any thread.
        """
        with self._stop_lock:
            if self._closed:
                return
            self._closed = True
        if self._forked:
            return
        try:
            self._shipper.stop(self.stop_timeout if timeout is None else timeout)
        except Exception as error:
            log.warning("rlwatch: error while stopping: %r", error)
        if self._local_server is not None:
            self._local_server.stop()
        self._report()

    def attach_to_trainer(self, trainer: Any) -> Any:
        """Adds the rlwatch callback to a Hugging Face / TRL ``Trainer`` (``trainer.add_callback``).

        - Returns: The callback.
        """
        callback = self._adapter("trl")
        trainer.add_callback(callback)
        self._trl_callback = callback
        return callback

    @property
    def verl_backend(self) -> Any:
        """A veRL tracking backend bound to this run (``tracking.logger["rlwatch"] = monitor.verl_backend``)."""
        if self._verl_tracker is None:
            self._verl_tracker = self._adapter("verl")
        return self._verl_tracker

    @property
    def openrlhf_logger(self) -> Any:
        """An OpenRLHF logger bound to this run (``trainer.wandb_logger = monitor.openrlhf_logger``)."""
        if self._openrlhf_logger is None:
            self._openrlhf_logger = self._adapter("openrlhf")
        return self._openrlhf_logger

    # MARK: - Private

    def _adapter(self, framework: str) -> Any:
        if self._adapters is None:
            raise RuntimeError("rlwatch: this Monitor was not made by attach(); create the adapter with it instead "
                               "(RLWatchTRLCallback(monitor), RLWatchVerlBackend(monitor), RLWatchOpenRLHFLogger(monitor))")
        return self._adapters(framework, self)

    def _on_alert(self, alert: Dict[str, Any]) -> None:
        self._alerts.append(alert)
        action = alert.get("action")
        if isinstance(action, dict) and action.get("kind") in ("stop", "save_and_stop") and self._requested is None:
            if action.get("dry_run"):
                self._shipper.post_side("actions", {
                    "action": action["kind"], "step": alert.get("step") if isinstance(alert.get("step"), int) else -1,
                    "detector": str(alert.get("detector") or "?"), "severity": str(alert.get("severity") or "?"),
                    "reason": str(action.get("reason") or ""), "result": "dry_run",
                })
                self._cleaner.warn_once(("dry-run", alert.get("detector"), alert.get("step")),
                                        f"rlwatch dry run: would {action['kind']} training on {alert.get('severity')} "
                                        f"{alert.get('detector')} at step {alert.get('step')} ({action.get('reason')})")
            else:
                self._requested = {"kind": action["kind"], "reason": action.get("reason"), "alert": alert}
        if self._print_alerts:
            print_alert(alert, self.run_id)
        if self._user_on_alert is not None:
            self._user_on_alert(alert)

    def _after_stop(self) -> None:
        if self._forked:
            self._cleaner.warn_once("forked", "rlwatch: log_step() in a forked child process is ignored; "
                                              "log from the process that called attach()")
        else:
            self._cleaner.warn_once("stopped", f"rlwatch: log_step() after stop() is ignored (run {self.run_id})")

    def _crashed(self, report: Dict[str, Any]) -> None:
        """The process is exiting because of an uncaught exception: ``stop()`` reports it instead of finishing."""
        self._shipper.crash_report = dict(report)

    def _mark_forked(self) -> None:
        """In a child created by ``os.fork``: the sender thread does not exist here, so log nothing."""
        self._forked = True
        self._closed = True

    def _report(self) -> None:
        shipper = self._shipper
        pending = shipper.pending_in_spool
        if pending:
            hint = f" --log-dir {self.log_dir}" if self._local_server is not None and self.log_dir else ""
            log.warning(
                "rlwatch: %d step(s) of run %s did not reach the server and are kept in %s. Ingest them with:\n"
                "  rlwatch replay %s --run-id %s%s\n"
                "or attach again with run_id=%r and a reachable server: the client sends its spool first.",
                pending, self.run_id, self.spool_path, self.spool_path, self.run_id, hint, self.run_id,
            )
        if shipper.rejected_steps:
            log.warning("rlwatch: %d step(s) were rejected by the server and are kept in %s",
                        shipper.rejected_steps, shipper.rejected_path)
        if shipper.lost_steps:
            log.error("rlwatch: %d step(s) were lost: they could not be sent nor written to disk", shipper.lost_steps)
        if self._local_server is not None and not pending and self.log_dir:
            log.info("rlwatch: run %s is stored in %s; see `rlwatch diagnose --run-id %s --log-dir %s`",
                     self.run_id, self.log_dir, self.run_id, self.log_dir)
