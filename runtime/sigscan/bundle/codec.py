"""Values of the logical schema in their stored form, and rows back into records.

Rows are built and read by column name, from the one definition of each table
(:mod:`sigscan.bundle.schema`). Both encodings store a row as the list of its values in the
table's column order (:func:`to_stored`): ``bytes`` as latin-1 text, ``json`` columns as nested
values (the SQLite writer turns those into JSON text), booleans as 0/1. The loader hands each
row to the functions below as a mapping of column name to stored value (:func:`named`), which
turn it into a record, checking every value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sigscan.bundle import jsonio as _json
from sigscan.bundle.records import (
    ExcludeRecord,
    LineRecord,
    MatchRecord,
    ProbeRecord,
    RpcRecord,
    ServiceRecord,
    SourceRecord,
)
from sigscan.bundle.schema import ColumnType, Table

Row = Mapping[str, Any]  # a stored row: column name -> stored value

# The columns of MATCHES that :func:`line` reads (what a SQLite bundle selects for match_lines).
LINE_COLUMNS = ("id", "seq", "soft", "service", "caseless", "dotall", "anchored",
                "prefix", "required", "min_length", "source", "line", "cost_degree", "cost_constant",
                "cost_literals", "head_length")


def to_stored(table: Table, rows: Iterable[Row]) -> Iterator[list[Any]]:
    """Rows of Python values (bytes, lists, bools) keyed by column name, each in the stored form
    both encodings share: a list in the table's column order. Every column must be given, and
    nothing else."""
    names = table.column_names
    in_order = itemgetter(*names)  # a tuple: every table has two columns or more
    byte_columns = [i for i, c in enumerate(table.columns) if c.type is ColumnType.BYTES]
    bool_columns = [i for i, c in enumerate(table.columns) if c.type is ColumnType.BOOL]
    for row in rows:
        if len(row) != len(names):
            raise ValueError(f"{table.name}: columns {sorted(row)} are not {list(names)}")
        out = list(in_order(row))
        for i in byte_columns:
            if out[i] is not None:
                out[i] = out[i].decode("latin-1")
        for i in bool_columns:
            if out[i] is not None:
                out[i] = 1 if out[i] else 0
        yield out


def named(names: Sequence[str], values: Sequence[Any]) -> dict[str, Any]:
    """A stored row (``values`` in the order of the column ``names``) by column name."""
    return dict(zip(names, values, strict=True))


def json_text(value: Any) -> str | None:
    """How a ``json`` column is kept in SQLite."""
    return None if value is None else _json.dumps(value).decode()


class Malformed(ValueError):
    """A stored value is not what the schema says (the loader reports it as a BundleError)."""


# Every value is checked as it is turned into a record (rows are read on demand, so each is
# checked when first read): a bundle is a file anyone who can write it can reseal (its CRC-32
# is no key), and what reads a record must meet only the types and ranges the schema states.
# What cannot be checked this way (what a line's pattern means) is trusted, except the
# backtracking bounds, which the matcher checks before it relies on them (sigscan.matcher.core).
_INT64 = 1 << 63
_UINT32 = (1 << 32) - 1  # lines and source ids are kept in array("I")
MAX_DEGREE = 1000  # far above any real line's (at most 10): (n+1)**degree stays cheap to compute
_PROTOCOLS = frozenset({"TCP", "UDP"})
_EXCLUDE_PROTOCOLS = frozenset({None, "T", "U", "S"})
_RARITY = (1, 9)  # as sigc accepts it (nmap-semantics section 1.5)
_WAIT_MS = (100, 300000)


def _bad(column: str, value: Any, what: str) -> Malformed:
    shown = repr(value)
    return Malformed(f"{column} is {shown[:40]}{'...' if len(shown) > 40 else ''}, not {what}")


def _int(value: Any, column: str, low: int = 0, high: int = _INT64 - 1) -> int:
    if value.__class__ is not int or not low <= value <= high:
        raise _bad(column, value, f"an integer in {low}..{high}")
    return value


def _opt_int(value: Any, column: str, low: int = 0, high: int = _INT64 - 1) -> int | None:
    return None if value is None else _int(value, column, low, high)


def _bool(value: Any, column: str) -> bool:
    if value.__class__ is not int or value not in (0, 1):
        raise _bad(column, value, "0 or 1")
    return value == 1


def _text(value: Any, column: str) -> str:
    """Text that can be written out (UTF-8: no lone surrogates)."""
    if value.__class__ is not str:
        raise _bad(column, value, "text")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _bad(column, value, "text (it is not UTF-8)") from None
    return value


def _opt_text(value: Any, column: str) -> str | None:
    return None if value is None else _text(value, column)


def _bytes(value: Any, column: str) -> bytes:
    """A ``bytes`` column: text of characters U+0000-U+00FF, one per byte."""
    if value.__class__ is not str:
        raise _bad(column, value, "text of bytes (latin-1)")
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        raise _bad(column, value, "text of bytes (characters above U+00FF)") from None


def _list(value: Any, column: str) -> list[Any]:
    if value.__class__ is not list:
        raise _bad(column, value, "a list")
    return value


def _texts(value: Any, column: str) -> tuple[str, ...]:
    return tuple([_text(v, column) for v in _list(value, column)])


def _ports(value: Any, column: str) -> tuple[tuple[int, int], ...]:
    out = []
    for pair in _list(value, column):
        if pair.__class__ is not list or len(pair) != 2:
            raise _bad(column, pair, "a [start, end] pair")
        start, end = _int(pair[0], column, 0, 65535), _int(pair[1], column, 0, 65535)
        if start > end:
            raise _bad(column, pair, "a range (start above end)")
        out.append((start, end))
    return tuple(out)


def _chain(value: Any, column: str) -> tuple[int, ...]:
    chain = tuple([_int(v, column) for v in _list(value, column)])
    if not chain or len(set(chain)) != len(chain):
        raise _bad(column, value, "a list of distinct probe ids")  # a repeat would loop the work
    return chain


def _cost(degree: Any, constant: Any) -> tuple[int, int] | None:
    if degree is None and constant is None:
        return None
    return _int(degree, "cost_degree", 0, MAX_DEGREE), _int(constant, "cost_constant", 1)


def regex(value: Any, offset: Any = 0) -> bytes:
    """A ``matches.regex`` value as the matcher compiles it, from ``offset`` on."""
    if value is None:
        raise _bad("regex", value, "a pattern (sigc writes one for every line)")
    pattern = _bytes(value, "regex")
    return pattern[_int(offset, "rest_offset", 0, len(pattern)):] if offset else pattern


def literal_cost(value: Any) -> tuple[int, int, tuple[tuple[bytes, int], ...]] | None:
    """A ``matches.cost_literals`` value (decoded JSON) as the matcher keeps it."""
    if value is None:
        return None
    if value.__class__ is not list or len(value) != 3:
        raise _bad("cost_literals", value, "[degree, constant, literals]")
    degree, constant, literals = value
    found = []
    for item in _list(literals, "cost_literals"):
        if item.__class__ is not list or len(item) != 2:
            raise _bad("cost_literals", item, "a [literal, weight] pair")
        found.append((_bytes(item[0], "cost_literals"), _int(item[1], "cost_literals", 1)))
    return (_int(degree, "cost_literals", 0, MAX_DEGREE), _int(constant, "cost_literals", 1), tuple(found))


def source(row: Row) -> SourceRecord:
    return SourceRecord(_int(row["id"], "sources.id"), _text(row["kind"], "kind"), _text(row["path"], "path"),
                        _text(row["sha256"], "sha256"), _opt_text(row["version_line"], "version_line"))


def probe(row: Row) -> ProbeRecord:
    protocol, fallback = row["protocol"], row["fallback"]
    if protocol not in _PROTOCOLS:
        raise _bad("protocol", protocol, "TCP or UDP")
    return ProbeRecord(
        _int(row["id"], "probes.id"), protocol, _text(row["name"], "name"), _bytes(row["payload"], "payload"),
        _bytes(row["raw_payload"], "raw_payload"), _text(row["delimiter"], "delimiter"),
        _texts(row["options"], "options"), _bool(row["is_null"], "is_null"),
        _opt_int(row["rarity"], "rarity", *_RARITY), _ports(row["ports"], "ports"),
        _ports(row["sslports"], "sslports"), None if fallback is None else _texts(fallback, "fallback"),
        _chain(row["chain"], "chain"), _opt_int(row["totalwaitms"], "totalwaitms", *_WAIT_MS),
        _opt_int(row["tcpwrappedms"], "tcpwrappedms", *_WAIT_MS), frozenset(_texts(row["services"], "services")),
        _int(row["source"], "source"), _int(row["line"], "line"), _directives(row["directives"]),
    )


def _directives(value: Any) -> tuple[tuple[str, str, int], ...]:
    out = []
    for item in _list(value, "directives"):
        if item.__class__ is not list or len(item) != 3:
            raise _bad("directives", item, "a [keyword, text, line] triple")
        out.append((_text(item[0], "directives"), _text(item[1], "directives"), _int(item[2], "directives")))
    return tuple(out)


def match(row: Row) -> MatchRecord:
    prefix_bytes = _bytes(row["prefix"], "prefix")
    pattern_bytes = regex(row["regex"])
    first_bytes = row["first_bytes"]
    return MatchRecord(
        _int(row["id"], "matches.id"), _int(row["probe"], "probe"), _int(row["seq"], "seq"),
        _bool(row["soft"], "soft"), _text(row["service"], "service"), _bytes(row["pattern"], "pattern"),
        pattern_bytes, _text(row["delimiter"], "delimiter"), _text(row["flags"], "flags"),
        _bool(row["caseless"], "caseless"), _bool(row["dotall"], "dotall"), _int(row["groups"], "groups"),
        _bool(row["anchored"], "anchored"), prefix_bytes, _required(row["required"]),
        _int(row["min_length"], "min_length"), _opt_text(row["product"], "product"),
        _fields(row["fields"]), _templates(row["templates"]), _int(row["source"], "source", 0, _UINT32),
        _int(row["line"], "line", 0, _UINT32), _cost(row["cost_degree"], row["cost_constant"]),
        literal_cost(row["cost_literals"]), _int(row["head_length"], "head_length", 0, len(prefix_bytes)),
        _int(row["rest_offset"], "rest_offset", 0, len(pattern_bytes)),
        None if first_bytes is None else _bytes(first_bytes, "first_bytes"),
    )


def _required(value: Any) -> tuple[bytes, ...]:
    return tuple([_bytes(r, "required") for r in _list(value, "required")])


def _fields(value: Any) -> tuple[tuple[str, str, bytes, str], ...]:
    out = []
    for item in _list(value, "fields"):
        if item.__class__ is not list or len(item) != 4:
            raise _bad("fields", item, "a [key, delimiter, text, flags] list")
        key, delim, text, flags = item
        out.append((_text(key, "fields"), _text(delim, "fields"), _bytes(text, "fields"), _text(flags, "fields")))
    return tuple(out)


def _templates(value: Any) -> Any:
    """The parsed templates' shape: an object of field -> template, ``cpe`` -> list of them.
    Each template's parts are checked when the matcher parses them, the first time the line
    wins (``sigscan.matcher.core``), not here as well: most loaded lines never win, and parsing
    every one's templates slowed a first pass (docs/benchmarks.md, "Plain values")."""
    if value is None:
        return None
    if value.__class__ is not dict:
        raise _bad("templates", value, "an object")
    for key, item in value.items():
        for data in (_list(item, "templates") if key == "cpe" else (item,)):
            _list(data, "templates")
    return value


