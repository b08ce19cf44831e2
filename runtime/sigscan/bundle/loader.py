"""Open a bundle (SQLite or JSON), check it, and serve its rows.

- JSON is checked at once and read per row on demand. The file starts ``{"crc32":"<8 hex>",``
  and the checksum covers every byte after that prefix, so a truncated or edited file is caught
  (read in 1 MiB chunks) before anything is used. Version 3 had a SHA-256 there: no safer (a
  digest without a key is recomputed by whoever edits the file), and ``hashlib`` maps OpenSSL's
  libcrypto into the process for a check that took longer (docs/benchmarks.md). Its last
  member, ``segments``, gives the byte offsets of every table and of each row of ``matches``
  and ``probe_index``, which are read and decoded one at a time, as SQLite reads them, not the
  whole document at open as version 2 did (its memory and time: docs/benchmarks.md).
- SQLite is opened read-only and read per probe on demand. The file carries a CRC-32 of itself
  (computed with that field zeroed) in the header's ``user_version`` and sigc's mark in
  ``application_id``, so truncation and tampering are caught before any query.

A probe's match lines are served three ways, from light to full: :meth:`Bundle.probe_index` (the
prefilter index sigc built: which lines a response can make candidates), :meth:`Bundle.match_lines`
(what the matcher needs of the candidate lines) and :meth:`Bundle.matches` (whole records).

``sqlite3`` is imported only when a SQLite bundle is opened: a JSON bundle's cold start does
without it (``test_cold_start`` in benchmarks/test_identify.py).
"""

from __future__ import annotations

import io
import json
import os
import stat
import weakref
import zlib
from abc import ABC, abstractmethod
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cached_property
from itertools import pairwise
from os import PathLike
from typing import TYPE_CHECKING, Any, TypeVar

from sigscan.bundle import codec
from sigscan.bundle import jsonio as _json
from sigscan.bundle.errors import BundleError
from sigscan.bundle.records import (
    ExcludeRecord,
    LineRecord,
    LiteralBound,
    MatchRecord,
    ProbeRecord,
    RpcRecord,
    ServiceRecord,
    SourceRecord,
)
from sigscan.bundle.schema import (
    EXCLUDE,
    MATCHES,
    META,
    PROBE_INDEX,
    PROBES,
    RPC,
    SCHEMA_VERSION,
    SERVICES,
    SOURCES,
    SQLITE_APPLICATION_ID,
    TABLES,
    ColumnType,
    Table,
)

if TYPE_CHECKING:
    import sqlite3

R = TypeVar("R")

SQLITE_MAGIC = b"SQLite format 3\x00"
JSON_PREFIX = b'{"crc32":"'
JSON_DIGEST_END = len(JSON_PREFIX) + 8 + 2  # the checksum (8 hex digits), its closing quote and the comma
_OLD_JSON_PREFIX = b'{"sha256":"'  # schema version 3 and earlier
SQLITE_CRC_OFFSET = 60  # the header's user_version field
SQLITE_APPID_OFFSET = 68
_CHUNK = 1 << 20  # bytes read at a time for the CRC
MAX_SIZE = 1 << 30  # bytes: far above any bundle (sizes in docs/benchmarks.md); the CRC reads it all
REBUILD = "rebuild it with `sigc build`"
NAME_A_FILE = "name the bundle file itself (`sigc build` writes build/signatures.db)"
# what decoding a stored value may raise on a malformed one (codec.Malformed is a ValueError;
# RecursionError: JSON nested deeper than the decoder goes)
_DECODE_ERRORS = (ValueError, TypeError, RecursionError)
_MAX_PARAMETERS = 512  # values per IN (...) list (a power of two: see SqliteBundle.match_lines)
CACHE_KIB = 64  # SQLite's page cache per open bundle (its default is 2 MiB); see _open_sqlite


def sqlite_crc(data: bytes) -> int:
    """CRC-32 of a SQLite bundle with its own CRC field zeroed (computed in place: no copy)."""
    return _head_crc(memoryview(data))


