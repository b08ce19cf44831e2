"""How large a pattern compiles, before anything compiles it: the length PCRE1 counts for it
(:func:`compiled_length`; Nmap 7.93 refuses more than 64 KiB) and the copies the ``regex``
module would build (:func:`expanded_length`; sigc refuses what ``regex`` cannot compile in
bounded time). The parser refuses a pattern over either limit (SIG208, SIG210)."""

from __future__ import annotations

from sigc.regex.tree import (
    NEWLINE_SEQUENCE,
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
)

# --------------------------------------------------------------------------------------------
# Compiled length: PCRE1 refuses patterns whose code exceeds 64 KiB
# --------------------------------------------------------------------------------------------

# PCRE1 8.39 as Nmap 7.93 links it (LINK_SIZE 2) counts, in its first pass over a pattern, the
# bytes of code it will compile, and refuses the pattern ("regular expression is too large")
# when they exceed MAX_PATTERN_SIZE. A quantifier with a count copies a group that many times,
# so a short pattern can come to gigabytes: counting first keeps every later step (the
# translation, the analysis, regex.compile in lint and in the runtime) away from such patterns.
# The figures are PCRE1's opcode lengths; pcre_fullinfo(PCRE_INFO_SIZE) minus its 64-byte
# header gives the same count (tests/compiler/test_pcre_size.py compares them).
PCRE1_MAX_LENGTH = 1 << 16
_LINK = 2  # bytes of a group's link
_BRACKET = 1 + _LINK  # OP_BRA, OP_KET, OP_ALT, OP_ONCE, OP_ASSERT... and their link
_CAPTURE = _BRACKET + 2  # OP_CBRA also holds the group number
_REVERSE = 1 + _LINK  # OP_REVERSE, at the start of each lookbehind alternative
_COUNT = 2  # a repeat count
_TYPE_CODE = 1  # an opcode alone: '.', \d \s \w and their negations, \h \v \R \N \C
CHAR_CODE = 2  # an opcode and a byte: a literal byte, a class of one byte, its negation
CLASS_CODE = 1 + 32  # OP_CLASS and a bitmap of the 256 bytes
_REF_CODE = 1 + 2  # OP_REF and the group number
_OUTER = _BRACKET + _BRACKET + 1  # the pattern's own OP_BRA and OP_KET, and OP_END
_TOO_LONG = PCRE1_MAX_LENGTH + 1  # every count stops here: beyond, the verdict is the same
# Without copies, no construct compiles to more than 9 bytes per byte of pattern (a class such
# as [ab] is 33), so a pattern this short cannot be too large and the parser skips the count.
SHORT = 4000


def compiled_length(tree: Tree, pattern: bytes) -> int | None:
    """The length PCRE1 counts for ``tree`` (parsed from ``pattern``), at most :data:`_TOO_LONG`
    (the pattern is then too large); None when the tree holds a construct sigc does not
    translate (it is refused anyway)."""
    try:
        body = _Lengths(pattern).branches(tree.branches)
    except _NoModel:
        return None
    return min(_OUTER + body, _TOO_LONG)


class _NoModel(Exception):
    """An Unsupported node: its compiled length is not modelled."""


class _Lengths:
    """PCRE1's first-pass count, node by node (``compile_branch`` and ``compile_regex``)."""

    def __init__(self, pattern: bytes) -> None:
        self.pattern = pattern

    def branches(self, branches: Branches, per_branch: int = 0) -> int:
        """Alternatives joined by OP_ALT, each with ``per_branch`` more bytes (OP_REVERSE)."""
        total = _BRACKET * (len(branches) - 1)
        for branch in branches:
            total += per_branch
            for node in branch:
                total += self.node(node)
        return min(total, _TOO_LONG)

    def node(self, node: Node) -> int:
        if type(node) is Literal:
            return CHAR_CODE * len(node.data)
        if type(node) is ByteSet:
            return node.code
        if type(node) is Anchor:
            return 0 if node.kind is AnchorKind.NOTHING else 1
        if type(node) is Backref:
            return _REF_CODE
        if type(node) is Group:
            return self.group(node)
        if type(node) is Repeat:
            return self.repeat(node)
        raise _NoModel

    def group(self, group: Group) -> int:
        if group is NEWLINE_SEQUENCE:  # \R is OP_ANYNL
            return _TYPE_CODE
        if self.pattern.startswith(b"(?!)", group.offset):  # written so (not "(?!(?#))"): OP_FAIL
            return 1
        opening = _CAPTURE if group.kind is GroupKind.CAPTURE else _BRACKET
        reverse = _REVERSE if group.kind.is_lookbehind else 0
        total = opening + self.branches(group.branches, reverse) + _BRACKET
        if group.kind is GroupKind.CAPTURE and _refers_to(group.branches, group.index):
            total += 2 * _BRACKET  # a group its own backreference is inside is made atomic: OP_ONCE
        return min(total, _TOO_LONG)

    def repeat(self, node: Repeat) -> int:
        """A quantified item (``compile_branch``, label REPEAT)."""
        item, low, high = node.item, node.min, node.max
        possessive = node.greed is Greed.POSSESSIVE
        if type(item) is Group and item is not NEWLINE_SEQUENCE:
            return _group_repeat_length(self.group(item), low, high, possessive)
        base = self.node(item)
        if type(item) is Backref or (type(item) is ByteSet and item.code == CLASS_CODE):
            if high == 0:
                return base  # dropped, but the first pass has counted it
            simple = (low, high) in ((0, None), (1, None), (0, 1))
            wrapped = type(item) is Backref and possessive  # OP_REF has no possessive form: OP_ONCE
            return base + (1 if simple else 1 + 2 * _COUNT) + (2 * _BRACKET if wrapped else 0)
        total = _single_repeat_length(base, low, high)  # a byte, or a type such as \d
        if possessive and base == _TYPE_CODE and low == 1 and high is not None and high > 1:
            total += 2 * _BRACKET  # {1,n}+ keeps the type's own opcode, which has no possessive form
        return total


