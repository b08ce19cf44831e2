"""Pattern analysis on two cores gives what one gives, in the same order (sigc.analyze)."""

from __future__ import annotations

from pathlib import Path

from sigc.analyze import _split, analyze_patterns
from sigc.parser import parse_file


def test_parallel_analysis_equals_serial(real_path: Path) -> None:
    keys = [(m.pattern, m.caseless, m.dotall) for p in parse_file(str(real_path)).probes for m in p.matches]
    assert analyze_patterns(keys, parallel=True) == analyze_patterns(keys, parallel=False)


def test_the_split_shares_the_pattern_bytes() -> None:
    keys = [(b"x" * n, False, False) for n in (1, 1, 1, 1, 10, 10)]
    at = _split(keys)
    assert at == 5  # the parent takes keys until it holds 53 % of the 24 bytes (14), the child the rest
    assert _split([]) == 0
