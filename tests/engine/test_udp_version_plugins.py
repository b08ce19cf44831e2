"""The plugins stun-version, pptp-version, murmur-version, iax2-version and ike-version on the
fake network, run after the probe phase as a scan runs them: what each sets from a good reply,
and that malformed or hostile replies change nothing and never break the scan (a note at most).
The comparisons with the real ``nmap -sV`` are in tests/services (coturn, pptpd, murmurd,
strongSwan) and tests/plugins (the IAX2 emulation)."""

from __future__ import annotations

import struct
from collections.abc import Sequence

import pytest

from sigscan.engine.catalog import Catalog
from sigscan.engine.events import Proto
from sigscan.engine.plugin import Plugin
from sigscan.engine.results import Method, PortResult, PortState
from sigscan.plugins import iax2_version, ike_version, murmur_version, pptp_version, stun_version
from sigscan.plugins.lib import ike
from sigscan.plugins.lib.ike import AGGRESSIVE, MAIN, Malformed, parse_response, parse_table
from sigscan.testing.fake import Behaviour, Server, Step, send
from tests.engine.support import scan

Answer = dict[bytes, bytes]  # datagram prefix -> reply


def run(catalog: Catalog, plugin: Plugin, port: int, proto: Proto, answer: object,
        state: PortState = PortState.OPEN_FILTERED) -> PortResult:
    def reply(message: bytes) -> Sequence[Step]:
        data = answer(message) if callable(answer) else None
        return (send(data),) if data else ()

    result, _ = scan(catalog, Server(Behaviour(answer=reply)), port, proto,
                     state=state if proto is Proto.UDP else PortState.OPEN, plugins=(plugin,))
    assert not any(" failed" in n for n in result.notes), result.notes
    return result


def fields(result: PortResult) -> tuple[object, ...]:
    svc = result.service
    assert svc is not None
    return result.state, svc.name, svc.product, svc.version, svc.extrainfo, svc.method


# -- stun-version ----------------------------------------------------------------------------------


def stun_reply(request: bytes, *attributes: tuple[int, bytes], kind: int = 0x0101) -> bytes:
    body = b"".join(struct.pack(">HH", t, len(v)) + v for t, v in attributes)
    return struct.pack(">HH", kind, len(body)) + request[4:20] + body


SOFTWARE = (0x8022, b"Coturn-4.6.1 'Gorst'")
XOR_MAPPED = (0x0020, b"\x00\x01\xe1\x1a\x5e\x12\xa4\x43")


def test_stun_software_becomes_the_product(nmaplike: Catalog) -> None:
    result = run(nmaplike, stun_version.PLUGIN, 3478, Proto.UDP,
                 lambda m: stun_reply(m, XOR_MAPPED, SOFTWARE) if m[:2] == b"\x00\x01" else None)
    assert fields(result) == (PortState.OPEN, "stun", "Coturn-4.6.1 'Gorst'", None, None, Method.PROBED)
    assert result.reason == "script-set" and result.scripts == ()


@pytest.mark.parametrize("reply", [
    lambda m: stun_reply(m, XOR_MAPPED),  # neither MAPPED-ADDRESS nor SOFTWARE
    lambda m: stun_reply(m, SOFTWARE, kind=0x0111),  # a binding error response
    lambda m: b"\x01\x01\x00\x1a" + stun_reply(m, SOFTWARE, (0x8023, b""))[4:-2],
    # ^ an attribute header cut to 2 bytes after SOFTWARE, within the header's length
    lambda m: stun_reply(m, (0x0001, b"\x00\x01")),  # a MAPPED-ADDRESS cut short
    lambda m: m[:2] + b"\x01\x00" + m[4:20],  # a length past the datagram: waits, then gives up
])
def test_stun_replies_the_library_refuses_change_nothing(nmaplike: Catalog, reply: object) -> None:
    result = run(nmaplike, stun_version.PLUGIN, 3478, Proto.UDP,
                 lambda m: reply(m) if m[:2] == b"\x00\x01" else None)  # type: ignore[operator]
    assert result.service is not None and result.service.method is Method.TABLE


def test_stun_an_address_alone_names_the_port_with_no_product(nmaplike: Catalog) -> None:
    mapped = (0x0001, b"\x00\x01\x04\xd2\x7f\x00\x00\x01")
    result = run(nmaplike, stun_version.PLUGIN, 3478, Proto.UDP,
                 lambda m: stun_reply(m, mapped) if m[:2] == b"\x00\x01" else None)
    assert fields(result) == (PortState.OPEN, "stun", None, None, None, Method.PROBED)


# -- pptp-version ----------------------------------------------------------------------------------


def pptp_reply(hostname: bytes, vendor: bytes, firmware: int = 0x0102, ones: int = 1) -> bytes:
    """A Start-Control-Connection-Reply (RFC 2637 §2.2)."""
    return (b"\x00\x9c\x00\x01" + b"\x1a" * ones + b"\x2b\x3c\x4d\x00\x02\x00\x00\x01\x00\x01\x00"
            + bytes(8) + b"\x00\x01" + struct.pack(">H", firmware) + hostname.ljust(64, b"\0")[:64]
            + vendor.ljust(64, b"\0")[:64])


