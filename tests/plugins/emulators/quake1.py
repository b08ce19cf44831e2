"""A Quake 1 (NetQuake) server's control protocol on 26000/udp, as the Quake source release
documents it (net_dgrm.c): a big-endian header (``0x8000`` control flag, total length), then
``CCREP_SERVER_INFO`` (address, host name, level, players, max players, protocol 3) or
``CCREP_PLAYER_INFO`` (number, name, colours, three pad bytes, little-endian frags and connect
time, address). Only well-formed ``CCREQ`` requests are answered."""

from __future__ import annotations

import struct

from tests.plugins.emulators.base import udp

PLUGINS = ("quake1-info",)
PLAYERS = (("fragmeister", 0x36, -1, 55587, "127.0.0.99:40430"), ("Ranger", 0x4D, 12, 61, "127.0.0.98:27001"))


def _packet(body: bytes) -> bytes:
    return struct.pack(">HH", 0x8000, 4 + len(body)) + body


def answer(datagram: bytes) -> list[bytes]:
    if len(datagram) < 5 or datagram[:2] != b"\x80\x00":
        return []
    if datagram[4] == 0x02 and datagram[5:11] == b"QUAKE\x00":
        body = (b"\x83" + b"127.0.0.13:26000\x00" + b"Sigscan deathmatch\x00" + b"e1m1\x00"
                + bytes([len(PLAYERS), 8, 3]))
        return [_packet(body)]
    if datagram[4] == 0x03 and len(datagram) == 6 and datagram[5] < len(PLAYERS):
        name, colours, frags, seconds, address = PLAYERS[datagram[5]]
        body = (bytes([0x84, datagram[5]]) + name.encode() + b"\x00" + bytes([colours]) + b"\x00" * 3
                + struct.pack("<iI", frags, seconds) + address.encode() + b"\x00")
        return [_packet(body)]
    return []


SERVERS = (udp(26000, answer),)
