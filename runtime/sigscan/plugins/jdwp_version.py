"""``jdwp-version``: the Java Debug Wire Protocol, and the JVM behind it.

Mirrors Nmap 7.93's script: a JDWP agent closes a connection that sends no handshake within
a few seconds, so the probe phase calls its port ``tcpwrapped``. On such a port (open TCP, not
excluded, intensity ≥ 7) it sends the JDWP handshake and the command
VirtualMachine.Version (command set 1, command 1), waits for 18 bytes, and reads the reply:
the VM's description (its first line becomes the product) and its version. A reply that only
has the reply flag still makes the port ``jdwp`` (product ``unknown``). No output.
"""

from __future__ import annotations

import re
from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, ProbeState, exchange
from sigscan.plugins.lib.comm import CONNECT_TIMEOUT, REQUEST_TIMEOUT

HANDSHAKE = b"JDWP-Handshake"
# a command packet: length 11, id 1, flags 0, command set 1 (VirtualMachine), command 1 (Version)
VERSION_COMMAND = b"\x00\x00\x00\x0b\x00\x00\x00\x01\x00\x01\x01"
AT_LEAST = 18  # the 14-byte handshake reply and a little more
_REPLY = re.compile(
    rb"^JDWP-Handshake\x00\x00..\x00\x00\x00\x01\x80\x00\x00\x00\x00..([^\x00\n]*)\n([^\x00]*)"
    rb"\x00\x00..\x00\x00..\x00\x00..([0-9._]+)\x00\x00..([^\x00]*)", re.DOTALL)
_ANY_REPLY = re.compile(rb"^JDWP-Handshake\x00.*\x80", re.DOTALL)


def rule(view: PortView) -> bool:
    return (view.name == "tcpwrapped" and view.proto == "tcp" and view.state.value == "open"
            and not view.excluded and view.intensity >= 7)


def run(view: PortView) -> Exchange:
    reply = yield from exchange(HANDSHAKE + VERSION_COMMAND, REQUEST_TIMEOUT + CONNECT_TIMEOUT,
                                at_least=AT_LEAST)
    if not reply.ok:
        return None
    found = _REPLY.search(reply.data)
    if found is None:
        if _ANY_REPLY.search(reply.data) is None:
            return None
        service = replace(view.service, name="jdwp", product="unknown")
    else:
        service = replace(view.service, name="jdwp", product=found.group(1).decode("latin-1"),
                          version=found.group(3).decode("latin-1"))
    return Outcome(version=service, probestate=ProbeState.HARDMATCHED)


PLUGIN = Plugin("jdwp-version", rule, run, timeout=30.0,
                summary="the JVM behind a Java Debug Wire Protocol agent")
