"""``murmur-version``: a Mumble server's (Murmur's) version and load, from its UDP ping.

Mirrors Nmap 7.93's script: on 64738 or a port named ``murmur``, TCP or UDP (intensity ≥ 7,
not excluded), it sends the ping Mumble clients send to the UDP port of the same number (4
zero bytes, then 8 bytes of identifier, here the script's ``abcdefgh``) and waits 3 s for a
reply. A reply makes the UDP port ``open`` (here: when the plugin runs on it). A 24-byte reply
that begins with a NUL and echoes the identifier at bytes 4-11 names the port ``murmur``,
hard-matched, product ``Murmur``, version ``a.b.c`` from bytes 1-3, extrainfo ``control port``
(TCP) or ``voice port`` (UDP) followed by ``; users: N; max. users: M; bandwidth: B b/s``
from the three 32-bit big-endian numbers that end it. Prints nothing.

Nmap runs the exchange once per port number and shares the answer between the TCP and UDP
runs (a registry under a mutex); here each port's run sends its own ping. Nmap's TCP run also
sets the UDP port ``open`` when that port is in the scan; a plugin changes only its own port.
"""

from __future__ import annotations

from dataclasses import replace

from sigscan.engine.plugin import (
    Exchange,
    Outcome,
    Plugin,
    PortView,
    ProbeState,
    ReplyEnd,
    close,
    connect,
    receive,
    send,
)
from sigscan.engine.results import PortState
from sigscan.plugins import rules

TIMEOUT = 3.0  # the script's comm.exchange timeout, seconds
IDENT = b"abcdefgh"
PING = b"\0\0\0\0" + IDENT

rule = rules.version_port_or_service(64738, "murmur", ("tcp", "udp"))


def run(view: PortView) -> Exchange:
    opened = yield from connect(udp=True)
    if opened.conn is None:
        return None
    yield from send(opened.conn, PING)
    reply = yield from receive(opened.conn, TIMEOUT)
    yield from close(opened.conn)
    if reply.end is not ReplyEnd.DATA:
        return None
    state = PortState.OPEN if view.proto == "udp" else None
    data = reply.data
    if len(data) != 24 or data[0] != 0 or data[4:12] != IDENT:
        return Outcome(state=state)
    users, most, bandwidth = (int.from_bytes(data[i:i + 4], "big") for i in (12, 16, 20))
    role = "control port" if view.proto == "tcp" else "voice port"
    service = replace(view.service, name="murmur", product="Murmur",
                      version=f"{data[1]}.{data[2]}.{data[3]}",
                      extrainfo=f"{role}; users: {users}; max. users: {most}; bandwidth: {bandwidth} b/s")
    return Outcome(version=service, probestate=ProbeState.HARDMATCHED, state=state)


PLUGIN = Plugin("murmur-version", rule, run, summary="Murmur's version and load from its UDP ping")
