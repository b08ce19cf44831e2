"""asyncio connections that speak the engine's events: TCP, TLS and UDP over IPv4 and IPv6.

A :class:`Connection` is one connection a :class:`~sigscan.engine.port.PortEngine` asked for
(:class:`~sigscan.engine.events.Connect`). :meth:`Connection.open` connects it and reports the
outcome; from then on every arrival becomes an event handed to the connection's ``sink`` with
the loop's clock (``loop.time()``): :class:`Connected`/:class:`TlsReady` or
:class:`ConnectFailed`/:class:`TlsFailed` exactly once, then :class:`Data`, :class:`Closed` and
:class:`Reset`. :meth:`Connection.close` ends it at once (abort, no lingering, cancels a connect in
progress) and silences it: no event follows a close.

Errors are mapped here, once: an ``OSError`` becomes its errno name (``ECONNREFUSED``,
``ECONNRESET``, ``EPIPE``, ``EHOSTUNREACH``…), a timeout ``ETIMEDOUT``, and a TLS error ``EIO`` (what
Nmap's nsock reports for a failed SSL read; its read handler then moves to the next probe).
A socket this machine cannot give now (:data:`SHORTAGE`: out of descriptors, buffers, memory or
local ports) is waited for, with pauses doubling from 10 ms to 0.5 s, up to the connection's
deadline; only then is the shortage reported as the connect's failure.

Reading and memory. A TCP or TLS read hands over what one ``recv`` returns, at most
:data:`READ_SIZE` bytes (Nmap's nsock also delivers whatever is available in one go, and the
engine stops a probe once it holds 4096 bytes). At most :data:`MAX_PENDING` reads of a connection
wait for the driver at any time: past that, reading pauses until the driver has consumed one
(:meth:`Connection.consumed`), so a peer that sends without end is held back by TCP flow control
instead of filling memory. UDP has no flow control: past :data:`MAX_PENDING_DATAGRAMS` waiting
datagrams, new ones are dropped, as a full socket buffer would. An empty datagram (RFC 868's
request) is sent, too: asyncio's ``sendto`` drops empty data before Python 3.13, so it goes out
on the socket itself.

A plain connection can become TLS (:meth:`Connection.start_tls`, a version plugin's STARTTLS):
asyncio's ``start_tls`` wraps the open transport, and reads go on through TLS.

TLS uses the stdlib ``ssl`` module with no verification and the widest choice of protocol versions
and ciphers OpenSSL allows (Nmap's "maximum speed, no verification" client). The peer
certificate's subject is read from its DER form (:mod:`sigscan.net.cert`). Nmap resumes the TLS session
between a port's connections; asyncio offers no way to pass a session, so each connection does a
full handshake.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sigscan.engine.events import (
    Closed,
    Connected,
    ConnectFailed,
    Data,
    Event,
    Proto,
    Reset,
    TlsFailed,
    TlsReady,
)
from sigscan.net.cert import subject

# errnos that say this machine is short of something (descriptors, buffers, memory, local
# ports), not what the peer did: the socket is tried again after a pause
SHORTAGE = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM,
                      errno.EADDRNOTAVAIL, errno.EADDRINUSE, errno.EAGAIN})
FIRST_PAUSE = 0.01  # seconds before the first retry after a shortage; doubles each time
MAX_PAUSE = 0.5
READ_SIZE = 65536  # bytes per read event at most
MAX_PENDING = 2  # read events of one TCP/TLS connection waiting for the driver before reading pauses
MAX_PENDING_DATAGRAMS = 16  # datagrams of one UDP socket waiting for the driver before drops
HANDSHAKE_SLACK = 1.0  # asyncio's own handshake timeout, beyond the connection's deadline

Sink = Callable[[Event], None]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a port's connections go. ``address`` is an IPv4 or IPv6 address; ``server_name`` is
    sent as TLS SNI (the name the user gave for the host; an address sends none)."""

    address: str
    port: int
    proto: Proto
    server_name: str | None = None

    @property
    def family(self) -> socket.AddressFamily:
        return socket.AF_INET6 if ":" in self.address else socket.AF_INET


def errno_name(exc: BaseException) -> str:
    """The errno name the engine expects for a failed connect, read or write."""
    if isinstance(exc, ssl.SSLError):  # its errno is an SSL_ERROR_* number, not an errno
        return "EIO"
    if isinstance(exc, TimeoutError) and exc.errno is None:
        return "ETIMEDOUT"
    code = getattr(exc, "errno", None)
    if isinstance(code, int) and code in errno.errorcode:
        return errno.errorcode[code]
    return "EIO"