def test_pptp_vendor_firmware_and_host_name(nmaplike: Catalog) -> None:
    result = run(nmaplike, pptp_version.PLUGIN, 1723, Proto.TCP,
                 lambda m: pptp_reply(b"gw", b"Acme VPN") if m[:2] == b"\x00\x9c" else None)
    assert fields(result)[1:] == ("pptp", "Acme VPN", "(Firmware: 258)", None, Method.PROBED)
    assert result.service is not None and result.service.hostname == "gw"


def test_pptp_fields_without_a_nul_are_left_as_they_were(nmaplike: Catalog) -> None:
    result = run(nmaplike, pptp_version.PLUGIN, 1723, Proto.TCP,
                 lambda m: pptp_reply(b"h" * 64, b"v" * 64, firmware=0) if m[:2] == b"\x00\x9c" else None)
    assert fields(result)[1:] == ("pptp", None, None, None, Method.PROBED)
    assert result.service is not None and result.service.hostname is None


def test_pptp_the_script_pattern_takes_several_0x1a_bytes(nmaplike: Catalog) -> None:
    """The script's pattern reads ``\\026\\043`` as "0x1A, one or more times": the fields are
    counted from the byte after the last 0x1A."""
    result = run(nmaplike, pptp_version.PLUGIN, 1723, Proto.TCP,
                 lambda m: pptp_reply(b"gw", b"Acme", ones=3) if m[:2] == b"\x00\x9c" else None)
    assert fields(result)[1:3] == ("pptp", "Acme")


def test_pptp_a_short_reply_changes_nothing(nmaplike: Catalog) -> None:
    result = run(nmaplike, pptp_version.PLUGIN, 1723, Proto.TCP,
                 lambda m: pptp_reply(b"gw", b"Acme")[:90] if m[:2] == b"\x00\x9c" else None)
    assert result.service is not None and result.service.name != "pptp"


# -- murmur-version --------------------------------------------------------------------------------


def murmur_pong(ping: bytes) -> bytes | None:
    if ping[:4] != b"\0\0\0\0" or len(ping) != 12:
        return None
    return b"\x00\x01\x02\x04" + ping[4:] + struct.pack(">III", 3, 100, 72000)


@pytest.mark.parametrize(("proto", "role"), [(Proto.UDP, "voice port"), (Proto.TCP, "control port")])
def test_murmur_ping_on_either_port(nmaplike: Catalog, proto: Proto, role: str) -> None:
    result = run(nmaplike, murmur_version.PLUGIN, 64738, proto, murmur_pong)
    assert fields(result)[1:] == ("murmur", "Murmur", "1.2.4",
                                  f"{role}; users: 3; max. users: 100; bandwidth: 72000 b/s",
                                  Method.PROBED)


def test_murmur_another_reply_only_opens_the_udp_port(nmaplike: Catalog) -> None:
    result = run(nmaplike, murmur_version.PLUGIN, 64738, Proto.UDP,
                 lambda m: b"\0" * 23 if m[:4] == b"\0\0\0\0" and m[4:] == b"abcdefgh" else None)
    assert (result.state, result.reason) == (PortState.OPEN, "script-set")
    assert result.service is not None and result.service.method is Method.TABLE


# -- iax2-version ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("reply", "named"), [
    (b"\x80\x01\x80\x00\0\0\0\0\x00\x01\x06\x03", True),  # PONG
    (b"\x80\x01\x80\x00\0\0\0\0\x00\x01\x06\x04", True),  # ACK
    (b"\x80\x01\x80\x00\0\0\0\0\x00\x01\x06\x0a", False),  # INVAL
    (b"\x80\x01\x80\x00\0\0\0\0\x00\x01\x06\x03\x00", False),  # 13 bytes
])
def test_iax2_pong_or_ack(nmaplike: Catalog, reply: bytes, named: bool) -> None:
    result = run(nmaplike, iax2_version.PLUGIN, 4569, Proto.UDP,
                 lambda m: reply if m == iax2_version.POKE else None)
    assert (result.service is not None and result.service.name == "iax2") is named
    assert (result.state is PortState.OPEN) is named


# -- ike-version -----------------------------------------------------------------------------------