class Bundle(ABC):
    """A loaded bundle. Probes, sources and Exclude are small and read at open; match lines are
    read per probe on demand."""

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
    def probe_index(self, probe: int) -> dict[str, Any]:
        """The probe's prefilter index in its stored form (see ``probe_index`` in the schema)."""

    @abstractmethod
    def match_lines(self, probe: int, seqs: Iterable[int]) -> list[LineRecord]:
        """The lines at positions ``seqs`` of the probe, as :class:`LineRecord` (any order)."""

    @abstractmethod
    def match(self, probe: int, seq: int) -> MatchRecord:
        """One whole line."""

    @abstractmethod
    def regex(self, probe: int, seq: int, rest: bool = False) -> bytes:
        """One line's translated pattern (``matches.regex``); with ``rest``, only the part after
        its literal head (from ``matches.rest_offset``, see ``sigc.regex.literals.split_head``)."""

    @abstractmethod
    def literal_cost(self, probe: int, seq: int) -> LiteralBound | None:
        """One line's literal-counting bound (``matches.cost_literals``), as the matcher keeps it."""

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
        return None if pid is None else self.probe_at(pid)

    def probe_at(self, probe_id: int) -> ProbeRecord:
        """The probe with id ``probe_id`` (its position in :attr:`probes`)."""
        probes = self.probes
        if not 0 <= probe_id < len(probes):
            raise BundleError(self.path, f"has no probe {probe_id} (a fallback chain names it)")
        return probes[probe_id]

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
    """Rows are read from the file when asked for, as in SQLite: the small tables (sources,
    probes, Exclude) at open, a probe's index and its lines a row at a time (``os.pread`` at the
    offsets of the ``segments`` object that ends the file; see :func:`sigc.emit.json_document`).
    Decoding the whole document at open held all of it in memory (docs/benchmarks.md); a matcher
    that has seen every line of the database now holds what a SQLite one does.

    The file was checked whole at open (its CRC-32); the descriptor kept open reads that same
    file even if a new build replaces it. The offsets are checked against the file and each
    row against what it was read as (its table's width, a line's probe and position) when it
    is read; a refused bundle leaves ``fd`` to the caller, which closes it."""

    encoding = "json"

    def __init__(self, path: str, fd: int, size: int, header: dict[str, Any], segments: dict[str, Any]) -> None:
        super().__init__(path, header)
        self._fd = fd
        self._size = size
        self._spans: dict[str, tuple[int, int]] = {}
        self._counts: dict[str, int] = {}
        for table in (SOURCES, PROBES, MATCHES, PROBE_INDEX, EXCLUDE, SERVICES, RPC):
            if table.name not in segments["tables"] or table.name not in segments["counts"]:
                raise BundleError(path, f"has no table {table.name}")
            start, end = segments["tables"][table.name]
            if not (start.__class__ is end.__class__ is int and JSON_DIGEST_END <= start <= end <= size):
                raise BundleError(path, f"table {table.name} lies outside the file (its segment list is wrong)")
            self._spans[table.name] = start, end
            self._counts[table.name] = count = segments["counts"][table.name]
            if count.__class__ is not int or count < 0:
                raise BundleError(path, f"table {table.name} has a malformed row count")
        self._starts = {name: array("q", segments["rows"][name]) for name in (MATCHES.name, PROBE_INDEX.name)}
        for name, starts in self._starts.items():
            if len(starts) != self._counts[name] + 1:
                raise BundleError(path, f"table {name} has a malformed row list")
        self._first_match = array("q", segments["first_match"])
        self._sources = self._make(SOURCES, codec.source)
        self._probes = self._make(PROBES, codec.probe)
        self._exclude = self._make(EXCLUDE, codec.exclude)
        self._check_probes()
        self._matches: dict[int, tuple[MatchRecord, ...]] = {}
        self._closer = _close_later(self, fd)  # last: a bundle refused above owns no descriptor

    def _check_probes(self) -> None:
        """Probe ids are positions, chains name probes, ``first_match`` cuts ``matches`` into
        the probes' lines in order."""
        count = len(self._probes)
        for position, probe in enumerate(self._probes):
            if probe.id != position:
                raise BundleError(self.path, f"table probes has probe {probe.id} at position {position}")
            if max(probe.chain) >= count:
                raise BundleError(self.path, f"probe {probe.name}'s fallback chain names a probe it does not have")
        first = self._first_match
        if (len(first) != count + 1 or first[0] != 0 or first[-1] != self._counts[MATCHES.name]
                or any(a > b for a, b in pairwise(first))):
            raise BundleError(self.path, "table matches has a malformed row list")

    # -- reading ---------------------------------------------------------------------------------

    def _read(self, start: int, end: int) -> bytes:
        if not 0 <= start <= end <= self._size:
            raise BundleError(self.path, "has a row outside the file (its segment list is wrong)")
        try:
            data = os.pread(self._fd, end - start, start)
        except (OSError, ValueError, OverflowError) as exc:
            raise BundleError(self.path, f"cannot be read ({exc})", "check the file, or " + REBUILD) from None
        if len(data) != end - start:
            raise BundleError(self.path, "is truncated (a row lies past its end)")
        return data

    def _loads(self, data: bytes, what: str) -> Any:
        try:
            return _json.loads(data)
        except _DECODE_ERRORS as exc:
            raise BundleError(self.path, f"has a malformed {what} ({_short(exc)})") from None

    def _checked(self, table: Table, rows: Any, count: int | None = None) -> list[dict[str, Any]]:
        """``rows`` by column name, if they are a list of rows of ``table``'s width (``count``
        of them)."""
        width = len(table.columns)
        if (rows.__class__ is not list or (count is not None and len(rows) != count)
                or any(row.__class__ is not list or len(row) != width for row in rows)):
            raise BundleError(self.path, f"table {table.name} has malformed rows")
        names = table.column_names
        return [codec.named(names, row) for row in rows]

    def _table_rows(self, table: Table) -> list[dict[str, Any]]:
        """Every row of ``table``: its ``rows`` array read and decoded at once."""
        return self._checked(table, self._loads(self._read(*self._spans[table.name]), f"table {table.name}"))

    def _rows(self, table: Table, first: int, last: int) -> list[dict[str, Any]]:
        """Rows ``first`` to ``last - 1`` of a table stored a row at a time, in one read."""
        if first >= last:
            return []
        starts = self._starts[table.name]
        data = self._read(*self._row_span(table, starts[first], starts[last]))
        return self._checked(table, self._loads(b"[" + data + b"]", f"row of {table.name}"), last - first)

    def _row(self, table: Table, k: int) -> dict[str, Any]:
        starts = self._starts[table.name]
        if not 0 <= k < len(starts) - 1:
            raise BundleError(self.path, f"table {table.name} has no row {k}")
        data = self._read(*self._row_span(table, starts[k], starts[k + 1]))
        return self._checked(table, [self._loads(data, f"row of {table.name}")], 1)[0]

    def _row_span(self, table: Table, start: int, next_start: int) -> tuple[int, int]:
        """Where the rows from ``start`` up to the one at ``next_start`` lie (the comma before
        the next row left out), checked to lie within the table's ``rows`` array."""
        low, high = self._spans[table.name]
        if not low < start < next_start <= high:
            raise BundleError(self.path, f"table {table.name} has a row outside its table (its segment list is wrong)")
        return start, next_start - 1

    def _make(self, table: Table, make: Callable[[codec.Row], R]) -> tuple[R, ...]:
        return tuple([self._decode(make, row, table.name) for row in self._table_rows(table)])

    def _decode(self, make: Callable[[codec.Row], R], row: codec.Row, table: str) -> R:
        try:
            return make(row)
        except _DECODE_ERRORS as exc:
            raise BundleError(self.path, f"has a malformed row in table {table} ({_short(exc)})") from None

    def _match_row(self, probe: int, seq: int) -> dict[str, Any]:
        first, end = self._line_range(probe)
        if not 0 <= seq < end - first:
            raise BundleError(self.path, f"probe {probe} has no line {seq}")
        row = self._row(MATCHES, first + seq)
        self._check_line(row, probe, seq)
        return row

    def _line_range(self, probe: int) -> tuple[int, int]:
        if not 0 <= probe < len(self._first_match) - 1:
            raise BundleError(self.path, f"has no probe {probe}")
        return self._first_match[probe], self._first_match[probe + 1]

    def _check_line(self, row: codec.Row, probe: int, seq: int) -> None:
        """A line's row says it is the line it was read as (its offset was not moved)."""
        if row["probe"] != probe or row["seq"] != seq:
            raise BundleError(self.path, f"table matches has another row where line {seq} of probe {probe} should be")

    # -- the Bundle API --------------------------------------------------------------------------

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
        found = self._matches.get(probe)
        if found is None:
            first, end = self._line_range(probe)
            rows = self._rows(MATCHES, first, end)
            for seq, row in enumerate(rows):
                self._check_line(row, probe, seq)
            found = self._matches[probe] = tuple([self._decode(codec.match, r, MATCHES.name) for r in rows])
        return found

    def probe_index(self, probe: int) -> dict[str, Any]:
        row = self._row(PROBE_INDEX, probe)
        first, end = self._line_range(probe)
        return _checked_index(self.path, probe, row["probe"], row["index"], end - first)

    def match_lines(self, probe: int, seqs: Iterable[int]) -> list[LineRecord]:
        return [self._decode(codec.line, self._match_row(probe, seq), MATCHES.name) for seq in seqs]

    def match(self, probe: int, seq: int) -> MatchRecord:
        return self._decode(codec.match, self._match_row(probe, seq), MATCHES.name)

    def regex(self, probe: int, seq: int, rest: bool = False) -> bytes:
        row = self._match_row(probe, seq)
        return self._decode(lambda r: codec.regex(r["regex"], r["rest_offset"] if rest else 0), row, MATCHES.name)

    def literal_cost(self, probe: int, seq: int) -> LiteralBound | None:
        return self._decode(lambda r: codec.literal_cost(r["cost_literals"]), self._match_row(probe, seq), MATCHES.name)

    def services(self) -> tuple[ServiceRecord, ...]:
        return self._make(SERVICES, codec.service)

    def rpc(self) -> tuple[RpcRecord, ...]:
        return self._make(RPC, codec.rpc)

    def count(self, table: str, where: str = "") -> int:
        if table == "matches" and where:
            soft = where == "soft"
            rows = self._rows(MATCHES, 0, self._counts["matches"])
            return sum(1 for r in rows if bool(r["soft"]) == soft)
        return self._counts[table]

    def close(self) -> None:
        self._closer()


