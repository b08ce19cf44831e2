"""Edit a built bundle and reseal it, so that the edit reaches the code behind the checksum.

A bundle's checksum is a CRC-32 (docs/bundle.md), not a key: whoever can write the file can
recompute it. These helpers do what such a writer would: change any value of any row, in
either encoding, then seal the result again, so that the loader's CRC check passes and the
edit meets whatever reads the value next.

- JSON: the document is decoded, edited as rows, and written again in the layout of
  ``sigc.emit.json_document`` (byte offsets and all), by :func:`json_bytes`, a second writer
  of the documented layout (``test_bundle_tamper`` checks it gives sigc's bytes for an unedited
  bundle). A row can also be given as raw text (:class:`Raw`): malformed JSON, duplicate keys.
- SQLite: the file is copied, edited with SQL, and its CRC-32 written again where the loader
  reads it (the header's ``user_version``).

Also here: :data:`PROBES`, a small probe file whose lines cover every kind of prefilter key,
cut literal heads, both cost bounds and the template language, and :data:`RESPONSES`, a
response for each line (so that every line becomes a candidate at least once).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from sigc.build import build
from sigc.sources import resolve
from sigscan.bundle.loader import (
    JSON_DIGEST_END,
    JSON_PREFIX,
    SEGMENTS_KEY,
    SQLITE_CRC_OFFSET,
    sqlite_crc,
)
from sigscan.bundle.schema import MATCHES, TABLES, TABLES_BY_NAME, ColumnType

# A probe file whose lines cover what the runtime reads: every kind of prefilter key (head,
# a head bucket split by tokens, caseless head, token, first byte, always), lines with a cut
# literal head, a line with a literal-counting bound, one with no bound at all, the template
# language ($P, $SUBST, $I, CPEs), a softmatch, a fallback, a UDP probe, Exclude.
PROBES = (
    b"# $Id: tamper test database $\n"
    b"Exclude T:9100-9107\n"
    b"Probe TCP NULL q||\n"
    b"totalwaitms 1000\n"
    b"tcpwrappedms 500\n"
    b"match ftp m|^220 ([\\w.-]+) FTP server \\(Version ([\\d.]+)\\)| p/Tiny FTP/ v/$2/ h/$1/ cpe:/a:tiny:ftp:$2/\n"
    b"match smtp m|^220 [\\w.-]+ ESMTP Postfix| p/Postfix smtpd/ cpe:/a:postfix:postfix/\n"
    b"match smtp m|^220 [\\w.-]+ ESMTP Exim ([\\d.]+)| p/Exim smtpd/ v/$1/\n"
    b"match ftp m|^220 ProFTPD ([\\d.]+) Server| p/ProFTPD/ v/$1/\n"
    b"match ftp m|^220 \\(vsFTPd ([\\d.]+)\\)| p/vsftpd/ v/$1/\n"
    b"match ftp m|^220 [\\w.-]+ Pure-FTPd ([\\d.]+)| p/Pure-FTPd/ v/$1/\n"
    b"match ssh m|^SSH-([\\d.]+)-OpenSSH_([\\w._-]+)\\r\\n| p/OpenSSH/ v/$2/ i/protocol $1/ cpe:/a:openbsd:openssh:$2/\n"
    b"match http m|^HTTP/1\\.[01] \\d\\d\\d .*Server: tamper.*<title>Tamper test</title>|s p/tamper httpd/\n"
    b"match imap m|^\\* ok \\[capability imap4rev1\\] ([\\w]+)|i p/caseless imapd/ h/$1/\n"
    b"match telnet m|Welcome to (\\w+) telnet service| p/$1 telnetd/\n"
    b"match hexid m|^[0-9a-f]{8}\\r\\n$| p/hex id/\n"
    b"match slow m=^(a|aa)+$= p/slow/\n"
    b"match binary m|^\\x00\\x01(..)\\x02|s p/binary/ v/$I(1,\">\")/\n"
    b"match mark m|\\x7f\\x7e\\x7d| p/marks/\n"
    b"match templ m|^TEMPLATE ([^\\r\\n]*)\\r\\n| p/$P(1)/ i/$SUBST(1,\"_\",\".\")/\n"
    b"softmatch ftp m|^220 |\n"
    b"Probe TCP GenericLines q|\\r\\n\\r\\n|\n"
    b"rarity 1\n"
    b"ports 21,23,1000-1002\n"
    b"sslports 990\n"
    b"match echo m|^\\r\\n\\r\\n$| p/echo/\n"
    b"Probe TCP Help q|HELP\\r\\n|\n"
    b"rarity 3\n"
    b"ports 2000-2002\n"
    b"fallback GenericLines\n"
    b"match helpd m|^214 help ok\\r\\n| p/helpd/\n"
    b"Probe UDP DNSStatusRequest q|\\0\\0\\x10\\0\\0\\0\\0\\0\\0\\0\\0\\0|\n"
    b"rarity 1\n"
    b"ports 53\n"
    b"match domain m|^\\0\\0\\x90\\x04|s p/DNS/\n"
)


# Beside the probe file as ``nmap-services`` and ``nmap-rpc``, so the bundle has those tables.
SERVICES = (
    b"ftp\t21/tcp\t0.197667\t# File Transfer\n"
    b"ssh\t22/tcp\t0.182286\t# Secure Shell\n"
    b"domain\t53/udp\t0.213496\t# Domain Name Server\n"
)
RPC = b"rpcbind\t100000\tportmap sunrpc rpcbind\nnfs\t100003\tnfsprog\n"


def write_sources(folder: Path) -> Path:
    """The probe file, ``nmap-services`` and ``nmap-rpc`` in ``folder``; the probe file's path."""
    (folder / "nmap-services").write_bytes(SERVICES)
    (folder / "nmap-rpc").write_bytes(RPC)
    source = folder / "nmap-service-probes"
    source.write_bytes(PROBES)
    return source


