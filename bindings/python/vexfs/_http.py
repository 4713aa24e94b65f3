"""JSON over HTTP/1.1 keep-alive for the remote client (standard library only: http.client).

One Transport per client: a lock-protected pool of idle connections, so that threads calling at
once each get their own connection and calls one after another reuse one TCP connection. A pooled
connection the server has closed meanwhile (its idle timeout) is noticed before reuse when the
close has arrived, and otherwise by the request failing before any answer: that request is sent
once more on a new connection. https uses ssl's default context (certificates verified against
the system's store) unless an ssl.SSLContext is given.
"""
from __future__ import annotations

import http.client
import json
import select
import socket
import ssl
import threading
import urllib.parse
from typing import Any

from ._arguments import _plain
from .errors import InvalidArgumentError, VexfsConnectionError, VexfsTimeoutError

API_PREFIX = "/api/v1"
# a pooled connection that broke before its answer began: the request never reached the server's
# handler (or the server dropped it unanswered), so it is safe to send again once
_DROPPED = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
            ConnectionAbortedError)


def _encode(body: Any) -> bytes:
    try:
        return json.dumps(body, separators=(",", ":"), allow_nan=False, default=_plain).encode()
    except (TypeError, ValueError, RecursionError) as e:
        raise InvalidArgumentError(f"the request cannot be encoded as JSON: {e}") from None


def _closed_by_peer(conn: http.client.HTTPConnection) -> bool:
    """Whether an idle connection's socket is gone or readable (EOF, or bytes nobody asked for):
    either way it must not carry another request."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class Transport:
    """Requests to one server: request(method, path, body, query) -> (status, decoded JSON)."""

    def __init__(self, endpoint: str, api_key: str | None = None, timeout: float | None = 60.0,
                 ssl_context: ssl.SSLContext | None = None, max_idle: int = 16,
                 user_agent: str = "vexfs-python"):
        if not isinstance(endpoint, str):
            raise InvalidArgumentError(f"endpoint must be a str such as 'http://localhost:8080', "
                                       f"not {type(endpoint).__name__}")
        parts = urllib.parse.urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidArgumentError(f"endpoint must be an http:// or https:// URL with a host, "
                                       f"such as 'http://localhost:8080', not {endpoint!r}")
        if parts.query or parts.fragment or parts.username:
            raise InvalidArgumentError(f"endpoint {endpoint!r}: give scheme, host, port and path "
                                       "only (the API key goes in api_key=)")
        try:
            self.port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as e:
            raise InvalidArgumentError(f"endpoint {endpoint!r}: {e}") from None
        if api_key is not None and (not isinstance(api_key, str) or not api_key
                                    or any(c in api_key for c in "\r\n\0")):
            raise InvalidArgumentError("api_key must be a non-empty str on one line")
        if timeout is not None and (isinstance(timeout, bool)
                                    or not isinstance(timeout, (int, float)) or not timeout > 0):
            raise InvalidArgumentError(f"timeout must be a number of seconds > 0, or None, not "
                                       f"{timeout!r}")
        self.scheme, self.host, self.timeout = parts.scheme, parts.hostname, timeout
        path = parts.path.rstrip("/")
        if path.endswith(API_PREFIX):  # the reference's base URL, http://host:8080/api/v1
            path = path[:-len(API_PREFIX)]
        self.base = path + API_PREFIX
        self.endpoint = urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))
        self._context = ssl_context
        if self.scheme == "https" and self._context is None:
            self._context = ssl.create_default_context()
        self._headers = {"Accept": "application/json", "User-Agent": user_agent}
        if api_key is not None:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._idle: list[http.client.HTTPConnection] = []
        self._max_idle = max_idle
        self._closed = False  # by close(): connections in use close when their call ends
        self._lock = threading.Lock()
        self.connections_made = 0  # TCP connections opened so far (tests, diagnostics)

    def _connect(self) -> http.client.HTTPConnection:
        with self._lock:
            self.connections_made += 1
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=self._context)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection (True: reused) or a new one (False)."""
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if not _closed_by_peer(conn):
                    return conn, True
                conn.close()
        return self._connect(), False

    def _give_back(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self._max_idle:
                self._idle.append(conn)
                return
        conn.close()

    def request(self, method: str, path: str, body: Any = None,
                query: dict | None = None) -> tuple[int, Any]:
        """Sends one request (path below /api/v1, its parts already quoted) and returns the
        status and the decoded JSON answer (None for an empty body, the text when not JSON)."""
        data = None if body is None else _encode(body)
        url = self.base + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = dict(self._headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            conn, reused = self._take()
            try:
                conn.request(method, url, body=data, headers=headers)
                response = conn.getresponse()
                raw = response.read()
            except socket.timeout:
                conn.close()
                raise VexfsTimeoutError(f"vexfs-server at {self.endpoint}: no answer to {method} "
                                        f"{url} within {self.timeout} s") from None
            except _DROPPED as e:
                conn.close()
                if reused and attempt == 0:
                    continue  # the server closed the idle connection: once more, on a new one
                raise VexfsConnectionError(f"vexfs-server at {self.endpoint}: the connection "
                                           f"broke during {method} {url} ({e})") from None
            except ssl.SSLError as e:
                conn.close()
                raise VexfsConnectionError(f"vexfs-server at {self.endpoint}: TLS failed "
                                           f"({e})") from None
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                raise VexfsConnectionError(f"cannot reach vexfs-server at {self.endpoint} "
                                           f"({type(e).__name__}: {e})") from None
            if response.will_close:
                conn.close()
            else:
                self._give_back(conn)
            return response.status, _decode(raw, response.getheader("Content-Type", ""))
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Closes the idle connections; those in use close when their call ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _decode(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    if "json" not in content_type.lower():
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def quote(segment: Any) -> str:
    """One path segment, percent-encoded (a collection name may hold '/', '?', '%', spaces)."""
    return urllib.parse.quote(str(segment), safe="")
