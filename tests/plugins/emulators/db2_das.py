"""An IBM DB2 Administration Server (DAS) on 523/tcp, written from public descriptions of
its packets: a 41-byte header (the ``DB2DAS`` eye-catcher after four zero bytes, a byte order
mark ``9z`` for little-endian at byte 22, the request type at byte 36, the data length at
byte 37) and the data. Each request is acknowledged; the second request of type 6 on a
connection (the end of a discovery) gets the server's level (``SQL09074`` at byte 96 of the
data) and its profile (from byte 159, after a 36-byte preamble), of the length at byte 157.
Anything that is no DAS packet is closed at once.
"""

from __future__ import annotations

import asyncio
import struct

from tests.plugins.emulators.base import read_some, tcp

PLUGINS = ("db2-das-info",)
HEADER = 41
EYECATCHER = b"\x00\x00\x00\x00DB2DAS"
PROFILE = (b"DB2SYSTEM=ACCOUNTS01\r\nDB2INSTANCE=db2inst1\r\nDB2PATH=/opt/ibm/db2/V9.7\r\n"
           b"DB2COMM=TCPIP\r\nSVCENAME=db2c_db2inst1\r\n")


def packet_of(kind: int, data: bytes) -> bytes:
    header = (EYECATCHER + b"\x20" * 6 + b"\x01\x04\x00\x00\x00\x10\x39\x7a\x00\x05" + bytes(10)
              + struct.pack("<BI", kind, len(data)))
    return header + data


def profile_reply() -> bytes:
    data = bytearray(159)
    data[96:105] = b"SQL09074\x00"
    info = bytes(36) + PROFILE
    data[157:159] = struct.pack(">H", len(info) + 5)
    return packet_of(6, bytes(data) + info + b"\x00")


def answer(request: bytes, sixes: int) -> bytes | None:
    """The reply to one request (None: none yet)."""
    if request[36] != 6:
        return packet_of(request[36], bytes(12))
    return profile_reply() if sixes == 2 else None


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    buffer, sixes = b"", 0
    while True:
        chunk = await read_some(reader, 10.0)
        buffer += chunk
        if not chunk or not buffer.startswith(EYECATCHER[:len(buffer)]):
            break  # no DAS packet: closed at once, so Nmap's other probes end quickly
        while len(buffer) >= HEADER:
            order = "<" if buffer[22:24] == b"9z" else ">"
            size = HEADER + struct.unpack(order + "I", buffer[37:41])[0]
            if len(buffer) < size:
                break
            request, buffer = buffer[:size], buffer[size:]
            sixes += request[36] == 6
            out = answer(request, sixes)
            if out is not None:
                writer.write(out)
                await writer.drain()
        if buffer and not buffer.startswith(EYECATCHER[:len(buffer)]):
            break
    writer.close()


SERVERS = (tcp(523, handle),)
