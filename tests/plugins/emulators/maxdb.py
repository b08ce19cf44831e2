"""A SAP MaxDB DBM server (``dbmsrv``), written from public descriptions of its protocol:
packets start with their length (32-bit little-endian) in a 24-byte header; a connect packet
(message class 0x5b) is answered with a connect reply, a DBM command (its text after the
header: ``dbm_version``, ``db_enum``) with ``OK`` and the answer's lines. Anything else is
closed at once.
"""

from __future__ import annotations

import asyncio
import struct

from tests.plugins.emulators.base import read_some, tcp

PLUGINS = ("maxdb-info",)
VERSION = (b"VERSION    = 7.9.10\nBUILD      = DBMServer 7.9.10   Build 004-123-265-969\n"
           b"OS         = UNIX\nINSTROOT   = /sapdb/MAXDB/db\nLOGON      = True\nCODE       = UTF8\n"
           b"SWAP       = full\nUNICODE    = YES\nINSTANCE   = OLTP\nSYSNAME    = Linux\n"
           b"MASKING    = YES\nREPLYTREATMENT = ascii\nSDBDBM_IPCLOCATION = /sapdb/data/ipc\n")
DATABASES = (b"MAXDB\t/sapdb/MAXDB/db                   \t7.9.10.04\tfast\trunning\n"
             b"SDB  \t/sapdb/SDB/db\t7.9.10.04\tquick\toffline\n")


def reply(kind: int, text: bytes) -> bytes:
    header = struct.pack("<IBBHIIII", 24 + len(text), 3, kind, 0, 1, 0, 0x40000, 24 + len(text))
    return header + text


def answer(packet: bytes) -> bytes:
    command = packet[24:].rstrip(b" \x00")
    if packet[5] == 0x5B:
        return reply(0x5C, bytes(16))
    if command == b"dbm_version":
        return reply(0x3F, b"OK\n" + VERSION)
    if command == b"db_enum":
        return reply(0x3F, b"OK\n" + DATABASES)
    return reply(0x3F, b"ERR\n-24977,ERR_COMMAND: unknown DBM command\n")


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    buffer = b""
    while True:
        chunk = await read_some(reader, 10.0)
        buffer += chunk
        # a packet header: its length, then message class 3; anything else is closed at once
        if not chunk or len(buffer) < 5 or buffer[4] != 3 \
                or not 24 <= struct.unpack("<I", buffer[:4])[0] <= 4096:
            break
        size = struct.unpack("<I", buffer[:4])[0]
        if len(buffer) < size:
            continue
        packet, buffer = buffer[:size], buffer[size:]
        writer.write(answer(packet))
        await writer.drain()
    writer.close()


SERVERS = (tcp(7210, handle),)
