"""The bytes an atom, or the rest of a sequence, of a translated pattern can start with.

What the backtracking bound (:mod:`sigscan.bundle.cost`) asks of the pattern text it reads:
:func:`single_byte_mask` and :func:`continuation` understand the atoms sigc writes (bytes,
escapes, classes, ``.``, groups with alternatives, quantifiers) and answer ``None`` whenever they
are unsure (lookarounds, anchors, backreferences). The prefilter's first bytes of a whole pattern
are not read here: the compiler computes them from the pattern's tree
(``sigc.regex.literals.first_bytes``) and stores them with the line.
"""

from __future__ import annotations

import re

ALL = (1 << 256) - 1
_NL = 1 << 0x0A


def _mask(data: bytes | range) -> int:
    mask = 0
    for b in data:
        mask |= 1 << b
    return mask


_DIGIT = _mask(range(0x30, 0x3A))
_WORD = _DIGIT | _mask(range(0x41, 0x5B)) | _mask(range(0x61, 0x7B)) | 1 << 0x5F
_SPACE = _mask(b" \t\n\r\x0b\x0c")
_CLASSES = {ord("d"): _DIGIT, ord("w"): _WORD, ord("s"): _SPACE,
            ord("D"): ALL ^ _DIGIT, ord("W"): ALL ^ _WORD, ord("S"): ALL ^ _SPACE}
_CONTROL = {ord("n"): 0x0A, ord("r"): 0x0D, ord("t"): 0x09, ord("f"): 0x0C, ord("v"): 0x0B,
            ord("a"): 0x07, ord("e"): 0x1B, ord("0"): 0x00}


# What :meth:`_Reader.skip_sequence` passes over without looking: bytes that open, close or
# split nothing, and escapes.
_PLAIN = re.compile(rb"(?:[^\\\[()|]+|\\.)*", re.DOTALL)


class _Unsure(Exception):
    pass


def single_byte_mask(pattern: bytes, start: int, *, caseless: bool, dotall: bool) -> tuple[int, int] | None:
    """The bytes the atom at ``start`` matches, when it matches exactly one byte (a byte, an
    escape, a class, ``.``; not a group), and where it ends; ``None`` otherwise."""
    if pattern[start : start + 1] == b"(":
        return None
    try:
        mask, end = _Reader(pattern, dotall).atom(start)
    except (_Unsure, IndexError):
        return None
    return (_fold(mask) if caseless else mask), end


def continuation(pattern: bytes, start: int, *, caseless: bool, dotall: bool) -> tuple[int, bool, int] | None:
    """What a match of the rest of the sequence at ``start`` (up to its ``|`` or ``)``) can start
    with: (byte mask, whether the rest can match the empty string, where the rest ends); the
    mask is that of the bytes before the first atom that cannot be skipped. ``None`` when the
    rest is not understood (anchors, lookarounds, backreferences)."""
    try:
        mask, nullable, end = _Reader(pattern, dotall).sequence(start)
    except (_Unsure, IndexError):
        return None
    return (_fold(mask) if caseless else mask), nullable, end


def _fold(mask: int) -> int:
    for b in range(0x41, 0x5B):
        if mask >> b & 1 or mask >> (b + 0x20) & 1:
            mask |= 1 << b | 1 << (b + 0x20)
    return mask