def build_both(folder: Path) -> dict[str, Path]:
    """The probe file built in ``folder`` in both encodings: {"json": path, "db": path}."""
    source = write_sources(folder)
    out = {}
    for suffix in ("json", "db"):
        target = folder / f"tamper.{suffix}"
        assert build(resolve([str(source)]), target).ok
        out[suffix] = target
    return out


@dataclass(frozen=True)
class Response:
    probe: str
    proto: str
    data: bytes
    service: str | None  # what an untampered bundle says


RESPONSES = (
    Response("NULL", "tcp", b"220 ftp.example FTP server (Version 1.2)\r\n", "ftp"),
    Response("NULL", "tcp", b"220 mail.example ESMTP Postfix\r\n", "smtp"),
    Response("NULL", "tcp", b"220 mx.example ESMTP Exim 4.96\r\n", "smtp"),
    Response("NULL", "tcp", b"220 ProFTPD 1.3.8 Server ready\r\n", "ftp"),
    Response("NULL", "tcp", b"220 (vsFTPd 3.0.5)\r\n", "ftp"),
    Response("NULL", "tcp", b"SSH-2.0-OpenSSH_9.2p1\r\n", "ssh"),
    Response("NULL", "tcp", b"HTTP/1.1 200 OK\r\nServer: tamper\r\n\r\n<html><title>Tamper test</title>" + b"x" * 3000, "http"),
    Response("NULL", "tcp", b"* OK [CAPABILITY IMAP4rev1] mailhost\r\n", "imap"),
    Response("NULL", "tcp", b"Hi. Welcome to BSD telnet service\r\n", "telnet"),
    Response("NULL", "tcp", b"0badc0de\r\n", "hexid"),
    Response("NULL", "tcp", b"aaaaaaaa", "slow"),
    Response("NULL", "tcp", b"\x00\x01AB\x02", "binary"),
    Response("NULL", "tcp", b"220 f.example Pure-FTPd 1.0.51\r\n", "ftp"),
    Response("NULL", "tcp", b"--\x7f\x7e\x7d--", "mark"),
    Response("NULL", "tcp", b"TEMPLATE a_b\x01c\r\n", "templ"),
    Response("NULL", "tcp", b"220 unknown greeting\r\n", "ftp"),  # the softmatch
    Response("NULL", "tcp", b"nothing known\r\n", None),
    Response("GenericLines", "tcp", b"\r\n\r\n", "echo"),
    Response("Help", "tcp", b"214 help ok\r\n", "helpd"),
    Response("Help", "tcp", b"\r\n\r\n", "echo"),  # through the fallback
    Response("DNSStatusRequest", "udp", b"\x00\x00\x90\x04rest", "domain"),
)


