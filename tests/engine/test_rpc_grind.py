"""The ``rpc-grind`` plugin (nmap-semantics §7; Nmap's rpc-grind.nse), run after the probe phase
as a scan runs it: after an ``rpcbind`` match, the ``nmap-rpc`` programs are tried until one
answers PROG_MISMATCH with its version range; and the SunRPC wire format it uses."""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

import pytest

from sigscan.engine.catalog import Catalog
from sigscan.engine.events import Proto
from sigscan.engine.plugin import Plugin
from sigscan.engine.results import Method, PortResult, PortState
from sigscan.plugins import rpc_grind
from sigscan.plugins.lib.sunrpc import PROG_MISMATCH, RecordReader, call, parse_dump, parse_reply
from sigscan.plugins.rpc_grind import CHECK_XID, FIRST_XID, GRIND_VERSION
from sigscan.testing.fake import Behaviour, FakeTransport, Server, Step, send
from tests.engine.support import connects
from tests.engine.support import scan as scan_port

PORTMAPPER = 100000
MOUNTD = 100005


def scan(catalog: Catalog, server: Server, port: int, proto: Proto = Proto.TCP,
         plugins: tuple[Plugin, ...] = (rpc_grind.PLUGIN,), **config: object) -> tuple[PortResult, FakeTransport]:
    return scan_port(catalog, server, port, proto, plugins=plugins, **config)


def rpc_server(programs: dict[int, tuple[int, int]], *, tcp: bool, answer_grind: bool = True,
               answer_rpccheck: bool = True) -> Callable[[bytes], Sequence[Step]]:
    """A SunRPC server: PROG_MISMATCH with the version range for its programs (SUCCESS for a
    supported version), PROG_UNAVAIL for the others. Only RPC CALLs are answered."""

    def answer(message: bytes) -> Sequence[Step]:
        body = message[4:] if tcp else message
        if len(body) < 24:
            return ()
        xid, mtype, _rpcvers, prog, vers = struct.unpack_from(">IIIII", body)
        if mtype != 0 or (not answer_grind and xid != 0x72FE1D13):
            return ()
        if not answer_rpccheck and xid == 0x72FE1D13:
            return ()
        reply = struct.pack(">IIIII", xid, 1, 0, 0, 0)
        if prog not in programs:
            reply += struct.pack(">I", 1)
        else:
            low, high = programs[prog]
            reply += struct.pack(">I", 0) if low <= vers <= high else struct.pack(">III", 2, low, high)
        return (send(struct.pack(">I", 0x80000000 | len(reply)) + reply if tcp else reply),)

    return answer


def position(catalog: Catalog, number: int) -> int:
    return 1 + [r.number for r in catalog.rpc].index(number)


def test_portmapper_is_ground_to_its_version_range(nmaplike: Catalog) -> None:
    server = Server(Behaviour(answer=rpc_server({PORTMAPPER: (2, 4)}, tcp=True)))
    result, fake = scan(nmaplike, server, 111)
    svc = result.service
    assert svc is not None
    assert (svc.name, svc.version, svc.extrainfo) == ("rpcbind", "2-4", "RPC #100000")
    assert (svc.method, svc.conf) == (Method.PROBED, 10)
    assert result.probes[-2:] == ("RPCCheck", "rpc-grind")
    assert result.scripts == ()  # the script prints nothing
    grind_conn = connects(fake)[-1][1]
    assert fake.connections[grind_conn].messages == [call(FIRST_XID, PORTMAPPER, GRIND_VERSION, tcp=True)]


def test_another_program_behind_an_rpcbind_match(nmaplike: Catalog) -> None:
    server = Server(Behaviour(answer=rpc_server({MOUNTD: (1, 3)}, tcp=True)))
    result, fake = scan(nmaplike, server, 41111)
    svc = result.service
    assert svc is not None and (svc.name, svc.version, svc.extrainfo) == ("mountd", "1-3", "RPC #100005")
    grind = fake.connections[connects(fake)[-1][1]]
    assert len(grind.messages) == position(nmaplike, MOUNTD)
    xids = [struct.unpack_from(">I", m, 4)[0] for m in grind.messages]
    assert xids == list(range(FIRST_XID, FIRST_XID + len(xids)))
    assert grind.closed_by_engine is not None


def test_single_version_is_one_number(nmaplike: Catalog) -> None:
    server = Server(Behaviour(answer=rpc_server({100003: (3, 3)}, tcp=True)))
    result, _ = scan(nmaplike, server, 2049)
    assert result.service is not None and (result.service.name, result.service.version) == ("nfs", "3")


