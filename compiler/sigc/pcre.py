"""Nmap's PCRE patterns: parse them, translate them to the ``regex`` module's dialect, analyse them.

Nmap 7.93 compiles ``match`` patterns with PCRE1 8.39 (HEAD: PCRE2 10.47), without UTF, with
CASELESS for ``i`` and DOTALL for ``s``, and searches the whole byte buffer from offset 0. This
module reads a pattern with PCRE1's rules into a small tree (:func:`parse_pattern`), writes the
tree back in the syntax of ``regex`` (bytes, V0, never UNICODE; see :func:`regex_flags`) and
derives what the runtime needs to skip hopeless patterns cheaply (:func:`analyze_pattern`).

Prefilter contract (``PatternAnalysis.prefix`` / ``required`` / ``first_bytes``): if the pattern
matches ``subject``, then, with ``s = subject.lower()`` when the pattern is caseless (ASCII folding
only, like PCRE without UTF) and ``s = subject`` otherwise, ``s.startswith(prefix)`` holds for an
anchored pattern, ``prefix in s`` holds for any pattern, every ``r in required`` is in ``s``, and
``subject[0] in first_bytes`` when ``first_bytes`` is not None (``subject`` is then not empty).
``first_bytes`` is left None where an anchored ``prefix`` says more (its first byte).

Problems are data (:class:`PatternProblem`, codes in :data:`CODES`), never exceptions. Where PCRE2
(Nmap HEAD) reads a construct differently from PCRE1, a warning says so; the translation follows
PCRE1, the 7.93 baseline. Nothing here compiles a regex per call except the rare patterns whose
translation could still be refused by ``regex`` (backreferences, lookbehinds).
"""

from __future__ import annotations

import enum
import functools
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import regex  # type: ignore[import-untyped]  # no stubs for regex in the venv

from sigc.diagnostics import Severity

CODES: dict[str, tuple[Severity, str]] = {
    "SIG201": (Severity.ERROR, "PCRE rejects the pattern (syntax error)"),
    "SIG202": (Severity.ERROR, "construct sigc cannot translate faithfully (whether or not PCRE accepts it)"),
    "SIG203": (Severity.WARNING, "brace is a literal in PCRE1 (Nmap 7.93) but a quantifier in PCRE2 >= 10.43 (Nmap HEAD)"),
    "SIG204": (Severity.ERROR, "the translated pattern does not compile with the regex module (a sigc bug)"),
    "SIG205": (Severity.WARNING, "PCRE2 (Nmap HEAD) rejects or reads differently what PCRE1 (Nmap 7.93) accepts"),
    "SIG206": (Severity.WARNING, "pattern can match the empty string: Nmap HEAD refuses it, 7.93 matches every response"),
    "SIG207": (Severity.ERROR, "lookbehind is not fixed-length: PCRE1 (Nmap 7.93) refuses it"),
    "SIG208": (Severity.ERROR, "compiled pattern larger than PCRE1's 64 KiB: Nmap 7.93 refuses it (too large)"),
    "SIG209": (Severity.ERROR, "groups nested too deeply: PCRE1 refuses more than 250 levels, sigc more than 100"),
    "SIG210": (Severity.ERROR, "repeats expand beyond what the regex module compiles in bounded time (sigc refuses it)"),
}


@dataclass(frozen=True, slots=True)
class PatternProblem:
    """One finding inside a pattern; ``offset`` is the byte offset of the construct in it."""

    code: str
    severity: Severity
    message: str
    offset: int


@dataclass(frozen=True, slots=True)
class PatternAnalysis:
    """A pattern, its translation for ``regex`` and what a prefilter may rely on.

    When the pattern does not parse (SIG201), every field after ``problems`` is neutral
    (0, False, b"" or empty). Literal fields are lowercased when the pattern is caseless.
    """

    source: bytes
    translated: bytes | None
    problems: tuple[PatternProblem, ...]
    groups: int
    anchored: bool
    prefix: bytes
    required: tuple[bytes, ...]
    min_length: int
    can_match_empty: bool
    nested_quantifier: bool
    dot_without_dotall: bool
    backrefs: bool
    head_length: int  # subject bytes of the literal head that ``prefix`` proves (see split_head)
    rest_offset: int  # where the pattern for the rest of the subject begins in ``translated``
    first_bytes: bytes | None  # what a match starts with (see first_bytes); None: unknown or prefix says

    def __reduce__(self) -> tuple[type[PatternAnalysis], tuple[Any, ...]]:
        """Pickle as the constructor's arguments: a forked child sends thousands of analyses
        back (:mod:`sigc.halves`), and the dataclass default for frozen slotted classes is a
        Python loop over ``fields()`` per object, both ways (docs/benchmarks.md, "The analysis
        on two cores")."""
        return PatternAnalysis, _ANALYSIS_FIELDS(self)


_ANALYSIS_FIELDS = operator.attrgetter(*PatternAnalysis.__match_args__)


def regex_flags(*, caseless: bool, dotall: bool) -> int:
    """The ``regex`` flags under which ``PatternAnalysis.translated`` means what Nmap means."""
    flags = int(regex.V0)
    if caseless:
        flags |= int(regex.IGNORECASE)
    if dotall:
        flags |= int(regex.DOTALL)
    return flags


# --------------------------------------------------------------------------------------------
# The tree
# --------------------------------------------------------------------------------------------


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


_START_ANCHORS = frozenset({AnchorKind.START, AnchorKind.SUBJECT_START, AnchorKind.MATCH_START})


Span = tuple[int, int]  # where a node is written in the pattern: [start, end) byte offsets


@dataclass(frozen=True, slots=True)
class Literal:
    """Bytes matched one after the other (case-insensitively if the pattern is caseless).

    ``span``: where it is written, in a tree parsed with ``positions`` (:func:`parse_pattern`),
    else None (and in the group ``\\R`` stands for, which is not written). There every escape
    is a literal of its own, and a literal of several bytes is written byte for byte (plain
    bytes, or the inside of ``\\Q...\\E``)."""

    data: bytes
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class ByteSet:
    """One byte out of ``mask`` (bit ``b`` set: byte ``b`` matches, flags already applied);
    ``text`` is its ``regex`` spelling (``.``, ``\\d``, ``[^\\r\\n]`` ...); ``code`` the bytes PCRE1
    compiles it to (see :func:`compiled_length`).

    With ``positions`` (:func:`parse_pattern`), ``span`` is where it is written, and a class
    (``[...]``) lists its items in ``members``, in order: a :class:`Literal` for each byte it
    names, a ByteSet for each escape such as ``\\d``, POSIX class or range (a range's two ends
    are its members). Without, None and () (and in the group ``\\R`` stands for)."""

    mask: int
    text: bytes
    code: int = 1  # _TYPE_CODE for '.', \d and the other escapes, _CHAR_CODE or _CLASS_CODE for [...]
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


def _mask_of(data: Iterable[int]) -> int:
    mask = 0
    for b in data:
        mask |= 1 << b
    return mask


def _span(lo: int, hi: int) -> int:
    return ((1 << (hi - lo + 1)) - 1) << lo


_ALL = (1 << 256) - 1
_NL = 1 << 0x0A
_DIGIT = _span(0x30, 0x39)
_UPPER = _span(0x41, 0x5A)
_LOWER = _span(0x61, 0x7A)
_ALPHA = _UPPER | _LOWER
_WORD = _ALPHA | _DIGIT | 1 << 0x5F
_SPACE = _mask_of(b"\t\n\x0b\x0c\r ")
_HSPACE = _mask_of(b"\t \xa0")
_VSPACE = _mask_of(b"\n\x0b\x0c\r\x85")
_GRAPH = _span(0x21, 0x7E)

