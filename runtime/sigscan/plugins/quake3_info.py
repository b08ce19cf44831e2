"""``quake3-info``: a Quake 3 server's status (players, options) and its version line.

Mirrors Nmap 7.93's script: on 27960-27970/udp (or a port named ``quake3``) it sends
``getstatus``; a ``statusResponse`` gives the players (ranked by frags, compared as text as the
script does) and the options without ``_`` in their names; a ``version`` option
(``PRODUCT VERSION OS…``) sets name ``quake3``, product, version and the OS (hard matched).
Options with ``_`` are shown by Nmap only with ``-v``; sigscan does not show them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, exchange
from sigscan.plugins import rules
from sigscan.plugins.lib.comm import CONNECT_TIMEOUT, REQUEST_TIMEOUT
from sigscan.plugins.lib.output import Named, format_output

GETSTATUS = b"\xff\xff\xff\xffgetstatus\n"
STATUS_RESPONSE = "\xff\xff\xff\xffstatusResponse"

rule = rules.version_port_or_service(range(27960, 27971), "quake3", "udp")


@dataclass(frozen=True)
class Player:
    frags: str
    ping: str
    name: str


def _fields(line: str) -> dict[str, str]:
    parts = line.split("\\")
    if parts[0] != "":
        return {}
    fields: dict[str, str] = {}
    for i in range(1, len(parts), 2):
        if i + 1 < len(parts):
            fields[parts[i]] = parts[i + 1]
        else:
            fields.pop(parts[i], None)  # a key without a value: Lua stores nil
    return fields


def _player(line: str) -> Player | None:
    parts = line.split(" ")
    if len(parts) != 3:
        return None
    quoted = parts[2].split('"')
    if len(quoted) != 3 or quoted[0] + quoted[2] != "":
        return None
    return Player(parts[0], parts[1], quoted[1])


def _leads(a: Player, b: Player) -> bool:
    """The script's order: more frags (compared as text), then the name backwards, then ping."""
    even = a.frags == b.frags
    return a.frags > b.frags or (even and a.name > b.name) or (even and a.name == b.name and a.ping > b.ping)


def _rank(a: Player, b: Player) -> int:
    return -1 if _leads(a, b) else (1 if _leads(b, a) else 0)


def _players(players: list[Player], fraglimit: str) -> Named:
    ranked = sorted(players, key=functools.cmp_to_key(_rank))
    return Named("PLAYERS:", [f"{i}. {p.name} (frags: {p.frags}/{fraglimit}, ping: {p.ping})"
                              for i, p in enumerate(ranked, 1)])


def run(view: PortView) -> Exchange:
    reply = yield from exchange(GETSTATUS, CONNECT_TIMEOUT + REQUEST_TIMEOUT)
    if not reply.ok:
        return None
    parts = reply.data.decode("latin-1").split("\n")
    if parts.pop(0) != STATUS_RESPONSE or len(parts) < 2 or parts.pop() != "":
        return None
    fields = _fields(parts.pop(0))
    players = [p for p in (_player(line) for line in parts) if p is not None]
    basic = {k: v for k, v in fields.items() if "_" not in k}
    service = None
    if "version" in basic:
        words = basic["version"].split(" ")
        if len(words) < 3:  # the script fails here (string.find on nil): no result at all
            raise ValueError("version option with fewer than three words")
        ostype = view.service.ostype
        if "linux" in words[2]:
            ostype = "Linux"
        if "win" in words[2]:
            ostype = "Windows"
        service = replace(view.service, name="quake3", product=words[0], version=words[1],
                          ostype=ostype)
    options = Named("BASIC OPTIONS:", sorted(f"{k}: {v}" for k, v in basic.items()))
    output = format_output([_players(players, fields.get("fraglimit", "?")), options])
    return Outcome(output=output, version=service)


PLUGIN = Plugin("quake3-info", rule, run, summary="Quake 3 status: players, options, version")
