"""Helpers shared by the engine tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sigscan.engine.catalog import Catalog
from sigscan.engine.config import EngineConfig
from sigscan.engine.events import Proto
from sigscan.engine.plugin import Plugin
from sigscan.engine.port import PortEngine
from sigscan.engine.results import PortResult, PortState
from sigscan.engine.scripts import Detection
from sigscan.testing.fake import FakeTransport, Server

HOST = "127.0.0.1"


def scan(catalog: Catalog, server: Server, port: int, proto: Proto = Proto.TCP, *,
         state: PortState = PortState.OPEN, net_rtt: float = 0.001,
         plugins: Sequence[Plugin] = (), **config: Any) -> tuple[PortResult, FakeTransport]:
    """Run one engine against ``server`` on the fake network (then ``plugins``, as a scan runs
    them: :class:`~sigscan.engine.scripts.Detection`); the result and the transport."""
    fake = FakeTransport(server, rtt=net_rtt)
    engine = PortEngine(catalog, HOST, port, proto, state=state,
                        config=EngineConfig(**config))
    detection = Detection(engine, plugins) if plugins else engine
    result = fake.run(detection)
    assert detection.done and detection.result is result
    return result, fake


def sends(fake: FakeTransport, catalog: Catalog, proto: Proto = Proto.TCP) -> list[tuple[float, int, str]]:
    """Every probe the engine sent: (time, connection, probe name), in order."""
    from sigscan.engine.events import Send

    names = {p.payload: p.name for p in catalog.probes[proto]}
    return [(t, a.conn, names.get(a.data, "?")) for t, a in fake.log if isinstance(a, Send)]


def connects(fake: FakeTransport) -> list[tuple[float, int, bool]]:
    """Every connection the engine opened: (time, connection, tls)."""
    from sigscan.engine.events import Connect

    return [(t, a.conn, a.tls) for t, a in fake.log if isinstance(a, Connect)]


def flat_fp(result: PortResult) -> str:
    """The result's fingerprint on one line ("" when there is none)."""
    fp = result.service.servicefp if result.service is not None else None
    return (fp or "").replace("\nSF:", "")