_POSIX: dict[bytes, int] = {
    b"alpha": _ALPHA, b"lower": _LOWER, b"upper": _UPPER, b"alnum": _ALPHA | _DIGIT,
    b"ascii": _span(0, 0x7F), b"blank": _mask_of(b"\t "), b"cntrl": _span(0, 0x1F) | 1 << 0x7F,
    b"digit": _DIGIT, b"graph": _GRAPH, b"print": _GRAPH | 1 << 0x20,
    b"punct": _GRAPH & ~(_ALPHA | _DIGIT), b"space": _SPACE, b"word": _WORD,
    b"xdigit": _DIGIT | _span(0x41, 0x46) | _span(0x61, 0x66),
}


def _fold(mask: int) -> int:
    """Close a set under ASCII case folding (PCRE without UTF folds nothing else)."""
    return mask | (mask & _UPPER) << 32 | (mask & _LOWER) >> 32


def _single_byte(mask: int, caseless: bool) -> int | None:
    """The one byte (lowercased if caseless) a set stands for, if it stands for one."""
    count = mask.bit_count()
    low = (mask & -mask).bit_length() - 1
    if count == 1 and not (caseless and (mask & _ALPHA)):
        return low
    if caseless and count == 2 and _fold(1 << low) == mask:
        return low + 32 if 0x41 <= low <= 0x5A else low
    return None


def _class_byte(b: int) -> bytes:
    return _CLASS_BYTES[b]


def _explicit(mask: int) -> bytes:
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
        out.append(_class_byte(b) if end == b else _class_byte(b) + b"-" + _class_byte(end))
        b = end + 1
    return b"".join(out)


def _literal_spelling(b: int, special: bytes) -> bytes:
    if b in b"\n\r\t":
        return {10: b"\\n", 13: b"\\r", 9: b"\\t"}[b]
    if 0x20 <= b < 0x7F:
        return b"\\" + bytes([b]) if b in special else bytes([b])
    return b"\\x%02x" % b


_SPECIAL_OUT = b"\\.^$*+?{}[]|()#"
_SPECIAL_IN = bytes(c for c in range(0x21, 0x7F) if not chr(c).isalnum() and c != 0x5F)
_OUT_BYTES = [_literal_spelling(b, _SPECIAL_OUT) for b in range(256)]
_CLASS_BYTES = [_literal_spelling(b, _SPECIAL_IN) for b in range(256)]

# Escapes that stand for a set: (mask, spelling outside a class, spelling inside a class).
_TYPES: dict[int, tuple[int, bytes, bytes]] = {
    ord("d"): (_DIGIT, b"\\d", b"\\d"),
    ord("D"): (_ALL & ~_DIGIT, b"\\D", b"\\D"),
    ord("w"): (_WORD, b"\\w", b"\\w"),
    ord("W"): (_ALL & ~_WORD, b"\\W", b"\\W"),
    ord("s"): (_SPACE, b"\\s", b"\\s"),
    ord("S"): (_ALL & ~_SPACE, b"\\S", b"\\S"),
    ord("h"): (_HSPACE, b"[" + _explicit(_HSPACE) + b"]", _explicit(_HSPACE)),
    ord("H"): (_ALL & ~_HSPACE, b"[^" + _explicit(_HSPACE) + b"]", _explicit(_ALL & ~_HSPACE)),
    ord("v"): (_VSPACE, b"[" + _explicit(_VSPACE) + b"]", _explicit(_VSPACE)),
    ord("V"): (_ALL & ~_VSPACE, b"[^" + _explicit(_VSPACE) + b"]", _explicit(_ALL & ~_VSPACE)),
}
_CHAR_ESCAPES = {ord("a"): 0x07, ord("e"): 0x1B, ord("f"): 0x0C, ord("n"): 0x0A, ord("r"): 0x0D, ord("t"): 0x09}
_ANCHOR_ESCAPES = {
    ord("b"): AnchorKind.WORD_BOUNDARY, ord("B"): AnchorKind.NOT_WORD_BOUNDARY,
    ord("A"): AnchorKind.SUBJECT_START, ord("Z"): AnchorKind.END_OR_FINAL_NEWLINE,
    ord("z"): AnchorKind.SUBJECT_END, ord("G"): AnchorKind.MATCH_START,
}
# Escapes that stand for an assertion or a sequence outside a class and for the letter itself
# inside one (PCRE1's check_escape gives them an escape code, which a range cannot end with).
_CLASS_LITERAL_ESCAPES = frozenset(b"ABCGKRXZzk")
# Letters PCRE1 reads as themselves after a backslash (PCRE2 refuses them).
_PLAIN_LETTERS = frozenset(b"FIJMOTYijmqy")
_UNSUPPORTED_ESCAPES = {ord("K"): "\\K (reset match start)", ord("X"): "\\X (extended grapheme cluster)"}
# Nodes are immutable: the common ones are shared.
_DOT = ByteSet(_ALL & ~_NL, b".")
_DOT_DOTALL = ByteSet(_ALL, b".")
_START = Anchor(AnchorKind.START)
_END = Anchor(AnchorKind.END)
# A class that takes no byte, spelled the one way regex reads so (it takes [^\s\S] for any byte).
_NO_BYTE = b"[^\\x00-\\xff]"
_NEWLINE_SEQUENCE = Group(GroupKind.ATOMIC, ((Literal(b"\r\n"),), (ByteSet(_VSPACE, b"[" + _explicit(_VSPACE) + b"]"),)), 0, 0)

# --------------------------------------------------------------------------------------------
# The parser
# --------------------------------------------------------------------------------------------

_MAX_DEPTH = 100  # PCRE allows 250; deeper nests are not worth a recursion limit risk
_PCRE1_MAX_DEPTH = 250  # PARENS_NEST_LIMIT
_MAX_REPEAT = 65535
# A run of bytes that stand for themselves: plain bytes, escaped punctuation, \n-style and \xHH.
# Plain bytes are taken a chunk at a time (``+`` inside): ``re`` repeats a byte class far faster
# than it tries the alternation byte by byte. Nothing follows the loop, so it never backtracks.
_RUN = re.compile(rb"(?:[^\\\[\](){}|.*+?^$]+|\\[^0-9A-Za-z]|\\[nrtfae]|\\x[0-9a-fA-F]{2}|\\0[0-7]{0,2})+")
_RUN_ESCAPE = re.compile(rb"(\\(?:x[0-9a-fA-F]{2}|0[0-7]{0,2}|[^x]))")  # capturing: split keeps the escapes
_COUNTED = re.compile(rb"\{(\d+)(,(\d*))?\}")  # PCRE1's only quantifier forms
_PCRE2_BRACE = re.compile(rb"\{ *(\d*) *(?:(,) *(\d*) *)?\}")  # PCRE2 10.43+: {,n} and spaces
_OPTION_LETTERS = frozenset(b"imsxXJU-")
_NAME = re.compile(rb"[A-Za-z_][A-Za-z0-9_]{0,31}")
_SPECIAL_START = frozenset(b"\\[](){}|.*+?^$")
_SIMPLE_QUANTIFIERS = {ord("*"): (0, None), ord("+"): (1, None), ord("?"): (0, 1)}
_BRACED_HEX = re.compile(rb"\{([0-9a-fA-F]+)\}")
_BRACED_OCTAL = re.compile(rb"\{([0-7]+)\}")
_G_REFERENCE = re.compile(rb"\\g(?:\{(-?)(\d+)\}|(-?)(\d+))")
_CALL_STARTS = frozenset(b"R&+0123456789CP")


