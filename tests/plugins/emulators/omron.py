"""An OMRON CJ2M PLC's FINS ports (9600/tcp and 9600/udp).

FINS (OMRON's Factory Interface Network Service) commands have a 10-byte header — ICF (0x80: a
command wanting a response), RSV, GCT, then destination and source network, node and unit
(DNA DA1 DA2, SNA SA1 SA2) and a service ID — a 2-byte command code and parameters; the
response swaps destination and source, sets ICF to 0xC0, and puts a 2-byte end code (0000:
normal completion) before its data. CONTROLLER DATA READ (0501) answers with the controller
model and version (20 characters each), 40 bytes for system use, and the area data: program
area size, IOM size, DM words, timers/counters, expansion DM banks, steps/transitions, memory
card type and size. Over UDP a datagram is a FINS frame; FINS/TCP wraps frames in a 16-byte
header (``FINS``, length, command, error code: 32-bit big-endian), after a node address
exchange (command 0 from the client, command 1 back with the client's and the server's node
numbers). Over TCP anything else ends the connection; over UDP any other datagram gets a single
``0xFF`` byte back (:data:`~tests.plugins.emulators.base.UDP_NAK`).
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

from tests.plugins.emulators.base import UDP_NAK, read_some, tcp, udp

PLUGINS = ("omron-info",)
SERVER_NODE, CLIENT_NODE = 0x01, 0x0A
MODEL = b"CJ2M-CPU33".ljust(20)  # blank-padded, no NUL: the script reads on into the version
VERSION = b"02.01".ljust(20, b"\0")
AREA = struct.pack(">HBHBBHBH", 60, 23, 32768, 8, 1, 0, 0, 0)
NORMAL = b"\x00\x00"


def fins_tcp(command: int, body: bytes) -> bytes:
    return b"FINS" + struct.pack(">III", 8 + len(body), command, 0) + body


@dataclass(frozen=True)
class Plc:
    """What the PLC answers CONTROLLER DATA READ with: an end code and the data after it."""

    end_code: bytes = NORMAL
    data: bytes = MODEL + VERSION + b"\0" * 40 + AREA

    def response(self, frame: bytes) -> bytes | None:
        """The response to one FINS command frame, None for one the PLC ignores."""
        if len(frame) < 12 or frame[0] & 0xC0 != 0x80:  # a command (bit 6 clear)
            return None
        dna, da1, da2, sna, sa1, sa2, sid = frame[3:10]
        if frame[10:12] != b"\x05\x01":
            return None
        header = bytes((0xC0, 0x00, 0x02, sna, sa1, sa2, dna, da1, da2, sid))
        return header + frame[10:12] + self.end_code + self.data

    def reply_tcp(self, message: bytes) -> bytes | None:
        """The answer to one FINS/TCP message, None to end the connection."""
        if len(message) < 16 or message[:4] != b"FINS":
            return None
        length, command = struct.unpack(">II", message[4:12])
        body = message[16:8 + length]
        if command == 0 and len(body) == 4:
            node = struct.unpack(">I", body)[0] or CLIENT_NODE
            return fins_tcp(1, struct.pack(">II", node, SERVER_NODE))
        response = self.response(body) if command == 2 else None
        return None if response is None else fins_tcp(2, response)

    async def handle_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(8):
            reply = self.reply_tcp(await read_some(reader, timeout=10.0))
            if reply is None:
                return
            writer.write(reply)
            await writer.drain()

    def handle_udp(self, datagram: bytes) -> list[bytes]:
        response = self.response(datagram)
        return [UDP_NAK if response is None else response]


CJ2M = Plc()
SERVERS = (tcp(9600, CJ2M.handle_tcp), udp(9600, CJ2M.handle_udp))
