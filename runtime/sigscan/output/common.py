"""What the text and XML outputs share: port order, Nmap's "ignored" states and their reason
summary, ``nmap-services`` names for ports without a service, printable text and times.

Ignored states (``PortList::isIgnoredState``): a state other than ``open`` with more than 25
ports (25 * (verbose + 1) with ``-v``) is summarised instead of listed (``Not shown: …``,
``<extraports>``). States come most numerous first, ties in Nmap's state-number order. Within a
state, one group per (reason, protocol) in port order (TCP first), then sorted by Nmap's linked-
list merge sort, whose ties put the *later* group first (which is why Nmap writes ``31 closed udp
ports (port-unreach), 31 closed tcp ports (conn-refused)``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Protocol

from sigscan.engine.results import HostResult, Method, PortResult, PortState, Service

MAX_PER_STATE = 25
PROTO_ORDER = {"tcp": 0, "udp": 1}
# portlist.h: PORT_CLOSED 1, PORT_OPEN 2, PORT_FILTERED 3, PORT_OPENFILTERED 7
_STATE_NUMBER = {PortState.CLOSED: 1, PortState.OPEN: 2, PortState.FILTERED: 3,
                 PortState.OPEN_FILTERED: 7}
TABLE_CONFIDENCE = 3

NameLookup = Callable[[int, str], "str | None"]


class TextStream(Protocol):
    """What the writers need of a text stream (a file, ``sys.stdout``)."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ReasonGroup:
    """Ports of one ignored state that share a reason and a protocol."""

    reason: str
    proto: str
    ports: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Ignored:
    """One ignored state and its reason groups, in Nmap's order."""

    state: PortState
    count: int
    groups: tuple[ReasonGroup, ...]


def all_ports(host: HostResult) -> list[PortResult]:
    """The host's itemized ports and grouped ports together, TCP first, ascending."""
    ports = list(host.ports)
    for group in host.groups:
        ports.extend(PortResult(host.address, port, group.proto, group.state, group.reason, None)
                     for port in group.ports)
    return sorted(ports, key=lambda p: (PROTO_ORDER.get(p.proto, 2), p.port))


def ignored_states(ports: Iterable[PortResult], verbose: int = 0, *,
                   open_only: bool = False) -> list[Ignored]:
    """The states to summarise, most numerous first (ties: lower Nmap state number first).
    ``open_only`` (``--open``): every state that cannot be open is summarised, whatever its
    count; with ``-vvv`` (``verbose`` above 2) ``open|filtered`` never is."""
    by_state: dict[PortState, list[PortResult]] = {}
    for port in ports:
        by_state.setdefault(port.state, []).append(port)
    threshold = MAX_PER_STATE * (verbose + 1)
    chosen = [(state, members) for state, members in by_state.items()
              if _ignored(state, len(members), threshold, verbose, open_only)]
    chosen.sort(key=lambda item: (-len(item[1]), _STATE_NUMBER[item[0]]))
    return [Ignored(state, len(members), reason_groups(members)) for state, members in chosen]


def _ignored(state: PortState, count: int, threshold: int, verbose: int, open_only: bool) -> bool:
    """Nmap's ``PortList::isIgnoredState``."""
    if state is PortState.OPEN or (state is PortState.OPEN_FILTERED and verbose > 2):
        return False
    if open_only and state is not PortState.OPEN_FILTERED and count > 0:
        return True
    return count > threshold


def possibly_open(host: HostResult) -> bool:
    """Nmap's ``hasOpenPorts``: whether a port is ``open`` or ``open|filtered`` (``--open``
    shows only such hosts)."""
    states = {PortState.OPEN, PortState.OPEN_FILTERED}
    return (any(p.state in states for p in host.ports)
            or any(g.state in states and g.ports for g in host.groups))


def reason_groups(ports: Iterable[PortResult]) -> tuple[ReasonGroup, ...]:
    """Group by (reason, protocol) in port order, then Nmap's merge sort by count."""
    groups: dict[tuple[str, str], list[int]] = {}
    for port in sorted(ports, key=lambda p: (PROTO_ORDER.get(p.proto, 2), p.port)):
        groups.setdefault((port.reason, port.proto), []).append(port.port)
    nodes = [ReasonGroup(reason, proto, tuple(numbers))
             for (reason, proto), numbers in groups.items()]
    return tuple(_tatham_sort(nodes))


