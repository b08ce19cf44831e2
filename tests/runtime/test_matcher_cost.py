"""The backtracking bound with deterministic repeats (sigscan.bundle.cost, flags given): which
repeats count as one path, which stay charged, and that the refined bound still holds on the
subjects that make each pattern work hardest."""

from __future__ import annotations

import itertools
import re
import time

import pytest

from sigscan.bundle.cost import (
    BUDGET,
    Cost,
    LiteralCost,
    _weight,
    bounds,
    cost,
    literal_bound,
    literal_cost,
    proves,
)
from sigscan.bundle.loader import open_bundle
from sigscan.matcher import Matcher
from tests.conftest import REAL_FILES, SMALL, bundle_of


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


@pytest.mark.parametrize(("pattern", "bound"), [
    # each .* is followed by \r (a byte of .) then \n (not one): two ways on each, so the two
    # repeats are a factor 2 * 2 and share the linear degree: 4 * (20 + 1 + 2 + 2)
    (rb"^(.*)\r\n(.*)\r\nEnd", (1, 100)),
    (rb"^[a-z]*ab-[a-z]*ab-", (1, 3 * 3 * (19 + 1 + 3 + 3))),  # - is the third byte: 3 ways
    (rb"^x.*?\r\n.*?\r\n", (1, 2 * 2 * (16 + 1 + 2 + 2))),  # lazy: the same counts go on
    # one such repeat alone is cheaper charged (a degree, no factor): that bound is kept
    (rb"^Server: (.*)\r\n", (1, 18)),
])
def test_repeats_with_a_few_ways_on(pattern: bytes, bound: tuple[int, int]) -> None:
    assert refined(pattern) == Cost(*bound)


@pytest.mark.parametrize("pattern", [
    rb"^a.*b.*b$",  # b is a byte of ., then an anchor: not read
    rb"^(?:.*\r\n)*x.*\r\n",  # the body of a repeated group has two ways on: unbounded
    rb"^.*\r?\n.*\r\n",  # \r? is not a single byte
    rb"^.*(?:\r|\n)x.*\r\n",  # a group opens before the byte . cannot match
])
def test_a_few_ways_on_needs_single_bytes_up_to_one_outside(pattern: bytes) -> None:
    few = refined(pattern)
    charged = cost(pattern, True)
    assert few == charged or few is None


@pytest.mark.parametrize(("atom", "follow", "ways"), [
    (rb".", b"\r\n", 2), (rb"[a-z]", b"ab-", 3), (rb"[^,]", b",", 1), (rb"\w", b"a_ c", 3),
])
def test_at_most_k_plus_one_counts_go_on(atom: bytes, follow: bytes, ways: int) -> None:
    """The claim itself, on every subject of up to 6 bytes over the bytes that matter: from any
    start, at most ``ways`` counts of ``atom*`` are followed by ``follow`` (k+1, k the position
    of the first byte of ``follow`` the atom cannot match); and the scanner finds that many."""
    one = re.compile(atom)
    k = next(i for i, b in enumerate(follow) if not one.fullmatch(bytes([b])))
    assert k + 1 == ways
    few = refined(b"^" + atom + b"*" + re.escape(follow) + b"x" + atom + b"*" + re.escape(follow))
    length = len(re.escape(follow)) * 2 + len(atom) * 2 + 4
    assert few == Cost(1, ways * ways * (length + 1 + 2 * ways))
    alphabet = sorted(set(follow) | set(b"a,\n"))
    for size in range(7):
        for subject in itertools.product(alphabet, repeat=size):
            data = bytes(subject)
            for start in range(size + 1):
                run = start
                while run < size and one.fullmatch(data[run : run + 1]):
                    run += 1
                counts = [c for c in range(run - start + 1) if data.startswith(follow, start + c)]
                assert len(counts) <= ways


