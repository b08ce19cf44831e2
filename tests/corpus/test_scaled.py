"""The large files the compiler's memory benchmark makes from a real database (tests.corpus.scaled)
are files Nmap loads: one NULL probe, every probe name once per protocol, every fallback known."""

from __future__ import annotations

import pytest

from sigc.analyze import analyze
from sigc.diagnostics import Severity
from sigc.syntax.parser import parse_bytes
from tests.conftest import real_file
from tests.corpus import scaled


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["copies", "distinct"])
def test_scaled_files_are_valid(kind: str) -> None:
    data = real_file("7.93").read_bytes()
    per_copy = scaled.match_lines(data)
    made = scaled.copies(data, 2) if kind == "copies" else scaled.distinct(data, per_copy + 100)
    db = analyze([parse_bytes(made, "scaled.probes")])
    assert [str(d) for d in db.diagnostics if d.severity is Severity.ERROR] == []
    assert len(db.matches) == scaled.match_lines(made) == (2 * per_copy if kind == "copies" else per_copy + 100)
    assert sum(p.probe.is_null for p in db.probes) == 1
    if kind == "distinct":  # the copies' patterns differ: more distinct patterns than a copy has lines
        assert len({m.match.pattern for m in db.matches}) > per_copy
