"""The Ubiquiti discovery protocol (UDP 10001), as ``ubiquiti-discovery`` reads it.

A request is 4 bytes: protocol version, command, a zero length (v1 ``01 00``, v2 ``02 08``).
A reply repeats the version and a command (v1: 0; v2: 6, 9 or 11), gives the length of the rest
(16-bit big-endian, which must be the whole rest), then TLVs: a type byte, a 16-bit big-endian
length, the value. :func:`parse` builds the script's table from them.
"""

from __future__ import annotations

import re
import struct

from sigscan.plugins.lib.ipops import str_to_ip
from sigscan.plugins.lib.lua import ScriptError, Value, byte, text, tohex, unpack_uint

PROBE_V1 = struct.pack(">BBH", 1, 0, 0)
PROBE_V2 = struct.pack(">BBH", 2, 8, 0)
V2_COMMANDS = frozenset({0x06, 0x09, 0x0B})
_VERSION = re.compile(rb"\.(v[0-9]+\.[0-9]+\.[0-9]+)")
_TEXT_FIELDS = {0x0B: "hostname", 0x0C: "product", 0x0D: "essid", 0x14: "model", 0x15: "model",
                0x16: "version"}


def uptime(seconds: int) -> str:
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    return f"{days} days {hour:02d}:{minute:02d}:{second:02d}"


class _Reader:
    """The script's table as it fills it: an output table, then the addresses seen."""

    def __init__(self, protocol: str) -> None:
        self.info: dict[str, Value] = {"protocol": protocol}
        self.macs: dict[str, None] = {}
        self.interfaces: dict[str, dict[str, None]] = {}

    def tlv(self, kind: int, value: bytes) -> None:
        if kind in (0x01, 0x02):
            mac = tohex(value[:6])
            self.macs[mac] = None
            if kind == 0x02:
                address = str_to_ip(value[6:])
                if address is None:
                    raise ScriptError("table index is nil")
                self.interfaces.setdefault(mac, {})[address] = None
        elif kind == 0x03:
            self.info["firmware"] = text(value)
            found = _VERSION.search(value)
            if found:
                self.info["version"] = text(found.group(1))
        elif kind == 0x0A and len(value) == 4:
            seconds = int.from_bytes(value, "big")
            self.info["uptime_seconds"] = seconds
            self.info["uptime"] = uptime(seconds)
        elif kind == 0x0F and len(value) == 4:
            self.info["mgmt_port"] = int.from_bytes(value, "big") & 0xFFFF
        elif kind == 0x17 and len(value) in (1, 4):
            status = {1: "default/unmanaged", 0: "managed/adopted"}.get(
                int.from_bytes(value, "little"))
            if status is not None:
                self.info["config_status"] = status
        elif kind in _TEXT_FIELDS:
            self.info[_TEXT_FIELDS[kind]] = text(value)

    def table(self) -> dict[str, Value]:
        if self.interfaces:
            self.info["interface_to_ip"] = {mac: list(ips) for mac, ips in self.interfaces.items()}
        if self.macs:
            self.info["mac_addresses"] = list(self.macs)
        return self.info


def parse(response: bytes) -> dict[str, Value] | None:
    """The script's ``parse_discovery_response``: None when the reply is not one. Raises
    ScriptError where the script fails (an address TLV whose address is neither 4 nor 16
    bytes)."""
    if len(response) < 4:
        return None
    version, command = response[0], response[1]
    if version == 1 and command == 0:
        reader = _Reader("v1")
    elif version == 2 and command in V2_COMMANDS:
        reader = _Reader("v2")
    else:
        return None
    length, _ = unpack_uint(response, 3, 2, big=True)
    if len(response) != length + 4:
        return None
    data = response[4:]
    pos = 1
    while pos <= len(data) - 2:
        kind = byte(data, pos)
        size, pos = unpack_uint(data, pos + 1, 2, big=True)
        if kind is None or size > len(data) - pos + 1:
            return None
        reader.tlv(kind, data[pos - 1:pos - 1 + size])
        pos += size
    return reader.table()
