"""``rfc868-time``: the date and time an RFC 868 Time server gives.

Mirrors Nmap 7.93's script: on port 37 or a port named ``time`` (TCP or UDP), it connects,
sends nothing (UDP: an empty datagram, which RFC 868 asks a client to send), and reads at least
4 bytes (``comm.exchange``). A reply of 4 or 8 bytes is a count of seconds since 1900 in its
first 4 bytes (big-endian); the output is that time, UTC. On a port named ``time`` the version
is set hard matched with the extra info ``32 bits`` or ``64 bits`` (the reply's width). Any
other reply, or none, gives nothing.
"""

from __future__ import annotations

from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, close, connect, receive, send
from sigscan.plugins import rules
from sigscan.plugins.lib.nse_socket import COMM_TIMEOUT
from sigscan.plugins.lib.stdnse import format_timestamp

RFC868_EPOCH = 2208988800  # seconds from 1900-01-01 to 1970-01-01
WIDTHS = {4: "32 bits", 8: "64 bits"}

rule = rules.version_port_or_service(37, "time", ("tcp", "udp"))


def run(view: PortView) -> Exchange:
    opened = yield from connect()
    if opened.conn is None:
        return None
    yield from send(opened.conn, b"")
    reply = yield from receive(opened.conn, COMM_TIMEOUT, at_least=4)
    yield from close(opened.conn)
    width = WIDTHS.get(len(reply.data))
    if width is None:  # no reply, or an odd one
        return None
    stamp = int.from_bytes(reply.data[:4], "big") - RFC868_EPOCH
    version = replace(view.service, extrainfo=width) if view.name == "time" else None
    return Outcome(output=format_timestamp(stamp), version=version)


PLUGIN = Plugin("rfc868-time", rule, run, summary="the date and time of an RFC 868 Time server")
