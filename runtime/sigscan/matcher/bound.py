"""The bound :func:`sigscan.matcher.cost.cost` computes, and what the runtime asks of it.

Apart from the scanner that computes bounds (``cost``), so that a process that only loads
bounds stored in a bundle does not import the scanner (and :mod:`sigscan.matcher.first`).
"""

from __future__ import annotations

from sigscan._record import Record

# Paths x nodes below which a search runs without the timeout. The bound is loose: measured on
# worst cases (``^a*a*a*b`` on a run of a's, ``a*a*b``, ``^x.*y.*z.*w``) a unit of it costs
# 0.01-0.15 ns with re or regex, so 10**7 units stay within about 2 ms, a fiftieth of the
# default timeout.
BUDGET = 10_000_000


class Cost(Record):
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
