"""Line analysis on two cores gives what one gives, in the same order (sigc.analyze)."""

from __future__ import annotations

from pathlib import Path

from sigc.analyze import CHILD_SHARE, _child_share, analyze_lines
from sigc.diagnostics import Location
from sigc.syntax.model import Match, MatchKind
from sigc.syntax.parser import parse_file


def test_parallel_analysis_equals_serial(real_path: Path) -> None:
    probes = [p.matches for p in parse_file(str(real_path)).probes]
    assert analyze_lines(probes, parallel=True) == analyze_lines(probes, parallel=False)


def _match() -> Match:
    where = Location("x", 1)
    return Match(MatchKind.MATCH, "x", b"x", b"|", "", (), where, 0)


def test_the_child_takes_the_largest_probes_that_fit_its_share() -> None:
    sizes = [30, 9, 15, 40, 6]  # lines per probe; 100 in all, the child's share is 48
    probes = [[_match()] * n for n in sizes]
    assert CHILD_SHARE == 0.48
    assert _child_share(probes) == [3, 4]  # 40 fits; 30, 15 and 9 would pass 48; 6 fits (46)
    assert _child_share([]) == []


def test_meanwhile_runs_once_while_the_child_works() -> None:
    """The caller's later work runs in this process after its own part, once, and changes no
    result; without a child there is no wait, and it does not run."""
    probes = [[_match()] * n for n in (3, 2)]
    calls: list[int] = []
    assert analyze_lines(probes, parallel=True, meanwhile=lambda: calls.append(1)) == analyze_lines(probes, parallel=False)
    assert calls == [1]
    analyze_lines(probes, parallel=False, meanwhile=lambda: calls.append(2))
    assert calls == [1]
