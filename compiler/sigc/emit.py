"""Write an analysed database as a bundle: SQLite (sqlite-utils) or JSON (orjson).

Both encodings take the same rows from :func:`rows`, in the same order, so they hold the same
content; building twice gives byte-identical JSON and the same SQLite content (and in practice
the same SQLite bytes). The file is written under :mod:`sigscan.bundle.files`' rules: beside the
target and renamed into place (so a failed build never leaves a half-written bundle where a good
one was), written through a link, streamed into a device or FIFO, never over one of its sources.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

import sigc
from sigc.analyze import AnalyzedMatch, AnalyzedProbe, Database
from sigc.prefilter import index_data
from sigscan.bundle import codec, files
from sigscan.bundle.codec import to_stored
from sigscan.bundle.fields import Field
from sigscan.bundle.loader import (
    JSON_DIGEST_END,
    JSON_PREFIX,
    SEGMENTS_KEY,
    SQLITE_APPID_OFFSET,
    SQLITE_CRC_OFFSET,
    sqlite_crc,
)
from sigscan.bundle.records import KeyRecord
from sigscan.bundle.schema import (
    EXCLUDE,
    MATCHES,
    META,
    PORT_INDEX,
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

_SQL_TYPES = {
    ColumnType.INT: int,
    ColumnType.BOOL: int,
    ColumnType.TEXT: str,
    ColumnType.BYTES: str,
    ColumnType.JSON: str,
}


def header(db: Database, options: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": "sigc-bundle",
        "schema_version": SCHEMA_VERSION,
        "sigc_version": sigc.__version__,
        "sources": [
            {"kind": s.kind, "path": s.path, "sha256": s.sha256, "version_line": s.version_line}
            for s in db.sources
        ],
        "options": options,
        "counts": counts(db),
    }


def counts(db: Database) -> dict[str, int]:
    soft = sum(1 for m in db.matches if m.match.soft)
    return {
        "probes": len(db.probes),
        "tcp_probes": sum(1 for p in db.probes if p.probe.protocol.value == "TCP"),
        "udp_probes": sum(1 for p in db.probes if p.probe.protocol.value == "UDP"),
        "matches": len(db.matches) - soft,
        "softmatches": soft,
        "services": len({m.match.service for m in db.matches}),
    }


def rows(db: Database) -> dict[str, list[list[Any]]]:
    """Every table's rows in stored form (see :mod:`sigscan.bundle.codec`), in a fixed order.
    The writers do not hold them all: they take :func:`small_tables` whole and the lines' rows
    one at a time (:func:`match_rows`)."""
    tables = small_tables(db)
    tables[MATCHES.name] = list(match_rows(db))
    return {t.name: tables[t.name] for t in TABLES}


def small_tables(db: Database) -> dict[str, list[list[Any]]]:
    """The rows of every table but ``matches``, in stored form: a few thousand rows at most
    (``probe_index`` holds one row per probe)."""
    tables: dict[Table, Iterable[dict[str, Any]]] = {
        SOURCES: (
            {"id": i, "kind": s.kind, "path": s.path, "sha256": s.sha256, "version_line": s.version_line}
            for i, s in enumerate(db.sources)
        ),
        PROBES: (_probe_row(p) for p in db.probes),
        PROBE_INDEX: _probe_indexes(db),
        PORT_INDEX: (
            {"protocol": proto, "port": port, "ssl": ssl, "probe": pid}
            for ssl in (False, True)
            for proto, port, pid in db.port_index(ssl=ssl)
        ),
        EXCLUDE: (
            {"seq": i, "protocol": item.protocol, "start": item.ports.start if item.ports else None,
             "end": item.ports.end if item.ports else None, "service": item.service}
            for i, item in enumerate(db.exclude.items if db.exclude else ())
        ),
        SERVICES: (
            {"protocol": s.protocol, "port": s.port, "name": s.name, "frequency": s.frequency, "seq": s.line}
            for s in db.services
        ),
        RPC: ({"number": r.number, "name": r.name, "aliases": list(r.aliases), "seq": r.line} for r in db.rpc),
    }
    return {table.name: list(to_stored(table, rows)) for table, rows in tables.items()}


def match_rows(db: Database) -> Iterator[list[Any]]:
    """Each line's row in stored form, made when asked for: the rows of all lines together take
    twice the memory of the analysed database they come from."""
    template_data: dict[int, list[Any]] = {}  # id(template) -> to_data(): templates are shared
    return to_stored(MATCHES, (_match_row(m, template_data) for m in db.matches))


def _probe_row(p: AnalyzedProbe) -> dict[str, Any]:
    probe = p.probe
    return {
        "id": p.id,
        "protocol": probe.protocol.value,
        "name": probe.name,
        "payload": probe.payload,
        "raw_payload": probe.raw_payload,
        "delimiter": probe.delimiter.decode("latin-1"),
        "options": list(probe.options),
        "is_null": probe.is_null,
        "rarity": probe.rarity,
        "ports": [[r.start, r.end] for r in probe.ports.ranges],
        "sslports": [[r.start, r.end] for r in probe.sslports.ranges],
        "fallback": None if probe.fallback is None else list(probe.fallback),
        "chain": list(p.chain),
        "totalwaitms": probe.totalwaitms,
        "tcpwrappedms": probe.tcpwrappedms,
        "services": list(p.services),
        "source": p.source,
        "line": probe.location.line,
        "directives": [[d.keyword, d.text, d.location.line] for d in probe.directives],
    }


_CPE = Field.CPE
_KEYS = {f: f.value for f in Field}  # Field.value, looked up without the enum descriptor


def _probe_indexes(db: Database) -> Iterator[dict[str, Any]]:
    """Each probe's row: its index as stored data, built from its lines' prefilter keys
    (:func:`sigc.prefilter.index_data`)."""
    start = 0
    for p in db.probes:
        end = start
        while end < len(db.matches) and db.matches[end].probe == p.id:
            end += 1
        yield {"probe": p.id, "index": index_data([_key(m) for m in db.matches[start:end]])}
        start = end


def _key(m: AnalyzedMatch) -> KeyRecord:
    if m.key is None:
        raise ValueError(f"line {m.match.location} has no prefilter key: its database was analysed for lint")
    return m.key


def _match_row(m: AnalyzedMatch, template_data: dict[int, list[Any]]) -> dict[str, Any]:
    """The line's row."""
    match, pa = m.match, m.pattern
    product = match.field(Field.PRODUCT)
    templates: dict[str, Any] = {}
    cpes = []
    for key, template in m.templates:
        data = template_data.get(id(template))
        if data is None:
            data = template_data[id(template)] = template.to_data()
        if key is _CPE:
            cpes.append(data)
        else:
            templates[_KEYS[key]] = data  # a repeated field replaces the earlier
    templates["cpe"] = cpes
    return {
        "id": m.id,
        "probe": m.probe,
        "seq": m.seq,
        "soft": match.soft,
        "service": match.service,
        "pattern": match.pattern,
        "regex": pa.translated,
        "delimiter": match.delimiter.decode("latin-1"),
        "flags": match.flags,
        "caseless": match.caseless,
        "dotall": match.dotall,
        "groups": pa.groups,
        "anchored": pa.anchored,
        "prefix": pa.prefix,
        "required": [r.decode("latin-1") for r in pa.required],
        "min_length": pa.min_length,
        "product": product.text.decode("latin-1") if product else None,
        "fields": [[_KEYS[f.key], f.delimiter.decode("latin-1"), f.text.decode("latin-1"), f.flags]
                   for f in match.fields],
        "templates": templates,
        "source": m.source,
        "line": match.location.line,
        "cost_degree": None if m.cost is None else m.cost.degree,
        "cost_constant": None if m.cost is None else m.cost.constant,
        "cost_literals": None if m.literal_cost is None else [
            m.literal_cost.degree, m.literal_cost.constant,
            [[literal.decode("latin-1"), weight] for literal, weight in m.literal_cost.literals]],
        "head_length": pa.head_length,
        "rest_offset": pa.rest_offset,
        "first_bytes": pa.first_bytes,
    }


