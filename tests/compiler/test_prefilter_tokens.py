"""The pieces of the index: tokens, the work bound that decides the timeout (first bytes: the
compiler's, tests/compiler/test_pcre.py)."""

from __future__ import annotations

import pytest

from sigc.prefilter import literal_tokens
from sigscan.bundle.cost import BUDGET, Cost, cost
from sigscan.bundle.keys import tokens_of


def test_tokens_of_a_response() -> None:
    assert tokens_of(b"HTTP/1.1 200 OK\r\nServer: Apache/2.4 (Ubuntu)") == {
        b"HTTP", b"1", b"200", b"OK", b"Server", b"Apache", b"2", b"4", b"Ubuntu"}
    assert tokens_of(b"") == frozenset() and tokens_of(b"\xff\x00") == frozenset()


@pytest.mark.parametrize(("literal", "at_start", "tokens"), [
    (b"\r\nServer: Apache/", False, [b"Server", b"Apache"]),
    (b"Apache/", False, []),  # may be the tail of "XApache"
    (b"Apache/", True, [b"Apache"]),  # at the start of the response: a whole token
    (b"HTTP/1.", True, [b"1", b"HTTP"]),
    (b"nginx", True, []),  # may continue: "nginxy"
    (b" ok ", False, [b"ok"]),
])
def test_literal_tokens_are_whole_tokens_of_any_subject(literal: bytes, at_start: bool, tokens: list[bytes]) -> None:
    assert literal_tokens(literal, at_start) == tokens
    for subject in (b"x" + literal + b"y", literal + b"zz") if not at_start else (literal + b"q",):
        if literal in subject:
            assert set(tokens) <= tokens_of(subject)


@pytest.mark.parametrize(("pattern", "anchored", "bound"), [
    (rb"^SSH-([\d.]+)-([\w._-]+)\r?\n", True, (2, 2 * 30)),
    (rb"^abc", True, (0, 5)),
    (rb"Welcome", False, (1, 8)),
    (rb"^(?:a|b|c)x{2,5}", True, (0, 3 * 4 * 17)),
    (rb"^(\d)\1", True, (1, 8)),
    (rb"^a{,3}", True, (0, 4 * 7)),
])
def test_cost(pattern: bytes, anchored: bool, bound: tuple[int, int]) -> None:
    assert cost(pattern, anchored) == Cost(*bound)


@pytest.mark.parametrize("pattern", [
    rb"^(a|aa)+$", rb"^(a+)+$", rb"^(?:,[^,\r\n]*){9,21}\r\n", rb"^(?:[^\r\n]+\r\n)*?Server:",
    rb"^(?i)x", rb"^(a", rb"^a)", rb"^[a",
])
def test_no_bound_for_repeats_of_varying_bodies(pattern: bytes) -> None:
    assert cost(pattern, True) is None


def test_longest_cheap() -> None:
    c = Cost(2, 100)
    n = c.longest_cheap()
    assert c.cheap(n) and not c.cheap(n + 1) and 100 * (n + 1) ** 2 <= BUDGET
    assert Cost(0, 10).longest_cheap(500) == 500
    assert Cost(0, BUDGET + 1).longest_cheap() == -1
