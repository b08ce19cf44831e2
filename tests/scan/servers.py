"""Loopback servers for the scan tests: well-behaved ones and hostile ones.

Every server listens on 127.0.0.1 or ::1 only, and everything it does is bounded in time and
bytes (``LIFETIME`` seconds per connection at most; the flood stops at 50 MB). They run in an
asyncio loop of their own, in a thread (:class:`ServerThread`), so that a scan in the test's
loop, or in a subprocess, talks to them as to any other server.

Hostile behaviours (issue 4, acceptance 5):

- :func:`drip`: one byte a second;
- :func:`flood`: 50 MB as fast as the client reads;
- :func:`reset_mid_probe`: part of a reply, then a TCP reset;
- :func:`tls_garbage`: answers a TLS ClientHello with bytes that look like a ServerHello but are
  garbage (Nmap's ``ssl`` line matches them, so detection restarts through TLS, which fails);
- :func:`silent`: accepts and never sends nor closes;
- :class:`ResetListeners`: many ports that accept and reset at once (``SO_LINGER`` 0), from a
  thread of their own that does nothing else, so the reset often beats the client's look at its
  connect.

And for comparisons with Nmap: :func:`closer` (accepts and closes), :func:`quiet_http` (silent
until spoken to, then an HTTP reply), :func:`ftp_soft` (a banner only a softmatch takes, closed
on input), :func:`long_unknown` (an unrecognized 1,000-byte banner, then close), and
:class:`TlsThreadServer`, whose handshake refuses an SSLv3 hello with OpenSSL's alert (which
asyncio's TLS server does not send) and then serves a banner through TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import selectors
import socket
import ssl
import struct
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sigscan.engine import Catalog, Proto
from sigscan.engine.catalog import probable

LIFETIME = 40.0  # seconds a server keeps any connection, at most
FLOOD_BYTES = 50 * 1024 * 1024
BANNER = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u2\r\n"
# A record that Nmap's `match ssl m|^\x16\x03\0\0\*\x02\0\0&\x03\0\?|` takes for an SSLv3
# ServerHello; what follows is junk, so a real TLS handshake on it fails.
TLS_GARBAGE = b"\x16\x03\x00\x00\x2a\x02\x00\x00\x26\x03\x00?" + bytes(range(200, 241))
SSL_LISTED = (14443, 60443, 4911, 44443, 10443)  # ports in SSLSessionReq's `ports` only

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "Stats"], Awaitable[None]]
T = TypeVar("T")


@dataclass
class Stats:
    """What a server saw: connections, bytes sent, connections open now and at most."""

    connections: int = 0
    sent: int = 0
    open_now: int = 0
    open_max: int = 0
    received: list[bytes] = field(default_factory=list)


def ipv6_loopback() -> bool:
    """Whether ::1 can be bound on this machine."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def unlisted_port(catalog: Catalog, host: str = "127.0.0.1") -> socket.socket:
    """A bound TCP socket on a free port that no probe lists (so only NULL runs at intensity 0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.bind((host, 0))
        port = sock.getsockname()[1]
        if not any(probable(p, port, tls) for p in catalog.probes[Proto.TCP] for tls in (False, True)):
            return sock
        sock.close()
    raise RuntimeError("no unlisted free port found")


def ssl_listed_port(host: str = "127.0.0.1") -> socket.socket:
    """A bound TCP socket on a free port that only SSLSessionReq lists."""
    for port in SSL_LISTED:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            return sock
        except OSError:
            sock.close()
    raise RuntimeError(f"none of the ports {SSL_LISTED} is free")


# -- behaviours ---------------------------------------------------------------------------------


async def banner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats) -> None:
    await _send(writer, stats, BANNER)
    await _read_until_closed(reader, stats)


async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats) -> None:
    for byte in b"220 drip drip drip drip drip drip drip drip\r\n"[: int(LIFETIME)]:
        await _send(writer, stats, bytes([byte]))
        await asyncio.sleep(1.0)


async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats) -> None:
    chunk = b"FLOOD " * 10923  # 64 KiB
    left = FLOOD_BYTES
    while left > 0:
        await _send(writer, stats, chunk[:left])
        left -= len(chunk)


async def reset_mid_probe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats) -> None:
    await _send(writer, stats, b"220-partial repl")
    await asyncio.sleep(0.3)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def tls_garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats) -> None:
    while True:
        data = await reader.read(4096)
        if not data:
            return
        stats.received.append(data)
        if data.startswith(b"\x16\x03") or data.startswith(b"\x80"):
            await _send(writer, stats, TLS_GARBAGE)


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats) -> None:
    await _read_until_closed(reader, stats)


async def closer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats) -> None:
    return


HTTP_REPLY = (b"HTTP/1.0 200 OK\r\nServer: Apache/2.4.57 (Debian)\r\nContent-Length: 2\r\n\r\nhi")
FTP_SOFT = b"220 sigscan test ftp service ready\r\n"
LONG_UNKNOWN = b"XYZZY" + b"Z" * 993 + b"\r\n"  # 1,000 bytes no line matches


async def quiet_http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats) -> None:
    data = await reader.read(4096)
    if data:
        stats.received.append(data)
        await _send(writer, stats, HTTP_REPLY)


async def ftp_soft(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats) -> None:
    await _send(writer, stats, FTP_SOFT)
    await reader.read(4096)


async def long_unknown(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats) -> None:
    """The banner, then end of file; what the client sends is read until it closes (closing
    with bytes unread would reset the connection, and the client might lose the banner)."""
    await _send(writer, stats, LONG_UNKNOWN)
    writer.write_eof()
    await _read_until_closed(reader, stats)


def tls_banner(context: ssl.SSLContext) -> Handler:
    """A banner server behind TLS (the handshake is done by asyncio's start_server)."""
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats) -> None:
        await banner(reader, writer, stats)
    handler.tls_context = context  # type: ignore[attr-defined]
    return handler


