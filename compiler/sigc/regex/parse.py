"""PCRE1's parser, as Nmap 7.93 links it (8.39: no UTF, no EXTENDED, no PCRE_EXTRA): a pattern
into a :class:`~sigc.regex.tree.Tree`, or a syntax error (:class:`Fail`) where PCRE1 stops, with
the problems found on the way. A pattern too large to compile is refused here, before anything
compiles it (:mod:`sigc.regex.size`). The entry point is
:func:`sigc.regex.analysis.parse_pattern`."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from sigc.regex.problems import PatternProblem, problem, show
from sigc.regex.size import (
    CHAR_CODE,
    CLASS_CODE,
    PCRE1_MAX_LENGTH,
    REGEX_MAX_EXPANSION,
    SHORT,
    compiled_length,
    expanded_length,
)
from sigc.regex.tree import (
    ALL,
    ALPHA,
    DIGIT,
    GRAPH,
    HSPACE,
    LOWER,
    NEWLINE_SEQUENCE,
    NL,
    SPACE,
    UPPER,
    VSPACE,
    WORD,
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
    Unsupported,
    class_byte,
    explicit,
    fold,
    mask_of,
    span,
)

# What [:name:] stands for inside a class.
_POSIX: dict[bytes, int] = {
    b"alpha": ALPHA, b"lower": LOWER, b"upper": UPPER, b"alnum": ALPHA | DIGIT,
    b"ascii": span(0, 0x7F), b"blank": mask_of(b"\t "), b"cntrl": span(0, 0x1F) | 1 << 0x7F,
    b"digit": DIGIT, b"graph": GRAPH, b"print": GRAPH | 1 << 0x20,
    b"punct": GRAPH & ~(ALPHA | DIGIT), b"space": SPACE, b"word": WORD,
    b"xdigit": DIGIT | span(0x41, 0x46) | span(0x61, 0x66),
}

# Escapes that stand for a set: (mask, spelling outside a class, spelling inside a class).
_TYPES: dict[int, tuple[int, bytes, bytes]] = {
    ord("d"): (DIGIT, b"\\d", b"\\d"),
    ord("D"): (ALL & ~DIGIT, b"\\D", b"\\D"),
    ord("w"): (WORD, b"\\w", b"\\w"),
    ord("W"): (ALL & ~WORD, b"\\W", b"\\W"),
    ord("s"): (SPACE, b"\\s", b"\\s"),
    ord("S"): (ALL & ~SPACE, b"\\S", b"\\S"),
    ord("h"): (HSPACE, b"[" + explicit(HSPACE) + b"]", explicit(HSPACE)),
    ord("H"): (ALL & ~HSPACE, b"[^" + explicit(HSPACE) + b"]", explicit(ALL & ~HSPACE)),
    ord("v"): (VSPACE, b"[" + explicit(VSPACE) + b"]", explicit(VSPACE)),
    ord("V"): (ALL & ~VSPACE, b"[^" + explicit(VSPACE) + b"]", explicit(ALL & ~VSPACE)),
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
_DOT = ByteSet(ALL & ~NL, b".")
_DOT_DOTALL = ByteSet(ALL, b".")
_START = Anchor(AnchorKind.START)
_END = Anchor(AnchorKind.END)
# A class that takes no byte, spelled the one way regex reads so (it takes [^\s\S] for any byte).
_NO_BYTE = b"[^\\x00-\\xff]"

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


class Fail(Exception):
    """A syntax error: parsing stops, as PCRE's does."""

    def __init__(self, code: str, message: str, offset: int) -> None:
        super().__init__(message)
        self.problem = problem(code, message, offset)


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