class _Fail(Exception):
    """A syntax error: parsing stops, as PCRE's does."""

    def __init__(self, code: str, message: str, offset: int) -> None:
        super().__init__(message)
        self.problem = _problem(code, message, offset)


def _nesting(pattern: bytes) -> int:
    """How deep the parentheses of ``pattern`` nest, read without recursion (escapes, classes,
    ``\\Q...\\E`` and comments skipped roughly as PCRE skips them): for the message of a pattern
    nested too deeply to parse."""
    depth = deepest = 0
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == 0x5C:  # backslash
            if pattern.startswith(b"\\Q", i):
                end = pattern.find(b"\\E", i + 2)
                i = n if end < 0 else end + 2
                continue
            i += 2
        elif c == 0x5B:  # [ ... ]: a ] right after [ or [^ is a member
            i += 2 if pattern.startswith(b"[^", i) else 1
            i += 1 if i < n and pattern[i] == 0x5D else 0
            while i < n and pattern[i] != 0x5D:
                i += 2 if pattern[i] == 0x5C else 1
            i += 1
        elif pattern.startswith(b"(?#", i):
            end = pattern.find(b")", i)
            i = n if end < 0 else end + 1
        else:
            depth += c == 0x28
            depth -= c == 0x29 and depth > 0
            deepest = max(deepest, depth)
            i += 1
    return deepest


def _nesting_message(depth: int) -> str:
    if depth > _PCRE1_MAX_DEPTH:
        return (f"parentheses nested {depth} deep: PCRE1 (Nmap 7.93) refuses more than {_PCRE1_MAX_DEPTH} "
                "(parentheses are too deeply nested)")
    return (f"groups nested {depth} deep: sigc translates at most {_MAX_DEPTH} levels (PCRE1 accepts up to "
            f"{_PCRE1_MAX_DEPTH}, fewer when the levels hold classes: regular expression is too complicated)")


def _problem(code: str, message: str, offset: int) -> PatternProblem:
    return PatternProblem(code, CODES[code][0], message, offset)


def _show(data: bytes) -> str:
    """A pattern excerpt for a message as written in the file; other bytes as ``\\xHH``."""
    return "".join(chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}" for b in data)