async def _send(writer: asyncio.StreamWriter, stats: Stats, data: bytes) -> None:
    writer.write(data)
    await writer.drain()
    stats.sent += len(data)


async def _read_until_closed(reader: asyncio.StreamReader, stats: Stats) -> None:
    while data := await reader.read(4096):
        stats.received.append(data[:256])


# -- running them -------------------------------------------------------------------------------


class ServerThread:
    """An asyncio loop in a daemon thread that runs the servers of a test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.servers: list[asyncio.Server] = []
        self.udp: list[asyncio.DatagramTransport] = []
        self.thread.start()

    def call(self, coro: Awaitable[T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(_wrap(coro), self.loop)
        return future.result(timeout=10)

    def serve(self, handler: Handler, sock: socket.socket | None = None, *,
              host: str = "127.0.0.1") -> tuple[int, Stats]:
        """Start ``handler`` on ``sock`` (a bound socket) or on a free port of ``host``."""
        if sock is None:
            sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
            sock.bind((host, 0))
        stats = Stats()
        context = getattr(handler, "tls_context", None)
        server = self.call(_start(handler, sock, stats, context))
        self.servers.append(server)
        return sock.getsockname()[1], stats

    def serve_udp(self, host: str = "127.0.0.1", reply: bytes | None = None) -> tuple[int, Stats]:
        """A UDP server that answers every datagram with ``reply`` (None: echoes it)."""
        stats = Stats()
        transport = self.call(_start_udp(host, reply, stats))
        self.udp.append(transport)
        return transport.get_extra_info("sockname")[1], stats

    def stop(self) -> None:
        async def close_all() -> None:
            for server in self.servers:
                server.close()
            for transport in self.udp:
                transport.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
        with contextlib.suppress(Exception):
            self.call(close_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


async def _wrap(coro: Awaitable[T]) -> T:
    return await coro


async def _start(handler: Handler, sock: socket.socket, stats: Stats,
                 context: ssl.SSLContext | None) -> asyncio.Server:
    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stats.connections += 1
        stats.open_now += 1
        stats.open_max = max(stats.open_max, stats.open_now)
        try:
            async with asyncio.timeout(LIFETIME):
                await handler(reader, writer, stats)
        except (OSError, TimeoutError, ssl.SSLError):
            pass
        except asyncio.CancelledError:  # the test is over (ServerThread.stop): end quietly
            pass
        finally:
            stats.open_now -= 1
            writer.transport.abort()

    return await asyncio.start_server(connected, sock=sock, ssl=context, backlog=512)


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, reply: bytes | None, stats: Stats) -> None:
        self.reply, self.stats = reply, stats
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.stats.received.append(data)
        answer = data if self.reply is None else self.reply
        assert self.transport is not None
        self.transport.sendto(answer, addr)
        self.stats.sent += len(answer)


async def _start_udp(host: str, reply: bytes | None, stats: Stats) -> asyncio.DatagramTransport:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(reply, stats), local_addr=(host, 0))
    return transport


@contextlib.contextmanager
def server_thread() -> Iterator[ServerThread]:
    servers = ServerThread()
    try:
        yield servers
    finally:
        servers.stop()


class TlsThreadServer:
    """TLS on ``sock`` (a bound socket) done by OpenSSL over memory buffers, a thread per
    connection: the handshake answers a hello it refuses (Nmap's SSLv3 ``SSLSessionReq``) with
    an alert, then the connection is closed; a handshake that works gets ``banner``, and the
    connection is read until the client closes it, or for ``LIFETIME`` seconds at most. (The
    ``ssl`` module's sockets would leave an object unclosed when a connection is reset before
    it is wrapped, as a connect scan's are.)"""

    def __init__(self, sock: socket.socket, context: ssl.SSLContext, banner: bytes = BANNER) -> None:
        self.sock, self.context, self.banner = sock, context, banner
        self.port = sock.getsockname()[1]
        sock.listen(64)
        sock.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        deadline = time.monotonic() + LIFETIME * 3
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(LIFETIME)
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self.context.wrap_bio(incoming, outgoing, server_side=True)
        try:
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    conn.sendall(outgoing.read())
                    data = conn.recv(4096)
                    if not data:
                        return
                    incoming.write(data)
            tls.write(self.banner)
            conn.sendall(outgoing.read())
            while conn.recv(4096):
                pass
        except ssl.SSLError:
            with contextlib.suppress(OSError):
                conn.sendall(outgoing.read())  # the alert
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.sock.close()


class ResetListeners:
    """``count`` loopback ports whose every connection is accepted and reset at once; the
    accepting thread ends with :meth:`close`, or after ``lifetime`` seconds."""

    def __init__(self, count: int, host: str = "127.0.0.1", lifetime: float = 120.0) -> None:
        self.sockets: list[socket.socket] = []
        self.selector = selectors.DefaultSelector()
        for _ in range(count):
            sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
            sock.bind((host, 0))
            sock.listen(512)
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ)
            self.sockets.append(sock)
        self.ports = [sock.getsockname()[1] for sock in self.sockets]
        self.resets = 0
        self.lifetime = lifetime
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        deadline = time.monotonic() + self.lifetime
        while not self._stop.is_set() and time.monotonic() < deadline:
            for key, _ in self.selector.select(0.1):
                with contextlib.suppress(BlockingIOError, ConnectionAbortedError):
                    conn, _ = key.fileobj.accept()  # type: ignore[union-attr]
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    conn.close()
                    self.resets += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.selector.close()
        for sock in self.sockets:
            sock.close()
