"""Open a bundle (SQLite or JSON), check it, and serve its rows.

- JSON is read at once. The file starts ``{"sha256":"<64 hex>",`` and the digest covers every
  byte after that prefix, so a truncated or edited file is caught without re-serialising.
- SQLite is opened read-only and read per probe on demand. The file carries a CRC-32 of itself
  (computed with that field zeroed) in the header's ``user_version`` and sigc's mark in
  ``application_id``, so truncation and tampering are caught before any query.
"""

from __future__ import annotations

import hashlib
import sqlite3
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from sigscan import _json
from sigscan.bundle import codec
from sigscan.bundle.errors import BundleError
from sigscan.bundle.records import (
    ExcludeRecord,
    MatchRecord,
    ProbeRecord,
    RpcRecord,
    ServiceRecord,
    SourceRecord,
)
from sigscan.bundle.schema import (
    EXCLUDE,
    MATCHES,
    PROBES,
    RPC,
    SCHEMA_VERSION,
    SERVICES,
    SOURCES,
    SQLITE_APPLICATION_ID,
    ColumnType,
    Table,
)

SQLITE_MAGIC = b"SQLite format 3\x00"
JSON_PREFIX = b'{"sha256":"'
JSON_DIGEST_END = len(JSON_PREFIX) + 64 + 2  # the digest, its closing quote and the comma
SQLITE_CRC_OFFSET = 60  # the header's user_version field
SQLITE_APPID_OFFSET = 68

R = TypeVar("R")


def sqlite_crc(data: bytes) -> int:
    """CRC-32 of a SQLite bundle with its own CRC field zeroed (computed in place: no copy)."""
    view = memoryview(data)
    crc = zlib.crc32(view[:SQLITE_CRC_OFFSET])
    crc = zlib.crc32(b"\0\0\0\0", crc)
    return zlib.crc32(view[SQLITE_CRC_OFFSET + 4 :], crc)


class Bundle(ABC):
    """A loaded bundle. Probes, sources and Exclude are small and read at open; match lines are
    read per probe (SQLite) or were read at once (JSON)."""

    path: str
    encoding: str

    def __init__(self, path: str, header: dict[str, Any]) -> None:
        self.path = path
        self.header = header

    @property
    @abstractmethod
    def sources(self) -> tuple[SourceRecord, ...]: ...

    @property
    @abstractmethod
    def probes(self) -> tuple[ProbeRecord, ...]: ...

    @property
    @abstractmethod
    def exclude(self) -> tuple[ExcludeRecord, ...]: ...

    @abstractmethod
    def matches(self, probe: int) -> tuple[MatchRecord, ...]:
        """The probe's match and softmatch lines in file order."""

    @abstractmethod
    def services(self) -> tuple[ServiceRecord, ...]: ...

    @abstractmethod
    def rpc(self) -> tuple[RpcRecord, ...]: ...

    @abstractmethod
    def count(self, table: str, where: str = "") -> int: ...

    def all_matches(self) -> Iterator[MatchRecord]:
        for p in self.probes:
            yield from self.matches(p.id)

    @cached_property
    def _probe_ids(self) -> dict[tuple[str, str], int]:
        return {(p.protocol, p.name): p.id for p in self.probes}

    def probe(self, name: str, protocol: str = "TCP") -> ProbeRecord | None:
        pid = self._probe_ids.get((protocol.upper(), name))
        return None if pid is None else self.probes[pid]

    @property
    def version(self) -> int:
        return int(self.header["schema_version"])

    def close(self) -> None:  # noqa: B027 - only SQLite holds a resource
        """Release the file (SQLite); a JSON bundle holds nothing open."""

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class JsonBundle(Bundle):
    encoding = "json"

    def __init__(self, path: str, document: dict[str, Any]) -> None:
        super().__init__(path, document["header"])
        tables = document["tables"]

        def rows(table: Table, make: Callable[[Sequence[Any]], R]) -> tuple[R, ...]:
            entry = tables[table.name]
            if tuple(entry["columns"]) != table.column_names:
                raise BundleError(path, f"table {table.name} has unexpected columns")
            return tuple(make(r) for r in entry["rows"])

        self._sources = rows(SOURCES, codec.source)
        self._probes = rows(PROBES, codec.probe)
        self._exclude = rows(EXCLUDE, codec.exclude)
        self._services = rows(SERVICES, codec.service)
        self._rpc = rows(RPC, codec.rpc)
        by_probe: dict[int, list[MatchRecord]] = {p.id: [] for p in self._probes}
        for m in rows(MATCHES, codec.match):
            by_probe[m.probe].append(m)
        self._matches = {k: tuple(v) for k, v in by_probe.items()}
        self._counts = {name: len(entry["rows"]) for name, entry in tables.items()}

    @property
    def sources(self) -> tuple[SourceRecord, ...]:
        return self._sources

    @property
    def probes(self) -> tuple[ProbeRecord, ...]:
        return self._probes

    @property
    def exclude(self) -> tuple[ExcludeRecord, ...]:
        return self._exclude

    def matches(self, probe: int) -> tuple[MatchRecord, ...]:
        return self._matches.get(probe, ())

    def services(self) -> tuple[ServiceRecord, ...]:
        return self._services

    def rpc(self) -> tuple[RpcRecord, ...]:
        return self._rpc

    def count(self, table: str, where: str = "") -> int:
        if table == "matches" and where:
            soft = where == "soft"
            return sum(1 for ms in self._matches.values() for m in ms if m.soft == soft)
        return self._counts[table]


