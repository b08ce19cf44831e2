"""Differential cases for ``sigc.regex``: a PCRE pattern, flags, a subject and what Nmap's PCRE1
8.39 gives for ``search``: ``None`` or ``(span, groups)``.

Each row is checked against the table, against ``regex`` running the translation and against
PCRE2 (the ``pcre2`` wheel, 10.47 like Nmap HEAD) running the original. Where PCRE2 or the wheel
legitimately differs, the row says what it gives instead (``pcre2=``) and why.

The three brace patterns are the constructs of 7.93 lines 1777, 5560 and 9086 as quoted in
``nmap-semantics.md``, not copies of those lines.
"""

from __future__ import annotations

import dataclasses
import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sigc.regex.analysis import PatternAnalysis
from sigc.regex.tree import Backref, ByteSet, Group, GroupKind, Literal, Node, Repeat, Tree

Outcome = tuple[tuple[int, int], tuple[bytes | None, ...]] | None


class _Same:
    def __repr__(self) -> str:
        return "SAME"


SAME: Final = _Same()
ERROR: Final = "error"  # PCRE2 refuses to compile the pattern

WRAPPER_BSUX = "the pcre2 wheel compiles with PCRE2_ALT_BSUX (\\x needs two hex digits); Nmap does not"
PCRE2_BRACES = "PCRE2 >= 10.43 reads {,n} and {n} with spaces as quantifiers (SIG203)"
PCRE2_STRICT = "PCRE2 refuses what PCRE1 reads as a literal (SIG205)"


@dataclass(frozen=True)
class Case:
    pattern: bytes
    subject: bytes
    expected: Outcome
    flags: str = ""
    pcre2: Outcome | _Same | str = SAME
    why: str = ""

    @property
    def id(self) -> str:
        return f"{self.pattern!r}/{self.flags}~{self.subject!r}"


def m(start: int, end: int, *groups: bytes | None) -> Outcome:
    return (start, end), tuple(groups)


