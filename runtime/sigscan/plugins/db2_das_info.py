"""``db2-das-info``: the server profile an IBM DB2 Administration Server (DAS) gives anyone.

Mirrors Nmap 7.93's script: on 523 (TCP; UDP too, open or open|filtered) it plays the four
request blocks of a DAS discovery, reads the last reply's DB2 level (``SQL09074``, shown
``9.07.4``) and server profile, and prints ``DB2 Administration Server Settings`` and the
profile. The version becomes that level when it has more dotted parts than the probe phase's;
with a profile the name becomes ``ibm-db2``, the product ``IBM DB2 Database Server``, the port
``open`` and the version is set (hardmatched).

A DAS packet is a 41-byte header (``DB2DAS`` eye-catcher, a byte order mark ``9z`` for
little-endian at byte 22, the request type at 36, the data length at 37) and its data.
"""

from __future__ import annotations

import struct
from collections.abc import Generator
from dataclasses import dataclass, replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, ProbeState, Step
from sigscan.engine.results import PortState
from sigscan.plugins import rules
from sigscan.plugins.lib.stream import Stream, open_stream

TIMEOUT = 10.0  # the script's socket timeout, seconds
HEADER_SIZE = 41
EYECATCHER = b"\x00\x00\x00\x00DB2DAS"
PROFILE_TITLE = "DB2 Administration Server Settings\r\n"
VERSION_AT, LENGTH_AT, INFO_AT, PROFILE_AT = 96, 157, 159, 36  # offsets in the last reply's data
# The script's requests: (type, data) per block; the last block sends two before it reads.
_REQUESTS: tuple[tuple[tuple[int, str], ...], ...] = (
    ((0x02, "0000000d0000000c0000004a00"),),
    ((0x05, "0000002c0000000c0000000859e71f4b79f0907285e08f3e384538e3e512c43be97de2f5f078cc81"
             "6f875f91"),),
    ((0x0A, "0000000d0000000c0000004a01000000100000000c0000004cffffffff000000200000000c000000"
             "04000004b86462326461734b6e6f776e4473637600000000200000000c00000004000004b8646232"
             "4b6e6f776e4473637653727600"),),
    ((0x06, "0000000d0000000c0000004a01000000200000000c000000080000000000000348000000004afb42"
             "9000002493000000100000000c0000004cffffffff000000100000000c0000004cffffffff000000"
             "200000000c00000004000004b86462324b6e6f776e4473637653727600000000200000000c000000"
             "04000004b86462326461734b6e6f776e44736376000000000c0000000c0000000400000010000000"
             "0c0000004cffffffff000000100000000c0000004cffffffff000000110000000c00000004000004"
             "b800"),
     (0x06, "000000200000000c00000004000004b86462326461734b6e6f776e4473637600000000200000000c"
             "00000004000004b86462324b6e6f776e4473637653727600000000100000000c0000004c00000000"
             "000000100000000c0000004c00000001000000100000000c0000004c000000000000000c0000000c"
             "00000008000000100000000c0000004c00000001000000180000000c000000080000000c0000000c"
             "00000018")),
)

rule = rules.version_port_or_service(523, (), ("tcp", "udp"))


def packet(kind: int, data: bytes) -> bytes:
    """A DAS request: the header the script builds (little-endian) and ``data``."""
    header = (EYECATCHER + b"\x20" * 6 + b"\x01\x04\x00\x00\x00\x10\x39\x7a\x00\x05"
              + bytes(10) + struct.pack("<BH", kind, len(data)) + b"\x00\x00")
    return header + data


def requests() -> tuple[tuple[bytes, ...], ...]:
    """The four blocks' packets (the last block sends two before it reads)."""
    return tuple(tuple(packet(kind, bytes.fromhex(data)) for kind, data in block)
                 for block in _REQUESTS)


@dataclass(frozen=True, slots=True)
class Reply:
    """What ``read_db2_packet`` gives: the stated data length and the bytes after the header
    (all that came with it), or ``das=False`` for a reply that is no DAS packet."""

    das: bool
    length: int = 0
    data: bytes = b""


def read_packet(stream: Stream) -> Generator[Step, object, Reply | None]:
    """``read_db2_packet``; None when the connection failed (the script stops there)."""
    buffer = yield from stream.at_least(HEADER_SIZE)
    if buffer is None:
        return None
    if not buffer.startswith(EYECATCHER):
        return Reply(False)
    length = struct.unpack_from("<I" if buffer[22:24] == b"9z" else ">I", buffer, 37)[0]
    while HEADER_SIZE + length > len(buffer):
        more = yield from stream.at_least(HEADER_SIZE + length - len(buffer))
        if more is None:
            return None
        buffer += more
    return Reply(True, length, buffer[HEADER_SIZE:])


def db2_version(level: str) -> str | None:
    """``SQL09074`` as ``9.07.4``; None for a level not starting ``SQL``."""
    if not level.startswith("SQL"):
        return None
    major = level[3:5]
    if major.startswith("0"):
        major = major[1:]
    return f"{major}.{level[5:7]}.{level[7:]}"


def run(view: PortView) -> Exchange:
    stream = yield from open_stream(TIMEOUT)
    if isinstance(stream, str):
        return None
    last = Reply(False)
    for block in requests():
        for request in block:
            yield from stream.send(request)
        reply = yield from read_packet(stream)
        if reply is None:
            return None
        last = reply
    yield from stream.close()
    return _outcome(view, last)


def _outcome(view: PortView, reply: Reply) -> Outcome | None:
    """``parse_db2_packet`` and what the script does with it. A last reply that is no DAS
    packet, states less than 158 bytes or lacks what the script reads ends it in an error."""
    data = reply.data
    if not reply.das or reply.length < LENGTH_AT + 1 or len(data) < LENGTH_AT + 2 \
            or b"\x00" not in data[VERSION_AT:]:
        return Outcome(note="the last reply is no DAS reply the script can read")
    length = struct.unpack_from(">H", data, LENGTH_AT)[0]
    level = data[VERSION_AT:data.index(b"\x00", VERSION_AT)].decode("latin-1")
    info = data[INFO_AT:INFO_AT + max(length - 5, 0)]
    service = view.service
    new = db2_version(level)
    if new is not None and (service.version or "").count(".") < new.count("."):
        service = replace(service, version=new)
    if len(info) <= PROFILE_AT:
        return None
    profile = info[PROFILE_AT:].decode("latin-1")
    service = replace(service, name="ibm-db2", product="IBM DB2 Database Server")
    return Outcome(output=PROFILE_TITLE + profile, version=service,
                   probestate=ProbeState.HARDMATCHED, state=PortState.OPEN)


PLUGIN = Plugin("db2-das-info", rule, run, timeout=100.0,
                summary="an IBM DB2 Administration Server's profile and DB2 level")
