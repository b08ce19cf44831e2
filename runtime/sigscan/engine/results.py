"""What a scan finds, per port, per host and for the whole scan: the records every output format
renders.

Names follow Nmap's XML (``<port protocol portid><state state reason/><service name product
version extrainfo hostname ostype devicetype servicefp tunnel method conf><cpe/></service>``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sigscan.version import __version__ as SIGSCAN_VERSION


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
class ScriptOutput:
    """What a version plugin printed for a port: Nmap's ``<script id output>`` and its ``|``
    lines. ``id`` is the Nmap script the plugin mirrors."""

    id: str
    output: str


@dataclass(frozen=True, slots=True)
class PortResult:
    """One scanned port. ``host`` is the address scanned; ``target`` the host as the user gave
    it: the name typed (Nmap's ``<hostname type="user">``) or, for an address or a block, the
    address (None when the result was not made by a scan: outputs then show ``host``).
    ``reason`` is Nmap's state reason (``syn-ack`` for a TCP connect that succeeded,
    ``udp-response``, ``no-response``, ``conn-refused``). ``probes`` lists the probes sent, in
    order; ``notes`` are human-readable diagnostics (timeouts, ignored softmatches, cut
    responses, certificate subject); ``scripts`` what version plugins printed, in the
    order they ran."""

    host: str
    port: int
    proto: str  # "tcp" | "udp"
    state: PortState
    reason: str
    service: Service | None
    probes: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    elapsed: float = 0.0
    scripts: tuple[ScriptOutput, ...] = ()
    target: str | None = None


@dataclass(frozen=True, slots=True)
class PortGroup:
    """Ports of one host that share a state and a reason and were not itemized as
    :class:`PortResult` (e.g. the 65,000 refused ports of ``-p-``). Outputs count them like
    itemized ports (Nmap's ``<extraports>``, ``Not shown: …``)."""

    proto: str  # "tcp" | "udp"
    state: PortState
    reason: str
    ports: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class HostResult:
    """One scanned host, as Nmap's ``<host>`` element and ``Nmap scan report for …`` block.

    ``address`` is the IP address scanned; ``hostname`` the name the user gave for it (Nmap's
    ``type="user"``), None for a literal address. ``ptr_name`` is the reverse-DNS name (Nmap's
    ``type="PTR"`` and ``HostName()``, which Service Info compares service host names with);
    sigscan does no reverse lookups, so it is None unless a caller fills it, and outputs are then
    those of ``nmap -n``. ``latency`` is the measured round trip in
    seconds (``Host is up (0.0014s latency).``), None when unknown. ``other_addresses`` are the
    further addresses the name resolved to, not scanned. ``reason`` is why the host counts as up:
    sigscan does no host discovery, so ``user-set`` as with Nmap's ``-Pn``. ``start``/``end``
    are Unix times. ``timed_out``: the host ran past ``--host-timeout`` and is reported without
    its ports, as Nmap reports it (``Skipping host … due to host timeout``)."""

    address: str
    hostname: str | None = None
    ports: tuple[PortResult, ...] = ()
    groups: tuple[PortGroup, ...] = ()
    ptr_name: str | None = None
    start: float | None = None
    end: float | None = None
    latency: float | None = None
    other_addresses: tuple[str, ...] = ()
    reason: str = "user-set"
    timed_out: bool = False


@dataclass(frozen=True, slots=True)
class ScanInfo:
    """The scan as a whole, for output headers and footers (Nmap's ``<nmaprun>``,
    ``<scaninfo>`` and ``<runstats>``).

    ``args`` is the command line as typed; ``start``/``end`` are Unix times (``end`` None while
    the scan runs). ``tcp_ports``/``udp_ports`` are the requested ports, ascending. TCP ports are
    found by a connect scan (Nmap's ``type="connect"``). ``errormsg`` is set when the scan
    stopped early (Ctrl-C): the XML then says ``exit="error"``. ``verbose`` raises the number of
    ports of one state shown before they are summarised, as Nmap's ``-v``. ``open_only``
    (``--open``): only hosts with open ports are shown, and only their open ports. ``reason``
    (``--reason``): the normal output tells why each port and host has its state. With ``verbose`` each port's ``notes`` are
    shown; ``debugging`` is Nmap's debug level (``-d``), which the XML records."""

    args: str
    start: float
    end: float | None = None
    tcp_ports: tuple[int, ...] = ()
    udp_ports: tuple[int, ...] = ()
    version: str = SIGSCAN_VERSION
    scanner: str = "sigscan"
    scan_type: str = "connect"
    verbose: int = 0
    debugging: int = 0
    errormsg: str | None = None
    open_only: bool = False
    reason: bool = False
