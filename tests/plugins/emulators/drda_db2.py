"""An IBM DB2 server's DRDA listener on 50000, written from the Open Group's DRDA
specification (volume 3, DDM): a request is a DSS (length, magic 0xD0, format, correlation id)
holding a DDM command (length, code point) and its parameters (length, code point, data);
EXCSAT (0x1041) is answered with EXCSATRD (0x1443): the external name, the server class
name, the server name, the product release level (character data in EBCDIC) and the manager
levels. Anything else is closed at once.

``drda-info`` names the product IBM DB2 from the server class and shows the release level
``SQL11050`` as ``11.05.0``.
"""

from __future__ import annotations

import asyncio
import struct

from tests.plugins.emulators.base import read_some, send_and_close, tcp

PLUGINS = ("drda-info",)
EXCSAT, EXCSATRD = 0x1041, 0x1443
EXTNAM, SRVCLSNM, SRVNAM, SRVRLSLV, MGRLVLLS = 0x115E, 0x1147, 0x116D, 0x115A, 0x1404


def ebcdic(text: str) -> bytes:
    return text.encode("cp037")


def parameter(code: int, data: bytes) -> bytes:
    return struct.pack(">HH", len(data) + 4, code) + data


def excsatrd() -> bytes:
    params = b"".join((parameter(EXTNAM, ebcdic("db2sysc 0000A2B4")),
                       parameter(SRVCLSNM, ebcdic("QDB2/LINUXX8664")),
                       parameter(SRVNAM, ebcdic("db2inst1")),
                       parameter(SRVRLSLV, ebcdic("SQL11050")),
                       parameter(MGRLVLLS, bytes.fromhex("1403000a2407000a240f000a1440000a"))))
    return struct.pack(">HBBHHH", 10 + len(params), 0xD0, 0x02, 1, 4 + len(params), EXCSATRD) + params


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    request = await read_some(reader)
    if len(request) >= 10 and request[2] == 0xD0 and struct.unpack(">H", request[8:10])[0] == EXCSAT:
        await send_and_close(writer, excsatrd())
    else:
        writer.close()


SERVERS = (tcp(50000, handle),)
