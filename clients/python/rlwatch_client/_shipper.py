"""The background thread that moves logged steps to the server, or to the spool while it cannot.

State machine (one thread drives it; ``log_step`` only appends to a deque):

- *live*: the spool is empty; batches are taken from the in-memory queue and POSTed. A batch that
  fails is retried with backoff (same Idempotency-Key); if it still fails it goes to the head of
  the spool and the shipper is *down*.
- *draining*: the spool holds steps; to keep the server's view in order, everything new is appended
  behind them and batches are sent from the spool head until it is empty, then back to *live*.
- *down*: like draining, but no request is made before the backoff delay has passed (1 s doubling
  to ``max_backoff``). ``stop()`` and ``flush()`` try once more at once.
- *refused*: the server answered 401/403, or rejected the run's config: it will not take these
  steps however often they are sent, so they all go to the spool for ``rlwatch replay`` later.
- *offline*: there is no server at all (no URL, no ``rlwatch`` binary): spool only.

The queue is bounded: past ``max_queue`` steps (the server is slower than training), the oldest
half goes to the spool from the logging thread, so memory stays bounded and nothing is dropped.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any, Callable, Deque, Dict, List, Optional, Tuple

from ._alerts import as_alert
from ._spool import Spool
from ._transport import Response, Transport, TransientError, split_status
from ._values import encode_step, merge_same_steps

log = logging.getLogger("rlwatch_client")

Entry = Tuple[int, Dict[str, Any]]

#: Delays between the attempts at one live batch before it goes to the spool.
_RETRY_DELAYS = (0.25, 1.0, 2.0)
_FIRST_BACKOFF = 1.0


class ConfigError(ValueError):
    """The server rejected the run's configuration (an unknown or invalid key)."""

    def __init__(self, message: str, key: Optional[str]) -> None:
        super().__init__(f"rlwatch server rejected the config: {message}" + (f" (key {key!r})" if key else ""))
        self.key = key


