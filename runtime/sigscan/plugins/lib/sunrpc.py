"""ONC RPC (SunRPC, RFC 5531) on the plugin step protocol: what ``rpc-grind`` and ``rpcinfo``
share (Nmap's ``rpc`` library, written from the RFCs).

- :func:`call` builds a CALL with ``AUTH_NULL`` credentials and verifier (TCP: record marked).
- :func:`parse_reply` decodes a reply header as ``rpc.lua``'s ``DecodeHeader`` does.
- :func:`exchange_call` sends one CALL on an open connection and reads its reply: on TCP the
  record-marked fragments are joined (RFC 5531 §11), on UDP one datagram is the reply.
- :func:`parse_dump` reads a portmapper DUMP reply: version 2's ``pmap`` list (RFC 1833 §3) or
  versions 3 and 4's ``rpcb`` list with universal addresses (RFC 1833 §2, RFC 5665).

Every length in a reply is checked against the bytes there: a hostile reply ends the parse
(None or what was read so far), never an exception, and reads are bounded by :data:`MAX_REPLY`.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Generator
from dataclasses import dataclass, field

from sigscan.engine.plugin import ReplyEnd, Step, receive, send

CALL, REPLY = 0, 1
MSG_ACCEPTED, MSG_DENIED = 0, 1
SUCCESS, PROG_UNAVAIL, PROG_MISMATCH = 0, 1, 2
PORTMAPPER = 100000
PMAPPROC_DUMP = 4  # RPCBPROC_DUMP in versions 3 and 4 too
LAST_FRAGMENT = 0x80000000
MAX_REPLY = 1 << 20  # bytes of one reply, all its fragments together
MAX_FRAGMENTS = 400  # rpc.lua's ReceivePacket gives up after as many attempts
IPPROTO = {6: "tcp", 17: "udp"}


def call(xid: int, program: int, version: int, procedure: int = 0, *, tcp: bool,
         args: bytes = b"") -> bytes:
    """An RPC v2 CALL with AUTH_NULL credentials and verifier."""
    body = struct.pack(">IIIIII4I", xid, CALL, 2, program, version, procedure, 0, 0, 0, 0) + args
    return struct.pack(">I", LAST_FRAGMENT | len(body)) + body if tcp else body


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply header: ``body`` is where the procedure's results start (accepted, SUCCESS)."""

    xid: int
    accepted: bool
    accept_state: int | None
    low: int | None = None
    high: int | None = None
    body: int = 0


def parse_reply(message: bytes) -> Reply | None:
    """Decode a reply as rpc.lua's ``DecodeHeader`` does (None: not a REPLY at all)."""
    if len(message) < 12:
        return None
    xid, mtype, state = struct.unpack_from(">III", message)
    if mtype != REPLY:
        return None
    if state != MSG_ACCEPTED:
        return Reply(xid, False, None)
    if len(message) < 20:
        return None
    _flavor, length = struct.unpack_from(">II", message, 12)
    offset = 20 + max(length - 8, 0)  # rpc.lua skips (length - 8) verifier bytes
    if len(message) < offset + 4:
        return None
    (accept_state,) = struct.unpack_from(">I", message, offset)
    low = high = None
    if accept_state == PROG_MISMATCH and len(message) >= offset + 12:
        low, high = struct.unpack(">II", message[-8:])
    return Reply(xid, True, accept_state, low, high, offset + 4)


@dataclass(slots=True)
class RecordReader:
    """Reassembles record-marked TCP messages (RFC 5531 §11)."""

    pending: bytearray = field(default_factory=bytearray)
    message: bytearray = field(default_factory=bytearray)
    fragments: int = 0

    def feed(self, data: bytes) -> list[bytes]:
        self.pending += data
        done: list[bytes] = []
        while len(self.pending) >= 4:
            (mark,) = struct.unpack_from(">I", self.pending)
            size = mark & ~LAST_FRAGMENT
            if len(self.pending) < 4 + size:
                break
            self.message += self.pending[4 : 4 + size]
            del self.pending[: 4 + size]
            self.fragments += 1
            if mark & LAST_FRAGMENT:
                done.append(bytes(self.message))
                self.message.clear()
        return done

    @property
    def size(self) -> int:
        return len(self.pending) + len(self.message)


def exchange_call(conn: int, data: bytes, timeout: float, *,
                  tcp: bool) -> Generator[Step, object, bytes | None]:
    """Send ``data`` (a CALL) on ``conn`` and read one whole reply message; None when none
    came within ``timeout`` per read, the connection ended, or the reply broke a bound."""
    yield from send(conn, data)
    if not tcp:
        reply = yield from receive(conn, timeout)
        return reply.data if reply.end is ReplyEnd.DATA else None
    reader = RecordReader()
    while reader.size <= MAX_REPLY and reader.fragments < MAX_FRAGMENTS:
        reply = yield from receive(conn, timeout)
        messages = reader.feed(reply.data)
        if messages:
            return messages[0]
        if reply.end is not ReplyEnd.DATA:
            return None
    return None


# -- the portmapper's DUMP -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mapping:
    """One entry of a DUMP: a program's version, reachable over ``proto`` (``tcp``, ``udp``,
    ``tcp6``… as the portmapper names it) at ``port`` (None: no port, e.g. ``local``)."""

    program: int
    version: int
    proto: str
    port: int | None


_UADDR = re.compile(rb"^(.*)\.(\d+)\.(\d+)$", re.DOTALL)
_NETID_WITH_PORT = re.compile(rb"^[tu][cd]p6?$")


class _Cursor:
    """XDR reading over a reply; every read checks the bytes are there (:class:`ValueError`)."""

    def __init__(self, data: bytes, offset: int) -> None:
        self.data, self.offset = data, offset

    def uint(self) -> int:
        if self.offset + 4 > len(self.data):
            raise ValueError("truncated")
        (value,) = struct.unpack_from(">I", self.data, self.offset)
        self.offset += 4
        return int(value)

    def opaque(self) -> bytes:
        size = self.uint()
        if self.offset + size > len(self.data):
            raise ValueError("truncated")
        value = self.data[self.offset:self.offset + size]
        self.offset += size + (-size % 4)
        return value


def parse_dump(message: bytes, version: int) -> list[Mapping] | None:
    """The entries of a DUMP reply to a portmapper of ``version``; None when it is not a
    successful reply or its list is cut short (rpc.lua's ``Dump`` fails then too)."""
    header = parse_reply(message)
    if header is None or not header.accepted or header.accept_state != SUCCESS:
        return None
    cursor, found = _Cursor(message, header.body), []
    try:
        while cursor.uint():
            program, number = cursor.uint(), cursor.uint()
            if version > 2:
                netid = cursor.opaque().split(b"\0", 1)[0]
                address = cursor.opaque()
                cursor.opaque()  # the owner
                port = None
                parts = _UADDR.match(address) if _NETID_WITH_PORT.match(netid) else None
                if parts:
                    port = int(parts.group(2)) * 256 + int(parts.group(3))
                proto = netid.decode("latin-1")
            else:
                code, port = cursor.uint(), cursor.uint()
                proto = IPPROTO.get(code, str(code))
            found.append(Mapping(program, number, proto, port))
    except ValueError:
        return None
    return found
