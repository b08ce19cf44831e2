"""A plugin's STARTTLS (``starttls``: NSE's ``reconnect_ssl``) in the script phase: the step
becomes a StartTls action with the TLS connect timeout; the handshake's outcome is its answer;
a failure or a timeout closes the connection; on the fake network the upgraded connection is
served by the server's TLS side."""

from __future__ import annotations

from collections.abc import Generator

from sigscan.engine.config import EngineConfig
from sigscan.engine.events import (
    Close,
    Connect,
    Connected,
    Data,
    Proto,
    Send,
    StartTls,
    Timer,
    TlsFailed,
    TlsReady,
)
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
from sigscan.engine.port import PortEngine
from sigscan.engine.results import Method, PortState, ScriptOutput, Service
from sigscan.engine.scripts import FIRST_CONN, Detection, PluginRun
from sigscan.testing.fake import Behaviour, FakeTransport, Rule, Server, close
from sigscan.testing.fake import send as reply
from tests.engine.conftest import SmallCatalog

CONFIG = EngineConfig()
VIEW = PortView("127.0.0.1", 5222, "tcp", PortState.OPEN, "syn-ack", Service("x", Method.PROBED, 10))


def _upgrade(view: PortView) -> Generator[Step, object, Outcome | None]:
    opened = yield from connect()
    assert opened.conn is not None
    yield from receive(opened.conn, 2.0)  # the banner, if any
    secured = yield from starttls(opened.conn)
    if secured.conn is None:
        return Outcome(note=f"no TLS: {secured.error}")
    yield from send(secured.conn, b"PING\r\n")
    answer = yield from receive(secured.conn, 2.0)
    return Outcome(output=f"{secured.subject} {answer.data.decode().strip()}")


PLUGIN = Plugin("upgrade", lambda view: view.name == "x", _upgrade, summary="test")


def _started() -> PluginRun:
    run = PluginRun(PLUGIN, VIEW, proto=Proto.TCP, first_conn=FIRST_CONN, config=CONFIG, unix_offset=0.0)
    run.start(0.0)
    assert run.feed(Connected(FIRST_CONN, 0.1)) == []
    assert run.feed(Data(FIRST_CONN, 0.1, b"220 ready\r\n")) == [
        StartTls(FIRST_CONN, 0.1 + CONFIG.ssl_connect_timeout)]
    assert run.deadline == 0.1 + CONFIG.ssl_connect_timeout
    return run


def test_the_handshake_answers_the_step() -> None:
    run = _started()
    assert run.feed(TlsReady(FIRST_CONN, 0.2, "CN=x")) == [Send(FIRST_CONN, b"PING\r\n")]


def test_a_failed_handshake_closes_the_connection() -> None:
    run = _started()
    assert run.feed(TlsFailed(FIRST_CONN, 0.2, "EIO")) == [Close(FIRST_CONN)]
    assert run.done and run.outcome == Outcome(note="no TLS: EIO")


def test_a_handshake_that_never_ends_times_out() -> None:
    run = _started()
    assert run.feed(Timer(0.1 + CONFIG.ssl_connect_timeout)) == [Close(FIRST_CONN)]
    assert run.outcome == Outcome(note="no TLS: ETIMEDOUT")


def test_starttls_on_no_connection_is_an_error_at_once() -> None:
    def plugin(view: PortView) -> Generator[Step, object, Outcome | None]:
        secured = yield from starttls(FIRST_CONN + 5)
        return Outcome(note=f"{secured.conn} {secured.error}")

    run = PluginRun(Plugin("p", lambda v: True, plugin), VIEW, proto=Proto.TCP, first_conn=FIRST_CONN,
                    config=CONFIG, unix_offset=0.0)
    assert run.start(0.0) == []
    assert run.outcome == Outcome(note="None EBADF")


TINY = b"Probe TCP NULL q||\ntotalwaitms 1000\ntcpwrappedms 500\nmatch x m|^X|\n"


def test_the_fake_network_serves_the_upgraded_connection_from_its_tls_side(small: SmallCatalog) -> None:
    plain = Behaviour(banner=(reply(b"X\r\n"),))
    secure = Behaviour(rules=(Rule(b"PING", (reply(b"PONG\r\n"), close())),))
    fake = FakeTransport(Server(plain, tls=secure, subject="CN=fake"))
    engine = PortEngine(small(TINY), "127.0.0.1", 5222, Proto.TCP, config=CONFIG)
    result = fake.run(Detection(engine, (PLUGIN,)))
    assert result.scripts == (ScriptOutput("upgrade", "CN=fake PONG"),)
    upgrades = [a for _, a in fake.log if isinstance(a, StartTls)]
    assert [a.conn for a in upgrades] == [FIRST_CONN]
    assert [a.conn for _, a in fake.log if isinstance(a, Connect)][-1] == FIRST_CONN
    assert fake.connections[FIRST_CONN].tls


def test_the_fake_network_fails_it_without_a_tls_side(small: SmallCatalog) -> None:
    fake = FakeTransport(Server(Behaviour(banner=(reply(b"X\r\n"),))))
    engine = PortEngine(small(TINY), "127.0.0.1", 5222, Proto.TCP, config=CONFIG)
    result = fake.run(Detection(engine, (PLUGIN,)))
    assert "upgrade: no TLS: handshake failed" in result.notes