class Parser:
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
            raise Fail("SIG201", "unmatched closing parenthesis", self.pos)
        for ref in self.backrefs:
            if ref.number > self.groups:
                raise Fail("SIG201", f"reference to non-existent group {ref.number} (the pattern has {self.groups})", ref.offset)
        for group in self.lookbehinds:
            self.check_lookbehind(group)
        tree = Tree(branches, self.groups, self.inline_options)
        if sized:
            self.check_size(tree)
        return tree

    def check_size(self, tree: Tree) -> None:
        """Refuse what PCRE1 refuses as too large (SIG208), then what the ``regex`` module would
        spend too long compiling (SIG210), before anything compiles the pattern."""
        if self.copies or self.n > SHORT:
            length = compiled_length(tree, self.p)
            if length is not None and length > PCRE1_MAX_LENGTH:
                raise Fail("SIG208", f"PCRE1 compiles this pattern to more than {PCRE1_MAX_LENGTH} bytes (a quantifier "
                           "with a count copies its group that many times): Nmap 7.93 refuses it as too large", 0)
        if self.counted:
            expanded = expanded_length(tree)
            if expanded > REGEX_MAX_EXPANSION:
                raise Fail("SIG210", "the regex module copies repeated items and its compile time multiplies "
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
            text = show(m.group())
            self.problems.append(problem(
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
            raise Fail("SIG201", f"number too big in quantifier '{show(m.group())}' (PCRE's limit is 65535)", start)
        if high is not None and high < low:
            raise Fail("SIG201", f"numbers out of order in quantifier '{show(m.group())}'", start)
        return low, high

    def repeatable(self, items: list[Node], offset: int) -> Node:
        """Take the item a quantifier at ``offset`` applies to off ``items``."""
        last = items.pop() if items else None
        if last is None or isinstance(last, (Anchor, Repeat)) or (isinstance(last, Unsupported) and not last.repeatable):
            raise Fail("SIG201", "quantifier does not follow a repeatable item (nothing to repeat)", offset)
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
            raise Fail("SIG209", _nesting_message(_nesting(self.p)), start)
        if index:
            self.open_groups.append(index)
        branches = self.alternation()
        if index:
            self.open_groups.pop()
        self.depth -= 1
        if self.pos >= self.n:
            raise Fail("SIG201", "missing ) for the group opened here", start)
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
                raise Fail("SIG201", "missing ) after comment", start)
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
        raise Fail("SIG201", f"unrecognized character after (? : '{show(self.p[start:start + 3])}'", start)

    def named_group(self, start: int) -> Node:
        head = 4 if self.at(start + 2) == 0x50 else 3
        m = _NAME.match(self.p, start + head)
        close = b"'" if self.at(start + 2) == 0x27 else b">"
        if m is None or self.p[m.end():m.end() + 1] != close:
            raise Fail("SIG201", "syntax error in a group name", start)
        self.unsupported(f"named group '{show(m.group())}' (use a plain capturing group)", start)
        self.pos = m.end() + 1
        self.groups += 1
        return self.group_body(GroupKind.CAPTURE, start, self.groups)

    def option_setting(self, start: int) -> Node:
        end = start + 2
        while end < self.n and self.p[end] in _OPTION_LETTERS:
            end += 1
        if end >= self.n or self.p[end] not in b"):":
            raise Fail("SIG201", f"unrecognized character after (? or (?- in '{show(self.p[start:end + 1])}'", start)
        self.inline_options = True
        self.unsupported(f"inline option setting '{show(self.p[start:end + 1])}' (use the i or s flag after the pattern)", start)
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
                raise Fail("SIG201", "malformed condition after (?(", start)
            self.pos = end + 1
        self.group_body(GroupKind.GROUP, start)
        return Unsupported(self.p[start:self.pos], start)

    def skip_to_close(self, start: int, what: str) -> Unsupported:
        end = self.p.find(b")", start)
        if end < 0:
            raise Fail("SIG201", "missing ) for the group opened here", start)
        self.unsupported(f"{what}: '{show(self.p[start:end + 1])}'", start)
        self.pos = end + 1
        return Unsupported(self.p[start:end + 1], start)

    def check_lookbehind(self, group: Group) -> None:
        for branch in group.branches:
            if _fixed_length(branch) is None:
                self.problems.append(problem(
                    "SIG207", "lookbehind alternative is not fixed-length: PCRE1 (Nmap 7.93) refuses it "
                    "(PCRE2 accepts bounded ones); split it into alternatives of fixed length", group.offset))
                return

    # -- escapes -----------------------------------------------------------------------------

    def escape(self, start: int) -> Node | None:
        """A backslash sequence outside a class; pos is just after the backslash."""
        if start + 1 >= self.n:
            raise Fail("SIG201", "\\ at end of pattern", start)
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
                raise Fail("SIG201", "PCRE does not support \\N{name}", start)
            return ByteSet(ALL & ~NL, b"[^\\n]")
        if c == 0x52:  # \R
            return NEWLINE_SEQUENCE
        if c == 0x43:  # \C: one byte, newline included
            return ByteSet(ALL, b"[\\x00-\\xff]")
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
            raise Fail("SIG201", f"PCRE does not support \\{chr(c)}", start)
        if in_class or c in _PLAIN_LETTERS:
            self.problems.append(problem(
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
            self.problems.append(problem(
                "SIG205", f"'{show(self.p[start:end])}' is the digit {chr(first)} for PCRE1 (Nmap 7.93) but a "
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
            raise Fail("SIG201", f"octal value '\\{show(self.p[first:end])}' is greater than \\377", first - 1)
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
            raise Fail("SIG201", f"malformed '{show(self.p[start:start + 3])}...': expected digits and }}", start)
        value = int(m.group(1), base)
        if value > 0xFF:
            raise Fail("SIG201", f"character value '{show(self.p[start:m.end()])}' is too large without UTF mode (max 0xff)", start)
        self.pos = m.end()
        return value

    def control(self, start: int) -> int:
        if start + 2 >= self.n:
            raise Fail("SIG201", "\\c at end of pattern", start)
        c = self.p[start + 2]
        if c > 0x7F:
            raise Fail("SIG201", "\\c must be followed by an ASCII character", start)
        if c < 0x20 or c == 0x7F:
            self.problems.append(problem(
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
            raise Fail("SIG201", "\\g is not followed by a number, a braced number or a name", start)
        number = int(m.group(2) or m.group(4))
        self.pos = m.end()
        if number == 0:
            raise Fail("SIG201", "a numbered reference must not be zero", start)
        if m.group(1) or m.group(3):
            if number > self.groups:
                raise Fail("SIG201", f"relative reference '{show(m.group())}' to a group before the first", start)
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
            raise Fail("SIG201", "\\k is not followed by a braced, angle-bracketed or quoted name", start)
        text = self.p[start:end]
        what = _UNSUPPORTED_ESCAPES.get(c, "Unicode property" if c in b"pP" else "named reference or subroutine call")
        self.unsupported(f"'{show(text)}': {what} is not supported", start)
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
            raise Fail("SIG201", "POSIX named classes are supported only within a class: write '[[:name:]]'", start)
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
                raise Fail("SIG201", "missing terminating ] for character class", start)
            if self.p[self.pos] == 0x5D and not first:
                self.pos += 1
                break
            first = False
            item_mask, text = self.class_item()
            mask |= item_mask
            items.append(text)
        # PCRE1 compiles a class of one character (or a one-character range) as that character,
        # or as "not that character" when negated; any other class as a 32-byte bitmap.
        code = CHAR_CODE if len(items) == 1 and mask.bit_count() == 1 else CLASS_CODE
        if self.caseless:
            mask = fold(mask)
        members, self.members = tuple(self.members or ()), None
        if negated and mask == ALL:
            return ByteSet(0, _NO_BYTE, members=members)
        body = b"".join(items)
        return ByteSet(ALL & ~mask if negated else mask, (b"[^" if negated else b"[") + body + b"]", code,
                       members=members)

    def unsupported_node(self, start: int, what: str) -> Node:
        text = self.p[start:self.pos]
        self.unsupported(f"{what} '{show(text)}'", start)
        return Unsupported(text, start)

    def class_item(self) -> tuple[int, bytes]:
        """One member, range, escape or POSIX class; returns its mask and its spelling."""
        start = self.pos
        low = self.class_atom()
        if isinstance(low, tuple):
            if self.at(self.pos) == 0x2D and self.at(self.pos + 1) not in (0x5D, -1):
                self.problems.append(problem(
                    "SIG205", "a hyphen after a class escape is a literal for PCRE1 (Nmap 7.93) but PCRE2 "
                    "(Nmap HEAD) refuses it; write '\\-'", self.pos))
            if self.members is not None:
                self.members.append(ByteSet(*low, span=(start, self.pos)))
            return low
        if self.at(self.pos) != 0x2D or self.at(self.pos + 1) in (0x5D, -1):
            if self.members is not None:
                self.members.append(Literal(bytes([low]), (start, self.pos)))
            return 1 << low, class_byte(low)
        low_end = self.pos
        self.pos += 1
        if self.at(self.pos) == 0x5C and self.at(self.pos + 1) in _CLASS_LITERAL_ESCAPES:
            # \X in a class is the letter X, except as a range's end: PCRE1 faults it there
            self.pos += 2
            raise Fail("SIG201", f"invalid range in character class: '{show(self.p[start:self.pos])}'", start)
        high_start = self.pos
        high = self.class_atom()
        if isinstance(high, tuple):
            raise Fail("SIG201", f"invalid range in character class: '{show(self.p[start:self.pos])}'", start)
        if high < low:
            raise Fail("SIG201", f"range out of order in character class: '{show(self.p[start:self.pos])}'", start)
        mask, text = span(low, high), class_byte(low) + b"-" + class_byte(high)
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
            raise Fail("SIG201", "\\ at end of pattern", start)
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
            raise Fail("SIG201", "\\N is not supported in a class", start)
        if c in b"pPQE":
            raise Fail("SIG202", f"'\\{chr(c)}' inside a character class is not supported", start)
        if not (0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A):
            return c
        return self.char_escape(start, c, in_class=True)

    def posix_class(self, start: int, end: int) -> tuple[int, bytes]:
        if self.p[start + 1] != 0x3A:
            raise Fail("SIG201", "POSIX collating elements are not supported", start)
        name = self.p[start + 2:end]
        negated = name.startswith(b"^")
        name = name[negated:]
        if name not in _POSIX:
            raise Fail("SIG201", f"unknown POSIX class name '{show(name)}'", start)
        mask = ALPHA if self.caseless and name in (b"lower", b"upper") else _POSIX[name]
        self.pos = end + 2
        mask = ALL & ~mask if negated else mask
        return mask, explicit(mask)

    # -- helpers -----------------------------------------------------------------------------

    def at(self, i: int) -> int:
        return self.p[i] if i < self.n else -1

    def at_in(self, i: int, chars: bytes) -> bool:
        return i < self.n and self.p[i] in chars

    def unsupported(self, what: str, offset: int) -> None:
        self.problems.append(problem("SIG202", f"{what}; sigc cannot translate it for the regex module", offset))


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
    parser = Parser(text, caseless=caseless, dotall=False)
    parser.pos = 1  # after the [, as atom() leaves it
    try:
        node = parser.parse_class(0)
    except Fail:
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
