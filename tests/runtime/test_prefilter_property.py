"""Property: the prefilter never drops a line that matches.

Hypothesis writes probe files whose ``match``/``softmatch`` lines are patterns in the dialect of
``nmap-service-probes`` (literals, escapes ``\\xHH \\0 \\n \\r \\t \\d \\w \\s`` and their
negations, classes with ranges, ``.``, capturing and ``(?:`` groups, alternations at any depth,
``^``/``$`` (and ``\\A \\Z \\z \\b \\B``) in any place, greedy and lazy quantifiers, a few
lookarounds and backreferences, flags ``i`` and ``s``), and responses derived from them
(strings the patterns accept, with case changes under ``i``, and near misses: a byte changed,
dropped or added, a cut). ``sigc`` builds a bundle of each file (SQLite and JSON), and for
every response:

* every line whose whole translated pattern matches (``regex.search``, no prefilter) is one of
  the index's candidates and passes its literal checks (:meth:`Entry.admits`): the prefilter
  may keep a line it need not, never drop one that matches;
* :class:`~sigscan.matcher.core.Matcher` gives exactly the verdict of
  :class:`~sigscan.testing.naive.NaiveMatcher` (every line searched in order): same line, soft
  or hard, same fields.

Patterns are kept clear of exponential backtracking (an unbounded repeat only ever repeats one
atom or a group of atoms), because naive matching has no time budget. Runs with a fixed number of
examples (:data:`EXAMPLES`, about ten seconds), derandomized and without a database, so that CI
sees the same cases every time; ``SIGSCAN_PREFILTER_EXAMPLES=5000`` asks for more.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TypeVar

import regex  # type: ignore[import-untyped]  # no stubs for regex
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from sigc.build import build
from sigc.sources import resolve
from sigscan.bundle.loader import Bundle, open_bundle
from sigscan.matcher import Matcher
from sigscan.matcher.index import Subject
from sigscan.testing.naive import NaiveMatcher

EXAMPLES = int(os.environ.get("SIGSCAN_PREFILTER_EXAMPLES", "150"))
T = TypeVar("T")

# -- patterns, as a small tree of their own (not sigc's: the test must not share its reading) ------


@dataclass(frozen=True)
class Lit:
    data: bytes


@dataclass(frozen=True)
class Set:
    """One byte out of a class, ``.`` or a class escape; ``text`` is its PCRE spelling."""

    text: bytes


@dataclass(frozen=True)
class Anchor:
    text: bytes  # ^ $ \A \Z \z \b \B


@dataclass(frozen=True)
class Group:
    head: bytes  # ( (?: (?= (?! (?<= (?<!
    alternatives: tuple[tuple[Node, ...], ...]


@dataclass(frozen=True)
class Repeat:
    item: Node
    quantifier: bytes  # ? * + {n} {n,} {n,m}, maybe followed by ? (lazy)
    low: int
    high: int | None


@dataclass(frozen=True)
class Ref:
    number: int


Node = Lit | Set | Anchor | Group | Repeat | Ref
Items = tuple[Node, ...]  # a sequence of nodes, one alternative

# Words that make lines share heads (buckets, tokens) and bytes that test escapes and folding.
WORDS = (b"HTTP/1.1 ", b"HTTP/1.1 200 OK\r\n", b"220 ", b"SSH-2.0-", b"Server: ", b"Apache",
         b"nginx", b"OK", b"ok", b"S", b"a", b"\r\n", b"\x00\x01", b"\xe9t\xc9", b"x-y", b"{1}")
BYTES = b"aAbBsSzZkK09_ -./:{}\r\n\t\x00\x0b\x7f\x80\xc0\xe0\xff|=%"
DELIMITERS = b"|=%@#!~;,:\"'"
ANCHORS = (b"^", b"^", b"$", b"$", b"\\A", b"\\Z", b"\\z", b"\\b", b"\\B")
ESCAPES = (b"\\d", b"\\w", b"\\s", b"\\D", b"\\W", b"\\S", b".")
OCTAL = b"01234567"


def spell(data: bytes) -> bytes:
    """A literal in PCRE syntax: letters and digits as they are, other printable bytes escaped,
    the rest as \\n, \\r, \\t, \\0 or \\xHH."""
    out = []
    for i, b in enumerate(data):
        after = data[i + 1 : i + 2]
        if b == 0:
            out.append(b"\\0" if after and after not in OCTAL else b"\\x00")
        elif b in b"\n\r\t":
            out.append({10: b"\\n", 13: b"\\r", 9: b"\\t"}[b])
        elif (chr(b).isalnum() and b < 0x80) or b == 0x20:
            out.append(bytes([b]))
        elif 0x20 < b < 0x7F:
            out.append(b"\\" + bytes([b]))
        else:
            out.append(b"\\x%02x" % b)
    return b"".join(out)


def class_byte(b: int) -> bytes:
    return bytes([b]) if chr(b).isalnum() and b < 0x80 else b"\\x%02x" % b


def render(items: Items) -> bytes:
    return b"".join(render_node(n) for n in items)


def render_node(node: Node) -> bytes:
    match node:
        case Lit(data):
            return spell(data)
        case Set(text) | Anchor(text):
            return text
        case Group(head, alternatives):
            return head + b"|".join(render(a) for a in alternatives) + b")"
        case Repeat(item, quantifier):
            inner = render_node(item)
            if isinstance(item, Lit) and len(item.data) != 1:
                inner = b"(?:" + inner + b")"
            return inner + quantifier
        case Ref(number):
            return b"\\g{%d}" % number
    raise AssertionError(node)


# -- strategies --------------------------------------------------------------------------------
# Plain functions over one ``draw`` and strategies made once: a composite strategy made per
# node costs Hypothesis a validation each time (twenty times the rest of the generation).


@cache
def _below(n: int) -> st.SearchStrategy[int]:
    return st.integers(0, n - 1)


class Gen:
    """Choices drawn from Hypothesis (so that it can shrink them)."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw

    def below(self, n: int) -> int:
        return self.draw(_below(n)) if n > 1 else 0

    def between(self, low: int, high: int) -> int:
        return low + self.below(high - low + 1)

    def pick(self, choices: Sequence[T]) -> T:
        return choices[self.below(len(choices))]

    def chance(self, tenths: int) -> bool:
        return self.below(10) < tenths

    def some_bytes(self, low: int, high: int) -> bytes:
        return bytes(self.pick(BYTES) for _ in range(self.between(low, high)))