CASES: list[Case] = [
    # -- braces that are not quantifiers (regex would read them as quantifiers or fuzzy) ------
    Case(rb"^\d+{infopark tcl-Interface-Server} {CM ([\w._-]+)", b"12{infopark tcl-Interface-Server} {CM 6.7", m(0, 41, b"6.7")),
    Case(rb"^{type INIT}", b"{type INIT}\n", m(0, 11)),
    Case(rb"\(\){document", b"x(){document", m(1, 12)),
    Case(rb"a{", b"ba{", m(1, 3)),
    Case(rb"a{x}", b"a{x}", m(0, 4)),
    Case(rb"a{1,2,3}", b"a{1,2,3}", m(0, 8)),
    Case(rb"a}", b"aa}", m(1, 3)),
    Case(rb"\x1a{", b"\x1a{", m(0, 2)),
    Case(rb"a{2}", b"aaa", m(0, 2)),
    Case(rb"a{2,}", b"aaaa", m(0, 4)),
    Case(rb"a{1,3}?", b"aaa", m(0, 1)),
    Case(rb"a{0}b", b"ab", m(1, 2)),
    Case(rb"x{,5}", b"x{,5}", m(0, 5), pcre2=m(0, 1), why=PCRE2_BRACES),
    Case(rb"x{,5}", b"xxx", None, pcre2=m(0, 3), why=PCRE2_BRACES),
    Case(rb"x{ 2}", b"xx", None, pcre2=m(0, 2), why=PCRE2_BRACES),
    Case(rb"x{2 }", b"x{2 }", m(0, 5), pcre2=None, why=PCRE2_BRACES),
    # -- octal and NUL --------------------------------------------------------------------------
    Case(rb"\0\0\00\xd8", b"\x00\x00\x00\xd8", m(0, 4)),
    Case(rb"\0\0\0\00", b"\x00\x00\x00\x00", m(0, 4)),
    Case(rb"\00", b"0\x00", m(1, 2)),
    Case(rb"\08", b"\x008", m(0, 2)),
    Case(rb"\012", b"\n", m(0, 1)),
    Case(rb"\0777", b"?7", m(0, 2)),
    Case(rb"\12", b"\n", m(0, 1)),
    Case(rb"\101", b"A", m(0, 1)),
    Case(rb"(a)\10", b"a\x08", m(0, 2, b"a")),
    Case(rb"[\0-\x1f]+", b"ab\x00\x01", m(2, 4)),
    Case(rb"\x41\x4a", b"AJ", m(0, 2)),
    Case(rb"\x4", b"\x04", m(0, 1), pcre2=None, why=WRAPPER_BSUX),
    Case(rb"\x", b"\x00", m(0, 1), pcre2=None, why=WRAPPER_BSUX),
    Case(rb"\o{101}", b"A", m(0, 1)),
    # -- $ and the other end anchors --------------------------------------------------------------
    Case(rb"abc$", b"abc\n", m(0, 3)),
    Case(rb"abc$", b"abc\n\n", None),
    Case(rb"abc$", b"abc\nx", None),
    Case(rb"^a$", b"a", m(0, 1)),
    Case(rb"a$\n", b"a\n", m(0, 2)),
    Case(rb"a\Z", b"a\n", m(0, 1)),
    Case(rb"a\Z", b"a\n\n", None),
    Case(rb"a\z", b"a\n", None),
    Case(rb"a\z", b"xa", m(1, 2)),
    Case(rb"^b", b"a\nb", None),
    Case(rb"\Aab", b"ab", m(0, 2)),
    # -- word boundaries: \B holds on the empty subject (not for re before Python 3.14) ----------
    Case(rb"\B", b"", m(0, 0)),
    Case(rb"^\B$", b"", m(0, 0)),
    Case(rb"a\B", b"a ab", m(2, 3)),
    Case(rb"\B\.", b"a. .", m(3, 4)),
    Case(rb"\bx\b", b"ax x", m(3, 4)),
    # -- caseless: ASCII only ---------------------------------------------------------------------
    Case(rb"^hello", b"HeLLo", m(0, 5), flags="i"),
    Case(rb"\xe9", b"\xc9", None, flags="i"),
    Case(rb"\xc9", b"\xc9", m(0, 1), flags="i"),
    Case(rb"[\xe0-\xef]", b"\xc0", None, flags="i"),
    Case(rb"[a-z]+", b"ABC", m(0, 3), flags="i"),
    Case(rb"[^a]", b"A", None, flags="i"),
    Case(rb"[^a]", b"b", m(0, 1), flags="i"),
    Case(rb"(a)\1", b"aA", m(0, 2, b"a"), flags="i"),
    Case(b"caf\xc3\xa9", b"CAF\xc3\xa9", m(0, 5), flags="i"),
    Case(b"caf\xc3\xa9", b"CAF\xc3\x89", None, flags="i"),
    Case(rb"[[:upper:]]", b"a", m(0, 1), flags="i"),
    Case(rb"[[:^upper:]]", b"a1", m(1, 2), flags="i"),
    Case(rb"[^\W\d]", b"1_", m(1, 2), flags="i"),
    # a class that takes no byte: the regex module reads [^\s\S] as any byte (2026.12.2)
    Case(rb"[^\s\S]", b"a\xab", None),
    Case(rb"[^\w\W\r-\-]\{1\}|b", b"\xab{1}b", m(4, 5), flags="i"),
    Case(rb"[^[:^print:][:print:]]?x", b"\x00x", m(1, 2)),
    # -- \s \w \d on bytes ------------------------------------------------------------------------
    Case(rb"a\sb", b"a\x0bb", m(0, 3)),
    Case(rb"\s+", b"x\x1c\x85\xa0", None),
    Case(rb"\w+", b"\xe9t\xe9", m(1, 2)),
    Case(rb"\d+", b"x\xb2 12", m(3, 5)),
    Case(rb"[\s]", b"\x0b", m(0, 1)),
    Case(rb"\S+", b" \x0bab ", m(2, 4)),
    Case(rb"\W", b"a\xe9", m(1, 2)),
    # -- classes --------------------------------------------------------------------------------
    Case(rb"[]a]+", b"x]a]", m(1, 4)),
    Case(rb"[^]a]", b"]ab", m(2, 3)),
    Case(rb"[a-]", b"-", m(0, 1)),
    Case(rb"[\]\\]+", b"x]\\", m(1, 3)),
    Case(rb"[\d.]+", b"v1.2.3", m(1, 6)),
    Case(rb"[\w._-]+", b"foo.bar-1_x", m(0, 11)),
    Case(rb"[\x80-\xff]+", b"a\x80\xffb", m(1, 3)),
    Case(rb"[\b]", b"\x08", m(0, 1)),
    Case(rb"[[:digit:]]+", b"ab12", m(2, 4)),
    Case(rb"[[:^alpha:]]", b"ab1", m(2, 3)),
    Case(rb"[^\r\n]+", b"ab\r\n", m(0, 2)),
    Case(rb"[a\-z]", b"-", m(0, 1)),
    Case(rb"[[]", b"[", m(0, 1)),
    Case(rb"[\w-]", b"-", m(0, 1)),
    Case(rb"[\d-z]", b"-", m(0, 1), pcre2=ERROR, why=PCRE2_STRICT),
    Case(rb"[\8]", b"8", m(0, 1)),
    Case(rb"[.]", b"a.", m(1, 2)),
    Case(rb"[&&~~|]+", b"a&~|", m(1, 4)),
    Case(rb"[a-c-e]", b"-", m(0, 1)),
    # -- lazy, possessive, atomic ---------------------------------------------------------------
    Case(rb"<.+?>", b"<a><b>", m(0, 3)),
    Case(rb"<.+>", b"<a><b>", m(0, 6)),
    Case(rb"a++a", b"aaa", None),
    Case(rb"(?>a+)b", b"aab", m(0, 3)),
    Case(rb"(?>a|ab)c", b"abc", None),
    Case(rb"\d*+\d", b"123", None),
    Case(rb"a?+a", b"a", None),
    Case(rb"x{1,3}+x", b"xxxx", m(0, 4)),
    Case(rb"(\w+?)(\d+)", b"abc123", m(0, 6, b"abc", b"123")),
    # -- lookaround -----------------------------------------------------------------------------
    Case(rb"foo(?=bar)", b"foobaz foobar", m(7, 10)),
    Case(rb"foo(?!bar)", b"foobar foobaz", m(7, 10)),
    Case(rb"(?<=\d{3})x", b"1x 123x", m(6, 7)),
    Case(rb"(?<!a)b", b"ab cb", m(4, 5)),
    Case(rb"(?<=ab|c)d", b"cd", m(1, 2)),
    Case(rb"^(?=.*SSH)(\S+)", b"OpenSSH_8 x", m(0, 9, b"OpenSSH_8")),
    # -- backreferences -------------------------------------------------------------------------
    Case(rb"(['\"])(.*?)\1", b'say "hi" ok', m(4, 8, b'"', b"hi")),
    Case(rb"(a)|b\1", b"b", None),
    Case(rb"(\w)\1", b"abccd", m(2, 4, b"c")),
    Case(rb"(a)\g{-1}", b"aa", m(0, 2, b"a")),
    Case(rb"(a)\g1", b"aa", m(0, 2, b"a")),
    Case(rb"(a)\1\x30", b"aa0", m(0, 3, b"a")),
    Case(rb"(a)\1 0", b"aa 0", m(0, 4, b"a")),
    # -- alternation and anchors ----------------------------------------------------------------
    Case(rb"^a|b", b"xb", m(1, 2)),
    Case(rb"^(?:a|b)c", b"bc", m(0, 2)),
    Case(rb"^a|^b", b"b", m(0, 1)),
    Case(rb"x|^y", b"zy", None),
    Case(rb"(^a|b)c", b"bc", m(0, 2, b"b")),
    Case(rb"a||b", b"c", m(0, 0)),
    # -- raw UTF-8 bytes: a quantifier repeats the last byte only --------------------------------
    Case(b"^\xc5\x82+", b"\xc5\x82\x82\x82", m(0, 4)),
    Case(b"\xd0\x9f\xd1\x80\xd0\xb8", b"x\xd0\x9f\xd1\x80\xd0\xb8", m(1, 7)),
    Case(b"\xe4\xb8\xad?$", b"\xe4\xb8", m(0, 2)),
    Case(b"^(\xc3\xa9)+", b"\xc3\xa9\xc3\xa9", m(0, 4, b"\xc3\xa9")),
    # -- dot and DOTALL ----------------------------------------------------------------------------
    Case(rb"a.b", b"a\nb", None),
    Case(rb"a.b", b"a\nb", m(0, 3), flags="s"),
    Case(rb"a.b", b"a\rb", m(0, 3)),
    Case(rb"^.*$", b"ab\ncd", None),
    Case(rb"^.*$", b"ab\ncd", m(0, 5), flags="s"),
    Case(rb"a.b", b"A\nB", m(0, 3), flags="si"),
    # -- escapes --------------------------------------------------------------------------------
    Case(rb"\|\.\(\)\[\]\{\}\*\+\?\^\$\\", b"|.()[]{}*+?^$\\", m(0, 14)),
    Case(rb"\t\r\n\f\e\a", b"\t\r\n\x0c\x1b\x07", m(0, 6)),
    Case(rb"\cA\c[", b"\x01\x1b", m(0, 2)),
    Case(rb"\Qa.b\E+", b"a.bb", m(0, 4)),
    Case(rb"\Q(\E", b"(", m(0, 1)),
    Case(rb"\y", b"y", m(0, 1), pcre2=ERROR, why=PCRE2_STRICT),
    Case(rb"a(?#comment)b", b"ab", m(0, 2)),
    Case(rb"a(?#comment)*b", b"aab", m(0, 3)),
    Case(rb"a\E+", b"aa", m(0, 2)),
    Case(rb"a(?)b", b"ab", m(0, 2)),
    Case(rb"(a)\1(?)0", b"aa0", m(0, 3, b"a")),
    Case(rb"\N+", b"ab\nc", m(0, 2), flags="s"),
    Case(rb"\h+", b"a \t\xa0b", m(1, 4)),
    Case(rb"\v", b"a\x85", m(1, 2)),
    Case(rb"\R", b"a\r\nb", m(1, 3)),
    Case(rb"\bfoo\b", b"afoo foo", m(5, 8)),
    Case(rb"\Bo", b"o fo", m(3, 4)),
    Case(b"a#b c", b"a#b c", m(0, 5)),
    # -- groups ----------------------------------------------------------------------------------
    Case(rb"(a)(?:b)(c)?", b"ab", m(0, 2, b"a", None)),
    Case(rb"(a|b)*", b"abab", m(0, 4, b"b")),
    Case(rb"((a)|b)+", b"ab", m(0, 2, b"b", b"a")),
    Case(rb"(a*)+", b"b", m(0, 0, b"")),
    Case(rb"()", b"x", m(0, 0, b"")),
    Case(rb"^(?:(\d+)\.)+(\d+)", b"1.22.333", m(0, 8, b"22", b"333")),
]


