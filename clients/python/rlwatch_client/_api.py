"""The module-level API shaped like rlwatch 0.5.1's: ``attach``, ``log_step``, ``stop``, ``get_monitor``."""

from __future__ import annotations

import atexit
import json
import logging
import os
import sys
import threading
import time
import uuid
import weakref
from typing import Any, Callable, Dict, Mapping, Optional

from . import _current
from ._local_server import LocalServer, find_binary
from ._monitor import Monitor

log = logging.getLogger("rlwatch_client")

_FRAMEWORKS = ("auto", "trl", "verl", "openrlhf", "manual")

_lock = threading.RLock()
_monitor: Optional[Monitor] = None
_all_monitors: "weakref.WeakSet[Monitor]" = weakref.WeakSet()
_hooks_installed = False


def attach(
    url: Optional[str] = None,
    run_id: Optional[str] = None,
    config: Optional[Mapping[str, Any]] = None,
    framework: str = "auto",
    trainer: Any = None,
    token: Optional[str] = None,
    *,
    config_path: Optional[str] = None,
    log_dir: Optional[str] = None,
    spool_dir: Optional[str] = None,
    start_server: bool = True,
    print_alerts: bool = True,
    on_alert: Optional[Callable[[Dict[str, Any]], None]] = None,
    batch_size: int = 500,
    flush_interval: float = 0.5,
    max_queue: int = 10_000,
    request_timeout: float = 10.0,
    max_backoff: float = 30.0,
    stop_timeout: float = 10.0,
    **config_overrides: Any,
) -> Monitor:
    """Starts monitoring this training process's run and makes it the global monitor.

    - Parameters:
      - url: The rlwatch server (``http://host:8765``); default ``RLWATCH_URL``. With neither, a
        private ``rlwatch serve`` is started (if ``start_server``) from the ``rlwatch-server`` wheel
        installed with the client, else from ``rlwatch`` on PATH; with neither, steps only go to the
        spool file.
      - run_id: Default ``RLWATCH_RUN_ID``, else ``run_<YYYYmmdd_HHMMSS>_<6 hex>``. Attaching again
        with the same id resumes the run (and first sends steps an earlier process left in the spool).
      - config: Detector/alert overrides nested like rlwatch.yaml, e.g.
        ``{"entropy_collapse": {"threshold": 0.5}}``. Keyword overrides in 0.5.1's style
        (``entropy_collapse={"threshold": 0.5}``) and a ``config_path`` (JSON, or YAML if PyYAML is
        installed) are merged under it: file < ``config`` < keywords.
      - framework: ``auto`` (detect TRL > veRL > OpenRLHF from modules already imported, else
        ``manual``; ``RLWATCH_FRAMEWORK`` wins over detection), or one of those names.
      - trainer: A Hugging Face / TRL ``Trainer``: the rlwatch callback is added to it.
      - token: Bearer token; default ``RLWATCH_TOKEN``.
      - log_dir: Where a server started here keeps its database (default ``storage.log_dir`` from
        ``config``, ``RLWATCH_LOG_DIR``, ``./rlwatch_logs``).
      - spool_dir: Where unsent steps are kept (default ``RLWATCH_SPOOL_DIR``, ``<log_dir>/spool``).
      - on_alert: Called on the client's thread with each alert (a dict) the server returns.
    - Returns: The ``Monitor``.
    - Throws: ``ValueError`` for an unknown framework, or when the server rejects the config (a
      typo'd key fails here, at setup, not silently later).
    """
    global _monitor
    framework = _resolve_framework(framework, trainer)
    merged = _merge_config(config_path, config, config_overrides)
    run_id = run_id or os.environ.get("RLWATCH_RUN_ID") or _new_run_id()
    token = token or os.environ.get("RLWATCH_TOKEN") or None
    log_dir = log_dir or _config_log_dir(merged) or os.environ.get("RLWATCH_LOG_DIR") or "./rlwatch_logs"
    spool_dir = spool_dir or os.environ.get("RLWATCH_SPOOL_DIR") or os.path.join(log_dir, "spool")
    _ensure_log_output()

    with _lock:
        previous = _monitor
    if previous is not None and not previous.stopped:
        log.warning("rlwatch: attach() called again; stopping the previous run %s first", previous.run_id)
        previous.stop()

    url = url or os.environ.get("RLWATCH_URL") or None
    server: Optional[LocalServer] = None
    if url is None and start_server:
        binary = find_binary()
        if binary is not None:
            server = LocalServer.start(binary, log_dir)
            if server is not None:
                url = server.url
                log.info("rlwatch: started %s serve at %s (log dir %s)", binary, url, log_dir)
    try:
        monitor = Monitor(
            run_id=run_id, framework=framework, config=merged, url=url, token=token, spool_dir=spool_dir,
            batch_size=batch_size, flush_interval=flush_interval, max_queue=max_queue,
            request_timeout=request_timeout, max_backoff=max_backoff, stop_timeout=stop_timeout,
            print_alerts=print_alerts, on_alert=on_alert, local_server=server, log_dir=log_dir,
            adapters=_make_adapter,
        )
    except BaseException:
        if server is not None:
            server.stop()
        raise

    with _lock:
        _monitor = monitor
        _current.monitor = monitor
        _all_monitors.add(monitor)
        _install_process_hooks()
    if trainer is not None:
        monitor.attach_to_trainer(trainer)
    elif framework == "verl":
        _ = monitor.verl_backend  # also as monitor._verl_tracker, where 0.5.1 kept it
    elif framework == "openrlhf":
        _ = monitor.openrlhf_logger  # also as monitor._openrlhf_logger, where 0.5.1 kept it
    return monitor


