"""``ubiquiti-discovery``: what a Ubiquiti device's discovery service tells about it.

Mirrors Nmap 7.93's script: on 10001/udp or a port called ``ubiquiti-discovery`` (open or
open|filtered, at any intensity) it sends the v1 discovery request, and the v2 one when v1 got
no answer in 5 s. Any answer makes the port ``open``. An answer that parses
(:mod:`sigscan.plugins.lib.ubiquiti`) is printed, and the port becomes ``ubiquiti-discovery``,
``Ubiquiti Discovery Service``, OS ``Linux``, hard-matched; when the answer names a software
version the extra info becomes ``vN protocol[, PRODUCT or MODEL] software ver. VERSION``.

One difference from Nmap: the script lists interfaces and MAC addresses in the order of a Lua
hash table, which differs from run to run; here they come in the order the device sent them.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace

from sigscan.engine.plugin import Plugin, PortView, Step, close, connect, receive, send
from sigscan.engine.results import PortState
from sigscan.plugins import rules
from sigscan.plugins.lib import ubiquiti
from sigscan.plugins.lib.lua import format_table
from sigscan.plugins.lib.nsock import received
from sigscan.plugins.lib.script import Script, TryExit, nse_script

TIMEOUT = 5.0  # socket:set_timeout(5000)

rule = rules.port_or_service(10001, "ubiquiti-discovery", "udp")


def probe(query: bytes) -> Generator[Step, object, bytes | None]:
    opened = yield from connect()
    if opened.conn is None:
        raise TryExit  # try(socket:connect(...))
    yield from send(opened.conn, query)
    reply = yield from receive(opened.conn, TIMEOUT, 4)
    yield from close(opened.conn)
    return received(reply)


def body(view: PortView, script: Script) -> Generator[Step, object, str | None]:
    response = yield from probe(ubiquiti.PROBE_V1)
    if response is None:
        response = yield from probe(ubiquiti.PROBE_V2)
        if response is None:
            return None
    script.set_port_state(PortState.OPEN)
    info = ubiquiti.parse(response)
    if info is None:
        return None
    current = script.port_version
    extrainfo = current.extrainfo
    if "version" in info:
        detail = info.get("product", info.get("model"))
        extrainfo = (f"{info['protocol']} protocol" + ("" if detail is None else f", {detail}")
                     + f" software ver. {info['version']}")
    script.set_port_version(replace(current, name="ubiquiti-discovery",
                                    product="Ubiquiti Discovery Service", extrainfo=extrainfo,
                                    ostype="Linux"))
    return format_table(info)


PLUGIN = Plugin("ubiquiti-discovery", rule, nse_script(body), timeout=15.0,
                summary="a Ubiquiti device's model, firmware and addresses")
