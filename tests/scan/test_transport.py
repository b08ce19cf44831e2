"""The asyncio transport against real servers on 127.0.0.1 and ::1: events, errors, TLS, UDP,
flow control, and no socket left open on any path."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable, Iterator

import pytest

from sigscan.engine.events import (
    Closed,
    Connected,
    ConnectFailed,
    Data,
    Proto,
    Reset,
    TlsFailed,
    TlsReady,
)
from sigscan.net.transport import MAX_PENDING, Connection, Endpoint, Network, errno_name
from tests.scan.conftest import CERT_NAME
from tests.scan.servers import (
    BANNER,
    ServerThread,
    Stats,
    banner,
    flood,
    reset_mid_probe,
    silent,
    tls_banner,
    tls_garbage,
)
from tests.scan.support import Recorder, open_fds


def connection(address: str, port: int, *, tls: bool = False, proto: Proto = Proto.TCP,
               network: Network | None = None) -> tuple[Connection, Recorder]:
    sink = Recorder()
    conn = (network or Network()).connection(0, Endpoint(address, port, proto), tls, sink)
    return conn, sink


def free_port(address: str, kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, kind) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


@pytest.fixture
def full_listener(loopback: str) -> Iterator[int]:
    """A port whose accept queue is full: new connects get no answer (SYNs are dropped)."""
    family = socket.AF_INET6 if ":" in loopback else socket.AF_INET
    with socket.socket(family) as listener, socket.socket(family) as first:
        listener.bind((loopback, 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        first.connect((loopback, port))  # fills the queue of one
        yield port


async def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def test_tcp_connect_read_and_close(servers: ServerThread, loopback: str) -> None:
    port, stats = servers.serve(banner, host=loopback)

    async def run() -> None:
        conn, sink = connection(loopback, port)
        await conn.open(asyncio.get_running_loop().time() + 5)
        events = await sink.until(lambda ev: any(isinstance(e, Data) for e in ev))
        assert isinstance(events[0], Connected) and events[0].conn == 0
        assert b"".join(e.data for e in events if isinstance(e, Data)) == BANNER
        conn.send(b"hello\r\n")
        await wait_for(lambda: b"hello\r\n" in b"".join(stats.received))
        conn.close()
        await wait_for(lambda: stats.open_now == 0)
        assert all(not isinstance(e, Closed | Reset) for e in sink.events)  # silent after close()

    asyncio.run(run())


def test_peer_close_is_closed_and_reset_is_econnreset(servers: ServerThread, loopback: str) -> None:
    async def bye(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats) -> None:
        writer.write(b"bye\r\n")
        await writer.drain()

    closing, _ = servers.serve(bye, host=loopback)
    resetting, _ = servers.serve(reset_mid_probe, host=loopback)

    async def run() -> None:
        conn, sink = connection(loopback, closing)
        await conn.open(asyncio.get_running_loop().time() + 5)
        await sink.until(lambda ev: isinstance(ev[-1], Closed | Reset))
        assert sink.kinds() == ["Connected", "Data", "Closed"]
        conn.close()
        conn, sink = connection(loopback, resetting)
        await conn.open(asyncio.get_running_loop().time() + 5)
        await sink.until(lambda ev: isinstance(ev[-1], Closed | Reset))
        assert sink.kinds() == ["Connected", "Data", "Reset"]
        last = sink.events[-1]
        assert isinstance(last, Reset) and last.error == "ECONNRESET"
        conn.close()

    asyncio.run(run())


def test_refused_and_timed_out_connects(loopback: str, full_listener: int) -> None:
    async def run() -> None:
        loop = asyncio.get_running_loop()
        conn, sink = connection(loopback, free_port(loopback))
        await conn.open(loop.time() + 5)
        assert [type(e) for e in sink.events] == [ConnectFailed]
        assert isinstance(sink.events[0], ConnectFailed) and sink.events[0].error == "ECONNREFUSED"

        conn, sink = connection(loopback, full_listener)
        deadline = loop.time() + 0.4
        await conn.open(deadline)
        failed = sink.events[0]
        assert len(sink.events) == 1 and isinstance(failed, ConnectFailed)
        assert failed.error == "ETIMEDOUT" and deadline <= failed.now < deadline + 1.0

    asyncio.run(run())


def test_tls_handshake_keeps_the_certificate_subject(
        servers: ServerThread, loopback: str, server_tls: ssl.SSLContext) -> None:
    port, _ = servers.serve(tls_banner(server_tls), host=loopback)

    async def run() -> None:
        conn, sink = connection(loopback, port, tls=True)
        await conn.open(asyncio.get_running_loop().time() + 8)
        await sink.until(lambda ev: b"".join(e.data for e in ev if isinstance(e, Data)) == BANNER)
        ready = sink.events[0]
        assert isinstance(ready, TlsReady)
        assert ready.subject is not None and f"commonName={CERT_NAME}" in ready.subject
        assert ready.version is not None and ready.version.startswith("TLS")
        conn.close()

    asyncio.run(run())


def test_tls_failures(servers: ServerThread, loopback: str) -> None:
    garbage, _ = servers.serve(tls_garbage, host=loopback)
    quiet, _ = servers.serve(silent, host=loopback)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        conn, sink = connection(loopback, garbage, tls=True)
        await conn.open(loop.time() + 8)
        assert len(sink.events) == 1 and isinstance(sink.events[0], TlsFailed)
        assert sink.events[0].error == "EIO"

        conn, sink = connection(loopback, quiet, tls=True)  # never answers the ClientHello
        deadline = loop.time() + 0.4
        await conn.open(deadline)
        failed = sink.events[0]
        assert len(sink.events) == 1 and isinstance(failed, TlsFailed)
        assert failed.error == "ETIMEDOUT" and deadline <= failed.now < deadline + 1.0

    asyncio.run(run())


def test_udp_datagrams_and_port_unreachable(servers: ServerThread, loopback: str) -> None:
    port, _ = servers.serve_udp(loopback)
    closed = free_port(loopback, socket.SOCK_DGRAM)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        conn, sink = connection(loopback, port, proto=Proto.UDP)
        await conn.open(loop.time() + 5)
        assert sink.kinds() == ["Connected"]
        conn.send(b"ping")
        conn.send(b"pong")
        events = await sink.until(lambda ev: len(ev) == 3)
        assert [e.data for e in events if isinstance(e, Data)] == [b"ping", b"pong"]
        conn.close()

        conn, sink = connection(loopback, closed, proto=Proto.UDP)
        await conn.open(loop.time() + 5)
        conn.send(b"anyone?")
        events = await sink.until(lambda ev: len(ev) == 2)
        assert isinstance(events[1], Reset) and events[1].error == "ECONNREFUSED"
        conn.send(b"still there?")  # the socket stays usable after an ICMP error
        events = await sink.until(lambda ev: len(ev) == 3)
        assert isinstance(events[2], Reset)
        conn.close()

    asyncio.run(run())


def test_an_empty_datagram_is_sent(servers: ServerThread, loopback: str) -> None:
    """RFC 868 Time's request (rfc868-time sends it): asyncio's own sendto would drop it."""
    port, _ = servers.serve_udp(loopback, reply=b"TIME")

    async def run() -> None:
        conn, sink = connection(loopback, port, proto=Proto.UDP)
        await conn.open(asyncio.get_running_loop().time() + 5)
        conn.send(b"")
        events = await sink.until(lambda ev: len(ev) == 2)
        assert isinstance(events[1], Data) and events[1].data == b"TIME"
        conn.close()
        conn.send(b"")  # after close: nothing, no error

    asyncio.run(run())


def test_a_flood_is_held_back_until_the_driver_consumes(servers: ServerThread) -> None:
    port, stats = servers.serve(flood)

    async def run() -> None:
        conn, sink = connection("127.0.0.1", port)
        await conn.open(asyncio.get_running_loop().time() + 5)
        await sink.until(lambda ev: len(ev) > MAX_PENDING)
        await asyncio.sleep(0.5)
        data = [e for e in sink.events if isinstance(e, Data)]
        assert len(data) == MAX_PENDING  # reading paused: the rest waits in the kernel
        sent_while_paused = stats.sent
        assert sent_while_paused < 20 * 1024 * 1024  # TCP flow control stopped the sender
        conn.consumed()
        await sink.until(lambda ev: len([e for e in ev if isinstance(e, Data)]) == MAX_PENDING + 1)
        conn.close()
        await wait_for(lambda: stats.open_now == 0)
        assert stats.sent < 40 * 1024 * 1024

    asyncio.run(run())


def test_no_socket_outlives_its_connection(servers: ServerThread, loopback: str,
                                           full_listener: int) -> None:
    """Closed while connecting, refused, timed out, reset, TLS failed: fds come back."""
    garbage, _ = servers.serve(tls_garbage, host=loopback)
    quiet, _ = servers.serve(silent, host=loopback)
    network = Network()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        before = open_fds()
        for _ in range(3):
            conn, sink = connection(loopback, full_listener, network=network)
            task = asyncio.create_task(conn.open(loop.time() + 5))
            await asyncio.sleep(0.05)
            conn.close()
            await asyncio.wait([task])
            assert task.cancelled() and sink.events == []  # cancelled quietly
            conn, sink = connection(loopback, quiet, tls=True, network=network)
            task = asyncio.create_task(conn.open(loop.time() + 5))
            await asyncio.sleep(0.05)  # in the handshake
            conn.close()
            await asyncio.wait([task])
            assert task.cancelled() and sink.events == []
            for port, tls in ((free_port(loopback), False), (garbage, True), (quiet, False)):
                conn, sink = connection(loopback, port, tls=tls, network=network)
                await conn.open(loop.time() + 0.3)
                conn.close()
        await asyncio.sleep(0.1)  # aborted transports finish closing on the next iterations
        assert open_fds() == before

    asyncio.run(run())


@pytest.mark.parametrize(("exc", "name"), [
    (ConnectionResetError(104, "reset"), "ECONNRESET"),
    (BrokenPipeError(32, "pipe"), "EPIPE"),
    (OSError(113, "no route"), "EHOSTUNREACH"),
    (TimeoutError(), "ETIMEDOUT"),
    (ssl.SSLError(1, "wrong version number"), "EIO"),
    (OSError("no errno"), "EIO"),
])
def test_errno_names(exc: BaseException, name: str) -> None:
    assert errno_name(exc) == name
