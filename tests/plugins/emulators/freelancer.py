"""A Freelancer server's answer to the status query (UDP 2302), after the community's
descriptions of the protocol: a ``00 03 f1 26`` header, flags (the password bit), player
counts stored plus one, the server name in UTF-16LE, then ``pvp:newplayers:…:`` fields and the
description. Only the status query is answered."""

from __future__ import annotations

from tests.plugins.emulators.base import udp

PLUGINS = ("freelancer-info",)
QUERY = bytes.fromhex("0002f1260126f090a6f026574eaca0ecf868e48d21")


def answer(datagram: bytes) -> list[bytes]:
    if datagram != QUERY:
        return []
    name = "Sigscan Sector".encode("utf-16-le")
    description = "A test server".encode("utf-16-le")
    reply = (b"\x00\x03\xf1\x26" + b"\x00" * 12 + b"\x80" + b"\x00" * 3  # password set
             + bytes([16 + 1]) + b"\x00" * 3 + bytes([3 + 1]) + b"\x00" * 67
             + name + b"\x00\x00" + b"1:0:2:30:0:" + description + b"\x00\x00")
    return [reply]


SERVERS = (udp(2302, answer),)