def content_digest(tables: dict[str, list[list[Any]]]) -> str:
    """SHA-256 of the logical content: equal for equal content, whatever the encoding. The
    writers compute the same digest with the lines' rows fed one at a time (:class:`_Digest`)."""
    return hashlib.sha256(orjson.dumps(tables, option=orjson.OPT_SORT_KEYS)).hexdigest()


class _Digest:
    """:func:`content_digest` of ``small`` plus the ``matches`` rows, given one at a time as
    their JSON (``orjson.dumps`` with sorted keys): the bytes hashed are those of
    ``orjson.dumps(tables, option=OPT_SORT_KEYS)``, compact JSON with the tables by name."""

    def __init__(self, small: dict[str, list[list[Any]]]) -> None:
        self._small = small
        self._names = sorted([*small, MATCHES.name])
        self._sha = hashlib.sha256(b"{")
        self._rows = 0
        at = self._names.index(MATCHES.name)
        for name in self._names[:at]:
            self._table(name)
        self._key(MATCHES.name)
        self._sha.update(b"[")

    def _key(self, name: str) -> None:
        self._sha.update(b"," * (name != self._names[0]) + orjson.dumps(name) + b":")

    def _table(self, name: str) -> None:
        self._key(name)
        self._sha.update(orjson.dumps(self._small[name], option=orjson.OPT_SORT_KEYS))

    def row(self, dumped: bytes) -> None:
        self._sha.update(b"," * (self._rows > 0) + dumped)
        self._rows += 1

    def hexdigest(self) -> str:
        """The digest, once every row was given (call it once)."""
        self._sha.update(b"]")
        for name in self._names[self._names.index(MATCHES.name) + 1 :]:
            self._table(name)
        self._sha.update(b"}")
        return self._sha.hexdigest()


