"""The spool: steps not yet accepted by the server, on disk, oldest first.

The file is plain JSONL in rlwatch's replay format, so ``rlwatch replay <file> --run-id <id>`` can
ingest it if the client never gets to. Steps leave it from the head, in the order they were logged,
so the server sees them in order.

The file is cut into *segments*, the batches it will be sent in. A batch that was already sent once
keeps its ``Idempotency-Key`` and its boundaries for good: if the server stored it but the reply was
lost, re-sending it with the same key is not applied twice. A small ``<file>.state`` sidecar records
how many bytes of the file the server already has, and the head segment's key, so that a later
process (same run id) resumes the drain exactly where this one stopped.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections import deque
from pathlib import Path
from typing import Deque, List, Optional, Tuple

log = logging.getLogger("rlwatch_client")


class _Segment:
    __slots__ = ("count", "key")

    def __init__(self, count: int, key: Optional[str]) -> None:
        self.count = count
        #: None until the segment is first sent; from then on fixed.
        self.key = key


class Spool:
    """A run's spool file. Thread-safe; methods documented to throw ``OSError`` leave the handling of a
    full or read-only disk to the shipper.

    - Parameters:
      - path: The JSONL file (``<spool_dir>/<run_id>.jsonl``).
      - batch_size: Most steps per segment that has not been sent yet.
    """

    def __init__(self, path: Path, batch_size: int) -> None:
        self.path = path
        self.state_path = path.with_name(path.name + ".state")
        self.lock = threading.RLock()
        self._batch_size = batch_size
        self._segments: Deque[_Segment] = deque()
        self._offset = 0
        self._pending = 0
        self._writer = None
        self.inherited = 0
        self._load()

    @property
    def pending(self) -> int:
        """Steps in the file that the server does not have yet."""
        return self._pending

    def append(self, lines: List[bytes], key: Optional[str] = None) -> None:
        """Adds encoded steps behind everything already spooled.

        - Parameters:
          - lines: Encoded steps, each ending in ``\\n``.
          - key: The Idempotency-Key the batch was already sent with, if it was; its boundaries are kept.
        - Throws: ``OSError`` if the file cannot be written.
        """
        if not lines:
            return
        with self.lock:
            writer = self._open_writer()
            writer.write(b"".join(lines))
            writer.flush()
            self._pending += len(lines)
            if key is not None:
                self._segments.append(_Segment(len(lines), key))
                return
            remaining = len(lines)
            last = self._segments[-1] if self._segments else None
            if last is not None and last.key is None and last.count < self._batch_size:
                taken = min(remaining, self._batch_size - last.count)
                last.count += taken
                remaining -= taken
            while remaining > 0:
                taken = min(remaining, self._batch_size)
                self._segments.append(_Segment(taken, None))
                remaining -= taken

    def prepend(self, lines: List[bytes], key: str) -> None:
        """Puts an already-sent batch in front of everything spooled (it is older than all of it).

        - Throws: ``OSError``.
        """
        with self.lock:
            if self._pending == 0:
                self.append(lines, key)
                self._save_state()
                return
            remainder = self._read_from(self._offset)
            self._rewrite(b"".join(lines) + remainder)
            self._segments.appendleft(_Segment(len(lines), key))
            self._pending += len(lines)
            self._save_state()

    def head(self) -> Optional[Tuple[List[bytes], str]]:
        """The next batch to send and its Idempotency-Key (fixed from now on), or None if empty.

        - Throws: ``OSError``.
        """
        with self.lock:
            if not self._segments:
                return None
            segment = self._segments[0]
            if segment.key is None:
                segment.key = str(uuid.uuid4())
                self._save_state()
            lines: List[bytes] = []
            with open(self.path, "rb") as reader:
                reader.seek(self._offset)
                for _ in range(segment.count):
                    line = reader.readline()
                    if not line:
                        break
                    lines.append(line)
            if len(lines) < segment.count:  # the file was changed behind our back
                segment.count = len(lines)
                self._pending = sum(s.count for s in self._segments)
            return lines, segment.key

    def commit_head(self, lines: List[bytes]) -> None:
        """Marks the batch returned by ``head()`` as delivered; removes the files once all is delivered."""
        with self.lock:
            if not self._segments:
                return
            segment = self._segments.popleft()
            self._pending -= segment.count
            self._offset += sum(len(line) for line in lines)
            if self._pending <= 0:
                self._clear()
            else:
                self._save_state()

    def compact(self) -> None:
        """Rewrites the file without the already-delivered head, so that a plain ``rlwatch replay`` of it
        ingests nothing twice. Errors are logged, not raised."""
        with self.lock:
            if self._offset == 0 or self._pending == 0:
                return
            try:
                self._rewrite(self._read_from(self._offset))
                self._save_state()
            except OSError as error:
                log.warning("rlwatch: could not compact spool %s: %s", self.path, error)

    def close(self) -> None:
        with self.lock:
            if self._writer is not None:
                try:
                    self._writer.close()
                except OSError:
                    pass
                self._writer = None

    def _open_writer(self):
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = open(self.path, "ab")
        return self._writer

    def _read_from(self, offset: int) -> bytes:
        with open(self.path, "rb") as reader:
            reader.seek(offset)
            return reader.read()

    def _rewrite(self, content: bytes) -> None:
        self.close()
        temporary = self.path.with_name(self.path.name + ".tmp")
        with open(temporary, "wb") as writer:
            writer.write(content)
            writer.flush()
            os.fsync(writer.fileno())
        os.replace(temporary, self.path)
        self._offset = 0

    def _clear(self) -> None:
        self.close()
        self._segments.clear()
        self._offset = 0
        self._pending = 0
        for path in (self.path, self.state_path):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as error:
                log.warning("rlwatch: could not remove %s: %s", path, error)

    def _save_state(self) -> None:
        head = self._segments[0] if self._segments else None
        state = {"offset": self._offset}
        if head is not None and head.key is not None:
            state["head_count"] = head.count
            state["head_key"] = head.key
        temporary = self.state_path.with_name(self.state_path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(temporary, "w") as writer:
                json.dump(state, writer)
            os.replace(temporary, self.state_path)
        except OSError as error:
            log.warning("rlwatch: could not write %s: %s", self.state_path, error)

    def _load(self) -> None:
        """Picks up a spool left by an earlier process of the same run."""
        try:
            size = self.path.stat().st_size
        except OSError:
            return
        state = {}
        try:
            with open(self.state_path) as reader:
                state = json.load(reader)
        except (OSError, ValueError):
            pass
        offset = state.get("offset", 0)
        if not isinstance(offset, int) or not 0 <= offset <= size:
            offset = 0
        content = self._read_from(offset)
        if content and not content.endswith(b"\n"):
            # The last line was cut off mid-write by a crash: it is not valid JSON, drop it.
            cut = content.rfind(b"\n") + 1
            log.warning("rlwatch: dropping a truncated last line of %s", self.path)
            with open(self.path, "r+b") as writer:
                writer.truncate(offset + cut)
            content = content[:cut]
        count = content.count(b"\n")
        self._offset = offset
        if count == 0:
            self._clear()
            return
        head_count, head_key = state.get("head_count"), state.get("head_key")
        if isinstance(head_count, int) and isinstance(head_key, str) and 0 < head_count <= count:
            self._segments.append(_Segment(head_count, head_key))
            remaining = count - head_count
        else:
            remaining = count
        self._pending = count - remaining
        self._account_existing(remaining)
        self.inherited = count

    def _account_existing(self, count: int) -> None:
        """Accounts for ``count`` unsent lines already in the file (used when loading)."""
        while count > 0:
            taken = min(count, self._batch_size)
            self._segments.append(_Segment(taken, None))
            self._pending += taken
            count -= taken
