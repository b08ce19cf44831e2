"""A Tridium Niagara station's Fox port (1911/tcp).

Fox is a text protocol: a message is a header line ``fox a|r|c ID ...``, a ``{`` line, one
``name=type:value`` line per field (``s`` a string, ``i`` an integer, ``o`` an encoded
object...) and ``};;``. A client opens with ``fox a 1 -1 fox hello`` giving its Fox version;
the station answers ``fox a 0 -1 fox hello`` with its own fields: Fox, application, VM and OS
versions, host name and address, language, time zone (its name, then offsets and daylight
saving rules after ``;``), host and VM IDs, brand. Anything that is no Fox hello is dropped at
once.
"""

from __future__ import annotations

import asyncio

from tests.plugins.emulators.base import TcpHandler, read_until, send_and_close, tcp

PLUGINS = ("fox-info",)
FIELDS = (
    ("fox.version", "s:1.0.1"),
    ("id", "i:173"),
    ("hostName", "s:bas-station-07"),
    ("hostAddress", "s:10.20.30.40"),
    ("app.name", "s:Station"),
    ("app.version", "s:3.8.311"),
    ("vm.name", "s:Java HotSpot(TM) Embedded Client VM"),
    ("vm.version", "s:25.161-b13"),
    ("os.name", "s:QNX"),
    ("os.version", "s:6.5.0"),
    ("station.name", "s:Plant_East"),
    ("lang", "s:en"),
    ("timeZone", "s:Europe/Berlin;3600000;3600000;02:00:00.000,wall,march,-1,sunday;"
                 "03:00:00.000,wall,october,-1,sunday"),
    ("hostId", "s:Qnx-TITAN-1C2D-3E4F-5A6B"),
    ("vmUuid", "s:5c0e2f1a-9b7d-4e3c-8a21-6f4b0d9e7c13"),
    ("brandId", "s:webs"),
    ("sysInfo", 'o:bog 61[<bog v="1">\n<p m="b=baja" t="b:Facets" v=""/>\n</bog>\n]'),
    ("authAgentTypeSpecs", "s:fox:digest"),
)


def hello(fields: tuple[tuple[str, str], ...]) -> bytes:
    return b"fox a 0 -1 fox hello\n{\n" + b"".join(
        f"{name}={value}\n".encode() for name, value in fields) + b"};;\n"


def station(answer: bytes) -> TcpHandler:
    """A station that answers a Fox hello with ``answer``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_until(reader, b"\n", timeout=10.0)
        if not request.startswith(b"fox a 1 -1 fox hello\n"):
            return
        if not request.endswith(b"};;\n"):
            await read_until(reader, b"};;\n", timeout=2.0)
        await send_and_close(writer, answer)

    return handle


SERVERS = (tcp(1911, station(hello(FIELDS))),)