def write_json(db: Database, path: Path, options: dict[str, Any]) -> int:
    """The lines' rows are kept as their JSON only (what the document holds), and the document is
    written part by part, never joined. Each row's JSON is copied before it is kept: the bytes
    ``orjson.dumps`` returns keep the buffer it wrote them into, several times their length
    (benchmarks/test_compiler_memory.py; docs/benchmarks.md). Its size in bytes."""
    small = small_tables(db)
    digest = _Digest(small)
    dumps, sort = orjson.dumps, orjson.OPT_SORT_KEYS
    lines = []
    for row in match_rows(db):
        dumped = dumps(row, option=sort)
        digest.row(dumped)
        lines.append(bytes(memoryview(dumped)))  # a copy of its size (see above)
    head = header(db, options) | {"content_sha256": digest.hexdigest()}
    body = json_body(head, small, lines, [m.probe for m in db.matches], len(db.probes))
    crc = 0
    for part in body:
        crc = zlib.crc32(part, crc)
    chunks = [JSON_PREFIX + b"%08x" % crc + b'",', *body]
    with files.open_output(path, inputs=_inputs(db), parents=True) as output:
        output.writelines(chunks)
    return sum(map(len, chunks))


def _inputs(db: Database) -> list[str]:
    """The files a bundle is built from, which writing it must not replace."""
    return [s.path for s in db.sources]


# Tables whose rows the runtime reads one at a time (the others are read whole).
_BY_ROW = frozenset({MATCHES.name, PROBE_INDEX.name})


