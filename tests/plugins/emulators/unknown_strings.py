"""A made-up service no match line knows, for ``fingerprint-strings``: what it sends mixes
printable runs with control bytes so that the script has strings to find, probes to group and
things to skip.

On 40123/tcp: a banner on connect (blank runs, a short run before the end, a backslash before
``n`` and ``x41``, which Nmap's fingerprint reader decodes a second time), then one answer per
request echoing the request's first bytes, and a close. ``HELP`` gets 1,200 bytes, more than
the 900 a fingerprint keeps. (No UDP twin: Nmap waits out every UDP probe that an unknown
service answers, 98 s at intensity 7; the script reads UDP fingerprints the same way.)
"""

from __future__ import annotations

import asyncio

from tests.plugins.emulators.base import read_some, send_and_close, tcp

PLUGINS = ("fingerprint-strings",)
BANNER = (b"\x00\x01WIDGETD 3.2 ready  \t on port\r\n\x02path=C:\\new\\x41BCDEF\x00\x1b[0m ab\xff"
          b"\x03xyz\x04ok\x05")
LONG = b"\x00" + b"LONG-LINE-" * 120


def answer(request: bytes) -> bytes:
    if request.startswith(b"HELP"):
        return LONG
    echo = bytes(b if 0x20 <= b < 0x7F else 0x2E for b in request[:24])
    return b"\x02ERR unknown request: " + echo + b"\x00\x00 bye\x7f"


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(BANNER)
    await writer.drain()
    request = await read_some(reader, timeout=8.0)  # past Nmap's NULL wait: then it has gone
    if request:
        await send_and_close(writer, answer(request))


SERVERS = (tcp(40123, handle),)
