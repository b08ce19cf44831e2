"""The parser's quick path (no Lark for comments, blank lines and well-formed match lines) reads
every line exactly as the grammar does: same kind, same tokens with the same types, values and
positions; a line the grammar refuses never takes the quick path."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lark.exceptions import UnexpectedInput

from sigc.syntax.parser import _lark, _quick
from tests.conftest import REAL_FILES, real_file


def _lark_reading(text: str) -> Any:
    try:
        parsed = _lark().parse(text)
    except UnexpectedInput:
        return None
    return _shape(parsed)


def _shape(parsed: Any) -> Any:
    return parsed.kind, [(t.type, str(t), t.start_pos, t.line, t.column, t.end_line, t.end_column, t.end_pos)
                         for t in parsed.tokens]


def _check(text: str) -> bool:
    """Assert the quick path agrees with Lark; whether it took the line."""
    quick = _quick(text)
    if quick is not None:
        assert _shape(quick) == _lark_reading(text), text
    return quick is not None


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_every_line_of_the_real_databases(name: str) -> None:
    lines = real_file(name).read_bytes().decode("latin-1").split("\n")
    taken = sum(_check(line) for line in lines)
    assert taken > 0.95 * len(lines)  # the point of the quick path: nearly every line


_WS = st.text(alphabet=" \t\r\f\v", max_size=2)
_JUNK = st.text(alphabet="ab |/=:$%\\()\t\x0bipvm", max_size=6)


def _delimited(draw: st.DrawFn, head: str, delimiters: str) -> str:
    d = draw(st.sampled_from(delimiters))
    body = draw(st.text(alphabet="ab$%\\() \t:|/=", max_size=6).filter(lambda b: d not in b))
    return head + d + body + d + draw(st.text(alphabet="isxv", max_size=2))


def _mostly(draw: st.DrawFn, good: str) -> str:
    """``good`` four times out of five, else junk."""
    return good if draw(st.integers(0, 4)) else draw(_JUNK)


@st.composite
def _match_lines(draw: st.DrawFn) -> str:
    """Lines shaped like match lines, each piece sometimes junk (a missing space, a letter as
    delimiter, stray text), so both readings and refusals come up."""
    keyword = _mostly(draw, draw(st.sampled_from(["match ", "softmatch "])))
    service = _mostly(draw, draw(st.text(alphabet="ab/-|m", min_size=1, max_size=4)) + " ")
    line = keyword + service + _mostly(draw, _delimited(draw, "m", "|/=%:!m "))
    for _ in range(draw(st.integers(0, 3))):
        space = draw(st.sampled_from([" ", " ", "\t ", ""]))
        key = draw(st.sampled_from(["p", "v", "i", "h", "o", "d", "cpe:", "cpe", "p:", "x"]))
        line += _mostly(draw, space + _delimited(draw, key, "|/=:!p "))
    return line + _mostly(draw, draw(_WS))


@settings(max_examples=1500, deadline=None)
@given(_match_lines())
@example("match x p:/a/b:")  # a field Lark reads as key p: that then leaves a stray ':'
@example("match x m|a|i p/x/v/y/")
@example("match x m|a|i p/x/ \t")
@example("match x m|a| cpe:/a:b/ cpe:|c|")
@example("match x m=a=s p=1=")
@example("match x m|a|p/x/")
@example("match x  \tm|a| p/x/")  # Nmap skips whitespace between the service and the pattern
@example("match x m|a| cpe:/o:mi")  # Nmap reads the name cpe: and an unterminated '/' field
@example("match x m|a| p:x: v/1/")
def test_generated_lines(line: str) -> None:
    _check(line)


def test_the_generated_lines_exercise_both_paths() -> None:
    """Not a tautology check of the strategy's luck: a fixed sample takes both paths."""
    taken = refused = 0

    @settings(max_examples=250, deadline=None, database=None, derandomize=True)
    @given(_match_lines())
    def count(line: str) -> None:
        nonlocal taken, refused
        if _check(line):
            taken += 1
        elif _lark_reading(line) is None:
            refused += 1

    count()
    assert taken > 40 and refused > 40


def test_lines_the_grammar_refuses_are_left_to_it() -> None:
    for text in ("match x m|a", "match  m|a|", "match x m|a| p/x", "match x m|a|x/1/ junk",
                 " match x m|a|", "match x m|a| p:/a/b:", "match x m|a| cpe:/o:mi"):
        assert _quick(text) is None, text
        assert _lark_reading(text) is None, text
