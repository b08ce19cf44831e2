"""STARTTLS (a version plugin's ``starttls``, NSE's ``reconnect_ssl``) on real loopback
connections: the transport turns an open plain connection into TLS and reports it once; a peer
that does not shake hands fails it; and the driver carries a plugin's STARTTLS end to end."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Generator
from dataclasses import replace

from sigscan.engine import EngineConfig, PortEngine, Proto
from sigscan.engine.events import Closed, Connected, Data, Event, TlsFailed, TlsReady
from sigscan.engine.plugin import (
    Outcome,
    Plugin,
    PortView,
    Step,
    connect,
    receive,
    send,
    starttls,
)
from sigscan.engine.scripts import Detection
from sigscan.net.driver import run_port
from sigscan.net.transport import Endpoint, Network
from tests.scan.conftest import CERT_NAME
from tests.scan.servers import Handler, ServerThread, Stats
from tests.scan.test_transport import connection


def starttls_server(context: ssl.SSLContext, hang_up_first: bool = False) -> Handler:
    """Says ``READY``; after ``STARTTLS`` and ``GO`` shakes hands, then echoes one line. With
    ``hang_up_first``, the first connection is closed at once (the probe phase ends quickly)."""
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats) -> None:
        if hang_up_first and stats.connections == 1:
            writer.close()
            return
        writer.write(b"READY\r\n")
        if await reader.readline() != b"STARTTLS\r\n":
            writer.close()
            return
        writer.write(b"GO\r\n")
        await writer.drain()
        await writer.start_tls(context)
        line = await reader.readline()
        writer.write(b"secret:" + line)
        await writer.drain()
        writer.close()
    return handler


async def plain_refuser(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats) -> None:
    await reader.readline()
    writer.write(b"GO\r\n" + b"not a TLS record\r\n" * 4)
    await writer.drain()
    await asyncio.sleep(0.5)
    writer.close()


def test_a_plain_connection_becomes_tls(servers: ServerThread, server_tls: ssl.SSLContext,
                                        loopback: str) -> None:
    port, _ = servers.serve(starttls_server(server_tls), host=loopback)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        conn, sink = connection(loopback, port)
        await conn.open(loop.time() + 5)
        await sink.until(lambda ev: any(isinstance(e, Data) for e in ev))
        conn.send(b"STARTTLS\r\n")
        await sink.until(lambda ev: sum(isinstance(e, Data) for e in ev) == 2)
        await conn.start_tls(loop.time() + 5)
        events = await sink.until(lambda ev: any(isinstance(e, TlsReady) for e in ev))
        ready = events[-1]
        assert isinstance(ready, TlsReady) and ready.subject is not None and CERT_NAME in ready.subject
        assert conn.tls
        conn.send(b"hello\r\n")

        def data(events: list[Event]) -> bytes:
            return b"".join(e.data for e in events if isinstance(e, Data))

        events = await sink.until(lambda ev: data(ev).endswith(b"secret:hello\r\n"))
        assert data(events) == b"READY\r\nGO\r\nsecret:hello\r\n"
        kinds = [type(e) for e in events if not isinstance(e, Data)]
        assert kinds[:2] == [Connected, TlsReady] and set(kinds[2:]) <= {Closed}  # the server hangs up
        conn.close()

    asyncio.run(run())


def test_a_peer_that_does_not_shake_hands_fails_it(servers: ServerThread, loopback: str) -> None:
    port, _ = servers.serve(plain_refuser, host=loopback)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        conn, sink = connection(loopback, port)
        await conn.open(loop.time() + 5)
        conn.send(b"STARTTLS\r\n")
        await sink.until(lambda ev: any(isinstance(e, Data) for e in ev))
        await conn.start_tls(loop.time() + 5)
        events = await sink.until(lambda ev: any(isinstance(e, TlsFailed) for e in ev))
        assert isinstance(events[-1], TlsFailed) and events[-1].error == "EIO"
        conn.close()
        await conn.start_tls(loop.time() + 5)  # on a closed connection: nothing happens
        assert sum(isinstance(e, TlsFailed) for e in sink.events) == 1

    asyncio.run(run())


def _upgrading_plugin(view: PortView) -> Generator[Step, object, Outcome | None]:
    opened = yield from connect()
    assert opened.conn is not None
    yield from receive(opened.conn, 5.0, at_least=7)
    yield from send(opened.conn, b"STARTTLS\r\n")
    yield from receive(opened.conn, 5.0, at_least=4)
    secured = yield from starttls(opened.conn)
    if secured.conn is None:
        return Outcome(output=f"failed: {secured.error}")
    yield from send(secured.conn, b"x\r\n")
    reply = yield from receive(secured.conn, 5.0, at_least=10)
    return Outcome(output=f"{secured.subject} {reply.data!r}")


UPGRADING = Plugin("upgrading", lambda view: True, _upgrading_plugin, summary="test")


def test_the_driver_carries_a_plugins_starttls(servers: ServerThread, server_tls: ssl.SSLContext,
                                               catalog: object) -> None:
    port, _ = servers.serve(starttls_server(server_tls, hang_up_first=True))
    config = replace(EngineConfig(), intensity=0)

    async def run() -> str | None:
        engine = PortEngine(catalog, "127.0.0.1", port, Proto.TCP, config=config)  # type: ignore[arg-type]
        detection = Detection(engine, (UPGRADING,))
        result = await run_port(detection, Endpoint("127.0.0.1", port, Proto.TCP), Network())
        return result.scripts[0].output if result.scripts else None

    output = asyncio.run(run())
    assert output is not None and CERT_NAME in output and output.endswith("b'secret:x\\r\\n'")
