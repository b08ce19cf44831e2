"""An HTTP server whose ``Server`` header no match line of Nmap's knows (``GET`` answered
``200`` with ``Server: Cobblestone/4.2 (sigscan test)``), on 80 and on 8080: the probe phase
says ``http`` with no product, and ``http-server-header`` makes the header the product."""

from __future__ import annotations

import asyncio

from tests.plugins.emulators.base import read_some, send_and_close, tcp

PLUGINS = ("http-server-header",)
EFFECTS = {("tcp", 80): {"product": "Cobblestone/4.2 (sigscan test)"}}
BODY = b"<html><body>cobblestone</body></html>\n"


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    request = await read_some(reader)  # answered at once: Nmap's other probes end quickly
    if not request:  # Nmap's NULL probe waits for a banner: none comes, the connection ends
        return
    if not request.startswith((b"GET ", b"HEAD ")):
        await send_and_close(writer, b"HTTP/1.0 400 Bad Request\r\nServer: Cobblestone/4.2 "
                                     b"(sigscan test)\r\nContent-Length: 0\r\n\r\n")
        return
    head = (b"HTTP/1.0 200 OK\r\nServer: Cobblestone/4.2 (sigscan test)\r\n"
            b"Content-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(BODY))
    await send_and_close(writer, head + (b"" if request.startswith(b"HEAD ") else BODY))


SERVERS = (tcp(80, handle), tcp(8080, handle))