def line(row: Row) -> LineRecord:
    """A LineRecord from the :data:`LINE_COLUMNS` of a ``matches`` row (``required`` decoded)."""
    prefix_bytes = _bytes(row["prefix"], "prefix")
    return LineRecord(
        _int(row["id"], "matches.id"), _int(row["seq"], "seq"), _bool(row["soft"], "soft"),
        _text(row["service"], "service"), _bool(row["caseless"], "caseless"), _bool(row["dotall"], "dotall"),
        _bool(row["anchored"], "anchored"), prefix_bytes, _required(row["required"]),
        _int(row["min_length"], "min_length"), _int(row["source"], "source", 0, _UINT32),
        _int(row["line"], "line", 0, _UINT32), _cost(row["cost_degree"], row["cost_constant"]),
        row["cost_literals"] is not None, _int(row["head_length"], "head_length", 0, len(prefix_bytes)),
    )


def exclude(row: Row) -> ExcludeRecord:
    protocol = row["protocol"]
    if protocol not in _EXCLUDE_PROTOCOLS:
        raise _bad("exclude.protocol", protocol, "T, U, S or null")
    return ExcludeRecord(_int(row["seq"], "exclude.seq"), protocol, _opt_int(row["start"], "start", 0, 65535),
                         _opt_int(row["end"], "end", 0, 65535), _opt_text(row["service"], "exclude.service"))


def service(row: Row) -> ServiceRecord:
    return ServiceRecord(_text(row["protocol"], "services.protocol"), _int(row["port"], "services.port", 0, 65535),
                         _text(row["name"], "services.name"), _text(row["frequency"], "frequency"),
                         _int(row["seq"], "services.seq"))


def rpc(row: Row) -> RpcRecord:
    return RpcRecord(_int(row["number"], "rpc.number"), _text(row["name"], "rpc.name"),
                     _texts(row["aliases"], "aliases"), _int(row["seq"], "rpc.seq"))
