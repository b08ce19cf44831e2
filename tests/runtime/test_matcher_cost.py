"""The backtracking bound with deterministic repeats (sigscan.matcher.cost, flags given): which
repeats count as one path, which stay charged, and that the refined bound still holds on the
subjects that make each pattern work hardest."""

from __future__ import annotations

import re
import time

import pytest

from sigscan.matcher.cost import BUDGET, Cost, cost


def refined(pattern: bytes, anchored: bool = True, caseless: bool = False, dotall: bool = False) -> Cost | None:
    return cost(pattern, anchored, caseless=caseless, dotall=dotall)


@pytest.mark.parametrize(("pattern", "bound"), [
    # [\d.]+ ends where "-" starts (out of its group), [\w.]+ where \s, \r or \n start; \s* is
    # charged (\r and \n are in \s); \r? is followed by \n: one path, a constant 2
    (rb"^SSH-([\d.]+)-OpenSSH[_-]([\w.]+)\s*\r?\n", (1 + 1, 2 * 44)),
    (rb"^x[^\r\n]*\r\nfoo", (0 + 1, 19)),
    # the body of the repeated group matches one way from any start: the group is one degree
    (rb"^(?:[^\r\n]*\r\n)*?Server: (\S+)", (2 + 1, 34)),
    (rb"^(?:MSG|SEL)(?:,[^,\r\n]*){9,21}\r\n", (0 + 1, 2 * 13 * (36 + 1 + 1))),
    (rb"^(?:,[^,]*)*,", (1 + 1, 15)),
    (rb"a+b", (1 + 1, 3 + 1 + 1)),  # unanchored: a start position, then the linear degree
])
def test_deterministic_repeats(pattern: bytes, bound: tuple[int, int]) -> None:
    assert refined(pattern, anchored=pattern.startswith(b"^")) == Cost(*bound)


@pytest.mark.parametrize("pattern", [
    rb"^(a|aa)+$",  # alternation under a repeat
    rb"^(?:a+)*b",  # the inner repeat ends the group, which repeats: its next iteration starts with a
    rb"^(?:[^,]*)*x",  # a body that can be empty
    rb"^(?:,[^,]*|x)*,",  # a body with alternatives
])
def test_varying_bodies_stay_unbounded(pattern: bytes) -> None:
    assert refined(pattern) is None


@pytest.mark.parametrize(("pattern", "charged"), [
    (rb"^a*a", True),  # a can follow: the count is a choice
    (rb"^[a-z]*x", True),
    (rb"^\w+\s", False),
    (rb"^.*\n", False),  # . stops at \n without dotall
    (rb"^.*\n", True),  # ... but not with it (see the dotall flag below)
    (rb"^[a-z]+$", True),  # an anchor follows: not read, charged
    (rb"^(x*)", True),  # nothing follows
])
def test_which_repeats_are_charged(pattern: bytes, charged: bool) -> None:
    dotall = charged and pattern == rb"^.*\n"
    bound = refined(pattern, dotall=dotall)
    assert bound is not None
    # a charged repeat is a degree of its own; a deterministic one shares the single linear degree
    assert bound.degree == 1
    plain = cost(pattern, True)
    assert plain is not None and plain.degree == 1
    assert (bound.constant == plain.constant) == charged


def test_caseless_folds_before_comparing() -> None:
    assert refined(rb"^[a-z]+X", caseless=False) == Cost(1, 8 + 1 + 1)  # X is not in [a-z]: one path
    case_folded = refined(rb"^[a-z]+X", caseless=True)
    plain = cost(rb"^[a-z]+X", True)
    assert case_folded == plain  # x is: charged


@pytest.mark.parametrize(("pattern", "hostile"), [
    (rb"^(?:,[^,\r\n]*){9,21}\r\n", b",a" * 30 + b"\n"),
    (rb"^(?:[^\r\n]*\r\n)*?Server: (\S+)", b"x\r\n" * 19 + b"Server:"),  # the longest cheap one
    (rb"^([\d.]+)-([\w.]+)\s*\r?\n", b"1." * 80 + b"-" + b"a" * 150 + b" " * 100 + b"\r\r"),
])
def test_the_bound_holds_where_the_pattern_works_hardest(pattern: bytes, hostile: bytes) -> None:
    """On the subject that makes the pattern backtrack most, the search takes well under what
    the budget allows (about 2 ms per 10**7 units, see BUDGET): the bound is not optimistic."""
    bound = refined(pattern)
    assert bound is not None and bound.cheap(len(hostile))
    compiled = re.compile(pattern)
    start = time.perf_counter()
    for _ in range(10):
        compiled.search(hostile)
    per_search = (time.perf_counter() - start) / 10
    assert per_search < 0.05  # seconds: generous for a loaded machine; the bound allows ~2 ms
    assert bound.constant * (len(hostile) + 1) ** bound.degree <= BUDGET