def test_over_udp(nmaplike: Catalog) -> None:
    server = Server(Behaviour(answer=rpc_server({PORTMAPPER: (2, 4)}, tcp=False)))
    result, fake = scan(nmaplike, server, 111, Proto.UDP)
    svc = result.service
    assert svc is not None and (svc.name, svc.version, svc.extrainfo) == ("rpcbind", "2-4", "RPC #100000")
    assert len(connects(fake)) == 2  # the probes' socket, then the grinder's


def test_not_below_intensity_7(nmaplike: Catalog) -> None:
    server = Server(Behaviour(answer=rpc_server({MOUNTD: (1, 3)}, tcp=True)))
    result, _ = scan(nmaplike, server, 111, intensity=6)
    svc = result.service
    assert svc is not None and (svc.name, svc.version, svc.extrainfo) == ("rpcbind", None, None)
    assert "rpc-grind" not in result.probes


def test_a_silent_grind_leaves_the_match_and_is_bounded(nmaplike: Catalog) -> None:
    server = Server(Behaviour(answer=rpc_server({MOUNTD: (1, 3)}, tcp=True, answer_grind=False)))
    result, fake = scan(nmaplike, server, 111, net_rtt=0.0)
    svc = result.service
    assert svc is not None and (svc.name, svc.version, svc.conf) == ("rpcbind", None, 10)
    assert any("rpc-grind: no nmap-rpc program answered" in n for n in result.notes)
    assert fake.connections[connects(fake)[-1][1]].closed_by_engine is not None


def test_grinding_can_be_switched_off(nmaplike: Catalog) -> None:
    """Without the plugin (``--no-plugin rpc-grind``, ``--no-plugins``) the probe phase's
    verdict stands."""
    server = Server(Behaviour(answer=rpc_server({MOUNTD: (1, 3)}, tcp=True)))
    result, _ = scan(nmaplike, server, 111, plugins=())
    assert result.service is not None and result.service.name == "rpcbind"
    assert "rpc-grind" not in result.probes


def test_a_port_the_probes_left_unnamed_is_checked_then_ground(nmaplike: Catalog) -> None:
    """The script's rule also takes ``method=table`` ports: it checks with a portmapper NULL
    call (same xid back, a REPLY) before grinding, and a reply makes the port open."""
    server = Server(Behaviour(answer=rpc_server({MOUNTD: (1, 3)}, tcp=False, answer_rpccheck=False)))
    result, fake = scan(nmaplike, server, 41112, Proto.UDP, state=PortState.OPEN_FILTERED)
    svc = result.service
    assert svc is not None and (svc.name, svc.version, svc.extrainfo) == ("mountd", "1-3", "RPC #100005")
    assert result.state is PortState.OPEN
    check = call(CHECK_XID, 100000, 2, tcp=False)
    assert fake.connections[connects(fake)[-1][1]].messages[0] == check


def test_a_reply_that_is_not_sunrpc_opens_the_port_and_names_nothing(nmaplike: Catalog) -> None:
    def answer(message: bytes) -> Sequence[Step]:
        return (send(b"\x00\x01not rpc"),) if message[:4] == CHECK_XID.to_bytes(4, "big") else ()

    result, fake = scan(nmaplike, Server(Behaviour(answer=answer)), 41113, Proto.UDP,
                        state=PortState.OPEN_FILTERED)
    assert (result.state, result.reason) == (PortState.OPEN, "script-set")
    assert result.service is not None and result.service.method is Method.TABLE
    assert len(fake.connections[connects(fake)[-1][1]].messages) == 1  # no grind


@pytest.mark.parametrize("reply", [
    struct.pack(">I", 0x80000000 | 12) + struct.pack(">III", CHECK_XID, 1, 0),  # cut short
    struct.pack(">I", 0xFFFFFFFF) + b"x" * 64,  # a record mark promising 2 GiB
    struct.pack(">I", 0x80000008) + struct.pack(">II", 0, 1),  # another xid
])
def test_hostile_replies_end_the_check_quietly(nmaplike: Catalog, reply: bytes) -> None:
    def answer(message: bytes) -> Sequence[Step]:
        return (send(reply),) if message[4:8] == CHECK_XID.to_bytes(4, "big") else ()

    result, _ = scan(nmaplike, Server(Behaviour(answer=answer)), 41114)
    assert result.service is not None and result.service.method is Method.TABLE
    assert not any("failed" in n for n in result.notes), result.notes


