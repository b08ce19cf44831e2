"""A TeamSpeak 2 server's UDP login answer, as the protocol's public descriptions give it: a
``f4 be 04 00`` header, session and sequence fields, the server name and platform as
length-prefixed strings in fixed fields, and the version as four little-endian 16-bit numbers.
Only the login request is answered (Nmap's UDP probes get nothing, so the port stays
``open|filtered`` until ``teamspeak2-version`` hears the answer)."""

from __future__ import annotations

import struct

from tests.plugins.emulators.base import udp

PLUGINS = ("teamspeak2-version",)
SILENT = ("teamspeak2-version",)
EFFECTS = {("udp", 8767): {"product": "TeamSpeak", "version": "2.0.23.19",
                           "extrainfo": "name: Sigscan Lounge; no password", "ostype": "Linux"}}


def _pascal(text: bytes, size: int) -> bytes:
    """A length byte, then the text padded with NULs to ``size`` bytes."""
    return bytes([len(text)]) + text.ljust(size, b"\x00")


def answer(datagram: bytes) -> list[bytes]:
    if not datagram.startswith(b"\xf4\xbe\x03\x00") or b"TeamSpeak" not in datagram:
        return []
    reply = (b"\xf4\xbe\x04\x00"  # class connection, type login reply
             + struct.pack("<III", 0, 0x1234, 2)  # session key 0, client id, sequence 2
             + struct.pack("<I", 0x5A5A5A5A)  # checksum (not checked by clients of the test)
             + _pascal(b"Sigscan Lounge", 29) + _pascal(b"Linux", 29)
             + struct.pack("<4H", 2, 0, 23, 19) + b"\x00" * 92
             + _pascal(b"Welcome", 255))
    return [reply]


SERVERS = (udp(8767, answer),)
