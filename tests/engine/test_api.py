"""The engine's contract with its driver: call order, misuse, timers, connections, and the
catalog and selection helpers it is built on."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sigscan.bundle.loader import open_bundle
from sigscan.engine import Catalog, EngineConfig, PortEngine, Profile, Proto
from sigscan.engine.events import (
    Close,
    Connect,
    Connected,
    Data,
    Report,
    Send,
    Timer,
    WaitUntil,
)
from sigscan.engine.results import PortState
from sigscan.engine.selection import ProbeCursor
from sigscan.testing.fake import Behaviour, FakeTransport, Server, Step, on
from tests.engine.conftest import SmallCatalog
from tests.engine.support import HOST

TINY = (b"Exclude T:9100-9107,U:4001,T:echo,U:dom*\n"
        b"Probe TCP NULL q||\ntotalwaitms 6000\ntcpwrappedms 3000\n"
        b"softmatch soft m|^SOFT|\nmatch hard m|^HARD|\n"
        b"Probe TCP Listed q|LISTED|\nrarity 9\nports 4000\nsslports 4443\n"
        b"Probe TCP Common q|COMMON|\nrarity 2\nsoftmatch soft m|^never|\n"
        b"Probe TCP Rare q|RARE|\nrarity 8\n"
        b"Probe UDP U1 q|U1|\nrarity 1\n")
SERVICES = (b"echo\t7/tcp\t0.004\nunknown\t4000/tcp\t0.001\nwebby\t4443/tcp\t0.001\n"
            b"domain\t53/udp\t0.2\nsecond\t4443/tcp\t0.5\n")


@pytest.fixture
def tiny(small: SmallCatalog) -> Catalog:
    return small(TINY, services=SERVICES)


def test_start_and_feed_misuse(tiny: Catalog) -> None:
    engine = PortEngine(tiny, HOST, 4000, Proto.TCP)
    with pytest.raises(RuntimeError):
        engine.feed(Timer(0.0))
    actions = engine.start(0.0)
    assert actions == [Connect(0, Proto.TCP, False, 5.0), WaitUntil(5.0)]
    with pytest.raises(RuntimeError):
        engine.start(0.0)
    with pytest.raises(ValueError, match="never opened"):
        engine.feed(Data(7, 0.1, b"x"))
    with pytest.raises(ValueError, match="before it connected"):
        engine.feed(Data(0, 0.1, b"x"))


def test_timers_stale_and_due(tiny: Catalog) -> None:
    engine = PortEngine(tiny, HOST, 4000, Proto.TCP)
    engine.start(0.0)
    assert engine.feed(Connected(0, 0.1)) == [WaitUntil(6.1)]
    assert engine.feed(Timer(3.0)) == [WaitUntil(6.1)]  # stale: nothing is due
    assert engine.feed(Timer(6.1)) == [Send(0, b"LISTED"), WaitUntil(11.1)]  # NULL connection reused


def test_report_is_last_and_later_events_are_ignored(tiny: Catalog) -> None:
    engine = PortEngine(tiny, HOST, 4000, Proto.TCP)
    engine.start(0.0)
    engine.feed(Connected(0, 0.1))
    actions = engine.feed(Data(0, 0.2, b"HARD"))
    assert isinstance(actions[-1], Report) and actions[:-1] == [Close(0)]
    assert engine.done and engine.result is actions[-1].result
    assert engine.feed(Data(0, 0.3, b"more")) == [] and engine.feed(Timer(99.0)) == []
    assert engine.result is not None and engine.result.elapsed == pytest.approx(0.2)


def test_events_of_closed_connections_are_ignored(tiny: Catalog) -> None:
    engine = PortEngine(tiny, HOST, 4000, Proto.TCP)
    engine.start(0.0)
    engine.feed(Connected(0, 0.0))
    engine.feed(Timer(6.0))  # LISTED on connection 0
    actions = engine.feed(Timer(11.0))  # connection 0 closed, Common on connection 1
    assert actions[:2] == [Close(0), Connect(1, Proto.TCP, False, 16.0)]
    assert engine.feed(Data(0, 11.1, b"HARD")) == [WaitUntil(16.0)]


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        EngineConfig(intensity=10)
    with pytest.raises(ValueError):
        EngineConfig(rtt=-1.0)
    assert EngineConfig().wait(6.0, 0.001) == 6.0
    assert EngineConfig(profile=Profile.FAST).wait(6.0, 0.001) == 0.5
    assert EngineConfig(profile=Profile.FAST).wait(6.0, None) == 0.5
    assert EngineConfig(profile=Profile.FAST).wait(0.3, 1.0) == 0.3


def test_catalog_table_names_and_exclude(tiny: Catalog) -> None:
    assert tiny.table_name(7, Proto.TCP) == "echo"
    assert tiny.table_name(4000, Proto.TCP) == "unknown"  # a name, as Nmap's XML writes it
    assert tiny.table_name(4443, Proto.TCP) == "webby"  # the first entry wins
    assert tiny.table_name(7, Proto.UDP) is None
    assert tiny.excluded(9100, Proto.TCP) and not tiny.excluded(9100, Proto.UDP)
    assert tiny.excluded(4001, Proto.UDP) and not tiny.excluded(4001, Proto.TCP)
    assert tiny.excluded(7, Proto.TCP)  # by service name
    assert tiny.excluded(53, Proto.UDP) and not tiny.excluded(53, Proto.TCP)  # wildcard


def names(catalog: Catalog, port: int, *, tls: bool = False, soft: str | None = None,
          intensity: int = 7, proto: Proto = Proto.TCP) -> list[str]:
    cursor = ProbeCursor(catalog, proto, port, intensity)
    out = []
    while (probe := cursor.next(tls, soft)) is not None:
        out.append(probe.name)
    return out


def test_selection_stages(tiny: Catalog) -> None:
    assert names(tiny, 4000) == ["NULL", "Listed", "Common"]  # Listed whatever its rarity
    assert names(tiny, 4001) == ["NULL", "Common"]
    assert names(tiny, 4001, intensity=9) == ["NULL", "Listed", "Common", "Rare"]
    assert names(tiny, 4443, tls=True) == ["NULL", "Listed", "Common"]  # sslports in the tunnel
    assert names(tiny, 4000, tls=True) == ["NULL", "Common"]
    assert names(tiny, 4000, soft="soft") == ["NULL", "Common"]  # Listed cannot produce it
    assert names(tiny, 4000, soft="soft", intensity=9) == ["NULL", "Listed", "Common", "Rare"]
    assert names(tiny, 4000, proto=Proto.UDP) == ["U1"]
    assert names(tiny, 4000, proto=Proto.UDP, intensity=0) == []


def test_cursor_copy_looks_ahead_without_moving(tiny: Catalog) -> None:
    cursor = ProbeCursor(tiny, Proto.TCP, 4000, 7)
    assert cursor.next(False, None) is tiny.null
    ahead = cursor.copy().next(False, None)
    assert ahead is not None and ahead.name == "Listed"
    again = cursor.next(False, None)
    assert again is ahead


# -- every path ends, and cleans up ---------------------------------------------------------------

step = st.builds(
    Step,
    after=st.sampled_from([0.0, 0.05, 1.0, 2.9, 3.5, 6.5]),
    send=st.sampled_from([b"", b"SOFT", b"HARD", b"x" * 5000, b"\x15\x03\x01\x00\x02\x02\x28", b"junk"]),
    close=st.booleans(),
    reset=st.sampled_from([None, None, "ECONNRESET", "EPIPE", "EHOSTUNREACH", "EIO"]),
)
behaviour = st.builds(
    Behaviour,
    banner=st.lists(step, max_size=3).map(tuple),
    rules=st.lists(st.builds(on, st.sampled_from([b"LISTED", b"COMMON", b"RARE", b"U1", b"."]), step),
                   max_size=2).map(tuple),
    refuse=st.booleans(),
    connect_delay=st.sampled_from([0.0, 0.0, 0.5, 9.0]),
)
servers = st.builds(Server, plain=behaviour, tls=st.none() | behaviour,
                    per_connection=st.lists(st.none() | behaviour, max_size=3).map(tuple))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(server=servers, port=st.sampled_from([4000, 4001, 4443, 9100]),
       proto=st.sampled_from(list(Proto)), profile=st.sampled_from(list(Profile)),
       intensity=st.sampled_from([0, 7, 9]))
def test_any_server_gives_one_report_and_no_open_connection(
        tiny: Catalog, server: Server, port: int, proto: Proto, profile: Profile,
        intensity: int) -> None:
    fake = FakeTransport(server)
    engine = PortEngine(tiny, HOST, port, proto, state=PortState.OPEN_FILTERED,
                        config=EngineConfig(intensity=intensity, profile=profile))
    result = fake.run(engine)
    reports = [a for _, a in fake.log if isinstance(a, Report)]
    assert reports == [Report(result)] and result.service is not None
    for record in fake.connections.values():
        if record.connected:
            assert record.closed_by_engine is not None, record.conn
    closes = [a.conn for _, a in fake.log if isinstance(a, Close)]
    assert len(closes) == len(set(closes))
    assert fake.now < 200.0


def test_both_bundle_encodings_give_the_same_catalog(nmaplike_built: dict[str, Path]) -> None:
    with open_bundle(nmaplike_built["db"]) as db, open_bundle(nmaplike_built["json"]) as js:
        a, b = Catalog.from_bundle(db), Catalog.from_bundle(js)
        assert a.null == b.null and a.probes == b.probes and a.rpc == b.rpc
        assert a.exclude == b.exclude
        for port in (21, 80, 111, 443, 9100, 41000):
            for proto in Proto:
                assert a.table_name(port, proto) == b.table_name(port, proto)
                assert a.excluded(port, proto) == b.excluded(port, proto)
