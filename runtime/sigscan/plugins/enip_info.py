"""``enip-info``: an EtherNet/IP device's identity (CIP Identity object, via ListIdentity).

Mirrors Nmap 7.93's script: on 44818 (TCP or UDP) or a port called ``EtherNet-IP-2`` or
``EtherNet/IP-2`` it sends the encapsulation command ListIdentity (0x63) and reads the first
item of the reply, when the reply is a ListIdentity answer of at least 27 bytes whose item is a
CIP Identity (type 0x0C): the device's address from its socket address, vendor, device type,
product code, revision, status, serial number, product name and state, each at the offset the
script reads it. The port then becomes ``EtherNet-IP-2``, hard-matched and ``open``. A reply too
short for what it reads makes the script fail (``ERROR: Script execution failed``) and changes
nothing.

Vendor and device type names come from the tables in the installed ``enip-info.nse``
(:mod:`sigscan.plugins.lib.nmap_tables`); without an installed Nmap every number prints as the
script prints one it does not know. The wait is ``stdnse.get_timeout``'s for a host that
answered the port scan quickly (1 s).
"""

from __future__ import annotations

import struct
from collections.abc import Generator
from dataclasses import replace

from sigscan.engine.plugin import Plugin, PortView, Step, close, connect, receive, send
from sigscan.engine.results import PortState
from sigscan.plugins import rules
from sigscan.plugins.lib import nmap_tables
from sigscan.plugins.lib.ipops import fromdword
from sigscan.plugins.lib.lua import Value, byte, c_hex, format_table, text, unpack_s1, unpack_uint
from sigscan.plugins.lib.nsock import GET_TIMEOUT, received
from sigscan.plugins.lib.script import Script, nse_script

LIST_IDENTITY = 0x63
CIP_IDENTITY = 0x0C
SENDER_CONTEXT = bytes.fromhex("00000000c1debed1")
# the encapsulation header: command, length, session handle, status, sender context, options
QUERY = struct.pack("<HHII", LIST_IDENTITY, 0, 0, 0) + SENDER_CONTEXT + struct.pack("<I", 0)

rule = rules.version_port_or_service(44818, ("EtherNet-IP-2", "EtherNet/IP-2"), ("tcp", "udp"))


def identity(response: bytes) -> dict[str, Value] | None:
    """The script's table for a reply, None when it is no ListIdentity answer."""
    if byte(response, 1) != LIST_IDENTITY or len(response) < 27 or byte(response, 27) != CIP_IDENTITY:
        return None
    address, _ = unpack_uint(response, 37, 4, big=True)
    vendor, pos = unpack_uint(response, 49, 2, big=False)
    device, pos = unpack_uint(response, pos, 2, big=False)
    product_code, pos = unpack_uint(response, pos, 2, big=False)
    major, pos = unpack_uint(response, pos, 1, big=False)
    minor, pos = unpack_uint(response, pos, 1, big=False)
    status, pos = unpack_uint(response, pos, 2, big=False)
    serial, pos = unpack_uint(response, pos, 4, big=False)
    name, pos = unpack_s1(response, pos)
    state, pos = unpack_uint(response, pos, 1, big=True)
    vendors = nmap_tables.table("enip-info", "vendor_id")
    devices = nmap_tables.table("enip-info", "device_type")
    return {"type": f"{devices.get(device, 'Unknown Device Type')} ({device})",
            "vendor": f"{vendors.get(vendor, 'Unknown Vendor Number')} ({vendor})",
            "productName": text(name),
            "serialNumber": c_hex(serial, 8),
            "productCode": product_code,
            "revision": f"{major}.{minor}",
            "status": c_hex(status, 4),
            "state": c_hex(state, 2),
            "deviceIp": fromdword(address)}


def body(view: PortView, script: Script) -> Generator[Step, object, str | None]:
    opened = yield from connect()
    if opened.conn is None:
        return None
    yield from send(opened.conn, QUERY)
    reply = yield from receive(opened.conn, GET_TIMEOUT)
    yield from close(opened.conn)
    response = received(reply)
    if response is None:
        return None
    found = identity(response)
    if found is None:
        return None
    script.set_port_version(replace(script.port_version, name="EtherNet-IP-2"))
    script.set_port_state(PortState.OPEN)
    return format_table(found)


PLUGIN = Plugin("enip-info", rule, nse_script(body), timeout=15.0,
                summary="an EtherNet/IP device's vendor, product and serial number")
