"""Write an analysed database as a bundle: SQLite (sqlite-utils) or JSON (orjson).

Both encodings take the same rows from :func:`rows`, in the same order, so they hold the same
content; building twice gives byte-identical JSON and the same SQLite content (and in practice
the same SQLite bytes). Files are written beside the target and renamed into place, so a failed
build never leaves a half-written bundle where a good one was.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import sqlite_utils

import sigc
from sigc.analyze import AnalyzedMatch, AnalyzedProbe, Database
from sigscan.bundle import codec
from sigscan.bundle.loader import JSON_PREFIX, SQLITE_APPID_OFFSET, SQLITE_CRC_OFFSET, sqlite_crc
from sigscan.bundle.schema import (
    EXCLUDE,
    MATCHES,
    META,
    PORT_INDEX,
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
from sigscan.fields import Field

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
    """Every table's rows in stored form (see :mod:`sigscan.bundle.codec`), in a fixed order."""
    tables: dict[str, Iterator[tuple[Any, ...]]] = {
        SOURCES.name: (
            (i, s.kind, s.path, s.sha256, s.version_line) for i, s in enumerate(db.sources)
        ),
        PROBES.name: (_probe_row(p) for p in db.probes),
        MATCHES.name: (_match_row(m) for m in db.matches),
        PORT_INDEX.name: (
            (proto, port, ssl, pid)
            for ssl in (False, True)
            for proto, port, pid in db.port_index(ssl=ssl)
        ),
        EXCLUDE.name: (
            (i, item.protocol, item.ports.start if item.ports else None,
             item.ports.end if item.ports else None, item.service)
            for i, item in enumerate(db.exclude.items if db.exclude else ())
        ),
        SERVICES.name: (
            (s.protocol, s.port, s.name, s.frequency, s.line) for s in db.services
        ),
        RPC.name: ((r.number, r.name, list(r.aliases), r.line) for r in db.rpc),
    }
    by_name = {t.name: t for t in TABLES}
    return {name: [codec.to_stored(by_name[name], r) for r in it] for name, it in tables.items()}


def _probe_row(p: AnalyzedProbe) -> tuple[Any, ...]:
    probe = p.probe
    return (
        p.id,
        probe.protocol.value,
        probe.name,
        probe.payload,
        probe.raw_payload,
        probe.delimiter.decode("latin-1"),
        list(probe.options),
        probe.is_null,
        probe.rarity,
        [[r.start, r.end] for r in probe.ports.ranges],
        [[r.start, r.end] for r in probe.sslports.ranges],
        None if probe.fallback is None else list(probe.fallback),
        list(p.chain),
        probe.totalwaitms,
        probe.tcpwrappedms,
        list(p.services),
        p.source,
        probe.location.line,
        [[d.keyword, d.text, d.location.line] for d in probe.directives],
    )


def _match_row(m: AnalyzedMatch) -> tuple[Any, ...]:
    match, pa = m.match, m.pattern
    product = match.field(Field.PRODUCT)
    templates: dict[str, Any] = {}
    cpes = []
    for key, template in m.templates:
        if key is Field.CPE:
            cpes.append(template.to_data())
        else:
            templates[key.value] = template.to_data()  # a repeated field replaces the earlier
    templates["cpe"] = cpes
    return (
        m.id,
        m.probe,
        m.seq,
        match.soft,
        match.service,
        match.pattern,
        pa.translated,
        match.delimiter.decode("latin-1"),
        match.flags,
        match.caseless,
        match.dotall,
        pa.groups,
        pa.anchored,
        pa.prefix,
        [r.decode("latin-1") for r in pa.required],
        pa.min_length,
        product.text.decode("latin-1") if product else None,
        [[f.key.value, f.delimiter.decode("latin-1"), f.text.decode("latin-1"), f.flags] for f in match.fields],
        templates,
        m.source,
        match.location.line,
    )


def content_digest(tables: dict[str, list[list[Any]]]) -> str:
    """SHA-256 of the logical content: equal for equal content, whatever the encoding."""
    return hashlib.sha256(orjson.dumps(tables, option=orjson.OPT_SORT_KEYS)).hexdigest()


def write_json(db: Database, path: Path, options: dict[str, Any]) -> None:
    tables = rows(db)
    head = header(db, options) | {"content_sha256": content_digest(tables)}
    by_name = {t.name: t for t in TABLES}
    document = {
        "header": head,
        "tables": {name: {"columns": list(by_name[name].column_names), "rows": r} for name, r in tables.items()},
    }
    body = orjson.dumps(document, option=orjson.OPT_SORT_KEYS)[1:]  # without its opening brace
    digest = hashlib.sha256(body).hexdigest().encode()
    _replace(path, JSON_PREFIX + digest + b'",' + body)


def write_sqlite(db: Database, path: Path, options: dict[str, Any]) -> None:
    tables = rows(db)
    head = header(db, options) | {"content_sha256": content_digest(tables)}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()
        _fill_sqlite(tmp, tables, head)
        data = bytearray(tmp.read_bytes())
        data[SQLITE_APPID_OFFSET : SQLITE_APPID_OFFSET + 4] = SQLITE_APPLICATION_ID.to_bytes(4, "big")
        data[SQLITE_CRC_OFFSET : SQLITE_CRC_OFFSET + 4] = sqlite_crc(bytes(data)).to_bytes(4, "big")
        tmp.write_bytes(bytes(data))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _fill_sqlite(path: Path, tables: dict[str, list[list[Any]]], head: dict[str, Any]) -> None:
    db = sqlite_utils.Database(path)
    try:
        db.conn.execute("PRAGMA journal_mode = OFF")
        db.conn.execute("PRAGMA synchronous = OFF")
        for table in (*TABLES, META):
            _create(db, table)
        with db.conn:
            for table in TABLES:
                json_cols = [i for i, c in enumerate(table.columns) if c.type is ColumnType.JSON]
                stored = []
                for r in tables[table.name]:
                    row = list(r)
                    for i in json_cols:
                        row[i] = codec.json_text(row[i])
                    stored.append(row)
                placeholders = ", ".join("?" for _ in table.columns)
                db.conn.executemany(f'INSERT INTO "{table.name}" VALUES ({placeholders})', stored)
            db.conn.executemany(
                'INSERT INTO "meta" VALUES (?, ?)',
                [("header", codec.json_text(head))],
            )
        db["matches"].enable_fts(["service", "product"], create_triggers=False, replace=True)  # type: ignore[union-attr]
        db.conn.execute("VACUUM")
    finally:
        db.close()


def _create(db: sqlite_utils.Database, table: Table) -> None:
    columns = {c.name: _SQL_TYPES[c.type] for c in table.columns}
    pk = table.primary_key[0] if len(table.primary_key) == 1 else table.primary_key
    db[table.name].create(columns, pk=pk)  # type: ignore[union-attr]
    for index in table.indexes:
        db[table.name].create_index(list(index))  # type: ignore[union-attr]


def _replace(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write(db: Database, path: Path, options: dict[str, Any]) -> str:
    """Write ``path`` in the encoding its suffix selects (``.json``, else SQLite)."""
    if path.suffix.lower() == ".json":
        write_json(db, path, options)
        return "json"
    write_sqlite(db, path, options)
    return "sqlite"