def client_context() -> ssl.SSLContext:
    """A TLS client context that verifies nothing and accepts every version and cipher."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.options |= getattr(ssl, "OP_LEGACY_SERVER_CONNECT", 0)
    context.options |= getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    try:
        context.set_ciphers("ALL:@SECLEVEL=0")
    except ssl.SSLError:  # an OpenSSL without security levels
        context.set_ciphers("ALL")
    return context


class Network:
    """Makes the connections of a scan; holds what they share (the TLS context, a read buffer)."""

    def __init__(self, tls_context: ssl.SSLContext | None = None) -> None:
        self._tls_context = tls_context
        self.read_buffer = bytearray(READ_SIZE)  # filled and copied within one callback

    @property
    def tls_context(self) -> ssl.SSLContext:
        if self._tls_context is None:
            self._tls_context = client_context()
        return self._tls_context

    def connection(self, conn: int, endpoint: Endpoint, tls: bool, sink: Sink) -> Connection:
        return Connection(self, conn, endpoint, tls, sink)


class Connection:
    """One connection of one port (see the module's docstring for the events it gives)."""

    def __init__(self, network: Network, conn: int, endpoint: Endpoint, tls: bool, sink: Sink) -> None:
        self.network, self.conn, self.endpoint, self.tls = network, conn, endpoint, tls
        self._sink = sink
        self._transport: asyncio.BaseTransport | None = None
        self._opening: asyncio.Task[None] | None = None
        self._closed = False  # close() was called: silent from now on
        self._ended = False  # the peer closed or failed (TCP): no more reads or writes
        self._pending = 0
        self._paused = False
        self._udp_socket: socket.socket | None = None  # ours, for empty datagrams

    @property
    def closed(self) -> bool:
        return self._closed

    # -- what the driver calls ------------------------------------------------------------------

    async def open(self, deadline: float) -> None:
        """Connect (and shake hands) by ``deadline`` on the loop's clock; report the outcome.
        A socket this machine cannot give now (:data:`SHORTAGE`) is waited for, up to the
        deadline."""
        if self._closed:
            return
        self._opening = asyncio.current_task()
        try:
            if self.endpoint.proto is Proto.UDP:
                await self._open_udp(deadline)
            else:
                await self._open_tcp(deadline)
        finally:
            self._opening = None

    async def start_tls(self, deadline: float) -> None:
        """STARTTLS: a TLS handshake over this open TCP connection by ``deadline``, reported as
        :class:`TlsReady` (bytes from then on are decrypted) or :class:`TlsFailed` (the
        connection is dead; the engine closes it)."""
        loop = asyncio.get_running_loop()
        transport = self._transport
        if self._closed:
            return
        if self.tls or self._ended or not isinstance(transport, asyncio.Transport) or transport.is_closing():
            self._emit(TlsFailed(self.conn, loop.time(), "EBADF"))
            return
        self._opening = asyncio.current_task()
        try:
            async with asyncio.timeout_at(deadline):
                upgraded = await loop.start_tls(
                    transport, transport.get_protocol(), self.network.tls_context,
                    server_hostname=self.endpoint.server_name or "",
                    ssl_handshake_timeout=max(deadline - loop.time(), 0.0) + HANDSHAKE_SLACK)
        except (OSError, TimeoutError) as exc:  # ssl.SSLError is an OSError
            self._ended = True
            self._emit(TlsFailed(self.conn, loop.time(), errno_name(exc)))
            return
        finally:
            self._opening = None
        if upgraded is None:  # the connection went away meanwhile
            self._ended = True
            self._emit(TlsFailed(self.conn, loop.time(), "ECONNRESET"))
            return
        self.tls, self._transport, self._paused = True, upgraded, False
        tls = upgraded.get_extra_info("ssl_object")
        der = tls.getpeercert(binary_form=True) if tls is not None else None
        self._emit(TlsReady(self.conn, loop.time(), subject(der), tls.version() if tls is not None else None))

    def send(self, data: bytes) -> None:
        transport = self._transport
        if self._closed or self._ended or transport is None or transport.is_closing():
            return
        if self.endpoint.proto is Proto.UDP and not data:
            self._send_empty_datagram()
        elif self.endpoint.proto is Proto.UDP:  # asyncio's datagram transport is no DatagramTransport
            cast(asyncio.DatagramTransport, transport).sendto(data)
        else:
            cast(asyncio.WriteTransport, transport).write(data)

    def _send_empty_datagram(self) -> None:
        """An empty datagram (RFC 868's request, a plugin's ``send(conn, b"")``): asyncio's
        ``sendto`` drops empty data before Python 3.13, so it goes out on the socket itself; a
        failure is what a failed read would report."""
        sock = self._udp_socket
        if sock is None:
            return
        try:
            sock.send(b"")
        except BlockingIOError:
            pass  # a full send buffer drops it, as the kernel drops datagrams
        except OSError as exc:
            self._error(exc)

    def consumed(self) -> None:
        """The driver took one :class:`Data` event of this connection."""
        self._pending = max(self._pending - 1, 0)
        transport = self._transport
        if self._paused and self._pending < MAX_PENDING and isinstance(transport, asyncio.ReadTransport):
            self._paused = False
            if not transport.is_closing():
                transport.resume_reading()

    def close(self) -> None:
        """End the connection now (idempotent): cancel a connect, abort the socket, go silent."""
        self._closed = True
        if self._opening is not None and self._opening is not asyncio.current_task():
            self._opening.cancel()
        transport = self._transport
        if transport is not None:
            self._abort(transport)

    # -- connecting -------------------------------------------------------------------------------

    async def _open_tcp(self, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        sock: socket.socket | None = None
        phase = "connect"
        try:
            async with asyncio.timeout_at(deadline):
                sock = await _connected(self.endpoint, socket.SOCK_STREAM, deadline)
                if not self.tls:
                    await loop.create_connection(lambda: _Stream(self), sock=sock)
                    return
                phase = "tls"
                await loop.create_connection(
                    lambda: _Stream(self), sock=sock, ssl=self.network.tls_context,
                    server_hostname=self.endpoint.server_name or "",
                    ssl_handshake_timeout=max(deadline - loop.time(), 0.0) + HANDSHAKE_SLACK)
        except (OSError, TimeoutError) as exc:  # ssl.SSLError is an OSError
            _close(sock)
            failed = TlsFailed if phase == "tls" else ConnectFailed
            self._emit(failed(self.conn, loop.time(), errno_name(exc)))
        except BaseException:  # cancelled (closed while connecting): nothing to report
            _close(sock)
            raise

    async def _open_udp(self, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        sock: socket.socket | None = None
        try:
            sock = await _connected(self.endpoint, socket.SOCK_DGRAM, deadline)
            self._udp_socket = sock
            await loop.create_datagram_endpoint(lambda: _Datagram(self), sock=sock)
        except OSError as exc:
            _close(sock)
            self._emit(ConnectFailed(self.conn, loop.time(), errno_name(exc)))
        except BaseException:
            _close(sock)
            raise

    # -- what the protocols call ------------------------------------------------------------------

    def _attached(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        if self._closed:
            self._abort(transport)
            return
        now = asyncio.get_running_loop().time()
        if not self.tls:
            self._emit(Connected(self.conn, now))
            return
        tls = transport.get_extra_info("ssl_object")
        der = tls.getpeercert(binary_form=True) if tls is not None else None
        version = tls.version() if tls is not None else None
        self._emit(TlsReady(self.conn, now, subject(der), version))

    def _data(self, data: bytes, *, datagram: bool = False) -> None:
        if self._closed or self._ended:
            return
        if datagram and self._pending >= MAX_PENDING_DATAGRAMS:
            return  # dropped, as by a full socket buffer
        self._pending += 1
        self._emit(Data(self.conn, asyncio.get_running_loop().time(), data))
        transport = self._transport
        if (not datagram and self._pending >= MAX_PENDING and not self._paused
                and isinstance(transport, asyncio.ReadTransport)):
            self._paused = True
            transport.pause_reading()

    def _error(self, exc: BaseException) -> None:
        """A read error (TCP, TLS) or an ICMP error (UDP: the socket stays usable)."""
        if self._closed or self._ended:
            return
        if self.endpoint.proto is Proto.TCP:
            self._ended = True
        self._emit(Reset(self.conn, asyncio.get_running_loop().time(), errno_name(exc)))

    def _eof(self) -> None:
        if self._closed or self._ended:
            return
        self._ended = True
        self._emit(Closed(self.conn, asyncio.get_running_loop().time()))

    def _emit(self, event: Event) -> None:
        if not self._closed:
            self._sink(event)

    @staticmethod
    def _abort(transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, asyncio.Transport | asyncio.DatagramTransport):
            transport.abort()
        else:
            transport.close()


async def _connected(endpoint: Endpoint, kind: socket.SocketKind, deadline: float) -> socket.socket:
    """A non-blocking socket connected to ``endpoint`` (UDP: at once, no packet). A shortage
    (:data:`SHORTAGE`) is tried again after pauses that double up to :data:`MAX_PAUSE`; once
    the next pause would pass ``deadline``, its error is raised."""
    loop = asyncio.get_running_loop()
    pause = FIRST_PAUSE
    while True:
        sock = None
        try:
            sock = socket.socket(endpoint.family, kind)
            sock.setblocking(False)
            if kind == socket.SOCK_DGRAM:
                sock.connect((endpoint.address, endpoint.port))
            else:
                await loop.sock_connect(sock, (endpoint.address, endpoint.port))
            return sock
        except OSError as exc:
            _close(sock)
            if exc.errno not in SHORTAGE or loop.time() + pause >= deadline:
                raise
        except BaseException:
            _close(sock)
            raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, MAX_PAUSE)


def _close(sock: socket.socket | None) -> None:
    if sock is not None:
        sock.close()


class _Stream(asyncio.BufferedProtocol):
    """TCP or TLS: reads go straight into the network's shared buffer and are copied out."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.connection._attached(transport)

    def get_buffer(self, sizehint: int) -> memoryview:
        return memoryview(self.connection.network.read_buffer)

    def buffer_updated(self, nbytes: int) -> None:
        self.connection._data(bytes(self.connection.network.read_buffer[:nbytes]))

    def eof_received(self) -> bool:
        self.connection._eof()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is None:
            self.connection._eof()
        else:
            self.connection._error(exc)


class _Datagram(asyncio.DatagramProtocol):
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.connection._attached(transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.connection._data(data, datagram=True)

    def error_received(self, exc: Exception) -> None:
        self.connection._error(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None:
            self.connection._error(exc)