def _refers_to(branches: Branches, index: int) -> bool:
    """Does a backreference to group ``index`` occur in ``branches``, at any depth?"""
    for branch in branches:
        for node in branch:
            while type(node) is Repeat:
                node = node.item
            if (type(node) is Backref and node.number == index) or (
                    type(node) is Group and _refers_to(node.branches, index)):
                return True
    return False


def _single_repeat_length(base: int, low: int, high: int | None) -> int:
    """OP_STAR, OP_UPTO, OP_EXACT... each followed by the repeated byte or type (possessive ones
    have opcodes of their own, of the same length). The first pass has already counted the
    item itself (``base``), and never counts less."""
    star = 2  # the opcode and the byte
    upto = 1 + _COUNT + 1
    if high == 0:
        return base
    if low == 0:
        return max(base, star if high is None or high == 1 else upto)
    if low == 1:
        if high == 1:
            return base
        return max(base, star) if high is None else base + upto  # the item stays, OP_UPTO after it
    if high == low:
        return upto  # OP_EXACT
    return upto + (star if high is None or high - low == 1 else upto)


def _group_repeat_length(group: int, low: int, high: int | None, possessive: bool) -> int:
    """A repeated group is copied: ``low`` times, then ``high - low`` optional copies, each
    nested in an OP_BRAZERO and a bracket pair; a possessive one is wrapped in OP_ONCE."""
    nested = group + 1 + 2 * _BRACKET  # an optional copy: OP_BRAZERO, OP_BRA, the copy, OP_KET
    if low == 0:
        total = group + 1 if high is None or high <= 1 else group + 1 + (high - 1) * nested
    else:
        total = low * group
        if high is not None and high > low:
            total += (high - low) * nested - 2 * _BRACKET
    if possessive and high != 0 and (high is not None or low >= 2):
        total += 2 * _BRACKET
    return min(total, _TOO_LONG)


# --------------------------------------------------------------------------------------------
# Expanded length: what regex.compile builds
# --------------------------------------------------------------------------------------------

# The regex module compiles an item repeated at least n times into n copies of it, nested counts
# multiplying, and its compile time doubles or more with each level of quantified groups nested
# in one another, counts or not. Patterns that fit in PCRE1's 64 KiB can so take regex minutes
# and more memory than a machine has (figures in docs/benchmarks.md). The count below follows
# both: a repeat weighs its item times its minimum count, plus one more time for a group. The
# limit is a hundred times the heaviest real pattern.
REGEX_MAX_EXPANSION = 100_000


def expanded_length(tree: Tree) -> int:
    """What ``regex`` builds for ``tree``, counted: each node one, a literal one per byte, a
    repeat its item times its minimum count (at least once), a repeated group once more (at
    most :data:`REGEX_MAX_EXPANSION` + 1)."""
    return _expanded(tree.branches)


def _expanded(branches: Branches) -> int:
    total = 0
    for branch in branches:
        for node in branch:
            total += _expanded_node(node)
    return min(total, REGEX_MAX_EXPANSION + 1)


def _expanded_node(node: Node) -> int:
    if type(node) is Literal:
        return len(node.data)
    if type(node) is Group:
        return 1 + _expanded(node.branches)
    if type(node) is Repeat:
        copies = max(1, node.min) + (1 if type(node.item) is Group else 0)
        return min(1 + copies * _expanded_node(node.item), REGEX_MAX_EXPANSION + 1)
    return 1
