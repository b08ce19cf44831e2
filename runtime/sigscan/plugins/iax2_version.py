"""``iax2-version``: an IAX2 (RFC 5456) peer that answers a POKE.

Mirrors Nmap 7.93's script: on 4569/udp (intensity ≥ 7, not excluded) it sends a POKE full
frame (RFC 5456 §6.9.1: source call 0 with the F bit, destination call 0, timestamp 0,
sequence numbers 0, frame type IAX 0x06, subclass POKE 0x1E) and waits 10 s for one datagram.
A 12-byte reply whose frame type is IAX and whose subclass is PONG (0x03) or ACK (0x04) makes
the port ``open`` and ``iax2``, hard-matched. Prints nothing.
"""

from __future__ import annotations

from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, ProbeState, exchange
from sigscan.engine.results import PortState
from sigscan.plugins import rules

TIMEOUT = 10.0  # the script's comm.exchange timeout, seconds
POKE = b"\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00\x06\x1e"
IAX_FRAME, PONG, ACK = 0x06, 0x03, 0x04

rule = rules.version_port_or_service(4569, (), "udp")


def run(view: PortView) -> Exchange:
    reply = yield from exchange(POKE, TIMEOUT)
    data = reply.data if reply.ok else b""
    if len(data) != 12 or data[10] != IAX_FRAME or data[11] not in (PONG, ACK):
        return None
    return Outcome(version=replace(view.service, name="iax2"), probestate=ProbeState.HARDMATCHED,
                   state=PortState.OPEN)


PLUGIN = Plugin("iax2-version", rule, run, summary="an IAX2 peer answering a POKE")
