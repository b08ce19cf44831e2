"""How a finished port is reported: Nmap's ``processResults`` and ``setServiceProbeResults``
(nmap-semantics §5, §8, §9)."""

from __future__ import annotations

import enum

from sigscan.engine.deductions import Deductions
from sigscan.engine.results import Method, Service


class Final(enum.Enum):
    """Nmap's probe state when a port ends."""

    HARDMATCHED = "hardmatched"
    SOFTMATCHED = "softmatched"
    NOMATCH = "nomatch"
    TCPWRAPPED = "tcpwrapped"
    INCOMPLETE = "incomplete"
    EXCLUDED = "excluded"


# Read errors (``Reset.error``) by what Nmap's read handler does with them.
LIKE_EOF = frozenset({"ECONNRESET", "ECONNREFUSED", "ECONNABORTED"})
NEXT_PROBE = frozenset({"EPIPE", "EIO", "EPROTO", "ENETRESET", "EMSGSIZE", "EOPNOTSUPP",
                        "ENOPROTOOPT"})
UNREACHABLE = frozenset({"ENETUNREACH", "EHOSTUNREACH", "ENETDOWN", "EHOSTDOWN", "ENONET"})


def fingerprint_shown(final: Final, intensity: int) -> bool:
    """Nmap attaches the fingerprint always to no-match ports, never to hard matches, and to
    the others only from intensity 7 up."""
    if final is Final.NOMATCH:
        return True
    if final in (Final.HARDMATCHED, Final.EXCLUDED):
        return False
    return intensity >= 7


def service(final: Final, deductions: Deductions, *, tunnel: str | None,
            table_name: str | None, fingerprint: str | None) -> Service:
    """The port's ``<service>``: name, method and confidence by final state, fields, CPEs.

    A no-match, excluded or incomplete port takes its name from ``nmap-services`` (method table,
    confidence 3), unless an incomplete one softmatched first; ``tcpwrapped`` has confidence 8."""
    if final is Final.NOMATCH or final is Final.EXCLUDED:
        return Service(table_name, Method.TABLE, 3, tunnel=tunnel, servicefp=fingerprint)
    if final is Final.INCOMPLETE:
        method, conf, name = Method.TABLE, 3, deductions.name or table_name
    elif final is Final.TCPWRAPPED:
        method, conf, name = Method.PROBED, 8, deductions.name or "tcpwrapped"
    else:
        method, conf, name = Method.PROBED, 10, deductions.name
    fields = deductions.fields
    return Service(
        name, method, conf,
        product=fields.get("product"), version=fields.get("version"),
        extrainfo=fields.get("extrainfo"), hostname=fields.get("hostname"),
        ostype=fields.get("ostype"), devicetype=fields.get("devicetype"),
        cpe=deductions.cpes(), tunnel=tunnel, servicefp=fingerprint,
    )