class _Parser:
    """Recursive descent over PCRE1 8.39 syntax (non-UTF, no EXTENDED, no PCRE_EXTRA)."""

    def __init__(self, pattern: bytes, *, caseless: bool, dotall: bool, positions: bool = False) -> None:
        self.p = pattern
        self.n = len(pattern)
        self.pos = 0
        self.caseless = caseless
        self.dotall = dotall
        self.groups = 0
        self.depth = 0
        self.open_groups: list[int] = []
        self.problems: list[PatternProblem] = []
        self.backrefs: list[Backref] = []
        self.lookbehinds: list[Group] = []
        self.inline_options = False
        self.dot = False
        self.copies = False  # a group quantified with a count above 1 (PCRE1 copies it)
        self.counted = False  # a quantified group, or a minimum above 1: regex copies them
        self.positions = positions  # record where literals and byte sets are written (parse_pattern)
        self.members: list[Literal | ByteSet] | None = None  # the items of the class being read, with positions

    # -- structure ---------------------------------------------------------------------------

    def parse(self, *, sized: bool = True) -> Tree:
        """The tree; ``sized``: also refuse patterns too large to compile (:meth:`check_size`)."""
        branches = self.alternation()
        if self.pos < self.n:
            raise _Fail("SIG201", "unmatched closing parenthesis", self.pos)
        for ref in self.backrefs:
            if ref.number > self.groups:
                raise _Fail("SIG201", f"reference to non-existent group {ref.number} (the pattern has {self.groups})", ref.offset)
        for group in self.lookbehinds:
            self.check_lookbehind(group)
        tree = Tree(branches, self.groups, self.inline_options)
        if sized:
            self.check_size(tree)
        return tree

    def check_size(self, tree: Tree) -> None:
        """Refuse what PCRE1 refuses as too large (SIG208), then what the ``regex`` module would
        spend too long compiling (SIG210), before anything compiles the pattern."""
        if self.copies or self.n > _SHORT:
            length = compiled_length(tree, self.p)
            if length is not None and length > PCRE1_MAX_LENGTH:
                raise _Fail("SIG208", f"PCRE1 compiles this pattern to more than {PCRE1_MAX_LENGTH} bytes (a quantifier "
                            "with a count copies its group that many times): Nmap 7.93 refuses it as too large", 0)
        if self.counted:
            expanded = expanded_length(tree)
            if expanded > REGEX_MAX_EXPANSION:
                raise _Fail("SIG210", "the regex module copies repeated items and its compile time multiplies "
                            f"with each quantified group nested in another: this pattern comes to more than "
                            f"{REGEX_MAX_EXPANSION} items, seconds to hours of compiling (Nmap 7.93 accepts it; "
                            "sigc refuses it)", 0)

    def alternation(self) -> Branches:
        branches = [self.sequence()]
        while self.pos < self.n and self.p[self.pos] == 0x7C:  # |
            self.pos += 1
            branches.append(self.sequence())
        return tuple(branches)

    def sequence(self) -> tuple[Node, ...]:
        """Items up to ``|`` or ``)``. Hot loop: literal runs and two-byte escapes are
        handled inline, the rest by :meth:`atom` and :meth:`quantify`."""
        items: list[Node] = []
        p, n, pos, positions = self.p, self.n, self.pos, self.positions
        while pos < n:
            c = p[pos]
            if c == 0x5C:
                quick = _QUICK.get(p[pos:pos + 2])
                if quick is not None:
                    items.append(_placed(quick, pos, pos + 2) if positions else quick)
                    pos += 2
                    continue
            if c == 0x5C or c not in _SPECIAL_START:
                m = _RUN.match(p, pos)
                if m is not None and positions:
                    _place_run(items, m.group(), pos)
                    pos = m.end()
                    continue
                if m is not None:
                    _push(items, Literal(_decode_run(m.group())))
                    pos = m.end()
                    continue
            if c == 0x7C or c == 0x29:  # | )
                break
            self.pos = pos
            if c in _SIMPLE_QUANTIFIERS or (c == 0x7B and self.counted_repeat()):
                self.quantify(items)
            else:
                node = self.atom(c)
                if node is not None and positions:
                    items.append(_placed(node, pos, self.pos))
                elif node is not None:
                    _push(items, node)
            pos = self.pos
        self.pos = pos
        return tuple(items)

    def atom(self, c: int) -> Node | None:
        start = self.pos
        self.pos += 1
        if c == 0x2E:  # .
            self.dot = self.dot or not self.dotall
            return _DOT_DOTALL if self.dotall else _DOT
        if c == 0x5E:
            return _START
        if c == 0x24:
            return _END
        if c == 0x5B:
            return self.char_class(start)
        if c == 0x28:
            return self.group(start)
        if c == 0x5C:
            return self.escape(start)
        return Literal(bytes([c]))  # { } ] that are not syntax

    # -- quantifiers -------------------------------------------------------------------------

    def counted_repeat(self) -> bool:
        """Is the ``{`` at pos a quantifier for PCRE1? Warn where PCRE2 10.43+ thinks so."""
        if _COUNTED.match(self.p, self.pos):
            return True
        m = _PCRE2_BRACE.match(self.p, self.pos)
        if m and (m.group(1) or m.group(3)):
            text = _show(m.group())
            self.problems.append(_problem(
                "SIG203", f"'{text}' is a literal for PCRE1 (Nmap 7.93) but a quantifier for PCRE2 >= 10.43 "
                f"(Nmap HEAD); write '\\{text}' for a literal, or a quantifier without spaces and with a "
                "lower bound such as '{0,5}'", self.pos))
        return False

    def quantify(self, items: list[Node]) -> None:
        start = self.pos
        c = self.p[start]
        if c == 0x7B:
            low, high = self.read_counts(start)
        else:
            low, high = _SIMPLE_QUANTIFIERS[c]
            self.pos += 1
        greed = Greed.GREEDY
        if self.pos < self.n and self.p[self.pos] in b"+?":
            greed = Greed.POSSESSIVE if self.p[self.pos] == 0x2B else Greed.LAZY
            self.pos += 1
        item = self.repeatable(items, start)
        if type(item) is Group and (low > 1 or (high is not None and high > 1)):
            self.copies = True
        self.counted = self.counted or low > 1 or type(item) is Group
        items.append(Repeat(item, low, high, greed))

    def read_counts(self, start: int) -> tuple[int, int | None]:
        m = _COUNTED.match(self.p, start)
        assert m is not None
        self.pos = m.end()
        low = int(m.group(1))
        high: int | None = low if m.group(2) is None else (int(m.group(3)) if m.group(3) else None)
        if low > _MAX_REPEAT or (high is not None and high > _MAX_REPEAT):
            raise _Fail("SIG201", f"number too big in quantifier '{_show(m.group())}' (PCRE's limit is 65535)", start)
        if high is not None and high < low:
            raise _Fail("SIG201", f"numbers out of order in quantifier '{_show(m.group())}'", start)
        return low, high

    def repeatable(self, items: list[Node], offset: int) -> Node:
        """Take the item a quantifier at ``offset`` applies to off ``items``."""
        last = items.pop() if items else None
        if last is None or isinstance(last, (Anchor, Repeat)) or (isinstance(last, Unsupported) and not last.repeatable):
            raise _Fail("SIG201", "quantifier does not follow a repeatable item (nothing to repeat)", offset)
        if isinstance(last, Literal) and len(last.data) > 1:
            if last.span is None:
                items.append(Literal(last.data[:-1]))
                return Literal(last.data[-1:])
            start, end = last.span  # written byte for byte (see Literal)
            items.append(Literal(last.data[:-1], (start, end - 1)))
            return Literal(last.data[-1:], (end - 1, end))
        if isinstance(last, Group) and last.kind.is_lookaround:
            self.unsupported("a quantified assertion", offset)
        return last

    # -- groups ------------------------------------------------------------------------------

    def group(self, start: int) -> Node | None:
        c = self.at(start + 1)
        if c == 0x3F:  # ?
            return self.extended_group(start)
        if c == 0x2A and (self.at(start + 2) == 0x3A or 0x41 <= self.at(start + 2) <= 0x5A):
            verb = self.skip_to_close(start, "a backtracking verb or option setting (*...)")
            return Unsupported(verb.text, start, repeatable=False)
        self.groups += 1
        return self.group_body(GroupKind.CAPTURE, start, self.groups)

    def group_body(self, kind: GroupKind, start: int, index: int = 0) -> Group:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise _Fail("SIG209", _nesting_message(_nesting(self.p)), start)
        if index:
            self.open_groups.append(index)
        branches = self.alternation()
        if index:
            self.open_groups.pop()
        self.depth -= 1
        if self.pos >= self.n:
            raise _Fail("SIG201", "missing ) for the group opened here", start)
        self.pos += 1
        group = Group(kind, branches, index, start)
        if kind.is_lookbehind:
            self.lookbehinds.append(group)
        return group

    def extended_group(self, start: int) -> Node | None:
        """``(?`` ...: the four assertions, non-capturing and atomic groups are supported."""
        c, d = self.at(start + 2), self.at(start + 3)
        simple = _GROUP_HEADS.get(c) if c != 0x3C else _GROUP_HEADS.get(c << 8 | d)
        if simple is not None:
            self.pos = start + len(simple.value)
            return self.group_body(simple, start)
        if c == 0x23:  # (?# comment)
            end = self.p.find(b")", start)
            if end < 0:
                raise _Fail("SIG201", "missing ) after comment", start)
            self.pos = end + 1
            return None
        if c == 0x3C or c == 0x27 or (c == 0x50 and d == 0x3C):  # (?<name> (?'name' (?P<name>
            return self.named_group(start)
        if c == 0x29:  # (?) sets no option
            self.pos = start + 3
            return Anchor(AnchorKind.NOTHING)
        if c in _OPTION_LETTERS:
            return self.option_setting(start)
        if c == 0x7C:
            self.unsupported("a branch-reset group (?|...)", start)
            self.pos = start + 3
            return self.group_body(GroupKind.GROUP, start)
        if c == 0x28:
            return self.conditional(start)
        if c in _CALL_STARTS or (c == 0x2D and 0x30 <= d <= 0x39):
            return self.skip_to_close(start, "recursion, a subroutine call, a named reference or a callout")
        raise _Fail("SIG201", f"unrecognized character after (? : '{_show(self.p[start:start + 3])}'", start)

    def named_group(self, start: int) -> Node:
        head = 4 if self.at(start + 2) == 0x50 else 3
        m = _NAME.match(self.p, start + head)
        close = b"'" if self.at(start + 2) == 0x27 else b">"
        if m is None or self.p[m.end():m.end() + 1] != close:
            raise _Fail("SIG201", "syntax error in a group name", start)
        self.unsupported(f"named group '{_show(m.group())}' (use a plain capturing group)", start)
        self.pos = m.end() + 1
        self.groups += 1
        return self.group_body(GroupKind.CAPTURE, start, self.groups)

    def option_setting(self, start: int) -> Node:
        end = start + 2
        while end < self.n and self.p[end] in _OPTION_LETTERS:
            end += 1
        if end >= self.n or self.p[end] not in b"):":
            raise _Fail("SIG201", f"unrecognized character after (? or (?- in '{_show(self.p[start:end + 1])}'", start)
        self.inline_options = True
        self.unsupported(f"inline option setting '{_show(self.p[start:end + 1])}' (use the i or s flag after the pattern)", start)
        self.pos = end + 1
        if self.p[end] == 0x29:
            return Unsupported(self.p[start:self.pos], start, repeatable=False)
        self.group_body(GroupKind.GROUP, start)
        return Unsupported(self.p[start:self.pos], start)

    def conditional(self, start: int) -> Node:
        self.unsupported("a conditional group (?(...)...)", start)
        if self.at(start + 3) == 0x3F:  # the condition is an assertion
            self.pos = start + 2
            self.atom(0x28)
        else:
            end = self.p.find(b")", start + 3)
            if end < 0:
                raise _Fail("SIG201", "malformed condition after (?(", start)
            self.pos = end + 1
        self.group_body(GroupKind.GROUP, start)
        return Unsupported(self.p[start:self.pos], start)

    def skip_to_close(self, start: int, what: str) -> Unsupported:
        end = self.p.find(b")", start)
        if end < 0:
            raise _Fail("SIG201", "missing ) for the group opened here", start)
        self.unsupported(f"{what}: '{_show(self.p[start:end + 1])}'", start)
        self.pos = end + 1
        return Unsupported(self.p[start:end + 1], start)

    def check_lookbehind(self, group: Group) -> None:
        for branch in group.branches:
            if _fixed_length(branch) is None:
                self.problems.append(_problem(
                    "SIG207", "lookbehind alternative is not fixed-length: PCRE1 (Nmap 7.93) refuses it "
                    "(PCRE2 accepts bounded ones); split it into alternatives of fixed length", group.offset))
                return

    # -- escapes -----------------------------------------------------------------------------

    def escape(self, start: int) -> Node | None:
        """A backslash sequence outside a class; pos is just after the backslash."""
        if start + 1 >= self.n:
            raise _Fail("SIG201", "\\ at end of pattern", start)
        c = self.p[start + 1]
        self.pos = start + 2
        if c in _CHAR_ESCAPES:
            return Literal(bytes([_CHAR_ESCAPES[c]]))
        if c in _TYPES:
            mask, text, _ = _TYPES[c]
            return ByteSet(mask, text)
        if c in _ANCHOR_ESCAPES:
            return Anchor(_ANCHOR_ESCAPES[c])
        if 0x31 <= c <= 0x39:
            return self.digits(start)
        if not (0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A):
            return Literal(bytes([c]))  # \. \| \( \\ and any other non-alphanumeric byte
        return self.letter_escape(start, c)

    def letter_escape(self, start: int, c: int) -> Node | None:
        if c == 0x4E:  # \N: any byte but newline, whatever DOTALL says
            if self.at(self.pos) == 0x7B and not _COUNTED.match(self.p, self.pos):
                raise _Fail("SIG201", "PCRE does not support \\N{name}", start)
            return ByteSet(_ALL & ~_NL, b"[^\\n]")
        if c == 0x52:  # \R
            return _NEWLINE_SEQUENCE
        if c == 0x43:  # \C: one byte, newline included
            return ByteSet(_ALL, b"[\\x00-\\xff]")
        if c == 0x51:
            return self.quoted(start)
        if c == 0x45:  # \E outside \Q: ignored
            return None
        if c == 0x67:
            return self.g_reference(start)
        if c == 0x6B or c in b"pP" or c in _UNSUPPORTED_ESCAPES:
            return self.unsupported_escape(start, c)
        value = self.char_escape(start, c, in_class=False)
        return Literal(bytes([value]))

    def char_escape(self, start: int, c: int, *, in_class: bool) -> int:
        """Escapes that stand for one byte: ``\\0 \\x \\o \\c``, plain letters; errors."""
        if c == 0x30:
            return self.octal(start + 1, 3)
        if c == 0x78:
            return self.hex_escape(start)
        if c == 0x6F:
            return self.braced_number(start, 8)
        if c == 0x63:
            return self.control(start)
        if c in b"lLuU":
            raise _Fail("SIG201", f"PCRE does not support \\{chr(c)}", start)
        if in_class or c in _PLAIN_LETTERS:
            self.problems.append(_problem(
                "SIG205", f"'\\{chr(c)}' means '{chr(c)}' for PCRE1 (Nmap 7.93) but PCRE2 (Nmap HEAD) refuses it; "
                f"write '{chr(c)}'", start))
            return c
        raise AssertionError(f"unhandled escape \\{chr(c)}")  # pragma: no cover

    def digits(self, start: int) -> Node:
        """``\\1``..``\\9...``: PCRE1 reads a backreference if the decimal number is below 8 or
        no more than the groups opened so far, else octal (or a literal 8 or 9)."""
        end = start + 1
        while end < self.n and 0x30 <= self.p[end] <= 0x39:
            end += 1
        number = int(self.p[start + 1:end])
        first = self.p[start + 1]
        if number < 8 or number <= self.groups:
            self.pos = end
            return self.backref(number, start)
        if first >= 0x38:
            self.problems.append(_problem(
                "SIG205", f"'{_show(self.p[start:end])}' is the digit {chr(first)} for PCRE1 (Nmap 7.93) but a "
                "backreference for PCRE2 (Nmap HEAD); write the digit without a backslash", start))
            self.pos = start + 2
            return Literal(bytes([first]))
        return Literal(bytes([self.octal(start + 1, 3)]))

    def backref(self, number: int, start: int) -> Node:
        ref = Backref(number, start)
        self.backrefs.append(ref)
        if number in self.open_groups:
            self.unsupported(f"backreference \\{number} inside group {number} itself", start)
        return ref

    def octal(self, first: int, count: int) -> int:
        end = first
        while end < self.n and end - first < count and 0x30 <= self.p[end] <= 0x37:
            end += 1
        value = int(self.p[first:end], 8)
        if value > 0xFF:
            raise _Fail("SIG201", f"octal value '\\{_show(self.p[first:end])}' is greater than \\377", first - 1)
        self.pos = end
        return value

    def hex_escape(self, start: int) -> int:
        if self.at(start + 2) == 0x7B:
            return self.braced_number(start, 16)
        end = start + 2
        while end < self.n and end - start < 4 and self.p[end] in b"0123456789abcdefABCDEF":
            end += 1
        self.pos = end
        return int(self.p[start + 2:end] or b"0", 16)

    def braced_number(self, start: int, base: int) -> int:
        """``\\x{hh}`` and ``\\o{ooo}``: at most 0xff without UTF."""
        m = (_BRACED_HEX if base == 16 else _BRACED_OCTAL).match(self.p, start + 2)
        if m is None:
            raise _Fail("SIG201", f"malformed '{_show(self.p[start:start + 3])}...': expected digits and }}", start)
        value = int(m.group(1), base)
        if value > 0xFF:
            raise _Fail("SIG201", f"character value '{_show(self.p[start:m.end()])}' is too large without UTF mode (max 0xff)", start)
        self.pos = m.end()
        return value

    def control(self, start: int) -> int:
        if start + 2 >= self.n:
            raise _Fail("SIG201", "\\c at end of pattern", start)
        c = self.p[start + 2]
        if c > 0x7F:
            raise _Fail("SIG201", "\\c must be followed by an ASCII character", start)
        if c < 0x20 or c == 0x7F:
            self.problems.append(_problem(
                "SIG205", "PCRE2 (Nmap HEAD) wants a printable character after \\c; write the byte as \\xHH", start))
        self.pos = start + 3
        return (c - 32 if 0x61 <= c <= 0x7A else c) ^ 0x40

    def quoted(self, start: int) -> Node | None:
        end = self.p.find(b"\\E", start + 2)
        stop = self.n if end < 0 else end
        self.pos = self.n if end < 0 else end + 2
        if stop == start + 2:
            return None
        return Literal(self.p[start + 2:stop], (start + 2, stop) if self.positions else None)

    def g_reference(self, start: int) -> Node:
        """``\\g1 \\g{1} \\g{-1} \\g-1`` are backreferences; names and calls are not supported."""
        m = _G_REFERENCE.match(self.p, start)
        if m is None:
            if self.at_in(start + 2, b"<'{"):
                return self.unsupported_escape(start, 0x67)
            raise _Fail("SIG201", "\\g is not followed by a number, a braced number or a name", start)
        number = int(m.group(2) or m.group(4))
        self.pos = m.end()
        if number == 0:
            raise _Fail("SIG201", "a numbered reference must not be zero", start)
        if m.group(1) or m.group(3):
            if number > self.groups:
                raise _Fail("SIG201", f"relative reference '{_show(m.group())}' to a group before the first", start)
            number = self.groups - number + 1
        return self.backref(number, start)

    def unsupported_escape(self, start: int, c: int) -> Node:
        end = start + 2
        if c != 0x4B and c != 0x58 and self.at_in(end, b"{<'"):
            close = {0x7B: b"}", 0x3C: b">", 0x27: b"'"}[self.at(end)]
            found = self.p.find(close, end + 1)
            end = self.n if found < 0 else found + 1
        elif c in b"pP":
            end = min(end + 1, self.n)
        elif c == 0x6B:
            raise _Fail("SIG201", "\\k is not followed by a braced, angle-bracketed or quoted name", start)
        text = self.p[start:end]
        what = _UNSUPPORTED_ESCAPES.get(c, "Unicode property" if c in b"pP" else "named reference or subroutine call")
        self.unsupported(f"'{_show(text)}': {what} is not supported", start)
        self.pos = end
        return Unsupported(text, start, repeatable=c != 0x4B)

    # -- classes -----------------------------------------------------------------------------

    def char_class(self, start: int) -> Node:
        """``[...]``; pos is after the ``[``. Plain classes come from a cache (they repeat a lot
        in Nmap's files); the others, and any with a problem, are parsed here."""
        plain = None if self.positions else _PLAIN_CLASS.match(self.p, start)
        if plain is not None:
            node = _plain_class(plain.group(), self.caseless)
            if node is not None:
                self.pos = plain.end()
                return node
        return self.parse_class(start)

    def parse_class(self, start: int) -> Node:
        """PCRE rejects ``[:alpha:]`` outside a class."""
        if self.at_in(start + 1, b":.=") and _posix_end(self.p, start) is not None:
            raise _Fail("SIG201", "POSIX named classes are supported only within a class: write '[[:name:]]'", start)
        if self.p.startswith((b"[[:<:]]", b"[[:>:]]"), start):
            self.pos = start + 7
            return self.unsupported_node(start, "the word-boundary class")
        negated = self.at(self.pos) == 0x5E
        self.pos += int(negated)
        mask, items = 0, []
        if self.positions:
            self.members = []
        first = True
        while True:
            if self.pos >= self.n:
                raise _Fail("SIG201", "missing terminating ] for character class", start)
            if self.p[self.pos] == 0x5D and not first:
                self.pos += 1
                break
            first = False
            item_mask, text = self.class_item()
            mask |= item_mask
            items.append(text)
        # PCRE1 compiles a class of one character (or a one-character range) as that character,
        # or as "not that character" when negated; any other class as a 32-byte bitmap.
        code = _CHAR_CODE if len(items) == 1 and mask.bit_count() == 1 else _CLASS_CODE
        if self.caseless:
            mask = _fold(mask)
        members, self.members = tuple(self.members or ()), None
        if negated and mask == _ALL:
            return ByteSet(0, _NO_BYTE, members=members)
        body = b"".join(items)
        return ByteSet(_ALL & ~mask if negated else mask, (b"[^" if negated else b"[") + body + b"]", code,
                       members=members)

    def unsupported_node(self, start: int, what: str) -> Node:
        text = self.p[start:self.pos]
        self.unsupported(f"{what} '{_show(text)}'", start)
        return Unsupported(text, start)

    def class_item(self) -> tuple[int, bytes]:
        """One member, range, escape or POSIX class; returns its mask and its spelling."""
        start = self.pos
        low = self.class_atom()
        if isinstance(low, tuple):
            if self.at(self.pos) == 0x2D and self.at(self.pos + 1) not in (0x5D, -1):
                self.problems.append(_problem(
                    "SIG205", "a hyphen after a class escape is a literal for PCRE1 (Nmap 7.93) but PCRE2 "
                    "(Nmap HEAD) refuses it; write '\\-'", self.pos))
            if self.members is not None:
                self.members.append(ByteSet(*low, span=(start, self.pos)))
            return low
        if self.at(self.pos) != 0x2D or self.at(self.pos + 1) in (0x5D, -1):
            if self.members is not None:
                self.members.append(Literal(bytes([low]), (start, self.pos)))
            return 1 << low, _class_byte(low)
        low_end = self.pos
        self.pos += 1
        if self.at(self.pos) == 0x5C and self.at(self.pos + 1) in _CLASS_LITERAL_ESCAPES:
            # \X in a class is the letter X, except as a range's end: PCRE1 faults it there
            self.pos += 2
            raise _Fail("SIG201", f"invalid range in character class: '{_show(self.p[start:self.pos])}'", start)
        high_start = self.pos
        high = self.class_atom()
        if isinstance(high, tuple):
            raise _Fail("SIG201", f"invalid range in character class: '{_show(self.p[start:self.pos])}'", start)
        if high < low:
            raise _Fail("SIG201", f"range out of order in character class: '{_show(self.p[start:self.pos])}'", start)
        mask, text = _span(low, high), _class_byte(low) + b"-" + _class_byte(high)
        if self.members is not None:
            ends = (Literal(bytes([low]), (start, low_end)), Literal(bytes([high]), (high_start, self.pos)))
            self.members.append(ByteSet(mask, text, span=(start, self.pos), members=ends))
        return mask, text

    def class_atom(self) -> int | tuple[int, bytes]:
        """A byte, or (mask, spelling) for an escape or POSIX class."""
        start = self.pos
        c = self.p[start]
        if c == 0x5B and self.at_in(start + 1, b":.="):
            end = _posix_end(self.p, start)
            if end is not None:
                return self.posix_class(start, end)
        if c != 0x5C:
            self.pos += 1
            return c
        if start + 1 >= self.n:
            raise _Fail("SIG201", "\\ at end of pattern", start)
        return self.class_escape(start, self.p[start + 1])

    def class_escape(self, start: int, c: int) -> int | tuple[int, bytes]:
        self.pos = start + 2
        if c in _TYPES:
            mask, _, text = _TYPES[c]
            return mask, text
        if c in _CHAR_ESCAPES:
            return _CHAR_ESCAPES[c]
        if c == 0x62:  # \b is backspace in a class
            return 0x08
        if 0x30 <= c <= 0x37:
            return self.octal(start + 1, 3)
        if c in b"89":
            return c
        if c == 0x4E:
            raise _Fail("SIG201", "\\N is not supported in a class", start)
        if c in b"pPQE":
            raise _Fail("SIG202", f"'\\{chr(c)}' inside a character class is not supported", start)
        if not (0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A):
            return c
        return self.char_escape(start, c, in_class=True)

    def posix_class(self, start: int, end: int) -> tuple[int, bytes]:
        if self.p[start + 1] != 0x3A:
            raise _Fail("SIG201", "POSIX collating elements are not supported", start)
        name = self.p[start + 2:end]
        negated = name.startswith(b"^")
        name = name[negated:]
        if name not in _POSIX:
            raise _Fail("SIG201", f"unknown POSIX class name '{_show(name)}'", start)
        mask = _ALPHA if self.caseless and name in (b"lower", b"upper") else _POSIX[name]
        self.pos = end + 2
        mask = _ALL & ~mask if negated else mask
        return mask, _explicit(mask)

    # -- helpers -----------------------------------------------------------------------------

    def at(self, i: int) -> int:
        return self.p[i] if i < self.n else -1

    def at_in(self, i: int, chars: bytes) -> bool:
        return i < self.n and self.p[i] in chars

    def unsupported(self, what: str, offset: int) -> None:
        self.problems.append(_problem("SIG202", f"{what}; sigc cannot translate it for the regex module", offset))