def _checked_index(path: str, probe: int, stored_probe: Any, index: Any, lines: int) -> dict[str, Any]:
    """A probe's stored index, if it is the probe's and counts its lines: what the loader can
    check without reading it (``sigscan.matcher.index.ProbeIndex.load`` checks the rest as it
    reads it)."""
    if stored_probe != probe:
        raise BundleError(path, f"probe {probe} has no index")
    if index.__class__ is not dict or index.get("size") != lines:
        raise BundleError(path, f"probe {probe}'s index is malformed (it does not count the probe's {lines} lines)")
    return index


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 120 else text[:117] + "..."


def _close_later(owner: object, fd: int) -> Callable[[], Any]:
    """Close ``fd`` when ``owner`` is collected, or when the returned function is first called."""
    return weakref.finalize(owner, os.close, fd)


class SqliteBundle(Bundle):
    encoding = "sqlite"

    def __init__(self, path: str, connection: sqlite3.Connection, header: dict[str, Any]) -> None:
        super().__init__(path, header)
        self._db = connection
        self._db_error: type[Exception] = connection.Error  # sqlite3.Error, without importing it
        self._cache: dict[int, tuple[MatchRecord, ...]] = {}
        self._probes: tuple[ProbeRecord, ...] | None = None  # all of them, read on first use
        self._probe_rows: dict[int, ProbeRecord] = {}  # those read one at a time
        self._sources = self._select(SOURCES, codec.source)
        self._exclude = self._select(EXCLUDE, codec.exclude, order="seq")

    def _select(
        self,
        table: Table,
        make: Callable[[codec.Row], R],
        where: str = "",
        args: Sequence[Any] = (),
        order: str | None = None,
        columns: Sequence[str] | None = None,
    ) -> tuple[R, ...]:
        names = table.column_names if columns is None else tuple(columns)
        types = {c.name: c.type for c in table.columns}
        sql = f'SELECT {", ".join(f"{chr(34)}{c}{chr(34)}" for c in names)} FROM "{table.name}"'
        if where:
            sql += f" WHERE {where}"
        sql += f" ORDER BY {order or ', '.join(table.primary_key)}"
        json_columns = [c for c in names if types[c] is ColumnType.JSON]
        loads = _json.loads
        out = []
        try:
            for raw in self._db.execute(sql, tuple(args)):
                row = codec.named(names, raw)
                for c in json_columns:
                    if row[c] is not None:
                        row[c] = loads(row[c])
                out.append(make(row))
        except (self._db_error, *_DECODE_ERRORS) as exc:
            raise BundleError(self.path, f"table {table.name} cannot be read ({_short(exc)})") from None
        return tuple(out)

    @property
    def sources(self) -> tuple[SourceRecord, ...]:
        return self._sources

    @property
    def probes(self) -> tuple[ProbeRecord, ...]:
        if self._probes is None:
            probes = self._select(PROBES, codec.probe, order="id")
            for position, probe in enumerate(probes):
                if probe.id != position:
                    raise BundleError(self.path, f"table probes has probe {probe.id} at position {position}")
                self._check_chain(probe)
            self._probes = probes
        return self._probes

    def _check_chain(self, probe: ProbeRecord) -> None:
        """The probe's fallback chain names probes the bundle has (it is walked for every
        response to the probe)."""
        if max(probe.chain) >= len(self._probe_ids):
            raise BundleError(self.path, f"probe {probe.name}'s fallback chain names a probe it does not have")

    @cached_property
    def _probe_ids(self) -> dict[tuple[str, str], int]:
        try:
            return {(protocol, name): pid for protocol, name, pid in
                    self._db.execute('SELECT "protocol", "name", "id" FROM "probes"')}
        except self._db_error as exc:
            raise BundleError(self.path, f"table probes cannot be read ({exc})") from exc

    def probe_at(self, probe_id: int) -> ProbeRecord:
        if self._probes is not None:
            return super().probe_at(probe_id)
        found = self._probe_rows.get(probe_id)
        if found is None:
            rows = self._select(PROBES, codec.probe, "id = ?", (probe_id,))
            if not rows:
                raise BundleError(self.path, f"has no probe {probe_id} (a fallback chain names it)")
            self._check_chain(rows[0])
            found = self._probe_rows[probe_id] = rows[0]
        return found

    @property
    def exclude(self) -> tuple[ExcludeRecord, ...]:
        return self._exclude

    def matches(self, probe: int) -> tuple[MatchRecord, ...]:
        cached = self._cache.get(probe)
        if cached is None:
            cached = self._select(MATCHES, codec.match, "probe = ?", (probe,), order="seq")
            self._cache[probe] = cached
        return cached

    def probe_index(self, probe: int) -> dict[str, Any]:
        try:
            row = self._db.execute('SELECT "index" FROM "probe_index" WHERE "probe" = ?', (probe,)).fetchone()
            if row is None:
                raise BundleError(self.path, f"probe {probe} has no index")
            index = _json.loads(row[0])
            lines = self._db.execute('SELECT count(*) FROM "matches" WHERE "probe" = ?', (probe,)).fetchone()[0]
        except (self._db_error, *_DECODE_ERRORS) as exc:
            raise BundleError(self.path, f"table probe_index cannot be read ({_short(exc)})") from None
        return _checked_index(self.path, probe, probe, index, lines)

    def match_lines(self, probe: int, seqs: Iterable[int]) -> list[LineRecord]:
        wanted = list(dict.fromkeys(seqs))
        out: list[LineRecord] = []
        for start in range(0, len(wanted), _MAX_PARAMETERS):
            chunk = wanted[start : start + _MAX_PARAMETERS]
            # padded to a power of two (repeating a value changes nothing an IN list finds):
            # ten statement shapes instead of one per length, each kept prepared by sqlite3
            chunk += chunk[-1:] * ((1 << (len(chunk) - 1).bit_length()) - len(chunk))
            where = f"probe = ? AND seq IN ({', '.join('?' * len(chunk))})"
            out += self._select(MATCHES, codec.line, where, (probe, *chunk), order="seq",
                                columns=codec.LINE_COLUMNS)
        if len({line.seq for line in out}) != len(wanted):  # each row is (probe, seq) asked for
            raise BundleError(self.path, f"probe {probe} lacks some of its lines {wanted[:8]}")
        return out

    def match(self, probe: int, seq: int) -> MatchRecord:
        return self._one(probe, seq, codec.match, *MATCHES.column_names)

    def regex(self, probe: int, seq: int, rest: bool = False) -> bytes:
        return self._one(probe, seq, lambda row: codec.regex(row["regex"], row["rest_offset"] if rest else 0),
                         "regex", "rest_offset")

    def literal_cost(self, probe: int, seq: int) -> LiteralBound | None:
        return self._one(probe, seq, lambda row: codec.literal_cost(row["cost_literals"]), "cost_literals")

    def _one(self, probe: int, seq: int, make: Callable[[codec.Row], R], *columns: str) -> R:
        """``make`` of some columns of one line."""
        found = self._select(MATCHES, make, "probe = ? AND seq = ?", (probe, seq), columns=columns)
        if not found:
            raise BundleError(self.path, f"probe {probe} has no line {seq}")
        return found[0]

    def services(self) -> tuple[ServiceRecord, ...]:
        return self._select(SERVICES, codec.service)

    def rpc(self) -> tuple[RpcRecord, ...]:
        return self._select(RPC, codec.rpc)

    def count(self, table: str, where: str = "") -> int:
        sql = f'SELECT count(*) FROM "{table}"'
        if table == "matches" and where:
            sql += f" WHERE soft = {1 if where == 'soft' else 0}"
        try:
            return int(self._db.execute(sql).fetchone()[0])
        except self._db_error as exc:
            raise BundleError(self.path, f"table {table} cannot be read ({_short(exc)})") from None

    def close(self) -> None:
        self._db.close()