def test_a_server_that_answers_every_call_is_ground_to_the_end_of_the_list(nmaplike: Catalog) -> None:
    server = Server(Behaviour(answer=rpc_server({}, tcp=True)))
    result, fake = scan(nmaplike, server, 111)
    assert result.service is not None and result.service.name == "rpcbind"
    grind = fake.connections[connects(fake)[-1][1]]
    assert len(grind.messages) == len(nmaplike.rpc)
    assert any("no nmap-rpc program answered" in n for n in result.notes)


# -- the wire format ------------------------------------------------------------------------------


def test_call_layout() -> None:
    tcp = call(7, 100005, 104316, tcp=True)
    assert tcp[:4] == b"\x80\x00\x00\x28" and tcp[4:] == call(7, 100005, 104316, tcp=False)
    assert struct.unpack(">10I", tcp[4:]) == (7, 0, 2, 100005, 104316, 0, 0, 0, 0, 0)


@pytest.mark.parametrize(("message", "expected"), [
    (struct.pack(">8I", 9, 1, 0, 0, 0, 2, 3, 5), (9, True, PROG_MISMATCH, 3, 5)),
    (struct.pack(">6I", 9, 1, 0, 0, 0, 1), (9, True, 1, None, None)),
    (struct.pack(">5I", 9, 1, 1, 0, 2), (9, False, None, None, None)),  # MSG_DENIED
    # a verifier with a body: rpc.lua skips (length - 8) bytes of it, and so does parse_reply
    (struct.pack(">9I", 9, 1, 0, 1, 12, 0xAA, 2, 1, 2), (9, True, 2, 1, 2)),
])
def test_parse_reply(message: bytes, expected: tuple[object, ...]) -> None:
    reply = parse_reply(message)
    assert reply is not None
    assert (reply.xid, reply.accepted, reply.accept_state, reply.low, reply.high) == expected


def test_parse_reply_rejects_calls_and_short_messages() -> None:
    assert parse_reply(struct.pack(">3I", 9, 0, 0)) is None
    assert parse_reply(b"\x00\x01") is None


def test_record_reader_joins_fragments_and_splits_messages() -> None:
    reader = RecordReader()
    first = struct.pack(">I", 3) + b"abc"  # not the last fragment
    last = struct.pack(">I", 0x80000002) + b"de"
    other = struct.pack(">I", 0x80000001) + b"f"
    data = first + last + other
    assert reader.feed(data[:5]) == []
    assert reader.feed(data[5:]) == [b"abcde", b"f"]
    assert reader.size == 0


def _accepted(xid: int, results: bytes) -> bytes:
    return struct.pack(">6I", xid, 1, 0, 0, 0, 0) + results


def _xdr(text: bytes) -> bytes:
    return struct.pack(">I", len(text)) + text + b"\0" * (-len(text) % 4)


def test_parse_dump_version_2() -> None:
    entries = b"".join(struct.pack(">5I", 1, prog, vers, proto, port)
                       for prog, vers, proto, port in [(100000, 2, 6, 111), (100005, 3, 17, 892)])
    found = parse_dump(_accepted(5, entries + struct.pack(">I", 0)), 2)
    assert found is not None
    assert [(m.program, m.version, m.proto, m.port) for m in found] == [
        (100000, 2, "tcp", 111), (100005, 3, "udp", 892)]


def test_parse_dump_versions_3_and_4_read_universal_addresses() -> None:
    def entry(prog: int, vers: int, netid: bytes, addr: bytes) -> bytes:
        return struct.pack(">3I", 1, prog, vers) + _xdr(netid) + _xdr(addr) + _xdr(b"superuser")

    body = (entry(100000, 4, b"tcp6", b"::.0.111") + entry(100000, 4, b"udp", b"0.0.0.0.3.115")
            + entry(100000, 4, b"local", b"/run/rpcbind.sock") + struct.pack(">I", 0))
    found = parse_dump(_accepted(5, body), 4)
    assert found is not None
    assert [(m.proto, m.port) for m in found] == [("tcp6", 111), ("udp", 883), ("local", None)]


@pytest.mark.parametrize("message", [
    _accepted(5, struct.pack(">3I", 1, 100000, 4)),  # an entry cut short
    _accepted(5, struct.pack(">3I", 1, 100000, 4) + struct.pack(">I", 0xFFFFFFF0)),  # a huge netid
    struct.pack(">6I", 5, 1, 0, 0, 0, 1),  # PROG_UNAVAIL
    b"",
])
def test_parse_dump_refuses_what_is_not_a_whole_list(message: bytes) -> None:
    assert parse_dump(message, 4) is None


# -- rpcinfo ------------------------------------------------------------------------------------------


