"""Values of the logical schema in their stored form, and rows back into records.

Both encodings store a row as a list of column values: ``bytes`` as latin-1 text, ``json``
columns as nested values (the SQLite writer turns those into JSON text), booleans as 0/1.
"""

from __future__ import annotations

from sigscan import _json
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


def regex(value: str | None, offset: int = 0) -> bytes:
    """A ``matches.regex`` value as the matcher compiles it, from ``offset`` on."""
    return _b(value[offset:] if value is not None else None)


def _b(value: str | None) -> bytes:
    return b"" if value is None else value.encode("latin-1")


def _pairs(value: Any) -> tuple[tuple[int, int], ...]:
    return tuple((int(a), int(b)) for a, b in value or ())


def _cost(degree: int | None, constant: int | None) -> tuple[int, int] | None:
    return None if degree is None or constant is None else (degree, constant)


def literal_cost(value: Any) -> tuple[int, int, tuple[tuple[bytes, int], ...]] | None:
    """A ``matches.cost_literals`` value (decoded JSON) as the matcher keeps it."""
    if value is None:
        return None
    degree, constant, literals = value
    return int(degree), int(constant), tuple((_b(text), int(weight)) for text, weight in literals)


def source(row: Sequence[Any]) -> SourceRecord:
    return SourceRecord(*row)


def probe(row: Sequence[Any]) -> ProbeRecord:
    (id_, protocol, name, payload, raw, delim, options, is_null, rarity, ports, sslports,
     fallback, chain, total, wrapped, services, src, line, directives) = row
    return ProbeRecord(
        id_, protocol, name, _b(payload), _b(raw), delim, tuple(options), bool(is_null), rarity,
        _pairs(ports), _pairs(sslports), None if fallback is None else tuple(fallback), tuple(chain),
        total, wrapped, frozenset(services), src, line, tuple((k, t, n) for k, t, n in directives),
    )


def match(row: Sequence[Any]) -> MatchRecord:
    (id_, probe_id, seq, soft, service, pattern, regex, delim, flags, caseless, dotall, groups,
     anchored, prefix, required, min_length, product, fields, templates, src, line,
     degree, constant, literals, head_length, rest_offset, first_bytes) = row
    return MatchRecord(
        id_, probe_id, seq, bool(soft), service, _b(pattern), _b(regex), delim, flags,
        bool(caseless), bool(dotall), groups, bool(anchored), _b(prefix),
        tuple(_b(r) for r in required), min_length, product,
        tuple((k, d, _b(t), f) for k, d, t, f in fields), templates, src, line, _cost(degree, constant),
        literal_cost(literals), head_length, rest_offset, None if first_bytes is None else _b(first_bytes),
    )


def line(row: Sequence[Any]) -> LineRecord:
    """A LineRecord from the values of :data:`LINE_COLUMNS` (``required`` decoded)."""
    (id_, seq, soft, service, caseless, dotall, anchored, prefix, required,
     min_length, src, line_, degree, constant, literals, head_length) = row
    return LineRecord(
        id_, seq, bool(soft), service, bool(caseless), bool(dotall),
        bool(anchored), _b(prefix), tuple([_b(r) for r in required]), min_length, src, line_,
        _cost(degree, constant), literals is not None, head_length,
    )


def exclude(row: Sequence[Any]) -> ExcludeRecord:
    return ExcludeRecord(*row)


def service(row: Sequence[Any]) -> ServiceRecord:
    return ServiceRecord(*row)


def rpc(row: Sequence[Any]) -> RpcRecord:
    number, name, aliases, seq = row
    return RpcRecord(number, name, tuple(aliases), seq)
