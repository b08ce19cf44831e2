"""``teamspeak2-version``: a TeamSpeak 2 server answers a login request with its name, platform
and version.

Mirrors Nmap 7.93's script: on 8767/udp (or a port named ``teamspeak2``) it sends the login
datagram; any reply makes the port open (``script-set``); a login reply gives product
``TeamSpeak`` and, when the server has no password (its name is shown), the version, the name
and the OS. Nothing is printed.
"""

from __future__ import annotations

import re
import struct
from dataclasses import replace

from sigscan.engine.plugin import (
    Exchange,
    Outcome,
    Plugin,
    PortView,
    ProbeState,
    exchange,
)
from sigscan.engine.results import PortState
from sigscan.plugins import rules

# the login datagram the script sends: client "TeamSpeak", OS "Windows XP", nickname "nickname"
LOGIN = (b"\xf4\xbe\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x002x\xba\x85\tTeamSpeak"
         + b"\x00" * 20 + b"\nWindows XP" + b"\x00" * 19 + b"\x02\x00\x00\x00 \x00<\x00\x00\x01"
         + b"\x00" * 63 + b"\x08nickname" + b"\x00" * 21)
TIMEOUT = 3.0 + 3.0  # comm.exchange: its timeout for the connect, and again for the reply
# the Lua pattern, with %G (not a printable non-space character) spelt out
_REPLY = re.compile(rb"^\xf4\xbe\x04\x00{5}.{13}([^\x00]*)[\x00-\x20\x7f-\xff]+([^\x00]*)\x00*(.{8})",
                    re.DOTALL)
_OS = {b"Win32": "Windows", b"Linux": "Linux"}

rule = rules.version_port_or_service(8767, "teamspeak2", "udp")


def run(view: PortView) -> Exchange:
    reply = yield from exchange(LOGIN, TIMEOUT)
    if not reply.ok:
        return None
    found = _REPLY.match(reply.data)
    if found is None:
        return Outcome(state=PortState.OPEN)
    name, platform, raw = found.groups()
    service = replace(view.service, name="teamspeak2", product="TeamSpeak", version="2")
    if name:
        service = replace(service, version=".".join(str(v) for v in struct.unpack("<4H", raw)),
                          extrainfo=f"name: {name.decode('latin-1')}; no password",
                          ostype=_OS.get(platform, service.ostype))
    return Outcome(version=service, probestate=ProbeState.HARDMATCHED, state=PortState.OPEN)


PLUGIN = Plugin("teamspeak2-version", rule, run, summary="TeamSpeak 2 login reply: version, name, OS")
