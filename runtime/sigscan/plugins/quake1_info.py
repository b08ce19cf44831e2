"""``quake1-info``: a Quake 1 server's info (name, level, players) over its control protocol.

Mirrors Nmap 7.93's script: on 26000-26004/udp (or a port named ``quake``) it asks for the
server info; an answer makes the port open (``script-set``), a well-formed one names it
``quake``, product ``Quake 1 server``, version the protocol's name; then it asks for each
player's info. The output lists both, with the reply/request size ratios the script shows.
"""

from __future__ import annotations

import struct
from collections.abc import Generator
from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, Step, exchange
from sigscan.engine.results import PortState
from sigscan.plugins.lib.comm import CONNECT_TIMEOUT, REQUEST_TIMEOUT

CONTROL = 0x8000
SERVER_INFO, SERVER_INFO_REPLY = 0x02, 0x83
PLAYER_INFO, PLAYER_INFO_REPLY = 0x03, 0x84
PROTOCOLS = {0x01: "qtest1", 0x02: "unknown", 0x03: "released"}
COLOURS = ("gray0", "brown1", "lavender2", "green3", "red4", "light green5", "orange6",
           "light brown7", "violet8", "pink9", "beige10", "green11", "yellow12", "blue13")
TIMEOUT = CONNECT_TIMEOUT + REQUEST_TIMEOUT
KEYS = {"player_ratio": "player info exchange payload amplification",
        "server_ratio": "server info exchange payload amplification"}

Table = dict[str, object]


class _Failed(Exception):
    """An assertion of the script failed; ``table`` is what it had gathered, with ERROR."""

    def __init__(self, message: str, table: Table | None = None) -> None:
        super().__init__(message)
        self.table = {} if table is None else table
        self.table["ERROR"] = message


def rule(view: PortView) -> bool:
    return (view.state.value in ("open", "open|filtered") and view.proto == "udp"
            and (26000 <= view.port <= 26004 or view.name == "quake") and view.intensity >= 7)


def _cstring(data: bytes, at: int) -> tuple[str, int]:
    end = data.index(b"\x00", at)  # ValueError when unterminated: string.unpack fails too
    return data[at:end].decode("latin-1"), end + 1


def _ratio(reply: bytes, request: bytes) -> str:
    return f"{len(reply)}/{len(request)}={len(reply) / len(request):f}"


def _player(number: int) -> Generator[Step, object, Table]:
    request = struct.pack(">HHBB", CONTROL, 6, PLAYER_INFO, number - 1)
    reply = yield from exchange(request, TIMEOUT)
    if not reply.ok:
        raise _Failed("No response to request for player info")
    data = reply.data
    if len(data) < 4:
        raise _Failed("Response too small for packet header")
    table: Table = {"player_ratio": _ratio(data, request)}
    kind, size = struct.unpack_from(">HH", data)
    if size != len(data):
        raise _Failed(f"Incorrect reply packet length: {size} received, {len(data)} bytes in packet", table)
    if kind != CONTROL:
        raise _Failed("Bad reply packet type", table)
    opcode, _ = struct.unpack_from(">BB", data, 4)
    name, at = _cstring(data, 6)
    colours = data[at]
    frags, connected = struct.unpack_from("<iI", data, at + 4)
    address, at = _cstring(data, at + 12)
    if at != size:
        raise _Failed("Error parsing reply (packet type/ length)", table)
    if opcode != PLAYER_INFO_REPLY:
        raise _Failed(f"Incorrect operation code 0x{opcode:x} in reply, should be 0x{PLAYER_INFO_REPLY:x}", table)
    table.update({"name": name, "client_address": address, "connect_time": f"{connected} secs",
                  "frags": frags,
                  "shirt": COLOURS[colours >> 4] if colours >> 4 < len(COLOURS) else "INVALID",
                  "pants": COLOURS[colours & 15] if colours & 15 < len(COLOURS) else "INVALID"})
    return table


def _format(table: Table, indent: int = 0) -> str:
    """The script's own formatter: a table's ``name`` after its key, keys with ``_`` spelt
    with spaces (two of them renamed), each level two spaces further in."""
    out = []
    if "name" in table:
        out.append(("\n" if indent == 0 else ": ") + str(table["name"]))
    for key, value in table.items():
        if key == "name":
            continue
        label = KEYS.get(key, key.replace("_", " "))
        pad = " " * (indent + 2)
        if isinstance(value, dict):
            out.append(f"\n{pad}{label}")
            out.append(_format(value, indent + 2))
        else:
            out.append(f"\n{pad}{label}: {value}")
    return "".join(out)


def run(view: PortView) -> Exchange:
    request = struct.pack(">HHB6sB", CONTROL, 12, SERVER_INFO, b"QUAKE\x00", 3)
    reply = yield from exchange(request, TIMEOUT)
    if not reply.ok or len(reply.data) < 4:
        return None
    data = reply.data
    kind, size = struct.unpack_from(">HH", data)
    if kind != CONTROL or size != len(data) or data[4] != SERVER_INFO_REPLY:
        return Outcome(state=PortState.OPEN)
    try:
        address, at = _cstring(data, 5)
        host_name, at = _cstring(data, at)
        level, at = _cstring(data, at)
        players, most, protocol = struct.unpack_from(">BBB", data, at)
    except (ValueError, struct.error):
        return Outcome(state=PortState.OPEN)
    if at + 3 != size:
        return Outcome(state=PortState.OPEN)
    service = replace(view.service, name="quake", product="Quake 1 server",
                      version=PROTOCOLS.get(protocol))
    table: Table = {"server_ratio": _ratio(data, request)}
    roster: Table = {}
    for number in range(1, players + 1):
        try:
            roster[f"player {number}"] = yield from _player(number)
        except _Failed as failed:
            roster[f"player {number}"] = failed.table
        except (ValueError, IndexError, struct.error) as error:  # the script's unpack failing
            roster[f"player {number}"] = {"ERROR": str(error)}
    table.update({"listen_address": address, "server_name": host_name, "level_name": level,
                  "players": f"{players}/{most}", "player_table": roster,
                  "protocol_version": f"{PROTOCOLS.get(protocol)} (0x{protocol:x})"})
    return Outcome(output=_format(table), version=service, state=PortState.OPEN)


PLUGIN = Plugin("quake1-info", rule, run, summary="Quake 1 server and player info")
