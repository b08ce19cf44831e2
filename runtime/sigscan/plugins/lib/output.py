"""How NSE turns a script's structured result into its output text (``nse_main.lua``'s
``format_table``): each nested level indented two more spaces; list items first, shown by value;
then keyed items as ``key: value``, in the order the script made them (``stdnse.output_table``
keeps insertion order). A plugin returns that text as ``Outcome.output``."""

from __future__ import annotations

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
