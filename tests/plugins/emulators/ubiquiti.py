"""A Ubiquiti radio's discovery service (10001/udp).

The discovery protocol answers a 4-byte request — protocol version, command, a zero 16-bit
length (v1: ``01 00``; v2: ``02 08``) — with the same version, a command (v1: 0; v2: 6, 9 or
11), the 16-bit big-endian length of the rest, and TLVs: a type byte, a 16-bit length, the
value. Types used here: 0x02 a MAC address and an IPv4 address, 0x01 a MAC address, 0x0A the
uptime in seconds, 0x0B the host name, 0x0C the short product name, 0x03 the firmware string,
0x0D the ESSID, 0x0E the wireless mode, 0x14 the model. Other datagrams get no answer.
"""

from __future__ import annotations

import struct

from tests.plugins.emulators.base import UdpHandler, udp

PLUGINS = ("ubiquiti-discovery",)
MAC = bytes.fromhex("f09fc2a1b2c3")
ADDRESS = bytes((10, 1, 20, 7))
TLVS = ((0x02, MAC + ADDRESS), (0x01, MAC), (0x0A, struct.pack(">I", 3 * 86400 + 4 * 3600 + 5 * 60 + 6)),
        (0x0B, b"roof-link-north"), (0x0C, b"NBE-5AC-Gen2"),
        (0x03, b"XC.qca955x.v8.7.1.42832.200805.1505"), (0x0D, b"plant-backhaul"),
        (0x0E, b"\x03"), (0x14, b"NanoBeam 5AC Gen2"))


def reply(version: int, command: int, tlvs: tuple[tuple[int, bytes], ...] = TLVS) -> bytes:
    body = b"".join(struct.pack(">BH", kind, len(value)) + value for kind, value in tlvs)
    return struct.pack(">BBH", version, command, len(body)) + body


def radio(v1: bytes | None, v2: bytes | None) -> UdpHandler:
    """A discovery service that answers the v1 and v2 requests with these (None: silence)."""

    def handle(datagram: bytes) -> list[bytes]:
        answer = {b"\x01\x00\x00\x00": v1, b"\x02\x08\x00\x00": v2}.get(datagram)
        return [] if answer is None else [answer]

    return handle


SERVERS = (udp(10001, radio(reply(1, 0), reply(2, 6))),)