def portmapper(entries: list[tuple[int, int, bytes, bytes]], *, versions: tuple[int, ...] = (2, 3, 4),
               tcp: bool = True) -> Callable[[bytes], Sequence[Step]]:
    """A portmapper answering DUMP in ``versions`` (PROG_MISMATCH 2-2 otherwise) with
    ``entries`` (program, version, netid, universal address); version 2 gets them as pmap
    entries. Other calls get PROG_UNAVAIL."""

    def answer(message: bytes) -> Sequence[Step]:
        body = message[4:] if tcp else message
        if len(body) < 24:
            return ()
        xid, _mtype, _rpcvers, prog, vers, proc = struct.unpack_from(">6I", body)
        head = struct.pack(">5I", xid, 1, 0, 0, 0)
        if prog != PORTMAPPER or proc != 4:
            reply = head + struct.pack(">I", 1)
        elif vers not in versions:
            reply = head + struct.pack(">3I", 2, min(versions), max(versions))
        else:
            reply = head + struct.pack(">I", 0)
            for program, version, netid, addr in entries:
                if vers == 2:
                    if netid in (b"tcp", b"udp"):
                        port = int(addr.split(b".")[-2]) * 256 + int(addr.split(b".")[-1])
                        reply += struct.pack(">5I", 1, program, version,
                                             6 if netid == b"tcp" else 17, port)
                    continue
                reply += struct.pack(">3I", 1, program, version) + _xdr(netid) + _xdr(addr) + _xdr(b"0")
            reply += struct.pack(">I", 0)
        return (send(struct.pack(">I", 0x80000000 | len(reply)) + reply if tcp else reply),)

    return answer


RPCBIND_ENTRIES = [(PORTMAPPER, v, netid, addr) for v in (4, 3, 2)
                   for netid, addr in ((b"tcp", b"0.0.0.0.0.111"), (b"udp", b"0.0.0.0.0.111"),
                                       (b"tcp6", b"::.0.111"), (b"local", b"/run/rpcbind.sock"))]
MOUNTD_ENTRIES = [(MOUNTD, v, b"tcp", b"0.0.0.0.189.19") for v in (3, 1)]


def test_rpcinfo_prints_the_list_and_labels_its_own_port(nmaplike: Catalog) -> None:
    from sigscan.plugins import rpcinfo

    server = Server(Behaviour(answer=portmapper(RPCBIND_ENTRIES + MOUNTD_ENTRIES)))
    result, _ = scan(nmaplike, server, 111, plugins=(rpcinfo.PLUGIN,))
    svc = result.service
    assert svc is not None
    assert (svc.name, svc.version, svc.extrainfo, svc.method) == ("rpcbind", "2-4", "RPC #100000",
                                                                  Method.PROBED)
    assert [(s.id, s.output) for s in result.scripts] == [("rpcinfo", (
        "\n  program version    port/proto  service\n"
        "  100000  2,3,4        111/tcp   rpcbind\n"
        "  100000  2,3,4        111/tcp6  rpcbind\n"
        "  100000  2,3,4        111/udp   rpcbind\n"
        "  100005  1,3        48403/tcp   mountd\n"))]
    assert any("lists other ports, not relabelled here: 111/udp, 48403/tcp" in n for n in result.notes)


def test_rpcinfo_falls_back_to_version_2(nmaplike: Catalog) -> None:
    from sigscan.plugins import rpcinfo

    server = Server(Behaviour(answer=portmapper(RPCBIND_ENTRIES, versions=(2,), tcp=False)))
    result, fake = scan(nmaplike, server, 111, Proto.UDP, plugins=(rpcinfo.PLUGIN,))
    assert [s.output for s in result.scripts] == [
        "\n  program version    port/proto  service\n"
        "  100000  2,3,4        111/tcp   rpcbind\n"
        "  100000  2,3,4        111/udp   rpcbind\n"]
    dumps = [m for c in connects(fake)[-3:] for m in fake.connections[c[1]].messages]
    assert [struct.unpack_from(">I", m, 16)[0] for m in dumps] == [4, 3, 2]


@pytest.mark.parametrize("reply", [b"\x80\x00\x00\x04abcd", b"\xff" * 40, b""])
def test_rpcinfo_on_a_reply_that_is_no_dump_prints_nothing(nmaplike: Catalog, reply: bytes) -> None:
    from sigscan.plugins import rpcinfo

    def answer(message: bytes) -> Sequence[Step]:
        dump = len(message) >= 28 and struct.unpack_from(">I", message, 24)[0] == 4
        return (send(reply),) if reply and dump else ()

    result, _ = scan(nmaplike, Server(Behaviour(answer=answer)), 111, plugins=(rpcinfo.PLUGIN,))
    assert result.scripts == ()
    assert not any("failed" in n for n in result.notes), result.notes