def literal(g: Gen) -> Lit:
    return Lit(g.pick(WORDS)) if g.chance(5) else Lit(g.some_bytes(1, 3))


def byte_set(g: Gen) -> Set:
    if g.chance(5):
        return Set(g.pick(ESCAPES))
    items = []
    for _ in range(g.between(1, 3)):
        kind = g.below(3)
        if kind == 0:
            items.append(class_byte(g.pick(BYTES)))
        elif kind == 1:
            low, high = sorted((g.pick(BYTES), g.pick(BYTES)))
            items.append(class_byte(low) + b"-" + class_byte(high))
        else:
            items.append(g.pick(ESCAPES[:6]))
    return Set(b"[" + (b"^" if g.chance(5) else b"") + b"".join(items) + b"]")


@dataclass
class Context:
    depth: int = 0
    groups: int = 0  # capturing groups opened so far
    closed: tuple[int, ...] = ()  # numbers of those already closed: a backreference may name them


BOUNDED = ((b"?", 0, 1), (b"{2}", 2, 2), (b"{0,2}", 0, 2), (b"{1,3}", 1, 3))
UNBOUNDED = (*BOUNDED, (b"*", 0, None), (b"+", 1, None), (b"{2,}", 2, None))


def atom(g: Gen, ctx: Context) -> Node:
    """What an unbounded repeat may repeat: one byte, a set, or a group of those in a row."""
    kind = g.below(3)
    if kind == 0:
        return Lit(bytes([g.pick(BYTES)]))
    if kind == 1:
        return byte_set(g)
    inner = tuple(byte_set(g) if g.chance(5) else literal(g) for _ in range(g.between(1, 2)))
    if g.chance(5):
        return Group(b"(?:", (inner,))
    ctx.groups += 1
    ctx.closed += (ctx.groups,)
    return Group(b"(", (inner,))


NODE_KINDS = ("lit", "lit", "set", "set", "repeat", "anchor")


