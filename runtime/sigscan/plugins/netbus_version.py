"""``netbus-version``: tells the NetBuster honeypot from a real NetBus server.

Mirrors Nmap 7.93's script: on a port the probe phase calls ``netbus``, it reads the greeting
up to ``\\r``; if it begins ``NetBus`` it sends the empty-password login ``Password;0;\\r``. A
real NetBus server answers it and nothing changes; NetBuster, a honeypot that mimes NetBus,
says nothing, and the port becomes ``NetBuster`` (``honeypot``, no version), hard-matched.
The script prints nothing. Each read waits 5 s, as the script's socket timeout.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace

from sigscan.engine.plugin import Plugin, PortView, Step, close, connect, send
from sigscan.plugins import rules
from sigscan.plugins.lib.nsock import LineBuffer
from sigscan.plugins.lib.script import Script, nse_script

TIMEOUT = 5.0  # socket:set_timeout(5000)

rule = rules.version_port_or_service((), "netbus")


def body(view: PortView, script: Script) -> Generator[Step, object, str | None]:
    opened = yield from connect()
    if opened.conn is None:
        return None
    lines = LineBuffer(opened.conn, b"\r", TIMEOUT)
    greeting = yield from lines.next()
    if greeting is None or not greeting.startswith(b"NetBus"):
        yield from close(opened.conn)
        return None
    yield from send(opened.conn, b"Password;0;\r")
    answer = yield from lines.next()
    yield from close(opened.conn)
    if answer is not None:
        return None
    script.set_port_version(replace(script.port_version, name="netbus", product="NetBuster",
                                    extrainfo="honeypot", version=None))
    return None


PLUGIN = Plugin("netbus-version", rule, nse_script(body), timeout=4 * TIMEOUT,
                summary="the NetBuster honeypot among NetBus servers")
