"""An EtherNet/IP adapter (44818/tcp and 44818/udp) that answers ListIdentity.

EtherNet/IP (ODVA, CIP volume 2) frames every command in a 24-byte encapsulation header,
little-endian: command, length of the data after the header, session handle, status, an 8-byte
sender context the target echoes, options. ListIdentity (0x63) needs no session; its answer
holds a count of items and one CIP Identity item (type 0x0C): its length, the encapsulation
protocol version, the device's socket address (a ``sockaddr_in`` in network byte order:
family, port, address, eight zero bytes), then vendor ID, device type, product code, major and
minor revision, status, serial number, product name (a length byte and the text) and state.
Over TCP the adapter answers each command it knows and drops the connection on anything else
(no encapsulation header it can read, or a command it does not serve); over UDP anything else
gets a single ``0xFF`` byte back (:data:`~tests.plugins.emulators.base.UDP_NAK`).
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

from tests.plugins.emulators.base import UDP_NAK, read_some, tcp, udp

PLUGINS = ("enip-info",)
LIST_IDENTITY = 0x63


def identity_item(vendor: int, device_type: int, product_code: int, revision: tuple[int, int],
                  status: int, serial: int, name: bytes, state: int, address: bytes) -> bytes:
    sockaddr = struct.pack(">HH4s8x", 2, 44818, address)
    body = (struct.pack("<H", 1) + sockaddr
            + struct.pack("<HHHBBHI", vendor, device_type, product_code, *revision, status, serial)
            + bytes((len(name),)) + name + bytes((state,)))
    return struct.pack("<HH", 0x0C, len(body)) + body


@dataclass(frozen=True)
class Adapter:
    """An adapter whose ListIdentity answer carries ``item`` (cut to ``size`` bytes, if given)."""

    item: bytes
    size: int | None = None

    def answer(self, request: bytes) -> bytes | None:
        """The answer to one encapsulated command, None for one this adapter does not serve."""
        if len(request) != 24:
            return None
        command, length = struct.unpack("<HH", request[:4])
        if command != LIST_IDENTITY or length != 0:
            return None
        data = struct.pack("<H", 1) + self.item
        reply = (struct.pack("<HHII", LIST_IDENTITY, len(data), 0, 0) + request[12:20]
                 + b"\0" * 4 + data)
        return reply[:self.size]

    async def handle_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(8):
            reply = self.answer(await read_some(reader, timeout=10.0))
            if reply is None:
                return
            writer.write(reply)
            await writer.drain()

    def handle_udp(self, datagram: bytes) -> list[bytes]:
        reply = self.answer(datagram)
        return [UDP_NAK if reply is None else reply]


CONTROLLOGIX = Adapter(identity_item(vendor=1, device_type=14, product_code=55, revision=(20, 11),
                                     status=0x0060, serial=0x00C0FFEE,
                                     name=b"1756-L61/B LOGIX5561", state=3,
                                     address=bytes((192, 168, 10, 20))))
SERVERS = (tcp(44818, CONTROLLOGIX.handle_tcp), udp(44818, CONTROLLOGIX.handle_udp))
