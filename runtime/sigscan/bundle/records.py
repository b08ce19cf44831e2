"""Typed rows of a loaded bundle. Values are decoded (bytes are bytes, JSON is lists) once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SourceRecord:
    id: int
    kind: str
    path: str
    sha256: str
    version_line: str | None


@dataclass(frozen=True, slots=True)
class ProbeRecord:
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


@dataclass(frozen=True, slots=True)
class MatchRecord:
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
    templates: Any  # parsed templates in sigscan.template's data form
    source: int
    line: int


@dataclass(frozen=True, slots=True)
class ExcludeRecord:
    seq: int
    protocol: str | None
    start: int | None
    end: int | None
    service: str | None


@dataclass(frozen=True, slots=True)
class ServiceRecord:
    protocol: str
    port: int
    name: str
    frequency: str
    seq: int


@dataclass(frozen=True, slots=True)
class RpcRecord:
    number: int
    name: str
    aliases: tuple[str, ...]
    seq: int
