"""The tree a PCRE pattern parses to: node types (immutable, shared where common), and the byte
sets of PCRE's default "C" tables as 256-bit masks (bit ``b`` set: byte ``b`` is in the set),
with the helpers that fold and spell them."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class GroupKind(enum.Enum):
    CAPTURE = "("
    GROUP = "(?:"
    ATOMIC = "(?>"
    LOOKAHEAD = "(?="
    NEGATIVE_LOOKAHEAD = "(?!"
    LOOKBEHIND = "(?<="
    NEGATIVE_LOOKBEHIND = "(?<!"

    @property
    def is_lookaround(self) -> bool:
        return self in _LOOKAROUNDS

    @property
    def is_lookbehind(self) -> bool:
        return self is GroupKind.LOOKBEHIND or self is GroupKind.NEGATIVE_LOOKBEHIND


_LOOKAROUNDS = frozenset({GroupKind.LOOKAHEAD, GroupKind.NEGATIVE_LOOKAHEAD,
                          GroupKind.LOOKBEHIND, GroupKind.NEGATIVE_LOOKBEHIND})


class Greed(enum.Enum):
    GREEDY = ""
    LAZY = "?"
    POSSESSIVE = "+"


class AnchorKind(enum.Enum):
    """Zero-width assertions; the value is the ``regex`` spelling (PCRE's ``\\Z`` needs a
    lookahead there, because Python's ``\\Z`` is PCRE's ``\\z``; ``\\B`` holds on an empty
    subject for PCRE and ``regex`` but not for ``re`` before Python 3.14, hence ``\\A\\Z``)."""

    START = "^"
    END = "$"
    NOTHING = ""  # (?): an option setting that sets nothing
    SUBJECT_START = "\\A"
    END_OR_FINAL_NEWLINE = "(?=\\n?\\Z)"
    SUBJECT_END = "\\Z"
    WORD_BOUNDARY = "\\b"
    NOT_WORD_BOUNDARY = "(?:\\B|\\A\\Z)"
    MATCH_START = "\\G"


START_ANCHORS = frozenset({AnchorKind.START, AnchorKind.SUBJECT_START, AnchorKind.MATCH_START})


Span = tuple[int, int]  # where a node is written in the pattern: [start, end) byte offsets


@dataclass(frozen=True, slots=True)
class Literal:
    """Bytes matched one after the other (case-insensitively if the pattern is caseless).

    ``span``: where it is written, in a tree parsed with ``positions``
    (:func:`sigc.regex.analysis.parse_pattern`), else None (and in the group ``\\R`` stands
    for, which is not written). There every escape is a literal of its own, and a literal of
    several bytes is written byte for byte (plain bytes, or the inside of ``\\Q...\\E``)."""

    data: bytes
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class ByteSet:
    """One byte out of ``mask`` (bit ``b`` set: byte ``b`` matches, flags already applied);
    ``text`` is its ``regex`` spelling (``.``, ``\\d``, ``[^\\r\\n]`` ...); ``code`` the bytes PCRE1
    compiles it to (see :func:`sigc.regex.size.compiled_length`).

    With ``positions`` (:func:`sigc.regex.analysis.parse_pattern`), ``span`` is where it is
    written, and a class (``[...]``) lists its items in ``members``, in order: a
    :class:`Literal` for each byte it names, a ByteSet for each escape such as ``\\d``, POSIX
    class or range (a range's two ends are its members). Without, None and () (and in the
    group ``\\R`` stands for)."""

    mask: int
    text: bytes
    code: int = 1  # size._TYPE_CODE for '.', \d and the other escapes, CHAR_CODE or CLASS_CODE for [...]
    span: Span | None = None
    members: tuple[Literal | ByteSet, ...] = ()


@dataclass(frozen=True, slots=True)
class Anchor:
    kind: AnchorKind


@dataclass(frozen=True, slots=True)
class Group:
    kind: GroupKind
    branches: tuple[tuple[Node, ...], ...]
    index: int  # capture number, 0 unless CAPTURE
    offset: int


@dataclass(frozen=True, slots=True)
class Repeat:
    item: Node
    min: int
    max: int | None  # None: unbounded
    greed: Greed


@dataclass(frozen=True, slots=True)
class Backref:
    number: int
    offset: int


@dataclass(frozen=True, slots=True)
class Unsupported:
    """A construct with no faithful translation; it stands for 'anything' in the analysis."""

    text: bytes
    offset: int
    repeatable: bool = True  # False for option settings, verbs and \K: PCRE refuses a quantifier


Node = Literal | ByteSet | Anchor | Group | Repeat | Backref | Unsupported
Branches = tuple[tuple[Node, ...], ...]


@dataclass(frozen=True, slots=True)
class Tree:
    """A parsed pattern: its top-level alternatives and its number of capturing groups."""

    branches: Branches
    groups: int
    inline_options: bool  # (?i) and friends: the analysis cannot trust the flags


# --------------------------------------------------------------------------------------------
# Byte sets (PCRE's default "C" tables; PCRE >= 8.34 puts VT in \s)
# --------------------------------------------------------------------------------------------


def mask_of(data: Iterable[int]) -> int:
    mask = 0
    for b in data:
        mask |= 1 << b
    return mask


def span(lo: int, hi: int) -> int:
    return ((1 << (hi - lo + 1)) - 1) << lo


ALL = (1 << 256) - 1
NL = 1 << 0x0A
DIGIT = span(0x30, 0x39)
UPPER = span(0x41, 0x5A)
LOWER = span(0x61, 0x7A)
ALPHA = UPPER | LOWER
WORD = ALPHA | DIGIT | 1 << 0x5F
SPACE = mask_of(b"\t\n\x0b\x0c\r ")
HSPACE = mask_of(b"\t \xa0")
VSPACE = mask_of(b"\n\x0b\x0c\r\x85")
GRAPH = span(0x21, 0x7E)


def fold(mask: int) -> int:
    """Close a set under ASCII case folding (PCRE without UTF folds nothing else)."""
    return mask | (mask & UPPER) << 32 | (mask & LOWER) >> 32


def class_byte(b: int) -> bytes:
    return _CLASS_BYTES[b]


def explicit(mask: int) -> bytes:
    """Class items (no brackets) listing ``mask`` as byte ranges."""
    out: list[bytes] = []
    b = 0
    while b < 256:
        if not mask >> b & 1:
            b += 1
            continue
        end = b
        while end + 1 < 256 and mask >> (end + 1) & 1:
            end += 1
        out.append(class_byte(b) if end == b else class_byte(b) + b"-" + class_byte(end))
        b = end + 1
    return b"".join(out)


def literal_spelling(b: int, special: bytes) -> bytes:
    if b in b"\n\r\t":
        return {10: b"\\n", 13: b"\\r", 9: b"\\t"}[b]
    if 0x20 <= b < 0x7F:
        return b"\\" + bytes([b]) if b in special else bytes([b])
    return b"\\x%02x" % b


_SPECIAL_IN = bytes(c for c in range(0x21, 0x7F) if not chr(c).isalnum() and c != 0x5F)
_CLASS_BYTES = [literal_spelling(b, _SPECIAL_IN) for b in range(256)]
# \R: nodes are immutable, and this one is shared (the PCRE1 size model knows it by identity).
NEWLINE_SEQUENCE = Group(GroupKind.ATOMIC, ((Literal(b"\r\n"),), (ByteSet(VSPACE, b"[" + explicit(VSPACE) + b"]"),)), 0, 0)
