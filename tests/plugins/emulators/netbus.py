"""NetBus 1.70 and the NetBuster honeypot that mimes it (12345/tcp and 12346/tcp, both
``netbus`` in nmap-services).

A NetBus server greets each connection with ``NetBus VERSION`` and a carriage return, and
answers each command (fields separated by ``;``, ended by ``\\r``); a login, ``Password;0;PASS``,
gets ``Access;1`` when the password is accepted (none is set here). NetBuster sends the same
greeting and never answers: ``netbus-version`` turns it into ``NetBuster`` (``honeypot``).
"""

from __future__ import annotations

import asyncio

from tests.plugins.emulators.base import read_some, read_until, tcp

PLUGINS = ("netbus-version",)
SILENT = ("netbus-version",)  # it prints nothing; it changes the honeypot's product
EFFECTS = {("tcp", 12346): "NetBuster"}
GREETING = b"NetBus 1.70\r"


async def netbus(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(GREETING)
    await writer.drain()
    for _ in range(8):  # a few commands, then the session ends
        command = await read_until(reader, b"\r", timeout=10.0)
        if not command.endswith(b"\r"):
            return
        fields = command[:-1].split(b";")
        writer.write(b"Access;1\r" if fields[0] == b"Password" else b"Unknown command\r")
        await writer.drain()


async def netbuster(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(GREETING)
    await writer.drain()
    for _ in range(8):  # reads and says nothing, until the client leaves
        if not await read_some(reader, timeout=10.0):
            return


SERVERS = (tcp(12345, netbus), tcp(12346, netbuster))
