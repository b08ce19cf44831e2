"""The bundle's one logical schema, owned by the runtime; the compiler imports it.

A bundle is a set of tables with fixed columns, stored either as SQLite (one SQL table per
logical table, browsable with ``sqlite-utils``) or as JSON (``{"tables": {name: {"columns": [...],
"rows": [[...], ...]}}}``). Both encodings hold the same values:

- ``bytes`` values (probe payloads, patterns, literals) are stored as text, one character per
  byte (latin-1), so they stay readable and round-trip exactly;
- ``json`` columns hold nested lists/objects (JSON text in SQLite, nested values in JSON);
- rows are written in a fixed order, so building twice gives the same content.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

SCHEMA_VERSION = 1

# Marks a SQLite file as a sigc bundle: PRAGMA application_id ("SIGC").
SQLITE_APPLICATION_ID = 0x53494743


class ColumnType(enum.Enum):
    INT = "int"
    TEXT = "text"
    BYTES = "bytes"  # stored as latin-1 text
    JSON = "json"  # nested lists / objects
    BOOL = "bool"  # 0 / 1


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType
    doc: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()
    doc: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _c(name: str, type_: ColumnType, doc: str = "") -> Column:
    return Column(name, type_, doc)


I, T, B, J, F = ColumnType.INT, ColumnType.TEXT, ColumnType.BYTES, ColumnType.JSON, ColumnType.BOOL

SOURCES = Table(
    "sources",
    (
        _c("id", I),
        _c("kind", T, "probes, services or rpc"),
        _c("path", T, "where the file was read"),
        _c("sha256", T),
        _c("version_line", T, "the file's $Id$ line or similar, if any"),
    ),
    ("id",),
    doc="Every file the bundle was built from.",
)

PROBES = Table(
    "probes",
    (
        _c("id", I, "position in Nmap's probe order (the NULL probe is 0 when present)"),
        _c("protocol", T, "TCP or UDP"),
        _c("name", T),
        _c("payload", B, "the bytes sent, escapes decoded"),
        _c("raw_payload", B, "the probe string as written"),
        _c("delimiter", T),
        _c("options", J, "words after the probe string (no-payload, source=N)"),
        _c("is_null", F),
        _c("rarity", I, "as written; null when absent (Nmap's default is 5)"),
        _c("ports", J, "[[start, end], ...] as written"),
        _c("sslports", J, "[[start, end], ...] as written"),
        _c("fallback", J, "names as written, or null"),
        _c("chain", J, "resolved fallback chain: probe ids, this probe first, NULL last for TCP"),
        _c("totalwaitms", I, "as written; null when absent (Nmap's default is 5000)"),
        _c("tcpwrappedms", I, "as written; null when absent (Nmap's default is 2000)"),
        _c("services", J, "sorted service names this probe's own lines can produce"),
        _c("source", I, "sources.id"),
        _c("line", I),
        _c("directives", J, "[[keyword, text, line], ...] in file order, for dump and diagnostics"),
    ),
    ("id",),
    indexes=(("protocol", "name"),),
    doc="Probes in Nmap's order.",
)

MATCHES = Table(
    "matches",
    (
        _c("id", I, "global file order"),
        _c("probe", I, "probes.id"),
        _c("seq", I, "order within the probe"),
        _c("soft", F),
        _c("service", T),
        _c("pattern", B, "the PCRE pattern as written"),
        _c("regex", B, "the pattern translated for the regex module (bytes mode)"),
        _c("delimiter", T),
        _c("flags", T, "option letters as written"),
        _c("caseless", F),
        _c("dotall", F),
        _c("groups", I, "capture group count"),
        _c("anchored", F, "every alternative starts with ^"),
        _c("prefix", B, "literal bytes every match starts with (lower-case when caseless)"),
        _c("required", J, "literal byte strings (latin-1) every matching subject contains"),
        _c("min_length", I),
        _c("product", T, "the p/ template text, for browsing and search"),
        _c("fields", J, "[[key, delimiter, text, flags], ...] as written"),
        _c("templates", J, "parsed templates: {key: parts} and cpe: [parts, ...]"),
        _c("source", I, "sources.id"),
        _c("line", I),
    ),
    ("id",),
    indexes=(("probe", "seq"), ("service",)),
    doc="match and softmatch lines with precompiled pattern metadata.",
)

PORT_INDEX = Table(
    "port_index",
    (
        _c("protocol", T),
        _c("port", I),
        _c("ssl", F, "from sslports rather than ports"),
        _c("probe", I, "probes.id"),
    ),
    ("protocol", "port", "ssl", "probe"),
    doc="Port -> probes that list it, in probe order.",
)

EXCLUDE = Table(
    "exclude",
    (
        _c("seq", I),
        _c("protocol", T, "T, U, S or null for any"),
        _c("start", I),
        _c("end", I),
        _c("service", T, "a service name item, when not a port range"),
    ),
    ("seq",),
    doc="The Exclude directive's items.",
)

SERVICES = Table(
    "services",
    (
        _c("protocol", T, "tcp, udp or sctp"),
        _c("port", I),
        _c("name", T),
        _c("frequency", T, "Nmap's open frequency as written (a decimal string)"),
        _c("seq", I, "line order; the first entry of a port wins"),
    ),
    ("protocol", "port", "seq"),
    indexes=(("name",),),
    doc="nmap-services: names for method=table and frequencies for --top-ports.",
)

RPC = Table(
    "rpc",
    (
        _c("number", I),
        _c("name", T),
        _c("aliases", J),
        _c("seq", I),
    ),
    ("seq",),
    indexes=(("number",),),
    doc="nmap-rpc: SunRPC program numbers and names.",
)

META = Table(
    "meta",
    (_c("key", T), _c("value", J)),
    ("key",),
    doc="Header values: schema version, compiler version, build options, content digest.",
)

TABLES: tuple[Table, ...] = (SOURCES, PROBES, MATCHES, PORT_INDEX, EXCLUDE, SERVICES, RPC)
TABLES_BY_NAME = {t.name: t for t in (*TABLES, META)}