def open_bundle(path: str | PathLike[str]) -> Bundle:
    """Open a bundle, whichever its encoding; every failure is a :class:`BundleError` whose
    message names the file, what is wrong with it and what to do."""
    shown = os.fspath(path)
    fd = _open_file(shown)
    try:
        head = os.pread(fd, len(SQLITE_MAGIC), 0)
        if head == SQLITE_MAGIC:
            return _open_sqlite(shown, fd)
        if head.startswith(JSON_PREFIX[:2]):
            bundle = _open_json(shown, fd)
            fd = -1  # the bundle's now
            return bundle
    except OSError as exc:
        raise BundleError(shown, f"cannot be read ({exc.strerror})", "check the file, or " + REBUILD) from None
    finally:
        if fd >= 0:
            os.close(fd)
    raise BundleError(shown, "is not a sigc bundle (neither SQLite nor JSON)")


def _open_file(path: str) -> int:
    """A descriptor of the bundle file, which must be a regular file, not empty and not huge.
    Opened without blocking, so that a FIFO is refused rather than waited on."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        if os.path.islink(path):
            raise BundleError(path, "is a symbolic link to a missing file", NAME_A_FILE) from None
        raise BundleError(path, "no such bundle", "build one with `sigc build`") from None
    except OSError as exc:
        kind = _kind(path)
        if kind is not None:
            raise BundleError(path, f"is {kind}, not a bundle file", NAME_A_FILE) from None
        raise BundleError(path, f"cannot be read ({exc.strerror})",
                          "check its permissions, or " + REBUILD) from None
    try:
        mode, size = _stat(fd)
        kind = _KINDS.get(stat.S_IFMT(mode))
        if kind is not None:
            raise BundleError(path, f"is {kind}, not a bundle file", NAME_A_FILE)
        if size == 0:
            raise BundleError(path, "is empty (0 bytes)")
        if size > MAX_SIZE:
            raise BundleError(path, f"is {size} bytes, more than any bundle sigc writes ({MAX_SIZE})")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFIFO: "a named pipe (FIFO)", stat.S_IFSOCK: "a socket"}


def _stat(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_mode, st.st_size


def _kind(path: str) -> str | None:
    """What ``path`` is when it is not a regular file (a socket cannot be opened at all)."""
    try:
        return _KINDS.get(stat.S_IFMT(os.stat(path).st_mode))
    except OSError:
        return None


def _check_header(path: str, header: Any) -> dict[str, Any]:
    if not isinstance(header, dict) or header.get("format") != "sigc-bundle":
        raise BundleError(path, "is not a sigc bundle (no sigc header)")
    version = header.get("schema_version")
    if version != SCHEMA_VERSION:
        raise BundleError(
            path,
            f"has schema version {version!r}, this sigscan reads version {SCHEMA_VERSION}",
            "rebuild it with the `sigc build` of this release",
        )
    return header


def _open_json(path: str, fd: int) -> Bundle:
    """Check the file's CRC-32 (read in 1 MiB chunks, never held whole), then read its header and
    the ``segments`` object at its end; rows are read later (:class:`JsonBundle`). A refused
    bundle leaves ``fd`` to the caller."""
    head = os.pread(fd, JSON_DIGEST_END, 0)
    if head.startswith(_OLD_JSON_PREFIX):
        raise BundleError(path, "was written by an older sigc (schema version 3 or earlier)",
                          "rebuild it with the `sigc build` of this release")
    if not head.startswith(JSON_PREFIX) or len(head) < JSON_DIGEST_END:
        raise BundleError(path, "is not a sigc JSON bundle (no checksum at the start)")
    expected = head[len(JSON_PREFIX) : len(JSON_PREFIX) + 8].decode("ascii", "replace")
    crc, size = 0, JSON_DIGEST_END
    buffer = bytearray(_CHUNK)  # one buffer reused, the file never held whole
    view = memoryview(buffer)
    reader = io.FileIO(fd, closefd=False)
    reader.seek(size)
    while n := reader.readinto(buffer):
        crc = zlib.crc32(view[:n], crc)
        size += n
    if f"{crc:08x}" != expected:
        raise BundleError(path, "is truncated or was modified (CRC-32 mismatch)")
    header = _check_header(path, _json_header(path, fd))
    segments = _segments(path, fd, size)
    try:
        return JsonBundle(path, fd, size, header, segments)
    except (KeyError, TypeError, ValueError, IndexError, OverflowError) as exc:
        raise BundleError(path, f"has a malformed segment list ({_short(exc)})") from None


SEGMENTS_KEY = b',"segments":'  # the last member of a JSON bundle
_HEADER_KEY = b'"header":'  # the first member after the digest, in every version
_HEADER_READ = 1 << 14  # bytes read first for the header (a few kilobytes), then 16 times more
_HEADER_MAX = 1 << 22


def _json_header(path: str, fd: int) -> Any:
    """The header, read from where every version of the encoding puts it (first after the
    digest), without the rest of the layout: so a bundle of another version is named as such."""
    size = _HEADER_READ
    while True:
        data = os.pread(fd, size, JSON_DIGEST_END)
        if not data.startswith(_HEADER_KEY):
            raise BundleError(path, "is not a sigc bundle (no sigc header)")
        try:
            header, _ = json.JSONDecoder().raw_decode(data.decode("utf-8", "replace"), len(_HEADER_KEY))
        except ValueError as exc:
            if len(data) == size and size < _HEADER_MAX:  # the header may go on: read more
                size *= 16
                continue
            raise BundleError(path, f"has a malformed header ({_short(exc)})") from None
        except RecursionError:
            raise BundleError(path, "has a malformed header (nested too deep)") from None
        return header


def _segments(path: str, fd: int, size: int) -> dict[str, Any]:
    """The ``segments`` object, found from the end of the file (its text holds only keys and
    integers, so the last occurrence of the key is its own), at a growing tail."""
    tail = 1 << 16
    while True:
        start = max(0, size - tail)
        data = os.pread(fd, size - start, start)
        at = data.rfind(SEGMENTS_KEY)
        if at >= 0 or start == 0:
            break
        tail *= 4
    body = data[at + len(SEGMENTS_KEY) :].rstrip()
    if at < 0 or not body.endswith(b"}"):
        raise BundleError(path, "has no segment list", "rebuild it with the `sigc build` of this release")
    try:
        segments = _json.loads(body[:-1])
    except _DECODE_ERRORS as exc:
        raise BundleError(path, f"has a malformed segment list ({_short(exc)})") from None
    if not isinstance(segments, dict):
        raise BundleError(path, "has a malformed segment list")
    return segments


def _file_crc(fd: int) -> tuple[bytes, int]:
    """The first 100 bytes of a SQLite bundle and its :func:`sqlite_crc`, read in 1 MiB chunks
    into one reused buffer (the file is never held in memory whole)."""
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    with io.FileIO(fd, closefd=False) as f:
        size = f.readinto(buffer) or 0
        data = bytes(view[: min(size, 100)])
        crc = _head_crc(view[:size])
        while size := f.readinto(buffer):
            crc = zlib.crc32(view[:size], crc)
    return data, crc


def _head_crc(view: memoryview) -> int:
    crc = zlib.crc32(view[:SQLITE_CRC_OFFSET])
    crc = zlib.crc32(b"\0\0\0\0", crc)
    return zlib.crc32(view[SQLITE_CRC_OFFSET + 4 :], crc)


def _uri(path: str) -> str:
    """A ``file:`` URI for SQLite: every byte outside ``A-Za-z0-9-._~/`` percent-encoded."""
    raw = os.fsencode(os.path.abspath(path))
    safe = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/"
    return "file:" + "".join(chr(b) if b in safe else f"%{b:02X}" for b in raw)


def _open_sqlite(path: str, fd: int) -> Bundle:
    import sqlite3  # here, not at the top: JSON bundles start without it (test_cold_start, docs/benchmarks.md)

    data, crc = _file_crc(fd)
    if len(data) < 100:
        raise BundleError(path, "is truncated (shorter than a SQLite header)")
    if int.from_bytes(data[SQLITE_APPID_OFFSET : SQLITE_APPID_OFFSET + 4], "big") != SQLITE_APPLICATION_ID:
        raise BundleError(path, "is a SQLite database but not a sigc bundle")
    stored = int.from_bytes(data[SQLITE_CRC_OFFSET : SQLITE_CRC_OFFSET + 4], "big")
    if crc != stored:
        raise BundleError(path, "is truncated or was modified (CRC-32 mismatch)")
    try:
        connection = sqlite3.connect(_uri(path) + "?mode=ro&immutable=1", uri=True, check_same_thread=False)
    except sqlite3.Error as exc:
        raise BundleError(path, f"cannot be read as SQLite ({exc})") from None
    try:
        # each line is read once, then kept by the matcher: a small page cache is enough
        # (test_peak_rss in benchmarks/test_identify.py; figures in docs/benchmarks.md)
        connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        _check_layout(path, connection)
        meta = dict(connection.execute("SELECT key, value FROM meta"))
        header = _check_header(path, _json.loads(meta.get("header", "null")))
        return SqliteBundle(path, connection, header)
    except (sqlite3.Error, *_DECODE_ERRORS) as exc:
        connection.close()
        raise BundleError(path, f"cannot be read as a sigc bundle ({_short(exc)})") from None
    except BaseException:
        connection.close()
        raise


def _check_layout(path: str, connection: sqlite3.Connection) -> None:
    """The tables are sigc's, with sigc's columns, and nothing runs when they are read: a view
    or a trigger (which sigc never writes) could make a query endless."""
    objects = connection.execute("SELECT type, name FROM sqlite_master WHERE type NOT IN ('table', 'index')").fetchall()
    if objects:
        kind, name = objects[0]
        raise BundleError(path, f"has a {kind} {name!r}, which sigc does not write")
    for table in (*TABLES, META):
        columns = tuple(row[0] for row in connection.execute("SELECT name FROM pragma_table_info(?)", (table.name,)))
        if columns != table.column_names:
            raise BundleError(path, f"has no table {table.name} with sigc's columns")