class _Reader:
    def __init__(self, pattern: bytes, dotall: bool) -> None:
        self.p = pattern
        self.dotall = dotall

    def sequence(self, i: int) -> tuple[int, bool, int]:
        """First bytes of the sequence starting at ``i`` up to ``|`` or ``)``: (mask, nullable,
        end), where nullable means it can match the empty string."""
        mask = 0
        while i < len(self.p) and self.p[i] not in b"|)":
            atom, i = self.atom(i)
            low, i = self.quantifier(i)
            mask |= atom
            if low > 0:
                return mask, False, self.skip_sequence(i)
        return mask, True, i

    def skip_sequence(self, i: int) -> int:
        """Where the sequence at ``i`` ends (its ``|`` or ``)``, or the pattern's end). Its
        classes are read all the same: one that is not understood makes the caller unsure."""
        p, depth, plain = self.p, 0, _PLAIN.match
        while i < len(p):
            i = plain(p, i).end()  # type: ignore[union-attr]  # it matches the empty string
            if i == len(p):
                break
            c = p[i]
            if c == 0x5C:  # a backslash ending the pattern
                i += 2
                continue
            if c == 0x5B:
                i = self.set(i)[1]
                continue
            if c == 0x28:
                depth += 1
            elif c == 0x29:
                if depth == 0:
                    return i
                depth -= 1
            elif c == 0x7C and depth == 0:
                return i
            i += 1
        return i

    def atom(self, i: int) -> tuple[int, int]:
        c = self.p[i]
        if c == 0x5C:
            return self.escape(i)
        if c == 0x5B:
            return self.set(i)
        if c == 0x2E:
            return (ALL if self.dotall else ALL ^ _NL), i + 1
        if c == 0x28:
            return self.group(i)
        if c in b"^$*+?{":
            raise _Unsure
        return 1 << c, i + 1

    def escape(self, i: int) -> tuple[int, int]:
        c = self.p[i + 1]
        if c == 0x78:  # \xHH
            return 1 << int(self.p[i + 2 : i + 4], 16), i + 4
        if c in _CLASSES:
            return _CLASSES[c], i + 2
        if c in _CONTROL:
            return 1 << _CONTROL[c], i + 2
        if chr(c).isalnum():
            raise _Unsure  # \b, \A, backreferences, ...
        return 1 << c, i + 2

    def set(self, i: int) -> tuple[int, int]:
        j = i + 1
        negate = self.p[j] == 0x5E
        j += negate
        mask = 0
        first = True
        while self.p[j] != 0x5D or first:
            first = False
            low, j = self.set_item(j)
            if self.p[j] == 0x2D and self.p[j + 1] != 0x5D:
                high, j = self.set_item(j + 1)
                if isinstance(low, _ClassMask) or isinstance(high, _ClassMask):
                    raise _Unsure
                mask |= _mask(range(low, high + 1))
                continue
            mask |= low if isinstance(low, _ClassMask) else 1 << low
        return (ALL ^ mask if negate else mask), j + 1

    def set_item(self, j: int) -> tuple[int, int]:
        c = self.p[j]
        if c != 0x5C:
            return c, j + 1
        e = self.p[j + 1]
        if e == 0x78:
            return int(self.p[j + 2 : j + 4], 16), j + 4
        if e in _CLASSES:
            return _ClassMask(_CLASSES[e]), j + 2
        if e in _CONTROL:
            return _CONTROL[e], j + 2
        if chr(e).isalnum():
            raise _Unsure
        return e, j + 2

    def group(self, i: int) -> tuple[int, int]:
        j = i + 1
        if self.p[j] == 0x3F:  # (?
            if self.p[j + 1] not in b":>":
                raise _Unsure  # lookarounds and the rest
            j += 2
        mask = 0
        while True:
            branch, nullable, j = self.sequence(j)
            if nullable:
                raise _Unsure
            mask |= branch
            if self.p[j] == 0x29:
                return mask, j + 1
            j += 1  # past |

    def quantifier(self, i: int) -> tuple[int, int]:
        """The minimum count of a quantifier at ``i`` (1 when there is none) and its end."""
        c = self.p[i : i + 1]
        if c in (b"*", b"?"):
            low, i = 0, i + 1
        elif c == b"+":
            low, i = 1, i + 1
        elif c == b"{" and (close := self.p.find(b"}", i)) > 0 and _counted(self.p[i + 1 : close]):
            text = self.p[i + 1 : close].split(b",")[0]
            low, i = (int(text) if text else 0), close + 1
        else:
            return 1, i
        if self.p[i : i + 1] in (b"?", b"+"):
            i += 1
        return low, i


class _ClassMask(int):
    """A class escape (``\\d``) inside a set: a mask, not a byte value."""


def _counted(body: bytes) -> bool:
    low, comma, high = body.partition(b",")
    return bool(low or comma) and (not low or low.isdigit()) and (not high or high.isdigit())