def jsonl(responses: Sequence[Response] = RESPONSES) -> bytes:
    """The responses as ``sigscan identify --jsonl`` input."""
    import base64

    return b"".join(
        json.dumps({"id": i, "probe": r.probe, "proto": r.proto,
                    "data_b64": base64.b64encode(r.data).decode()}).encode() + b"\n"
        for i, r in enumerate(responses))


# -- JSON ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """A row (or a value inside one) given as the exact JSON text to write."""

    text: bytes


@dataclass
class Document:
    """A JSON bundle decoded: its header and each table's rows (the stored form)."""

    header: dict[str, Any]
    tables: dict[str, list[Any]]
    first_match: list[int] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> Document:
        doc = json.loads(path.read_bytes())
        return cls(doc["header"], {name: t["rows"] for name, t in doc["tables"].items()},
                   list(doc["segments"]["first_match"]))


def _row_text(row: Any) -> bytes:
    if isinstance(row, Raw):
        return row.text
    if isinstance(row, list) and any(isinstance(v, Raw) for v in row):
        return b"[" + b",".join(_row_text(v) for v in row) + b"]"
    return orjson.dumps(row, option=orjson.OPT_SORT_KEYS)


def json_bytes(doc: Document, edit_segments: Callable[[dict[str, Any]], Any] | None = None) -> bytes:
    """The document in the layout ``sigc.emit.json_document`` writes, sealed with its CRC-32.
    ``first_match`` is the document's own (an edit of a row's ``probe`` moves nothing);
    ``edit_segments`` may change the ``segments`` object (or return raw bytes for it)."""
    parts: list[bytes] = []
    at = JSON_DIGEST_END

    def put(chunk: bytes) -> int:
        nonlocal at
        start = at
        parts.append(chunk)
        at += len(chunk)
        return start

    dumps, sort = orjson.dumps, orjson.OPT_SORT_KEYS
    put(b'"header":' + (doc.header.text if isinstance(doc.header, Raw) else dumps(doc.header, option=sort))
        + b',"tables":{')
    spans: dict[str, list[int]] = {}
    starts: dict[str, list[int]] = {}
    for i, name in enumerate(sorted(doc.tables)):
        columns = list(TABLES_BY_NAME[name].column_names) if name in TABLES_BY_NAME else []
        put(b"," * (i > 0) + dumps(name) + b':{"columns":' + dumps(columns) + b',"rows":')
        rows = doc.tables[name]
        if name in ("matches", "probe_index"):
            first = put(b"[")
            row_starts = []
            for k, row in enumerate(rows):
                row_starts.append(put(b"," * (k > 0) + _row_text(row)) + (k > 0))
            row_starts.append(at + 1)
            put(b"]")
            starts[name] = row_starts
        else:
            first = put(b"[" + b",".join(_row_text(r) for r in rows) + b"]")
        spans[name] = [first, at]
        put(b"}")
    put(b"}")
    segments: Any = {"counts": {name: len(r) for name, r in doc.tables.items()},
                     "first_match": doc.first_match, "rows": starts, "tables": spans}
    if edit_segments is not None:
        segments = edit_segments(segments)
    put(SEGMENTS_KEY + (segments if isinstance(segments, bytes) else dumps(segments, option=sort)) + b"}")
    return reseal_json(JSON_PREFIX + b"00000000" + b'",' + b"".join(parts))


def reseal_json(data: bytes) -> bytes:
    """``data`` with the checksum at its start made right again (whatever follows it)."""
    if len(data) < JSON_DIGEST_END or not data.startswith(JSON_PREFIX):
        return data
    return JSON_PREFIX + b"%08x" % zlib.crc32(data[JSON_DIGEST_END:]) + data[len(JSON_PREFIX) + 8:]


# -- SQLite ----------------------------------------------------------------------------------


def reseal_sqlite(path: Path) -> None:
    """Write the file's CRC-32 where the loader checks it."""
    data = path.read_bytes()
    if len(data) < 100:
        return
    with open(path, "r+b") as f:
        f.seek(SQLITE_CRC_OFFSET)
        f.write(sqlite_crc(data).to_bytes(4, "big"))


