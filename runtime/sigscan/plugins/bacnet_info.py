"""``bacnet-info``: a BACnet device's vendor, firmware, names and location.

Mirrors Nmap 7.93's script: on 47808 (UDP or TCP) or a port called ``bacnet`` it reads the
device object's identifier with a confirmed ReadProperty (:mod:`sigscan.plugins.lib.bacnet`).
An answer that is BACnet makes the port ``bacnet``, hard-matched and ``open``; an Error PDU is
printed as the script prints it (``BACNet ADPU Type: Error (5)`` and the packet in hex);
anything else leads to eight more reads on the same socket — vendor identifier, vendor name,
firmware and application software revisions, object and model names, description, location —
each printed when its answer is BACnet and no error. Each receive waits 30 s (the socket's
default); a reply too short for what the script reads makes it fail after the port was set.

Vendor names come from the table in the installed ``bacnet-info.nse``
(:mod:`sigscan.plugins.lib.nmap_tables`). The script also binds its socket to local port
47808 when it can, for devices that answer to that port only; sigscan's sockets take an
ephemeral port, so such a device stays silent here.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace

from sigscan.engine.plugin import Plugin, PortView, Step, close, connect, receive, send
from sigscan.engine.results import PortState
from sigscan.plugins import rules
from sigscan.plugins.lib import bacnet, nmap_tables
from sigscan.plugins.lib.lua import Value, format_table, text, tohex
from sigscan.plugins.lib.nsock import SOCKET_TIMEOUT, received
from sigscan.plugins.lib.script import Script, nse_script

rule = rules.version_port_or_service(47808, "bacnet", ("udp", "tcp"))


def query(conn: int, prop: int) -> Generator[Step, object, bytes | None]:
    yield from send(conn, bacnet.read_property(prop))
    reply = yield from receive(conn, SOCKET_TIMEOUT)
    return received(reply)


def vendor(conn: int) -> Generator[Step, object, str | None]:
    """The script's ``vendornum_query``: ``NAME (NUMBER)``."""
    response = yield from query(conn, bacnet.VENDOR_IDENTIFIER)
    if response is None or not bacnet.is_bacnet(response) or bacnet.is_error(response):
        return None
    number = bacnet.vendor_number(response)
    if number is None:
        return None
    name = nmap_tables.table("bacnet-info", "vendor_id").get(number, "Unknown Vendor Number")
    return f"{name} ({number})"


def standard(conn: int, prop: int) -> Generator[Step, object, str | None]:
    """The script's ``standard_query``: a character string property."""
    response = yield from query(conn, prop)
    if response is None or not bacnet.is_bacnet(response) or bacnet.is_error(response):
        return None
    return text(bacnet.character_string(response))


def body(view: PortView, script: Script) -> Generator[Step, object, str | None]:
    opened = yield from connect()
    if opened.conn is None:
        return None
    conn = opened.conn
    first = yield from query(conn, bacnet.OBJECT_IDENTIFIER)
    if first is None or not bacnet.is_bacnet(first):
        yield from close(conn)
        return None
    script.set_port_version(replace(script.port_version, name="bacnet"))
    script.set_port_state(PortState.OPEN)
    if bacnet.is_error(first):
        yield from close(conn)
        return "\nBACNet ADPU Type: Error (5) \n\t" + tohex(first)
    found: dict[str, Value | None] = {}
    found["Vendor ID"] = yield from vendor(conn)
    found["Vendor Name"] = yield from standard(conn, bacnet.VENDOR_NAME)
    found["Object-identifier"] = bacnet.instance(first)
    for name, prop in bacnet.PROPERTIES:
        found[name] = yield from standard(conn, prop)
    yield from close(conn)
    return format_table({key: value for key, value in found.items() if value is not None})


PLUGIN = Plugin("bacnet-info", rule, nse_script(body), timeout=280.0,
                summary="a BACnet device's vendor, firmware, names and location")