def log_step(step: int, **metrics: Any) -> None:
    """Logs one step on the global monitor; see ``Monitor.log_step``.

    Before ``attach()`` this warns once and drops the step (rlwatch 0.5.1 raised RuntimeError: a
    monitoring library must not be able to crash a training run).
    """
    monitor = _monitor
    if monitor is None:
        warn_unattached()
        return None
    monitor.log_step(step, **metrics)
    return None


warn_unattached = _current.warn_unattached


def _make_adapter(framework: str, monitor: Monitor) -> Any:
    """The framework's adapter bound to ``monitor``, for ``Monitor.attach_to_trainer`` / ``verl_backend`` /
    ``openrlhf_logger`` (imported here, on first use: ``Monitor`` itself imports no adapter)."""
    if framework == "trl":
        from .integrations.trl import RLWatchTRLCallback

        return RLWatchTRLCallback(monitor)
    if framework == "verl":
        from .integrations.verl import RLWatchVerlBackend

        return RLWatchVerlBackend(monitor)
    if framework == "openrlhf":
        from .integrations.openrlhf import RLWatchOpenRLHFLogger

        return RLWatchOpenRLHFLogger(monitor)
    raise ValueError(f"rlwatch: no adapter for {framework!r}")


def get_monitor() -> Optional[Monitor]:
    """The monitor of the latest ``attach()`` (also after it was stopped), or None."""
    return _monitor


def flush(timeout: float = 10.0) -> bool:
    """Waits until everything logged on the global monitor reached the server; False otherwise."""
    monitor = _monitor
    return monitor.flush(timeout) if monitor is not None else False


def stop(timeout: Optional[float] = None) -> None:
    """Stops the global monitor (flush, finish, report); idempotent, also called at exit."""
    monitor = _monitor
    if monitor is not None:
        monitor.stop(timeout)


def detect_framework() -> str:
    """``trl`` > ``verl`` > ``openrlhf`` > ``manual``, from the modules this process already imported."""
    for name in ("trl", "verl", "openrlhf"):
        if name in sys.modules:
            return name
    return "manual"


