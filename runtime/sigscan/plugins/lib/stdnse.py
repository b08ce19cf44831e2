"""How Nmap turns what a script returns into its output text, and the text helpers of its
``stdnse`` and ``datetime`` libraries that scripts print with:

- :func:`format_table`: a structured result (``stdnse.output_table`` or a plain Lua table) as
  ``nse_main.lua``'s ``format_table`` renders it: each level indented two more spaces, the
  list part first (values only), then ``key: value`` in the table's key order;
- :func:`format_output`: ``stdnse.format_output`` (a list of lines and nested lists);
- :func:`tohex`, :func:`format_time` (an interval as ``358d01h13m46s``) and
  :func:`format_timestamp` (a Unix time as ``2013-10-23T10:33:00``, UTC).

Each returns the string Nmap's function returns, quirks included (see each docstring), so a
plugin's :class:`~sigscan.engine.plugin.Outcome` can carry it as Nmap's ``<script output>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

_LINE = re.compile(r"([^\r\n]*)\n")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Items = Sequence["str | Items"]


@dataclass
class Table:
    """A Lua table with both a list part and keys (``table.insert`` and ``t[key] = v`` on one
    ``stdnse.output_table``): the list part is shown first. A ``dict`` is a table of keys
    only, a ``list`` or ``tuple`` one of list items only."""

    items: list[object] = field(default_factory=list)
    keys: dict[str, object] = field(default_factory=dict)


def lua_tostring(value: object) -> str:
    """Lua's ``tostring`` of a scalar: ``true``/``false``, integers in decimal, floats with
    ``%.14g`` (``1.0`` for a whole one), strings as they are (bytes as UTF-8)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = f"{value:.14g}"
        return text + ".0" if re.fullmatch(r"-?\d+", text) else text
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "nil" if value is None else str(value)


def format_table(value: object, indent: str = "  ") -> str:
    """The output text of ``value`` (a table's text starts with a line break)."""
    if isinstance(value, Table):
        items, keys = list(value.items), dict(value.keys)
    elif isinstance(value, Mapping):
        items, keys = [], dict(value)
    elif isinstance(value, list | tuple):
        items, keys = list(value), {}
    else:
        return lua_tostring(value)
    deeper = indent + "  "
    parts = [f"\n{indent}{format_table(item, deeper)}" for item in items]
    parts += [f"\n{indent}{key}: {format_table(item, deeper)}" for key, item in keys.items()]
    return "".join(parts)


def lines(text: str) -> list[str]:
    """The lines ``format_output`` prints of ``text``: Lua's ``gmatch("([^\\r\\n]-)\\n")`` after
    a last newline is added. A line holding a carriage return loses what comes before it."""
    if not text.endswith("\n"):
        text += "\n"
    return [m.group(1) for m in _LINE.finditer(text)]


def _format_sub(items: Items, depth: int) -> str:
    out: list[str] = []
    indent = "  " * depth
    for item in items:
        if isinstance(item, str):
            out.extend(f"{indent}  {line}\n" for line in lines(item))
        else:
            out.append(_format_sub(item, depth + 1))
    return "".join(out)


def format_output(items: Items) -> str | None:
    """``stdnse.format_output(true, items)``: None when there is nothing; else a line break,
    then ``"  line\\n"`` for each line of each string, a nested list indented two more spaces
    per level. (A false status prints nothing unless Nmap debugs: plugins return None then.)"""
    if not items:
        return None
    text = "\n" + _format_sub(items, 0)
    return None if text == "\n" else text


def tohex(data: bytes) -> str:
    """``stdnse.tohex``: lowercase hex digits. Nmap 7.93 drops the ``separator`` option (its
    ``gsub`` result is thrown away), so there is none here either."""
    return data.hex()


def format_time(interval: int) -> str:
    """``datetime.format_time``: ``[-]NdHHhMMmSSs`` with the leading zero units cut
    (``2s``, ``1m00s``, ``358d01h13m46s``; ``0s`` for nothing)."""
    sign = "-" if interval < 0 else ""
    interval = abs(interval)
    seconds, interval = interval % 60, interval // 60
    minutes, interval = interval % 60, interval // 60
    hours, days = interval % 24, interval // 24
    text = f"{days}d{hours:02d}h{minutes:02d}m{seconds:02d}s"
    found = re.search(r"[1-9].*", text)
    return sign + (found.group() if found else "0s")


def format_timestamp(stamp: int) -> str:
    """``datetime.format_timestamp(stamp)`` with no time zone: UTC ``YYYY-MM-DDTHH:MM:SS``."""
    when = _EPOCH + timedelta(seconds=stamp)
    return (f"{when.year}-{when.month:02d}-{when.day:02d}T"
            f"{when.hour:02d}:{when.minute:02d}:{when.second:02d}")
