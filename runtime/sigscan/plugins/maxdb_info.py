"""``maxdb-info``: a SAP MaxDB server's version and its databases.

Mirrors Nmap 7.93's script: on 7210 or a ``maxdb`` port it connects to the DBM server
(``dbmsrv``), asks ``dbm_version`` and ``db_enum``, and prints the version, build, OS,
installation root and system name, then the databases as a table. The name becomes ``maxdb``,
the product ``SAP MaxDB``, the version and ostype the server's (hardmatched).

Packets start with their length (little-endian; the script reads its first two bytes); a DBM
reply's text starts at byte 28, after the 24-byte header and ``OK\\n``.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Generator
from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, ProbeState, Step
from sigscan.plugins import rules
from sigscan.plugins.lib.nse_format import Section, format_output
from sigscan.plugins.lib.stream import Stream, open_stream

TIMEOUT = 10.0  # the script's socket timeout, seconds
HANDSHAKE = bytes.fromhex(
    "5a000000035b000001000000ffffffff000004005a000000000242000409000000400000d03f000000400000"
    "70000000000500000004000000020000000300000749343231360004501c2a035201037201097064626d73"
    "727600")
DBM_VERSION = bytes.fromhex("28000000033f000001000000ac130000000004002800000064626d5f7665727369"
                            "6f6e2020202020")
DB_ENUM = bytes.fromhex("20000000033f000001000000ac130000000004002000000064625f656e756d20")
TEXT_AT = 27  # where a reply's text starts
FIELDS = ("Version", "Build", "OS", "Instroot", "Sysname")
_S, _NS = r"[ \t\n\v\f\r]", r"[^ \t\n\v\f\r]"  # Lua's %s and %S
_KEY_VALUE = re.compile(rf"^({_NS}+){_S}*?={_S}(.*){_S}*\Z", re.DOTALL)
_DATABASE = re.compile(rf"^(.*?){_S}*\t(.*?){_S}*\t(.*?){_S}*\t(.*?){_S}*?\t(.*?){_S}*?\Z", re.DOTALL)

rule = rules.version_port_or_service(7210, "maxdb")


def _exchange(stream: Stream, packet: bytes) -> Generator[Step, object, bytes | None]:
    """``exchPacket``: send, read, and read on until the length the reply states."""
    yield from stream.send(packet)
    data = yield from stream.some()
    if data is None or len(data) < 2:
        return None
    length = struct.unpack_from("<H", data)[0]
    if length != len(data):
        more = yield from stream.at_least(length - len(data))
        if more is None:
            return None
        data += more
    return data


def parse_version(data: bytes) -> dict[str, str]:
    """The ``KEY = value`` lines of a ``dbm_version`` reply."""
    info: dict[str, str] = {}
    if len(data) > TEXT_AT:
        for line in data[TEXT_AT:].decode("latin-1").split("\n"):
            found = _KEY_VALUE.match(line)
            if found:
                info[found.group(1)] = found.group(2)
    return info


def table(rows: list[tuple[str, ...]]) -> str:
    """Nmap's ``tab.dump``: columns padded to their widest cell (the last one not), two
    spaces apart, one line each."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ("  ".join([*(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=False)), row[-1]])
             for row in rows)
    return "".join(line + "\n" for line in lines)


def parse_databases(data: bytes) -> str:
    """A ``db_enum`` reply as the script's table of instance, path, version, kernel, state."""
    rows: list[tuple[str, ...]] = [("instance", "path", "version", "kernel", "state")]
    for line in data[TEXT_AT:].decode("latin-1").split("\n"):
        found = _DATABASE.match(line)
        if found:
            rows.append(tuple(str(g) for g in found.groups()))
    return table(rows)


def run(view: PortView) -> Exchange:
    stream = yield from open_stream(TIMEOUT)
    if isinstance(stream, str):
        return None
    if (yield from _exchange(stream, HANDSHAKE)) is None:
        return None
    reply = yield from _exchange(stream, DBM_VERSION)
    if reply is None:
        return None
    info = parse_version(reply)
    lines: list[str | Section] = [f"{f}: {info.get(f.upper(), 'nil')}" for f in FIELDS]
    databases = yield from _exchange(stream, DB_ENUM)
    yield from stream.close()
    if databases is None or len(databases) < 26 or databases[24:26] != b"OK":
        return None
    lines.append(Section("Databases", [parse_databases(databases)]))
    service = replace(view.service, name="maxdb", product="SAP MaxDB", version=info.get("VERSION"),
                      ostype=info.get("SYSNAME"))
    return Outcome(output=format_output(lines), version=service, probestate=ProbeState.HARDMATCHED)


PLUGIN = Plugin("maxdb-info", rule, run, timeout=60.0,
                summary="a SAP MaxDB server's version and databases")
