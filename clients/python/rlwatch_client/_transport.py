"""HTTP to the rlwatch server over one persistent connection (stdlib ``http.client``)."""

from __future__ import annotations

import http.client
import json
import socket
from typing import Any, Dict, Optional, Tuple
from urllib.parse import quote, urlsplit

from ._version import __version__


class TransientError(Exception):
    """The request may succeed later: connection refused or reset, timeout, DNS failure."""


class Response:
    """A server reply: the status and the decoded JSON body (None if it was not JSON)."""

    __slots__ = ("status", "body", "text")

    def __init__(self, status: int, text: str) -> None:
        self.status = status
        self.text = text
        try:
            self.body: Any = json.loads(text) if text else None
        except ValueError:
            self.body = None

    @property
    def error_message(self) -> str:
        """The server's ``{"error": {"message": …}}``, or the raw text."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        return self.text.strip()[:300] or f"HTTP {self.status}"

    def error_field(self, name: str) -> Any:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return error.get(name) if isinstance(error, dict) else None


class Transport:
    """Sends requests to one server, reusing a keep-alive connection.

    Not thread-safe: the client's background thread owns it (``attach`` uses a separate one for the
    first registration).

    - Parameters:
      - url: The server's base URL, ``http://host:port`` (an ``https`` URL or a path prefix work too).
      - token: Sent as ``Authorization: Bearer <token>`` when set.
      - timeout: Seconds for connecting and for each read.
    """

    def __init__(self, url: str, token: Optional[str], timeout: float) -> None:
        parts = urlsplit(url if "://" in url else "http://" + url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"rlwatch server URL {url!r} is not an http(s)://host:port URL")
        self.url = url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._headers = {"User-Agent": f"rlwatch-client/{__version__}", "Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._connection: Optional[http.client.HTTPConnection] = None

    def path(self, *segments: str) -> str:
        """``/api/v1/<segments>`` with each segment percent-encoded (run ids may hold any character)."""
        return "/api/v1/" + "/".join(quote(segment, safe="") for segment in segments)

    def request(
        self,
        method: str,
        path: str,
        body: Optional[bytes] = None,
        content_type: str = "application/json",
        headers: Optional[Dict[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Response:
        """Sends one request and reads the whole reply.

        A request that fails on a reused connection is tried once more on a fresh one, since the
        server may have closed an idle keep-alive connection; that is safe because step batches
        carry an ``Idempotency-Key``.

        - Throws: ``TransientError`` when no reply came back.
        """
        all_headers = dict(self._headers)
        if body is not None:
            all_headers["Content-Type"] = content_type
        if headers:
            all_headers.update(headers)
        for attempt in (0, 1):
            reused = self._connection is not None
            try:
                connection = self._connect(timeout)
                connection.request(method, self._prefix + path, body=body, headers=all_headers)
                reply = connection.getresponse()
                text = reply.read().decode("utf-8", errors="replace")
                if reply.will_close:
                    self.close()
                return Response(reply.status, text)
            except (OSError, http.client.HTTPException) as error:
                self.close()
                if attempt == 0 and reused and not isinstance(error, socket.timeout):
                    continue
                raise TransientError(f"{type(error).__name__}: {error}") from error
        raise TransientError("unreachable")  # pragma: no cover

    def post_json(self, path: str, payload: Any, timeout: Optional[float] = None) -> Response:
        body = json.dumps(payload, allow_nan=False).encode("utf-8")
        return self.request("POST", path, body, timeout=timeout)

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                pass
            self._connection = None

    def _connect(self, timeout: Optional[float]) -> http.client.HTTPConnection:
        seconds = self._timeout if timeout is None else max(0.05, min(timeout, self._timeout))
        if self._connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._connection = kind(self._host, self._port, timeout=seconds)
        else:
            self._connection.timeout = seconds
            if self._connection.sock is not None:
                self._connection.sock.settimeout(seconds)
        return self._connection


def split_status(response: Response) -> Tuple[str, str]:
    """Classifies a reply: ``ok``, ``retry`` (5xx, 408, 429), ``auth``, ``unknown_run``, ``too_large``, ``rejected``."""
    status = response.status
    if 200 <= status < 300:
        return "ok", ""
    if status >= 500 or status in (408, 425, 429):
        return "retry", response.error_message
    if status in (401, 403):
        return "auth", response.error_message
    if status == 404:
        return "unknown_run", response.error_message
    if status == 413:
        return "too_large", response.error_message
    return "rejected", response.error_message
