"""Script output as Nmap renders it: ``stdnse.format_output`` (lists of lines with named,
nested sections) and the structured tables that ``nse_main`` formats (``stdnse.output_table``).

The strings these return are byte for byte what Nmap puts in ``<script output="…">``, so a
plugin's :class:`~sigscan.engine.plugin.Outcome` can carry them as they are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_LINE = re.compile(r"([^\r\n]*?)\n", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Section:
    """A nested table of ``format_output``: ``name`` on its own line, then ``items`` indented
    one step further."""

    name: str | None
    items: Sequence[str | Section]


def _lines(text: str) -> list[str]:
    """The lines Nmap's ``gmatch("([^\\r\\n]-)\\n")`` finds in ``text`` (after it added a last
    newline): a line holding a carriage return comes out empty, as in Nmap."""
    if not text.endswith("\n"):
        text += "\n"
    out: list[str] = []
    pos = 0
    while pos < len(text):
        found = _LINE.search(text, pos)
        if found is None:
            break
        out.append(found.group(1))
        pos = found.end()
    return out


def _sub(items: Sequence[str | Section], depth: int, name: str | None, top: bool) -> str:
    if not items:
        return ""
    out = ["\n"] if top else []
    indent = "  " * depth
    if name is not None:
        out.append(f"{indent}{name}\n")
    for item in items:
        if isinstance(item, Section):
            out.append(_sub(item.items, depth + 1, item.name, False))
        else:
            out.extend(f"{indent}  {line}\n" for line in _lines(item))
    return "".join(out)


def format_output(items: Sequence[str | Section]) -> str | None:
    """``stdnse.format_output(true, items)``: None for no items, else ``"\\n"`` and one
    ``"  line\\n"`` per line, sections indented two more spaces per level. (With a false
    status Nmap prints nothing unless debugging: plugins return None for those.)"""
    if not items:
        return None
    text = _sub(items, 0, None, True)
    return None if text in ("", "\n") else text


def format_table(entries: Sequence[tuple[str | None, str]], indent: str = "  ") -> str:
    """A structured table of strings as ``nse_main``'s ``format_table`` renders it: the array
    part (key None) first, then the keys in order (``stdnse.output_table`` keeps insertion
    order), each as ``"\\n" + indent + [key ": "] + value``."""
    listed = [f"\n{indent}{value}" for key, value in entries if key is None]
    keyed = [f"\n{indent}{key}: {value}" for key, value in entries if key is not None]
    return "".join(listed + keyed)
