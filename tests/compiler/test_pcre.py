"""``sigc.regex``: the differential table (table, regex on the translation, PCRE2 on the original),
exhaustive byte classes, the analysis fields, the problems, and fuzzing that nothing raises."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence

import pcre2
import pytest
import regex
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from sigc.diagnostics import Severity
from sigc.regex.analysis import PatternAnalysis, analyze_pattern, parse_pattern
from sigc.regex.problems import CODES
from sigc.regex.translate import regex_flags
from sigc.regex.tree import Anchor, AnchorKind, ByteSet, Greed, Group, Literal, Node, Repeat, Tree

from .pcre_cases import (
    CASES,
    ERROR,
    SAME,
    Case,
    Outcome,
    prefilter_passes,
    sample_subject,
    without_positions,
)

# -- the differential table ------------------------------------------------------------------


def _analysis(case: Case) -> PatternAnalysis:
    return analyze_pattern(case.pattern, caseless="i" in case.flags, dotall="s" in case.flags)


def _regex_outcome(case: Case) -> Outcome:
    a = _analysis(case)
    assert a.translated is not None, a.problems
    found = regex.compile(a.translated, regex_flags(caseless="i" in case.flags, dotall="s" in case.flags)).search(case.subject)
    return None if found is None else (found.span(), tuple(found.groups()))


def _pcre2_flags(flags: str) -> int:
    return (pcre2.IGNORECASE if "i" in flags else 0) | (pcre2.DOTALL if "s" in flags else 0)


def _pcre2_outcome(pattern: bytes, flags: str, subject: bytes) -> Outcome | str:
    try:
        compiled = pcre2.compile(pattern, _pcre2_flags(flags))
    except pcre2.PatternError:
        return ERROR
    found = compiled.search(subject)
    return None if found is None else (found.span(), tuple(found.groups()))


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 80
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_translation_matches_like_pcre1(case: Case) -> None:
    assert _regex_outcome(case) == case.expected


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_translation_matches_the_same_with_re(case: Case) -> None:
    """The matcher runs most searches on the standard ``re`` (sigscan.matcher.core): the
    translation must mean the same there, or ``re`` must refuse it (then ``regex`` runs it)."""
    a = _analysis(case)
    assert a.translated is not None
    flags = (re.IGNORECASE if "i" in case.flags else 0) | (re.DOTALL if "s" in case.flags else 0)
    try:
        compiled = re.compile(a.translated, flags)
    except re.error:
        return
    found = compiled.search(case.subject)
    assert (None if found is None else (found.span(), tuple(found.groups()))) == case.expected


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_pcre2_agrees_or_differs_as_documented(case: Case) -> None:
    expected = case.expected if case.pcre2 is SAME else case.pcre2
    assert _pcre2_outcome(case.pattern, case.flags, case.subject) == expected, case.why


@pytest.mark.parametrize("case", [c for c in CASES if c.pcre2 is not SAME], ids=lambda c: c.id)
def test_documented_pcre2_differences_are_real(case: Case) -> None:
    assert case.why, "a row that differs from PCRE2 must say why"
    assert case.pcre2 != case.expected


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_table_rows_have_no_errors_and_a_sound_prefilter(case: Case) -> None:
    a = _analysis(case)
    assert not [p for p in a.problems if p.severity is Severity.ERROR]
    if case.expected is not None:
        assert prefilter_passes(a, case.subject, caseless="i" in case.flags)


# -- every byte against PCRE2 for the byte classes -------------------------------------------

CLASS_PATTERNS = [
    rb"\d", rb"\D", rb"\w", rb"\W", rb"\s", rb"\S", rb"\h", rb"\H", rb"\v", rb"\V", rb"\N", rb".",
    rb"[\W\d]", rb"[^\s\d]", rb"[[:punct:]]", rb"[[:^print:]]", rb"[[:space:]]", rb"[[:blank:]]",
    rb"[[:cntrl:]]", rb"[[:graph:]]", rb"[[:xdigit:]]", rb"[[:word:]]", rb"[[:ascii:]]", rb"[[:alnum:]]",
    rb"[[:lower:]]", rb"[^[:upper:]]", rb"[Z-a]", rb"[^k-q]", rb"[\x00-\x1f\x7f-\xff]", rb"\bx", rb"x\B",
]


@pytest.mark.parametrize("flags", ["", "i", "s", "is"])
@pytest.mark.parametrize("pattern", CLASS_PATTERNS, ids=lambda p: p.decode())
def test_byte_classes_match_the_same_bytes_as_pcre2(pattern: bytes, flags: str) -> None:
    a = analyze_pattern(pattern, caseless="i" in flags, dotall="s" in flags)
    assert a.translated is not None
    ours = regex.compile(a.translated, regex_flags(caseless="i" in flags, dotall="s" in flags))
    theirs = pcre2.compile(pattern, _pcre2_flags(flags))
    for b in range(256):
        subject = b"x" + bytes([b]) + b"x" if b"x" in pattern else bytes([b])
        assert (ours.search(subject) is None) == (theirs.search(subject) is None), (pattern, flags, hex(b))


@pytest.mark.parametrize("byte", range(256))
def test_caseless_folds_ascii_letters_only(byte: int) -> None:
    a = analyze_pattern(b"\\x%02x" % byte, caseless=True, dotall=False)
    assert a.translated is not None
    ours = regex.compile(a.translated, regex_flags(caseless=True, dotall=False))
    theirs = pcre2.compile(b"\\x%02x" % byte, pcre2.IGNORECASE)
    matched = [b for b in range(256) if ours.fullmatch(bytes([b]))]
    assert matched == [b for b in range(256) if theirs.fullmatch(bytes([b]))]
    assert matched == sorted({byte, ord(chr(byte).lower()) if byte < 128 else byte, ord(chr(byte).upper()) if byte < 128 else byte})


# -- translation details ---------------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "translated"), [
    (rb"^\d+{infopark", rb"^\d+\{infopark"),
    (rb"\(\){doc}", rb"\(\)\{doc\}"),
    (rb"\0\0\00\xd8", rb"\x00\x00\x00\xd8"),
    (rb"\x4\e", rb"\x04\x1b"),
    (b"\xc5\x82+", rb"\xc5\x82+"),
    (rb"(a)\1\x30", rb"(a)\1\x30"),
    (rb"(a)\1 0", rb"(a)\1 0"),
    (rb"[\w._-]+", rb"[\w\._\-]+"),
    (rb"[]a]", rb"[\]a]"),
    (rb"a{1,}?b{0,1}+c{2}", rb"a+?b?+c{2}"),
    (rb"\Z\z\A\G\b\B", rb"(?=\n?\Z)\Z\A\G\b(?:\B|\A\Z)"),
    (rb"a(?#note)b", rb"ab"),
    (rb"\Qa.b\E", rb"a\.b"),
    (rb"[[:digit:]x]", rb"[0-9x]"),
    (rb"x{,5}", rb"x\{,5\}"),
])
def test_translation_text(pattern: bytes, translated: bytes) -> None:
    assert analyze_pattern(pattern, caseless=False, dotall=False).translated == translated


# -- the analysis ----------------------------------------------------------------------------

ANALYSES = [
    # pattern, flags, anchored, prefix, required, groups, min_length
    (rb"^SSH-([\d.]+)-OpenSSH_([\w._-]+)\r?\n", "", True, b"SSH-", (b"-OpenSSH_",), 2, 16),
    (rb"^220 ProFTPD (\S+) Server", "i", True, b"220 proftpd ", (b" server",), 1, 20),
    (rb"^HTTP/1\.[01] \d{3} .*\r\nServer: Apache", "s", True, b"HTTP/1.", (b"\r\nServer: Apache",), 0, 29),
    (rb"^(?:foo|foobar)x", "", True, b"foo", (), 0, 4),
    (rb"^a{3}b", "", True, b"aaab", (), 0, 4),
    (rb"^(ab){2}c", "", True, b"ababc", (), 1, 5),
    (rb"^(?:ab)+c", "", True, b"ab", (b"abc",), 0, 3),
    (rb"^a?bc", "", True, b"", (b"bc",), 0, 2),
    (rb"^a*bc", "", True, b"", (b"bc",), 0, 2),
    (rb"^a{0,3}b", "", True, b"", (b"b",), 0, 1),
    (rb"^\0\0\x01[\x02]", "", True, b"\x00\x00\x01\x02", (), 0, 4),
    (rb"^Hello[Xx]", "i", True, b"hellox", (), 0, 6),
    (rb"^Hello[Xx]", "", True, b"Hello", (), 0, 6),
    (rb"^\xc9T\xc9", "i", True, b"\xc9t\xc9", (), 0, 3),
    (rb"^(?=abc)abd", "", True, b"abd", (), 0, 3),
    (rb"^abc$\n", "", True, b"abc\n", (), 0, 4),
    (rb"^ab|^ac", "", True, b"a", (), 0, 2),
    (rb"^ab|ac", "", False, b"a", (), 0, 2),
    (rb"abc|abd", "", False, b"ab", (), 0, 3),
    (rb"x(foo|barfoo)y", "", False, b"x", (b"fooy",), 1, 5),
    (rb"^(\w+) foo\1bar", "", True, b"", (b" foo", b"bar"), 1, 9),
    (rb"^(ab)\1", "", True, b"abab", (), 1, 4),
    (rb"\d+\.\d+", "", False, b"", (b".",), 0, 3),
    (rb"^[\w-]+\r\n\r\nHTTP", "", True, b"", (b"\r\n\r\nHTTP",), 0, 9),
    (rb"^x(?:a|b)y(?:c|d)z12345", "", True, b"x", (b"z12345",), 0, 10),
    (rb"(?<=foo)bar", "", False, b"bar", (), 0, 3),
    (rb"^(^a|^b)c", "", True, b"", (b"c",), 1, 2),
    (rb"(?:^a)+b", "", True, b"a", (b"ab",), 0, 2),
    (rb"\Gfoo", "", True, b"foo", (), 0, 3),
    (rb"\bfoo", "", False, b"foo", (), 0, 3),
    (rb"(?:^a)?b", "", False, b"", (b"b",), 0, 1),
    (rb"^.abc", "", True, b"", (b"abc",), 0, 4),
    (rb"^(?i:abc)def", "", True, b"", (), 0, 3),
    (rb"^\x00{300}", "", True, b"\x00" * 256, (), 0, 300),
    (rb"^ab(?!c)", "", True, b"ab", (), 0, 2),
]


@pytest.mark.parametrize(("pattern", "flags", "anchored", "prefix", "required", "groups", "min_length"), ANALYSES,
                         ids=[a[0].decode("latin-1") for a in ANALYSES])
def test_analysis(pattern: bytes, flags: str, anchored: bool, prefix: bytes, required: tuple[bytes, ...],
                  groups: int, min_length: int) -> None:
    a = analyze_pattern(pattern, caseless="i" in flags, dotall="s" in flags)
    assert (a.anchored, a.prefix, a.required, a.groups, a.min_length) == (anchored, prefix, required, groups, min_length)


# -- the bytes an anchored match starts with (first_bytes) ---------------------------------------

_NOT_NL = bytes(b for b in range(256) if b != 10)


@pytest.mark.parametrize(("pattern", "flags", "first"), [
    (rb"^[0-9a-f]{8}$", "", b"0123456789abcdef"),
    (rb"^[\xd5-\xef]...$", "", bytes(range(0xD5, 0xF0))),
    (rb"^\d\d:", "", b"0123456789"),
    (rb"^(?:ba)?sh-\d", "", b"bs"),
    (rb"^x*y", "", b"xy"),
    (rb"^(?:MSG|SEL|ID)", "", b"IMS"),
    (rb"^[^\x00-\xfd]", "", b"\xfe\xff"),
    (rb"^.a", "", _NOT_NL),
    (rb"^.a", "s", bytes(range(256))),
    (rb"^(\d)\1", "", b"0123456789"),
    # every alternative counts, at the top and at any depth
    (rb"^a|^S", "", b"Sa"),
    (rb"^a|\AS|^(?:x|(y))", "", b"Saxy"),
    (rb"^(?:a|)b", "", b"ab"),
    (rb"^(?:(?:a|b?)?c)d", "", b"abc"),
    (rb"^a{0,3}(?:)b", "", b"ab"),
    # caseless folds ASCII letters only (PCRE without UTF), in literals and sets
    (rb"^k|^\xc0", "i", b"Kk\xc0"),
    (rb"^[k\xe0]", "i", b"Kk\xe0"),
    # assertions take nothing: the next node decides (the set may be larger than need be)
    (rb"^(?=a)\w", "", b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"),
    (rb"^$\n?x", "", b"\nx"),
])
def test_first_bytes(pattern: bytes, flags: str, first: bytes) -> None:
    a = analyze_pattern(pattern, caseless="i" in flags, dotall="s" in flags)
    assert a.first_bytes == first


@pytest.mark.parametrize("pattern", [
    rb"x", rb"^a|b", rb"^a?", rb"^s|^(?:)?", rb"^(?:a|)", rb"^(\d?)\1", rb"^$", rb"^(?=a)",
    rb"^a{0}", rb"^(?i)x", rb"^(", rb"^(a)?\1b",
])
def test_first_bytes_unknown(pattern: bytes) -> None:
    assert analyze_pattern(pattern, caseless=False, dotall=False).first_bytes is None


@pytest.mark.parametrize(("pattern", "flags", "prefix"), [
    (rb"^hello", "i", b"hello"), (rb"^\x41\n", "", b"A\n"), (rb"^a{0}b", "", b"b"), (rb"^\0", "", b"\x00"),
    (rb"^\bword", "", b"word"), (rb"^(?<!a)b", "", b"b"), (rb"^(?:ab|ac)", "", b"a"),
])
def test_first_bytes_are_left_to_a_prefix(pattern: bytes, flags: str, prefix: bytes) -> None:
    """An anchored literal prefix says more than its first byte: the index keys the line by it."""
    a = analyze_pattern(pattern, caseless="i" in flags, dotall="s" in flags)
    assert (a.anchored, a.prefix, a.first_bytes) == (True, prefix, None)


@pytest.mark.parametrize(("pattern", "nested", "empty", "dot", "backrefs"), [
    (rb"(a+)+b", True, False, False, False),
    (rb"(?:.*x)*y", True, False, True, False),
    (rb"(\w*)*", True, True, False, False),
    (rb"(?:\d+\.){3}\d+", True, False, False, False),
    (rb"(?>a+)+b", False, False, False, False),
    (rb"(?:a++)+b", False, False, False, False),
    (rb"(?:a+)?b", False, False, False, False),
    (rb"(?=a+)+", False, True, False, False),
    (rb"a|", False, True, False, False),
    (rb"(a?)\1", False, True, False, True),
    (rb"(a)\1", False, False, False, True),
    (rb"x*", False, True, False, False),
    (rb"^$", False, True, False, False),
    (rb"[.]\.", False, False, False, False),
    (rb"a.b", False, False, True, False),
])
def test_risk_flags(pattern: bytes, nested: bool, empty: bool, dot: bool, backrefs: bool) -> None:
    a = analyze_pattern(pattern, caseless=False, dotall=False)
    assert (a.nested_quantifier, a.can_match_empty, a.dot_without_dotall, a.backrefs) == (nested, empty, dot, backrefs)


def test_dot_with_dotall_is_not_flagged() -> None:
    assert not analyze_pattern(rb"a.b", caseless=False, dotall=True).dot_without_dotall


def test_parse_pattern_gives_the_tree() -> None:
    tree, problems = parse_pattern(rb"^(a)(?:b|c)+", caseless=False, dotall=False)
    assert tree is not None and tree.groups == 1 and problems == ()
    assert parse_pattern(rb"(", caseless=False, dotall=False)[0] is None


def test_positions_say_where_literals_and_byte_sets_are_written() -> None:
    """Each escape is a literal of its own; a literal of several bytes is written byte for byte,
    even when a quantifier takes its last byte; a class lists its items, a range its ends."""
    pattern = rb"^ab\x01.[\0-\x7f\d.]c*\Qx.y\E{2}"
    tree, problems = parse_pattern(pattern, caseless=False, dotall=False, positions=True)
    assert tree is not None and problems == ()
    dot, cls = tree.branches[0][3], tree.branches[0][4]
    assert isinstance(dot, ByteSet) and isinstance(cls, ByteSet)
    assert tree.branches[0] == (
        Anchor(AnchorKind.START), Literal(b"ab", (1, 3)), Literal(b"\x01", (3, 7)),
        ByteSet(dot.mask, b".", 1, (7, 8)),
        ByteSet(cls.mask, cls.text, cls.code, (8, 20), (
            ByteSet(cls.members[0].mask, b"\\x00-\\x7f", 1, (9, 16), (Literal(b"\0", (9, 11)), Literal(b"\x7f", (12, 16)))),
            ByteSet(cls.members[1].mask, b"\\d", 1, (16, 18)),
            Literal(b".", (18, 19)))),
        Repeat(Literal(b"c", (20, 21)), 0, None, Greed.GREEDY),
        Literal(b"x.", (24, 26)), Repeat(Literal(b"y", (26, 27)), 2, 2, Greed.GREEDY))
    assert without_positions(tree) == parse_pattern(pattern, caseless=False, dotall=False)[0]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=st.one_of(st.deferred(lambda: mutated()), st.binary(max_size=40)), caseless=st.booleans(),
       dotall=st.booleans())
@example(pattern=rb"a\Rb", caseless=False, dotall=False)
def test_positions_change_nothing_else(pattern: bytes, caseless: bool, dotall: bool) -> None:
    """A tree with positions is the tree without, its literals cut where escapes are, and every
    span holds the text of its node."""
    plain, problems = parse_pattern(pattern, caseless=caseless, dotall=dotall)
    placed, placed_problems = parse_pattern(pattern, caseless=caseless, dotall=dotall, positions=True)
    assert placed_problems == problems
    assert (placed is None) == (plain is None)
    if placed is not None:
        assert without_positions(placed) == plain
        for node in _nodes(placed.branches):
            if isinstance(node, Literal | ByteSet):
                assert node.span is not None
                text = pattern[node.span[0]:node.span[1]]
                if isinstance(node, Literal) and len(text) == len(node.data):  # written byte for byte
                    assert text == node.data
                    continue
                if isinstance(node, Literal) and text[1:2].isdigit():  # octal here, alone maybe a backreference
                    assert text[:1] == b"\\" and len(node.data) == 1
                    continue
                alone = parse_pattern(text, caseless=caseless, dotall=dotall)[0]  # an escape, a dot, a class
                assert alone is not None and without_positions(alone).branches == ((_node_without_span(node),),), text


def _nodes(branches: Sequence[Sequence[Node]]) -> Iterator[Node]:
    """Every node written in the pattern outside classes, in order (not the parts of the group
    ``\\R`` stands for)."""
    for branch in branches:
        for node in branch:
            yield node
            if isinstance(node, Group) and node != NEWLINE_SEQUENCE:
                yield from _nodes(node.branches)
            elif isinstance(node, Repeat):
                yield from _nodes(((node.item,),))


NEWLINE_SEQUENCE = parse_pattern(rb"\R", caseless=False, dotall=False, positions=True)[0].branches[0][0]  # type: ignore[union-attr]


def _node_without_span(node: Literal | ByteSet) -> Node:
    return without_positions(Tree(((node,),), 0, False)).branches[0][0]


# -- problems --------------------------------------------------------------------------------

PROBLEMS = [
    (rb"(abc", [("SIG201", 0)]),
    (rb"ab(c(d)", [("SIG201", 2)]),
    (rb"abc)", [("SIG201", 3)]),
    (rb"*a", [("SIG201", 0)]),
    (rb"a**", [("SIG201", 2)]),
    (rb"a{2}{3}", [("SIG201", 4)]),
    (rb"a|*", [("SIG201", 2)]),
    (rb"^*", [("SIG201", 1)]),
    (rb"\b+", [("SIG201", 2)]),
    (rb"[a", [("SIG201", 0)]),
    (rb"[]", [("SIG201", 0)]),
    (rb"[z-a]", [("SIG201", 1)]),
    (rb"[a-\d]", [("SIG201", 1)]),
    (rb"a{3,2}", [("SIG201", 1)]),
    (rb"a{70000}", [("SIG201", 1)]),
    (rb"\400", [("SIG201", 0)]),
    (rb"\x{100}", [("SIG201", 0)]),
    (rb"\2(a)", [("SIG201", 0)]),
    (rb"(a)\7", [("SIG201", 3)]),
    (b"ab\\", [("SIG201", 2)]),
    (rb"\c", [("SIG201", 0)]),
    (rb"\L", [("SIG201", 0)]),
    (rb"[:alpha:]", [("SIG201", 0)]),
    (rb"x[[:foo:]]", [("SIG201", 2)]),
    (rb"(?#abc", [("SIG201", 0)]),
    (rb"(?Q)", [("SIG201", 0)]),
    (rb"\g{0}", [("SIG201", 0)]),
    (rb"\p{L}", [("SIG202", 0)]),
    (rb"ab\PL+", [("SIG202", 2)]),
    (rb"(?(1)a|b)(x)", [("SIG202", 0)]),
    (rb"(a)(?R)", [("SIG202", 3)]),
    (rb"(a)(?1)", [("SIG202", 3)]),
    (rb"(?i)abc", [("SIG202", 0)]),
    (rb"x(?i:abc)", [("SIG202", 1)]),
    (rb"(?<n>a)", [("SIG202", 0)]),
    (rb"(a)\k<n>", [("SIG202", 3)]),
    (rb"(?|a|b)", [("SIG202", 0)]),
    (rb"(*UTF8)abc", [("SIG202", 0)]),
    (rb"a\Kb", [("SIG202", 1)]),
    (rb"(a\1)", [("SIG202", 2)]),
    (rb"(?=a)+b", [("SIG202", 5)]),
    (rb"a(?)*", [("SIG201", 4)]),
    (rb"a(?i)*", [("SIG202", 1), ("SIG201", 5)]),
    (rb"a\K*", [("SIG202", 1), ("SIG201", 3)]),
    (b"\\c\x01", [("SIG205", 0)]),
    (rb"x{,5}", [("SIG203", 1)]),
    (rb"x{ 2 }", [("SIG203", 1)]),
    (rb"x{}", []),
    (rb"\8", [("SIG205", 0)]),
    (rb"\y", [("SIG205", 0)]),
    (rb"[\d-z]", [("SIG205", 3)]),
    (rb"[\B]", [("SIG205", 1)]),
    (rb"(?<=a+)b", [("SIG207", 0)]),
    (rb"x(?<=(a|bc))d", [("SIG207", 1)]),
    (rb"(?<=a|bc)d", []),
    (rb"a|", [("SIG206", 0)]),
    (rb"x*", [("SIG206", 0)]),
    (rb"[!-\X]", [("SIG201", 1)]),  # \X is the letter X in a class, but PCRE1 refuses it as a range's end
    (rb"[!-\Z]", [("SIG201", 1)]),
    (b"(" * 101 + b"a" + b")" * 101, [("SIG209", 100)]),  # PCRE1 accepts it; sigc stops at 100
    (b"(" * 251 + b"a" + b")" * 251, [("SIG209", 100)]),  # PCRE1: parentheses are too deeply nested
    (rb"(?:a{1000}){6553}", [("SIG208", 0)]),  # PCRE1: regular expression is too large
    (rb"(?:a{1000}){6552}", [("SIG210", 0)]),  # PCRE1 accepts it; regex.compile took 6 s
    (rb"^SSH-([\d.]+)-(?>\S+)\r\n", []),
]


@pytest.mark.parametrize(("pattern", "expected"), PROBLEMS, ids=[p[0][:30].decode("latin-1") for p in PROBLEMS])
def test_problems(pattern: bytes, expected: list[tuple[str, int]]) -> None:
    a = analyze_pattern(pattern, caseless=False, dotall=False)
    assert [(p.code, p.offset) for p in a.problems] == expected
    for p in a.problems:
        assert p.severity is CODES[p.code][0]
        assert p.message
    has_error = any(p.severity is Severity.ERROR for p in a.problems)
    assert (a.translated is None) == has_error


def test_messages_quote_the_construct_as_written() -> None:
    [problem] = analyze_pattern(rb"ab\p{Greek}", caseless=False, dotall=False).problems
    assert "'\\p{Greek}'" in problem.message


def test_codes_table() -> None:
    assert all(code.startswith("SIG2") and len(code) == 6 for code in CODES)
    assert all(isinstance(sev, Severity) and summary for sev, summary in CODES.values())


def test_failed_parse_has_neutral_fields() -> None:
    a = analyze_pattern(rb"^abc(", caseless=False, dotall=False)
    assert (a.translated, a.groups, a.anchored, a.prefix, a.required, a.min_length) == (None, 0, False, b"", (), 0)


# -- the literal head a matcher that checked the prefix need not match again (split_head) ------


def cut_outcome(a: PatternAnalysis, subject: bytes, *, caseless: bool, dotall: bool, engine: str = "regex") -> Outcome:
    """What the matcher gets from the cut pattern: nothing unless the prefilter passes, then
    the rest matched where the head ends (``engine``: ``regex`` or ``re``)."""
    assert a.translated is not None
    if not prefilter_passes(a, subject, caseless=caseless):
        return None
    rest = a.translated[a.rest_offset:]
    if engine == "re":
        import re
        compiled = re.compile(rest, (re.I if caseless else 0) | (re.S if dotall else 0))
    else:
        compiled = regex.compile(rest, regex_flags(caseless=caseless, dotall=dotall))
    found = compiled.match(subject, a.head_length)
    return None if found is None else ((0, found.end()), tuple(found.groups()))


@pytest.mark.parametrize(("pattern", "flags", "head", "rest"), [
    (rb"^HTTP/1\.0 200 OK\r\nServer: (\w+)", "", 25, rb"(\w+)"),
    (rb"^abc*", "", 2, rb"c*"),  # a quantified byte is not head
    (rb"^ABC(def)", "i", 3, rb"(def)"),  # the prefix goes on (abcdef); the head stops at the group
    (rb"\Aab{", "", 3, rb""),  # all head: the rest is empty and matches anywhere
    (rb"^\x00\x01\x02abc", "", 6, rb""),
    (rb"^ab(?<=b)c", "", 2, rb"(?<=b)c"),  # the rest looks behind, across the cut
    (rb"^ab\bc", "", 2, rb"\bc"),
    (rb"^abc|x", "", 0, rb"^abc|x"),  # two alternatives: not anchored as a whole
    (rb"^abc\Gx", "", 0, rb"^abc\Gx"),  # \G would hold at the cut, not in the whole
    (rb"^ab(?:^|c)", "", 0, rb"^ab(?:^|c)"),  # so would ^
    (rb"^ab(?=x|\Ay)", "", 0, rb"^ab(?=x|\Ay)"),
    (rb"^(abc)d", "", 0, rb"^(abc)d"),  # a group first
    (rb"abc", "", 0, rb"abc"),
])
def test_split_head(pattern: bytes, flags: str, head: int, rest: bytes) -> None:
    a = analyze_pattern(pattern, caseless="i" in flags, dotall="s" in flags)
    assert a.translated is not None
    assert (a.head_length, a.translated[a.rest_offset:]) == (head, rest)
    if head:  # the part cut off is the anchor and the prefix's first ``head`` bytes, as a pattern
        flags_ = regex_flags(caseless="i" in flags, dotall=False)
        assert regex.compile(a.translated[:a.rest_offset], flags_).fullmatch(a.prefix[:head])


@pytest.mark.parametrize("engine", ["regex", "re"])
@pytest.mark.parametrize(("pattern", "flags", "subjects"), [
    (rb"^ab(?<=b)c", "", [b"abc", b"abd", b"xbc"]),
    (rb"^ab(?<!a)c", "", [b"abc"]),
    (rb"^ab\bc", "", [b"abc", b"ab c"]),
    (rb"^ab\Bc", "", [b"abc"]),
    (rb"^ab(\w+)?$", "", [b"ab", b"abcd", b"ab!"]),
    (rb"^HTTP/1\.0 200 OK\r\n(.*)", "is", [b"http/1.0 200 ok\r\nServer: x\r\n", b"HTTP/1.0 200 OK\r\n"]),
    (rb"^\x16\x03(?:\x01|\x03)(.)\1", "", [b"\x16\x03\x01aa", b"\x16\x03\x03ab"]),
])
def test_cut_pattern_matches_as_the_whole(pattern: bytes, flags: str, subjects: list[bytes], engine: str) -> None:
    caseless, dotall = "i" in flags, "s" in flags
    a = analyze_pattern(pattern, caseless=caseless, dotall=dotall)
    assert a.translated is not None and a.head_length
    whole = regex.compile(a.translated, regex_flags(caseless=caseless, dotall=dotall))
    for subject in subjects:
        found = whole.search(subject)
        expected = None if found is None else (found.span(), tuple(found.groups()))
        assert cut_outcome(a, subject, caseless=caseless, dotall=dotall, engine=engine) == expected, subject


# -- fuzzing: never raises; a translation always compiles and agrees with PCRE2 ---------------

SEEDS = [c.pattern for c in CASES] + [p for p, *_ in ANALYSES] + [p for p, _ in PROBLEMS]
PIECES = [b"(", b")", b"[", b"]", b"{", b"}", b"{2}", b"{,3}", b"{1,", b"|", b"*", b"+", b"?", b"^", b"$",
          b".", b"\\", b"\\d", b"\\1", b"\\0", b"\\x4", b"(?", b"(?:", b"(?>", b"(?=", b"(?<=", b"(?<!",
          b"[^", b"-", b"\\Q", b"\\E", b"a", b"\xc3", b"\x00", b"\\g", b"\\k", b"[:", b":]", b"#", b"\\c"]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    pattern = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(pattern)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(PIECES) | st.binary(min_size=1, max_size=3))
        if action == "insert":
            pattern[at:at] = piece
        elif action == "delete":
            del pattern[at:at + len(piece)]
        else:
            pattern[at:at + 1] = piece
    return bytes(pattern)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=st.one_of(mutated(), st.binary(max_size=40)), caseless=st.booleans(), dotall=st.booleans())
@example(pattern=b"\\", caseless=False, dotall=False)
@example(pattern=b"[\\", caseless=False, dotall=False)
@example(pattern=b"(?<", caseless=False, dotall=False)
@example(pattern=b"\\g{", caseless=False, dotall=False)
@example(pattern=b"[[:", caseless=False, dotall=False)
def test_never_raises_and_translations_compile(pattern: bytes, caseless: bool, dotall: bool) -> None:
    a = analyze_pattern(pattern, caseless=caseless, dotall=dotall)
    assert isinstance(a, PatternAnalysis)
    assert all(p.code in CODES and 0 <= p.offset <= len(pattern) for p in a.problems)
    if a.translated is not None:
        regex.compile(a.translated, regex_flags(caseless=caseless, dotall=dotall))


# PCRE2 features that the pcre2 wheel compiles differently from Nmap (ALT_BSUX, NEVER_BACKSLASH_C).
_WHEEL_DIFFERS = regex.compile(rb"\\(?:x(?![0-9a-fA-F]{2})|[uUC])")
_VERSION_CODES = {"SIG203", "SIG205", "SIG207"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=mutated(), caseless=st.booleans(), dotall=st.booleans(), seed=st.integers(0, 2**32))
def test_fuzzed_translations_agree_with_pcre2(pattern: bytes, caseless: bool, dotall: bool, seed: int) -> None:
    a = analyze_pattern(pattern, caseless=caseless, dotall=dotall)
    assume(a.translated is not None and not _WHEEL_DIFFERS.search(pattern))
    assume(not any(p.code in _VERSION_CODES for p in a.problems))
    assert a.translated is not None
    flags = ("i" if caseless else "") + ("s" if dotall else "")
    try:
        theirs = pcre2.compile(pattern, _pcre2_flags(flags))
    except pcre2.PatternError:
        pytest.fail(f"PCRE2 refuses {pattern!r} but sigc translated it without a warning")
    ours = regex.compile(a.translated, regex_flags(caseless=caseless, dotall=dotall))
    rng = random.Random(seed)
    tree, _ = parse_pattern(pattern, caseless=caseless, dotall=dotall)
    assert tree is not None
    for subject in [sample_subject(tree, rng, caseless=caseless) for _ in range(3)] + [bytes(rng.choices(pattern or b"x", k=8))]:
        try:
            found = ours.search(subject, timeout=1.0)
            expected = theirs.search(subject)
        except (TimeoutError, pcre2.LibraryError):  # pragma: no cover - catastrophic backtracking
            continue
        assert (found and (found.span(), found.groups())) == (expected and (expected.span(), expected.groups())), subject
        if found is not None:
            assert prefilter_passes(a, subject, caseless=caseless), subject
        if a.head_length and (found is None or found.start() == 0):
            cut = cut_outcome(a, subject, caseless=caseless, dotall=dotall)
            assert cut == (found and ((0, found.end()), found.groups())), subject