# -- helpers shared by the unit and the real-file tests ----------------------------------------


def prefilter_passes(a: PatternAnalysis, subject: bytes, *, caseless: bool) -> bool:
    """The runtime's cheap test: False means the pattern cannot match ``subject``."""
    s = subject.lower() if caseless else subject
    if len(s) < a.min_length:
        return False
    if a.anchored and not s.startswith(a.prefix):
        return False
    if a.first_bytes is not None and (not subject or subject[0] not in a.first_bytes):
        return False
    return a.prefix in s and all(r in s for r in a.required)


def sample_subject(tree: Tree, rng: random.Random, *, caseless: bool) -> bytes:
    """A subject the pattern probably matches (assertions are ignored), for soundness tests;
    b"" if nested repeats would make it huge."""
    try:
        return _Sampler(rng, caseless).branches(tree.branches)
    except _TooLarge:
        return b""


class _TooLarge(Exception):
    pass


@functools.cache
def _members(mask: int) -> tuple[list[int], list[int]]:
    members = [b for b in range(256) if mask >> b & 1]
    return members, [b for b in members if 0x20 <= b < 0x7F]


class _Sampler:
    def __init__(self, rng: random.Random, caseless: bool) -> None:
        self.rng = rng
        self.caseless = caseless
        self.groups: dict[int, bytes] = {}
        self.budget = 20_000  # nodes visited: nested repeats multiply

    def branches(self, branches: tuple[tuple[Node, ...], ...]) -> bytes:
        return b"".join(self.node(n) for n in self.rng.choice(branches))

    def node(self, node: Node) -> bytes:
        self.budget -= 1
        if self.budget < 0:
            raise _TooLarge
        if isinstance(node, Literal):
            return self.case(node.data)
        if isinstance(node, ByteSet):
            members, printable = _members(node.mask)
            if not members:  # a class that takes no byte ([^\s\S])
                return b""
            return bytes([self.rng.choice(printable if printable and self.rng.random() < 0.8 else members)])
        if isinstance(node, Group):
            return self.group(node)
        if isinstance(node, Repeat):
            top = node.min + 3 if node.max is None else min(node.max, node.min + 3)
            return b"".join(self.node(node.item) for _ in range(self.rng.randint(node.min, top)))
        if isinstance(node, Backref):
            return self.case(self.groups.get(node.number, b""))
        return b""  # anchors and unsupported constructs consume nothing here

    def group(self, node: Group) -> bytes:
        if node.kind.is_lookaround:
            return b""
        text = self.branches(node.branches)
        if node.kind is GroupKind.CAPTURE:
            self.groups[node.index] = text
        return text

    def case(self, data: bytes) -> bytes:
        if not self.caseless:
            return data
        return bytes(b ^ 0x20 if (0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A) and self.rng.random() < 0.5 else b for b in data)


def without_positions(tree: Tree) -> Tree:
    """``tree`` as a parse without ``positions`` gives it: no spans or members, adjacent
    literals joined."""
    return Tree(tuple(_sequence_without(b) for b in tree.branches), tree.groups, tree.inline_options)


def _sequence_without(items: Sequence[Node]) -> tuple[Node, ...]:
    out: list[Node] = []
    for node in map(_node_without, items):
        last = out[-1] if out else None
        if type(node) is Literal and type(last) is Literal:
            out[-1] = Literal(last.data + node.data)
        else:
            out.append(node)
    return tuple(out)


def _node_without(node: Node) -> Node:
    if isinstance(node, Literal):
        return Literal(node.data)
    if isinstance(node, ByteSet):
        return ByteSet(node.mask, node.text, node.code)
    if isinstance(node, Group):
        return dataclasses.replace(node, branches=tuple(_sequence_without(b) for b in node.branches))
    if isinstance(node, Repeat):
        return dataclasses.replace(node, item=_node_without(node.item))
    return node