@pytest.mark.parametrize(("pattern", "caseless", "bound"), [
    # dotall .* before <title>: as many ways on as <title> occurs; the rest shares one degree,
    # and a failed count stops within its literal: constant = length + 1 + the literals' lengths
    # (a literal is cut to its first 16 bytes: a prefix occurs at least as often)
    (rb"^HTTP/1\.1 .*<title>Foo</title>.*Bar", False, (1, 36 + 1 + 16 + 3, ((b"<title>Foo</titl", 1), (b"Bar", 1)))),
    # caseless: the literal lower-cased (counted in the lower-cased subject)
    (rb"^x.*Abc.*d", True, (1, 10 + 1 + 3 + 1, ((b"abc", 1), (b"d", 1)))),
    # a literal that can overlap itself weighs more than 1: "aXa" occurrences can share an "a"
    (rb"^x.*aXa.*b", False, (1, 10 + 1 + 3 + 1, ((b"aXa", 2), (b"b", 1)))),
])
def test_literal_cost(pattern: bytes, caseless: bool, bound: tuple[int, int, tuple[tuple[bytes, int], ...]]) -> None:
    found = literal_cost(pattern, True, caseless=caseless, dotall=True)
    assert found == LiteralCost(*bound)
    plain = cost(pattern, True, caseless=caseless, dotall=True)
    assert plain is not None and plain.degree > found.degree


@pytest.mark.parametrize("pattern", [
    rb"^x.*Abc",  # one repeat: its degree is as cheap as a count of the literal
    rb"^(a|aa)+.*b.*c",  # unbounded anyway
    rb"^x.*[ab]c.*d",  # no literal right after the first .*: charged, so nothing gained
])
def test_no_literal_cost_when_it_is_not_lower(pattern: bytes) -> None:
    assert literal_cost(pattern, True, caseless=False, dotall=True) is None


def test_literal_cost_counts_the_subject() -> None:
    bound = LiteralCost(1, 10, ((b"<t>", 1), (b"aa", 2)))
    assert bound.cheap(b"x" * 1000)  # neither occurs: 10 * 1001
    assert bound.cheap(b"<t>" + b"aaa" + b"x" * 1000)  # 10 * 1007 * 1 * (1 * 2)
    assert not bound.cheap(b"<t>" * 600 + b"aa" * 600)  # 10 * 3001 * 600 * 1200


@pytest.mark.parametrize("literal", [b"a", b"aa", b"aaa", b"abab", b"abc", b"aXa", b"abcab"])
def test_a_counted_occurrence_stands_for_at_most_its_weight(literal: bytes) -> None:
    """On every subject of up to 8 bytes over the literal's bytes and one other: occurrences
    (overlapping ones included) <= bytes.count * weight, so LiteralCost never undercounts."""
    (weight,) = [w for _, w in LiteralCost(0, 1, ((literal, _weight(literal)),)).literals]
    alphabet = sorted(set(literal) | {ord("z")})
    for size in range(9):
        for subject in itertools.product(alphabet, repeat=size):
            data = bytes(subject)
            occurrences = sum(1 for i in range(size) if data.startswith(literal, i))
            assert occurrences <= data.count(literal) * weight


