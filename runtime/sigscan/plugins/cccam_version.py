"""``cccam-version``: CCcam card-sharing servers greet with 16 random-looking bytes.

Mirrors Nmap 7.93's script: on the CCcam ports (10000, 10001, 12000, 12001, 16000, 16001) or a
port named ``cccam``, it connects twice and reads the greeting; when both are 16 bytes, differ,
and look random (:func:`~sigscan.plugins.lib.formulas.looks_random`), the port becomes
``cccam``, version ``CCcam DVR card sharing system``, hard matched. Nothing is printed.
"""

from __future__ import annotations

from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, close, connect, receive
from sigscan.plugins import rules
from sigscan.plugins.lib.formulas import looks_random

TRIALS = 2
SOCKET_TIMEOUT = 30.0  # an NSE socket's default timeout, seconds

rule = rules.version_port_or_service((10000, 10001, 12000, 12001, 16000, 16001), "cccam")


def run(view: PortView) -> Exchange:
    seen: set[bytes] = set()
    for _ in range(TRIALS):
        opened = yield from connect()
        if opened.conn is None:
            return None
        reply = yield from receive(opened.conn, SOCKET_TIMEOUT)
        yield from close(opened.conn)
        data = reply.data
        if not reply.ok or data in seen or len(data) != 16 or not looks_random(data):
            return None
        seen.add(data)
    return Outcome(version=replace(view.service, name="cccam",
                                   version="CCcam DVR card sharing system"))


PLUGIN = Plugin("cccam-version", rule, run, summary="CCcam's random 16-byte greeting")