def sqlite_edit(source: Path, target: Path, *statements: tuple[str, Sequence[Any]]) -> Path:
    """A copy of ``source`` at ``target`` with the SQL ``statements`` run on it, resealed."""
    shutil.copyfile(source, target)
    conn = sqlite3.connect(target)
    try:
        for sql, args in statements:
            conn.execute(sql, tuple(args))
        conn.commit()
    finally:
        conn.close()
    reseal_sqlite(target)
    return target


# -- one edit in both encodings ---------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One value: a table, a row (its position in the JSON document's rows, which is also
    primary-key order in SQLite) and a column."""

    table: str
    row: int
    column: str

    @property
    def index(self) -> int:
        return TABLES_BY_NAME[self.table].column_names.index(self.column)

    @property
    def type(self) -> ColumnType:
        return TABLES_BY_NAME[self.table].columns[self.index].type


@dataclass(frozen=True)
class Sql:
    """A value given as an SQL expression (``CAST(x'ff' AS TEXT)``: text that is not UTF-8)."""

    expression: str


@dataclass(frozen=True)
class Split:
    """A value that differs by encoding: ``json`` for the JSON document, ``sql`` for SQLite."""

    json: Any
    sql: Any


def _sql_value(cell: Cell, value: Any) -> Any:
    """A stored value as SQLite holds it: JSON columns as text, :class:`Raw` as its text."""
    if isinstance(value, Raw):
        return value.text.decode("utf-8")
    if cell.type is ColumnType.JSON and value is not None:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return value  # bytes: a BLOB where text is expected


def edit_cells(doc: Document, db: Path, out: Path, edits: Mapping[Cell, Any], name: str) -> dict[str, Path]:
    """Both encodings with the ``edits`` made and resealed: ``{"json": path, "db": path}``; an
    encoding that cannot hold the edit (SQLite refuses text in an INTEGER PRIMARY KEY) is left
    out."""
    tables = {t: [list(r) for r in rows] for t, rows in doc.tables.items()}
    statements = []
    for cell, value in edits.items():
        row = tables[cell.table][cell.row]
        key = _primary_key(cell.table, doc.tables[cell.table][cell.row])
        for_json, for_sql = (value.json, value.sql) if isinstance(value, Split) else (value, value)
        row[cell.index] = for_json
        where = " AND ".join(f'"{c}" = ?' for c in key)
        if isinstance(for_sql, Sql):
            statements.append((f'UPDATE "{cell.table}" SET "{cell.column}" = {for_sql.expression} WHERE {where}',
                               tuple(key.values())))
        else:
            statements.append((f'UPDATE "{cell.table}" SET "{cell.column}" = ? WHERE {where}',
                               (_sql_value(cell, for_sql), *key.values())))
    edited = Document(doc.header, tables, doc.first_match)
    js = out / f"{name}.json"
    js.write_bytes(json_bytes(edited))
    paths = {"json": js}
    try:
        paths["db"] = sqlite_edit(db, out / f"{name}.db", *statements)
    except sqlite3.Error:  # SQLite's own typing refuses the edit
        (out / f"{name}.db").unlink()
    return paths


def _primary_key(table: str, row: Sequence[Any]) -> dict[str, Any]:
    spec = TABLES_BY_NAME[table]
    names = spec.column_names
    return {c: row[names.index(c)] for c in spec.primary_key}


def row_of_line(doc: Document, line: int) -> int:
    """The position in ``matches`` of the line written at ``line`` of the probe file."""
    column = MATCHES.column_names.index("line")
    return next(k for k, row in enumerate(doc.tables["matches"]) if row[column] == line)


def line_of(pattern: bytes) -> int:
    """The line of :data:`PROBES` whose text contains ``pattern`` (1-based)."""
    for number, text in enumerate(PROBES.split(b"\n"), 1):
        if pattern in text:
            return number
    raise LookupError(pattern)


__all__ = [
    "PROBES",
    "RESPONSES",
    "TABLES",
    "Cell",
    "Document",
    "Raw",
    "Response",
    "Split",
    "Sql",
    "edit_cells",
    "json_bytes",
    "jsonl",
    "line_of",
    "reseal_json",
    "reseal_sqlite",
    "row_of_line",
    "sqlite_edit",
    "write_sources",
]
