"""snmp-info on scripted SNMPv3 agents: the engine ID formats of RFC 3411, the product it builds,
the fingerprint it reads instead of asking, and replies it must refuse without failing (against
the real Net-SNMP: tests/services/test_scan_vs_nmap.py). BER is written here from X.690."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from sigscan.engine.plugin import PortView
from sigscan.engine.results import Method, PortState, Service
from sigscan.plugins.lib import enterprises
from sigscan.plugins.snmp_info import SNMPV3_GET_REQUEST, examine, rule, run
from tests.plugins.peer import Peer, talk


def tlv(tag: int, body: bytes) -> bytes:
    size = len(body)
    length = bytes([size]) if size < 128 else bytes([0x80 | 2]) + size.to_bytes(2, "big")
    return bytes([tag]) + length + body


def integer(value: int) -> bytes:
    return tlv(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def octets(value: bytes) -> bytes:
    return tlv(0x04, value)


def seq(*items: bytes) -> bytes:
    return tlv(0x30, b"".join(items))


def report(engine_id: bytes, boots: int = 3, time: int = 3723, msg_id: int = 0x4A69,
           version: int = 3, model: int = 3) -> bytes:
    """An SNMPv3 Report as an agent answers an unknown engine (RFC 3414's discovery)."""
    security = seq(octets(engine_id), integer(boots), integer(time), octets(b""), octets(b""),
                   octets(b""))
    pdu = tlv(0xA8, integer(0x37F0) + integer(0) + integer(0) + seq())
    scoped = seq(octets(engine_id), octets(b""), pdu)
    header = seq(integer(msg_id), integer(65507), octets(b"\x00"), integer(model))
    return seq(integer(version), header, octets(security), scoped)


NET_SNMP_ID = bytes.fromhex("80001f8880") + bytes.fromhex("8a839c01ce51176b00000000")  # as Net-SNMP 5.9


@pytest.fixture(autouse=True)
def enterprise_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A small enterprise-numbers file in a private NMAPDIR (the real one is Nmap's)."""
    folder = tmp_path / "nselib" / "data"
    folder.mkdir(parents=True)
    (folder / "enterprise_numbers.txt").write_text(
        "# test\n9\tciscoSystems\n311\tMicrosoft\n8072\tnet-snmp\n8072\tnet-snmp\n")
    monkeypatch.setenv("NMAPDIR", str(tmp_path))
    enterprises.table.cache_clear()
    yield
    enterprises.table.cache_clear()


def view(product: str | None = "SNMPv1 server", fp: str | None = None) -> PortView:
    service = Service("snmp", Method.PROBED, 10, product=product, extrainfo="public", servicefp=fp)
    return PortView("127.0.0.1", 161, "udp", PortState.OPEN, "udp-response", service)


def agent(reply: bytes | None) -> Peer:
    return Peer(answer=lambda n, data: [reply] if reply is not None and data == SNMPV3_GET_REQUEST else [],
                udp=True)


def test_net_snmp_as_nmap_shows_it() -> None:
    outcome, log = talk(run, view(), agent(report(NET_SNMP_ID, boots=1, time=2)))
    assert log.sent == [[SNMPV3_GET_REQUEST]]
    assert outcome is not None
    assert outcome.output == ("\n  enterprise: net-snmp\n  engineIDFormat: unknown"
                              "\n  engineIDData: 8a839c01ce51176b00000000\n  snmpEngineBoots: 1"
                              "\n  snmpEngineTime: 2s")
    assert outcome.version is not None
    assert outcome.version.product == "SNMPv1 server; net-snmp SNMPv3 server"
    assert (outcome.version.name, outcome.version.extrainfo) == ("snmp", "public")


@pytest.mark.parametrize(("product", "expected"), [
    (None, "net-snmp SNMPv3 server"), ("SNMPv3 server", "net-snmp SNMPv3 server"),
    ("", "; net-snmp SNMPv3 server"),  # Lua: an empty string is true
])
def test_the_product(product: str | None, expected: str) -> None:
    outcome, _ = talk(run, view(product), agent(report(NET_SNMP_ID)))
    assert outcome is not None and outcome.version is not None
    assert outcome.version.product == expected


@pytest.mark.parametrize(("engine_id", "lines"), [
    (bytes.fromhex("80000009") + b"\x01" + bytes([192, 0, 2, 7]),
     ["enterprise: ciscoSystems", "engineIDFormat: ipv4", "engineIDData: 192.0.2.7"]),
    (bytes.fromhex("80000009") + b"\x02" + bytes.fromhex("20010db8000000000000000000000001"),
     ["enterprise: ciscoSystems", "engineIDFormat: ipv6", "engineIDData: 2001:db8::1"]),
    (bytes.fromhex("80000009") + b"\x03" + bytes.fromhex("00d48c001122"),  # no ':' (Nmap 7.93)
     ["enterprise: ciscoSystems", "engineIDFormat: mac", "engineIDData: 00d48c001122"]),
    (bytes.fromhex("80000137") + b"\x04" + b"router-7",
     ["enterprise: Microsoft", "engineIDFormat: text", "engineIDData: router-7"]),
    (bytes.fromhex("80000137") + b"\x05" + b"\x01\xab",
     ["enterprise: Microsoft", "engineIDFormat: octets", "engineIDData: 01ab"]),
    (bytes.fromhex("80000137") + b"\x80" + b"\x01\xab",
     ["enterprise: Microsoft", "engineIDFormat: unknown", "engineIDData: 01ab"]),
    (bytes.fromhex("00000009") + b"\x01\x02",  # RFC 1910's older form: no format byte
     ["enterprise: ciscoSystems", "engineIDFormat: unknown", "engineIDData: 0102"]),
    (bytes.fromhex("00000063") + b"\x01",  # a number the file does not name: the number
     ["enterprise: 99", "engineIDFormat: unknown", "engineIDData: 01"]),
    (bytes.fromhex("80000063") + b"\x01" + b"\x01\x02",  # named by none, with the flag: left out
     ["engineIDFormat: ipv4"]),
])
def test_engine_id_formats(engine_id: bytes, lines: list[str]) -> None:
    found = examine(report(engine_id))
    assert found is not None
    output, _ = found
    text = "\n".join(f"{k}: {v}" for k, v in output.items())
    assert text.split("\n")[:len(lines)] == lines


def test_an_enterprise_named_by_none_is_nil_in_the_product() -> None:
    outcome, _ = talk(run, view(), agent(report(bytes.fromhex("80000063") + b"\x05\x01")))
    assert outcome is not None and outcome.version is not None
    assert outcome.version.product == "SNMPv1 server; nil SNMPv3 server"


def test_without_nmaps_data_every_enterprise_is_unknown(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(enterprises, "folders", lambda environ=None: [tmp_path / "none"])
    enterprises.table.cache_clear()
    found = examine(report(NET_SNMP_ID))
    assert found is not None and found[0]["enterprise"] == "unknown"


def test_the_fingerprint_is_read_instead_of_asking() -> None:
    reply = report(NET_SNMP_ID, time=90061)
    escaped = "".join(f"\\x{b:02x}" for b in reply)
    fp = f'SF-Port161-UDP:V=7.93%I=7%D=1/1%Time=0%P=x%r(SNMPv3GetRequest,{len(reply):X},"{escaped}");'
    outcome, log = talk(run, view(fp=fp), agent(None))
    assert log.connections == 0
    assert outcome is not None and outcome.output is not None
    assert outcome.output.endswith("snmpEngineTime: 1d01h01m01s")


@pytest.mark.parametrize("reply", [
    report(NET_SNMP_ID, msg_id=7), report(NET_SNMP_ID, version=1), report(NET_SNMP_ID, model=2),
    report(b"\x80\x00"), report(bytes.fromhex("80001f88")), report(NET_SNMP_ID)[:-5],
    b"", b"\x30", b"\x02\x01\x03", b"\x04\x03abc", b"\x30\x84\xff\xff\xff\xff",
    seq(integer(3), seq(integer(0x4A69), integer(1), octets(b""), integer(3)), integer(5)),
    seq(integer(3), seq(integer(0x4A69), integer(1), octets(b""), integer(3)),
        octets(seq(octets(NET_SNMP_ID), integer(1), octets(b"soon")))),
])
def test_replies_it_refuses(reply: bytes) -> None:
    outcome, _ = talk(run, view(), agent(reply))
    assert outcome is None


def test_no_reply_gives_nothing() -> None:
    outcome, log = talk(run, view(), agent(None))
    assert outcome is None and log.now - 1_800_000_000.0 == 7.0


def test_random_bytes_never_break_it() -> None:
    chooser = random.Random(868)
    good = report(NET_SNMP_ID)
    for _ in range(3000):
        data = bytearray(good)
        for _ in range(chooser.randint(1, 6)):
            data[chooser.randrange(len(data))] = chooser.randrange(256)
        cut = bytes(data[:chooser.randint(0, len(data))])
        examine(cut)  # None or a result; never an exception
        examine(bytes(chooser.randrange(256) for _ in range(chooser.randint(0, 80))))


def test_the_port_rule() -> None:
    assert rule(view())
    tcp = PortView("127.0.0.1", 161, "tcp", PortState.OPEN, "syn-ack", view().service)
    assert not rule(tcp)
    other = PortView("127.0.0.1", 1161, "udp", PortState.OPEN_FILTERED, "no-response",
                     Service("snmp", Method.TABLE, 3))
    assert rule(other)
