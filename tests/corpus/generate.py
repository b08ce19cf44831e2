"""Responses generated from Nmap ``match`` patterns, for differential tests and benchmarks.

:func:`generate` walks the pattern's syntax tree (the standard library's ``re._parser``: every
real pattern parses as bytes, nmap-semantics §3) and writes one subject the pattern accepts:
literals as written, a class member for a class, a branch for an alternation, a copy for a
backreference, nothing after ``$``. Repeats of one character class get a "realistic" token when
one fits (``1.2.3`` for ``[\\w._-]+``, ``42`` for ``\\d+``), so the templates have something to
chew on. Each candidate is checked with **PCRE2** on the original pattern, as Nmap searches it
(unanchored, flags ``i``/``s`` only); a candidate PCRE2 rejects is dropped, and a few attempts
with other choices (minimal, then seeded random) follow. Everything is deterministic for a seed.

The subject is generated from one line, but the verdict for it is whatever line matches first:
an earlier line may well take it (in Nmap and in sigscan alike).
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from re import _constants as sre
from re import _parser
from typing import Any

import pcre2

from sigscan.bundle.loader import Bundle, open_bundle
from sigscan.bundle.records import MatchRecord

MAX_SUBJECT = 3000  # bytes; Nmap stops reading at 4096, stay well below
ATTEMPTS = 8  # walks per pattern: realistic, minimal, then seeded random ones

_ALL = frozenset(range(256))
_DIGITS = frozenset(b"0123456789")
_LETTERS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_WORD = _DIGITS | _LETTERS | {0x5F}
_SPACE = frozenset(b" \t\n\r\x0b\x0c")  # bytes-pattern \s, the same in PCRE >= 8.34
_CATEGORIES = {
    sre.CATEGORY_DIGIT: _DIGITS,
    sre.CATEGORY_NOT_DIGIT: _ALL - _DIGITS,
    sre.CATEGORY_WORD: _WORD,
    sre.CATEGORY_NOT_WORD: _ALL - _WORD,
    sre.CATEGORY_SPACE: _SPACE,
    sre.CATEGORY_NOT_SPACE: _ALL - _SPACE,
}
_PREFERRED = (b"a1b2c3.-_/: xyzdefghijklmnopqrstuvw456789"
              b"0ABCDEFGHIJKLMNOPQRSTUVWXYZ!#$%&'()*+,;<=>?@[]^`{|}~\"\\\r\n\t")
_ORDER = tuple(dict.fromkeys([*_PREFERRED, *range(256)]))  # every byte, nicest first
_PRINTABLE = frozenset(range(0x20, 0x7F))
_TOKENS = (b"1.2.3", b"abc", b"42", b"host1", b"x1", b"ABC")  # tried in order for a class repeat
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_SINGLE = (sre.LITERAL, sre.NOT_LITERAL, sre.ANY, sre.IN)
_STYLES = ("realistic", "minimal")  # then "random"


@dataclass(frozen=True, slots=True)
class Case:
    """One generated response: the line it was generated from, and where that line lives."""

    line: int
    service: str
    probe: str
    proto: str
    soft: bool
    subject: bytes


@dataclass(frozen=True, slots=True)
class Generated:
    """The outcome of generating from a set of lines: the cases, and the lines that gave none."""

    cases: tuple[Case, ...]
    failed: tuple[int, ...]

    @property
    def tried(self) -> int:
        return len(self.cases) + len(self.failed)

    @property
    def rate(self) -> float:
        return len(self.cases) / self.tried if self.tried else 0.0


class _GiveUp(Exception):
    """This walk cannot produce a subject (an unsupported node, ``^`` in the middle, …)."""


# ---------------------------------------------------------------------------------------------
# One pattern


def generate(pattern: bytes, caseless: bool, dotall: bool, seed: int) -> bytes | None:
    """A non-empty subject (at most :data:`MAX_SUBJECT` bytes) that PCRE2 finds ``pattern`` in,
    or ``None`` if no attempt produced one."""
    tree = _parse(pattern)
    if tree is None:
        return None
    checker = _pcre2(pattern, caseless, dotall)
    for attempt in range(ATTEMPTS):
        style = _STYLES[attempt] if attempt < len(_STYLES) else "random"
        walker = _Walker(random.Random(seed * 7919 + attempt), style, caseless, dotall)
        try:
            candidates = walker.run(tree)
        except _GiveUp:
            continue
        for subject in candidates:
            if 0 < len(subject) <= MAX_SUBJECT and checker.search(subject) is not None:
                return subject
    return None


def pcre2_match(pattern: bytes, caseless: bool, dotall: bool, subject: bytes) -> Any:
    """PCRE2's match object for ``subject`` (Nmap's unanchored search), or ``None``."""
    return _pcre2(pattern, caseless, dotall).search(subject)


@functools.cache
def _pcre2(pattern: bytes, caseless: bool, dotall: bool) -> Any:
    flags = (pcre2.IGNORECASE if caseless else 0) | (pcre2.DOTALL if dotall else 0)
    return pcre2.compile(pattern, flags)


def _parse(pattern: bytes) -> Any:
    try:
        return _parser.parse(pattern, 0)
    except re.error:
        return None


class _Walker:
    """Writes one subject for a parsed pattern in a given style."""

    def __init__(self, rng: random.Random, style: str, caseless: bool, dotall: bool) -> None:
        self.rng = rng
        self.style = style
        self.caseless = caseless
        self.dotall = dotall
        self.out = bytearray()
        self.groups: dict[int, bytes] = {}
        self.ended = False  # a `$` was passed: nothing more may follow
        self.lookaheads: list[tuple[int, bytes]] = []
        self.avoid: frozenset[int] = frozenset()  # after a possessive repeat: its class

    def run(self, tree: Any) -> list[bytes]:
        """The subject, then variants that help with lookaheads and line ends."""
        self.sequence(tree)
        out = bytes(self.out)
        variants = [out]
        for pos, content in self.lookaheads:
            variants.append(out[:pos] + content)
        if not self.ended:
            variants += [out + b"\r\n", out + b"\n"]
        return variants

    # -- nodes ---------------------------------------------------------------------------------

    def sequence(self, items: Iterable[tuple[Any, Any]]) -> None:
        for op, av in items:
            self.node(op, av)

    def node(self, op: Any, av: Any) -> None:
        if op in _SINGLE:
            self.emit(self.pick(self.allowed(op, av)))
        elif op in _REPEATS:
            low, high, sub = av
            self.repeat(low, high, sub, possessive=op is sre.POSSESSIVE_REPEAT)
        elif op is sre.SUBPATTERN:
            group, _add, _del, sub = av
            start = len(self.out)
            self.sequence(sub)
            if group:
                self.groups[group] = bytes(self.out[start:])
        elif op is sre.ATOMIC_GROUP:
            self.sequence(av)
        elif op is sre.BRANCH:
            self.sequence(self.choose(av[1]))
        elif op is sre.GROUPREF:
            if av not in self.groups:
                raise _GiveUp("backreference to an unset group")
            self.emit(self.groups[av])
        elif op is sre.AT:
            self.at(av)
        elif op is sre.ASSERT:
            self.lookaround(*av)
        elif op is sre.ASSERT_NOT:
            pass  # left to the PCRE2 check
        else:
            raise _GiveUp(f"unsupported node {op}")

    def emit(self, data: bytes) -> None:
        if data and self.ended:
            raise _GiveUp("text after $")
        if len(self.out) + len(data) > MAX_SUBJECT:
            raise _GiveUp("too long")
        self.out += data
        if data:
            self.avoid = frozenset()

    def at(self, where: Any) -> None:
        if where in (sre.AT_BEGINNING, sre.AT_BEGINNING_STRING):
            if self.out:
                raise _GiveUp("^ after text")
        elif where in (sre.AT_END, sre.AT_END_STRING):
            self.ended = True

    def lookaround(self, direction: int, sub: Any) -> None:
        inner = _Walker(self.rng, self.style, self.caseless, self.dotall)
        inner.groups = dict(self.groups)
        inner.sequence(sub)
        if direction < 0:
            if not self.out:  # at the start of an unanchored match: put the context before it
                self.emit(bytes(inner.out))
        else:
            self.lookaheads.append((len(self.out), bytes(inner.out)))

    def repeat(self, low: int, high: int, sub: Any, possessive: bool) -> None:
        high = low + 8 if high == sre.MAXREPEAT else high
        items = list(sub)
        if len(items) == 1 and items[0][0] in _SINGLE:
            allowed = self.allowed(*items[0])
            self.emit(self.token(allowed, low, high))
            if possessive:
                self.avoid = allowed
            return
        for _ in range(self.count(low, high)):
            self.sequence(items)

    # -- choices -------------------------------------------------------------------------------

    def allowed(self, op: Any, av: Any) -> frozenset[int]:
        if op is sre.LITERAL:
            return frozenset((av,))
        if op is sre.NOT_LITERAL:
            return _ALL - self.fold({av})
        if op is sre.ANY:
            return _ALL if self.dotall else _ALL - {0x0A}
        return self.charset(av)

    def charset(self, items: Sequence[tuple[Any, Any]]) -> frozenset[int]:
        members: set[int] = set()
        negate = False
        for op, av in items:
            if op is sre.NEGATE:
                negate = True
            elif op is sre.LITERAL:
                members.add(av)
            elif op is sre.RANGE:
                members.update(range(av[0], av[1] + 1))
            elif op is sre.CATEGORY and av in _CATEGORIES:
                members |= _CATEGORIES[av]
            else:
                raise _GiveUp(f"unsupported class item {op}")
        return _ALL - self.fold(members) if negate else frozenset(members)

    def fold(self, members: Iterable[int]) -> frozenset[int]:
        """With ``i``, a letter stands for both cases (a negated class excludes both)."""
        folded = set(members)
        if self.caseless:
            folded |= {m ^ 0x20 for m in folded if m in _LETTERS}
        return frozenset(folded)

    def pick(self, allowed: frozenset[int]) -> bytes:
        if not allowed:
            raise _GiveUp("empty class")
        allowed = allowed - self.avoid or allowed  # a possessive repeat must stop before it
        if self.style == "random":
            return bytes((self.random_byte(allowed),))
        return bytes((next(b for b in _ORDER if b in allowed),))

    def random_byte(self, allowed: frozenset[int]) -> int:
        nice = sorted(allowed & _PRINTABLE)
        if nice and self.rng.random() < 0.85:
            return self.rng.choice(nice)
        return self.rng.choice(sorted(allowed))

    def token(self, allowed: frozenset[int], low: int, high: int) -> bytes:
        """Text for ``class{low,high}``: a realistic token when one fits."""
        if not allowed:
            raise _GiveUp("empty class")
        if self.avoid and high >= 1 and allowed - self.avoid:
            first = self.pick(allowed)  # stops the possessive repeat before
            self.avoid = frozenset()
            return first + self.token(allowed, max(0, low - 1), high - 1)
        if self.style == "minimal":
            return self.pick(allowed) * low
        if self.style == "random":
            n = self.rng.randint(low, min(high, low + 6))
            return bytes(self.random_byte(allowed) for _ in range(n))
        for token in _TOKENS:
            if low <= len(token) <= high and all(b in allowed for b in token):
                return token
        n = max(low, min(high, 3))
        nice = [b for b in _ORDER if b in allowed][:10]
        return bytes(nice[i % len(nice)] for i in range(n))

    def count(self, low: int, high: int) -> int:
        if self.style == "minimal":
            return low
        if self.style == "random":
            return self.rng.randint(low, min(high, low + 3))
        return max(low, min(high, 1))

    def choose(self, branches: Sequence[Any]) -> Any:
        if self.style == "minimal":
            return branches[0]
        return self.rng.choice(branches)


# ---------------------------------------------------------------------------------------------
# Many patterns


def generate_lines(records: Iterable[MatchRecord], probe: str, proto: str, seed: int = 0,
                   limit: int | None = None) -> Generated:
    """Generate one case per line (its seed is ``seed`` plus the line number); stop after
    ``limit`` cases."""
    cases: list[Case] = []
    failed: list[int] = []
    for record in records:
        if limit is not None and len(cases) >= limit:
            break
        subject = generate(record.pattern, record.caseless, record.dotall, seed + record.line)
        if subject is None:
            failed.append(record.line)
        else:
            cases.append(Case(record.line, record.service, probe, proto, record.soft, subject))
    return Generated(tuple(cases), tuple(failed))


def generate_probe(bundle: Bundle, probe: str = "NULL", proto: str = "TCP", seed: int = 0,
                   limit: int | None = None) -> Generated:
    """:func:`generate_lines` over one probe's own lines, in file order."""
    record = bundle.probe(probe, proto)
    if record is None:
        raise LookupError(f"no {proto} probe {probe!r} in {bundle.path}")
    return generate_lines(bundle.matches(record.id), probe, proto, seed, limit)


