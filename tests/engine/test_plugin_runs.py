"""The script phase (sigscan.engine.scripts): a plugin's steps become actions, events its
answers; its outcome is applied as nmap.set_port_version; and whatever plugin code or the
server does, the port ends with a report."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace

import pytest

from sigscan.engine.config import EngineConfig
from sigscan.engine.events import (
    Close,
    Closed,
    Connect,
    Connected,
    Data,
    Proto,
    Report,
    Send,
    Timer,
    WaitUntil,
)
from sigscan.engine.plugin import (
    NO_SERVICE,
    SCRIPT_ERROR,
    Outcome,
    Plugin,
    PortView,
    ProbeState,
    ReplyEnd,
    Step,
    clock,
    connect,
    receive,
    send,
)
from sigscan.engine.port import PortEngine
from sigscan.engine.results import Method, PortResult, PortState, ScriptOutput, Service
from sigscan.engine.scripts import (
    FIRST_CONN,
    MAX_STEPS,
    READ_LIMIT,
    Detection,
    PluginRun,
    apply_outcome,
    set_port_version,
)
from sigscan.testing.fake import Behaviour, FakeTransport, Rule, Server
from sigscan.testing.fake import send as on_connect
from tests.engine.conftest import SmallCatalog

CONFIG = EngineConfig()
VIEW = PortView("127.0.0.1", 80, "tcp", PortState.OPEN, "syn-ack",
                Service("http", Method.PROBED, 10, product="Old", servicefp="SF-Port80-TCP:V=7.93"))


def _plugin(run: object, timeout: float = 30.0) -> Plugin:
    return Plugin("test-plugin", lambda view: True, run, timeout=timeout)  # type: ignore[arg-type]


def _start(plugin: Plugin, now: float = 0.0) -> tuple[PluginRun, list[object]]:
    run = PluginRun(plugin, VIEW, proto=Proto.TCP, first_conn=FIRST_CONN, config=CONFIG,
                    unix_offset=1000.0)
    return run, list(run.start(now))


def banner_plugin(view: PortView) -> Generator[Step, object, Outcome | None]:
    opened = yield from connect()
    assert opened.conn is not None
    yield from send(opened.conn, b"HELLO\r\n")
    reply = yield from receive(opened.conn, 5.0, at_least=6)
    when = yield from clock()
    if not reply.ok:
        return Outcome(note=f"no reply ({reply.end.value})")
    return Outcome(output=f"{reply.data.decode().strip()} at {when:g}",
                   version=replace(view.service, product=reply.data.decode().strip()))


def test_steps_become_actions_and_events_answers() -> None:
    run, actions = _start(_plugin(banner_plugin))
    assert actions == [Connect(FIRST_CONN, Proto.TCP, False, CONFIG.connect_timeout)]
    assert run.deadline == CONFIG.connect_timeout
    assert run.feed(Connected(FIRST_CONN, 0.5)) == [Send(FIRST_CONN, b"HELLO\r\n")]
    assert run.deadline == 5.5  # the read's timeout
    assert run.feed(Data(FIRST_CONN, 0.6, b"Wor")) == []  # fewer bytes than asked for: wait
    assert run.feed(Data(FIRST_CONN, 0.7, b"ld\r\n")) == [Close(FIRST_CONN)]
    assert run.done and run.outcome is not None
    assert run.outcome.output == "World at 1000.7"


def test_a_read_times_out_with_what_came() -> None:
    run, _ = _start(_plugin(banner_plugin))
    run.feed(Connected(FIRST_CONN, 0.0))
    run.feed(Data(FIRST_CONN, 0.1, b"Wo"))
    assert run.feed(Timer(4.0)) == []  # early timer: nothing happens
    assert run.feed(Timer(5.0)) == [Close(FIRST_CONN)]
    assert run.outcome == Outcome(note="no reply (timeout)")


def test_eof_answers_a_read_at_once() -> None:
    run, _ = _start(_plugin(banner_plugin))
    run.feed(Connected(FIRST_CONN, 0.0))
    run.feed(Closed(FIRST_CONN, 0.2))
    assert run.done and run.outcome == Outcome(note="no reply (eof)")


def test_a_failed_connect_is_an_answer() -> None:
    def plugin(view: PortView) -> Generator[Step, object, Outcome | None]:
        opened = yield from connect()
        return Outcome(note=f"conn {opened.conn} {opened.error}")

    run, _ = _start(_plugin(plugin))
    assert run.feed(Timer(CONFIG.connect_timeout)) == [Close(FIRST_CONN)]
    assert run.outcome == Outcome(note="conn None ETIMEDOUT")


def test_plugin_errors_end_the_run_with_a_note() -> None:
    def plugin(view: PortView) -> Generator[Step, object, Outcome | None]:
        opened = yield from connect()
        assert opened.conn is not None
        reply = yield from receive(opened.conn, 1.0)
        return Outcome(output=str(reply.data[10]))  # IndexError on a short reply

    run, _ = _start(_plugin(plugin))
    run.feed(Connected(FIRST_CONN, 0.0))
    assert run.feed(Data(FIRST_CONN, 0.1, b"short")) == [Close(FIRST_CONN)]
    assert run.done and run.outcome == Outcome(output=SCRIPT_ERROR)  # as Nmap prints it
    assert run.notes == ["test-plugin: failed: IndexError: index out of range"]


def test_a_run_ends_at_its_timeout_whatever_the_server_does() -> None:
    def plugin(view: PortView) -> Generator[Step, object, Outcome | None]:
        opened = yield from connect()
        assert opened.conn is not None
        while True:  # reads forever from a server that drips
            yield from receive(opened.conn, 1.0)

    run, _ = _start(_plugin(plugin, timeout=3.0))
    run.feed(Connected(FIRST_CONN, 0.0))
    now = 0.0
    while not run.done and now < 10:
        now += 0.5
        run.feed(Data(FIRST_CONN, now, b"x"))
        if run.deadline is not None and run.deadline <= now:
            run.feed(Timer(now))
    assert run.done and now == 3.0
    assert run.notes == ["test-plugin: stopped after 3 s"]


def test_a_plugin_that_never_waits_is_stopped() -> None:
    def plugin(view: PortView) -> Generator[Step, object, Outcome | None]:
        while True:
            yield from clock()

    run, _ = _start(_plugin(plugin))
    assert run.done and run.notes == [f"test-plugin: more than {MAX_STEPS} steps"]


def test_a_flood_is_cut_at_the_read_limit() -> None:
    def plugin(view: PortView) -> Generator[Step, object, Outcome | None]:
        opened = yield from connect()
        assert opened.conn is not None
        reply = yield from receive(opened.conn, 1.0, at_least=READ_LIMIT + 1)
        return Outcome(note=f"{len(reply.data)} {reply.end.value}")

    run, _ = _start(_plugin(plugin))
    run.feed(Connected(FIRST_CONN, 0.0))
    for i in range(3):
        run.feed(Data(FIRST_CONN, 0.1 * i, b"A" * (READ_LIMIT // 2)))
    run.feed(Closed(FIRST_CONN, 0.5))
    assert run.outcome == Outcome(note=f"{READ_LIMIT} {ReplyEnd.EOF.value}")
    assert f"{READ_LIMIT // 2} bytes past {READ_LIMIT} dropped" in run.notes[0]


@pytest.mark.parametrize(("state", "method", "conf", "fp"), [
    (ProbeState.HARDMATCHED, Method.PROBED, 10, None),
    (ProbeState.SOFTMATCHED, Method.PROBED, 10, "SF-Port80-TCP:V=7.93"),
    (ProbeState.NOMATCH, Method.TABLE, 3, "SF-Port80-TCP:V=7.93"),
])
def test_set_port_version_as_nmap(state: ProbeState, method: Method, conf: int, fp: str | None) -> None:
    record = replace(VIEW.service, product="P\x01" + "x" * 100, extrainfo="e")
    got = set_port_version(record, state, "www")
    assert (got.method, got.conf, got.servicefp) == (method, conf, fp)
    assert got.product == "P." + "x" * 78  # cut to 80, unprintable bytes as "."


def test_nomatch_without_a_name_takes_the_table_name() -> None:
    assert set_port_version(NO_SERVICE, ProbeState.NOMATCH, "www").name == "www"
    assert set_port_version(NO_SERVICE, ProbeState.TCPWRAPPED, "www").name == "tcpwrapped"


def test_outcome_applied_to_the_result() -> None:
    result = PortResult("127.0.0.1", 161, "udp", PortState.OPEN_FILTERED, "no-response", None)
    plugin = _plugin(banner_plugin)
    got = apply_outcome(result, plugin, Outcome(output="out", version=replace(NO_SERVICE, name="snmp"),
                                                state=PortState.OPEN), "snmp")
    assert (got.state, got.reason) == (PortState.OPEN, "script-set")
    assert got.service is not None and (got.service.name, got.service.conf) == ("snmp", 10)
    assert got.scripts == (ScriptOutput("test-plugin", "out"),)


TINY = (b"Probe TCP NULL q||\ntotalwaitms 1000\ntcpwrappedms 500\n"
        b"match greet m|^HELLO ([\\d.]+)| p/Greeter/ v/$1/\n")


def _greeter_rule(view: PortView) -> bool:
    return view.name == "greet"


def _greeter_run(view: PortView) -> Generator[Step, object, Outcome | None]:
    opened = yield from connect()
    assert opened.conn is not None
    yield from send(opened.conn, b"VERSION\r\n")
    reply = yield from receive(opened.conn, 2.0)
    yield from close_conn(opened.conn)
    return Outcome(output=reply.data.decode().strip(),
                   version=replace(view.service, extrainfo=reply.data.decode().strip()))


def close_conn(conn: int) -> Generator[Step, object, None]:
    from sigscan.engine.plugin import close

    yield from close(conn)


GREETER = Plugin("greeter", _greeter_rule, _greeter_run)
NEVER = Plugin("never", lambda view: view.name == "other", _greeter_run)


def test_detection_runs_plugins_after_the_probe_phase_and_reports_once(small: SmallCatalog) -> None:
    catalog = small(TINY)
    greets = Behaviour(banner=(on_connect(b"HELLO 1.2\r\n"),))
    answers = Behaviour(rules=(Rule(b"VERSION", (on_connect(b"build 77\r\n"),)),))
    server = Server(greets, per_connection=(greets, answers))
    fake = FakeTransport(server)
    engine = PortEngine(catalog, "127.0.0.1", 7000, Proto.TCP, config=CONFIG)
    detection = Detection(engine, (NEVER, GREETER))
    result = fake.run(detection)
    reports = [a for _, a in fake.log if isinstance(a, Report)]
    assert reports == [Report(result)] and detection.result is result
    assert result.service is not None
    assert (result.service.product, result.service.version, result.service.extrainfo) == (
        "Greeter", "1.2", "build 77")
    assert result.scripts == (ScriptOutput("greeter", "build 77"),)
    assert result.probes == ("NULL", "greeter")
    plugin_conns = [a.conn for _, a in fake.log if isinstance(a, Connect) and a.conn >= FIRST_CONN]
    assert plugin_conns == [FIRST_CONN]
    assert all(record.closed_by_engine is not None for record in fake.connections.values()
               if record.connected)
    waits = [a for _, a in fake.log if isinstance(a, WaitUntil)]
    assert waits, "the script phase asks for its timers"


def test_without_a_matching_rule_the_probe_result_is_reported_as_is(small: SmallCatalog) -> None:
    catalog = small(TINY)
    server = Server(Behaviour(banner=(on_connect(b"HELLO 1.2\r\n"),)))
    plain = FakeTransport(server).run(PortEngine(catalog, "127.0.0.1", 7000, Proto.TCP, config=CONFIG))
    both = FakeTransport(server).run(Detection(
        PortEngine(catalog, "127.0.0.1", 7000, Proto.TCP, config=CONFIG), (NEVER,)))
    assert replace(both, elapsed=0.0) == replace(plain, elapsed=0.0)


def test_plugin_steps_are_traced_only_when_tracing() -> None:
    from sigscan.engine.config import TraceLevel
    from sigscan.engine.events import Trace

    def lines(config: EngineConfig) -> list[str]:
        run = PluginRun(_plugin(banner_plugin), VIEW, proto=Proto.TCP, first_conn=FIRST_CONN,
                        config=config, unix_offset=0.0)
        actions = [*run.start(0.0), *run.feed(Connected(FIRST_CONN, 0.5)),
                   *run.feed(Data(FIRST_CONN, 0.7, b"World\r\n"))]
        return [a.text for a in actions if isinstance(a, Trace)]

    assert lines(CONFIG) == []
    traced = lines(EngineConfig(trace=TraceLevel.EVENTS))
    assert traced[0] == "NSE: Starting test-plugin against 127.0.0.1:80."
    assert traced[-1] == "NSE: Finished test-plugin against 127.0.0.1:80."
    assert "NSE: [test-plugin 127.0.0.1:80] sending 7 bytes on connection 1048576" in traced
    assert "NSE: [test-plugin 127.0.0.1:80] read 7 bytes, data" in traced
    assert any("sets the version (hardmatched): http |World|" in line for line in traced)
