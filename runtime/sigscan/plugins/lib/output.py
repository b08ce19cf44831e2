"""How NSE turns a script's result into its output text, which a plugin returns as
``Outcome.output``.

:func:`format_table` is ``nse_main.lua``'s ``format_table`` for structured results: each nested
level indented two more spaces; list items first, shown by value; then keyed items as
``key: value``, in the order the script made them (``stdnse.output_table`` keeps insertion
order). :func:`format_output` is the older ``stdnse.format_output``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence


class Mixed:
    """A table with both list items and keyed items (list items are shown first)."""

    def __init__(self, items: Sequence[object], keyed: Mapping[str, object]) -> None:
        self.items, self.keyed = items, keyed


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if value != int(value) else f"{value:.1f}"
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def format_table(value: object, indent: str = "  ") -> str:
    """The output text of ``value`` (a top-level table starts with a line break)."""
    if isinstance(value, Mixed):
        items, keyed = value.items, value.keyed
    elif isinstance(value, Mapping):
        items, keyed = (), value
    elif isinstance(value, list | tuple):
        items, keyed = value, {}
    else:
        return _scalar(value)
    parts = [f"\n{indent}{format_table(item, indent + '  ')}" for item in items]
    parts += [f"\n{indent}{key}: {format_table(item, indent + '  ')}" for key, item in keyed.items()]
    return "".join(parts)


class Named:
    """A list with a title line: an output table with a ``name`` key, for :func:`format_output`."""

    def __init__(self, name: str | None, items: Sequence[object]) -> None:
        self.name, self.items = name, items


def format_output(data: str | Sequence[object] | Named) -> str | None:
    """``stdnse.format_output(true, data)``: nested lists of lines, each level indented two
    spaces more, a :class:`Named` list under its title; None when there is nothing."""
    if len(_items(data)) == 0:
        return None
    result = _format_sub(data, None)
    return None if result in ("", "\n") else result


def _items(data: object) -> Sequence[object]:
    if isinstance(data, Named):
        return data.items
    if isinstance(data, str):
        return [data]
    assert isinstance(data, list | tuple)
    return data


def _format_sub(data: object, indent: list[bool] | None) -> str:
    items = _items(data)
    if not items:
        return ""
    out = ["\n"] if indent is None else []
    level = indent or []
    pad = "  " * len(level)
    if isinstance(data, Named) and data.name:
        out.append(f"{pad}{data.name}\n")
    for i, value in enumerate(items):
        if isinstance(value, Named | list | tuple):
            out.append(_format_sub(value, [*level, i == len(items) - 1]))
        elif isinstance(value, str):
            text = value if value.endswith("\n") else value + "\n"
            out.extend(f"{pad}  {line}\n" for line in re.findall(r"([^\r\n]*?)\n", text))
    return "".join(out)
