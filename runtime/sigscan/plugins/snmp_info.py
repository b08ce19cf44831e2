"""``snmp-info``: what an SNMPv3 agent says of itself in its answer to an unauthenticated
request (its engine ID, boots and time), and ``<enterprise> SNMPv3 server`` in the product.

Mirrors Nmap 7.93's script: on UDP port 161 or a port named ``snmp``, it takes the reply to the
``SNMPv3GetRequest`` probe from the service fingerprint, or sends that probe itself
(``comm.exchange``). The reply must be SNMPv3 (version 3, the probe's msgID 0x4a69) with the
User-based Security Model; its security parameters give the authoritative engine ID (the
enterprise number in its first 4 bytes, then the format and the data), ``snmpEngineBoots`` and
``snmpEngineTime``. The product becomes ``<product>; <enterprise> SNMPv3 server`` (or
``<enterprise> SNMPv3 server`` when there was none, or it was that), hard matched.

Enterprise names come from the installed Nmap's data (:mod:`sigscan.plugins.lib.enterprises`).
A reply the Lua decoder would stop on with an error gives nothing, as the script gives nothing.
"""

from __future__ import annotations

import re
from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, exchange
from sigscan.plugins import rules
from sigscan.plugins.lib import enterprises
from sigscan.plugins.lib.ber import BerError, Oid, decode
from sigscan.plugins.lib.fingerprint import response
from sigscan.plugins.lib.nse_socket import COMM_TIMEOUT
from sigscan.plugins.lib.stdnse import format_table, format_time, lua_tostring, tohex

# The SNMPv3GetRequest probe of nmap-service-probes, as the script sends it: msgID 0x4a69,
# maxSize 65507, flags reportable, USM, empty security parameters and scoped PDU.
SNMPV3_GET_REQUEST = (
    b"\x30\x3a\x02\x01\x03\x30\x0f\x02\x02\x4a\x69\x02\x03\x00\xff\xe3\x04\x01\x04\x02\x01"
    b"\x03\x04\x10\x30\x0e\x04\x00\x02\x01\x00\x02\x01\x00\x04\x00\x04\x00\x04\x00\x30\x12"
    b"\x04\x00\x04\x00\xa0\x0c\x02\x02\x37\xf0\x02\x01\x00\x02\x01\x00\x30\x00")
MSG_ID = 0x4A69
USM = 3
ENTERPRISE_FLAG = 0x80000000

rule = rules.version_port_or_service(161, "snmp", "udp")


class _Stop(Exception):
    """Where the Lua script would stop with an error."""


def _lua_string(value: object) -> bytes:
    """A value Lua's string functions take: a string, or a number (as its decimal text)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).encode()
    raise _Stop(f"a string was expected, not {type(value).__name__}")


def _at(value: object, index: int) -> object:
    """Lua's ``value[index]`` (1-based) on a decoded value: None past the end or on a string;
    an error on anything else that is not a table."""
    if isinstance(value, Oid):  # a Lua table of its components
        value = list(value.parts)
    if isinstance(value, list):
        return value[index - 1] if 0 < index <= len(value) else None
    if isinstance(value, bytes):
        return None
    raise _Stop(f"attempt to index a {type(value).__name__}")


def _ipv6(data: bytes) -> str:
    """``ipOps.str_to_ip`` of 16 bytes, with its rough zero collapsing."""
    full = ":".join(f"{int.from_bytes(data[i:i + 2], 'big'):x}" for i in range(0, 16, 2))
    full = re.sub(r":[:0]+", "::", full, count=1)
    return re.sub(r"^0::", "::", full, count=1)


def _engine_id_data(kind: int, data: bytes) -> tuple[str, str | None]:
    """The engine ID's format and data (RFC 3411's snmpEngineID formats)."""
    if kind == 1:
        return "ipv4", ".".join(str(b) for b in data[:4]) if len(data[:4]) == 4 else None
    if kind == 2:
        return "ipv6", _ipv6(data[:16]) if len(data[:16]) == 16 else None
    if kind == 3:
        return "mac", tohex(data[:6])
    if kind == 4:
        return "text", data.decode("utf-8", "replace")
    if kind == 5:
        return "octets", tohex(data)
    return "unknown", tohex(data)


def _describe(engine_id: bytes) -> dict[str, object]:
    """The output's enterprise, engineIDFormat and engineIDData (None: left out)."""
    if len(engine_id) < 4:
        raise _Stop("an engine ID shorter than 4 bytes")
    enterprise = int.from_bytes(engine_id[:4], "big")
    if enterprise <= ENTERPRISE_FLAG:
        return {"enterprise": enterprises.name(enterprise) or enterprise,
                "engineIDFormat": "unknown", "engineIDData": tohex(engine_id[4:])}
    if len(engine_id) < 5:
        raise _Stop("no engine ID format")
    kind, data = _engine_id_data(engine_id[4], engine_id[5:])
    return {"enterprise": enterprises.name(enterprise - ENTERPRISE_FLAG),
            "engineIDFormat": kind, "engineIDData": data}


def _output_value(value: object) -> object:
    """A decoded value as the output shows it (an OID is a Lua table of its components)."""
    if isinstance(value, Oid):
        return list(value.parts)
    if isinstance(value, list):
        return [_output_value(item) for item in value]
    return value


def examine(reply: bytes) -> tuple[dict[str, object], object] | None:
    """The output table of an SNMPv3 reply and its enterprise, or None when the script would
    return nothing (not SNMPv3 with the probe's msgID and USM, or input it stops on)."""
    try:
        message, _ = decode(reply)
        if message is None or _at(message, 1) != 3:
            return None
        header = _at(message, 2)
        if header is None or header is False or _at(header, 1) != MSG_ID:
            return None
        if _at(header, 4) != USM:
            return None
        security, _ = decode(_lua_string(_at(message, 3)))
        output = _describe(_lua_string(_at(security, 1)))
        enterprise = output["enterprise"]
        output["snmpEngineBoots"] = _at(security, 2)
        engine_time = _at(security, 3)
        if not isinstance(engine_time, int) or isinstance(engine_time, bool):
            raise _Stop("snmpEngineTime is not a number")
        output["snmpEngineTime"] = format_time(engine_time)
    except (BerError, _Stop):
        return None
    return {k: _output_value(v) for k, v in output.items() if v is not None}, enterprise


def run(view: PortView) -> Exchange:
    reply = response(view.service.servicefp, "SNMPv3GetRequest")
    if reply is None:
        answer = yield from exchange(SNMPV3_GET_REQUEST, COMM_TIMEOUT)
        if not answer.ok:
            return None
        reply = answer.data
    found = examine(reply)
    if found is None:
        return None
    output, enterprise = found
    product = view.service.product
    if product is not None and product != "SNMPv3 server":
        product = f"{product}; {lua_tostring(enterprise)} SNMPv3 server"
    else:
        product = f"{lua_tostring(enterprise)} SNMPv3 server"
    return Outcome(output=format_table(output), version=replace(view.service, product=product))


PLUGIN = Plugin("snmp-info", rule, run, summary="the SNMPv3 engine ID, boots and time")
