"""Lua 5.3 patterns as Python regular expressions, for scripts that search with a pattern made
of data (``string.find(data, field .. "=(...)", pos)`` where ``field`` came from the server).

:func:`find` is ``string.find(s, pattern, init)`` with one-based positions: the start and end of
the first match at or after ``init`` and the first capture. Each pattern item (a character, a
``%`` class or escape, ``.``, a ``[set]``, each with its ``* + - ?``) becomes a class of byte
values, so Lua's rules hold where Python's would differ: a quantifier with nothing before it is
a plain character, ``]`` first in a set is a member, ``^`` anchors only at the pattern's start,
``$`` only at its end, ``%a`` and the other classes are the C locale's. Lua and Python try
matches in the same order (greedy ``*``, ``+`` and ``?``, lazy ``-``, left to right), so the
results are Lua's.

:class:`PatternError` is raised for what Lua rejects (a ``%`` at the end, a set without ``]``,
a ``)`` without ``(``, an open ``(``), :class:`Untranslated` for what is not carried over
(``%b``, ``%f``, back references, position captures ``()``). Lua raises its errors only when the matcher reaches the
bad item, and an open ``(`` only when the rest matched; here every error is raised before
searching, whatever the subject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_CLASSES: dict[int, frozenset[int]] = {
    ord("a"): frozenset(range(65, 91)) | frozenset(range(97, 123)),
    ord("d"): frozenset(range(48, 58)),
    ord("l"): frozenset(range(97, 123)),
    ord("u"): frozenset(range(65, 91)),
    ord("s"): frozenset(b"\t\n\v\f\r "),
    ord("c"): frozenset(range(32)) | {127},
    ord("g"): frozenset(range(33, 127)),
    ord("z"): frozenset({0}),  # deprecated in Lua 5.2, still there in 5.3
}
_CLASSES[ord("w")] = _CLASSES[ord("a")] | _CLASSES[ord("d")]
_CLASSES[ord("x")] = _CLASSES[ord("d")] | frozenset(b"ABCDEFabcdef")
_CLASSES[ord("p")] = _CLASSES[ord("g")] - _CLASSES[ord("w")]
_ALL = frozenset(range(256))
_SPECIALS = frozenset(b"^$*+?.([%-")
_QUANTIFIERS = {ord("*"): b"*", ord("+"): b"+", ord("?"): b"?", ord("-"): b"*?"}


class PatternError(ValueError):
    """A pattern Lua rejects (its message is Lua's)."""


class Untranslated(PatternError):
    """A pattern Lua takes that this translation does not carry (``%b``, ``%f``, back
    references, position captures)."""


def _escaped(code: int) -> frozenset[int]:
    """What ``%`` followed by ``code`` matches (Lua's ``match_class``)."""
    lower = code | 0x20 if 65 <= code <= 90 else code
    members = _CLASSES.get(lower)
    if members is None:
        return frozenset({code})
    return _ALL - members if code != lower else members


def _set(pattern: bytes, at: int) -> tuple[frozenset[int], int]:
    """The set whose ``[`` is at ``at - 1``, and where the pattern goes on. Its end is found as
    Lua's ``classEnd`` finds it (the first member is taken whatever it is, ``%`` skips the next
    byte), its members as ``matchbracketclass`` reads them."""
    end = len(pattern)
    negate = at < end and pattern[at] == ord("^")
    first = at + 1 if negate else at
    scan = first
    while True:
        if scan >= end:
            raise PatternError("malformed pattern (missing ']')")
        code, scan = pattern[scan], scan + 1
        if code == ord("%") and scan < end:
            scan += 1
        if scan < end and pattern[scan] == ord("]"):
            break
    close = scan
    members: set[int] = set()
    at = first
    while at < close:
        code = pattern[at]
        if code == ord("%"):
            members |= _escaped(pattern[at + 1])
            at += 2
        elif pattern[at + 1] == ord("-") and at + 2 < close:
            members |= set(range(code, pattern[at + 2] + 1))
            at += 3
        else:
            members.add(code)
            at += 1
    return (_ALL - members if negate else frozenset(members)), close + 1


def _single(pattern: bytes, at: int) -> tuple[frozenset[int], int]:
    """The byte class of the item at ``at``, and where its quantifier would be."""
    code = pattern[at]
    if code == ord("."):
        return _ALL, at + 1
    if code == ord("["):
        return _set(pattern, at + 1)
    if code == ord("%"):
        if at + 1 >= len(pattern):
            raise PatternError("malformed pattern (ends with '%')")
        following = pattern[at + 1]
        if following in b"bf" or 48 <= following <= 57:
            raise Untranslated(f"%{chr(following)} is not translated")
        return _escaped(following), at + 2
    return frozenset({code}), at + 1


@lru_cache(maxsize=1024)
def _render(members: frozenset[int]) -> bytes:
    if len(members) == 1:  # as a literal, so that a literal prefix is searched for fast
        return re.escape(bytes(members))
    if not members:
        return b"(?!)"
    codes = sorted(members)
    parts, start = [], codes[0]
    for previous, code in zip(codes, [*codes[1:], -1], strict=True):
        if code != previous + 1:
            parts.append(b"\\x%02x" % start if start == previous
                         else b"\\x%02x-\\x%02x" % (start, previous))
            start = code
    return b"[" + b"".join(parts) + b"]"


@dataclass(frozen=True, slots=True)
class LuaPattern:
    """A translated pattern: the expression, whether it is anchored (``^``), how many single
    items it has and how many of them carry a quantifier (what a search can cost: without
    quantifiers a try at one position costs at most ``items`` steps)."""

    source: bytes
    expression: re.Pattern[bytes]
    anchored: bool
    items: int
    quantified: int


@lru_cache(maxsize=256)
def compile_pattern(pattern: bytes) -> LuaPattern:
    """The translation of a Lua pattern (:class:`PatternError` for a bad one). A pattern with
    none of Lua's special characters is searched for as plain text, as ``string.find`` does
    (a lone ``)`` is then no error)."""
    if not any(code in _SPECIALS for code in pattern):
        return LuaPattern(pattern, re.compile(re.escape(pattern)), False, len(pattern), 0)
    anchored = pattern.startswith(b"^")
    at, end, depth, items, quantified = int(anchored), len(pattern), 0, 0, 0
    out: list[bytes] = []
    while at < end:
        code = pattern[at]
        if code == ord("("):
            if at + 1 < end and pattern[at + 1] == ord(")"):
                raise Untranslated("position captures are not translated")
            out.append(b"(")
            depth, at = depth + 1, at + 1
        elif code == ord(")"):
            if depth == 0:
                raise PatternError("invalid pattern capture")
            out.append(b")")
            depth, at = depth - 1, at + 1
        elif code == ord("$") and at == end - 1:
            out.append(rb"\Z")
            at += 1
        else:
            members, at = _single(pattern, at)
            out.append(_render(members))
            items += 1
            if at < end and pattern[at] in _QUANTIFIERS:
                out.append(_QUANTIFIERS[pattern[at]])
                quantified, at = quantified + 1, at + 1
    if depth:
        raise PatternError("unfinished capture")
    return LuaPattern(pattern, re.compile(b"".join(out)), anchored, items, quantified)


def find(subject: bytes, pattern: LuaPattern, init: int = 1) -> tuple[int, int, bytes | None] | None:
    """``string.find(subject, pattern, init)``: one-based start and end of the match, and its
    first capture (None without captures); None when nothing matches."""
    if init < 0:
        init = max(len(subject) + init + 1, 1)
    init = max(init, 1)
    if init > len(subject) + 1:
        return None
    expression = pattern.expression
    search = expression.match if pattern.anchored else expression.search
    found = search(subject, init - 1)
    if found is None:
        return None
    capture = found.group(1) if expression.groups else None
    return found.start() + 1, found.end(), capture
