r"""``pptp-version``: vendor, firmware and host name from a PPTP Start-Control-Connection-Reply.

Mirrors Nmap 7.93's script: on 1723/tcp (intensity ≥ 7, not excluded) it sends a
Start-Control-Connection-Request (RFC 2637 §2.1: length 156, control message, the magic
cookie 0x1A2B3C4D, protocol 1.0, host name ``none``, vendor ``nmap``) and takes one read within
5 s. Where the reply holds the start of a Start-Control-Connection-Reply followed by more than
88 bytes, the port becomes ``pptp``, hard-matched, not tunnelled: the vendor string (up to its
first NUL) is the product, the firmware revision ``(Firmware: N)`` the version when not 0, the
host name (up to its first NUL) the hostname. A vendor or host name with no NUL in its field
leaves that field as it was, as the script's ``match("(.-)\0")`` finds nothing then. Prints
nothing.

"The start" is what the script's Lua pattern ``"\0\156\0\001\026\043(.*)"`` finds: ``\043`` is
``+``, a quantifier there, so it reads length 156, control message, one or more 0x1A bytes, and
the fields are taken from the byte after them: the cookie's 0x2B is the first byte of the rest,
and the firmware, host name and vendor come out at their RFC offsets (the script's offsets
count that byte). :data:`REPLY_START` is that pattern, searched anywhere in the reply.
"""

from __future__ import annotations

import re
from dataclasses import replace

from sigscan.engine.plugin import Exchange, Outcome, Plugin, PortView, ProbeState, exchange
from sigscan.plugins import rules

TIMEOUT = 5.0  # the script's comm.exchange timeout, seconds
REPLY_START = re.compile(rb"\x00\x9c\x00\x01\x1a+(.*)", re.DOTALL)


def request() -> bytes:
    """The script's Start-Control-Connection-Request (RFC 2637 §2.1)."""
    return (b"\x00\x9c\x00\x01\x1a\x2b\x3c\x4d"  # length, message type, magic cookie
            b"\x00\x01\x00\x00\x01\x00\x00\x00"  # Start-Control-Connection-Request, protocol 1.0
            b"\x00\x00\x00\x01\x00\x00\x00\x01"  # framing and bearer capabilities
            b"\xff\xff\x00\x01"  # maximum channels, firmware revision
            + b"none".ljust(64, b"\0") + b"nmap".ljust(64, b"\0"))


rule = rules.version_port_or_service(1723, ())


def _cstring(field: bytes) -> str | None:
    text, nul, _ = field.partition(b"\0")
    return text.decode("latin-1") if nul else None


def run(view: PortView) -> Exchange:
    reply = yield from exchange(request(), TIMEOUT)
    found = REPLY_START.search(reply.data)
    rest = found.group(1) if found else b""
    if len(rest) <= 88:
        return None
    firmware = int.from_bytes(rest[21:23], "big")
    hostname, vendor = _cstring(rest[23:87]), _cstring(rest[87:])
    service = replace(view.service, name="pptp", tunnel=None)
    if vendor is not None:
        service = replace(service, product=vendor)
    if firmware != 0:
        service = replace(service, version=f"(Firmware: {firmware})")
    if hostname is not None:
        service = replace(service, hostname=hostname)
    return Outcome(version=service, probestate=ProbeState.HARDMATCHED)


PLUGIN = Plugin("pptp-version", rule, run, summary="PPTP vendor, firmware and host name")
