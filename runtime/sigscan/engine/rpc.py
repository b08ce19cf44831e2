"""The SunRPC grinder: which ONC RPC program answers on a port (Nmap's rpc-grind.nse).

Nmap runs it as an NSE script of the ``version`` category after the probes; here it is a last
phase of the port's engine, under these conditions (see :func:`should_grind`): intensity 7 or
more, the port not excluded, not tunnelled, and probing ended with the service ``rpcbind`` (hard
or soft). rpc-grind.nse also runs on ``method=table`` ports after a portmapper NULL call; that is
left out, because at intensity 7 the ``RPCCheck`` probe (rarity 4 on TCP, 1 on UDP) has already
made that call's equivalent to every port, and any SunRPC reply matches an ``rpcbind`` line.

Procedure (one connection, calls in sequence; Nmap uses four threads over one iterator): for each
``nmap-rpc`` program in file order, a procedure-0 CALL with ``AUTH_NULL``, a version no server
supports and an xid incremented per call (TCP with record marking). A reply whose accept state is
``PROG_MISMATCH`` names the program; its last 8 bytes are the lowest and highest versions. The
grind stops at the first such reply, at the end of the list, when a reply does not come within
the wait, or when the connection ends. Bounded by the list (about 1,700 calls) and
:data:`MAX_REPLY` bytes per reply.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from sigscan.bundle.records import RpcRecord

CALL, REPLY = 0, 1
MSG_ACCEPTED, MSG_DENIED = 0, 1
PROG_UNAVAIL, PROG_MISMATCH = 1, 2
GRIND_VERSION = 104316  # an unsupported version (the one RPCCheck sends), so servers say which they have
FIRST_XID = 0x53474300
LAST_FRAGMENT = 0x80000000
MAX_REPLY = 65536


def call(xid: int, program: int, version: int, *, tcp: bool) -> bytes:
    """An RPC v2 CALL of procedure 0 with AUTH_NULL credentials and verifier."""
    body = struct.pack(">IIIIII4I", xid, CALL, 2, program, version, 0, 0, 0, 0, 0)
    return struct.pack(">I", LAST_FRAGMENT | len(body)) + body if tcp else body


@dataclass(frozen=True, slots=True)
class Reply:
    xid: int
    accepted: bool
    accept_state: int | None
    low: int | None = None
    high: int | None = None


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
    return Reply(xid, True, accept_state, low, high)


@dataclass(slots=True)
class RecordReader:
    """Reassembles record-marked TCP messages (RFC 5531 §11)."""

    pending: bytearray = field(default_factory=bytearray)
    message: bytearray = field(default_factory=bytearray)

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
            if mark & LAST_FRAGMENT:
                done.append(bytes(self.message))
                self.message.clear()
        return done

    @property
    def size(self) -> int:
        return len(self.pending) + len(self.message)


@dataclass(frozen=True, slots=True)
class Found:
    program: RpcRecord
    low: int
    high: int

    @property
    def version(self) -> str:
        return str(self.high) if self.low == self.high else f"{self.low}-{self.high}"

    @property
    def extrainfo(self) -> str:
        return f"RPC #{self.program.number}"


@dataclass(slots=True)
class Grinder:
    """The grind over one connection: feed it replies, send what it returns."""

    programs: tuple[RpcRecord, ...]
    conn: int
    tcp: bool
    wait: float
    connect_deadline: float | None = None
    deadline: float | None = None
    index: int = -1
    reader: RecordReader = field(default_factory=RecordReader)
    found: Found | None = None
    finished: bool = False
    calls: int = 0
    why: str = ""

    def next_call(self, now: float) -> bytes | None:
        """The next CALL to send (None: the grind is over)."""
        self.index += 1
        if self.found is not None or self.index >= len(self.programs):
            self.stop("no program answered PROG_MISMATCH" if self.found is None else "found")
            return None
        self.calls += 1
        self.deadline = now + self.wait
        program = self.programs[self.index].number
        return call(FIRST_XID + self.index, program, GRIND_VERSION, tcp=self.tcp)

    def data(self, now: float, chunk: bytes) -> bytes | None:
        """Bytes arrived; the next CALL when a complete reply was read, else None."""
        messages = self.reader.feed(chunk) if self.tcp else [chunk]
        if self.reader.size > MAX_REPLY:
            self.stop(f"reply larger than {MAX_REPLY} bytes")
            return None
        if not messages:
            return None
        reply = parse_reply(messages[0])
        if reply is not None and reply.accept_state == PROG_MISMATCH and reply.low is not None:
            assert reply.high is not None
            self.found = Found(self.programs[self.index], reply.low, reply.high)
        return self.next_call(now)

    def stop(self, why: str) -> None:
        self.finished, self.deadline, self.why = True, None, why