_HEX_DIGITS = b"0123456789abcdefABCDEF"
_RUN_VALUES: dict[bytes, bytes] = {
    **{b"\\" + bytes([c]): bytes([c]) for c in range(256) if not chr(c).isalnum() or c > 0x7F},
    **{b"\\" + bytes([c]): bytes([v]) for c, v in _CHAR_ESCAPES.items()},
    **{b"\\x" + bytes([hi, lo]): bytes([int(bytes([hi, lo]), 16)]) for hi in _HEX_DIGITS for lo in _HEX_DIGITS},
    b"\\0": b"\x00",  # \0 takes up to two more octal digits: \00 and \000 are NUL too
    **{b"\\0%o" % v: bytes([v]) for v in range(8)},
    **{b"\\0%02o" % v: bytes([v]) for v in range(64)},
}
# Two-byte escapes that never need more parsing, looked up before anything else.
_QUICK: dict[bytes, Node] = {
    **{b"\\" + bytes([c]): ByteSet(mask, text) for c, (mask, text, _) in _TYPES.items()},
    **{b"\\" + bytes([c]): Anchor(kind) for c, kind in _ANCHOR_ESCAPES.items()},
}

_GROUP_HEADS: dict[int, GroupKind] = {
    0x3A: GroupKind.GROUP, 0x3E: GroupKind.ATOMIC, 0x3D: GroupKind.LOOKAHEAD,
    0x21: GroupKind.NEGATIVE_LOOKAHEAD, 0x3C3D: GroupKind.LOOKBEHIND, 0x3C21: GroupKind.NEGATIVE_LOOKBEHIND,
}


