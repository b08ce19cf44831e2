"""``weblogic-t3-info``: whether a WebLogic server speaks T3 (its RMI protocol), and its version.

Mirrors Nmap 7.93's script: on a port whose product (confidence above 3) names WebLogic, or
else on 7001-7003 or an ``http`` port, it sends the T3 greeting ``t3 12.1.2``. A ``HELO:``
answer gives the server's version, the other T3 answers (``LGIN:``, ``SERV:``, ``UNAV:``,
``LICN:``, ``RESC:``, ``VERS:``, ``CATA:``, ``CMND:``) say T3 is there and why it stopped; each
adds ``T3 enabled`` to the extrainfo, names the product ``WebLogic application server`` if it
had none, sets the version (hardmatched) and prints a line.
"""

from __future__ import annotations

import re
from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, ProbeState, exchange
from sigscan.plugins import rules
from sigscan.plugins.lib.comm import CONNECT_TIMEOUT, REQUEST_TIMEOUT

GREETING = b"t3 12.1.2\nAS:2048\nHL:19\n\n"
_HELO = re.compile(rb"^HELO:([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)\.")
_VERS = re.compile(rb"^VERS:Incompatible versions - this server:([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)")
REFUSALS = ((b"LGIN:", "handshake failed"), (b"SERV:", "No such service"),
            (b"UNAV:", "Service unavailable"), (b"LICN:", "No license"), (b"RESC:", "No resource"),
            (b"VERS:", "Incompatible version"), (b"CATA:", "Catastrophic failure"),
            (b"CMND:", "No such command"))

_by_port = rules.version_port_or_service((7001, 7002, 7003), "http")


def rule(view: PortView) -> bool:
    if view.service.conf > 3 and view.service.product is not None:
        return "WebLogic" in view.service.product and view.intensity >= 7
    return _by_port(view)


def run(view: PortView) -> Exchange:
    reply = yield from exchange(GREETING, REQUEST_TIMEOUT + CONNECT_TIMEOUT)
    if not reply.ok:
        return None
    data = reply.data
    version: str | None = None
    # (The script asks again with another version when the server says 12.1.2, to catch a
    # server that echoes; its four-part pattern never yields 12.1.2, so that never happens.)
    helo = _HELO.match(data)
    if helo is not None:
        version = helo.group(1).decode()
        said = f"WebLogic version: {version}"
    else:
        why = next((text for prefix, text in REFUSALS if data.startswith(prefix)), None)
        if why is None:
            return None
        said = why
        vers = _VERS.match(data)
        if vers is not None:
            version = vers.group(1).decode()
    service = view.service
    extrainfo = "T3 enabled" if service.extrainfo is None else f"{service.extrainfo}; T3 enabled"
    service = replace(service, extrainfo=extrainfo,
                      product="WebLogic application server" if service.product is None else service.product)
    if version is not None:
        service = replace(service, version=version)
    return Outcome(output=f"T3 protocol in use ({said})", version=service,
                   probestate=ProbeState.HARDMATCHED)


PLUGIN = Plugin("weblogic-t3-info", rule, run, timeout=30.0,
                summary="whether a WebLogic server speaks T3, and its version")
