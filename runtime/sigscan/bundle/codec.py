"""Values of the logical schema in their stored form, and rows back into records.

Both encodings store a row as a list of column values: ``bytes`` as latin-1 text, ``json``
columns as nested values (the SQLite writer turns those into JSON text), booleans as 0/1.
"""

from __future__ import annotations

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
from sigscan.bundle.schema import MATCHES, ColumnType, Table

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

# The columns of MATCHES behind a LineRecord, in their order.
LINE_COLUMNS = ("id", "seq", "soft", "service", "caseless", "dotall", "anchored",
                "prefix", "required", "min_length", "source", "line", "cost_degree", "cost_constant",
                "cost_literals", "head_length")
_MATCH_INDEX = {name: i for i, name in enumerate(MATCHES.column_names)}
LINE_POSITIONS = tuple(_MATCH_INDEX[c] for c in LINE_COLUMNS)  # where they sit in a full row


def to_stored(table: Table, values: Sequence[Any]) -> list[Any]:
    """A row of Python values (bytes, lists, bools) in the stored form shared by both encodings."""
    out: list[Any] = []
    for column, value in zip(table.columns, values, strict=True):
        if value is None:
            out.append(None)
        elif column.type is ColumnType.BYTES:
            out.append(value.decode("latin-1"))
        elif column.type is ColumnType.BOOL:
            out.append(1 if value else 0)
        else:
            out.append(value)
    return out


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


def source(row: Sequence[Any]) -> SourceRecord:
    id_, kind, path, sha256, version_line = row
    return SourceRecord(_int(id_, "sources.id"), _text(kind, "kind"), _text(path, "path"),
                        _text(sha256, "sha256"), _opt_text(version_line, "version_line"))


def probe(row: Sequence[Any]) -> ProbeRecord:
    (id_, protocol, name, payload, raw, delim, options, is_null, rarity, ports, sslports,
     fallback, chain, total, wrapped, services, src, line, directives) = row
    if protocol not in _PROTOCOLS:
        raise _bad("protocol", protocol, "TCP or UDP")
    return ProbeRecord(
        _int(id_, "probes.id"), protocol, _text(name, "name"), _bytes(payload, "payload"),
        _bytes(raw, "raw_payload"), _text(delim, "delimiter"), _texts(options, "options"),
        _bool(is_null, "is_null"), _opt_int(rarity, "rarity", *_RARITY), _ports(ports, "ports"),
        _ports(sslports, "sslports"), None if fallback is None else _texts(fallback, "fallback"),
        _chain(chain, "chain"), _opt_int(total, "totalwaitms", *_WAIT_MS),
        _opt_int(wrapped, "tcpwrappedms", *_WAIT_MS), frozenset(_texts(services, "services")),
        _int(src, "source"), _int(line, "line"), _directives(directives),
    )


def _directives(value: Any) -> tuple[tuple[str, str, int], ...]:
    out = []
    for item in _list(value, "directives"):
        if item.__class__ is not list or len(item) != 3:
            raise _bad("directives", item, "a [keyword, text, line] triple")
        out.append((_text(item[0], "directives"), _text(item[1], "directives"), _int(item[2], "directives")))
    return tuple(out)


def match(row: Sequence[Any]) -> MatchRecord:
    (id_, probe_id, seq, soft, service, pattern, regex_, delim, flags, caseless, dotall, groups,
     anchored, prefix, required, min_length, product, fields, templates, src, line,
     degree, constant, literals, head_length, rest_offset, first_bytes) = row
    prefix_bytes = _bytes(prefix, "prefix")
    pattern_bytes = regex(regex_)
    return MatchRecord(
        _int(id_, "matches.id"), _int(probe_id, "probe"), _int(seq, "seq"), _bool(soft, "soft"),
        _text(service, "service"), _bytes(pattern, "pattern"), pattern_bytes,
        _text(delim, "delimiter"), _text(flags, "flags"), _bool(caseless, "caseless"),
        _bool(dotall, "dotall"), _int(groups, "groups"), _bool(anchored, "anchored"), prefix_bytes,
        _required(required), _int(min_length, "min_length"), _opt_text(product, "product"),
        _fields(fields), _templates(templates), _int(src, "source", 0, _UINT32),
        _int(line, "line", 0, _UINT32), _cost(degree, constant), literal_cost(literals),
        _int(head_length, "head_length", 0, len(prefix_bytes)),
        _int(rest_offset, "rest_offset", 0, len(pattern_bytes)),
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
    wins (``sigscan.matcher.core``): parsing them here too took a tenth of a first pass."""
    if value is None:
        return None
    if value.__class__ is not dict:
        raise _bad("templates", value, "an object")
    for key, item in value.items():
        for data in (_list(item, "templates") if key == "cpe" else (item,)):
            _list(data, "templates")
    return value


def line(row: Sequence[Any]) -> LineRecord:
    """A LineRecord from the values of :data:`LINE_COLUMNS` (``required`` decoded)."""
    (id_, seq, soft, service, caseless, dotall, anchored, prefix, required,
     min_length, src, line_, degree, constant, literals, head_length) = row
    prefix_bytes = _bytes(prefix, "prefix")
    return LineRecord(
        _int(id_, "matches.id"), _int(seq, "seq"), _bool(soft, "soft"), _text(service, "service"),
        _bool(caseless, "caseless"), _bool(dotall, "dotall"), _bool(anchored, "anchored"),
        prefix_bytes, _required(required), _int(min_length, "min_length"),
        _int(src, "source", 0, _UINT32), _int(line_, "line", 0, _UINT32), _cost(degree, constant),
        literals is not None, _int(head_length, "head_length", 0, len(prefix_bytes)),
    )


def exclude(row: Sequence[Any]) -> ExcludeRecord:
    seq, protocol, start, end, service_ = row
    if protocol not in _EXCLUDE_PROTOCOLS:
        raise _bad("exclude.protocol", protocol, "T, U, S or null")
    return ExcludeRecord(_int(seq, "exclude.seq"), protocol, _opt_int(start, "start", 0, 65535),
                         _opt_int(end, "end", 0, 65535), _opt_text(service_, "exclude.service"))


def service(row: Sequence[Any]) -> ServiceRecord:
    protocol, port, name, frequency, seq = row
    return ServiceRecord(_text(protocol, "services.protocol"), _int(port, "services.port", 0, 65535),
                         _text(name, "services.name"), _text(frequency, "frequency"), _int(seq, "services.seq"))


def rpc(row: Sequence[Any]) -> RpcRecord:
    number, name, aliases, seq = row
    return RpcRecord(_int(number, "rpc.number"), _text(name, "rpc.name"), _texts(aliases, "aliases"),
                     _int(seq, "rpc.seq"))