class SqliteBundle(Bundle):
    encoding = "sqlite"

    def __init__(self, path: str, connection: sqlite3.Connection, header: dict[str, Any]) -> None:
        super().__init__(path, header)
        self._db = connection
        self._cache: dict[int, tuple[MatchRecord, ...]] = {}
        self._sources = self._select(SOURCES, codec.source)
        self._probes = self._select(PROBES, codec.probe, order="id")
        self._exclude = self._select(EXCLUDE, codec.exclude, order="seq")

    def _select(
        self,
        table: Table,
        make: Callable[[Sequence[Any]], R],
        where: str = "",
        args: Sequence[Any] = (),
        order: str | None = None,
    ) -> tuple[R, ...]:
        columns = ", ".join(f'"{c}"' for c in table.column_names)
        sql = f'SELECT {columns} FROM "{table.name}"'
        if where:
            sql += f" WHERE {where}"
        sql += f" ORDER BY {order or ', '.join(table.primary_key)}"
        json_columns = [i for i, c in enumerate(table.columns) if c.type is ColumnType.JSON]
        out = []
        try:
            cursor = self._db.execute(sql, tuple(args))
            for raw in cursor:
                row = list(raw)
                for i in json_columns:
                    if row[i] is not None:
                        row[i] = _json.loads(row[i])
                out.append(make(row))
        except (sqlite3.Error, ValueError, TypeError) as exc:
            raise BundleError(self.path, f"table {table.name} cannot be read ({exc})") from exc
        return tuple(out)

    @property
    def sources(self) -> tuple[SourceRecord, ...]:
        return self._sources

    @property
    def probes(self) -> tuple[ProbeRecord, ...]:
        return self._probes

    @property
    def exclude(self) -> tuple[ExcludeRecord, ...]:
        return self._exclude

    def matches(self, probe: int) -> tuple[MatchRecord, ...]:
        cached = self._cache.get(probe)
        if cached is None:
            cached = self._select(MATCHES, codec.match, "probe = ?", (probe,), order="seq")
            self._cache[probe] = cached
        return cached

    def services(self) -> tuple[ServiceRecord, ...]:
        return self._select(SERVICES, codec.service)

    def rpc(self) -> tuple[RpcRecord, ...]:
        return self._select(RPC, codec.rpc)

    def count(self, table: str, where: str = "") -> int:
        sql = f'SELECT count(*) FROM "{table}"'
        if table == "matches" and where:
            sql += f" WHERE soft = {1 if where == 'soft' else 0}"
        return int(self._db.execute(sql).fetchone()[0])

    def close(self) -> None:
        self._db.close()


def open_bundle(path: str | Path) -> Bundle:
    """Open a bundle, whichever its encoding; every failure is a :class:`BundleError`."""
    shown = str(path)
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BundleError(shown, "no such bundle", "build one with `sigc build`") from None
    except OSError as exc:
        raise BundleError(shown, f"cannot be read ({exc.strerror})", "check the path and its permissions") from None
    if head == SQLITE_MAGIC:
        return _open_sqlite(shown)
    if head.startswith(JSON_PREFIX[:2]):
        return _open_json(shown)
    raise BundleError(shown, "is not a sigc bundle (neither SQLite nor JSON)")


def _check_header(path: str, header: Any) -> dict[str, Any]:
    if not isinstance(header, dict) or header.get("format") != "sigc-bundle":
        raise BundleError(path, "is not a sigc bundle (no sigc header)")
    version = header.get("schema_version")
    if version != SCHEMA_VERSION:
        raise BundleError(
            path,
            f"has schema version {version}, this sigscan reads version {SCHEMA_VERSION}",
            "rebuild it with the `sigc build` of this release",
        )
    return header


def _open_json(path: str) -> Bundle:
    data = Path(path).read_bytes()
    if not data.startswith(JSON_PREFIX) or len(data) < JSON_DIGEST_END:
        raise BundleError(path, "is not a sigc JSON bundle (no checksum at the start)")
    expected = data[len(JSON_PREFIX) : len(JSON_PREFIX) + 64].decode("ascii", "replace")
    if hashlib.sha256(data[JSON_DIGEST_END:]).hexdigest() != expected:
        raise BundleError(path, "is truncated or was modified (SHA-256 mismatch)")
    try:
        document = _json.loads(data)
    except ValueError as exc:
        raise BundleError(path, f"is not valid JSON ({exc})") from None
    _check_header(path, document.get("header"))
    try:
        return JsonBundle(path, document)
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(path, f"has a malformed table ({exc!r})") from None


def _file_crc(path: str) -> tuple[bytes, int]:
    """The first 100 bytes of a SQLite bundle and its :func:`sqlite_crc`, read in 1 MiB chunks
    (the file is never held in memory whole)."""
    with open(path, "rb") as f:
        data = f.read(100)
        crc = sqlite_crc(data)
        while chunk := f.read(1 << 20):
            crc = zlib.crc32(chunk, crc)
    return data, crc


def _open_sqlite(path: str) -> Bundle:
    data, crc = _file_crc(path)
    if len(data) < 100:
        raise BundleError(path, "is truncated (shorter than a SQLite header)")
    if int.from_bytes(data[SQLITE_APPID_OFFSET : SQLITE_APPID_OFFSET + 4], "big") != SQLITE_APPLICATION_ID:
        raise BundleError(path, "is a SQLite database but not a sigc bundle")
    stored = int.from_bytes(data[SQLITE_CRC_OFFSET : SQLITE_CRC_OFFSET + 4], "big")
    if crc != stored:
        raise BundleError(path, "is truncated or was modified (CRC-32 mismatch)")
    uri = Path(path).resolve().as_uri() + "?mode=ro&immutable=1"
    try:
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        meta = dict(connection.execute("SELECT key, value FROM meta"))
    except sqlite3.Error as exc:
        raise BundleError(path, f"cannot be read as SQLite ({exc})") from None
    header = _check_header(path, _json.loads(meta.get("header", "null")))
    return SqliteBundle(path, connection, header)
