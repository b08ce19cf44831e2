"""DRDA (the Open Group's Distributed Relational Database Architecture), as much as
``drda-info`` uses: the EXCSAT command (exchange server attributes) and the EXCSATRD reply.

A DRDA message is a 6-byte DSS header (length, magic ``0xD0``, format, correlation id) and a
DDM object (length, code point) holding parameters (length, code point, data). Character
parameters are EBCDIC.
"""

from __future__ import annotations

import struct
from collections.abc import Generator
from dataclasses import dataclass

from sigscan.engine.plugin import Step
from sigscan.plugins.lib.stream import Stream

EXCSAT = 0x1041
EXCSATRD = 0x1443
EXTNAM = 0x115E
SRVNAM = 0x116D
SRVRLSLV = 0x115A
SRVCLSNM = 0x1147
MGRLVLLS = 0x1404
CHAINED = 0x40
DSS_SIZE = 10  # the DSS header and the DDM's length and code point
# the manager levels drda-info asks for: AGENT 7, SQLAM 8, RDB 8, SECMGR 8, CMNTCPIP 8 (?)
MANAGER_LEVELS = bytes.fromhex("1403000724070008240f00081440000814740008")

# EBCDIC to ASCII as Nmap reads DRDA text: code page 037 with IBM-1047's brackets and caret.
# Bytes that decode outside ASCII may differ from Nmap's table, whose upper half is a filler.
_EBCDIC = bytearray(bytes(range(256)).decode("cp037").encode("latin-1"))
_EBCDIC[0x5F], _EBCDIC[0xAD], _EBCDIC[0xBD] = ord("^"), ord("["), ord("]")
EBCDIC_TO_ASCII = bytes(_EBCDIC)


class Malformed(Exception):
    """A reply that drda-info's parser would fail on (the script then ends with nothing)."""


def to_ascii(data: bytes) -> str:
    return data.translate(EBCDIC_TO_ASCII).decode("latin-1")


def _parameter(code: int, data: bytes) -> bytes:
    return struct.pack(">HH", len(data) + 4, code) + data


def excsat() -> bytes:
    """drda-info's EXCSAT: empty names and release level, :data:`MANAGER_LEVELS`."""
    params = b"".join((_parameter(EXTNAM, b""), _parameter(SRVNAM, b""), _parameter(SRVRLSLV, b""),
                       _parameter(MGRLVLLS, MANAGER_LEVELS), _parameter(SRVCLSNM, b"")))
    return struct.pack(">HBBHHH", DSS_SIZE + len(params), 0xD0, 0x01, 1, 4 + len(params),
                       EXCSAT) + params


@dataclass(frozen=True, slots=True)
class Ddm:
    """One DDM object of a reply: its code point and its parameters in order."""

    codepoint: int
    chained: bool
    parameters: tuple[tuple[int, bytes | None], ...]  # None: a parameter of length 0

    def parameter(self, code: int) -> bytes | None:
        """The first parameter ``code``'s data, or None when there is none."""
        for found, data in self.parameters:
            if found == code:
                if data is None:  # drda.lua has no data for it, and fails reading it
                    raise Malformed(f"parameter {code:#06x} of length 0")
                return data
        return None


def parse_parameters(data: bytes) -> tuple[tuple[int, bytes | None], ...]:
    """The parameters of a DDM body as drda.lua reads them: it stops when at most one byte
    is left, and fails on a parameter that overruns the body or is shorter than its header."""
    if len(data) < 4:
        raise Malformed(f"a DDM body of {len(data)} bytes")
    out: list[tuple[int, bytes | None]] = []
    pos = 0
    while True:
        if pos + 4 > len(data):
            raise Malformed("a parameter header past the end")
        length, code = struct.unpack_from(">HH", data, pos)
        pos += 4
        if length > 0:
            if length < 4 or pos + length - 4 > len(data):
                raise Malformed(f"a parameter of length {length}")
            out.append((code, data[pos:pos + length - 4]))
            pos += length - 4
        else:
            out.append((code, None))
        if pos >= len(data) - 1:
            return tuple(out)


def receive(stream: Stream) -> Generator[Step, object, list[Ddm] | None]:
    """The DDM objects of one reply (``Comm.recvDRDA``: read until one is not chained), or
    None when the connection failed first."""
    ddms: list[Ddm] = []
    while True:
        header = yield from stream.exactly(DSS_SIZE)
        if header is None:
            return None
        length, _magic, fmt, _corel, _length2, code = struct.unpack(">HBBHHH", header)
        body = yield from stream.exactly(length - DSS_SIZE)
        if body is None:
            return None
        ddm = Ddm(code, bool(fmt & CHAINED), parse_parameters(body))
        ddms.append(ddm)
        if not ddm.chained:
            return ddms


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What EXCSATRD says (None for a parameter it lacks)."""

    extname: str | None
    srvclass: str | None
    srvname: str | None
    prodrel: str | None


def server_info(ddms: list[Ddm]) -> ServerInfo | None:
    """The first EXCSATRD's attributes, or None when the reply has none."""
    reply = next((d for d in ddms if d.codepoint == EXCSATRD), None)
    if reply is None:
        return None

    def text(code: int) -> str | None:
        data = reply.parameter(code)
        return None if data is None else to_ascii(data)

    return ServerInfo(text(EXTNAM), text(SRVCLSNM), text(SRVNAM), text(SRVRLSLV))