class Shipper:
    """Owns the queue's consumer side, the connection and the spool of one run.

    - Parameters:
      - transport: How to reach the server; None means offline (spool only).
      - queue: The deque ``log_step`` appends ``(step, metrics)`` to.
      - spool: The run's spool file.
      - registration: The body of ``POST /api/v1/runs``.
      - on_alert: Called (on this thread) with each alert the server returns.
    """

    def __init__(
        self,
        *,
        transport: Optional[Transport],
        queue: Deque[Entry],
        spool: Spool,
        registration: Dict[str, Any],
        batch_size: int,
        flush_interval: float,
        max_queue: int,
        request_timeout: float,
        max_backoff: float,
        on_alert: Callable[[Dict[str, Any]], None],
    ) -> None:
        self.run_id: str = registration["run_id"]
        self._transport = transport
        self._queue = queue
        self._spool = spool
        self._registration = registration
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._max_queue = max_queue
        self._request_timeout = request_timeout
        self._max_backoff = max_backoff
        self._on_alert = on_alert

        self.registered = False
        self.resumed: Optional[Dict[str, Any]] = None
        self.refused: Optional[str] = None
        self.sent_steps = 0
        self.rejected_steps = 0
        self.lost_steps = 0
        self.rejected_path = spool.path.with_name(spool.path.name[: -len(".jsonl")] + ".rejected.jsonl")

        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._interrupt = threading.Event()
        self._idle = threading.Condition()
        self._failures = 0
        self._deadline: Optional[float] = None
        self._try_now = False
        self._next_attempt = 0.0
        self._backoff = _FIRST_BACKOFF
        self._down_since: Optional[float] = None
        self._last_error = ""
        self._inflight: Optional[Tuple[List[bytes], str]] = None
        self._abandoned = False
        # Set at exit after an uncaught exception: the run ends with a crash report instead of ``finish``.
        self.crash_report: Optional[Dict[str, Any]] = None
        # Set when the trainer says training ended while the process lives on (a notebook): once everything
        # is sent, the sender thread closes the run on the server (later steps reopen it).
        self._finish_requested = threading.Event()
        # Small side requests (a checkpoint saved, an action taken), sent by this thread between batches; bounded,
        # oldest dropped: they are reports, never worth holding training up for.
        self._side: Deque[Tuple[str, Dict[str, Any]]] = deque(maxlen=1000)
        self._warned: set = set()
        self._thread = threading.Thread(target=self._run, name="rlwatch-shipper", daemon=True)

    # MARK: - Called from other threads

    def start(self) -> None:
        self._thread.start()

    def nudge(self, queued: int) -> None:
        """Called by ``log_step`` once the queue holds a batch; spills the oldest half past ``max_queue``."""
        if queued > self._max_queue:
            self.spill(queued // 2)
        elif not self._wake.is_set():
            self._wake.set()

    def spill(self, count: int) -> None:
        """Moves the ``count`` oldest queued steps to the spool (on the caller's thread)."""
        with self._spool.lock:
            entries = self._pop_locked(count)
            self._append_locked(entries)
        self._warn_once("spill", f"rlwatch: steps are logged faster than the server takes them; "
                                 f"{len(entries)} were written to {self._spool.path} to be sent later")
        self._wake.set()

    def flush(self, timeout: float) -> bool:
        """Waits until every queued and spooled step is on the server, or until a send fails.

        - Returns: True if everything logged so far was delivered.
        """
        deadline = time.monotonic() + timeout
        failures = self._failures
        self._try_now = True
        self._wake.set()
        with self._idle:
            while True:
                if self._delivered_all():
                    return True
                if self._failures != failures or not self._thread.is_alive():
                    return False
                if (self._transport is None or self.refused is not None) and not self._queue:
                    return False
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(min(remaining, 0.05))

    def stop(self, timeout: float) -> None:
        """Sends what it can within ``timeout`` seconds, spools the rest, tells the server the run ended."""
        self._deadline = time.monotonic() + timeout
        self._try_now = True
        self._stopping.set()
        self._interrupt.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout + 1.0)
        if self._thread.is_alive():
            # Stuck in a request past the deadline: keep everything on disk. The batch in flight may
            # reach the server too; say so rather than lose it.
            with self._spool.lock:
                self._abandoned = True
                if self._inflight is not None:
                    lines, key = self._inflight
                    self._write(lambda: self._spool.prepend(lines, key), len(lines))
                    log.warning("rlwatch: a batch of %d steps was still being sent at exit; it is also in the "
                                "spool, so those steps may be stored twice", len(lines))
                self._append_locked(self._pop_locked(len(self._queue)))
        self._spool.compact()
        self._spool.close()
        if self._transport is not None:
            self._transport.close()

    def register(self, timeout: float) -> bool:
        """``POST /api/v1/runs``. Returns True once the server knows the run.

        - Throws: ``ConfigError`` if the server rejected the configuration (400).
        """
        transport = self._transport
        if transport is None:
            return False
        try:
            response = transport.post_json(transport.path("runs"), self._registration, timeout=timeout)
        except TransientError as error:
            self._last_error = str(error)
            return False
        kind, message = split_status(response)
        if kind == "ok":
            body = response.body if isinstance(response.body, dict) else {}
            server_run_id = body.get("run_id")
            if isinstance(server_run_id, str) and server_run_id:
                self.run_id = server_run_id
                self._registration["run_id"] = server_run_id
            if body.get("resumed") and self.resumed is None:
                self.resumed = body
                log.warning("rlwatch: resuming run %s (the server has %s steps, last step %s)",
                            self.run_id, body.get("steps"), body.get("last_step"))
            self.registered = True
            return True
        if kind == "retry":
            self._last_error = f"HTTP {response.status}: {message}"
            return False
        if response.status == 400:
            raise ConfigError(message, response.error_field("key"))
        self._refuse(f"registering the run failed with HTTP {response.status}: {message}")
        return False

    def report_unreachable(self) -> None:
        """Called when the first registration (in ``attach``) found no server: start the backoff."""
        if self.refused is None:
            self._went_down(self._last_error)

    @property
    def pending_in_spool(self) -> int:
        return self._spool.pending

    # MARK: - The thread

    def _run(self) -> None:
        while True:
            busy = False
            try:
                busy = self._cycle()
            except Exception as error:  # a bug here must neither kill the thread silently nor spin
                self._warn_once(("bug", type(error)), f"rlwatch: internal error in the sender thread: {error!r}")
                self._mark_failure()
            with self._idle:
                self._idle.notify_all()
            if self._stopping.is_set():
                if self._done_stopping(busy):
                    break
            elif not busy:
                self._wake.wait(self._flush_interval)
                self._wake.clear()
        self._finish()
        with self._idle:
            self._idle.notify_all()

    def _cycle(self) -> bool:
        """One step of the state machine. Returns True if there is more to do right away."""
        if self._abandoned:
            return False
        if self._transport is None or self.refused is not None:
            self._spool_queue()
            return False
        may_try = self._try_now or time.monotonic() >= self._next_attempt
        if not self.registered:
            if not may_try:
                self._spool_queue()
                return False
            try:
                registered = self.register(self._timeout_now())
            except ConfigError as error:
                self._refuse(str(error))
                registered = False
            if not registered:
                if self.refused is None:
                    self._went_down(self._last_error)
                self._spool_queue()
                return False
        if self._spool.pending:
            self._spool_queue()
            if not may_try:
                return False
            return self._drain_one()
        if self._side and may_try:
            self._send_side()
        batch = self._take_batch()
        if batch is None:
            self._try_now = False
            if self._finish_requested.is_set() and self._inflight is None:
                self._finish_requested.clear()
                self._post_finish()
            return False
        self._send_live(*batch)
        return len(self._queue) >= (1 if self._stopping.is_set() else self._batch_size)

    def _send_live(self, lines: List[bytes], key: str) -> None:
        outcome = "retry"
        for delay in _RETRY_DELAYS + (None,):
            outcome = self._deliver(lines, key)
            if outcome != "retry" or delay is None or self._past_deadline(delay):
                break
            self._interrupt.wait(delay)
        with self._spool.lock:
            self._inflight = None
            if self._abandoned:
                return
            if outcome == "ok":
                self._recovered()
                return
            self._write(lambda: self._spool.prepend(lines, key), len(lines))
        if outcome == "retry":
            self._went_down(self._last_error)

    def _drain_one(self) -> bool:
        try:
            head = self._spool.head()
        except OSError as error:
            self._warn_once("read-spool", f"rlwatch: cannot read the spool {self._spool.path}: {error}")
            self._went_down(str(error))
            return False
        if head is None:
            return False
        lines, key = head
        outcome = self._deliver(lines, key)
        if outcome == "ok":
            self._recovered()
            self._spool.commit_head(lines)
            if self._spool.pending == 0:
                log.warning("rlwatch: all spooled steps of run %s are now on the server", self.run_id)
            return True
        self._spool.compact()
        if outcome == "retry":
            self._went_down(self._last_error)
        return False

    def _deliver(self, lines: List[bytes], key: str) -> str:
        """POSTs one batch; returns ``ok`` (stored, or rejected into the rejected file), ``retry`` or ``refused``.

        A 4xx reply means nothing of the batch was stored. If it names the bad step (``index``), that
        step goes to ``<run_id>.rejected.jsonl`` and the rest is sent again; a 400 that names no step,
        and 413, split the batch in halves until the bad steps are alone; other 4xx reject the batch; 404
        (the server lost the run, e.g. restarted on another log dir) registers the run again. Keys of
        such derived batches are derived from the original key, so a repeat is idempotent too.
        """
        transport = self._transport
        assert transport is not None
        pending: List[Tuple[List[bytes], str]] = [(lines, key)]
        registered_again = False
        while pending:
            chunk, chunk_key = pending[0]
            if not chunk:
                pending.pop(0)
                continue
            try:
                response = transport.request(
                    "POST", transport.path("runs", self.run_id, "steps"), b"".join(chunk),
                    content_type="application/x-ndjson", headers={"Idempotency-Key": chunk_key},
                    timeout=self._timeout_now(),
                )
            except TransientError as error:
                self._last_error = str(error)
                return "retry"
            kind, message = split_status(response)
            if kind == "ok":
                self.sent_steps += len(chunk)
                self._handle_alerts(response)
                pending.pop(0)
            elif kind == "retry":
                self._last_error = f"HTTP {response.status}: {message}"
                return "retry"
            elif kind == "auth":
                self._refuse(f"HTTP {response.status}: {message}")
                return "refused"
            elif kind == "unknown_run":
                if registered_again:
                    self._refuse(f"the server does not know run {self.run_id} even after registering it: {message}")
                    return "refused"
                registered_again = True
                self.registered = False
                try:
                    if not self.register(self._timeout_now()):
                        return "refused" if self.refused is not None else "retry"
                except ConfigError as error:
                    self._refuse(str(error))
                    return "refused"
            elif kind == "too_large" and len(chunk) > 1:
                half = len(chunk) // 2
                pending[0:1] = [(chunk[:half], _derive(chunk_key, "a")), (chunk[half:], _derive(chunk_key, "b"))]
            else:
                index = response.error_field("index")
                if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(chunk) and len(chunk) > 1:
                    self._reject([chunk[index]], response)
                    pending[0] = (chunk[:index] + chunk[index + 1:], _derive(chunk_key, f"without-{index}"))
                elif response.status == 400 and len(chunk) > 1:
                    # No step named (e.g. a limit on the batch): halve until the bad steps are alone.
                    half = len(chunk) // 2
                    pending[0:1] = [(chunk[:half], _derive(chunk_key, "a")), (chunk[half:], _derive(chunk_key, "b"))]
                else:
                    self._reject(chunk, response)
                    pending.pop(0)
        return "ok"

    def post_side(self, resource: str, payload: Dict[str, Any]) -> None:
        """Queues ``POST /api/v1/runs/{run}/{resource}`` with ``payload`` for the sender thread; never blocks."""
        self._side.append((resource, payload))
        self._wake.set()

    def _send_side(self) -> None:
        """Sends the queued side requests; one that fails for a transient reason waits for the next cycle."""
        transport = self._transport
        while self._side and transport is not None:
            resource, payload = self._side[0]
            try:
                response = transport.post_json(transport.path("runs", self.run_id, resource), payload,
                                               timeout=self._timeout_now())
            except TransientError as error:
                self._warn_once(("side", resource), f"rlwatch: could not report a {resource[:-1]} yet ({error}); "
                                                    "retrying")
                return
            self._side.popleft()
            if response.status >= 300:
                self._warn_once(("side-refused", resource, response.status),
                                f"rlwatch: the server refused a {resource[:-1]} report (HTTP {response.status}: "
                                f"{response.error_message}); not sent again")

    def request_finish(self) -> None:
        """Closes the run on the server once every step logged so far is there (the sender thread does it)."""
        self._finish_requested.set()
        self._wake.set()

    def _post_finish(self) -> None:
        transport = self._transport
        if transport is None:
            return
        try:
            response = transport.request("POST", transport.path("runs", self.run_id, "finish"), b"{}",
                                         timeout=self._timeout_now())
            if response.status >= 300:
                log.warning("rlwatch: finishing run %s: HTTP %d %s", self.run_id, response.status, response.error_message)
        except TransientError as error:
            log.warning("rlwatch: could not tell the server that run %s finished: %s", self.run_id, error)

    def _finish(self) -> None:
        """Tells the server the run ended, if everything reached it."""
        transport = self._transport
        if transport is None or self._abandoned or not self.registered or self.refused is not None:
            return
        if self._spool.pending or self._queue:
            return
        timeout = self._timeout_now()
        if timeout <= 0.05:
            return
        try:
            if self.crash_report is not None:
                response = transport.post_json(
                    transport.path("runs", self.run_id, "crash"), self.crash_report, timeout=timeout)
            else:
                response = transport.request(
                    "POST", transport.path("runs", self.run_id, "finish"), b"{}", timeout=timeout)
            if response.status >= 300:
                log.warning("rlwatch: finishing run %s: HTTP %d %s", self.run_id, response.status, response.error_message)
        except TransientError as error:
            log.warning("rlwatch: could not tell the server that run %s finished: %s", self.run_id, error)

    # MARK: - Helpers

    def _done_stopping(self, busy: bool) -> bool:
        if self._past_deadline(0):
            with self._spool.lock:
                if not self._abandoned:
                    self._append_locked(self._pop_locked(len(self._queue)))
            return True
        if busy:
            return False
        if not self._queue and (self._spool.pending == 0 or not self._try_now or self.refused is not None
                                or self._transport is None):
            return True
        return False

    def _delivered_all(self) -> bool:
        return not self._queue and self._inflight is None and self._spool.pending == 0 and self._transport is not None \
            and self.refused is None and self.registered

    def _take_batch(self) -> Optional[Tuple[List[bytes], str]]:
        """Takes the next live batch off the queue and marks it in flight, both under the lock, so that
        ``flush`` and an abandoning ``stop`` always find it in one place or the other."""
        with self._spool.lock:
            entries = self._pop_locked(self._batch_size)
            if not entries:
                return None
            lines = [encode_step(step, metrics) for step, metrics in merge_same_steps(entries)]
            self._inflight = (lines, str(uuid.uuid4()))
            return self._inflight

    def _pop_locked(self, count: int) -> List[Entry]:
        queue = self._queue
        entries: List[Entry] = []
        try:
            for _ in range(count):
                entries.append(queue.popleft())
        except IndexError:
            pass
        return entries

    def _spool_queue(self) -> None:
        """Appends everything queued behind the spool (in order; the lock keeps ``spill`` out)."""
        count = len(self._queue)
        if not count:
            return
        with self._spool.lock:
            while count > 0:
                self._append_locked(self._pop_locked(min(count, self._batch_size)))
                count -= self._batch_size

    def _append_locked(self, entries: List[Entry]) -> None:
        if entries:
            lines = [encode_step(step, metrics) for step, metrics in merge_same_steps(entries)]
            self._write(lambda: self._spool.append(lines), len(lines))

    def _write(self, operation: Callable[[], None], count: int) -> None:
        try:
            operation()
        except OSError as error:
            self.lost_steps += count
            self._warn_once("write-spool", f"rlwatch: cannot write the spool {self._spool.path} ({error}); "
                                           f"steps that cannot be sent are being LOST")

    def _reject(self, lines: List[bytes], response: Response) -> None:
        self.rejected_steps += len(lines)
        try:
            self.rejected_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.rejected_path, "ab") as writer:
                writer.write(b"".join(lines))
        except OSError as error:
            self.lost_steps += len(lines)
            log.warning("rlwatch: cannot write %s: %s", self.rejected_path, error)
        self._warn_once(("reject", response.status, response.error_message),
                        f"rlwatch: the server rejected {len(lines)} step(s) of run {self.run_id} "
                        f"(HTTP {response.status}: {response.error_message}); they are kept in "
                        f"{self.rejected_path} and not sent again")

    def _handle_alerts(self, response: Response) -> None:
        alerts = response.body.get("alerts") if isinstance(response.body, dict) else None
        if not isinstance(alerts, list):
            return
        for alert in alerts:
            try:
                self._on_alert(as_alert(alert))
            except Exception as error:
                self._warn_once("on_alert", f"rlwatch: the on_alert callback raised {error!r}")

    def _went_down(self, reason: str) -> None:
        self._mark_failure()
        self._try_now = False  # flush() and stop() ask for one immediate attempt, not a busy loop
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
            self._backoff = _FIRST_BACKOFF
            log.warning("rlwatch: cannot reach the server at %s (%s); steps go to %s and are re-sent when it is back",
                        self._transport.url if self._transport else "?", reason, self._spool.path)
        else:
            self._backoff = min(self._backoff * 2, self._max_backoff)
        self._next_attempt = now + self._backoff

    def _recovered(self) -> None:
        if self._down_since is not None:
            log.warning("rlwatch: the server is reachable again; sending the %d spooled steps", self._spool.pending)
        self._down_since = None
        self._backoff = _FIRST_BACKOFF
        self._next_attempt = 0.0

    def _refuse(self, reason: str) -> None:
        self._mark_failure()
        if self.refused is None:
            self.refused = reason
            log.error("rlwatch: the server will not take run %s (%s); all steps are kept in %s",
                      self.run_id, reason, self._spool.path)

    def _mark_failure(self) -> None:
        self._failures += 1
        with self._idle:
            self._idle.notify_all()

    def _timeout_now(self) -> float:
        if self._deadline is None:
            return self._request_timeout
        return max(0.05, min(self._request_timeout, self._deadline - time.monotonic()))

    def _past_deadline(self, margin: float) -> bool:
        return self._deadline is not None and time.monotonic() + margin >= self._deadline

    def _warn_once(self, token: Any, message: str) -> None:
        if token not in self._warned:
            self._warned.add(token)
            log.warning(message)


def _derive(key: str, suffix: str) -> str:
    try:
        namespace = uuid.UUID(key)
    except ValueError:
        namespace = uuid.NAMESPACE_OID
    return str(uuid.uuid5(namespace, suffix))


def spool_path(spool_dir: str, run_id: str) -> Path:
    """``<spool_dir>/<run_id>.jsonl`` as an absolute path (it is printed for ``rlwatch replay``), with
    characters that are unsafe in a file name replaced by ``_``."""
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in run_id) or "run"
    return Path(os.path.abspath(spool_dir)) / f"{safe}.jsonl"
