"""Typed rows of a loaded bundle. Values are decoded (bytes are bytes, JSON is lists) once.

Records are ``typing.NamedTuple`` classes: immutable, compared and hashed by value, their fields
read by name (nothing relies on them being tuples).
"""

from __future__ import annotations

from typing import Any, NamedTuple

LiteralBound = tuple[int, int, tuple[tuple[bytes, int], ...]]  # see sigscan.bundle.bound.LiteralCost


class SourceRecord(NamedTuple):
    id: int
    kind: str
    path: str
    sha256: str
    version_line: str | None


class ProbeRecord(NamedTuple):
    id: int
    protocol: str
    name: str
    payload: bytes
    raw_payload: bytes
    delimiter: str
    options: tuple[str, ...]
    is_null: bool
    rarity: int | None
    ports: tuple[tuple[int, int], ...]
    sslports: tuple[tuple[int, int], ...]
    fallback: tuple[str, ...] | None
    chain: tuple[int, ...]
    totalwaitms: int | None
    tcpwrappedms: int | None
    services: frozenset[str]
    source: int
    line: int
    directives: tuple[tuple[str, str, int], ...]

    @property
    def no_payload(self) -> bool:
        return "no-payload" in self.options


class MatchRecord(NamedTuple):
    id: int
    probe: int
    seq: int
    soft: bool
    service: str
    pattern: bytes
    regex: bytes
    delimiter: str
    flags: str
    caseless: bool
    dotall: bool
    groups: int
    anchored: bool
    prefix: bytes
    required: tuple[bytes, ...]
    min_length: int
    product: str | None
    fields: tuple[tuple[str, str, bytes, str], ...]  # key, delimiter, text, flags
    templates: Any  # parsed templates in sigscan.bundle.template's data form
    source: int
    line: int
    cost: tuple[int, int] | None  # (degree, constant) of sigscan.bundle.cost, None if unbounded
    literal_cost: LiteralBound | None = None  # (degree, constant, ((literal, weight), ...)): LiteralCost
    head_length: int = 0  # bytes of the literal head that prefix proves (sigc.regex.literals.split_head)
    rest_offset: int = 0  # where the pattern for the rest of the subject begins in regex
    first_bytes: bytes | None = None  # what an anchored match starts with (sigc.regex.literals.first_bytes)


class LineRecord(NamedTuple):
    """The part of a match line the matcher needs for every candidate: what the prefilter checks,
    what timing the search takes, and the verdict's identity. The pattern, the literal-counting
    bound and the templates are read when they are needed (``Bundle.regex``, ``literal_cost``,
    ``match``)."""

    id: int
    seq: int
    soft: bool
    service: str
    caseless: bool
    dotall: bool
    anchored: bool
    prefix: bytes
    required: tuple[bytes, ...]
    min_length: int
    source: int
    line: int
    cost: tuple[int, int] | None
    has_literal_cost: bool = False  # the bound itself is read when needed (Bundle.literal_cost)
    head_length: int = 0


class KeyRecord(NamedTuple):
    """A line's prefilter key (see :mod:`sigscan.matcher.index`)."""

    kind: str
    key: bytes
    bucket_token: bytes | None


class ExcludeRecord(NamedTuple):
    seq: int
    protocol: str | None
    start: int | None
    end: int | None
    service: str | None


class ServiceRecord(NamedTuple):
    protocol: str
    port: int
    name: str
    frequency: str
    seq: int


class RpcRecord(NamedTuple):
    number: int
    name: str
    aliases: tuple[str, ...]
    seq: int