@pytest.mark.parametrize(("pattern", "hostile"), [
    (rb"^(?:,[^,\r\n]*){9,21}\r\n", b",a" * 30 + b"\n"),
    (rb"^(?:[^\r\n]*\r\n)*?Server: (\S+)", b"x\r\n" * 19 + b"Server:"),  # the longest cheap one
    (rb"^([\d.]+)-([\w.]+)\s*\r?\n", b"1." * 80 + b"-" + b"a" * 150 + b" " * 100 + b"\r\r"),
    # a few ways on: runs of \r (taken by . and the first byte after it) without the \n
    (rb"^(.*)\r\n(.*)\r\n(.*)\r\nEnd", b"\r" * 5000),
    (rb"^(.*)\r\n(.*)\r\n(.*)\r\nEnd", b"\r\n" * 2000 + b"\r" * 1000),
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


@pytest.mark.parametrize("pattern", [rb"(?:a)*[^\x00-\xff]", rb"^x(?:ab)+[^\x00-\xff]c", rb"(?:a)*?[^\x00-\xff]b"])
@pytest.mark.parametrize("caseless", [False, True])
def test_a_class_that_takes_no_byte_after_a_repeat(pattern: bytes, caseless: bool) -> None:
    """A repeat followed by a class that takes no byte (``[^\\s\\S]`` is translated so): nothing
    can follow, so no literal follows either; the scanner once shifted by -1 on it."""
    assert literal_cost(pattern, True, caseless=caseless, dotall=True) is None
    assert cost(pattern, True, caseless=caseless, dotall=True) is not None


def test_a_constant_above_the_budget_is_no_bound() -> None:
    """Many alternations multiply the constant past anything a search could afford (and past the
    64-bit integer a bundle stores): such a pattern has no provable bound."""
    few, many = b"(?<=ab|cd)" * 5, b"(?<=ab|cd)" * 150
    assert cost(few, True, caseless=False, dotall=False) is not None
    assert cost(many, True, caseless=False, dotall=False) is None


# -- the bounds a bundle stores, checked before they are relied on (sigscan.matcher.core) ---------


@pytest.mark.parametrize("pattern", [
    rb"\012*",  # octal: one byte to re, two atoms to the scanner
    rb"(?:\012*\n)*x",
    rb"a{e<=1}",  # regex's fuzzy matching
    rb"[[:alpha:]]+",  # a nested set to re
    rb"(?P<x>a)+",
    rb"(?#comment)a*",
    rb"(?i)a*b",
    rb"\g<1>",
    rb"(a)\10",  # two digits after a backreference: sigc writes \x30
    rb"[\b]",  # a backspace in a class to re
    rb"x{,}",
])
def test_a_pattern_outside_sigcs_syntax_has_no_bound(pattern: bytes) -> None:
    """The scanner reads the syntax sigc writes; a text that is not in it (a modified bundle's)
    gets no bound, whatever it would have read in it."""
    assert cost(pattern, False, caseless=False, dotall=False) is None
    assert cost(pattern, False) is None
    assert literal_bound(pattern, False, caseless=False, dotall=True) is None


def test_the_literal_bound_is_given_even_when_it_is_not_lower() -> None:
    """literal_cost gives the literal bound only where it is lower than cost's; literal_bound
    always (it is what a stored cost_literals must be no lower than)."""
    pattern = rb"^HTTP/1\.[01] .*Server: x"
    assert literal_cost(pattern, True, caseless=False, dotall=True) is None
    assert literal_bound(pattern, True, caseless=False, dotall=True) == LiteralCost(1, 35, ((b"Server: x", 1),))


@pytest.mark.parametrize("name", [SMALL, *(pytest.param(n, marks=pytest.mark.slow) for n in sorted(REAL_FILES))])
def test_every_stored_bound_holds(request: pytest.FixtureRequest, name: str) -> None:
    """Every line's stored bounds (of tests/data/engine.probes and of both real databases) pass
    the check the matcher makes before relying on them: a bundle sigc built is never refused as
    modified. (sigc bounds the whole pattern; the matcher the text it compiles, the rest after a
    cut head, which is never costlier.)"""
    with open_bundle(bundle_of(request, name, "db")) as bundle:
        matcher = Matcher(bundle)
        checked = 0
        for probe in bundle.probes:
            for entry in matcher.index(probe.id).entries:
                matcher.check_bounds(entry)
                checked += 1
        assert checked == bundle.count("matches"), name


@pytest.mark.parametrize("pattern", [
    rb"^x[^\r\n]*\r\nfoo",
    rb"^.*\r\n.*\r\n",  # repeats with a few ways on: cost keeps the lower of two scans
    rb"^(?:[^\r\n]*\r\n)*?Server: (\S+)",
    rb"a+b",
    rb"^HTTP/1\.[01] .*Server: x.*<title>",
    rb"^\d+\d+\d+x",
    rb"^(a|aa)+$",
])
@pytest.mark.parametrize("anchored", [True, False])
def test_proves_exactly_what_the_bound_proves(pattern: bytes, anchored: bool) -> None:
    """``proves`` (the matcher's check of a stored bound, one scan when it can) says a claim
    holds exactly when the bound ``bounds`` gives lets subjects that long run without the budget."""
    static, _ = bounds(pattern, anchored, caseless=False, dotall=True)
    longest = -1 if static is None else static.longest_cheap(16384)
    for claim in {-1, 0, 1, longest - 1, longest, longest + 1, 16384}:
        assert proves(pattern, anchored, claim, caseless=False, dotall=True, cap=16384) == (claim <= longest), claim
