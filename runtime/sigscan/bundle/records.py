"""Typed rows of a loaded bundle. Values are decoded (bytes are bytes, JSON is lists) once.

Records are named tuples rather than the frozen dataclasses used elsewhere: they are what a cold
``sigscan`` process builds first, and a frozen slotted dataclass costs about 1.5 ms to define
(its methods are generated with ``exec``) against 0.2 ms for a named tuple, which is also
immutable, compares and hashes by value, and is the leanest instance Python has. Fields are read
by name; nothing relies on them being tuples. They are declared with
:class:`sigscan.bundle._record.Record`, which type checkers read as ``typing.NamedTuple`` and which
does not import ``typing`` (5 ms of a cold start).
"""

from __future__ import annotations

from sigscan.bundle._record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    LiteralBound = tuple[int, int, tuple[tuple[bytes, int], ...]]  # see sigscan.bundle.bound.LiteralCost


class SourceRecord(Record):
    id: int
    kind: str
    path: str
    sha256: str
    version_line: str | None


class ProbeRecord(Record):
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


class MatchRecord(Record):
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


class LineRecord(Record):
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


class KeyRecord(Record):
    """A line's prefilter key (see :mod:`sigscan.matcher.index`)."""

    kind: str
    key: bytes
    bucket_token: bytes | None


class ExcludeRecord(Record):
    seq: int
    protocol: str | None
    start: int | None
    end: int | None
    service: str | None


class ServiceRecord(Record):
    protocol: str
    port: int
    name: str
    frequency: str
    seq: int


class RpcRecord(Record):
    number: int
    name: str
    aliases: tuple[str, ...]
    seq: int