def _decode_run(run: bytes) -> bytes:
    """The bytes a ``_RUN`` stands for. Only escapes hold backslashes, and every escape a run
    can hold is in the table, so the split's odd parts are escapes to look up, the rest plain."""
    if b"\\" not in run:
        return run
    parts = _RUN_ESCAPE.split(run)  # plain, escape, plain, ..., plain
    parts[1::2] = map(_RUN_VALUES.__getitem__, parts[1::2])
    return b"".join(parts)


# A class without nested brackets or \Q...\E: its text alone decides what it means.
_PLAIN_CLASS = re.compile(rb"\[\^?\]?(?:[^\\\[\]]|\\[^QE])*\]")


@functools.lru_cache(maxsize=4096)
def _plain_class(text: bytes, caseless: bool) -> ByteSet | None:
    """The node for a class seen on its own, or None if it has a problem to report in place."""
    parser = _Parser(text, caseless=caseless, dotall=False)
    parser.pos = 1  # after the [, as atom() leaves it
    try:
        node = parser.parse_class(0)
    except _Fail:
        return None
    return node if isinstance(node, ByteSet) and not parser.problems and parser.pos == len(text) else None


def _place_run(items: list[Node], run: bytes, start: int) -> None:
    """The literals of a ``_RUN`` at ``start``, for a tree with positions: each escape on its
    own, the plain bytes between them as they are (see :func:`_decode_run`). A run in one step
    rather than escape by escape, as without positions: docs/benchmarks.md, "sigc lint as a
    package"."""
    if b"\\" not in run:
        items.append(Literal(run, (start, start + len(run))))
        return
    for i, part in enumerate(_RUN_ESCAPE.split(run)):  # plain, escape, plain, ..., plain
        if part:
            items.append(Literal(_RUN_VALUES[part] if i % 2 else part, (start, start + len(part))))
            start += len(part)


