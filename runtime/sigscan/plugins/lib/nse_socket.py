"""An NSE socket on the plugin step protocol: a connection, its timeout and the bytes read but
not yet taken, read the ways NSE scripts read (``receive``, ``receive_buf`` with
``match.numbytes`` or ``match.pattern_limit``), failing with NSE's error strings (``TIMEOUT``,
``EOF``, the system's text for an errno).

Each wait for more bytes is bounded by the socket's timeout, as NSE's ``set_timeout`` bounds
each read (a whole run is bounded by its plugin's timeout too). The timeouts scripts get:

- :data:`NSE_TIMEOUT`: a socket from ``nmap.new_socket()`` that the script does not set;
- :data:`COMM_TIMEOUT`: a socket from ``comm`` (``exchange``, ``opencon``, ``tryssl``) on a host
  with timing data, as every scanned host has: ``stdnse.get_timeout`` gives its floor of 1 s to
  connect, and reads get ``comm``'s REQUEST_TIMEOUT of 6 s more.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Generator
from dataclasses import dataclass

from sigscan.engine.plugin import Reply, ReplyEnd, Step, close, connect, receive, send

NSE_TIMEOUT = 30.0  # seconds: nmap.new_socket()'s default
COMM_TIMEOUT = 7.0  # seconds: comm's connect timeout (1 s) plus its REQUEST_TIMEOUT (6 s)


def error_text(end: ReplyEnd, error: str | None) -> str:
    """NSE's error string for a read or connect that failed this way."""
    if end is ReplyEnd.TIMEOUT or error == "ETIMEDOUT":
        return "TIMEOUT"
    if end is ReplyEnd.EOF:
        return "EOF"
    code = getattr(errno, error or "", None)
    return os.strerror(code) if isinstance(code, int) else (error or "ERROR")


@dataclass(frozen=True, slots=True)
class Failed:
    """A read or connect that failed; ``error`` is NSE's string for it."""

    error: str


class Socket:
    """One connection of a plugin run (see the module's docstring)."""

    def __init__(self, conn: int, timeout: float, tls: bool = False) -> None:
        self.conn, self.timeout, self.tls = conn, timeout, tls
        self.buffer = b""

    def _more(self) -> Generator[Step, object, Failed | None]:
        """One more read into the buffer."""
        reply: Reply = yield from receive(self.conn, self.timeout)
        self.buffer += reply.data
        if reply.data:  # bytes before an EOF or error count; the next read reports it
            return None
        return Failed(error_text(reply.end, reply.error))

    def receive(self) -> Generator[Step, object, bytes | Failed]:
        """``sock:receive()``: what one read gives (at least a byte)."""
        if not self.buffer:
            failed = yield from self._more()
            if failed is not None:
                return failed
        data, self.buffer = self.buffer, b""
        return data

    def receive_exact(self, size: int) -> Generator[Step, object, bytes | Failed]:
        """``sock:receive_buf(match.numbytes(size), true)``: the next ``size`` bytes."""
        while len(self.buffer) < size:
            failed = yield from self._more()
            if failed is not None:
                return failed
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def receive_until(self, delimiter: bytes, within: int) -> Generator[Step, object, bytes | Failed]:
        """``sock:receive_buf(match.pattern_limit(delimiter, within), true)``: up to and
        including the first ``delimiter``, or the first ``within`` bytes when that many came
        without one."""
        while True:
            found = self.buffer.find(delimiter)
            if found >= 0:
                end = found + len(delimiter)
                break
            if len(self.buffer) >= within:
                end = within
                break
            failed = yield from self._more()
            if failed is not None:
                return failed
        data, self.buffer = self.buffer[:end], self.buffer[end:]
        return data

    def send(self, data: bytes) -> Generator[Step, object, None]:
        yield from send(self.conn, data)

    def close(self) -> Generator[Step, object, None]:
        yield from close(self.conn)


def open_socket(timeout: float, *, tls: bool = False) -> Generator[Step, object, Socket | Failed]:
    """``sock:connect``: a :class:`Socket` whose reads wait ``timeout`` seconds, or why not."""
    opened = yield from connect(tls)
    if opened.conn is None:
        return Failed(error_text(ReplyEnd.ERROR, opened.error))
    return Socket(opened.conn, timeout, tls)
