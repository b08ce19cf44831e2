"""Rules on a line's pattern (SIG503-SIG505): passes over its PCRE tree (:mod:`sigc.regex`).

* ``SIG503`` (catastrophic backtracking) refines ``PatternAnalysis.nested_quantifier``: the
  header-skipping idiom ``(?:[^\\r\\n]+\\r\\n)*`` nests quantifiers but every iteration must
  end in a byte the inner repeat cannot take, so it is linear. Only a repeated item whose other
  parts can all be made of bytes the inner repeat also takes (``(\\w+\\s?)+``, ``(a+)+``), with
  something after it that can fail, is reported.
* ``SIG504`` (``.`` without ``s``) is reported only for patterns that also spell binary bytes
  in numbers (``\\0``, ``\\x01``, ``\\001``: NUL, a control byte other than TAB, LF, CR, or
  DEL), inside a class or not: there the dot stands for a byte of a binary field, which is LF
  once in 256 times, and the line then fails. In text patterns a dot that stops at the end of
  the line is the usual intent, so nothing is said; nor for ``.*`` and ``.+`` (a run of text up
  to the end of a line), nor for bytes named by letter (``\\e``, ``\\cX``: terminal control
  in text banners).
  The rule reads the pattern's tree with positions: what ``\\Q...\\E`` quotes and comments are
  no escapes and no dots.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeGuard

from sigc.analyze import AnalyzedMatch
from sigc.diagnostics import Diagnostic, Severity
from sigc.lint.base import LintRun, MatchRule, parsed
from sigc.regex.tree import ByteSet, Greed, Group, GroupKind, Literal, Node, Repeat


class CatastrophicBacktracking(MatchRule):
    """A repeated item that can split the same bytes between its iterations in many ways."""

    code = "SIG503"
    severity = Severity.WARNING
    summary = "nested quantifiers that can backtrack catastrophically"

    def check_match(self, m: AnalyzedMatch, run: LintRun) -> Iterator[Diagnostic]:
        if not m.pattern.nested_quantifier or not parsed(m):
            return
        tree = run.tree(m)
        if tree is None:
            return
        offset = _ambiguous_repeat(tree.branches, trailing=True)
        if offset is not None:
            yield self.diag("a repeated group whose iterations can share the same bytes in many ways, "
                            "followed by something that can fail: backtracking is exponential on a long "
                            "non-matching response (Nmap gives up at its match limit, the line silently fails); "
                            "make the parts of each iteration exclusive or use an atomic group (?>…)",
                            m.match.pattern_location.shifted(offset))


def _ambiguous_repeat(branches: Sequence[Sequence[Node]], *, trailing: bool) -> int | None:
    """The offset of the first ambiguous repeat in these branches, if one can still fail.

    ``trailing``: nothing after these branches can fail (the end of the pattern)."""
    for branch in branches:
        for i, node in enumerate(branch):
            last = trailing and i == len(branch) - 1
            found = _ambiguous_node(node, trailing=last)
            if found is not None:
                return found
    return None


def _ambiguous_node(node: Node, *, trailing: bool) -> int | None:
    if isinstance(node, Group):
        if node.kind is GroupKind.ATOMIC or node.kind.is_lookaround:
            return None
        return _ambiguous_repeat(node.branches, trailing=trailing)
    if not isinstance(node, Repeat) or node.greed is Greed.POSSESSIVE:
        return None
    repeats = node.max is None or node.max > 1
    if repeats and not trailing and _iterations_ambiguous(node.item):
        return node.item.offset if isinstance(node.item, Group) else 0
    return _ambiguous_node(node.item, trailing=trailing)


def _iterations_ambiguous(item: Node) -> bool:
    if isinstance(item, Group):
        if item.kind is GroupKind.ATOMIC or item.kind.is_lookaround:
            return False
        return any(_sequence_ambiguous(branch) for branch in item.branches)
    return _sequence_ambiguous((item,))


def _sequence_ambiguous(items: Sequence[Node]) -> bool:
    """Does the sequence hold an unbounded repeat of one byte set S whose neighbours can all
    be matched with bytes of S (or by nothing)? Then ``S{n}`` splits across iterations."""
    for i, node in enumerate(items):
        if isinstance(node, Repeat) and node.max is None and node.greed is not Greed.POSSESSIVE:
            mask = _byte_mask(node.item)
            if mask and all(_within(other, mask) for j, other in enumerate(items) if j != i):
                return True
    return False


def _byte_mask(node: Node) -> int:
    if isinstance(node, ByteSet):
        return node.mask
    if isinstance(node, Literal) and len(node.data) == 1:
        return 1 << node.data[0]
    return 0


def _within(node: Node, mask: int) -> bool:
    """Can ``node`` match a string made only of bytes in ``mask``? Unknown: no (no report)."""
    if isinstance(node, Literal):
        return all(mask >> b & 1 or mask >> _swapcase(b) & 1 for b in node.data)
    if isinstance(node, ByteSet):
        return bool(node.mask & mask)
    if isinstance(node, Repeat):
        return node.min == 0 or _within(node.item, mask)
    if isinstance(node, Group) and not node.kind.is_lookaround:
        return any(all(_within(n, mask) for n in branch) for branch in node.branches)
    return False


def _swapcase(b: int) -> int:
    c = bytes([b])
    return c.swapcase()[0] if c.isalpha() else b


# NUL, the control bytes other than TAB, LF and CR, and DEL: bytes text does not hold.
_BINARY = frozenset(range(0x20)) - {0x09, 0x0A, 0x0D} | {0x7F}
_NUMBERS = frozenset(b"0123456789xo")  # what follows the backslash of \0, \x01, \001, \o{1}


def binary_escape(branches: Iterable[Sequence[Node]], pattern: bytes) -> bytes | None:
    """The first escape that spells a binary byte in numbers (``\\0``, ``\\x01``, ``\\177``),
    inside a class or not, as written; None if there is none. Reads a tree with positions
    (:func:`sigc.regex.analysis.parse_pattern`), where each escape is a literal of its own."""
    for node in _written(branches):
        if type(node) is Literal and node.span is not None and len(node.data) == 1 and node.data[0] in _BINARY:
            start, end = node.span
            if end - start > 1 and pattern[start + 1] in _NUMBERS:
                return pattern[start:end]
    return None


def dot_offsets(branches: Iterable[Sequence[Node]]) -> Iterator[int]:
    """Where each ``.`` that stands for one byte is written: every ``.`` but the item of ``*``
    or ``+`` (or ``{0,}``, ``{1,}``), which stands for a run of bytes (text up to the end of a
    line). Reads a tree with positions."""
    for branch in branches:
        for node in branch:
            if _is_dot(node) and node.span is not None:
                yield node.span[0]
            elif isinstance(node, Repeat) and not (_is_dot(node.item) and node.max is None and node.min <= 1):
                yield from dot_offsets(((node.item,),))
            elif isinstance(node, Group):
                yield from dot_offsets(node.branches)


def _is_dot(node: Node) -> TypeGuard[ByteSet]:
    return type(node) is ByteSet and node.text == b"."


def _written(branches: Iterable[Sequence[Node]]) -> Iterator[Node]:
    """Every node, in the order they are written: a class's members and a range's ends too."""
    for branch in branches:
        for node in branch:
            yield node
            if isinstance(node, Group):
                yield from _written(node.branches)
            elif isinstance(node, Repeat):
                yield from _written(((node.item,),))
            elif isinstance(node, ByteSet) and node.members:
                yield from _written((node.members,))


class DotOnBinary(MatchRule):
    """``.`` does not match LF without ``s``: on binary data the line fails now and then."""

    code = "SIG504"
    severity = Severity.WARNING
    summary = "'.' without the s flag in a pattern on binary data (it never matches byte 0x0a)"

    def check_match(self, m: AnalyzedMatch, run: LintRun) -> Iterator[Diagnostic]:
        if not m.pattern.dot_without_dotall or not parsed(m):
            return
        tree = run.tree(m, positions=True)
        if tree is None:
            return
        escape = binary_escape(tree.branches, m.match.pattern)
        offset = next(dot_offsets(tree.branches), None)
        if escape is None or offset is None:
            return
        yield self.diag(f"'.' without the s flag never matches byte 0x0a, yet this pattern reads binary data "
                        f"(it spells {escape.decode('latin-1')}): when a length or ID byte is 0x0a the line fails; "
                        "add the s flag (or write [^\\n] if that is meant)",
                        m.match.pattern_location.shifted(offset))


class Unanchored(MatchRule):
    """Nmap searches the whole response; a pattern without ``^`` may match anywhere in it."""

    code = "SIG505"
    severity = Severity.INFO
    summary = "pattern not anchored with ^ (it may match anywhere in the response)"

    def check_match(self, m: AnalyzedMatch, run: LintRun) -> Iterator[Diagnostic]:
        if parsed(m) and not m.pattern.anchored:
            yield self.diag("pattern does not start with '^': Nmap searches the whole response, so it may "
                            "match in the middle of another service's reply (and it is slower to reject)",
                            m.match.pattern_location)
