"""``freelancer-info``: a Freelancer game server's status reply (name, players, password).

Mirrors Nmap 7.93's script: on 2302/udp (or a port named ``freelancer``) it sends the status
query; any reply makes the port open (``script-set``); a status reply gives product
``Freelancer``, an extrainfo with name, players and password, and the reply's fields as output.
"""

from __future__ import annotations

import re
from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, ProbeState, exchange
from sigscan.engine.results import PortState
from sigscan.plugins import rules
from sigscan.plugins.lib.output import format_table

QUERY = bytes.fromhex("0002f1260126f090a6f026574eaca0ecf868e48d21")
TIMEOUT = 3.0 + 3.0  # comm.exchange with timeout 3000: connect, then the reply
_REPLY = re.compile(rb"^\x00\x03\xf1\x26.{12}(.)...(.)...(.).{67}(.*)\x00\x00(.):(.):.*:.*:.*:(.*)\x00\x00$",
                    re.DOTALL)
_NOT_SHOWN = re.compile(r"[^\x21-\x7e\s]")  # Lua's [^%g%s]: kept are printable and space characters

rule = rules.version_port_or_service(2302, "freelancer", "udp")


def _flag(value: bytes) -> str:
    return {b"1": "yes", b"0": "no"}.get(value, "n/a")


def run(view: PortView) -> Exchange:
    reply = yield from exchange(QUERY, TIMEOUT)
    if not reply.ok:
        return None
    found = _REPLY.match(reply.data)
    if found is None:
        return Outcome(state=PortState.OPEN)
    password, most, players, name, pvp, newcomers, description = found.groups()
    table = {
        "server name": _NOT_SHOWN.sub("", name.decode("latin-1")),
        "server description": _NOT_SHOWN.sub("", description.decode("latin-1")),
        "players": players[0] - 1,
        "max. players": most[0] - 1,
        "password": "yes" if password[0] & 128 else "no",
        "allow players to harm other players": _flag(pvp),
        "allow new players": _flag(newcomers),
    }
    extrainfo = (f"name: {table['server name']}; players: {table['players']}/"
                 f"{table['max. players']}; password: {table['password']}")
    service = replace(view.service, name="freelancer", product="Freelancer", extrainfo=extrainfo)
    return Outcome(output=format_table(table), version=service, probestate=ProbeState.HARDMATCHED,
                   state=PortState.OPEN)


PLUGIN = Plugin("freelancer-info", rule, run, summary="Freelancer server status: name, players")
