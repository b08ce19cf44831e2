"""The bundle's one logical schema, owned by the runtime; the compiler imports it.

A bundle is a set of tables with fixed columns, stored either as SQLite (one SQL table per
logical table, browsable with ``sqlite-utils``) or as JSON (``{"tables": {name: {"columns": [...],
"rows": [[...], ...]}}}``). Both encodings hold the same values:

- ``bytes`` values (probe payloads, patterns, literals) are stored as text, one character per
  byte (latin-1), so they stay readable and round-trip exactly;
- ``json`` columns hold nested lists/objects (JSON text in SQLite, nested values in JSON);
- rows are written in a fixed order, so building twice gives the same content.

Each table's columns are defined here once. The compiler builds rows and the loader reads them
by column name (:func:`sigscan.bundle.codec.to_stored`, :func:`sigscan.bundle.codec.named`);
only the encodings hold a row as the list of its values in this column order.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

SCHEMA_VERSION = 6

# Marks a SQLite file as a sigc bundle: PRAGMA application_id ("SIGC").
SQLITE_APPLICATION_ID = 0x53494743


class ColumnType(enum.Enum):
    INT = "int"
    TEXT = "text"
    BYTES = "bytes"  # stored as latin-1 text
    JSON = "json"  # nested lists / objects
    BOOL = "bool"  # 0 / 1


class Column(NamedTuple):
    name: str
    type: ColumnType
    doc: str = ""


class Table(NamedTuple):
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()
    doc: str = ""
    # SQLite only: the table is stored as its primary key's B-tree (WITHOUT ROWID), instead of
    # rows plus a second B-tree holding a copy of the key. For tables that are all key.
    without_rowid: bool = False

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _c(name: str, type_: ColumnType, doc: str = "") -> Column:
    return Column(name, type_, doc)


INT, TEXT, BYTES, JSON, BOOL = ColumnType.INT, ColumnType.TEXT, ColumnType.BYTES, ColumnType.JSON, ColumnType.BOOL

SOURCES = Table(
    "sources",
    (
        _c("id", INT),
        _c("kind", TEXT, "probes, services or rpc"),
        _c("path", TEXT, "where the file was read"),
        _c("sha256", TEXT),
        _c("version_line", TEXT, "the file's $Id$ line or similar, if any"),
    ),
    ("id",),
    doc="Every file the bundle was built from.",
)

PROBES = Table(
    "probes",
    (
        _c("id", INT, "position in Nmap's probe order (the NULL probe is 0 when present)"),
        _c("protocol", TEXT, "TCP or UDP"),
        _c("name", TEXT),
        _c("payload", BYTES, "the bytes sent, escapes decoded"),
        _c("raw_payload", BYTES, "the probe string as written"),
        _c("delimiter", TEXT),
        _c("options", JSON, "words after the probe string (no-payload, source=N)"),
        _c("is_null", BOOL),
        _c("rarity", INT, "as written; null when absent (Nmap's default is 5)"),
        _c("ports", JSON, "[[start, end], ...] as written"),
        _c("sslports", JSON, "[[start, end], ...] as written"),
        _c("fallback", JSON, "names as written, or null"),
        _c("chain", JSON, "resolved fallback chain: probe ids, this probe first, NULL last for TCP"),
        _c("totalwaitms", INT, "as written; null when absent (Nmap's default is 5000)"),
        _c("tcpwrappedms", INT, "as written; null when absent (Nmap's default is 2000)"),
        _c("services", JSON, "sorted service names this probe's own lines can produce"),
        _c("source", INT, "sources.id"),
        _c("line", INT),
        _c("directives", JSON, "[[keyword, text, line], ...] in file order, for dump and diagnostics"),
    ),
    ("id",),
    indexes=(("protocol", "name"),),
    doc="Probes in Nmap's order.",
)

MATCHES = Table(
    "matches",
    (
        _c("id", INT, "global file order"),
        _c("probe", INT, "probes.id"),
        _c("seq", INT, "order within the probe"),
        _c("soft", BOOL),
        _c("service", TEXT),
        _c("pattern", BYTES, "the PCRE pattern as written"),
        _c("regex", BYTES, "the pattern translated for the regex module (bytes mode)"),
        _c("delimiter", TEXT),
        _c("flags", TEXT, "option letters as written"),
        _c("caseless", BOOL),
        _c("dotall", BOOL),
        _c("groups", INT, "capture group count"),
        _c("anchored", BOOL, "every alternative starts with ^"),
        _c("prefix", BYTES, "literal bytes every match starts with (lower-case when caseless)"),
        _c("required", JSON, "literal byte strings (latin-1) every matching subject contains"),
        _c("min_length", INT),
        _c("product", TEXT, "the p/ template text, for browsing and search"),
        _c("fields", JSON, "[[key, delimiter, text, flags], ...] as written"),
        _c("templates", JSON, "parsed templates: {key: parts} and cpe: [parts, ...]"),
        _c("source", INT, "sources.id"),
        _c("line", INT),
        _c("cost_degree", INT, "backtracking bound (sigscan.bundle.cost): work <= constant * (n+1)**degree "
                               "for a subject of n bytes; null when unbounded"),
        _c("cost_constant", INT, "see cost_degree"),
        _c("cost_literals", JSON, "a bound that counts literals in the subject (sigscan.bundle.bound."
                                  "LiteralCost): [degree, constant, [[literal (latin-1), weight], ...]]; "
                                  "null when it is not lower"),
        _c("head_length", INT, "bytes of the literal head after ^ that prefix proves, which a matcher that "
                               "checked prefix need not match again (sigc.regex.literals.split_head); "
                               "0: no such head"),
        _c("rest_offset", INT, "where in regex the pattern for the rest begins, matched at offset head_length"),
        _c("first_bytes", BYTES, "anchored lines without a prefix whose every match consumes a byte: the bytes a "
                                 "match can start with, ascending, both cases when caseless "
                                 "(sigc.regex.literals.first_bytes); null: unknown, or the prefix says it"),
    ),
    ("id",),
    indexes=(("probe", "seq"), ("service",)),
    doc="match and softmatch lines with precompiled pattern metadata.",
)

PROBE_INDEX = Table(
    "probe_index",
    (
        _c("probe", INT, "probes.id"),
        _c("index", JSON, "the probe's prefilter index (sigscan.matcher.index): {head: {head: [seq, ...]}, "
                          "bucket: {head: {plain: [seq, ...], token: {token: [seq, ...]}}}, ihead: {...}, "
                          "token: {...}, first: {byte: [seq, ...]}, always: [seq, ...]}; heads, tokens and "
                          "bytes as latin-1 text"),
    ),
    ("probe",),
    doc="Per probe, which lines a response can make candidates: built by sigc so sigscan loads it as is.",
)

PORT_INDEX = Table(
    "port_index",
    (
        _c("protocol", TEXT),
        _c("port", INT),
        _c("ssl", BOOL, "from sslports rather than ports"),
        _c("probe", INT, "probes.id"),
    ),
    ("protocol", "port", "ssl", "probe"),
    doc="Port -> probes that list it, in probe order.",
    without_rowid=True,
)

EXCLUDE = Table(
    "exclude",
    (
        _c("seq", INT),
        _c("protocol", TEXT, "T, U, S, P (IP protocols: no effect on a service scan) or null for any"),
        _c("start", INT),
        _c("end", INT),
        _c("service", TEXT, "a service name item, when not a port range"),
    ),
    ("seq",),
    doc="The Exclude directive's items.",
)

SERVICES = Table(
    "services",
    (
        _c("protocol", TEXT, "tcp, udp or sctp"),
        _c("port", INT),
        _c("name", TEXT),
        _c("frequency", TEXT, "Nmap's open frequency as written (a decimal string)"),
        _c("seq", INT, "line order; the first entry of a port wins"),
    ),
    ("protocol", "port", "seq"),
    indexes=(("name",),),
    doc="nmap-services: names for method=table and frequencies for --top-ports.",
    without_rowid=True,
)

RPC = Table(
    "rpc",
    (
        _c("number", INT),
        _c("name", TEXT),
        _c("aliases", JSON),
        _c("seq", INT),
    ),
    ("seq",),
    indexes=(("number",),),
    doc="nmap-rpc: SunRPC program numbers and names.",
)

META = Table(
    "meta",
    (_c("key", TEXT), _c("value", JSON)),
    ("key",),
    doc="Header values: schema version, compiler version, build options, content digest.",
)

TABLES: tuple[Table, ...] = (SOURCES, PROBES, MATCHES, PROBE_INDEX, PORT_INDEX, EXCLUDE, SERVICES, RPC)
TABLES_BY_NAME = {t.name: t for t in (*TABLES, META)}
