"""What a scan finds, per port: the record every output format renders.

Names follow Nmap's XML (``<port protocol portid><state state reason/><service name product
version extrainfo hostname ostype devicetype servicefp tunnel method conf><cpe/></service>``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Method(enum.Enum):
    PROBED = "probed"
    TABLE = "table"


class PortState(enum.Enum):
    OPEN = "open"
    OPEN_FILTERED = "open|filtered"
    CLOSED = "closed"
    FILTERED = "filtered"


@dataclass(frozen=True, slots=True)
class Service:
    """Nmap's ``serviceDeductions`` after ``processResults``: the final name and fields.

    ``name`` is None when neither probing nor ``nmap-services`` gave one (Nmap then writes no
    ``<service>`` element unless there is a fingerprint or a tunnel). ``cpe`` is in a, h, o order.
    ``servicefp`` is the ``SF-Port…`` fingerprint text with its ``\\nSF:`` line breaks.
    """

    name: str | None
    method: Method
    conf: int
    product: str | None = None
    version: str | None = None
    extrainfo: str | None = None
    hostname: str | None = None
    ostype: str | None = None
    devicetype: str | None = None
    cpe: tuple[str, ...] = ()
    tunnel: str | None = None  # "ssl" or None
    servicefp: str | None = None


@dataclass(frozen=True, slots=True)
class PortResult:
    """One scanned port. ``reason`` is Nmap's state reason (``syn-ack`` for a TCP connect that
    succeeded, ``udp-response``, ``no-response``, ``conn-refused``). ``probes`` lists the probes
    sent, in order; ``notes`` are human-readable diagnostics (timeouts, ignored softmatches, cut
    responses, certificate subject)."""

    host: str
    port: int
    proto: str  # "tcp" | "udp"
    state: PortState
    reason: str
    service: Service | None
    probes: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    elapsed: float = 0.0
