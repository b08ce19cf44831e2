"""``allseeingeye-info``: a game server's All-Seeing Eye status (game, map, settings, players).

Mirrors Nmap 7.93's script: on the All-Seeing Eye ports (or a port named ``allseeingeye``) it
sends ``s``; any reply makes the port open (``script-set``); an ``EYE1`` reply is read as
length-prefixed strings (the script takes the length byte as the string's length), and names
the port ``ase``, product ``All-Seeing Eye``, with the game, version, port and password in
extrainfo. A reply too short for what the script reads fails it, as in Nmap (its error output,
the port still open).
"""

from __future__ import annotations

from dataclasses import replace

from sigscan.engine.plugin import (
    SCRIPT_ERROR,
    Exchange,
    Outcome,
    Plugin,
    PortView,
    ProbeState,
    exchange,
)
from sigscan.engine.results import PortState
from sigscan.plugins import rules
from sigscan.plugins.lib.output import format_table

PORTS = (1258, 2126, 3123, 12444, 13200, 23196, 26000, 27138, 27244, 27777, 28138)
HEAD = ("game", "port", "server name", "game type", "map", "version", "passworded",
        "num players", "max players")
PLAYER_FIELDS = ((1, "name"), (2, "team"), (4, "skin"), (8, "score"), (16, "ping"), (32, "time"))
TIMEOUT = 3.0 + 3.0  # comm.exchange with timeout 3000: connect, then the reply

rule = rules.version_port_or_service(PORTS, "allseeingeye", "udp")


class _Short(Exception):
    """``string.unpack`` ran out of data."""


def _string(data: bytes, at: int) -> tuple[str, int]:
    """Lua's ``s1``: a length byte, then that many bytes."""
    if at >= len(data) or at + 1 + data[at] > len(data):
        raise _Short
    size = data[at]
    return data[at + 1:at + 1 + size].decode("latin-1"), at + 1 + size


def _parse(data: bytes) -> dict[str, object]:
    values = []
    at = 4
    for _ in HEAD:
        value, at = _string(data, at)
        values.append(value)
    # the script assigns the nine fields in one statement, which Lua carries out last to first:
    # its output table lists them in that order
    table: dict[str, object] = dict(reversed(list(zip(HEAD, values, strict=True))))
    settings: dict[str, object] = {}
    table["settings"] = settings
    while at >= len(data) or data[at] != 1:
        key, at = _string(data, at)
        settings[key], at = _string(data, at)
    at += 1
    players: dict[str, object] = {}
    table["players"] = players
    number = 0
    while at < len(data):
        flags = data[at]
        at += 1
        player: dict[str, object] = {}
        for bit, name in PLAYER_FIELDS:
            if flags & bit:
                player[name], at = _string(data, at)
        players[f"player {number}"] = player
        number += 1
    return table


def run(view: PortView) -> Exchange:
    reply = yield from exchange(b"s", TIMEOUT)
    if not reply.ok:
        return None
    if not reply.data.startswith(b"EYE1"):
        return Outcome(state=PortState.OPEN)
    try:
        table = _parse(reply.data)
    except _Short:
        return Outcome(output=SCRIPT_ERROR, state=PortState.OPEN)
    password = "; no password" if table["passworded"] == "0" else "; has password"
    extrainfo = f"game: {table['game']} {table['version']}; port: {table['port']}{password}"
    service = replace(view.service, name="ase", product="All-Seeing Eye", extrainfo=extrainfo)
    return Outcome(output=format_table(table), version=service, probestate=ProbeState.HARDMATCHED,
                   state=PortState.OPEN)


PLUGIN = Plugin("allseeingeye-info", rule, run, summary="All-Seeing Eye game server status")