def json_body(head: dict[str, Any], small: dict[str, list[list[Any]]], lines: Sequence[bytes],
              line_probes: Sequence[int], probes: int) -> list[bytes]:
    """The JSON encoding after its checksum, in parts: ``{"crc32": …, "header": …, "tables":
    {name: {"columns", "rows"}}, "segments": …}`` with keys sorted, and the checksum over every
    byte after its own member. ``lines`` are the ``matches`` rows as JSON, ``line_probes`` their
    probe ids.

    ``segments`` (the last member) says where things are, as byte offsets in the file: each
    table's ``rows`` array (``tables``: name -> [start, end)); for the
    tables read a row at a time, where each row starts (``rows``: name -> offsets, one more than
    the rows: row k spans ``[starts[k], starts[k+1] - 1)``, the comma excluded); the first
    ``matches`` row of each probe (``first_match``, one more than the probes: rows are in probe
    order); and each table's row count (``counts``)."""
    dumps = orjson.dumps
    sort = orjson.OPT_SORT_KEYS
    parts: list[bytes] = []
    at = JSON_DIGEST_END  # the file offset where the next part goes

    def put(chunk: bytes) -> int:
        nonlocal at
        start = at
        parts.append(chunk)
        at += len(chunk)
        return start

    by_name = {t.name: t for t in TABLES}
    put(b'"header":' + dumps(head, option=sort) + b',"tables":{')
    spans: dict[str, list[int]] = {}
    starts: dict[str, list[int]] = {}
    for i, name in enumerate(sorted([*small, MATCHES.name])):
        put(b"," * (i > 0) + dumps(name) + b':{"columns":' + dumps(list(by_name[name].column_names)) + b',"rows":')
        if name in _BY_ROW:
            first = put(b"[")
            rows = lines if name == MATCHES.name else [dumps(row, option=sort) for row in small[name]]
            row_starts = []
            for k, row in enumerate(rows):
                if k:
                    put(b",")
                row_starts.append(put(row))
            row_starts.append(at + 1)  # where a next row would start
            put(b"]")
            starts[name] = row_starts
        else:
            first = put(dumps(small[name], option=sort))
        spans[name] = [first, at]
        put(b"}")
    put(b"}")
    first_match = [0] * (probes + 1)
    for probe in line_probes:
        first_match[probe + 1] += 1
    for p in range(probes):
        first_match[p + 1] += first_match[p]
    counts = {name: len(r) for name, r in small.items()} | {MATCHES.name: len(lines)}
    segments = {"counts": counts, "first_match": first_match, "rows": starts, "tables": spans}
    put(SEGMENTS_KEY + dumps(segments, option=sort) + b"}")
    return parts


def write_sqlite(db: Database, path: Path, options: dict[str, Any]) -> int:
    """Write the SQLite encoding (into an empty file sqlite-utils fills); its size in bytes."""
    small = small_tables(db)
    digest = _Digest(small)
    with files.staged(path, inputs=_inputs(db), parents=True) as tmp:
        try:
            _fill_sqlite(Path(tmp), small, _hashed(match_rows(db), digest),
                         lambda: header(db, options) | {"content_sha256": digest.hexdigest()})
            _seal(Path(tmp))
        except sqlite3.Error as exc:  # a full disk, a size limit: SQLite's words for it
            raise files.OutputError(str(path), str(exc)) from None
        except OSError as exc:
            raise files.OutputError.of(str(path), exc) from None
        return os.path.getsize(tmp)


def _hashed(rows: Iterable[list[Any]], digest: _Digest) -> Iterator[list[Any]]:
    """The rows, each given to ``digest`` as it passes."""
    dumps, sort = orjson.dumps, orjson.OPT_SORT_KEYS
    for row in rows:
        digest.row(dumps(row, option=sort))
        yield row


_CHUNK = 1 << 20  # bytes read at a time to checksum a bundle (the file is as large as the database)


def _seal(path: Path) -> None:
    """Write the CRC-32 of the file (its own field zeroed) into the header's ``user_version``;
    ``application_id`` is already set. Only those four bytes are written."""
    with open(path, "r+b") as f:
        head = f.read(_CHUNK)  # the first chunk holds the 100-byte header
        if int.from_bytes(head[SQLITE_APPID_OFFSET : SQLITE_APPID_OFFSET + 4], "big") != SQLITE_APPLICATION_ID:
            raise RuntimeError(f"{path}: application_id was not written")  # a bug, not bad input
        crc = sqlite_crc(head)
        while chunk := f.read(_CHUNK):
            crc = zlib.crc32(chunk, crc)
        f.seek(SQLITE_CRC_OFFSET)
        f.write(crc.to_bytes(4, "big"))