def _placed(node: Node, start: int, end: int) -> Node:
    """``node`` with its span, for a tree with positions (one it has already is kept)."""
    if type(node) is Literal and node.span is None:
        return Literal(node.data, (start, end))
    if type(node) is ByteSet and node.span is None:
        return ByteSet(node.mask, node.text, node.code, (start, end), node.members)
    return node


def _push(items: list[Node], node: Node) -> None:
    """Append, merging adjacent literals (a quantifier splits the last byte off again)."""
    if items and type(node) is Literal:
        last = items[-1]
        if type(last) is Literal:
            items[-1] = Literal(last.data + node.data)
            return
    items.append(node)


def _posix_end(p: bytes, start: int) -> int | None:
    """PCRE's ``check_posix_syntax``: where ``[:name:]`` (or ``[.x.]``, ``[=x=]``) ends."""
    terminator = p[start + 1]
    i = start + 2
    while i < len(p):
        c = p[i]
        if c == 0x5C and i + 1 < len(p) and p[i + 1] in b"]\\":
            i += 2
            continue
        if (c == 0x5B and i + 1 < len(p) and p[i + 1] == terminator) or c == 0x5D:
            return None
        if c == terminator and i + 1 < len(p) and p[i + 1] == 0x5D:
            return i
        i += 1
    return None


def _fixed_length(items: Iterable[Node]) -> int | None:
    """The length every match of ``items`` has, as PCRE1 requires inside a lookbehind."""
    total = 0
    for node in items:
        length = _node_length(node)
        if length is None:
            return None
        total += length
    return total


def _node_length(node: Node) -> int | None:
    if isinstance(node, Literal):
        return len(node.data)
    if isinstance(node, ByteSet):
        return 1
    if isinstance(node, Anchor):
        return 0
    if isinstance(node, Group):
        if node.kind.is_lookaround:
            return 0
        lengths = {_fixed_length(b) for b in node.branches}
        return lengths.pop() if len(lengths) == 1 else None
    if isinstance(node, Repeat) and node.min == node.max:
        inner = _node_length(node.item)
        return None if inner is None else inner * node.min
    return None


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
_CHAR_CODE = 2  # an opcode and a byte: a literal byte, a class of one byte, its negation
_CLASS_CODE = 1 + 32  # OP_CLASS and a bitmap of the 256 bytes
_REF_CODE = 1 + 2  # OP_REF and the group number
_OUTER = _BRACKET + _BRACKET + 1  # the pattern's own OP_BRA and OP_KET, and OP_END
_TOO_LONG = PCRE1_MAX_LENGTH + 1  # every count stops here: beyond, the verdict is the same
# Without copies, no construct compiles to more than 9 bytes per byte of pattern (a class such
# as [ab] is 33), so a pattern this short cannot be too large and the parser skips the count.
_SHORT = 4000


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
            return _CHAR_CODE * len(node.data)
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
        if group is _NEWLINE_SEQUENCE:  # \R is OP_ANYNL
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
        if type(item) is Group and item is not _NEWLINE_SEQUENCE:
            return _group_repeat_length(self.group(item), low, high, possessive)
        base = self.node(item)
        if type(item) is Backref or (type(item) is ByteSet and item.code == _CLASS_CODE):
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


# --------------------------------------------------------------------------------------------
# Translation
# --------------------------------------------------------------------------------------------


def translate(tree: Tree) -> bytes:
    """The tree in ``regex`` syntax (bytes, V0; flags from :func:`regex_flags`)."""
    return _emit_branches(tree.branches)


def _emit_branches(branches: Branches) -> bytes:
    return b"|".join(map(_emit_sequence, branches))


def _emit_sequence(items: tuple[Node, ...]) -> bytes:
    out = [_EMITTERS[type(node)](node) for node in items]
    if Backref in map(type, items):
        _separate_backrefs(items, out)
    return b"".join(out)


def _separate_backrefs(items: tuple[Node, ...], out: list[bytes]) -> None:
    """Spell a digit right after a backreference (nothing but empty text between) as ``\\xHH``:
    ``\\1`` then ``0`` must not read as ``\\10``."""
    after_backref = False
    for i, node in enumerate(items):
        text = out[i]
        if after_backref and text[:1].isdigit():
            text = out[i] = b"\\x%02x" % text[0] + text[1:]
        after_backref = type(node) is Backref or (after_backref and not text)


def _emit(node: Node) -> bytes:
    return _EMITTERS[type(node)](node)


def _emit_literal(node: Literal) -> bytes:
    """Each byte as :data:`_OUT_BYTES` spells it. ``str.translate`` maps one character to
    several in C: latin-1 makes each byte a character and back."""
    return node.data.decode("latin-1").translate(_OUT_TEXT).encode("latin-1")