def _resolve_framework(framework: Optional[str], trainer: Any) -> str:
    name = (framework or "auto").lower()
    if name not in _FRAMEWORKS:
        raise ValueError(f"rlwatch: unknown framework {framework!r}; expected one of {', '.join(_FRAMEWORKS)}")
    if name != "auto":
        return name
    from_env = (os.environ.get("RLWATCH_FRAMEWORK") or "").lower()
    if from_env in _FRAMEWORKS and from_env != "auto":
        return from_env
    if trainer is not None:
        return "trl"
    return detect_framework()


def _new_run_id() -> str:
    return f"run_{time.strftime('%Y%m%d_%H%M%S')}_{uuid.uuid4().hex[:6]}"


def _merge_config(path: Optional[str], config: Optional[Mapping[str, Any]], overrides: Mapping[str, Any]) -> Dict[str, Any]:
    merged: Dict[str, Any] = {}
    if path:
        _deep_merge(merged, _read_config_file(path))
    if config:
        _deep_merge(merged, config)
    if overrides:
        _deep_merge(merged, overrides)
    return merged


def _deep_merge(target: Dict[str, Any], source: Mapping[str, Any]) -> None:
    for key, value in source.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        elif isinstance(value, Mapping):
            target[key] = {}
            _deep_merge(target[key], value)
        else:
            target[key] = value


def _read_config_file(path: str) -> Mapping[str, Any]:
    if not os.path.exists(path):
        raise FileNotFoundError(f"rlwatch: config file {path!r} does not exist")
    with open(path) as reader:
        text = reader.read()
    if path.endswith(".json"):
        loaded = json.loads(text)
    else:
        try:
            import yaml  # type: ignore[import-not-found]
        except ImportError:
            raise ValueError(f"rlwatch: reading {path!r} needs PyYAML (pip install pyyaml); "
                             "or pass the overrides as attach(config={...})") from None
        loaded = yaml.safe_load(text)
    if loaded is None:
        return {}
    if not isinstance(loaded, Mapping):
        raise ValueError(f"rlwatch: {path!r} must hold a mapping of config sections")
    return loaded


def _config_log_dir(config: Mapping[str, Any]) -> Optional[str]:
    storage = config.get("storage")
    value = storage.get("log_dir") if isinstance(storage, Mapping) else None
    return value if isinstance(value, str) and value else None


def _ensure_log_output() -> None:
    """Shows the client's notices on stderr when the application has not configured logging."""
    if log.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)


def _install_process_hooks() -> None:
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_stop_all)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
    _chain_excepthook()


# The uncaught exception that is ending the process, as (type name, message), set by our sys.excepthook.
_crash: Optional[Dict[str, str]] = None


def _chain_excepthook() -> None:
    """Notes an uncaught exception for the atexit report, then hands it to the hook that was installed before.

    The exception is neither swallowed nor changed: the previous hook (Python's default prints the traceback)
    runs with the same arguments. Only the exception's type and message are kept, never frames or locals.
    KeyboardInterrupt is a person stopping the run, not a crash.
    """
    previous = sys.excepthook

    def rlwatch_excepthook(exc_type, exc_value, exc_traceback):  # type: ignore[no-untyped-def]
        global _crash
        try:
            if exc_type is not None and not issubclass(exc_type, KeyboardInterrupt):
                module = getattr(exc_type, "__module__", "") or ""
                name = getattr(exc_type, "__qualname__", None) or getattr(exc_type, "__name__", "Exception")
                type_name = name if module in ("builtins", "__main__", "") else f"{module}.{name}"
                try:
                    message = str(exc_value)
                except Exception:
                    message = "<unprintable exception>"
                _crash = {"exception_type": type_name[:200], "message": message[:2000]}
        except Exception:
            pass
        previous(exc_type, exc_value, exc_traceback)

    sys.excepthook = rlwatch_excepthook


def _stop_all() -> None:
    crash = _crash
    for monitor in list(_all_monitors):
        try:
            if crash is not None:
                monitor._crashed(crash)
            monitor.stop()
        except Exception:
            pass


def _after_fork_in_child() -> None:
    for monitor in list(_all_monitors):
        monitor._mark_forked()


_current.attach = attach