def node(g: Gen, ctx: Context) -> Node:
    kinds = NODE_KINDS + (("group", "group", "look") if ctx.depth < 3 else ()) + (("ref",) if ctx.closed else ())
    kind = g.pick(kinds)
    if kind == "lit":
        return literal(g)
    if kind == "set":
        return byte_set(g)
    if kind == "anchor":
        return Anchor(g.pick(ANCHORS))
    if kind == "ref":
        return Ref(g.pick(ctx.closed))
    if kind == "look":
        if g.chance(5):  # a lookbehind must be of fixed length: a literal
            return Group(g.pick((b"(?<=", b"(?<!")), ((literal(g),),))
        inner = tuple(byte_set(g) if g.chance(5) else literal(g) for _ in range(g.between(1, 2)))
        return Group(g.pick((b"(?=", b"(?!")), (inner,))
    if kind == "repeat":
        unbounded = g.chance(5)
        item = atom(g, ctx) if unbounded or ctx.depth >= 3 else group(g, ctx)
        text, low, high = g.pick(UNBOUNDED if unbounded else BOUNDED)
        return Repeat(item, text + g.pick((b"", b"", b"?")), low, high)
    return group(g, ctx)


def group(g: Gen, ctx: Context) -> Group:
    capture = g.chance(5)
    number = 0
    if capture:
        ctx.groups += 1
        number = ctx.groups
    inner = Context(ctx.depth + 1, ctx.groups, ctx.closed)
    alternatives = tuple(sequence(g, inner, 0) for _ in range(g.between(1, 3)))
    ctx.groups = inner.groups
    if capture:
        ctx.closed += (number,)
    return Group(b"(" if capture else b"(?:", alternatives)


def sequence(g: Gen, ctx: Context, min_size: int = 1) -> Items:
    """Items in a row; at the top, often ``^`` first."""
    items: list[Node] = []
    if ctx.depth == 0 and g.chance(7):
        items.append(Anchor(g.pick((b"^", b"^", b"^", b"\\A"))))
    items += [node(g, ctx) for _ in range(g.between(min_size, 4))]
    return tuple(items)


@dataclass(frozen=True)
class Line:
    soft: bool
    service: bytes
    alternatives: tuple[Items, ...]
    flags: bytes
    fields: bytes

    @property
    def pattern(self) -> bytes:
        return b"|".join(render(a) for a in self.alternatives)

    def text(self) -> bytes:
        pattern = self.pattern
        delimiter = next((bytes([d]) for d in DELIMITERS if d not in pattern), None)
        assume(delimiter is not None)
        assert delimiter is not None
        kind = b"softmatch" if self.soft else b"match"
        fields = b"" if self.soft else self.fields
        return b"%s %s m%s%s%s%s%s\n" % (kind, self.service, delimiter, pattern, delimiter, self.flags, fields)


def line(g: Gen) -> Line:
    ctx = Context()
    alternatives = tuple(sequence(g, ctx) for _ in range(g.pick((1, 1, 2, 2, 3))))
    flags = g.pick((b"", b"", b"i", b"s", b"is"))
    if ctx.groups:
        n = g.between(1, ctx.groups)
        fields = g.pick((b" p/P$%d/" % n, b" v/$%d/ i/x/" % n, b" p/$P(%d)/" % n))
    else:
        fields = g.pick((b"", b" p/fixed/"))
    return Line(g.chance(2), g.pick((b"svc", b"http", b"ftp")), alternatives, flags, fields)


# -- responses ------------------------------------------------------------------------------------


@lru_cache(maxsize=512)
def members(text: bytes, caseless: bool, dotall: bool) -> bytes:
    """The bytes a set accepts, as the regex module reads it (a guide for sampling only)."""
    flags = regex.V0 | (regex.I if caseless else 0) | (regex.S if dotall else 0)
    # Once its cache is full, regex.compile evicts entries with the global random.sample, and
    # Hypothesis refuses strategies that touch the global random: its state is put back.
    state = random.getstate()
    try:
        compiled = regex.compile(text, flags)
    finally:
        random.setstate(state)
    return bytes(b for b in range(256) if compiled.fullmatch(bytes([b])))