_OUT_TEXT = [spelling.decode("latin-1") for spelling in _OUT_BYTES]


def _emit_byte_set(node: ByteSet) -> bytes:
    return node.text


def _emit_anchor(node: Anchor) -> bytes:
    return _SPELLINGS[node.kind]


def _emit_group(node: Group) -> bytes:
    return _SPELLINGS[node.kind] + _emit_branches(node.branches) + b")"


def _emit_repeat(node: Repeat) -> bytes:
    return _emit(node.item) + _quantifier(node.min, node.max) + _SPELLINGS[node.greed]


# The values of the enums, encoded once.
_SPELLINGS: dict[AnchorKind | GroupKind | Greed, bytes] = {
    kind: kind.value.encode() for kinds in (AnchorKind, GroupKind, Greed) for kind in kinds
}


def _emit_backref(node: Backref) -> bytes:
    return b"\\%d" % node.number if node.number < 100 else b"\\g<%d>" % node.number


def _emit_unsupported(node: Unsupported) -> bytes:
    raise ValueError(f"cannot translate {node.text!r} at offset {node.offset}")


_EMITTERS: dict[type, Callable[[Any], bytes]] = {
    Literal: _emit_literal, ByteSet: _emit_byte_set, Anchor: _emit_anchor, Group: _emit_group, Repeat: _emit_repeat,
    Backref: _emit_backref, Unsupported: _emit_unsupported,
}


def _quantifier(low: int, high: int | None) -> bytes:
    if high is None:
        return {0: b"*", 1: b"+"}.get(low, b"{%d,}" % low)
    if (low, high) == (0, 1):
        return b"?"
    return b"{%d}" % low if low == high else b"{%d,%d}" % (low, high)


# --------------------------------------------------------------------------------------------
# Analysis
# --------------------------------------------------------------------------------------------

_CAP = 256  # longest literal the analysis keeps (prefixes, factors)
_MAX_MIN_LENGTH = (1 << 31) - 1
_NO_FACTORS: frozenset[bytes] = frozenset()


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


class _Analyzer:
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


def _anchored(branches: Branches) -> bool:
    """Can a match only start at offset 0 (every alternative starts with ``^``, ``\\A``, ``\\G``)?"""
    return all(_sequence_anchored(b) for b in branches)


def _sequence_anchored(items: tuple[Node, ...]) -> bool:
    for node in items:
        match node:
            case Anchor(kind):
                if kind in _START_ANCHORS:
                    return True
            case Group(kind, branches) if kind.is_lookaround:
                pass
            case Group(_, branches):
                return _anchored(branches)
            case Repeat(Group(kind, branches), low) if low >= 1 and not kind.is_lookaround:
                return _anchored(branches)
            case _:
                return False
    return False


def first_bytes(tree: Tree, caseless: bool) -> bytes | None:
    """For a pattern whose matches all start at offset 0 (``_anchored``): the bytes a match can
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
            return (_fold(bit) if caseless else bit), False
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

    Cutting the head saves what compiling it takes (``re`` spends eight bytes per literal byte):
    about a third of a compiled pattern on the real databases, whose lines mostly begin with
    long literal heads (``^HTTP/1\\.0 200 OK\\r\\nServer: ``)."""
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
    return len(head), len(_emit_anchor(items[0])) + len(_emit_literal(Literal(bytes(head))))


_CUT_ANCHORS = (Anchor(AnchorKind.START), Anchor(AnchorKind.SUBJECT_START))


def _asserts_start(items: Iterable[Node]) -> bool:
    """Does any node (at any depth) assert where the subject or the match starts?"""
    for node in items:
        match node:
            case Anchor(kind) if kind in _START_ANCHORS:
                return True
            case Group(_, branches) if any(_asserts_start(b) for b in branches):
                return True
            case Repeat(item) if _asserts_start((item,)):
                return True
    return False


def _required(info: _Info, prefix: bytes) -> tuple[bytes, ...]:
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


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def parse_pattern(pattern: bytes, *, caseless: bool, dotall: bool, sized: bool = True,
                  positions: bool = False) -> tuple[Tree | None, tuple[PatternProblem, ...]]:
    """The tree of a PCRE pattern (None if PCRE would refuse it) and the problems found. Without
    ``sized``, a pattern too large to compile (SIG208, SIG210) still gets its tree: for tools
    that measure it. With ``positions``, literals and byte sets say where they are written (see
    :class:`Literal` and :class:`ByteSet`), for tools that point into the pattern or quote it
    (lint); the tree means the same, with its literals cut where escapes are."""
    parser = _Parser(pattern, caseless=caseless, dotall=dotall, positions=positions)
    try:
        tree = parser.parse(sized=sized)
    except _Fail as fail:
        return None, _sorted([*parser.problems, fail.problem])
    return tree, _sorted(parser.problems)


def _sorted(problems: list[PatternProblem]) -> tuple[PatternProblem, ...]:
    return tuple(sorted(problems, key=lambda p: p.offset)) if problems else ()


def analyze_pattern(pattern: bytes, *, caseless: bool, dotall: bool) -> PatternAnalysis:
    """Parse, translate and analyse one ``match``/``softmatch`` pattern. Never raises."""
    parser = _Parser(pattern, caseless=caseless, dotall=dotall)
    try:
        tree = parser.parse()
    except _Fail as fail:
        failed = _sorted([*parser.problems, fail.problem])
        return PatternAnalysis(pattern, None, failed, 0, False, b"", (), 0, False, False, False, False, 0, 0, None)
    problems = parser.problems
    translated = _translation(tree, parser, problems)
    analyzer = _Analyzer(caseless)
    info = analyzer.branches(tree.branches)
    if info.min == 0 and translated is not None:
        problems.append(_problem("SIG206", "the pattern can match the empty string: Nmap HEAD refuses it and "
                                 "Nmap 7.93 reports it for every response", 0))
    trusted = not tree.inline_options  # (?i) would make folded literals unsound
    prefix = info.prefix if trusted else b""
    head_length, rest_offset = split_head(tree, prefix, caseless) if translated is not None else (0, 0)
    anchored = _anchored(tree.branches)
    return PatternAnalysis(  # positional, in field order: keywords would cost a fifth more
        pattern,  # source
        translated,
        _sorted(problems),
        tree.groups,
        anchored,
        prefix,
        _required(info, prefix) if trusted else (),  # required
        info.min,  # min_length
        info.min == 0,  # can_match_empty
        analyzer.nested,  # nested_quantifier
        parser.dot,  # dot_without_dotall
        bool(parser.backrefs),
        head_length,
        rest_offset,
        first_bytes(tree, caseless) if anchored and trusted and not prefix else None,
    )


def _translation(tree: Tree, parser: _Parser, problems: list[PatternProblem]) -> bytes | None:
    """The ``regex`` pattern, or None after an error. Only patterns with constructs ``regex``
    might still refuse (backreferences, lookbehinds) pay for a trial compilation."""
    if any(p.severity is Severity.ERROR for p in problems):
        return None
    translated = translate(tree)
    if parser.backrefs or parser.lookbehinds:
        refused = _compile_check(translated, parser.caseless, parser.dotall)
        if refused:
            problems.extend(refused)
            return None
    return translated


def _compile_check(translated: bytes, caseless: bool, dotall: bool) -> list[PatternProblem]:
    try:
        regex.compile(translated, regex_flags(caseless=caseless, dotall=dotall))
    except Exception as exc:  # regex.error, or anything else the foreign compiler raises
        return [_problem("SIG204", f"the translation {_show(translated)} does not compile with regex: {exc}", 0)]
    return []