def corpus(db_path: str | Path, probe: str = "NULL", proto: str = "TCP", limit: int | None = None,
           seed: int = 0) -> list[Case]:
    """Cases for the lines of one probe of a bundle, in file order (at most ``limit``)."""
    with open_bundle(db_path) as bundle:
        return list(generate_probe(bundle, probe, proto, seed, limit).cases)


def mixed_corpus(db_path: str | Path, n: int = 5000, seed: int = 0) -> list[Case]:
    """``n`` cases drawn from the lines of every probe (TCP and UDP), in a seeded random order;
    lines are reused with other seeds when there are fewer good lines than ``n``."""
    with open_bundle(db_path) as bundle:
        pool = [(p, m) for p in bundle.probes for m in bundle.matches(p.id)]
    random.Random(seed).shuffle(pool)
    return list(_draw(pool, n, seed))


def _draw(pool: Sequence[tuple[Any, MatchRecord]], n: int, seed: int) -> Iterator[Case]:
    made = 0
    for round_ in range(max(1, -(-n // max(1, len(pool))) * 4)):
        produced = False
        for probe, record in pool:
            if made >= n:
                return
            subject = generate(record.pattern, record.caseless, record.dotall,
                               seed + record.line + 100_003 * round_)
            if subject is not None:
                produced = True
                made += 1
                yield Case(record.line, record.service, probe.name, probe.protocol, record.soft, subject)
        if not produced:
            return


def rates(db_path: str | Path, seed: int = 0) -> dict[str, Generated]:
    """Generation outcome per probe (``"TCP/NULL"`` …) for every probe of a bundle."""
    with open_bundle(db_path) as bundle:
        return {f"{p.protocol}/{p.name}": generate_lines(bundle.matches(p.id), p.name, p.protocol, seed)
                for p in bundle.probes}
