"""Line analysis on two cores gives what one gives, in the same order (sigc.analyze)."""

from __future__ import annotations

from pathlib import Path

from sigc.analyze import LINE_WEIGHT, _child_share, analyze_lines
from sigc.diagnostics import Location
from sigc.model import Match, MatchKind
from sigc.parser import parse_file


def test_parallel_analysis_equals_serial(real_path: Path) -> None:
    probes = [p.matches for p in parse_file(str(real_path)).probes]
    assert analyze_lines(probes, parallel=True) == analyze_lines(probes, parallel=False)


def _match(size: int) -> Match:
    where = Location("x", 1)
    return Match(MatchKind.MATCH, "x", b"x" * size, b"|", "", (), where, where)


def test_the_child_takes_the_run_of_probes_nearest_its_share() -> None:
    weights = [300, 90, 150, 100, 300]  # each line also weighs LINE_WEIGHT (60)
    probes = [[_match(w - LINE_WEIGHT)] for w in weights]
    assert _child_share(probes) == (3, 5)  # 400 of 940: the run nearest to CHILD_SHARE (442)
    assert _child_share([]) == (0, 0)
