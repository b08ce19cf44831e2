"""``skypev2-version``: Skype v2 answers ``GET /`` with a bare 404 and other requests with
random bytes.

Mirrors Nmap 7.93's script: on an open TCP port that is 80, 443 or unnamed (``unknown``) with a
confidence below 10, it takes the replies to ``GetRequest`` and to ``HTTPOptions`` or
``RTSPRequest`` from the service fingerprint (or asks itself); a bare
``HTTP/1.0 404 Not Found`` and a reply with three non-printable bytes make the port ``skype2``,
product ``Skype``. Nothing is printed.
"""

from __future__ import annotations

import re
from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, exchange
from sigscan.plugins.lib.comm import CONNECT_TIMEOUT, REQUEST_TIMEOUT
from sigscan.plugins.lib.fingerprint import response

NOT_FOUND = b"HTTP/1.0 404 Not Found\r\n\r\n"
_BINARY = re.compile(rb"[^\s!-~].*[^\s!-~].*[^\s!-~]", re.DOTALL)  # Lua's [^%s!-~], three times
TIMEOUT = CONNECT_TIMEOUT + REQUEST_TIMEOUT


def rule(view: PortView) -> bool:
    return ((view.port in (80, 443) or view.name in (None, "", "unknown"))
            and view.proto == "tcp" and view.state.value == "open" and view.service.conf < 10
            and not view.excluded and view.intensity >= 7)


def run(view: PortView) -> Exchange:
    fp = view.service.servicefp
    result = response(fp, "GetRequest")
    rand = None
    if fp:
        rand = response(fp, "HTTPOptions") or response(fp, "RTSPRequest")
    if result is None:
        reply = yield from exchange(b"GET / HTTP/1.0\r\n\r\n", TIMEOUT, at_least=26)
        if not reply.ok:
            return None
        result = reply.data
    if result != NOT_FOUND:
        return None
    if rand is None:
        reply = yield from exchange(b"random data\r\n\r\n", TIMEOUT, at_least=15)
        if not reply.ok:
            return None
        rand = reply.data
    if not _BINARY.search(rand):
        return None
    return Outcome(version=replace(view.service, name="skype2", product="Skype"))


PLUGIN = Plugin("skypev2-version", rule, run, summary="Skype v2's 404 and random replies")
