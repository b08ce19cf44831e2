"""``http-server-header``: the ``Server`` header of an HTTP port, and the product when the probe
phase found none.

Mirrors Nmap 7.93's script: on an HTTP port (``shortport.http``, intensity ≥ 7) it reads the
replies to the HTTP-ish probes out of the service fingerprint (or sends ``GET / HTTP/1.0``
itself when there is none), sends ``GET / HTTP/1.1`` with a ``Host`` header, and takes each
reply's ``Server`` header. When the port has no product and a low confidence, the header
becomes the product (softmatched, so the fingerprint stays); the output lists the headers that
differ from the product.
"""

from __future__ import annotations

import re
from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, ProbeState
from sigscan.plugins import rules
from sigscan.plugins.lib.comm import tryssl
from sigscan.plugins.lib.fingerprint import response

FP_PROBES = ("GetRequest", "GenericLines", "HTTPOptions", "FourOhFourRequest", "NULL",
             "RTSPRequest", "Help", "SIPOptions")
_STATUS = re.compile(rb"^HTTP/1.[01] \d\d\d")
_SERVER = re.compile(rb"\n[Ss][Ee][Rr][Vv][Ee][Rr]:[ \t]*(.*?)\r?\n", re.DOTALL)


def rule(view: PortView) -> bool:
    return rules.http(view) and view.intensity >= 7


def run(view: PortView) -> Exchange:
    replies = [r for r in (response(view.service.servicefp, p) for p in FP_PROBES) if r is not None]
    if not replies:
        first = yield from tryssl(view, b"GET / HTTP/1.0\r\n\r\n")
        if not first.ok:
            return None
        replies.append(first.data)
    hosted = yield from tryssl(view, f"GET / HTTP/1.1\r\nHost: {view.target}\r\n\r\n".encode())
    if hosted.ok:
        replies.append(hosted.data)
    service, changed = view.service, False
    headers: set[str] = set()
    for reply in replies:
        if not _STATUS.match(reply):
            continue
        found = _SERVER.search(reply)
        header = found.group(1).decode("latin-1") if found else None
        if service.product is None and service.conf <= 3:
            service, changed = replace(service, product=header), True
        elif service.product == header:
            header = None
        if header is not None:
            headers.add(header)
    shown = sorted("<empty>" if h == "" else h for h in headers)
    output = ("\n  " if len(shown) > 1 else "") + "\n  ".join(shown) if shown else None
    if not changed and output is None:
        return None
    return Outcome(output=output, version=service if changed else None,
                   probestate=ProbeState.SOFTMATCHED)


PLUGIN = Plugin("http-server-header", rule, run, summary="the HTTP Server header",
                dependencies=("https-redirect",))
