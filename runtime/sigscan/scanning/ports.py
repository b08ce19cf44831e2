"""Nmap port specifications (``-p``) and ``--top-ports``, over the bundle's ``nmap-services``.

Grammar, as Nmap's ``getpts`` reads it: comma-separated items, each a port (``22``), a range
(``1000-2000``, open at either end: ``-1024``, ``60000-``, ``-`` for 1-65535), a service name
from ``nmap-services`` with ``*``/``?`` wildcards (``http``, ``http*``), or a bracketed list
(``[1-1024]``: only the ports ``nmap-services`` lists). ``T:`` and ``U:`` prefixes send the
items that follow to TCP or UDP until the next prefix; unprefixed items go to every protocol of
the scan. Whitespace around items is ignored, duplicates are merged.

``--top-ports N`` takes, per protocol, the N ports with the highest open frequency, ties in file
order (Nmap's stable sort of ``nmap-services``), within the ``-p`` ports when both are given.

Errors are :class:`PortSpecError` (a ``ValueError``) with a one-line message that quotes the
offending text.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sigscan.bundle.loader import Bundle
    from sigscan.bundle.records import ServiceRecord

PROTOCOLS = ("tcp", "udp")
MAX_PORT = 65535
_PREFIXES = {"T": "tcp", "U": "udp"}
_UNSUPPORTED = {"S": "SCTP", "P": "IP protocol"}
_EXAMPLE = 'e.g. "22,80,1000-2000,T:3000-4000,U:53"'


class PortSpecError(ValueError):
    """A port specification or ``--top-ports`` value that cannot be used."""


@dataclass(frozen=True, slots=True)
class PortSpec:
    """Ports to scan per protocol, ascending and without duplicates."""

    tcp: tuple[int, ...] = ()
    udp: tuple[int, ...] = ()

    def of(self, proto: str) -> tuple[int, ...]:
        return self.tcp if proto == "tcp" else self.udp

    def pairs(self) -> Iterator[tuple[str, int]]:
        """``(proto, port)`` for every port, TCP first (Nmap's output order)."""
        for proto in PROTOCOLS:
            for port in self.of(proto):
                yield proto, port

    def __len__(self) -> int:
        return len(self.tcp) + len(self.udp)

    def __bool__(self) -> bool:
        return bool(self.tcp or self.udp)


def compact(ports: Iterable[int]) -> str:
    """Ports as Nmap writes them in ``<scaninfo services>``: ``22,80,1000-2000``."""
    ordered = sorted(set(ports))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(parts)


# --------------------------------------------------------------------------------------------
# nmap-services


@dataclass(frozen=True, slots=True)
class _Entry:
    proto: str
    port: int
    name: str
    frequency: float


def frequency(text: str) -> float:
    """Nmap's reading of an ``nmap-services`` ratio: ``0.484143``, ``n/d``, anything else 0."""
    text = text.strip()
    if "/" in text:
        num, _, den = text.partition("/")
        try:
            return int(num) / int(den) if int(den) else 0.0
        except ValueError:
            return 0.0
    if text.startswith("0."):
        try:
            return float(text)
        except ValueError:
            return 0.0
    return 0.0


class ServiceTable:
    """``nmap-services`` as Nmap uses it: first entry of a (port, protocol) wins, file order kept
    for ties of frequency."""

    def __init__(self, records: Iterable[ServiceRecord]) -> None:
        self._entries: dict[tuple[str, int], _Entry] = {}
        for record in sorted(records, key=lambda r: r.seq):
            key = (record.protocol.lower(), record.port)
            if key[0] in PROTOCOLS and key not in self._entries:
                self._entries[key] = _Entry(key[0], record.port, record.name,
                                            frequency(record.frequency))

    @classmethod
    def from_bundle(cls, bundle: Bundle) -> ServiceTable:
        return cls(bundle.services())

    def name(self, port: int, proto: str) -> str | None:
        """The port's name, None when absent (a port listed as ``unknown`` keeps that name, as
        in Nmap's XML)."""
        entry = self._entries.get((proto, port))
        return None if entry is None else entry.name

    def listed(self, port: int, proto: str) -> bool:
        return (proto, port) in self._entries

    def named(self, mask: str, proto: str) -> tuple[int, ...]:
        """Ports of ``proto`` whose name matches ``mask`` (``*`` and ``?`` wildcards, case
        sensitive; entries named ``unknown`` match ``unknown``)."""
        return tuple(sorted(e.port for e in self._entries.values()
                            if e.proto == proto and fnmatch.fnmatchcase(e.name, mask)))

    def by_frequency(self, proto: str) -> tuple[int, ...]:
        """Every listed port of ``proto``, most frequently open first, ties in file order."""
        entries = [e for e in self._entries.values() if e.proto == proto]
        return tuple(e.port for e in sorted(entries, key=lambda e: -e.frequency))


# --------------------------------------------------------------------------------------------
# -p


def parse_ports(spec: str, *, protocols: Collection[str] = ("tcp",),
                table: ServiceTable | None = None) -> PortSpec:
    """Read a ``-p`` specification for a scan of ``protocols`` (``tcp``, ``udp`` or both).

    ``table`` is needed for service names and brackets only."""
    unknown = set(protocols) - set(PROTOCOLS)
    if unknown or not protocols:
        raise PortSpecError(f"unsupported protocol(s) {sorted(unknown) or '(none)'}: use tcp or udp")
    chosen: dict[str, set[int]] = {proto: set() for proto in PROTOCOLS}
    _Reader(spec, tuple(p for p in PROTOCOLS if p in protocols), table, chosen).read()
    if not any(chosen.values()):
        raise PortSpecError(f"no ports in port specification {spec!r}")
    return PortSpec(tcp=tuple(sorted(chosen["tcp"])), udp=tuple(sorted(chosen["udp"])))


class _Reader:
    """One pass over a specification (a recursive-descent reading of Nmap's ``getpts_aux``)."""

    def __init__(self, spec: str, protocols: tuple[str, ...], table: ServiceTable | None,
                 chosen: dict[str, set[int]]) -> None:
        self.spec = spec
        self.scan = protocols
        self.table = table
        self.chosen = chosen
        self.current: tuple[str, ...] = protocols
        self.pos = 0

    def read(self) -> None:
        if not self.spec.strip():
            raise PortSpecError(f"empty port specification; {_EXAMPLE}")
        self.items(nested=False)
        if self.pos < len(self.spec):
            self.fail("unexpected ']'")

    def items(self, *, nested: bool) -> None:
        while True:
            self.skip_space()
            if self.prefix():
                continue
            self.item(nested)
            self.skip_space()
            if self.pos >= len(self.spec) or self.peek() == "]":
                return
            if self.peek() != ",":
                self.fail("expected ',' between items")
            self.pos += 1
            if not self.spec[self.pos:].strip():
                return  # a trailing comma, as Nmap allows

    def prefix(self) -> bool:
        head, colon = self.peek(), self.peek(1)
        if colon != ":" or head.upper() not in {*_PREFIXES, *_UNSUPPORTED}:
            return False
        head = head.upper()
        if head in _UNSUPPORTED:
            self.fail(f"{_UNSUPPORTED[head]} ports ({head}:) are not supported; use T: or U:")
        proto = _PREFIXES[head]
        if proto not in self.scan:
            flag = "-sU" if proto == "udp" else "a TCP scan"
            self.fail(f"'{head}:' ports need {flag}")
        self.current = (proto,)
        self.pos += 2
        return True

    def item(self, nested: bool) -> None:
        char = self.peek()
        if char == "[":
            if nested:
                self.fail("brackets cannot be nested")
            self.pos += 1
            outer = self.current
            self.items(nested=True)
            self.current = outer  # a prefix inside brackets ends with them
            if self.peek() != "]":
                self.fail("missing ']'")
            self.pos += 1
        elif char.isdigit() or char == "-":
            self.add_range(*self.port_range(), nested)
        elif char and (char.isalpha() or char in "*?"):  # ("" is in every string)
            self.add_names(self.word())
        else:
            self.fail("expected a port, a range or a service name")

    def port_range(self) -> tuple[int, int]:
        start = self.number() if self.peek().isdigit() else 1
        self.skip_space()
        if self.peek() != "-":
            return start, start
        self.pos += 1
        self.skip_space()
        end = self.number() if self.peek().isdigit() else MAX_PORT
        if end < start:
            raise PortSpecError(f"port range {start}-{end} is backwards; did you mean {end}-{start}?")
        return start, end

    def number(self) -> int:
        begin = self.pos
        while self.peek().isdigit():
            self.pos += 1
        value = int(self.spec[begin:self.pos])
        if value > MAX_PORT:
            raise PortSpecError(f"port {value} is out of range: ports are 0-{MAX_PORT}")
        return value

    def word(self) -> str:
        begin = self.pos
        while self.pos < len(self.spec) and self.peek() not in ",] \t\n":
            self.pos += 1
        return self.spec[begin:self.pos]

    def add_range(self, start: int, end: int, nested: bool) -> None:
        table = self.need_table("[...]") if nested else None
        for proto in self.current:
            wanted = range(start, end + 1)
            self.chosen[proto].update(
                wanted if table is None else (p for p in wanted if table.listed(p, proto)))

    def add_names(self, mask: str) -> None:
        table = self.need_table(repr(mask))
        found = 0
        for proto in self.current:
            ports = table.named(mask, proto)
            self.chosen[proto].update(ports)
            found += len(ports)
        if not found:
            raise PortSpecError(f"no {'/'.join(self.current)} port is named {mask!r} in nmap-services")

    def need_table(self, what: str) -> ServiceTable:
        if self.table is None:
            raise PortSpecError(f"{what} in a port specification needs the nmap-services table")
        return self.table

    def peek(self, ahead: int = 0) -> str:
        at = self.pos + ahead
        return self.spec[at] if at < len(self.spec) else ""

    def skip_space(self) -> None:
        while self.peek().isspace():
            self.pos += 1

    def fail(self, why: str) -> None:
        raise PortSpecError(
            f"bad port specification {self.spec!r} at character {self.pos + 1}: {why}; {_EXAMPLE}")


# --------------------------------------------------------------------------------------------
# --top-ports


def top_ports(table: ServiceTable, count: int, *, protocols: Collection[str] = ("tcp",),
              within: PortSpec | None = None) -> PortSpec:
    """The ``count`` most frequently open ports of each protocol (Nmap's ``gettoppts``), only
    among ``within`` when given (``-p`` together with ``--top-ports``)."""
    if not 1 <= count <= MAX_PORT + 1:
        raise PortSpecError(f"--top-ports {count}: give a number from 1 to {MAX_PORT + 1}")
    chosen: dict[str, tuple[int, ...]] = {}
    for proto in PROTOCOLS:
        if proto not in protocols:
            chosen[proto] = ()
            continue
        allowed = None if within is None else set(within.of(proto))
        ranked = [p for p in table.by_frequency(proto) if allowed is None or p in allowed]
        chosen[proto] = tuple(sorted(ranked[:count]))
    return PortSpec(tcp=chosen["tcp"], udp=chosen["udp"])
