"""amqp-info on scripted AMQP 0-9-1 servers (frames and field tables written here from the AMQP
0-9-1 specification): the output and version of a RabbitMQ-like ``connection.start``, each
error line of the handshake, and the library's way with field types it does not read (against
the real RabbitMQ: tests/services/test_scan_vs_nmap.py)."""

from __future__ import annotations

import pytest

from sigscan.engine.plugin import PortView
from sigscan.engine.results import Method, PortState, Service
from sigscan.plugins.amqp_info import PLUGIN, PROTOCOL_HEADER, rule, run
from tests.plugins.peer import Peer, silent_run, talk


def short(text: bytes) -> bytes:
    return bytes([len(text)]) + text


def long(text: bytes) -> bytes:
    return len(text).to_bytes(4, "big") + text


def field(key: bytes, kind: bytes, value: bytes) -> bytes:
    return short(key) + kind + value


def table(*fields: bytes) -> bytes:
    return long(b"".join(fields))


def start(properties: bytes, version: bytes = b"\x00\x09", frame_type: int = 1,
          method: int = 0x000A000A) -> bytes:
    """A ``connection.start`` method frame."""
    body = method.to_bytes(4, "big") + version + properties + long(b"PLAIN AMQPLAIN") + long(b"en_US")
    return bytes([frame_type]) + b"\x00\x00" + len(body).to_bytes(4, "big") + body + b"\xce"


RABBIT = table(
    field(b"capabilities", b"F", table(field(b"publisher_confirms", b"t", b"\x01"),
                                       field(b"basic.nack", b"t", b"\x00"))),
    field(b"cluster_name", b"S", long(b"rabbit@harness")),
    field(b"product", b"S", long(b"RabbitMQ")),
    field(b"version", b"S", long(b"3.10.8")),
)


FRAME = start(RABBIT)


def view(name: str | None = "amqp", port: int = 5672, state: PortState = PortState.OPEN) -> PortView:
    service = Service(name, Method.PROBED, 10, product="Advanced Message Queue Protocol")
    return PortView("127.0.0.1", port, "tcp", state, "syn-ack", service)


def server(reply: bytes, close: bool = True) -> Peer:
    return Peer(answer=lambda n, data: [reply, *([None] if close else [])]
                if data == PROTOCOL_HEADER else [None])


def test_rabbitmq() -> None:
    outcome, log = talk(run, view(), server(start(RABBIT)))
    assert log.sent == [[PROTOCOL_HEADER]] and log.closed == {0}
    assert outcome is not None
    assert outcome.output == ("\n  capabilities: \n    publisher_confirms: YES\n    basic.nack: NO\n"
                              "  cluster_name: rabbit@harness\n  product: RabbitMQ\n"
                              "  version: 3.10.8\n  mechanisms: PLAIN AMQPLAIN\n  locales: en_US\n")
    assert outcome.version is not None
    assert (outcome.version.name, outcome.version.product, outcome.version.version,
            outcome.version.extrainfo) == ("amqp", "RabbitMQ", "3.10.8", "0-9")


def test_amqp_0_8_and_no_product() -> None:
    outcome, _ = talk(run, view(), server(start(table(), version=b"\x08\x00")))
    assert outcome is not None and outcome.version is not None
    assert outcome.output == "\n  mechanisms: PLAIN AMQPLAIN\n  locales: en_US\n"
    assert (outcome.version.product, outcome.version.version, outcome.version.extrainfo) == (
        None, None, "0-8")


def test_a_product_in_a_nested_table_counts() -> None:
    nested = table(field(b"about", b"F", table(field(b"product", b"S", long(b"Inner")))))
    outcome, _ = talk(run, view(), server(start(nested)))
    assert outcome is not None and outcome.version is not None and outcome.version.product == "Inner"


def test_line_breaks_in_a_value_make_lines_as_in_lua() -> None:
    """format_output's gmatch("([^\r\n]-)\n"): a line ending in CR loses its text."""
    outcome, _ = talk(run, view(), server(start(table(field(b"information", b"S",
                                                              long(b"one\ntwo\r\nthree"))))))
    assert outcome is not None and outcome.output is not None
    assert outcome.output.startswith("\n  information: one\n  \n  three\n")


@pytest.mark.parametrize(("reply", "line"), [
    (b"AMQP\x00\x00\x09\x01", "ERROR: AMQP:handshake connection closed unexpectedly while reading frame header"),
    (start(RABBIT, frame_type=3), "ERROR: AQMP:handshake expected header (1) frame, but was 3"),
    (start(RABBIT, method=0x000A001E), "ERROR: AQMP:handshake expected connection.start (0x000A000A) "
                                       "method, but was a001e"),
    (start(RABBIT, version=b"\x00\x01"), "ERROR: AMQP:handshake unsupported version (1)"),
    (FRAME[:FRAME.index(b"publisher_confirms") + 19],
     "ERROR: AMQP:handshake connection closed unexpectedly while reading value for publisher_confirms"),
    (FRAME[:FRAME.index(b"publisher_confirms") + 10],
     "ERROR: AMQP:handshake connection closed unexpectedly while reading key"),
    (FRAME[:-3], "ERROR: AMQP:handshake connection closed unexpectedly while reading value for locales"),
])
def test_handshake_errors(reply: bytes, line: str) -> None:
    outcome, _ = talk(run, view(), server(reply))
    assert outcome is not None and outcome.output == line and outcome.version is None


def test_a_silent_server_waits_the_nse_socket_timeout() -> None:
    outcome, log = talk(run, view(), Peer())
    assert outcome is not None and outcome.version is None
    assert outcome.output == "ERROR: AMQP:handshake connection closed unexpectedly while reading frame header"
    assert log.now - 1_800_000_000.0 == 30.0


def test_a_refused_connection() -> None:
    outcome, _ = talk(run, view(), Peer(refuse=lambda n, tls: True))
    assert outcome is not None and outcome.output == "Unable to open connection: Connection refused"


def test_a_type_the_library_does_not_read_is_not_skipped() -> None:
    """An ``I`` (long int) value: the library reads no value, so its 4 bytes are read as the
    next field (here a boolean ``k``)."""
    odd = table(field(b"n", b"I", b"\x01kt\x01"), field(b"product", b"S", long(b"X")))
    outcome, _ = talk(run, view(), server(start(odd)))
    assert outcome is not None
    assert outcome.output == "\n  k: YES\n  product: X\n  mechanisms: PLAIN AMQPLAIN\n  locales: en_US\n"


def test_deep_tables_end_the_handshake() -> None:
    inner = table(field(b"product", b"S", long(b"X")))
    for _ in range(40):
        inner = table(field(b"t", b"F", inner))
    outcome, _ = talk(run, view(), server(start(inner)))
    assert outcome is not None and outcome.output == "ERROR: AMQP:handshake field tables nested too deep"


@pytest.mark.parametrize(("port", "name", "state", "accepted"), [
    (5672, None, PortState.OPEN, True), (5673, "amqp", PortState.OPEN, True),
    (5673, "http", PortState.OPEN, False), (5672, "amqp", PortState.OPEN_FILTERED, False),
])
def test_the_port_rule(port: int, name: str | None, state: PortState, accepted: bool) -> None:
    assert rule(view(name, port, state)) is accepted


def test_a_silent_server_through_the_engine_prints_the_error_after_30_s() -> None:
    outcome, ended, notes = silent_run(PLUGIN, view())
    assert notes == [] and 30.0 <= ended < PLUGIN.timeout
    assert outcome is not None
    assert outcome.output == "ERROR: AMQP:handshake connection closed unexpectedly while reading frame header"
