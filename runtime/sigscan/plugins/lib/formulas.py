"""Nmap's ``formulas.looksRandom``: whether a short sample looks like random bytes.

Chi-square goodness-of-fit over groups of 2, 4 and 8 bits, against the 95 % points of the
chi-square distribution. Kept exactly as Nmap computes it, quirks included (they decide
verdicts): the last whole bit group is left out, and only the categories that occur add to the
statistic."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

# chi-square at 0.95 for 3, 15 and 255 degrees of freedom
_CRITICAL = {4: 7.8147279032511738, 16: 24.99579013972863, 256: 293.2478350807001}


def _chi2(data: Sequence[object], categories: int) -> float:
    expected = len(data) / categories
    if expected == 0:
        return float("nan")  # Nmap divides by zero too: nan, and nan > x is false
    return sum((n - expected) ** 2 for n in Counter(data).values()) / expected


def _split_bits(data: bytes, size: int) -> list[str]:
    bits = "".join(f"{byte:08b}" for byte in data)
    return [bits[i:i + size] for i in range(0, len(bits) - size, size)]


def looks_random(data: bytes) -> bool:
    for size, categories in ((2, 4), (4, 16)):
        if _chi2(_split_bits(data, size), categories) > _CRITICAL[categories]:
            return False
    return not _chi2(list(data), 256) > _CRITICAL[256]
