"""Unit tests of the database, enterprise and embedded-agent plugins (oracle-tns-version,
drda-info, db2-das-info, maxdb-info, jdwp-version, ndmp-version, weblogic-t3-info,
wdb-version) and their codecs: the cases the emulations do not reach (refusals, cut or hostile
replies), driven step by step with scripted replies. Any reply, however broken, must end a run
with an outcome or nothing, never an exception."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from dataclasses import replace

import pytest

from sigscan.engine.plugin import (
    NO_SERVICE,
    Clock,
    Open,
    Opened,
    Outcome,
    Plugin,
    PortView,
    ProbeState,
    Read,
    Reply,
    ReplyEnd,
    Shut,
    Write,
)
from sigscan.engine.results import Method, PortState, Service
from sigscan.plugins import (
    db2_das_info,
    drda_info,
    jdwp_version,
    maxdb_info,
    ndmp_version,
    oracle_tns_version,
    wdb_version,
    weblogic_t3_info,
)
from sigscan.plugins.lib import drda, ndmp, wdb
from sigscan.plugins.lib.nse_format import Section, format_output, format_table

PLUGINS = (oracle_tns_version.PLUGIN, drda_info.PLUGIN, db2_das_info.PLUGIN, maxdb_info.PLUGIN,
           jdwp_version.PLUGIN, ndmp_version.PLUGIN, weblogic_t3_info.PLUGIN, wdb_version.PLUGIN)
MAX_STEPS = 10_000


def view(port: int, proto: str = "tcp", service: Service = NO_SERVICE,
         state: PortState = PortState.OPEN) -> PortView:
    return PortView("127.0.0.1", port, proto, state, "syn-ack", service)


def drive(plugin: Plugin, port: PortView, replies: list[bytes],
          end: ReplyEnd = ReplyEnd.EOF) -> tuple[Outcome | None, list[bytes]]:
    """Run ``plugin`` with each read answered by the next of ``replies`` (then ``end``);
    what it returned and what it sent."""
    sent: list[bytes] = []
    queue = list(replies)
    gen = plugin.run(port)
    answer: object = None
    for _ in range(MAX_STEPS):
        try:
            step = gen.send(answer)
        except StopIteration as stop:
            assert stop.value is None or isinstance(stop.value, Outcome)
            return stop.value, sent
        if isinstance(step, Open):
            answer = Opened(7)
        elif isinstance(step, Write):
            sent.append(step.data)
            answer = None
        elif isinstance(step, Read):
            answer = Reply(queue.pop(0), ReplyEnd.DATA) if queue else Reply(b"", end)
        elif isinstance(step, Clock):
            answer = 1_700_000_000.0
        else:
            assert isinstance(step, Shut)
            answer = None
    raise AssertionError(f"{plugin.name} took more than {MAX_STEPS} steps")


# --------------------------------------------------------------------------- output rendering


def test_format_output_nests_sections_and_blanks_carriage_return_lines() -> None:
    text = format_output(["a", Section("Databases", ["x  y\nz\n"]), "b\r\nc"])
    assert text == "\n  a\n  Databases\n    x  y\n    z\n  \n  c\n"
    assert format_output([]) is None


def test_format_table_lists_array_part_first() -> None:
    assert format_table([("Key", "v"), (None, "first")]) == "\n  first\n  Key: v"


# --------------------------------------------------------------------------- oracle-tns-version


@pytest.mark.parametrize(("number", "version"), [(135290880, "8.1.6.0.0"), (153092352, "9.2.0.1.0"),
                                                 (185599488, "11.1.0.6.0"), (352321536, "21.0.0.0.0")])
def test_vsnnum_decoding(number: int, version: str) -> None:
    assert oracle_tns_version.decode_vsnnum(number) == version


def test_oracle_rule_skips_ports_with_a_version() -> None:
    tns = Service("oracle-tns", Method.PROBED, 10, version="19.3")
    assert not oracle_tns_version.rule(view(1521, service=tns))
    assert oracle_tns_version.rule(view(1521, service=replace(tns, version=None)))


def test_oracle_unknown_error_and_search_start() -> None:
    reply = b"\x00\x30\x00\x00\x04\x00\x00\x00\x22\x00\x00\x10(DESCRIPTION=(ERR=99))"
    outcome, sent = drive(oracle_tns_version.PLUGIN, view(1521), [reply])
    assert sent == [oracle_tns_version.PROBE]
    assert outcome is not None and outcome.version is not None
    assert outcome.version.extrainfo == "error: 99" and outcome.version.product is None
    # VSNNUM inside the first 11 bytes is not looked at, as in the script
    outcome, _ = drive(oracle_tns_version.PLUGIN, view(1521), [b"(VSNNUM=1)"])
    assert outcome is None


# --------------------------------------------------------------------------- drda-info


@pytest.mark.parametrize(("prodrel", "shown"), [("SQL09074", "9.07.4"), ("SQL11050", "11.05.0"),
                                                ("IFX11100", "11.10.0"), ("CSS10140/10.14.2.0 - (1828579)",
                                                                          "10.14.2.0 - (1828579)"),
                                                ("CSS", None), ("DSN10015", "DSN10015")])
def test_drda_release_levels(prodrel: str, shown: str | None) -> None:
    assert drda_info.parse_version(prodrel) == shown


def _excsatrd(*params: tuple[int, bytes], codepoint: int = drda.EXCSATRD) -> bytes:
    body = b"".join(struct.pack(">HH", len(d) + 4, c) + d for c, d in params)
    return struct.pack(">HBBHHH", 10 + len(body), 0xD0, 2, 1, 4 + len(body), codepoint) + body


def test_drda_unknown_server_keeps_the_name_and_prints_nil() -> None:
    reply = _excsatrd((drda.SRVRLSLV, "QSQ07010".encode("cp037")))
    outcome, _ = drive(drda_info.PLUGIN, view(446, service=Service("drda", Method.PROBED, 10)), [reply])
    assert outcome is not None and outcome.version is not None
    assert outcome.output == ("\n  Version: QSQ07010\n  Server Platform: nil\n  Instance Name: nil\n"
                              "  External Name: nil\n")
    assert outcome.version.name == "drda" and outcome.version.extrainfo is None
    assert outcome.state is PortState.OPEN and outcome.probestate is ProbeState.HARDMATCHED


def test_drda_reply_without_excsatrd_says_so() -> None:
    outcome, _ = drive(drda_info.PLUGIN, view(50000), [_excsatrd((0x1149, b"\x00\x08"), codepoint=0x1232)])
    assert outcome == Outcome(output="The response contained no EXCSATRD")


def test_drda_cut_parameter_changes_nothing() -> None:
    broken = struct.pack(">HBBHHH", 16, 0xD0, 2, 1, 10, drda.EXCSATRD) + b"\x00\x02\x11\x47\x00\x00"
    outcome, _ = drive(drda_info.PLUGIN, view(50000), [broken])
    assert outcome is not None and outcome.version is None and outcome.output is None


def test_ebcdic_brackets_as_nmap_reads_them() -> None:
    assert drda.to_ascii(b"\xad\xc1\xbd\x5f\xf1") == "[A]^1"


# --------------------------------------------------------------------------- db2-das-info


def test_db2_das_sends_the_scripts_blocks_and_stops_on_a_short_reply() -> None:
    short = (db2_das_info.EYECATCHER + bytes(12) + b"9z" + bytes(13) + struct.pack("<I", 4)
             + bytes(4))
    outcome, sent = drive(db2_das_info.PLUGIN, view(523), [short] * 4)
    assert [p[36] for p in sent] == [0x02, 0x05, 0x0A, 0x06, 0x06]
    assert all(p.startswith(db2_das_info.EYECATCHER) for p in sent)
    assert outcome is not None and outcome.version is None and outcome.note


def test_db2_version_and_precision() -> None:
    assert db2_das_info.db2_version("SQL09074") == "9.07.4"
    assert db2_das_info.db2_version("DB2 7.1") is None


# --------------------------------------------------------------------------- maxdb-info


def test_maxdb_table_layout() -> None:
    rows = [("instance", "path", "state"), ("A", "/very/long/path", "on")]
    assert maxdb_info.table(rows) == "instance  path             state\nA         /very/long/path  on\n"


def test_maxdb_version_lines() -> None:
    reply = bytes(24) + b"OK\nVERSION    = 7.6.06\r\nODD\nSYSNAME = \n"
    assert maxdb_info.parse_version(reply) == {"VERSION": "7.6.06\r", "SYSNAME": ""}


def test_maxdb_without_ok_changes_nothing() -> None:
    packet = struct.pack("<I", 30) + bytes(26)
    outcome, _ = drive(maxdb_info.PLUGIN, view(7210), [packet, packet, packet])
    assert outcome is None


# --------------------------------------------------------------------------- jdwp-version


def test_jdwp_rule_wants_tcpwrapped() -> None:
    wrapped = Service("tcpwrapped", Method.PROBED, 8)
    assert jdwp_version.rule(view(5005, service=wrapped))
    assert not jdwp_version.rule(view(5005, service=replace(wrapped, name="http")))


def _jdwp_reply(description: bytes, version: bytes) -> bytes:
    def string(text: bytes) -> bytes:
        return struct.pack(">I", len(text)) + text
    data = string(description) + struct.pack(">II", 1, 17) + string(version) + string(b"OpenJDK VM")
    return b"JDWP-Handshake" + struct.pack(">IIBH", 11 + len(data), 1, 0x80, 0) + data


def test_jdwp_version_reply() -> None:
    reply = _jdwp_reply(b"Java Debug Wire Protocol (Reference Implementation) version 17.0\nJVM 17", b"17.0.2")
    outcome, sent = drive(jdwp_version.PLUGIN, view(5005), [reply])
    assert sent == [b"JDWP-Handshake\x00\x00\x00\x0b\x00\x00\x00\x01\x00\x01\x01"]
    assert outcome is not None and outcome.version is not None
    assert outcome.version.name == "jdwp" and outcome.version.version == "17.0.2"
    assert outcome.version.product == "Java Debug Wire Protocol (Reference Implementation) version 17.0"


def test_jdwp_reply_flag_alone_gives_unknown() -> None:
    outcome, _ = drive(jdwp_version.PLUGIN, view(5005), [b"JDWP-Handshake\x00\x00\x00\x0b\x80\x00"])
    assert outcome is not None and outcome.version is not None and outcome.version.product == "unknown"


# --------------------------------------------------------------------------- ndmp-version


def _ndmp(reply_seq: int, code: int, body: bytes, error: int = 0) -> bytes:
    header = struct.pack(">6I", 9, 0, 1, code, reply_seq, error)
    return struct.pack(">I", 0x80000000 | (24 + len(body))) + header + body


def _xdr(*texts: bytes) -> bytes:
    return b"".join(struct.pack(">I", len(t)) + t + bytes(-len(t) % 4) for t in texts)


def test_ndmp_extrainfo_keeps_the_scripts_trailing_separator() -> None:
    host = _ndmp(1, ndmp.CONFIG_GET_HOST_INFO, bytes(4) + _xdr(b"nas1", b"Linux", b"5.10", b"id"))
    server = _ndmp(2, ndmp.CONFIG_GET_SERVER_INFO, bytes(4) + _xdr(b"Acme", b"Mover", b"1"))
    notify = _ndmp(0, ndmp.NOTIFY_CONNECTION_STATUS, bytes(12))
    outcome, sent = drive(ndmp_version.PLUGIN, view(10000), [notify + host, server])
    assert [struct.unpack(">I", p[16:20])[0] for p in sent] == [0x100, 0x108]
    assert outcome is not None and outcome.version is not None
    assert (outcome.version.name, outcome.version.product, outcome.version.extrainfo,
            outcome.version.ostype) == ("ndmp", "Acme", "Name: nas1; ", "Linux")


def test_ndmp_wrong_server_message_changes_nothing() -> None:
    host = _ndmp(1, ndmp.CONFIG_GET_HOST_INFO, bytes(4), error=ndmp.NOT_AUTHORIZED_ERROR)
    outcome, _ = drive(ndmp_version.PLUGIN, view(10000), [host, _ndmp(2, 0x999, b"")])
    assert outcome is not None and outcome.version is None


# --------------------------------------------------------------------------- weblogic-t3-info


@pytest.mark.parametrize(("reply", "said", "version"), [
    (b"HELO:10.3.6.0.false\nAS:2048\n\n", "WebLogic version: 10.3.6.0", "10.3.6.0"),
    (b"HELO:12.1.2.false\n\n", None, None),
    (b"LGIN:nope\n", "handshake failed", None),
    (b"CMND:x", "No such command", None),
    (b"VERS:Incompatible versions - this server:12.2.1.3.0\n", "Incompatible version", "12.2.1.3"),
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", None, None)])
def test_weblogic_answers(reply: bytes, said: str | None, version: str | None) -> None:
    known = Service("http", Method.PROBED, 10, product="WebLogic httpd", extrainfo="Servlet 2.5")
    outcome, _ = drive(weblogic_t3_info.PLUGIN, view(80, service=known), [reply])
    if said is None:
        assert outcome is None
        return
    assert outcome is not None and outcome.version is not None
    assert outcome.output == f"T3 protocol in use ({said})"
    assert outcome.version.extrainfo == "Servlet 2.5; T3 enabled"
    assert outcome.version.product == "WebLogic httpd"
    assert outcome.version.version == version


def test_weblogic_rule() -> None:
    assert weblogic_t3_info.rule(view(80, service=Service("http", Method.PROBED, 10, product="WebLogic X")))
    assert not weblogic_t3_info.rule(view(7001, service=Service("http", Method.PROBED, 10, product="nginx")))
    assert weblogic_t3_info.rule(view(7001))


# --------------------------------------------------------------------------- wdb-version


def test_wdb_call_is_nmaps_connect_payload() -> None:
    # nmap-payloads' second 17185/udp payload: WDB_TARGET_CONNECT, XID 0x72377237, sequence 3
    call = wdb.call(0x72377237, wdb.TARGET_CONNECT, 3, wdb.CONNECT_ARGUMENTS)
    assert call == bytes.fromhex("7237723700000000000000025555555500000001000000010000000000000000"
                                 "0000000000000000ffff55100000003c00000003000000020000000000000000")


def test_wdb_cut_reply_still_opens_the_port() -> None:
    accepted = bytes(24) + struct.pack(">III", 0xFFFF0000, 40, 0) + struct.pack(">I", 8) + b"1.0"
    outcome, _ = drive(wdb_version.PLUGIN, view(17185, "udp", state=PortState.OPEN_FILTERED), [accepted])
    assert outcome is not None and outcome.state is PortState.OPEN and outcome.version is None


def test_wdb_error_status_opens_only() -> None:
    failed = bytes(24) + struct.pack(">III", 0, 0, 0xC0000001) + bytes(32)
    outcome, _ = drive(wdb_version.PLUGIN, view(17185, "udp"), [failed])
    assert outcome == Outcome(state=PortState.OPEN)


def test_wdb_silence_changes_nothing() -> None:
    outcome, _ = drive(wdb_version.PLUGIN, view(17185, "udp", state=PortState.OPEN_FILTERED), [],
                       end=ReplyEnd.TIMEOUT)
    assert outcome is None


# --------------------------------------------------------------------------- hostile replies


def _hostile(rng: random.Random) -> list[bytes]:
    prefixes = [b"", b"\x00\x00\x00\x00DB2DAS", b"JDWP-Handshake", b"HELO:", b"VERS:",
                b"\x80\x00\x00\x24", b"\x00\x1a\xd0\x02\x00\x01\x00\x14\x14\x43", b"\xff\xff"]
    return [rng.choice(prefixes) + rng.randbytes(rng.randrange(0, 300)) for _ in range(8)]


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_hostile_replies_never_raise(plugin: Plugin) -> None:
    rng = random.Random(plugin.name)
    port = view(17185 if plugin is wdb_version.PLUGIN else 1521,
                "udp" if plugin is wdb_version.PLUGIN else "tcp")
    for _ in range(300):
        drive(plugin, port, _hostile(rng))


@pytest.mark.parametrize("plugin", PLUGINS, ids=lambda p: p.name)
def test_rules_follow_intensity_and_exclusion(plugin: Plugin) -> None:
    checks: dict[str, Callable[[PortView], bool]] = {"rule": plugin.rule}
    port = {"wdb-version": (17185, "udp")}.get(plugin.name, (None, "tcp"))
    number = port[0] or {"oracle-tns-version": 1521, "drda-info": 50000, "db2-das-info": 523,
                         "maxdb-info": 7210, "jdwp-version": 5005, "ndmp-version": 10000,
                         "weblogic-t3-info": 7001}[plugin.name]
    service = Service("tcpwrapped", Method.PROBED, 8) if plugin is jdwp_version.PLUGIN else NO_SERVICE
    base = view(number, port[1], service=service)
    assert checks["rule"](base)
    assert not checks["rule"](replace(base, intensity=6))
    assert not checks["rule"](replace(base, excluded=True))