def _tatham_sort(nodes: list[ReasonGroup]) -> list[ReasonGroup]:
    """Nmap's ``reason_sort``: bottom-up merge sort, larger count first, and on a tie the
    element of the right-hand run first. Nmap's list starts with an empty head node, which
    sorts last and is never printed; it is kept here so ties resolve as in Nmap."""
    items: list[ReasonGroup | None] = [None, *nodes]
    size = 1
    while True:
        merged: list[ReasonGroup | None] = []
        runs = 0
        for start in range(0, len(items), 2 * size):
            runs += 1
            left = items[start:start + size]
            right = items[start + size:start + 2 * size]
            while left or right:
                if not right or (left and _count(right[0]) < _count(left[0])):
                    merged.append(left.pop(0))
                else:
                    merged.append(right.pop(0))
        items = merged
        if runs <= 1:
            return [node for node in items if node is not None]
        size *= 2


def _count(node: ReasonGroup | None) -> int:
    return 0 if node is None else len(node.ports)


def with_table_names(host: HostResult, lookup: NameLookup) -> HostResult:
    """``host`` with an ``nmap-services`` service (method table, confidence 3) on every port
    that has none, as Nmap's ``getServiceDeductions`` gives closed and filtered ports."""
    ports = tuple(with_table_name(port, lookup) for port in all_ports(host))
    return replace(host, ports=ports, groups=())


def with_table_name(port: PortResult, lookup: NameLookup) -> PortResult:
    """``port`` with its ``nmap-services`` service (method table, confidence 3) if it has none
    and the table names its port (what :func:`with_table_names` does to each port of a host)."""
    if port.service is not None:
        return port
    name = lookup(port.port, port.proto)
    if name is None:
        return port
    return replace(port, service=Service(name, Method.TABLE, TABLE_CONFIDENCE))


NOTES_ID = "sigscan-notes"  # the script id the engine's notes on a port are shown under (-v)


def notes_output(notes: Iterable[str]) -> str:
    """A port's notes as the text of a script's output, laid out as an NSE list: each on a line
    of its own, indented by two spaces, after an empty first line."""
    return "".join(f"\n  {note}" for note in notes)


def printable(text: str) -> str:
    """Nmap's ``replacenonprintable``: every character outside printable ASCII becomes ``.``."""
    return "".join(c if " " <= c <= "~" else "." for c in text)


def _escape_bytes(text: str, keep: str) -> str:
    """``text`` with each byte outside printable ASCII and ``keep`` written ``\\xHH``. Script
    output holds a byte per character (plugins decode replies as Latin-1, as Lua strings are
    bytes); a character past U+00FF, text a plugin decoded itself, stands for its UTF-8 bytes."""
    return "".join(c if " " <= c <= "~" or c in keep else
                   f"\\x{ord(c):02X}" if c <= "\xff" else
                   "".join(f"\\x{b:02X}" for b in c.encode("utf-8")) for c in text)


def escape_for_screen(text: str) -> str:
    """Nmap's ``escape_for_screen``, applied to a script's output in text: bytes other than
    printable ASCII, tab and newline become ``\\xHH``."""
    return _escape_bytes(text, "\t\n")


def protect_xml(text: str) -> str:
    """Nmap's ``protect_xml``, applied to a script's output in XML before the XML escaping:
    bytes other than printable ASCII, tab, carriage return and newline become ``\\xHH``."""
    return _escape_bytes(text, "\t\r\n")


def ctime(unix_time: float) -> str:
    """C's ``ctime`` in the local zone, without the newline: ``Mon Nov 23 06:56:39 2026``."""
    when = datetime.datetime.fromtimestamp(unix_time)
    return f"{when:%a %b} {when.day:2d} {when:%H:%M:%S %Y}"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def hosts_summary(total: int, up: int) -> str:
    """``1 IP address (1 host up)``."""
    return (f"{plural(total, 'IP address', 'IP addresses')} "
            f"({plural(up, 'host')} up)")
