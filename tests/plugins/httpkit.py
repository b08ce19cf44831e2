"""A minimal HTTP/1.x server side for the emulations (RFC 9112 request syntax): one request
per connection, answered at once, then the connection is closed. Anything that does not start
like a request line (Nmap's binary probes, a TLS ClientHello) gets ``400`` and the close at
once, so no probe waits for its timeout."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.plugins.emulators.base import read_some, read_until, send_and_close

REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 400: "Bad Request", 403: "Forbidden",
           404: "Not Found", 500: "Internal Server Error", 501: "Not Implemented"}
_REQUEST_LINE = re.compile(rb"([A-Z]+) (\S+) (HTTP/1\.[01])\r?\n")
_START = re.compile(rb"[A-Z]+ ")
MAX_HEAD = 16384
SILENCE = 8.0  # seconds a connection may stay silent (Nmap's NULL probe waits 6)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    version: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    body: bytes = b""
    local: str = ""  # the address the client connected to
    remote: tuple[str, int] = ("", 0)  # the client's address and port

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def response(status: int, body: bytes = b"", headers: tuple[tuple[str, str], ...] = (),
             version: str = "HTTP/1.1", length: bool = True) -> bytes:
    """A response with the given header fields (and ``Content-Length`` unless ``length`` is
    False: then the close ends the body)."""
    lines = [f"{version} {status} {REASONS.get(status, 'Unknown')}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Silent(Exception):
    """The client sent nothing (Nmap's NULL probe waits for a banner): close without a word."""


async def read_request(reader: asyncio.StreamReader, local: str,
                       remote: tuple[str, int] = ("", 0)) -> Request | None:
    """The request on the connection, or None when what came is no HTTP request
    (:class:`Silent` when nothing came: longer than Nmap's NULL probe waits, or a close)."""
    data = await read_some(reader, timeout=SILENCE)
    if not data:
        raise Silent
    if not _START.match(data):
        return None
    if b"\r\n\r\n" not in data and len(data) < MAX_HEAD:
        data += await read_until(reader, b"\r\n\r\n", timeout=2.0, limit=MAX_HEAD)
    head, _, body = data.partition(b"\r\n\r\n")
    line = _REQUEST_LINE.match(head + b"\r\n")
    if line is None:
        return None
    headers = {}
    for raw in head.split(b"\r\n")[1:]:
        name, sep, value = raw.partition(b":")
        if sep:
            headers[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
    wanted = int(headers.get("content-length", "0") or "0")
    while len(body) < wanted:
        more = await read_some(reader, timeout=2.0)
        if not more:
            break
        body += more
    method, path, version = (g.decode("latin-1") for g in line.groups())
    return Request(method, path, version, headers, body, local, remote)


Route = Callable[[Request | None], bytes]


def serve(route: Route) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], object]:
    """A TCP handler that answers each connection's request with ``route(request)``."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        local, remote = writer.get_extra_info("sockname")[0], writer.get_extra_info("peername")[:2]
        try:
            request = await read_request(reader, local, remote)
        except Silent:
            writer.close()
            return
        await send_and_close(writer, route(request))
    return handle


BAD_REQUEST = response(400, b"<html><body>Bad Request</body></html>\n",
                       (("Content-Type", "text/html"),))
