"""WebLogic servers, which speak HTTP and T3 (their RMI protocol) on one port, written from
public descriptions of T3: the client greets with ``t3 VERSION`` and header lines (``AS:``
abbreviation table size, ``HL:`` header length) ending in an empty line; the server answers
``HELO:VERSION.false`` and its own header lines, or a refusal such as ``VERS:Incompatible
versions - this server:VERSION``. HTTP requests get a bare 404, anything else is closed.

- 7001 greets back (``HELO``): ``weblogic-t3-info`` gives the version and ``T3 enabled``.
- 7002 refuses the client's version (``VERS``), naming its own.
"""

from __future__ import annotations

import asyncio

from tests.plugins.emulators.base import TcpHandler, read_some, read_until, send_and_close, tcp

PLUGINS = ("weblogic-t3-info",)
NOT_FOUND = (b"HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Type: text/html\r\n"
             b"Content-Length: 0\r\n\r\n")


def server(answer: bytes) -> TcpHandler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = await read_some(reader, 10.0)
        if first.startswith(b"t3 "):
            if b"\n\n" not in first:
                await read_until(reader, b"\n\n", timeout=2.0)
            await send_and_close(writer, answer)
        elif b" HTTP/1." in first.split(b"\n", 1)[0]:
            await send_and_close(writer, NOT_FOUND)
        else:  # closed at once, so Nmap's other probes end quickly
            writer.close()

    return handle


SERVERS = (tcp(7001, server(b"HELO:12.2.1.4.0.false\nAS:2048\nHL:19\nMS:10000000\n\n")),
           tcp(7002, server(b"VERS:Incompatible versions - this server:10.3.6.0\n\n")))
