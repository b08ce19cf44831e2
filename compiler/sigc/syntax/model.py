"""The typed model of an nmap-service-probes file: frozen records that know where they came from.

Names follow Nmap's own words (``Probe``, ``match``, ``softmatch``, ``rarity``, ``fallback``,
``sslports``). Text that Nmap treats as bytes (probe payloads, patterns, version templates) is
kept as ``bytes``: the real files hold raw UTF-8 and latin-1 bytes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass

from sigc.diagnostics import Diagnostic, Location
from sigscan.bundle.fields import Field


class Protocol(enum.Enum):
    TCP = "TCP"
    UDP = "UDP"


class MatchKind(enum.Enum):
    MATCH = "match"
    SOFTMATCH = "softmatch"


@dataclass(frozen=True, slots=True)
class PortRange:
    """An inclusive range of ports, ``start == end`` for a single port."""

    start: int
    end: int

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.start <= port <= self.end

    def __str__(self) -> str:
        return str(self.start) if self.start == self.end else f"{self.start}-{self.end}"


@dataclass(frozen=True, slots=True)
class PortSet:
    """A ``ports``/``sslports`` list in the order written; repeated directives append."""

    ranges: tuple[PortRange, ...] = ()

    def __contains__(self, port: object) -> bool:
        return any(port in r for r in self.ranges)

    def __iter__(self) -> Iterator[int]:
        seen: set[int] = set()
        for r in self.ranges:
            for port in range(r.start, r.end + 1):
                if port not in seen:
                    seen.add(port)
                    yield port

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.ranges)

    def extended(self, other: PortSet) -> PortSet:
        return PortSet(self.ranges + other.ranges)


@dataclass(frozen=True, slots=True)
class ExcludeItem:
    """One element of ``Exclude``: a port range for a protocol (``None`` = any scanned one)."""

    protocol: str | None  # "T", "U", "S" (SCTP) or None
    ports: PortRange | None
    service: str | None = None  # a service name from nmap-services, resolved later


@dataclass(frozen=True, slots=True)
class Exclude:
    text: str
    items: tuple[ExcludeItem, ...]
    location: Location


@dataclass(frozen=True, slots=True)
class VersionField:
    """One version-info template (``p/…/``, ``cpe:/…/a``) as written in the match line."""

    key: Field
    text: bytes  # between the delimiters, raw
    delimiter: bytes
    flags: str
    line: Location  # the start of its line, shared with the line's Match (a Location each costs 56 bytes)
    offset: int  # bytes from the start of the line to the field's key

    @property
    def location(self) -> Location:
        return self.line.shifted(self.offset)

    def render(self) -> bytes:
        key = b"cpe:" if self.key is Field.CPE else self.key.value.encode()
        return key + self.delimiter + self.text + self.delimiter + self.flags.encode()


@dataclass(frozen=True, slots=True)
class Match:
    """A ``match`` or ``softmatch`` line."""

    kind: MatchKind
    service: str
    pattern: bytes
    delimiter: bytes
    flags: str  # the option letters as written ("", "i", "s", "si", ...)
    fields: tuple[VersionField, ...]
    location: Location
    pattern_offset: int  # bytes from the start of the line to the pattern text (after "m" and the delimiter)

    @property
    def pattern_location(self) -> Location:
        return self.location.shifted(self.pattern_offset)

    @property
    def soft(self) -> bool:
        return self.kind is MatchKind.SOFTMATCH

    @property
    def caseless(self) -> bool:
        return "i" in self.flags

    @property
    def dotall(self) -> bool:
        return "s" in self.flags

    def field(self, key: Field) -> VersionField | None:
        """The field Nmap uses for ``key``: a repeated field replaces the earlier one."""
        found = None
        for f in self.fields:
            if f.key is key:
                found = f
        return found

    @property
    def cpes(self) -> tuple[VersionField, ...]:
        return tuple(f for f in self.fields if f.key is Field.CPE)


@dataclass(frozen=True, slots=True)
class Directive:
    """A per-probe directive as written, kept for diagnostics and for ``sigc dump``."""

    keyword: str
    text: str
    location: Location


@dataclass(frozen=True, slots=True)
class Probe:
    """A ``Probe`` section: the probe line, its directives and its match lines in order."""

    protocol: Protocol
    name: str
    payload: bytes  # decoded with Nmap's escapes
    raw_payload: bytes  # as written between the delimiters
    delimiter: bytes
    options: tuple[str, ...]  # words after the string: no-payload, source=N, ...
    location: Location
    ports: PortSet = PortSet()
    sslports: PortSet = PortSet()
    rarity: int | None = None
    fallback: tuple[str, ...] | None = None
    totalwaitms: int | None = None
    tcpwrappedms: int | None = None
    matches: tuple[Match, ...] = ()
    directives: tuple[Directive, ...] = ()

    @property
    def is_null(self) -> bool:
        """Nmap's test: an empty probe string marks the NULL probe, whatever its name."""
        return not self.payload and not self.raw_payload

    @property
    def no_payload(self) -> bool:
        return "no-payload" in self.options

    @property
    def key(self) -> tuple[Protocol, str]:
        return (self.protocol, self.name)

    def directive(self, keyword: str) -> Directive | None:
        """The last directive with this keyword (Nmap: the last occurrence wins)."""
        found = None
        for d in self.directives:
            if d.keyword == keyword:
                found = d
        return found


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One parsed file: its probes in file order, its Exclude, and every diagnostic found."""

    path: str
    exclude: Exclude | None
    probes: tuple[Probe, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    version_line: str | None = None  # the "# $Id: ..." or similar identification, if any
    sha256: str = ""

    @property
    def matches(self) -> Iterator[Match]:
        for probe in self.probes:
            yield from probe.matches
