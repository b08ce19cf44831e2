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

:func:`find` raises :class:`PatternError` where Lua raises one, and when it does: a malformed
item (a ``%`` at the end, a set without ``]``, a ``)`` without ``(``, a bad back reference,
``%f`` without a set) when a match gets as far as that item, a ``(`` never closed when a match
succeeds. ``%f[set]`` frontiers and ``%1``-``%9`` back references are carried over;
:func:`compile_pattern` raises :class:`Untranslated` for ``%b`` and position captures ``()``.
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
    """A pattern Lua takes that this translation does not carry (``%b``, position captures)."""


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
    """The byte class of the item at ``at`` (not ``%b``, ``%f``, ``%0``-``%9``), and where its
    quantifier would be."""
    code = pattern[at]
    if code == ord("."):
        return _ALL, at + 1
    if code == ord("["):
        return _set(pattern, at + 1)
    if code == ord("%"):
        if at + 1 >= len(pattern):
            raise PatternError("malformed pattern (ends with '%')")
        return _escaped(pattern[at + 1]), at + 2
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


def _frontier(members: frozenset[int]) -> bytes:
    """``%f[set]``: the byte before (a NUL at the start) is not in the set, the byte at the
    position (a NUL at the end) is."""
    inside, outside = _render(members), _render(_ALL - members)
    before = b"(?<=" + outside + b")" if 0 in members else b"(?<!" + inside + b")"
    after = b"(?!" + outside + b")" if 0 in members else b"(?=" + inside + b")"
    return before + after


@dataclass(frozen=True, slots=True)
class LuaPattern:
    """A translated pattern: the expression, whether it is anchored (``^``), how many single
    items it has and how many of them carry a quantifier (what a search can cost: without
    quantifiers a try at one position costs at most ``items`` steps). A malformed pattern
    keeps Lua's ``error`` and ``expression`` is the part before the bad item: Lua raises the
    error when a match gets that far. ``unfinished``: a capture is never closed, which Lua
    says when a match succeeds."""

    source: bytes
    expression: re.Pattern[bytes]
    anchored: bool
    items: int
    quantified: int
    error: str | None = None
    unfinished: bool = False


class _Translation:
    """One pass over a pattern, item by item (Lua's ``do_match`` cases)."""

    def __init__(self, pattern: bytes) -> None:
        self.pattern = pattern
        self.out: list[bytes] = []
        self.open: list[int] = []  # the numbers of the captures not closed yet
        self.groups = self.items = self.quantified = 0

    def item(self, at: int) -> int:
        """Translate the item at ``at``; where the next one starts."""
        pattern, end = self.pattern, len(self.pattern)
        code = pattern[at]
        following = pattern[at + 1] if at + 1 < end else -1
        if code == ord("("):
            if following == ord(")"):
                raise Untranslated("position captures are not translated")
            self.groups += 1
            self.open.append(self.groups)
            self.out.append(b"(")
            return at + 1
        if code == ord(")"):
            if not self.open:
                raise PatternError("invalid pattern capture")
            self.open.pop()
            self.out.append(b")")
            return at + 1
        if code == ord("$") and at == end - 1:
            self.out.append(rb"\Z")
            return at + 1
        if code == ord("%") and following == ord("b"):
            raise Untranslated("%b is not translated")
        if code == ord("%") and following == ord("f"):
            if at + 2 >= end or pattern[at + 2] != ord("["):
                raise PatternError("missing '[' after '%f' in pattern")
            members, after = _set(pattern, at + 3)
            self.out.append(_frontier(members))
            return after
        if code == ord("%") and 48 <= following <= 57:
            number = following - 48
            if number == 0 or number > self.groups or number in self.open:
                raise PatternError(f"invalid capture index %{number}")
            self.out.append(b"(?:\\%d)" % number)
            self.items += 1
            return at + 2
        members, after = _single(pattern, at)
        self.out.append(_render(members))
        self.items += 1
        if after < end and pattern[after] in _QUANTIFIERS:
            self.out.append(_QUANTIFIERS[pattern[after]])
            self.quantified += 1
            after += 1
        return after


@lru_cache(maxsize=256)
def compile_pattern(pattern: bytes) -> LuaPattern:
    """The translation of a Lua pattern (:class:`Untranslated` for what it does not carry). A
    pattern with none of Lua's special characters is searched for as plain text, as
    ``string.find`` does (a lone ``)`` is then no error)."""
    if not any(code in _SPECIALS for code in pattern):
        return LuaPattern(pattern, re.compile(re.escape(pattern)), False, len(pattern), 0)
    anchored = pattern.startswith(b"^")
    work = _Translation(pattern)
    at, error = int(anchored), None
    while at < len(pattern):
        try:
            at = work.item(at)
        except Untranslated:
            raise
        except PatternError as bad:
            error = str(bad)
            break
    source = b"".join(work.out) + b")" * len(work.open)
    return LuaPattern(pattern, re.compile(source), anchored, work.items, work.quantified,
                      error, bool(work.open) and error is None)


def find(subject: bytes, pattern: LuaPattern, init: int = 1) -> tuple[int, int, bytes | None] | None:
    """``string.find(subject, pattern, init)``: one-based start and end of the match, and its
    first capture (None without captures); None when nothing matches. :class:`PatternError`
    where Lua raises one: a match reaching a malformed item, or succeeding with a capture left
    open."""
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
    if pattern.error is not None:
        raise PatternError(pattern.error)
    if pattern.unfinished:
        raise PatternError("unfinished capture")
    capture = found.group(1) if expression.groups else None
    return found.start() + 1, found.end(), capture
