"""Oracle TNS listeners that refuse every connect (the listener's answer to a version request
from a client it does not serve), written from public descriptions of TNS: an 8-byte header
(packet length, packet checksum, type, reserved, header checksum) and, for a REFUSE (type 4),
the user and system reasons, the data length and the data, a ``(DESCRIPTION=…)`` string that
carries the listener's version as ``VSNNUM`` and the error as ``ERR``.

- 1521 refuses with error 12514 (unknown service name): the probe phase only softmatches
  (``oracle-tns``, no version), so ``oracle-tns-version`` decodes VSNNUM from the fingerprint.
- 1522 refuses with error 1189 (unauthorized): the probe phase matches without a version, so the
  script sends its probe itself.
"""

from __future__ import annotations

import asyncio
import struct

from tests.plugins.emulators.base import TcpHandler, read_some, send_and_close, tcp

PLUGINS = ("oracle-tns-version",)
SILENT = ("oracle-tns-version",)
EFFECTS = {("tcp", 1521): "Oracle TNS listener", ("tcp", 1522): "Oracle TNS listener"}
CONNECT, REFUSE = 1, 4


def refuse(description: bytes) -> bytes:
    data = struct.pack(">BBH", 0x22, 0, len(description)) + description
    return struct.pack(">HHBBH", 8 + len(data), 0, REFUSE, 0, 0) + data


def listener(vsnnum: int, error: int) -> TcpHandler:
    description = (b"(DESCRIPTION=(TMP=)(VSNNUM=%d)(ERR=%d)(ERROR_STACK=(ERROR=(CODE=%d)(EMFI=4))))"
                   % (vsnnum, error, error))

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        packet = await read_some(reader)
        if len(packet) >= 8 and packet[4] == CONNECT and struct.unpack(">H", packet[:2])[0] == len(packet):
            await send_and_close(writer, refuse(description))
        else:  # not TNS: closed at once, so Nmap's other probes end quickly
            writer.close()

    return handle


SERVERS = (tcp(1521, listener(0x13000000, 12514)), tcp(1522, listener(0x0B200300, 1189)))
