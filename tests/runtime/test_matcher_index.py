"""The pieces of the index: tokens, first bytes, the work bound that decides the timeout."""

from __future__ import annotations

import pytest

from sigscan.matcher.cost import BUDGET, Cost, cost
from sigscan.matcher.first import first_bytes
from sigscan.matcher.index import literal_tokens, tokens_of


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


def _bytes(mask: int | None) -> bytes:
    assert mask is not None
    return bytes(b for b in range(256) if mask >> b & 1)


@pytest.mark.parametrize(("pattern", "flags", "first"), [
    (rb"^[0-9a-f]{8}$", "", b"0123456789abcdef"),
    (rb"^[\xd5-\xef]...$", "", bytes(range(0xD5, 0xF0))),
    (rb"^\d\d:", "", b"0123456789"),
    (rb"^(?:ba)?sh-\d", "", b"bs"),
    (rb"^x*y", "", b"xy"),
    (rb"^(?:MSG|SEL|ID)", "", b"IMS"),
    (rb"^hello", "i", b"Hh"),
    (rb"^[^\x00-\xfd]", "", b"\xfe\xff"),
    (rb"^.a", "", bytes(b for b in range(256) if b != 10)),
    (rb"^.a", "s", bytes(range(256))),
    (rb"^\x41\n", "", b"A"),
    (rb"^(\d)\1", "", b"0123456789"),
])
def test_first_bytes(pattern: bytes, flags: str, first: bytes) -> None:
    mask = first_bytes(pattern, caseless="i" in flags, dotall="s" in flags)
    assert _bytes(mask) == bytes(sorted(first))


@pytest.mark.parametrize("pattern", [
    rb"x", rb"^(?=a)a", rb"^a?", rb"^(?:a|)b", rb"^\bword", rb"^(\d?)\1", rb"^[", rb"^(a",
])
def test_first_bytes_unsure(pattern: bytes) -> None:
    assert first_bytes(pattern, caseless=False, dotall=False) is None


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
