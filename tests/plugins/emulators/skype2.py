"""Skype v2's listening port as it was described when it hid behind port 80: ``GET /`` gets a
bare ``HTTP/1.0 404 Not Found`` with no headers, anything else gets random-looking bytes (its
obfuscated protocol), and the connection is closed."""

from __future__ import annotations

import asyncio
import os

from tests.plugins.emulators.base import read_some, send_and_close, tcp

PLUGINS = ("skypev2-version",)
SILENT = ("skypev2-version",)
EFFECTS = {("tcp", 80): {"name": "skype2", "product": "Skype"}}


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    request = await read_some(reader)
    if request.startswith(b"GET / HTTP/1.0\r\n"):
        await send_and_close(writer, b"HTTP/1.0 404 Not Found\r\n\r\n")
    elif request:
        await send_and_close(writer, b"\x17\x03" + os.urandom(30))
    else:
        writer.close()


UNCOMPARED = ("fingerprint-strings",)  # the strings of random bytes, different for each scanner
SERVERS = (tcp(80, handle),)
