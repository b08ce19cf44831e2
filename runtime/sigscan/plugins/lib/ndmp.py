"""NDMP (the Network Data Management Protocol, ndmp.org's version 4 specification), as much as
``ndmp-version`` uses: ``NDMP_CONFIG_GET_HOST_INFO`` and ``NDMP_CONFIG_GET_SERVER_INFO``.

Messages are XDR over TCP with ONC RPC record marking: a 4-byte fragment header (last-fragment
bit and length), then a 24-byte header (sequence, time, type, message code, reply sequence,
error) and the body. Strings are XDR strings (length, bytes, padding to 4).
"""

from __future__ import annotations

import struct
from collections.abc import Generator
from dataclasses import dataclass

from sigscan.engine.plugin import Step
from sigscan.plugins.lib.stream import Stream

CONFIG_GET_HOST_INFO = 0x100
CONFIG_GET_SERVER_INFO = 0x108
NOTIFY_CONNECTION_STATUS = 0x502
NOT_AUTHORIZED_ERROR = 4
HEADER_SIZE = 24
LAST_FRAGMENT = 0x80000000


class Malformed(Exception):
    """A message ndmp.lua cannot parse (the script then ends with nothing)."""


@dataclass(frozen=True, slots=True)
class Header:
    seq: int
    time: int
    type: int
    message: int
    reply_seq: int
    error: int


def request(seq: int, time: int, message: int) -> bytes:
    """A request with no body (both configuration requests have none)."""
    return struct.pack(">I6I", LAST_FRAGMENT | HEADER_SIZE, seq, time, 0, message, 0, 0)


def xdr_strings(data: bytes, pos: int, count: int) -> list[bytes]:
    """``count`` XDR strings from ``pos`` on."""
    out = []
    for _ in range(count):
        if pos + 4 > len(data):
            raise Malformed("a string past the end of the message")
        size = struct.unpack_from(">I", data, pos)[0]
        pos += 4
        if pos + size > len(data):
            raise Malformed(f"a {size}-byte string past the end of the message")
        out.append(data[pos:pos + size])
        pos += size + (-size) % 4
    return out


@dataclass(frozen=True, slots=True)
class Message:
    header: Header
    body: bytes

    def strings(self, count: int) -> list[bytes]:
        """The ``count`` strings after the body's error word."""
        if len(self.body) < 4:
            raise Malformed("a body without its error word")
        return xdr_strings(self.body, 4, count)


def receive(stream: Stream) -> Generator[Step, object, Message | None]:
    """The next message (``Comm:sock_recv``), or None when the connection failed first."""
    fragment = yield from stream.exactly(4)
    if fragment is None:
        return None
    raw = yield from stream.exactly(HEADER_SIZE)
    if raw is None:
        return None
    header = Header(*struct.unpack(">6I", raw))
    length = struct.unpack(">I", fragment)[0] & 0x7FFFFFFF
    if length < HEADER_SIZE:
        raise Malformed(f"a fragment of {length} bytes, shorter than its header")
    body = yield from stream.exactly(length - HEADER_SIZE)
    if body is None:
        return None
    return Message(header, body)


@dataclass(frozen=True, slots=True)
class HostInfo:
    hostname: str
    ostype: str
    osver: str
    hostid: str


def host_info(message: Message) -> HostInfo | None:
    """What a host-information reply says: None when it is another message or says
    NOT_AUTHORIZED (ndmp.lua then parses no host information)."""
    if message.header.message != CONFIG_GET_HOST_INFO:
        return None
    if message.header.error == NOT_AUTHORIZED_ERROR:
        return None
    return HostInfo(*(s.decode("latin-1") for s in message.strings(4)))


def vendor(message: Message) -> str:
    """The vendor a server-information reply names."""
    if message.header.message != CONFIG_GET_SERVER_INFO:
        raise Malformed(f"message {message.header.message:#x} where server information was due")
    return message.strings(3)[0].decode("latin-1")
