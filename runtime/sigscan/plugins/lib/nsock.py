"""What an NSE socket call returns, on the plugin step protocol.

``socket:receive()`` and ``socket:receive_bytes(n)`` succeed with whatever came (all of it once
``n`` bytes are there; what came before the timeout or the end if fewer did) and fail only when
nothing came; their error is a word the scripts sometimes go on to parse (``"TIMEOUT"``,
``"EOF"``). On UDP a receive here is one datagram (nsock would join datagrams shorter than
``n`` until ``n`` bytes are in: no script of ours asks for more than a reply's header). A socket's timeout is 30 s unless the script sets one. ``stdnse.make_buffer`` reads
lines on top of ``receive``, and ``comm.get_banner`` takes a service's first words.
"""

from __future__ import annotations

from collections.abc import Generator

from sigscan.engine.plugin import PortView, Reply, ReplyEnd, Step, close, connect, receive
from sigscan.plugins.lib.comm import CONNECT_TIMEOUT, REQUEST_TIMEOUT, ssl_first

SOCKET_TIMEOUT = 30.0  # an NSE socket's timeout before set_timeout, seconds
GET_TIMEOUT = 1.0  # stdnse.get_timeout(host) for a host that answered the port scan within 0.5 s


def failure(reply: Reply) -> str:
    """The error string NSE gives for a failed receive."""
    if reply.end is ReplyEnd.EOF:
        return "EOF"
    if reply.end is ReplyEnd.TIMEOUT:
        return "TIMEOUT"
    return reply.error or "ERROR"


def received(reply: Reply) -> bytes | None:
    """The data of a ``receive``/``receive_bytes`` that succeeded, None if it failed."""
    return reply.data or None


class LineBuffer:
    """``stdnse.make_buffer(socket, sep)``: each call gives the next piece of the stream up to
    ``sep`` (without it); when the stream fails, what is left without a separator comes once,
    then None for ever. The plugin calls :meth:`next` with ``yield from``."""

    def __init__(self, conn: int, sep: bytes, timeout: float) -> None:
        self.conn, self.sep, self.timeout = conn, sep, timeout
        self._buffer: bytes | None = None
        self._left = b""
        self._done = False

    def next(self) -> Generator[Step, object, bytes | None]:
        while not self._done:
            if self._buffer is None:
                reply = yield from receive(self.conn, self.timeout)
                data = received(reply)
                if data is None:
                    if not self._left:
                        return None
                    self._done = True
                    return self._left
                self._buffer, self._left = self._left + data, b""
                continue
            found = self._buffer.find(self.sep)
            if found >= 0:
                piece = self._buffer[:found]
                self._buffer = self._buffer[found + len(self.sep):]
                return piece
            self._left, self._buffer = self._buffer, None
        return None


def get_banner(view: PortView) -> Generator[Step, object, bytes | None]:
    """``comm.get_banner``: connect (TLS first where ``comm`` would try it first), read once,
    close; over the other of TCP and TLS when that got nothing. None when neither gave data."""
    first = ssl_first(view)
    for tls in (first, not first)[:1 if view.proto == "udp" else 2]:
        opened = yield from connect(tls)
        if opened.conn is None:
            continue
        reply = yield from receive(opened.conn, REQUEST_TIMEOUT + CONNECT_TIMEOUT)
        yield from close(opened.conn)
        data = received(reply)
        if data is not None:
            return data
    return None
