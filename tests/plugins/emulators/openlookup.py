"""An OpenLookup node (5850/tcp): the greeting it sends on connect, a ``hello`` message.

OpenLookup frames each message as a netstring (``LENGTH:BYTES,``) holding NSON, whose values
are netstrings too, tagged by their first byte: ``s`` a string, ``i`` an integer, ``f`` a float,
``d`` a dictionary (keys and values alternating), ``a`` an array. The hello names the method
and gives the node's options, keys sorted: its HTTP and sync ports, its clock, its version and
the address it sees the client at.

Nmap's probe phase reads the version as ``2.7``; ``openlookup-info`` then sets the version to
the option as it is encoded, ``s2.7``, and prints nothing.
"""

from __future__ import annotations

import asyncio

from tests.plugins.emulators.base import read_some, tcp

PLUGINS = ("openlookup-info",)
SILENT = ("openlookup-info",)
VERSION_EFFECTS = {("tcp", 5850): {"name": "openlookup", "version": "s2.7"}}
NSON = str | int | float | dict[str, "NSON"] | list["NSON"]


def netstring(data: bytes) -> bytes:
    return b"%d:%s," % (len(data), data)


def nson(value: NSON) -> bytes:
    if isinstance(value, str):
        return netstring(b"s" + value.encode())
    if isinstance(value, int):
        return netstring(b"i%d" % value)
    if isinstance(value, float):
        return netstring(b"f" + repr(value).encode())
    if isinstance(value, dict):
        return netstring(b"d" + b"".join(nson(k) + nson(v) for k, v in sorted(value.items())))
    return netstring(b"a" + b"".join(nson(v) for v in value))


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    host, port = writer.get_extra_info("peername")[:2]
    options: dict[str, NSON] = {"http_port": 5851, "sync_port": 5850, "timestamp": 1700000000.25,
                                "version": "2.7", "your_address": [host, port]}
    writer.write(nson({"method": "hello", "options": options}))
    await writer.drain()
    await read_some(reader, timeout=10.0)  # whatever the client says, the node is done


SERVERS = (tcp(5850, handle),)
