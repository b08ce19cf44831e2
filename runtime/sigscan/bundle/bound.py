"""The bound :func:`sigscan.bundle.cost.cost` computes, and what the runtime asks of it.

Apart from the scanner that computes bounds (``cost``), so that a process that only loads
bounds stored in a bundle does not import the scanner (and :mod:`sigscan.bundle.first`).
"""

from __future__ import annotations

from typing import NamedTuple

# Paths x nodes below which a search runs without the timeout. The bound is loose: on worst
# cases (``^a*a*a*b`` on a run of a's, ``a*a*b``, ``^x.*y.*z.*w``) this many units stay far
# below the default timeout with re or regex (docs/benchmarks.md, "Plain values").
BUDGET = 10_000_000


class Cost(NamedTuple):
    """``work <= constant * (n+1) ** degree`` for a subject of n bytes. The compiler stores it
    with each line (``matches.cost_degree``, ``cost_constant``)."""

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
        if self.degree == 0 or self.cheap(cap):
            return cap
        # the root of BUDGET / constant, then corrected: floats may be off by one either way
        low = min(cap, max(0, int((BUDGET / self.constant) ** (1 / self.degree)) - 1))
        while low > 0 and not self.cheap(low):
            low -= 1
        while low < cap and self.cheap(low + 1):
            low += 1
        return low


class LiteralCost(NamedTuple):
    """A bound that depends on the subject: ``work <= constant * ways * (n+1) ** degree``, where
    ``ways`` is the product, over ``literals`` (each a byte string and a weight), of how often
    the literal occurs in the subject times its weight (at least 1). Each literal follows a
    repeat of a one-byte atom, whose counts that let the search go on are at most the literal's
    occurrences (:func:`sigscan.bundle.cost.literal_cost`). ``bytes.count`` counts occurrences
    that do not overlap: a literal that can overlap itself (``aa``, ``abab``) weighs
    ``ceil(len / period)``, which bounds the overlapping ones (``sigscan.bundle.cost._weight``);
    any other weighs 1. Caseless lines store their
    literals lower-cased and count them in the lower-cased subject."""

    degree: int
    constant: int
    literals: tuple[tuple[bytes, int], ...]

    def cheap(self, text: bytes) -> bool:
        """Is the work on ``text`` (lower-cased for caseless lines) provably within :data:`BUDGET`?"""
        return literal_cheap(self, text)


def literal_cheap(bound: tuple[int, int, tuple[tuple[bytes, int], ...]], text: bytes) -> bool:
    """:meth:`LiteralCost.cheap` of a bound in its stored form, the plain tuple a bundle's line
    carries (the matcher keeps that, not a LiteralCost made of it)."""
    degree, constant, literals = bound
    work: int = constant * (len(text) + 1) ** degree
    for literal, weight in literals:
        if work > BUDGET:
            return False
        work *= max(1, text.count(literal) * weight)
    return work <= BUDGET
