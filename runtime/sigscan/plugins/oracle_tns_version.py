"""``oracle-tns-version``: the version an Oracle TNS listener encodes in ``VSNNUM``.

Mirrors Nmap 7.93's script: on 1521-1523 or an ``oracle-tns`` port that has no version yet, it
takes the reply to the ``oracle-tns`` probe from the service fingerprint (or sends that probe
itself), and decodes ``(VSNNUM=n)`` into the product ``Oracle TNS listener``, a dotted version
and a CPE; ``(ERR=n)`` becomes the extrainfo. Either sets the version (hardmatched). No output.
"""

from __future__ import annotations

import re
from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, ProbeState, exchange
from sigscan.plugins import rules
from sigscan.plugins.lib.comm import CONNECT_TIMEOUT, REQUEST_TIMEOUT
from sigscan.plugins.lib.fingerprint import response

# The probe of nmap-service-probes' oracle-tns: a TNS CONNECT whose data asks for the version.
PROBE = bytes.fromhex("005a0000010000000136012c000008007fff7f08000000010020003a000000000000000000000000"
                      "0000000034e6000000010000000000000000") + b"(CONNECT_DATA=(COMMAND=version))"
ERRORS = {"1189": "unauthorized", "1194": "insecure transport", "12154": "unknown identifier",
          "12504": "requires service name", "12505": "unknown sid", "12514": "unknown service name"}
_VSNNUM = re.compile(rb"\(VSNNUM=([0-9]+)\)")
_ERR = re.compile(rb"\(ERR=([0-9]+)\)")
SEARCH_FROM = 11  # the script searches from the 12th byte on (past the TNS header)

_by_port = rules.version_port_or_service((1521, 1522, 1523), "oracle-tns")


def rule(view: PortView) -> bool:
    return not view.service.version and _by_port(view)


def decode_vsnnum(number: int) -> str:
    """``VSNNUM`` as its five dotted parts: 185599488 is ``11.1.0.6.0``."""
    return (f"{number >> 24}.{number >> 20 & 0xF}.{number >> 12 & 0xFF}.{number >> 8 & 0xF}."
            f"{number & 0xFF}")


def run(view: PortView) -> Exchange:
    reply = response(view.service.servicefp, "oracle-tns")
    if reply is None:
        answer = yield from exchange(PROBE, REQUEST_TIMEOUT + CONNECT_TIMEOUT)
        if not answer.ok:
            return None
        reply = answer.data
    vsnnum = _VSNNUM.search(reply, SEARCH_FROM)
    errno = _ERR.search(reply, SEARCH_FROM)
    if vsnnum is None and errno is None:
        return None
    service = view.service
    if vsnnum is not None:
        number = int(vsnnum.group(1))
        if number >= 1 << 63:  # Lua reads it as a float and fails to shift it
            return Outcome(note=f"VSNNUM {number} is past a 64-bit integer")
        version = decode_vsnnum(number)
        service = replace(service, product="Oracle TNS listener", version=version,
                          cpe=(*service.cpe, f"cpe:/a:oracle:database_server:{version}"))
    if errno is not None:
        code = errno.group(1).decode()
        service = replace(service, extrainfo=ERRORS.get(code, f"error: {code}"))
    return Outcome(version=service, probestate=ProbeState.HARDMATCHED)


PLUGIN = Plugin("oracle-tns-version", rule, run, timeout=30.0,
                summary="the Oracle TNS listener's version, decoded from VSNNUM")