def _fill_sqlite(path: Path, small: dict[str, list[list[Any]]], lines: Iterable[list[Any]],
                 head: Callable[[], dict[str, Any]]) -> None:
    """Tables created by sqlite-utils, rows inserted in one transaction (``lines``, the
    ``matches`` rows, as they come), then the header (``head()``, called once the rows are in),
    the indexes (faster on full tables) and the full-text index. No VACUUM: it made the file
    hardly smaller for a noticeable part of the build (docs/benchmarks.md)."""
    import sqlite_utils  # only SQLite builds need it, and it is slow to import

    db = sqlite_utils.Database(path)
    try:
        conn = db.conn
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute(f"PRAGMA application_id = {SQLITE_APPLICATION_ID}")
        for table in (*TABLES, META):
            columns = {c.name: _SQL_TYPES[c.type] for c in table.columns}
            pk = table.primary_key[0] if len(table.primary_key) == 1 else table.primary_key
            if table.without_rowid:  # sqlite-utils writes the statement, SQLite's clause added
                sql = db.create_table_sql(table.name, columns, pk=pk).rstrip().rstrip(";")
                conn.execute(f"{sql} WITHOUT ROWID")
            else:
                db[table.name].create(columns, pk=pk)  # type: ignore[union-attr]
        with conn:
            for table in TABLES:
                names = ", ".join(f'"{name}"' for name in table.column_names)
                placeholders = ", ".join("?" for _ in table.columns)
                rows = lines if table is MATCHES else small[table.name]
                conn.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({placeholders})',
                                 _json_as_text(table, rows))
            conn.execute('INSERT INTO "meta" VALUES (?, ?)', ("header", codec.json_text(head())))
        for table in TABLES:
            for index in table.indexes:
                db[table.name].create_index(list(index))  # type: ignore[union-attr]
        db["matches"].enable_fts(["service", "product"], create_triggers=False, replace=True)  # type: ignore[union-attr]
    finally:
        db.close()


def _json_as_text(table: Table, rows: Iterable[list[Any]]) -> Iterator[list[Any]]:
    """The rows with their ``json`` columns as JSON text (:func:`sigscan.bundle.codec.json_text`)."""
    json_cols = [i for i, c in enumerate(table.columns) if c.type is ColumnType.JSON]
    if not json_cols:
        yield from rows
        return
    dumps, sort = orjson.dumps, orjson.OPT_SORT_KEYS
    for r in rows:
        row = list(r)
        for i in json_cols:
            value = row[i]
            if value is not None:
                row[i] = dumps(value, option=sort).decode()
        yield row


def encoding_of(path: Path) -> str:
    """The encoding a bundle's name selects: ``json`` for a ``.json`` suffix, else ``sqlite``."""
    return "json" if path.suffix.lower() == ".json" else "sqlite"


def preload(path: Path) -> None:
    """Import what writing ``path`` takes (sqlite-utils for SQLite), for a caller with time to
    spare before it writes (the build, while its analysis child finishes: benchmarks/test_build.py)."""
    if encoding_of(path) == "sqlite":
        import sqlite_utils  # noqa: F401  # imported for later


def write(db: Database, path: Path, options: dict[str, Any]) -> tuple[str, int]:
    """Write ``path`` in the encoding its suffix selects (:func:`encoding_of`): that encoding and
    the bundle's size in bytes. :class:`sigscan.bundle.files.OutputError` when it cannot be written."""
    encoding = encoding_of(path)
    if encoding == "json":
        return encoding, write_json(db, path, options)
    return encoding, write_sqlite(db, path, options)
