"""An upper bound on the backtracking work of a pattern, so cheap searches can skip the timeout.

The ``regex`` module's ``timeout`` costs about 2 µs per search (it reads a clock), more than most
searches themselves. A search whose work is provably small does not need it. A backtracking
search explores at most one path per combination of choices: a start position (n+1 of them
unless the pattern is anchored), an iteration count per variable repeat (n+1 for an unbounded
one, max-min+1 for a bounded one), a branch per alternation; each path walks at most the
pattern's nodes. So for a subject of n bytes the work is at most
``constant * (n+1) ** degree``, where :func:`cost` reads ``degree`` (unbounded repeats, a start
position for unanchored patterns, one per backreference) and ``constant`` (bounded choices
times the pattern's length) off the translated pattern.

A repeat whose body itself varies (a nested quantifier, an alternation under a quantifier, as in
``(a|aa)+`` or ``(?:,[^,]*){9,21}``) has no such bound: :func:`cost` returns ``None`` and the
search always runs with the timeout. So does anything the scanner does not recognise.
"""

from __future__ import annotations

from dataclasses import dataclass

BUDGET = 1_000_000  # paths x nodes below which a search runs without the timeout
_DIGITS = b"0123456789"


@dataclass(frozen=True, slots=True)
class Cost:
    degree: int
    constant: int

    def cheap(self, length: int) -> bool:
        """Is the work on a subject of ``length`` bytes provably within :data:`BUDGET`?"""
        work: int = self.constant * (length + 1) ** self.degree
        return work <= BUDGET

    def longest_cheap(self, cap: int = 1 << 30) -> int:
        """The longest subject (at most ``cap``) that is :meth:`cheap`; -1 if none is."""
        if not self.cheap(0):
            return -1
        if self.degree == 0:
            return cap
        low, high = 0, cap  # cheap(low) holds; find the largest such length
        while low < high:
            mid = (low + high + 1) // 2
            low, high = (mid, high) if self.cheap(mid) else (low, mid - 1)
        return low


class _Frame:
    __slots__ = ("branches", "constant", "degree", "varies")

    def __init__(self) -> None:
        self.branches = 1
        self.degree = 0
        self.constant = 1
        self.varies = False  # holds a variable repeat or an alternation


class _Unbounded(Exception):
    """The pattern has a repeat over a varying body, or a construct the scanner does not know."""


def cost(pattern: bytes, anchored: bool) -> Cost | None:
    """The bound for ``pattern`` (``regex`` syntax, as the bundle stores it), or ``None``."""
    try:
        frame = _Scanner(pattern).run()
    except _Unbounded:
        return None
    degree = frame.degree + (0 if anchored else 1)
    return Cost(degree, frame.constant * frame.branches * (len(pattern) + 1))


class _Scanner:
    def __init__(self, pattern: bytes) -> None:
        self.p = pattern
        self.i = 0
        self.stack = [_Frame()]
        self.atom: _Frame | bool | None = None  # last atom: a closed group, True, or None

    def run(self) -> _Frame:
        while self.i < len(self.p):
            self.step(self.p[self.i])
        if len(self.stack) != 1:
            raise _Unbounded
        return self.stack[0]

    def step(self, c: int) -> None:
        if c == 0x5C:  # backslash
            self.escape()
        elif c == 0x5B:  # [
            self.skip_class()
        elif c == 0x28:  # (
            self.open_group()
        elif c == 0x29:  # )
            self.close_group()
        elif c == 0x7C:  # |
            self.stack[-1].branches += 1
            self.stack[-1].varies = True
            self.i += 1
            self.atom = None
        elif c in b"*+?" or (c == 0x7B and self.counted() is not None):
            self.quantifier()
        else:
            self.i += 1
            self.atom = None if c in b"^$" else True

    def escape(self) -> None:
        nxt = self.p[self.i + 1 : self.i + 2]
        if nxt and nxt in b"123456789":
            self.stack[-1].degree += 1  # a backreference: charge it like an unbounded repeat
        self.i += 4 if nxt == b"x" else 2
        self.atom = True

    def skip_class(self) -> None:
        j = self.i + 1
        if self.p[j : j + 1] == b"^":
            j += 1
        if self.p[j : j + 1] == b"]":
            j += 1
        while j < len(self.p) and self.p[j] != 0x5D:
            j += 2 if self.p[j] == 0x5C else 1
        if j >= len(self.p):
            raise _Unbounded
        self.i = j + 1
        self.atom = True

    def open_group(self) -> None:
        j = self.i + 1
        if self.p[j : j + 1] == b"?":
            kind = self.p[j + 1 : j + 2]
            if kind == b"<":
                kind = self.p[j + 1 : j + 3]
            if kind not in (b":", b">", b"=", b"!", b"<=", b"<!"):
                raise _Unbounded  # inline flags, named groups, conditionals: not produced by sigc
            j += 1 + len(kind)
        self.stack.append(_Frame())
        self.i = j
        self.atom = None

    def close_group(self) -> None:
        if len(self.stack) < 2:
            raise _Unbounded
        inner = self.stack.pop()
        outer = self.stack[-1]
        outer.degree += inner.degree
        outer.constant *= inner.constant * inner.branches
        outer.varies = outer.varies or inner.varies
        self.i += 1
        self.atom = inner

    def counted(self) -> tuple[int, int | None, int] | None:
        """``{m}``, ``{m,}``, ``{m,n}`` at ``self.i``: (min, max, end), or ``None`` (a literal)."""
        close = self.p.find(b"}", self.i)
        if close < 0:
            return None
        low, comma, high = self.p[self.i + 1 : close].partition(b",")
        if not (low or comma) or (low and not low.isdigit()) or (high and not high.isdigit()):
            return None
        minimum = int(low) if low else 0  # {,n} is a quantifier for re >= 3.11: count it
        maximum = minimum if not comma else int(high) if high else None
        return minimum, maximum, close + 1

    def quantifier(self) -> None:
        c = self.p[self.i]
        if c == 0x7B:
            counted = self.counted()
            assert counted is not None
            low, high, end = counted
        else:
            low, high, end = (0, None, self.i + 1) if c == 0x2A else (1, None, self.i + 1) if c == 0x2B else (0, 1, self.i + 1)
        if self.p[end : end + 1] in (b"?", b"+"):
            end += 1  # lazy or possessive
        self.charge(low, high)
        self.i = end
        self.atom = None

    def charge(self, low: int, high: int | None) -> None:
        frame = self.stack[-1]
        if isinstance(self.atom, _Frame) and self.atom.varies and high != 1:
            raise _Unbounded  # a repeat over a varying body
        if self.atom is None:
            raise _Unbounded  # a quantifier after nothing: not a pattern sigc writes
        if high is None:
            frame.degree += 1
            frame.varies = True
        elif high != low:
            frame.constant *= high - low + 1
            frame.varies = True
