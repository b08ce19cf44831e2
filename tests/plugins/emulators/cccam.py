"""A CCcam server as its users describe it: every connection is greeted with 16 random bytes
(the seed of its stream cipher), then the server waits for the client. Nmap's probes find no
match, so the port is unrecognised, and ``cccam-version`` names it (it prints nothing)."""

from __future__ import annotations

import asyncio
import os

from sigscan.plugins.lib.formulas import looks_random
from tests.plugins.emulators.base import read_some, tcp

PLUGINS = ("cccam-version",)
SILENT = ("cccam-version",)
EFFECTS = {("tcp", 12000): {"name": "cccam", "version": "CCcam DVR card sharing system"}}


def greeting() -> bytes:
    """16 random bytes that pass the randomness test (1 in 20 or so would not, and the test
    would then fail by chance: the same check Nmap makes, so Nmap is not favoured)."""
    while True:
        data = os.urandom(16)
        if looks_random(data):
            return data


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(greeting())
    await writer.drain()
    await read_some(reader, 1.0)  # anything a client sends ends the session, as a bad login


UNCOMPARED = ("fingerprint-strings",)  # the strings of random bytes, different for each scanner
SERVERS = (tcp(12000, handle),)
