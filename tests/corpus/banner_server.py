"""A loopback server that plays stored responses on many ports at once, for scans of 127.0.0.1.

Each :class:`Service` gets its own listening socket on ``127.0.0.1`` (port 0: the kernel picks a
free one) and one of two behaviours:

* ``banner``: send the bytes as soon as a client connects, then hold the connection (ignoring
  input) until the client closes or ``hold`` seconds pass. With ``once``, the port plays the
  banner only until a client first sends something: that connection is closed at once, and so
  is every later one, without a banner. For a scanner that means: the banner is seen by its
  NULL probe only, and every later probe ends at once on EOF (a SYN or connect port scan sends
  nothing, so it does not count).
* ``responder``: send nothing on connect; answer the first bytes received on each connection
  with the stored response, then hold it (or close it, with ``close_after_reply``).

The server runs its own event loop in a background thread. :class:`BannerServer` is a context
manager: the ports are listening when ``__enter__`` returns, and ``__exit__`` closes every
listening socket and connection and joins the thread. A watchdog stops everything after
``lifetime`` seconds in any case.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from types import TracebackType

HOST = "127.0.0.1"  # never anything else


class Mode(Enum):
    BANNER = "banner"
    RESPONDER = "responder"


@dataclass(frozen=True, slots=True)
class Service:
    """What one port plays."""

    data: bytes
    mode: Mode = Mode.BANNER
    once: bool = False  # banner mode: stop at the first client input (see the module docstring)
    close_after_reply: bool = False  # responder mode: close once the answer is written


@dataclass(slots=True)
class PortStats:
    connections: int = 0
    received: int = 0  # bytes
    sent: int = 0
    probed: bool = False  # banner/once: a client has sent input; no more banners


@dataclass(slots=True)
class _Port:
    service: Service
    stats: PortStats = field(default_factory=PortStats)


def raise_fd_limit(needed: int) -> int:
    """Raise this process's soft ``RLIMIT_NOFILE`` towards ``needed`` (at most the hard limit);
    returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


class _Connection(asyncio.Protocol):
    def __init__(self, port: _Port, owner: BannerServer) -> None:
        self.port = port
        self.owner = owner
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.replied = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.owner._connections.add(self)
        port, service = self.port, self.port.service
        port.stats.connections += 1
        if service.mode is Mode.BANNER:
            if service.once and port.stats.probed:
                transport.close()
                return
            self.send(service.data)
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(self.owner.hold, transport.close)

    def data_received(self, data: bytes) -> None:
        port, service = self.port, self.port.service
        port.stats.received += len(data)
        assert self.transport is not None
        if service.mode is Mode.BANNER:
            if service.once:
                port.stats.probed = True
                self.transport.close()
            return
        if not self.replied:
            self.replied = True
            self.send(service.data)
            if service.close_after_reply:
                self.transport.close()  # after the buffered answer is written

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        if data:
            self.transport.write(data)
            self.port.stats.sent += len(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.owner._connections.discard(self)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class BannerServer:
    """Serve ``services`` on 127.0.0.1, one free port each (``ports[i]`` plays ``services[i]``).

    ``hold`` bounds how long a connection is kept open; ``lifetime`` bounds the whole server.
    """

    def __init__(self, services: Sequence[Service], *, hold: float = 30.0,
                 lifetime: float = 600.0) -> None:
        self.services = tuple(services)
        self.hold = hold
        self.lifetime = lifetime
        self.ports: tuple[int, ...] = ()
        self._table: list[_Port] = [_Port(s) for s in self.services]
        self._connections: set[_Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> BannerServer:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def start(self, timeout: float = 30.0) -> None:
        raise_fd_limit(2 * len(self.services) + 256)
        self._thread = threading.Thread(target=self._run, name="banner-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise TimeoutError(f"banner server did not start within {timeout} s")
        if self._error is not None:
            self._thread.join(timeout)
            raise RuntimeError("banner server failed to start") from self._error

    def stop(self, timeout: float = 30.0) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop may have just finished
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise RuntimeError(f"banner server did not stop within {timeout} s")
            self._thread = None

    def stats(self, port: int) -> PortStats:
        return self._table[self.ports.index(port)].stats

    def service(self, port: int) -> Service:
        return self.services[self.ports.index(port)]

    # -- the loop ------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by start(); the thread must not die silently
            self._error = exc
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        servers: list[asyncio.Server] = []
        try:
            for port in self._table:
                server = await self._loop.create_server(
                    lambda port=port: _Connection(port, self), HOST, 0, backlog=128)  # type: ignore[misc]
                servers.append(server)
            self.ports = tuple(s.sockets[0].getsockname()[1] for s in servers)
            self._ready.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.lifetime)
        finally:
            for server in servers:
                server.close()
            for connection in list(self._connections):
                connection.abort()
            for server in servers:
                await server.wait_closed()
