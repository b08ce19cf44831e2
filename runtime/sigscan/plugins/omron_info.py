"""``omron-info``: an OMRON PLC's model, version and memory layout over FINS.

Mirrors Nmap 7.93's script: on 9600 (TCP or UDP) or a port called ``fins`` it sends the FINS
Controller Data Read command — over UDP as it is; over TCP after asking for a FINS/TCP node
address, to the node named by byte 24 of that answer — and, when the reply's first byte is a
FINS response's (``0xC0``, ``0xC1``, or the ``F`` of a FINS/TCP frame), makes the port
``fins``, hard-matched and ``open``, then prints the end code and, on a normal completion, the
controller's fields. A reply too short for what it reads makes the script fail after the port
was set (``ERROR: Script execution failed``). Each receive waits 30 s (the socket's default).
The codec is in :mod:`sigscan.plugins.lib.fins`.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace

from sigscan.engine.plugin import Plugin, PortView, Step, close, connect, receive, send
from sigscan.engine.results import PortState
from sigscan.plugins import rules
from sigscan.plugins.lib import fins
from sigscan.plugins.lib.lua import ScriptError, byte, format_table, unpack_uint
from sigscan.plugins.lib.nsock import SOCKET_TIMEOUT, failure, received
from sigscan.plugins.lib.script import Script, nse_script

rule = rules.version_port_or_service(9600, "fins", ("tcp", "udp"))


def ask(conn: int, query: bytes) -> Generator[Step, object, bytes]:
    """Send, receive once: the reply, or NSE's error word when none came."""
    yield from send(conn, query)
    reply = yield from receive(conn, SOCKET_TIMEOUT)
    data = received(reply)
    return data if data is not None else failure(reply).encode()


def over_tcp(conn: int) -> Generator[Step, object, bytes]:
    """The script's ``send_tcp``."""
    answer = yield from ask(conn, fins.TCP_NODE_ADDRESS)
    if byte(answer, 1) != fins.MAGIC[0]:
        return b"ERROR"
    node = byte(answer, 24)
    if node is None:
        raise ScriptError("bad argument #2 to 'format' (number expected, got nil)")
    return (yield from ask(conn, fins.tcp_read(node)))


def body(view: PortView, script: Script) -> Generator[Step, object, str | None]:
    opened = yield from connect()
    if opened.conn is None:
        return None
    tcp = view.proto == "tcp"
    response = yield from (over_tcp(opened.conn) if tcp else ask(opened.conn, fins.UDP_READ))
    yield from close(opened.conn)
    first, _ = unpack_uint(response, 1, 1, big=True)
    if first not in fins.RESPONSE_STARTS:
        return None
    script.set_port_version(replace(script.port_version, name="fins"))
    script.set_port_state(PortState.OPEN)
    return format_table(fins.controller_data(response, 16 if tcp else 0))


PLUGIN = Plugin("omron-info", rule, nse_script(body), timeout=70.0,
                summary="an OMRON PLC's model and version over FINS")