class Sampler:
    """Writes a string a line is likely to accept (anchors, lookarounds and backreferences to
    groups that did not take part are not honoured: the oracle decides, not the sampler)."""

    def __init__(self, g: Gen, caseless: bool, dotall: bool) -> None:
        self.g = g
        self.caseless = caseless
        self.dotall = dotall
        self.captured: dict[int, bytes] = {}
        self.number = 0

    def sequence(self, items: Items) -> bytes:
        return b"".join(self.node(n) for n in items)

    def node(self, node: Node) -> bytes:
        g = self.g
        match node:
            case Lit(data):
                if self.caseless and g.chance(5):
                    return bytes(g.pick((b, bytes([b]).swapcase()[0])) for b in data)
                return data
            case Set(text):
                accepted = members(text, self.caseless, self.dotall)
                return bytes([g.pick(accepted)]) if accepted else b""
            case Group(head, alternatives):
                number = 0
                if head == b"(":
                    self.number += 1
                    number = self.number
                text = self.sequence(g.pick(alternatives))
                if number:
                    self.captured[number] = text
                return b"" if head.startswith(b"(?") and head != b"(?:" else text
            case Repeat(item, _, low, high):
                count = g.between(low, low + 3 if high is None else high)
                return b"".join(self.node(item) for _ in range(count))
            case Ref(number):
                return self.captured.get(number, b"")
        return b""  # anchors


CHANGES = ("none", "none", "junk", "case", "byte", "drop", "add", "cut", "random")


def response(g: Gen, probe: list[Line]) -> bytes:
    chosen = g.pick(probe)
    data = Sampler(g, b"i" in chosen.flags, b"s" in chosen.flags).sequence(g.pick(chosen.alternatives))
    change = g.pick(CHANGES)
    if change == "junk":
        data = g.pick((b"x", b"\n", b"S")) + data + g.pick((b"", b"\r\n"))
    elif change == "case":
        data = data[:1].swapcase() + data[1:]
    elif data and change in ("byte", "drop", "add", "cut"):
        at = g.below(len(data))
        byte = bytes([g.pick(BYTES)])
        data = {"byte": data[:at] + byte + data[at + 1 :], "drop": data[:at] + data[at + 1 :],
                "add": data[:at] + byte + data[at:], "cut": data[:at]}[change]
    elif change == "random":
        data = g.some_bytes(0, 8)
    return data[:80]


# -- the property ---------------------------------------------------------------------------------


def probe_file(probe: list[Line]) -> bytes:
    return b"Probe TCP NULL q||\ntotalwaitms 6000\n" + b"".join(line.text() for line in probe)


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[Line], list[bytes]]:
    g = Gen(draw)
    probe = [line(g) for _ in range(g.between(1, 8))]
    return probe, [response(g, probe) for _ in range(g.between(1, 8))]


def build_both(folder: Path, text: bytes) -> list[Path]:
    source = folder / "generated.probes"
    source.write_bytes(text)
    out = []
    for suffix in ("db", "json"):
        target = folder / f"generated.{suffix}"
        result = build(resolve([str(source)]), target)
        assert result.ok, (text, [str(d) for d in result.database.errors])
        out.append(target)
    return out


def check_bundle(bundle: Bundle, data: list[bytes], text: bytes) -> None:
    indexed, naive = Matcher(bundle), NaiveMatcher(bundle)
    probe = bundle.probe("NULL", "tcp")
    assert probe is not None
    index = indexed.index(probe.id)
    records = bundle.matches(probe.id)
    for response in data:
        subject = Subject(response)
        candidates = set(index.candidates(subject))
        for record, entry in zip(records, index.entries, strict=True):
            flags = regex.V0 | (regex.I if record.caseless else 0) | (regex.S if record.dotall else 0)
            if regex.search(record.regex, response, flags) is None:
                continue
            event("a line matches")
            why = f"line {record.line} m|{record.pattern.decode('latin-1')}|{record.flags} on {response!r}"
            assert record.seq in candidates, f"the index drops {why}\n{text.decode('latin-1')}"
            assert entry.admits(subject) is None, f"{entry.admits(subject)}: {why}"
        want = naive.identify("NULL", "tcp", response)
        assert indexed.identify("NULL", "tcp", response) == want, (response, text.decode("latin-1"))


@settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(cases())
def test_the_prefilter_keeps_every_line_that_matches(case: tuple[list[Line], list[bytes]]) -> None:
    probe, data = case
    text = probe_file(probe)
    with tempfile.TemporaryDirectory(prefix="sigscan-prefilter-") as folder:
        for path in build_both(Path(folder), text):
            with open_bundle(path) as bundle:
                check_bundle(bundle, data, text)
