"""``https-redirect``: an HTTP port that redirects to HTTPS on itself speaks TLS.

Mirrors Nmap 7.93's script: on an HTTP port (``shortport.http``, intensity ≥ 7) not already
known to be TLS, it reads the replies to ``GetRequest``, ``HTTPOptions``,
``FourOhFourRequest`` and ``NULL`` out of the service fingerprint, or, with none there, sends
``GET / HTTP/1.0`` itself (``comm.tryssl``: when that only works over TLS, the port is TLS).
A 3xx reply whose ``Location`` is ``https://`` on this port (443 when none is named) of this
host (its address, the name given for it, or no host; a host Nmap's IDNA check refuses counts
as none when the target was given as an address, as it does in Nmap) marks the port TLS
(``softmatched``: the name and fields stay, the confidence becomes 10). Nothing is printed.
"""

from __future__ import annotations

import re
from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, ProbeState
from sigscan.plugins import rules
from sigscan.plugins.lib import url
from sigscan.plugins.lib.comm import opencon, ssl_first
from sigscan.plugins.lib.fingerprint import response

FP_PROBES = ("GetRequest", "HTTPOptions", "FourOhFourRequest", "NULL")
REQUEST = b"GET / HTTP/1.0\r\n\r\n"
_REDIRECT = re.compile(rb"HTTP/1.[01] 3[0-9][0-9]", re.DOTALL)
_LOCATION = re.compile(rb"\n[Ll][Oo][Cc][Aa][Tt][Ii][Oo][Nn]:[ \t]*(.*?)\r?\n", re.DOTALL)
NO_PTR_NAME = ""  # Nmap's host.name without a reverse lookup (sigscan makes none)


def rule(view: PortView) -> bool:
    return view.service.tunnel != "ssl" and rules.http(view) and view.intensity >= 7


def to_itself(view: PortView, reply: bytes) -> bool:
    """Whether ``reply`` redirects to HTTPS on this very port."""
    if not _REDIRECT.match(reply):
        return False
    location = _LOCATION.search(reply)
    if location is None:
        return False
    target = url.parse(location.group(1).decode("latin-1"))
    if target.scheme != "https" or (target.port or 443) != view.port:
        return False
    ascii_host = target.ascii_host
    return (ascii_host in (view.host, NO_PTR_NAME) or ascii_host == view.hostname
            or target.host is None)


def _tls(view: PortView) -> Outcome:
    return Outcome(version=replace(view.service, tunnel="ssl"), probestate=ProbeState.SOFTMATCHED)


def run(view: PortView) -> Exchange:
    fingerprint = view.service.servicefp
    replies = [r for r in (response(fingerprint, p) for p in FP_PROBES) if r is not None]
    if not replies:
        first = ssl_first(view)
        tls = first
        reply = yield from opencon(REQUEST, tls=first)
        if not reply.ok:
            tls = not first
            reply = yield from opencon(REQUEST, tls=tls)
            if not reply.ok:
                return None
        if tls:
            return _tls(view)
        replies = [reply.data]
    if any(to_itself(view, reply) for reply in replies):
        return _tls(view)
    return None


PLUGIN = Plugin("https-redirect", rule, run, timeout=60.0,
                summary="marks an HTTP port that redirects to HTTPS on itself as TLS")
