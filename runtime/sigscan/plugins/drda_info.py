"""``drda-info``: a DRDA server's attributes (EXCSAT/EXCSATRD), and the product for IBM
Informix, Apache Derby and IBM DB2.

Mirrors Nmap 7.93's script: on 50000, 60000, 9090, 1526 and 1527 or a ``drda``/``ibm-db2`` port
it sends EXCSAT and reads the EXCSATRD reply. A server class naming Informix (``IDS/``), Derby
or DB2 makes the name ``drda`` and the product that server; the server class becomes the
extrainfo, the port ``open``, and the version is set (hardmatched). The output lists the
release level (as a version for those three), the server class, the instance and external
names; a reply without EXCSATRD prints only that.
"""

from __future__ import annotations

import re
from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, ProbeState
from sigscan.engine.results import PortState
from sigscan.plugins import rules
from sigscan.plugins.lib import drda
from sigscan.plugins.lib.nse_format import format_output
from sigscan.plugins.lib.stream import open_stream

TIMEOUT = 30.0  # an NSE socket's default timeout, seconds (drda.lua sets none)
PRODUCTS = (("IDS/", "IBM Informix Dynamic Server", "Informix"),
            ("Apache Derby", "Apache Derby Server", "Derby"),
            ("DB2", "IBM DB2 Database Server", "DB2"))
_CSS = re.compile(r"[0-9A-Za-z]+/(.*)", re.DOTALL)

rule = rules.version_port_or_service((50000, 60000, 9090, 1526, 1527), ("drda", "ibm-db2"))


def _text(value: str | None) -> str:
    """A value as Lua's ``%s`` prints it."""
    return "nil" if value is None else value


def parse_version(prodrel: str) -> str | None:
    """drda-info's ``parseVersion``: ``SQL09074`` and ``IFX…`` become ``9.07.4``; ``CSS…/x``
    becomes ``x`` (None when there is no ``/``); anything else stays."""
    prefix = prodrel[:3]
    if prefix in ("SQL", "IFX"):
        major = prodrel[3:5]
        if major.startswith("0"):
            major = major[1:]
        return f"{major}.{prodrel[5:7]}.{prodrel[7:]}"
    if prefix == "CSS":
        found = _CSS.search(prodrel)
        return found.group(1) if found else None
    return prodrel


def run(view: PortView) -> Exchange:
    stream = yield from open_stream(TIMEOUT)
    if isinstance(stream, str):
        return Outcome(note=f"no connection: {stream}")
    yield from stream.send(drda.excsat())
    try:
        ddms = yield from drda.receive(stream)
        yield from stream.close()
        if ddms is None:
            return None
        info = drda.server_info(ddms)
        if info is None:
            return Outcome(output="The response contained no EXCSATRD")
        return _outcome(view, info)
    except drda.Malformed as error:
        return Outcome(note=f"a reply the script cannot read: {error}")


def _outcome(view: PortView, info: drda.ServerInfo) -> Outcome:
    service = view.service
    known = next((p for p in PRODUCTS if info.srvclass is not None and p[0] in info.srvclass), None)
    if known is None:
        lines = [f"Version: {_text(info.prodrel)}"]
    else:
        if info.prodrel is None:
            raise drda.Malformed("no release level to parse")
        service = replace(service, name="drda", product=known[1])
        lines = [f"{known[2]} Version: {_text(parse_version(info.prodrel))}"]
    if info.srvclass is not None:
        service = replace(service, extrainfo=info.srvclass)
    lines += [f"Server Platform: {_text(info.srvclass)}", f"Instance Name: {_text(info.srvname)}",
              f"External Name: {_text(info.extname)}"]
    return Outcome(output=format_output(lines), version=service, probestate=ProbeState.HARDMATCHED,
                   state=PortState.OPEN)


PLUGIN = Plugin("drda-info", rule, run, timeout=100.0,
                summary="a DRDA server's attributes (EXCSATRD); the product for Informix, Derby, DB2")
