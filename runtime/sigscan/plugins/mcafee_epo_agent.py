"""``mcafee-epo-agent``: a McAfee ePolicy Orchestrator agent's log page.

Mirrors Nmap 7.93's script: on a port whose product names ePolicy Orchestrator or an ePO agent
(or, with no product, on 8081/tcp), intensity ≥ 7, it fetches ``/`` with an MSIE
``User-Agent`` (the agent then answers XML). A ``<?xml …?><naLog>`` document sets the port to
``http``, product ``McAfee ePolicy Orchestrator Agent``, the ``<version>``, the host name
``<ComputerName>`` and ``ePOServerName: …, AgentGuid: …`` (a hard match). It prints nothing
(``ePO Agent not found`` needs Nmap's ``-vv``, which sigscan has no counterpart of).
"""

from __future__ import annotations

import re
from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, ProbeState
from sigscan.plugins.lib import http
from sigscan.plugins.lib.markup import element

USER_AGENT = "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.0; mcafee-epo-agent)"
PRODUCT = "McAfee ePolicy Orchestrator Agent"
_EPO = re.compile(r"[eE][pP]olicy Orch|[eE]PO [aA]gent")
_NALOG = re.compile(r"<\?xml .*\?>[ \t\n\v\f\r]*<naLog>", re.DOTALL)


def rule(view: PortView) -> bool:
    if view.intensity < 7:
        return False
    if view.service.product is not None:
        return _EPO.search(view.service.product) is not None
    return view.port == 8081 and view.proto == "tcp"


def run(view: PortView) -> Exchange:
    response = yield from http.get(view, "/", header={"User-Agent": USER_AGENT})
    body = response.text
    if response.body is None or not _NALOG.match(body):
        return None
    server = element(body, "ePOServerName") or ""
    guid = element(body, "AgentGUID") or ""
    version = replace(view.service, name="http", product=PRODUCT,
                      version=element(body, "version") or "", hostname=element(body, "ComputerName"),
                      extrainfo=f"ePOServerName: {server}, AgentGuid: {guid}")
    return Outcome(version=version, probestate=ProbeState.HARDMATCHED)


PLUGIN = Plugin("mcafee-epo-agent", rule, run, timeout=http.budget(2),
                summary="a McAfee ePolicy Orchestrator agent's version, host and server")
