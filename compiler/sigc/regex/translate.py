"""The tree written back in the syntax of the ``regex`` module (bytes, V0, never UNICODE),
which means under :func:`regex_flags` what the PCRE pattern means to Nmap."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import regex  # type: ignore[import-untyped]  # no stubs for regex in the venv

from sigc.regex.tree import (
    Anchor,
    AnchorKind,
    Backref,
    Branches,
    ByteSet,
    Greed,
    Group,
    GroupKind,
    Literal,
    Node,
    Repeat,
    Tree,
    Unsupported,
    literal_spelling,
)


def regex_flags(*, caseless: bool, dotall: bool) -> int:
    """The ``regex`` flags under which ``PatternAnalysis.translated`` means what Nmap means."""
    flags = int(regex.V0)
    if caseless:
        flags |= int(regex.IGNORECASE)
    if dotall:
        flags |= int(regex.DOTALL)
    return flags


# A byte outside a class: escaped where ``regex`` would read it as syntax.
_SPECIAL_OUT = b"\\.^$*+?{}[]|()#"
_OUT_BYTES = [literal_spelling(b, _SPECIAL_OUT) for b in range(256)]


def translate(tree: Tree) -> bytes:
    """The tree in ``regex`` syntax (bytes, V0; flags from :func:`regex_flags`)."""
    return _emit_branches(tree.branches)


def _emit_branches(branches: Branches) -> bytes:
    return b"|".join(map(_emit_sequence, branches))


def _emit_sequence(items: tuple[Node, ...]) -> bytes:
    out = [_EMITTERS[type(node)](node) for node in items]
    if Backref in map(type, items):
        _separate_backrefs(items, out)
    return b"".join(out)


def _separate_backrefs(items: tuple[Node, ...], out: list[bytes]) -> None:
    """Spell a digit right after a backreference (nothing but empty text between) as ``\\xHH``:
    ``\\1`` then ``0`` must not read as ``\\10``."""
    after_backref = False
    for i, node in enumerate(items):
        text = out[i]
        if after_backref and text[:1].isdigit():
            text = out[i] = b"\\x%02x" % text[0] + text[1:]
        after_backref = type(node) is Backref or (after_backref and not text)


def _emit(node: Node) -> bytes:
    return _EMITTERS[type(node)](node)


def emit_literal(node: Literal) -> bytes:
    """Each byte as :data:`_OUT_BYTES` spells it. ``str.translate`` maps one character to
    several in C: latin-1 makes each byte a character and back."""
    return node.data.decode("latin-1").translate(_OUT_TEXT).encode("latin-1")


_OUT_TEXT = [spelling.decode("latin-1") for spelling in _OUT_BYTES]


def _emit_byte_set(node: ByteSet) -> bytes:
    return node.text


def emit_anchor(node: Anchor) -> bytes:
    return _SPELLINGS[node.kind]


def _emit_group(node: Group) -> bytes:
    return _SPELLINGS[node.kind] + _emit_branches(node.branches) + b")"


def _emit_repeat(node: Repeat) -> bytes:
    return _emit(node.item) + _quantifier(node.min, node.max) + _SPELLINGS[node.greed]


# The values of the enums, encoded once.
_SPELLINGS: dict[AnchorKind | GroupKind | Greed, bytes] = {
    kind: kind.value.encode() for kinds in (AnchorKind, GroupKind, Greed) for kind in kinds
}


def _emit_backref(node: Backref) -> bytes:
    return b"\\%d" % node.number if node.number < 100 else b"\\g<%d>" % node.number


def _emit_unsupported(node: Unsupported) -> bytes:
    raise ValueError(f"cannot translate {node.text!r} at offset {node.offset}")


_EMITTERS: dict[type, Callable[[Any], bytes]] = {
    Literal: emit_literal, ByteSet: _emit_byte_set, Anchor: emit_anchor, Group: _emit_group, Repeat: _emit_repeat,
    Backref: _emit_backref, Unsupported: _emit_unsupported,
}


def _quantifier(low: int, high: int | None) -> bytes:
    if high is None:
        return {0: b"*", 1: b"+"}.get(low, b"{%d,}" % low)
    if (low, high) == (0, 1):
        return b"?"
    return b"{%d}" % low if low == high else b"{%d,%d}" % (low, high)
