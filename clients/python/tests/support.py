"""Shared test kit: the real ``rlwatch serve``, client subprocesses, a simulated GRPO run.

The server tests run against the real binary: ``$RLWATCH_BIN``, else ``.build/debug/rlwatch`` at
the repository root. Without it they fail (CI always builds it); they never skip.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

CLIENT_ROOT = Path(__file__).resolve().parents[1]
REPO_ROOT = CLIENT_ROOT.parents[1]
if str(CLIENT_ROOT) not in sys.path:
    sys.path.insert(0, str(CLIENT_ROOT))

_binary_checked: Optional[str] = None


def rlwatch_binary() -> str:
    """The ``rlwatch`` binary with a ``serve`` subcommand; fails the calling test if there is none."""
    global _binary_checked
    if _binary_checked is not None:
        return _binary_checked
    configured = os.environ.get("RLWATCH_BIN")
    path = Path(configured) if configured else REPO_ROOT / ".build" / "debug" / "rlwatch"
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise AssertionError(
            f"the rlwatch binary is needed for the server tests and was not found at {path} "
            f"({'from $RLWATCH_BIN' if configured else 'set RLWATCH_BIN, or run `swift build` at the repository root'})"
        )
    probe = subprocess.run([str(path), "serve", "--help"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0 or "--port" not in probe.stdout:
        raise AssertionError(f"{path} has no working `serve` subcommand (exit {probe.returncode}): "
                             f"{(probe.stdout + probe.stderr)[:300]}")
    _binary_checked = str(path)
    return _binary_checked


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A real ``rlwatch serve`` on 127.0.0.1, started in ``directory`` (its cwd and log dir)."""

    def __init__(self, directory: str, port: int = 0, token: Optional[str] = None,
                 extra_args: Optional[List[str]] = None) -> None:
        self.directory = directory
        self.extra_args = list(extra_args or [])
        self.log_dir = os.path.join(directory, "server-logs")
        self.port = port
        self.token = token
        self.process: Optional[subprocess.Popen] = None
        self.url = ""

    def start(self, timeout: float = 60.0) -> "Server":
        env = dict(os.environ)
        env.pop("RLWATCH_TOKEN", None)
        if self.token:
            env["RLWATCH_TOKEN"] = self.token
        self._stderr = open(os.path.join(self.directory, "serve.stderr"), "ab")
        self.process = subprocess.Popen(
            [rlwatch_binary(), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--log-dir", self.log_dir]
            + self.extra_args,
            cwd=self.directory, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr,
        )
        lines: "queue.Queue[Optional[str]]" = queue.Queue()

        def pump() -> None:
            try:
                for raw in iter(self.process.stdout.readline, b""):
                    lines.put(raw.decode("utf-8", "replace"))
            except (OSError, ValueError):  # closed by stop()
                pass
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                self.stop()
                raise AssertionError(f"rlwatch serve did not print its listening line within {timeout:.0f} s; "
                                     f"stderr: {self.stderr()[-2000:]}")
            if "listening on http://" in line:
                self.url = line.split("listening on ", 1)[1].strip()
                self.port = int(self.url.rsplit(":", 1)[1])
                return self

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process.stdout.close()
        self._stderr.close()

    def stderr(self) -> str:
        try:
            return Path(self.directory, "serve.stderr").read_text(errors="replace")
        except OSError:
            return ""

    def get(self, path: str) -> Any:
        request = urllib.request.Request(self.url + path)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=30) as reply:
            return json.loads(reply.read())

    def step_count(self, run_id: str) -> int:
        return int(self.get("/api/v1/runs/" + urllib.parse.quote(run_id, safe=""))["steps"])

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def diagnose(run_id: str, log_dir: str) -> Dict[str, Any]:
    """``rlwatch diagnose --format json`` of a run (the server may still be running)."""
    result = subprocess.run(
        [rlwatch_binary(), "diagnose", "--run-id", run_id, "--log-dir", log_dir, "--format", "json"],
        capture_output=True, text=True, timeout=120,
    )
    if result.returncode not in (0,):
        raise AssertionError(f"rlwatch diagnose failed ({result.returncode}): {result.stderr[-2000:]}")
    return json.loads(result.stdout)


def client_environment(env: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The environment of a client subprocess: it imports this checkout's ``rlwatch_client`` (and,
    from this directory, ``support``); ``RLWATCH_*`` variables of the test process are not passed on."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RLWATCH_")}
    environment["PYTHONPATH"] = os.pathsep.join([str(CLIENT_ROOT), str(Path(__file__).parent), environment.get("PYTHONPATH", "")])
    environment["PYTHONUNBUFFERED"] = "1"
    environment.update(env or {})
    return environment


