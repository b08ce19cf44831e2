"""The plugin libraries that reproduce NSE's: output rendering and text helpers
(sigscan.plugins.lib.stdnse), the BER reader of snmp.decode (lib.ber), NSE socket reads
(lib.nsock) and the enterprise names (lib.enterprises). The expected strings are what Nmap 7.93
prints (its scripts' documented outputs and runs against the harness daemons)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sigscan.engine.plugin import Exchange, Outcome, PortView
from sigscan.engine.results import Method, PortState, Service
from sigscan.plugins.lib import enterprises
from sigscan.plugins.lib.ber import BerError, Oid, decode
from sigscan.plugins.lib.nse_socket import Failed, open_socket
from sigscan.plugins.lib.stdnse import (
    Table,
    format_output,
    format_table,
    format_time,
    format_timestamp,
    lines,
    lua_tostring,
    tohex,
)
from tests.plugins.peer import Peer, talk

VIEW = PortView("127.0.0.1", 9, "tcp", PortState.OPEN, "syn-ack", Service(None, Method.TABLE, 3))


def test_format_table_as_nse_main() -> None:
    table = Table(["Respects server name"], {"info": {"xmpp": Table([], {"lang": "en"}),
                                                       "features": [], "errors": ["a", {"text": "t"}]}})
    assert format_table(table) == ("\n  Respects server name\n  info: \n    xmpp: \n      lang: en"
                                   "\n    features: \n    errors: \n      a\n      \n        text: t")
    assert format_table({"n": 1, "yes": True, "f": 2.0, "b": b"\xc3\xa9"}) == (
        "\n  n: 1\n  yes: true\n  f: 2.0\n  b: \u00e9")
    assert format_table("plain") == "plain"


@pytest.mark.parametrize(("value", "text"), [
    (None, "nil"), (False, "false"), (3, "3"), (0.5, "0.5"), (1e20, "1e+20"), (-2.0, "-2.0"),
])
def test_lua_tostring(value: object, text: str) -> None:
    assert lua_tostring(value) == text


def test_format_output_as_stdnse() -> None:
    assert format_output([]) is None
    assert format_output([[]]) is None  # only an empty nested list: "\n" alone is nothing
    assert format_output(["a: 1", ["b: YES", ["deep"]], "c\n"]) == "\n  a: 1\n    b: YES\n      deep\n  c\n"
    assert lines("x\r\ny\n\nz") == ["", "y", "", "z"]


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0s"), (2, "2s"), (60, "1m00s"), (3723, "1h02m03s"), (86400, "1d00h00m00s"),
    (30935626, "358d01h13m46s"), (-4, "-4s"),
])
def test_format_time(seconds: int, text: str) -> None:
    assert format_time(seconds) == text


@pytest.mark.parametrize(("stamp", "text"), [
    (0, "1970-01-01T00:00:00"), (-2208988800, "1900-01-01T00:00:00"),
    (1382524380, "2013-10-23T10:33:00"),  # rfc868-time's documented output
])
def test_format_timestamp(stamp: int, text: str) -> None:
    assert format_timestamp(stamp) == text


def test_tohex_ignores_separators_as_nmap_7_93_does() -> None:
    assert tohex(b"\x00\xd4\x8c") == "00d48c"


@pytest.mark.parametrize(("data", "value", "end"), [
    (b"\x02\x01\x03", 3, 3), (b"\x02\x02\xff\x00", -256, 4), (b"\x04\x00", b"", 2),
    (b"\x01\x01\x00", False, 3), (b"\x01\x00", True, 3),  # the byte after the length, if any
    (b"\x05\x00", False, 2), (b"\x06\x03\x2b\x06\x01", Oid((1, 3, 6, 1)), 5),
    (b"\x30\x06\x02\x01\x01\x04\x01x", [1, b"x"], 8),
    (b"\x30\x05\xa2\x03\x02\x01\x07", [7], 7),  # an unknown tag: its content read as elements
    (b"\x30\x03\x02\x01\x05\x99", [5], 5), (b"\x30\x04\x05\x00\x05\x00", [False, False], 6),
    (b"\x30\x02\x05\x00", [False], 4), (b"\x30\x01\x05", [], 3),  # stops with < 2 bytes left
    (b"\x02\x11" + b"\x00" * 17, None, 2),  # more than 16 bytes: not an integer, not skipped
    (b"\x43\x04\x00\x00\x01\x00", 256, 6), (b"\x04\x81\x01z", b"z", 4),
])
def test_ber_as_snmp_decode(data: bytes, value: object, end: int) -> None:
    assert decode(data) == (value, end)


@pytest.mark.parametrize("data", [
    b"", b"\x02", b"\x02\x00", b"\x02\x05\x01", b"\x04\x05ab", b"\x30\x05\x02", b"\x04\x82\x01",
    b"\x02\x09\x01" + b"\x00" * 8, b"\x06\x02\x2b\x86", b"\x30\x80" * 300,
])
def test_ber_errors(data: bytes) -> None:
    with pytest.raises(BerError):
        decode(data)


def test_ber_nesting_is_bounded() -> None:
    data = b"\x05\x00"
    for _ in range(250):
        size = len(data)
        data = b"\x30" + (bytes([size]) if size < 128 else b"\x82" + size.to_bytes(2, "big")) + data
    with pytest.raises(BerError, match="nested"):
        decode(data)


def _reads(view: PortView) -> Exchange:
    sock = yield from open_socket(5.0)
    assert not isinstance(sock, Failed)
    got: list[object] = [(yield from sock.receive_exact(3)), (yield from sock.receive_until(b">", 4)),
                         (yield from sock.receive_until(b">", 4)), (yield from sock.receive()),
                         (yield from sock.receive_exact(2))]
    yield from sock.close()
    return Outcome(output=repr(got))


def test_nse_socket_reads() -> None:
    peer = Peer(greet=lambda n: [b"abc<x>", b"yyyyy", b"zz", None])
    outcome, _ = talk(_reads, VIEW, peer)
    assert outcome is not None
    assert outcome.output == repr([b"abc", b"<x>", b"yyyy", b"yzz", Failed("EOF")])


def _connect(view: PortView) -> Exchange:
    sock = yield from open_socket(5.0)
    return Outcome(output=repr(sock))


def test_a_refused_connect_is_nses_error_text() -> None:
    outcome, _ = talk(_connect, VIEW, Peer(refuse=lambda n, tls: True))
    assert outcome is not None and outcome.output == repr(Failed("Connection refused"))


def test_enterprise_names_from_nmaps_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert enterprises.parse(b"# c\n9\tciscoSystems\n0009\tlater wins\nx\t1\n12 no tab\n\n7\ta\tb\r\n") == {
        9: "later wins", 7: "a\tb\r"}
    assert enterprises.folders({"NMAPDIR": "/x", "HOME": "/h"})[:2] == [Path("/x"), Path("/h/.nmap")]
    data = tmp_path / "nselib" / "data"
    data.mkdir(parents=True)
    (data / "enterprise_numbers.txt").write_bytes(b"8072\tnet-snmp\n")
    monkeypatch.setattr(enterprises, "folders", lambda environ=None: [tmp_path / "missing", tmp_path])
    enterprises.table.cache_clear()
    try:
        assert (enterprises.name(8072), enterprises.name(9)) == ("net-snmp", None)
    finally:
        enterprises.table.cache_clear()
