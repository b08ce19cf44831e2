"""Values of the logical schema in their stored form, and rows back into records.

Both encodings store a row as a list of column values: ``bytes`` as latin-1 text, ``json``
columns as nested values (the SQLite writer turns those into JSON text), booleans as 0/1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sigscan import _json
from sigscan.bundle.records import (
    ExcludeRecord,
    MatchRecord,
    ProbeRecord,
    RpcRecord,
    ServiceRecord,
    SourceRecord,
)
from sigscan.bundle.schema import ColumnType, Table


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


def _b(value: str | None) -> bytes:
    return b"" if value is None else value.encode("latin-1")


def _pairs(value: Any) -> tuple[tuple[int, int], ...]:
    return tuple((int(a), int(b)) for a, b in value or ())


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
     anchored, prefix, required, min_length, product, fields, templates, src, line) = row
    return MatchRecord(
        id_, probe_id, seq, bool(soft), service, _b(pattern), _b(regex), delim, flags,
        bool(caseless), bool(dotall), groups, bool(anchored), _b(prefix),
        tuple(_b(r) for r in required), min_length, product,
        tuple((k, d, _b(t), f) for k, d, t, f in fields), templates, src, line,
    )


def exclude(row: Sequence[Any]) -> ExcludeRecord:
    return ExcludeRecord(*row)


def service(row: Sequence[Any]) -> ServiceRecord:
    return ServiceRecord(*row)


def rpc(row: Sequence[Any]) -> RpcRecord:
    number, name, aliases, seq = row
    return RpcRecord(number, name, tuple(aliases), seq)