TABLE = """
--[[ a block comment with table.insert(fingerprints, {category = 'vendor', fingerprint = '^00'}) ]]
table.insert(fingerprints, {
  category = 'vendor',
  vendor = 'strongSwan',
  version = '4.3.6',
  ostype = nil, -- Linux
  devicetype = nil,
  cpe = nil,
  fingerprint = '^882fe56d6fd20dbc2251613b2ebe5beb'
});
table.insert(fingerprints, {
  category = 'attribute',
  vendor = nil,
  version = nil,
  ostype = nil,
  devicetype = nil,
  cpe = nil,
  fingerprint = '^09002689dfd6b712',
  text = 'XAUTH'
});
table.insert(fingerprints, {
  category = 'attribute',
  vendor = nil, version = nil, ostype = nil, devicetype = nil, cpe = nil,
  fingerprint = '^afcad71368a1f1c96b8696fc7757....',
  text = 'Dead Peer Detection'
});
table.insert(fingerprints, {
  category = 'vid_ordering',
  vendor = 'Acme',
  version = nil,
  ostype = 'AcmeOS',
  devicetype = 'router',
  cpe = 'cpe:/o:acme:acmeos',
  fingerprint = '^aaaa.*'
});
"""
STRONGSWAN = bytes.fromhex("882fe56d6fd20dbc2251613b2ebe5beb")
XAUTH = bytes.fromhex("09002689dfd6b712")
DPD = bytes.fromhex("afcad71368a1f1c96b8696fc77570100")


def ike_reply(request: bytes, *vids: bytes, mode: int = AGGRESSIVE) -> bytes:
    payloads = b""
    for i, vid in enumerate(vids):
        following = 0x0D if i + 1 < len(vids) else 0
        payloads += struct.pack(">BxH", following, 4 + len(vid)) + vid
    first = 0x0D if vids else 0
    return (request[:8] + b"R" * 8 + struct.pack(">BBBBII", first, 0x10, mode, 0, 0, 28 + len(payloads))
            + payloads)


@pytest.fixture
def vendor_table(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = parse_table(TABLE)
    monkeypatch.setattr(ike_version, "fingerprints", lambda: rows)


def test_ike_table_reading() -> None:
    rows = parse_table(TABLE)
    # the '.*' of the ordering row is more of Lua's pattern language than hex and '.': skipped
    assert [(r.category, r.vendor, r.version, r.text) for r in rows] == [
        ("vendor", "strongSwan", "4.3.6", None), ("attribute", None, None, "XAUTH"),
        ("attribute", None, None, "Dead Peer Detection")]


def test_ike_strongswan_vendor_ids(nmaplike: Catalog, vendor_table: None) -> None:
    result = run(nmaplike, ike_version.PLUGIN, 500, Proto.UDP,
                 lambda m: ike_reply(m, STRONGSWAN, XAUTH, DPD) if m[17:18] == b"\x10" else None)
    assert fields(result) == (PortState.OPEN, None, "strongSwan", "4.3.6", None, Method.PROBED)
    assert [(s.id, s.output) for s in result.scripts] == [("ike-version", (
        "\n  vendor_id: strongSwan 4.3.6\n  attributes: \n    XAUTH\n    Dead Peer Detection"))]


def test_ike_tries_main_mode_last(nmaplike: Catalog, vendor_table: None) -> None:
    modes = []

    def answer(message: bytes) -> bytes | None:
        if message[17:18] != b"\x10":
            return None
        modes.append(message[18])
        return ike_reply(message, XAUTH, mode=MAIN) if message[18] == MAIN else None

    result = run(nmaplike, ike_version.PLUGIN, 500, Proto.UDP, answer)
    assert modes == [AGGRESSIVE, AGGRESSIVE, AGGRESSIVE, MAIN]
    assert result.state is PortState.OPEN and result.service is not None
    assert result.service.method is Method.TABLE  # an attribute with no OS sets no version
    assert [s.output for s in result.scripts] == ["\n  attributes: \n    XAUTH"]


@pytest.mark.parametrize("tail", [
    struct.pack(">BxH", 0, 2),  # a payload length under 4
    struct.pack(">BxH", 0, 400) + b"x",  # a payload length past the datagram
    b"\x0d",  # a payload header cut short
])
def test_ike_malformed_payloads_end_the_script_quietly(nmaplike: Catalog, vendor_table: None,
                                                       tail: bytes) -> None:
    def answer(message: bytes) -> bytes | None:
        if message[17:18] != b"\x10":
            return None
        return message[:8] + b"R" * 8 + struct.pack(">BBBBII", 0x0D, 0x10, AGGRESSIVE, 0, 0, 99) + tail

    result = run(nmaplike, ike_version.PLUGIN, 500, Proto.UDP, answer)
    assert result.service is not None and result.service.method is Method.TABLE
    assert result.scripts == ()


def test_ike_request_layout() -> None:
    packet = ike.request(AGGRESSIVE, 500, "udp", 2, b"vpngroup", bytes(range(220)))
    assert len(packet) == struct.unpack_from(">I", packet, 24)[0]
    assert packet[16:20] == b"\x01\x10\x04\x00" and packet[8:16] == bytes(8)
    assert packet[31] == 120 + 0 or struct.unpack_from(">BxHBBBB", packet, 40)[5] == 120
    assert packet.endswith(struct.pack(">BxHBBH", 0, 16, 3, 17, 500) + b"vpngroup")
    assert parse_response(packet[:19]) is None
    with pytest.raises(Malformed):
        parse_response(packet[:28] + b"\x01\x00\x00")
