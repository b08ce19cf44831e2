"""What every match of a pattern has in common, read off its tree for the prefilter (the
contract is in :mod:`sigc.regex.analysis`): the literal prefix, the required literals and the
minimum length (:class:`Analyzer`, which also flags nested quantifiers), whether a match can
only start at offset 0 (:func:`is_anchored`), the bytes it can start with (:func:`first_bytes`)
and where its literal head can be cut off (:func:`split_head`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sigc.regex.translate import emit_anchor, emit_literal
from sigc.regex.tree import (
    ALPHA,
    START_ANCHORS,
    Anchor,
    AnchorKind,
    Backref,
    Branches,
    ByteSet,
    Greed,
    Group,
    GroupKind,
    Literal,
    Node,
    Repeat,
    Tree,
    fold,
)

_CAP = 256  # longest literal the analysis keeps (prefixes, factors)
_MAX_MIN_LENGTH = (1 << 31) - 1
_NO_FACTORS: frozenset[bytes] = frozenset()


def _single_byte(mask: int, caseless: bool) -> int | None:
    """The one byte (lowercased if caseless) a set stands for, if it stands for one."""
    count = mask.bit_count()
    low = (mask & -mask).bit_length() - 1
    if count == 1 and not (caseless and (mask & ALPHA)):
        return low
    if caseless and count == 2 and fold(1 << low) == mask:
        return low + 32 if 0x41 <= low <= 0x5A else low
    return None


@dataclass(slots=True)  # not frozen: built very often, never mutated
class _Info:
    """What every string a node consumes has in common (literals case-folded if caseless)."""

    min: int
    exact: bytes | None  # the node always consumes exactly these bytes
    prefix: bytes
    suffix: bytes
    factors: frozenset[bytes]

    def strings(self) -> Iterator[bytes]:
        yield from self.factors
        yield self.prefix
        yield self.suffix

    def contains(self, s: bytes) -> bool:
        return s in self.prefix or s in self.suffix or any(s in t for t in self.factors)


def _exact(data: bytes) -> _Info:
    if len(data) > _CAP:
        return _Info(len(data), None, data[:_CAP], data[-_CAP:], frozenset({data[:_CAP]}))
    return _Info(len(data), data, data, data, _NO_FACTORS)


_EMPTY = _exact(b"")
_ONE_BYTE = _Info(1, None, b"", b"", _NO_FACTORS)
_UNKNOWN = _Info(0, None, b"", b"", _NO_FACTORS)


def _concat(a: _Info, b: _Info) -> _Info:
    if a.exact is not None and b.exact is not None:
        return _exact(a.exact + b.exact)
    prefix = (a.exact + b.prefix)[:_CAP] if a.exact is not None else a.prefix
    suffix = (a.suffix + b.exact)[-_CAP:] if b.exact is not None else b.suffix
    junction = a.suffix + b.prefix
    factors = a.factors | b.factors
    if junction:
        factors = factors | {junction}
    return _Info(a.min + b.min, None, prefix, suffix, factors)


def _either(infos: list[_Info]) -> _Info:
    first = infos[0]
    if len(infos) == 1:
        return first
    if first.exact is not None and all(i.exact == first.exact for i in infos):
        return first
    prefix = _common_prefix([i.prefix for i in infos])
    suffix = _common_prefix([i.suffix[::-1] for i in infos])[::-1]
    shared = frozenset(s for s in first.strings() if s and all(i.contains(s) for i in infos[1:]))
    return _Info(min(i.min for i in infos), None, prefix, suffix, shared)


def _common_prefix(strings: list[bytes]) -> bytes:
    low, high = min(strings), max(strings)
    n = 0
    while n < len(low) and low[n] == high[n]:
        n += 1
    return low[:n]


def _repeat(inner: _Info, low: int, high: int | None) -> _Info:
    if high == 0:
        return _EMPTY
    if low == 0:
        return _UNKNOWN
    size = min(inner.min * low, _MAX_MIN_LENGTH)
    if inner.exact is not None:
        run = inner.exact * min(low, _CAP // max(len(inner.exact), 1) + 1)
        if low == high and len(run) == len(inner.exact) * low:
            return _exact(run)
        return _Info(size, None, run[:_CAP], run[-_CAP:], frozenset({run[:_CAP]}) if run else _NO_FACTORS)
    factors = inner.factors
    if low >= 2 and (inner.suffix or inner.prefix):
        factors = factors | {inner.suffix + inner.prefix}
    return _Info(size, None, inner.prefix, inner.suffix, factors)


class Analyzer:
    """One bottom-up pass computing the prefilter facts and the risk flags."""

    def __init__(self, caseless: bool) -> None:
        self.caseless = caseless
        self.group_infos: dict[int, _Info] = {}
        self.nested = False

    def branches(self, branches: Branches) -> _Info:
        if len(branches) == 1:  # most groups and patterns
            return self.sequence(branches[0])
        return _either([self.sequence(b) for b in branches])

    def sequence(self, items: tuple[Node, ...]) -> _Info:
        """Literals (most nodes) go straight into the run of fixed bytes, without an ``_Info``
        each; a literal too long to be exact (see :func:`_exact`) goes through :meth:`node`."""
        info: _Info | None = None  # nothing concatenated yet (the fold starts from _EMPTY)
        exact: list[bytes] = []  # consecutive fixed strings, joined before the next concat
        for node in items:
            if type(node) is Literal and len(node.data) <= _CAP:
                exact.append(node.data)
                continue
            sub = self.node(node)
            if sub.exact is not None:
                exact.append(sub.exact)
                continue
            if exact:
                info = self.fixed(exact) if info is None else _concat(info, self.fixed(exact))
                exact = []
            info = _concat(_EMPTY if info is None else info, sub)
        if exact:
            return self.fixed(exact) if info is None else _concat(info, self.fixed(exact))
        return _EMPTY if info is None else info

    def fixed(self, parts: list[bytes]) -> _Info:
        """Consecutive fixed strings as one (folded again if caseless: lowering is idempotent).
        What ``_concat(_EMPTY, ...)`` of it would give, without making it twice."""
        data = b"".join(parts)
        return _exact(data.lower() if self.caseless else data)

    def node(self, node: Node) -> _Info:
        if isinstance(node, Literal):
            return _exact(node.data.lower() if self.caseless else node.data)
        if isinstance(node, ByteSet):
            byte = _single_byte(node.mask, self.caseless)
            return _ONE_BYTE if byte is None else _exact(bytes([byte]))
        if isinstance(node, Anchor):
            return _EMPTY
        if isinstance(node, Repeat):
            return self.repeat(node)
        if isinstance(node, Group):
            return self.group(node)
        if isinstance(node, Backref):
            return self.group_infos.get(node.number, _UNKNOWN)
        return _UNKNOWN

    def repeat(self, node: Repeat) -> _Info:
        if node.max is None or node.max > 1:
            self.nested = self.nested or _has_unbounded(node.item)
        return _repeat(self.node(node.item), node.min, node.max)

    def group(self, node: Group) -> _Info:
        info = self.branches(node.branches)
        if node.kind.is_lookaround:
            return _EMPTY
        if node.index:
            self.group_infos[node.index] = info
        return info


def _has_unbounded(node: Node) -> bool:
    """Does ``node`` hold an unbounded quantifier that can backtrack?"""
    match node:
        case Repeat(item, _, high, greed):
            return (high is None and greed is not Greed.POSSESSIVE) or _has_unbounded(item)
        case Group(kind, branches) if kind is not GroupKind.ATOMIC and not kind.is_lookaround:
            return any(_has_unbounded(n) for b in branches for n in b)
    return False


def is_anchored(branches: Branches) -> bool:
    """Can a match only start at offset 0 (every alternative starts with ``^``, ``\\A``, ``\\G``)?"""
    return all(_sequence_anchored(b) for b in branches)


def _sequence_anchored(items: tuple[Node, ...]) -> bool:
    for node in items:
        match node:
            case Anchor(kind):
                if kind in START_ANCHORS:
                    return True
            case Group(kind, branches) if kind.is_lookaround:
                pass
            case Group(_, branches):
                return is_anchored(branches)
            case Repeat(Group(kind, branches), low) if low >= 1 and not kind.is_lookaround:
                return is_anchored(branches)
            case _:
                return False
    return False


def first_bytes(tree: Tree, caseless: bool) -> bytes | None:
    """For a pattern whose matches all start at offset 0 (``is_anchored``): the bytes a match can
    start with, ascending, when every match consumes at least one byte; None when a match may be
    empty or a construct is not understood (backreferences, unsupported ones).

    Read off the consuming nodes from the start of every alternative, at any depth: a node that
    can match the empty string (``?``, ``*``, ``{0,n}``, an empty alternative, an assertion, a
    lookaround) adds its first bytes and lets the next node add its own. Assertions are
    zero-width, so passing over them only makes the set larger than it need be, never smaller.
    Byte sets are already folded when the pattern is caseless; a literal's first byte is folded
    here (ASCII letters only, as PCRE without UTF)."""
    found = _first_of_branches(tree.branches, caseless)
    if found is None or found[1]:
        return None
    mask, out = found[0], bytearray()
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return bytes(out)


def _first_of_branches(branches: Branches, caseless: bool) -> tuple[int, bool] | None:
    """(mask of the first bytes, whether a match can be empty) over alternatives; None: unknown."""
    mask, empty = 0, False
    for items in branches:
        found = _first_of_sequence(items, caseless)
        if found is None:
            return None
        mask |= found[0]
        empty = empty or found[1]
    return mask, empty


def _first_of_sequence(items: tuple[Node, ...], caseless: bool) -> tuple[int, bool] | None:
    mask = 0
    for node in items:
        found = _first_of_node(node, caseless)
        if found is None:
            return None
        mask |= found[0]
        if not found[1]:
            return mask, False
    return mask, True


def _first_of_node(node: Node, caseless: bool) -> tuple[int, bool] | None:
    match node:
        case Literal(data):
            if not data:
                return 0, True
            bit = 1 << data[0]
            return (fold(bit) if caseless else bit), False
        case ByteSet(mask):
            return mask, False
        case Anchor():
            return 0, True
        case Group(kind, branches):
            return (0, True) if kind.is_lookaround else _first_of_branches(branches, caseless)
        case Repeat(item, low, high):
            if high == 0:
                return 0, True
            found = _first_of_node(item, caseless)
            return None if found is None else (found[0], found[1] or low == 0)
    return None  # a backreference (what its group took), an unsupported construct


def split_head(tree: Tree, prefix: bytes, caseless: bool) -> tuple[int, int]:
    """Where a pattern that starts with ``^`` (or ``\\A``) and literal bytes can be cut, so that
    a matcher which has already checked ``prefix`` compiles and runs only the rest: ``(n,
    offset)``, the rest being ``translate(tree)[offset:]`` matched at subject offset ``n``
    (``(0, 0)``: no cut).

    The pattern matches a subject exactly when the subject starts with the head (``prefix[:n]``,
    folded when caseless) and the rest matches there: a search of a pattern anchored at the start
    is a match at offset 0, and the rest keeps every capture group and its number. Both engines
    let the rest look behind and test ``\\b`` across the cut. The one assertion that would
    change meaning is one about where the match starts (``^``, ``\\A``, ``\\G`` at the cut hold
    for the rest but not for the whole), so a pattern with any of them after the head is not cut.
    The head never goes beyond ``prefix``, which is what the matcher checks.

    Cutting the head saves what compiling it takes (``re`` spends eight bytes per literal byte),
    which is much of a compiled pattern on the real databases, whose lines mostly begin with
    long literal heads (``^HTTP/1\\.0 200 OK\\r\\nServer: ``; test_peak_rss in
    benchmarks/test_identify.py, docs/benchmarks.md)."""
    if len(tree.branches) != 1 or not prefix:
        return 0, 0
    items = tree.branches[0]
    if not items or items[0] not in _CUT_ANCHORS:
        return 0, 0
    head = bytearray()
    count = 1
    for node in items[1:]:
        if type(node) is not Literal or len(head) >= len(prefix):
            break
        head += node.data
        count += 1
    rest: list[Node] = list(items[count:])
    if len(head) > len(prefix):  # the last literal goes beyond what the prefix proves
        rest.insert(0, Literal(bytes(head[len(prefix):])))
        del head[len(prefix):]
    if not head or (head.lower() if caseless else bytes(head)) != prefix[: len(head)] or _asserts_start(rest):
        return 0, 0
    assert isinstance(items[0], Anchor)
    return len(head), len(emit_anchor(items[0])) + len(emit_literal(Literal(bytes(head))))


_CUT_ANCHORS = (Anchor(AnchorKind.START), Anchor(AnchorKind.SUBJECT_START))


def _asserts_start(items: Iterable[Node]) -> bool:
    """Does any node (at any depth) assert where the subject or the match starts?"""
    for node in items:
        match node:
            case Anchor(kind) if kind in START_ANCHORS:
                return True
            case Group(_, branches) if any(_asserts_start(b) for b in branches):
                return True
            case Repeat(item) if _asserts_start((item,)):
                return True
    return False


def required_literals(info: _Info, prefix: bytes) -> tuple[bytes, ...]:
    """Up to four longest literals every match contains, beyond what ``prefix`` proves."""
    found = {s for s in info.strings() if s not in prefix}  # prefix holds b""
    if not found:
        return ()
    ordered = sorted(sorted(found), key=len, reverse=True)  # longest first, each length in order
    kept: list[bytes] = []
    for s in ordered:  # longest first, so a string inside another comes after it
        if len(kept) == 4:
            break
        if not any(s in t for t in kept):
            kept.append(s)
    long = [s for s in kept if len(s) >= 2]
    return tuple(long or ([] if prefix else kept))
