"""``s7-info``: a Siemens S7 PLC's module, hardware, firmware version and identity.

Mirrors Nmap 7.93's script: on 102/tcp or a port called ``iso-tsap`` it opens an ISO-on-TCP
connection (COTP connection request to TSAP 0x0102, or on a second connection to 0x0200 when
that is not confirmed), sets up an S7 communication, and reads two SZL lists: 0x0011 (module
identification: order number, hardware, firmware version) and 0x001C (component
identification: system name, module name, plant, copyright, serial number). Fields are read at
the script's fixed offsets; empty ones are dropped as the script drops them (its loop skips the
entry after each one it removes). When anything was read the port becomes ``iso-tsap``,
``Siemens S7 PLC``, device type ``specialized``, hard-matched and ``open``.

As in the script, a reply that fails a check ends the run quietly, while a first SZL reply that
is short or not S7, or a second one that is not S7, makes the script fail (``ERROR: Script
execution failed``) — the script indexes a table it never got. The codec is in
:mod:`sigscan.plugins.lib.s7`.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace

from sigscan.engine.plugin import Plugin, PortView, Step, close, connect, receive, send
from sigscan.engine.results import PortState
from sigscan.plugins import rules
from sigscan.plugins.lib import s7
from sigscan.plugins.lib.lua import ScriptError, byte, format_table
from sigscan.plugins.lib.nsock import SOCKET_TIMEOUT, received
from sigscan.plugins.lib.script import Script, nse_script

rule = rules.version_port_or_service(102, "iso-tsap")


def exchange(conn: int, query: bytes, at_least: int) -> Generator[Step, object, bytes]:
    """The script's ``send_receive``: the reply, or its error text when none came."""
    yield from send(conn, query)
    reply = yield from receive(conn, SOCKET_TIMEOUT, at_least)
    return received(reply) or b"Error Reading S7COMM"


def open_session(view: PortView) -> Generator[Step, object, int | None]:
    """A connection whose COTP connection request was confirmed, or None."""
    for request in (s7.COTP_TSAP_0102, s7.COTP_TSAP_0200):
        opened = yield from connect()
        if opened.conn is None:
            return None
        confirm = yield from exchange(opened.conn, request, 6)
        if byte(confirm, 6) == s7.COTP_CC:
            return opened.conn
        yield from close(opened.conn)
    return None


def body(view: PortView, script: Script) -> Generator[Step, object, str | None]:
    conn = yield from open_session(view)
    if conn is None:
        return None
    for query in (s7.SETUP_COMMUNICATION, s7.READ_SZL_0011):
        response = yield from exchange(conn, query, 8)
        if byte(response, 8) != s7.PROTOCOL_ID:
            return None  # the script returns without closing; its socket is collected
    first = yield from exchange(conn, s7.READ_SZL_0011, 125)
    module = s7.parse_module_identification(first)
    second = yield from exchange(conn, s7.READ_SZL_001C, 180)
    yield from close(conn)
    if module is None or byte(second, 8) != s7.PROTOCOL_ID:
        raise ScriptError("attempt to index a nil value (local 'output')")
    output = s7.drop_empty({**module, **s7.parse_component_identification(second)})
    if output:
        current = script.port_version
        script.set_port_version(replace(current, name="iso-tsap", product="Siemens S7 PLC",
                                        devicetype="specialized"))
        script.set_port_state(PortState.OPEN)
    return format_table(output)


PLUGIN = Plugin("s7-info", rule, nse_script(body), timeout=100.0,
                summary="a Siemens S7 PLC's module, firmware and identity")
