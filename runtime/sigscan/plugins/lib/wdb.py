"""VxWorks' Wind DeBug agent protocol (WDB RPC, UDP 17185), as much as ``wdb-version`` uses.

WDB is ONC RPC (RFC 5531, XDR encoding: RFC 4506) to program 0x55555555, version 1, over UDP.
A call carries, after the RPC header with null credentials, a WDB wrapper: a checksum word
(``0xffff`` and the ones' complement sum of the datagram's 16-bit words past the XID), the
datagram's length and a sequence number, then the procedure's arguments. The reply to
``WDB_TARGET_CONNECT`` is the target's description (``WDB_TGT_INFO``): the agent's version,
MTU and mode, then the run-time's type, version, CPU, FPU and write-protect flags, page size,
byte order, board support package, boot line, memory and regions.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PROGRAM = 0x55555555
VERSION = 1
TARGET_CONNECT = 1
TARGET_DISCONNECT = 2
CALL = 0
MSG_DENIED = 1
ERROR_BITS = 0xC0000000  # an error code in the reply's status word
CONNECT_ARGUMENTS = struct.pack(">III", 2, 0, 0)  # what wdb-version sends with both calls


class Malformed(Exception):
    """A reply that ends before its fields do, or says something the script cannot read."""


def checksum(data: bytes) -> int:
    """The ones' complement of the 16-bit big-endian words past the first four bytes, folded
    once (an odd last byte is left out)."""
    total = sum(int(struct.unpack_from(">H", data, i)[0]) for i in range(4, len(data) - 1, 2))
    total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def call(xid: int, procedure: int, sequence: int, arguments: bytes) -> bytes:
    """A WDB call datagram."""
    header = struct.pack(">IIIIII", xid, CALL, 2, PROGRAM, VERSION, procedure) + bytes(16)
    wrapper = struct.pack(">II", len(arguments) + len(header) + 8, sequence)
    total = checksum(header + bytes(4) + wrapper + arguments)
    return header + struct.pack(">HH", 0xFFFF, total) + wrapper + arguments


class _Reader:
    """XDR fields read in order; reading past the end is :class:`Malformed`."""

    def __init__(self, data: bytes, pos: int) -> None:
        self.data, self.pos = data, pos

    def uint32(self) -> int:
        if self.pos + 4 > len(self.data):
            raise Malformed(f"the reply ends at byte {len(self.data)}, before a field")
        value: int = struct.unpack_from(">I", self.data, self.pos)[0]
        self.pos += 4
        return value

    def opaque(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise Malformed(f"a {size}-byte string past the end of the reply")
        value = self.data[self.pos:self.pos + size]
        self.pos += size + (-size) % 4
        return value

    def string(self) -> bytes | None:
        """A length and that many bytes; None for length 0 (the script keeps no value)."""
        size = self.uint32()
        return self.opaque(size) if size else None

    @property
    def last_byte(self) -> bool:
        """Whether exactly one byte is left: where rpc.lua's one-based ``pos == #data`` tests
        stop the decoding (they never see a reply that ends on a field's end)."""
        return self.pos == len(self.data) - 1


def reply_body(data: bytes) -> int | None:
    """Where the result of an accepted RPC reply starts (``Comm:DecodeHeader``), or None for a
    denied one (the script then finds no WDB data); :class:`Malformed` if the header is cut."""
    reader = _Reader(data, 0)
    reader.uint32()  # xid, not checked
    reader.uint32()  # message type, not checked
    if reader.uint32() == MSG_DENIED:
        reader.uint32()
        return reader.pos
    reader.uint32()  # verifier flavour
    length = reader.uint32()
    if length > 8:  # rpc.lua reads length - 8 bytes of verifier
        reader.opaque(length - 8)
    reader.uint32()  # accept state, not checked
    return reader.pos


@dataclass(frozen=True, slots=True)
class TargetInfo:
    """The fields of ``WDB_TGT_INFO`` that wdb-version shows (None: not sent)."""

    agent_version: bytes | None
    rt_version: bytes | None = None
    bsp_name: bytes | None = None
    bootline: bytes | None = None


def decode_connect(data: bytes, pos: int) -> TargetInfo | None:
    """The reply to TARGET_CONNECT from ``pos`` on: None when its status word carries an error
    (WDB's reply wrapper: checksum, length, status)."""
    reader = _Reader(data, pos)
    reader.uint32()
    reader.uint32()
    if reader.uint32() & ERROR_BITS:
        return None
    agent = reader.string()
    for _ in range(4):  # MTU, mode, run-time type, and the length of the run-time's version
        size = reader.uint32()
    if reader.last_byte:
        return TargetInfo(agent)
    rt_version = reader.opaque(size) if size else None
    for _ in range(5):  # CPU type, FPU, write protection, page size, byte order
        reader.uint32()
    bsp = reader.string()
    bootline = reader.string()
    info = TargetInfo(agent, rt_version, bsp, bootline)
    _regions(reader)
    return info


def _regions(reader: _Reader) -> None:
    """The memory fields after the boot line, read only to fail where the script fails."""
    for _ in range(3):  # base, size, region count
        if reader.last_byte:
            return
        reader.uint32()
    if reader.last_byte:
        return
    for _ in range(reader.uint32()):
        reader.uint32()
    for _ in range(2):  # host pool base and size
        if reader.last_byte:
            return
        reader.string()


def strip_nuls(text: bytes) -> str:
    """The value without its trailing NUL bytes, as text."""
    return text.rstrip(b"\x00").decode("latin-1")
