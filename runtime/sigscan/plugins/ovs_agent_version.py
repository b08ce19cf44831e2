"""``ovs-agent-version``: which Oracle Virtual Server Agent answers on 8899.

Mirrors Nmap 7.93's script: on 8899/tcp (intensity ≥ 7, not excluded) it fetches ``/``:
version 2.2 serves a page titled ``Python: OVSAgentServer Document``; versions 3.0 and 3.0.1
answer ``501``, and then differ in the ``403`` message they give an XML-RPC
``system.listMethods`` call without credentials. The port becomes ``ovs-agent``, product
``Oracle Virtual Server Agent``, that version, and (when the ``Server`` header is Python's
BaseHTTP) ``BaseHTTP V; Python SimpleXMLRPCServer; Python V`` as extra information (a hard
match). Nothing is printed.
"""

from __future__ import annotations

import re
from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, ProbeState
from sigscan.plugins import rules
from sigscan.plugins.lib import http

PRODUCT = "Oracle Virtual Server Agent"
TITLE_22 = "<title>Python: OVSAgentServer Document</title>"
LIST_METHODS = b"<methodCall><methodName>system.listMethods</methodName><params></params></methodCall>"
_REFUSED_30 = re.compile(r"Message: Unauthorized HTTP Access Attempt from \('[0-9.]+', [0-9]+\)!\.")
_REFUSED_301 = re.compile(r"Message: Unauthorized access attempt from \('[0-9.]+', [0-9]+\)!\.")
_SERVER = re.compile(r"BaseHTTP/([0-9.]+) Python/([0-9.]+)")

rule = rules.version_port_or_service(8899, ())


def _found(view: PortView, version: str, server: str | None) -> Outcome:
    service = replace(view.service, name="ovs-agent", product=PRODUCT, version=version)
    parts = _SERVER.match(server) if server is not None else None
    if parts:
        service = replace(service, extrainfo=f"BaseHTTP {parts.group(1)}; Python SimpleXMLRPCServer; "
                                             f"Python {parts.group(2)}")
    return Outcome(version=service, probestate=ProbeState.HARDMATCHED)


def run(view: PortView) -> Exchange:
    page = yield from http.get(view, "/")
    if page.status == 200 and TITLE_22 in page.text:
        return _found(view, "2.2", page.header.get("server"))
    if page.status != 501:
        return None
    call = yield from http.post(view, "/", LIST_METHODS, header={"Content-Type": "text/xml"})
    if call.status == 403 and _REFUSED_30.search(call.text):
        return _found(view, "3.0", call.header.get("server"))
    if call.status == 403 and _REFUSED_301.search(call.text):
        return _found(view, "3.0.1", call.header.get("server"))
    return None


PLUGIN = Plugin("ovs-agent-version", rule, run, timeout=http.budget(3),
                summary="an Oracle Virtual Server Agent's version")
