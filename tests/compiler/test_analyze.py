"""What an analysis computes for each purpose (sigc.analyze.Purpose), and what it leaves behind."""

from __future__ import annotations

import gc

import pytest

from sigc import lint
from sigc.analyze import Compiled, Purpose, analyze
from sigc.syntax.parser import parse_bytes, parse_file
from tests.conftest import real_file

NULL = b"Probe TCP NULL q||\n"
LINES = 300


def _text(n: int) -> bytes:
    """``n`` lines with distinct patterns that compile, one with groups its template uses."""
    return NULL + b"".join(b"match m%d m|^m%d ([\\d.]+) \\w+-[a-z]{2,5}| p/M/ v/$1/\n" % (i, i) for i in range(n))


def test_each_purpose_gets_its_facts() -> None:
    source = parse_bytes(_text(3), "t.probes")
    built = analyze([source])
    linted = analyze([source], purpose=Purpose.LINT)
    assert all(m.key is not None and m.cost is not None and m.compiled is None for m in built.matches)
    assert all(m.key is None and m.cost is None and m.compiled == Compiled(None, 1) for m in linted.matches)
    assert [(m.pattern, m.templates) for m in linted.matches] == [(m.pattern, m.templates) for m in built.matches]


@pytest.mark.slow
def test_lint_finds_the_same_whatever_the_purpose() -> None:
    """``sigc lint`` analyses for lint (translations compiled by the analysis, no keys); a
    database analysed for a build is compiled by lint itself. Both give the same findings."""
    source = parse_file(real_file("7.93"))
    linted = lint.all_findings(analyze([source], purpose=Purpose.LINT))
    assert linted == lint.all_findings(analyze([source]))
    assert linted


def test_compiling_every_translation_leaves_no_garbage() -> None:
    """regex's parser leaves reference cycles, about 3 KB a pattern. ``sigc lint`` runs with
    the garbage collector paused (sigc.build.paused_gc), so they stayed until the run ended:
    3 KB for every line of the file. Compiling must leave nothing the collector would have
    to find: a few objects in all, not dozens per pattern."""
    db = analyze([parse_bytes(_text(LINES), "t.probes")])
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        found = lint.lint(db, select=["SIG501", "SIG502"])
        after = len(gc.get_objects())
    finally:
        if enabled:
            gc.enable()
    assert found == []
    assert after - before < LINES // 10, after - before
