"""A private ``rlwatch serve`` for a training process that was given no server URL."""

from __future__ import annotations

import logging
import os
import queue
import re
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Optional

log = logging.getLogger("rlwatch_client")

_LISTENING = re.compile(r"listening on (https?://\S+)")


class LocalServer:
    """A child ``rlwatch serve --host 127.0.0.1 --port 0`` process.

    It runs in its own session, so a Ctrl-C aimed at the training script does not kill it before the
    client has flushed; ``stop()`` sends it SIGTERM. Its output goes to ``<log_dir>/rlwatch-serve.log``.
    """

    def __init__(self, process: subprocess.Popen, url: str, log_path: Path) -> None:
        self.process = process
        self.url = url
        self.log_path = log_path

    @classmethod
    def start(cls, binary: str, log_dir: str, timeout: float = 20.0) -> Optional["LocalServer"]:
        """Starts the server and waits for its ``listening on`` line.

        - Returns: The running server, or None (with a warning) if it did not come up in time.
        """
        log_path = Path(log_dir) / "rlwatch-serve.log"
        try:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log_file = open(log_path, "ab")
            process = subprocess.Popen(
                [binary, "serve", "--host", "127.0.0.1", "--port", "0", "--log-dir", str(log_dir),
                 "--exit-with-parent", str(os.getpid())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log_file,
                start_new_session=True,
            )
        except OSError as error:
            log.warning("rlwatch: could not start %s serve: %s", binary, error)
            return None
        lines: "queue.Queue[Optional[bytes]]" = queue.Queue()
        threading.Thread(
            target=_pump, args=(process.stdout, log_file, lines), name="rlwatch-serve-output", daemon=True
        ).start()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = lines.get(timeout=max(0.0, remaining)) if remaining > 0 else None
            except queue.Empty:
                line = None
            if line is None:
                break
            match = _LISTENING.search(line.decode("utf-8", errors="replace"))
            if match:
                return cls(process, match.group(1).rstrip("/."), log_path)
        code = process.poll()
        if code is None:
            _terminate(process, 5.0)
        log.warning(
            "rlwatch: `%s serve` did not report a listening address (%s; is it the rlwatch monitor, not the "
            "0.5.1 Python package's CLI?); see %s",
            binary,
            f"exit code {code}" if code is not None else f"no answer in {timeout:.0f} s",
            log_path,
        )
        return None

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within ``timeout``."""
        _terminate(self.process, timeout)


def _pump(stream, log_file, lines: "queue.Queue[Optional[bytes]]") -> None:
    """Copies the server's stdout to its log file, and hands lines to ``start`` until it has the address."""
    try:
        for line in iter(stream.readline, b""):
            lines.put(line)
            try:
                log_file.write(line)
                log_file.flush()
            except (OSError, ValueError):
                pass
    except (OSError, ValueError):
        pass
    finally:
        lines.put(None)
        try:
            log_file.close()
        except OSError:
            pass


def _terminate(process: subprocess.Popen, timeout: float) -> None:
    if process.poll() is not None:
        return
    try:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        log.warning("rlwatch: local rlwatch serve (pid %d) ignored SIGTERM; killing it", process.pid)
        try:
            process.kill()
            process.wait(timeout)
        except (OSError, subprocess.TimeoutExpired):
            pass
    except OSError:
        pass


def find_binary() -> Optional[str]:
    """The ``rlwatch`` to start: the server wheel's, else ``rlwatch`` on PATH, else None.

    The server wheel (``pip install "rlwatch-client[server]"``) installs its binary into the environment's scripts
    directory, which is on PATH only while the environment is active; ``rlwatch_server.binary_path()`` finds it
    from the wheel's install record either way (``/path/to/venv/bin/python train.py`` included). It comes first
    because it is the one installed with this client, at the client's version.
    """
    import shutil

    try:
        from rlwatch_server import binary_path
    except ImportError:
        pass
    else:
        try:
            found = binary_path()
        except Exception as error:  # a broken install must not stop training: fall back to PATH
            log.warning("rlwatch: could not locate the rlwatch-server wheel's binary: %s", error)
            found = None
        if found:
            return found
    found = shutil.which("rlwatch")
    return found if found and os.access(found, os.X_OK) else None
