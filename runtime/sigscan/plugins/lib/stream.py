"""A TCP connection read as a byte stream, the way NSE sockets read: ``receive_buf`` with
``match.numbytes(n)`` (exactly ``n`` bytes, the rest kept for the next read), ``receive_bytes``
(at least ``n``) and ``receive`` (whatever is there). Each wait is bounded by the stream's
timeout, as an NSE socket's is by ``set_timeout``; a whole run is bounded by its plugin's."""

from __future__ import annotations

from collections.abc import Generator

from sigscan.engine.plugin import ReplyEnd, Step, close, connect, receive, send


class Stream:
    """One connection's unread bytes and how its last read ended (:attr:`end`)."""

    def __init__(self, conn: int, timeout: float) -> None:
        self.conn, self.timeout = conn, timeout
        self.buffer = b""
        self.end: ReplyEnd | None = None

    def fill(self, size: int) -> Generator[Step, object, bool]:
        """Read until ``size`` bytes are unread; False if the connection ended or a wait timed
        out first (what came stays in :attr:`buffer`)."""
        while len(self.buffer) < size:
            reply = yield from receive(self.conn, self.timeout, size - len(self.buffer))
            self.buffer += reply.data
            self.end = reply.end
            if not reply.ok:
                return len(self.buffer) >= size
        return True

    def exactly(self, size: int) -> Generator[Step, object, bytes | None]:
        """``receive_buf(match.numbytes(size))``: the next ``size`` bytes, or None."""
        if size < 0 or not (yield from self.fill(size)):
            return None
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def at_least(self, size: int) -> Generator[Step, object, bytes | None]:
        """``receive_bytes(size)``: everything unread once there are ``size`` bytes, or None."""
        if not (yield from self.fill(max(size, 1))):
            return None
        data, self.buffer = self.buffer, b""
        return data

    def some(self) -> Generator[Step, object, bytes | None]:
        """``receive()``: whatever is unread, waiting for one byte if nothing is."""
        return (yield from self.at_least(1))

    def send(self, data: bytes) -> Generator[Step, object, None]:
        yield from send(self.conn, data)

    def close(self) -> Generator[Step, object, None]:
        yield from close(self.conn)


def open_stream(timeout: float) -> Generator[Step, object, Stream | str]:
    """Connect to the port: a :class:`Stream` whose waits last ``timeout`` seconds, or the
    error (a string) when the connection failed."""
    opened = yield from connect()
    if opened.conn is None:
        return opened.error or "connect failed"
    return Stream(opened.conn, timeout)