def run_client(code: str, cwd: str, env: Optional[Dict[str, str]] = None, timeout: float = 180.0) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh Python process (see ``client_environment``) and waits for it."""
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=client_environment(env), capture_output=True,
                          text=True, timeout=timeout)


def start_client(code: str, cwd: str, env: Optional[Dict[str, str]] = None) -> subprocess.Popen:
    """Starts ``code`` in a fresh Python process without waiting (``communicate()`` it later)."""
    return subprocess.Popen([sys.executable, "-c", code], cwd=cwd, env=client_environment(env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, timeout: float, what: str) -> None:
    """Polls ``predicate`` until it is true; fails the test with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def replay_alerts(path: str, cwd: str) -> List[tuple]:
    """``(step, detector, severity)`` of the alerts ``rlwatch replay`` delivers for a metrics file."""
    result = subprocess.run([rlwatch_binary(), "replay", path, "--no-store", "--format", "jsonl"], cwd=cwd,
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"rlwatch replay failed ({result.returncode}): {result.stderr[-2000:]}")
    return sorted(alert_key(json.loads(line)) for line in result.stdout.splitlines() if line.strip())


def alert_key(alert: Dict[str, Any]) -> tuple:
    return (alert["step"], alert["detector"], alert["severity"])


def drive_trainer(callback: Any, rows: List[Dict[str, Any]], output_dir: str) -> None:
    """What ``transformers.Trainer.train`` does with its callbacks, through transformers' own
    ``CallbackHandler``: train begin, one ``on_log`` per row (step = ``row["step"]``, plus an
    evaluation row at step 100), the end-of-training summary row, train end."""
    from transformers import TrainerControl, TrainerState, TrainingArguments
    from transformers.trainer_callback import CallbackHandler, DefaultFlowCallback

    handler = CallbackHandler([DefaultFlowCallback(), callback], model=None, processing_class=None,
                              optimizer=None, lr_scheduler=None)
    args = TrainingArguments(output_dir=output_dir)
    state, control = TrainerState(), TrainerControl()
    handler.on_train_begin(args, state, control)
    for row in rows:
        state.global_step = row["step"]
        handler.on_log(args, state, control, {key: value for key, value in row.items() if key != "step"})
        if row["step"] == 100:
            handler.on_log(args, state, control, {"eval_loss": 0.4, "eval_runtime": 3.2, "epoch": 0.5})
    handler.on_log(args, state, control, {"train_runtime": 812.4, "train_samples_per_second": 2.1,
                                          "train_steps_per_second": 0.2, "train_loss": 0.01, "epoch": 1.0})
    handler.on_train_end(args, state, control)


def fixture(name: str) -> Path:
    """A real training log from ``Tests/Fixtures/RealRuns/logs`` in the repository (as the Swift tests use)."""
    path = REPO_ROOT / "Tests" / "Fixtures" / "RealRuns" / "logs" / name
    if not path.is_file():
        raise AssertionError(f"fixture {path} is missing (the real logs live in Tests/Fixtures/RealRuns/logs)")
    return path


def grpo_step(step: int, rng: random.Random, collapse_at: int = 150) -> Dict[str, Any]:
    """One step of a simulated GRPO run whose policy entropy collapses at ``collapse_at``, KL climbing."""
    collapsed = step >= collapse_at
    entropy = max(0.01, 0.05 + rng.gauss(0, 0.005)) if collapsed else 2.0 + rng.gauss(0, 0.05)
    kl = 0.01 + 0.0001 * step + (0.002 * (step - collapse_at) if collapsed else 0.0)
    rewards = [rng.gauss(0.4 + step / 1000, 0.2) for _ in range(16)]
    mean = sum(rewards) / len(rewards)
    std = (sum((r - mean) ** 2 for r in rewards) / len(rewards)) ** 0.5
    return {"entropy": entropy, "kl": kl, "reward_mean": mean, "reward_std": std, "loss": 0.3 + rng.gauss(0, 0.01),
            "grad_norm": 1.0 + abs(rng.gauss(0, 0.05)), "learning_rate": 1e-6, "rewards": rewards}


class TempDirTestCase(unittest.TestCase):
    """A fresh directory per test (``self.dir``), removed afterwards."""

    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="rlwatch-client-test-")
        self.dir = self._tmp.name

    def tearDown(self) -> None:
        self._tmp.cleanup()


@contextlib.contextmanager
def captured_log(name: str = "rlwatch_client") -> Iterator[List[str]]:
    """Collects the messages logged on ``name`` (``assertNoLogs`` needs Python 3.10)."""
    messages: List[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Collect(level=logging.DEBUG)
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


def read_jsonl(path: str) -> List[Dict[str, Any]]:
    with open(path) as reader:
        return [json.loads(line) for line in reader if line.strip()]
