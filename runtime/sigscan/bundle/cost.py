"""An upper bound on the backtracking work of a pattern, so cheap searches can skip the timeout.

The ``regex`` module's ``timeout`` costs more per search (it reads a clock) than most searches
themselves (docs/benchmarks.md). A search whose work is provably small does not need it. A backtracking
search explores at most one path per combination of choices: a start position (n+1 of them
unless the pattern is anchored), an iteration count per variable repeat (n+1 for an unbounded
one, max-min+1 for a bounded one), a branch per alternation; each path walks at most the
pattern's nodes. So for a subject of n bytes the work is at most
``constant * (n+1) ** degree``, where :func:`cost` reads ``degree`` (unbounded repeats, a start
position for unanchored patterns, one per backreference) and ``constant`` (bounded choices
times the pattern's length) off the translated pattern.

A repeat whose body itself varies (a nested quantifier, an alternation under a quantifier, as in
``(a|aa)+`` or ``(?:,[^,]*){9,21}``) has no such bound: :func:`cost` returns ``None`` and the
search always runs with the timeout. So does anything the scanner does not recognise, and any
pattern that is not written in the syntax sigc writes (:data:`SIGC_SYNTAX`): the scanner reads
that syntax only, so a text from elsewhere (a modified bundle) cannot make it misread what the
engine will do (``\\012`` is one byte, ``\\n``, to ``re`` but two atoms to the scanner).

Deterministic repeats (when the pattern's flags are given): a repeat of a one-byte atom X (a
byte, an escape, a class, ``.``) followed, in its sequence, by something that cannot start with
a byte of X and cannot be empty (``[^\\r\\n]*\\r\\n``, ``[\\d.]+-``, ``\\w+\\s``) lets at most
one of its counts go on: the count that ends where X's bytes end. Any other count fails on the
next byte. So it adds no path (no degree, and it does not make an enclosing group vary); the
failed counts cost at most n+1 steps each time the search arrives at the repeat, which one more
factor of (n+1) for the whole pattern covers: ``work <= C * (n+1)**d * (L + m*(n+1))
<= C * (L+m) * (n+1)**(d+1)`` for m such repeats and d other degrees.

A few ways on: a repeat of X followed by single bytes of which only the k-th (counting from 0)
cannot be a byte of X (``.*\r\n``: ``.`` takes ``\r`` but not ``\n``, k = 1) lets at most
k+1 counts go on (see :meth:`_Scanner.leaves_within`), and each other count fails within k+1
bytes: a factor k+1 on the paths instead of a degree, and k+1 in place of 1 in ``m`` above. That
only pays when it removes a degree (``.*\r\n`` once is as cheap charged), so :func:`cost` scans
the pattern both ways and keeps the lower bound.

Literals counted in the subject: a repeat of X followed by a literal S (``.*<title>`` with
dotall, where no byte after ``.*`` leaves it) lets the search go on only at counts where S
occurs, so at most as many counts as S occurs in the subject. :func:`literal_cost` charges such
repeats that way (each failed count stops within S: ``len(S)`` in ``m`` above) and leaves the
occurrences to be counted when a search has the subject in hand
(:class:`~sigscan.bundle.bound.LiteralCost`). A page with one ``<title>`` has one way on,
whatever its length.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sigscan.bundle.bound import BUDGET, Cost, LiteralCost
from sigscan.bundle.first import continuation, single_byte_mask

__all__ = ["BUDGET", "SIGC_SYNTAX", "Cost", "LiteralCost", "bounds", "cost", "literal_bound", "literal_cost", "proves"]

_DIGITS = b"0123456789"
_MAX_WAYS = 16  # bytes read after a repeat for one it cannot match (:meth:`_Scanner.leaves_within`)
# bytes of the literal after a repeat that are kept (:meth:`_Scanner.literal_after`): a prefix
# occurs at least as often as the whole, so the bound holds; 16 bytes are about as rare
_MAX_LITERAL = 16
_NOT_PLAIN = frozenset(bytes([c]) for c in b"\\[]().|*+?{}^$")  # bytes that may not stand for themselves
_QUANTIFIER_START = (b"*", b"+", b"?", b"{")
# a byte's mask when caseless: both cases of an ASCII letter, as first.single_byte_mask folds
_FOLDED = tuple((1 << b | 1 << (b ^ 0x20)) if 0x41 <= (b & 0xDF) <= 0x5A else 1 << b for b in range(256))

# The syntax sigc.regex.translate writes, token by token: a byte standing for itself, an escape of
# a byte (\xHH, \n, \r, \t, or punctuation), a class escape, an anchor, a backreference to
# groups 1-9 (sigc spells a digit after one as \xHH), a class of those items, a group opening
# of the kinds the scanner knows, a closing parenthesis, an alternation, ``^``, ``$``, ``.``, a
# quantifier (with a lazy or possessive mark; ``{,n}`` too, which sigc does not write but re
# and the scanner read alike). The scanner and the engines read these alike.
_CLASS_ITEM = rb"(?:\\x[0-9a-fA-F]{2}|\\[nrtdDwWsS]|\\[^0-9A-Za-z]|[^\\\[\]])"
SIGC_SYNTAX = re.compile(  # possessive: the tokens never overlap, so nothing to take back
    rb"(?:[^\\\[\](){}*+?|^$.]++|\\x[0-9a-fA-F]{2}|\\[nrtdDwWsSAbBZG]|\\[1-9](?![0-9])|\\[^0-9A-Za-z]"
    rb"|\[\^?" + _CLASS_ITEM + rb"++\]|\((?!\?)|\(\?(?::|>|=|!|<=|<!)|[)|^$.]"
    rb"|(?:[*+?]|\{(?:[0-9]+(?:,[0-9]*)?|,[0-9]+)\})[?+]?)*+", re.DOTALL)

# A run of one-byte atoms that :meth:`_Scanner.step` would each take alone: ordinary bytes and
# escapes other than backreferences; group ``atom`` is the last of them.
_RUN = re.compile(rb"(?:(?P<atom>[^\\\[()|*+?{^$]|\\x..|\\[^1-9x]))+", re.DOTALL)


class _Frame:
    __slots__ = ("branches", "constant", "degree", "kind", "start", "varies")

    def __init__(self, kind: bytes = b"", start: int = 0) -> None:
        self.start = start  # where the group's body starts
        self.branches = 1
        self.degree = 0
        self.constant = 1
        self.varies = False  # holds a variable repeat or an alternation
        self.kind = kind  # b"(" capture, b":" b">" b"=" b"!" b"<=" b"<!" after "(?"; b"" the pattern


class _Unbounded(Exception):
    """The pattern has a repeat over a varying body, or a construct the scanner does not know."""


def cost(pattern: bytes, anchored: bool, *, caseless: bool | None = None,
         dotall: bool | None = None) -> Cost | None:
    """The bound for ``pattern`` (``regex`` syntax, as the bundle stores it), or ``None``. With
    both flags given, deterministic repeats are recognised (see the module docstring)."""
    if caseless is None or dotall is None:
        return _bound(_Scanner(pattern, None), anchored) if SIGC_SYNTAX.fullmatch(pattern) else None
    return bounds(pattern, anchored, caseless=caseless, dotall=dotall)[0]


def literal_cost(pattern: bytes, anchored: bool, *, caseless: bool, dotall: bool) -> LiteralCost | None:
    """The bound that counts, in the subject, the literal after each repeat :func:`cost`
    charges a degree for (``.*<title>`` with dotall: only where ``<title>`` occurs can the
    search go on), see :class:`~sigscan.bundle.bound.LiteralCost`. ``None`` when there is no
    such repeat, the pattern is unbounded, or the bound is no lower than :func:`cost`'s even
    where each literal occurs once."""
    return bounds(pattern, anchored, caseless=caseless, dotall=dotall)[1]


def bounds(pattern: bytes, anchored: bool, *, caseless: bool, dotall: bool) -> tuple[Cost | None, LiteralCost | None]:
    """:func:`cost` and :func:`literal_cost` together, in as few scans as they need: one for
    most patterns. A scan that counts literals and found none, or that took no repeat with a
    few ways on, is the scan without them (sigc computes both for 12,000 lines per build)."""
    if not SIGC_SYNTAX.fullmatch(pattern):
        return None, None
    flags = (caseless, dotall)
    counting, first = _counting(pattern, anchored, flags)
    literals = counting.literals
    few = counting if not literals else _Scanner(pattern, flags, few=True)
    static = first if not literals else _bound(few, anchored)
    if few.spread:
        # a repeat with a few ways on trades a degree for a constant factor: only worth it when
        # that removes a degree (``.*\r\n`` alone is cheaper charged): the lower bound is kept
        charged = _bound(_Scanner(pattern, flags), anchored)
        static = min((c for c in (static, charged) if c is not None), default=None)
    if first is None or not literals or (static is not None and static <= first):
        return static, None
    return static, LiteralCost(first.degree, first.constant, tuple((lit, _weight(lit)) for lit in literals))


def proves(pattern: bytes, anchored: bool, untimed: int, *, caseless: bool, dotall: bool, cap: int) -> bool:
    """Does the pattern's bound (:func:`cost`'s) make the search of every subject of up to
    ``untimed`` bytes (at most ``cap``) cheap? What a bound stored in a bundle claims is checked
    against (``sigscan.matcher.core``). :func:`cost` keeps the lower of two scans when a repeat
    has a few ways on; either proves what it proves, so this stops at the first that does (one
    scan for most lines, against one to three for :func:`bounds`)."""
    if untimed < 0:
        return True
    if not SIGC_SYNTAX.fullmatch(pattern):
        return False
    flags = (caseless, dotall)
    few = _Scanner(pattern, flags, few=True)
    found = _bound(few, anchored)
    if found is not None and found.longest_cheap(cap) >= untimed:
        return True
    if not few.spread:
        return False
    charged = _bound(_Scanner(pattern, flags), anchored)
    return charged is not None and charged.longest_cheap(cap) >= untimed


def literal_bound(pattern: bytes, anchored: bool, *, caseless: bool, dotall: bool) -> LiteralCost | None:
    """The literal-counting bound whether or not it is lower than :func:`cost`'s (which
    :func:`literal_cost` asks): a valid bound whenever it is not ``None``, so the one a stored
    ``cost_literals`` must not be lower than."""
    if not SIGC_SYNTAX.fullmatch(pattern):
        return None
    counting, first = _counting(pattern, anchored, (caseless, dotall))
    if first is None or not counting.literals:
        return None
    return LiteralCost(first.degree, first.constant, tuple((lit, _weight(lit)) for lit in counting.literals))


def _counting(pattern: bytes, anchored: bool, flags: tuple[bool, bool]) -> tuple[_Scanner, Cost | None]:
    """The scan that counts literals after repeats (:func:`literal_cost`), and its bound."""
    counting = _Scanner(pattern, flags, few=True)
    counting.literals = []
    return counting, _bound(counting, anchored)


def _weight(literal: bytes) -> int:
    """How many occurrences of ``literal`` one occurrence ``bytes.count`` counts can stand for:
    1 when occurrences cannot overlap; else ``ceil(len / period)``, the period being the length
    less the longest proper prefix that is also a suffix (overlapping occurrences start at
    least a period apart, and each counted one hides only those starting within it)."""
    border = max((size for size in range(1, len(literal)) if literal[:size] == literal[-size:]), default=0)
    return -(-len(literal) // (len(literal) - border))


def _bound(scanner: _Scanner, anchored: bool) -> Cost | None:
    try:
        frame = scanner.run()
    except _Unbounded:
        return None
    found = scanner.deterministic
    degree = frame.degree + (0 if anchored else 1) + (1 if found else 0)
    constant = frame.constant * frame.branches * (len(scanner.p) + 1 + found)
    if constant > BUDGET:
        # never cheap, whatever the subject; and a product of many alternations (150
        # lookbehinds of two branches) would not fit the bundle's 64-bit integer
        return None
    return Cost(degree, constant)


class _Scanner:
    def __init__(self, pattern: bytes, flags: tuple[bool, bool] | None = None, few: bool = False) -> None:
        self.p = pattern
        self.i = 0
        self.stack = [_Frame()]
        self.atom: _Frame | bool | None = None  # last atom: a closed group, True, or None
        self.atom_at = 0  # where the last atom starts
        self.flags = flags  # (caseless, dotall), or None: no deterministic repeats
        self.deterministic = 0  # repeats found deterministic, weighed by their ways on
        self.few = few  # look for repeats with a few ways on (:meth:`leaves_within`)
        self.spread = 0  # repeats found to have a few ways on
        # the literals after repeats that are bounded by how often they occur (literal_cost);
        # None: such repeats are charged as usual
        self.literals: list[bytes] | None = None

    def run(self) -> _Frame:
        """Step through the pattern. Most of it is runs of one-byte atoms, which change nothing
        but where the last atom starts: each run is taken in one step (about five times fewer)."""
        p, end, run = self.p, len(self.p), _RUN.match
        while self.i < end:
            atoms = run(p, self.i)
            if atoms is not None:
                self.i = atoms.end()
                self.atom_at = atoms.start("atom")
                self.atom = True
                if self.i >= end:
                    break
            self.step(p[self.i])
        if len(self.stack) != 1:
            raise _Unbounded
        return self.stack[0]

    def step(self, c: int) -> None:
        if c not in b"*+?{":
            self.atom_at = self.i  # where an atom (if this is one) starts
        if c == 0x5C:  # backslash
            self.escape()
        elif c == 0x5B:  # [
            self.skip_class()
        elif c == 0x28:  # (
            self.open_group()
        elif c == 0x29:  # )
            self.close_group()
        elif c == 0x7C:  # |
            self.stack[-1].branches += 1
            self.stack[-1].varies = True
            self.i += 1
            self.atom = None
        elif c in b"*+?" or (c == 0x7B and self.counted() is not None):
            self.quantifier()
        else:
            self.i += 1
            self.atom = None if c in b"^$" else True

    def escape(self) -> None:
        nxt = self.p[self.i + 1 : self.i + 2]
        if nxt and nxt in b"123456789":
            self.stack[-1].degree += 1  # a backreference: charge it like an unbounded repeat
        self.i += 4 if nxt == b"x" else 2
        self.atom = True

    def skip_class(self) -> None:
        j = self.i + 1
        if self.p[j : j + 1] == b"^":
            j += 1
        if self.p[j : j + 1] == b"]":
            j += 1
        while j < len(self.p) and self.p[j] != 0x5D:
            j += 2 if self.p[j] == 0x5C else 1
        if j >= len(self.p):
            raise _Unbounded
        self.i = j + 1
        self.atom = True

    def open_group(self) -> None:
        j = self.i + 1
        kind = b"("
        if self.p[j : j + 1] == b"?":
            kind = self.p[j + 1 : j + 2]
            if kind == b"<":
                kind = self.p[j + 1 : j + 3]
            if kind not in (b":", b">", b"=", b"!", b"<=", b"<!"):
                raise _Unbounded  # inline flags, named groups, conditionals: not produced by sigc
            j += 1 + len(kind)
        self.stack.append(_Frame(kind, j))
        self.i = j
        self.atom = None

    def close_group(self) -> None:
        if len(self.stack) < 2:
            raise _Unbounded
        inner = self.stack.pop()
        outer = self.stack[-1]
        outer.degree += inner.degree
        outer.constant *= inner.constant * inner.branches
        outer.varies = outer.varies or inner.varies
        self.i += 1
        self.atom = inner

    def counted(self, at: int | None = None) -> tuple[int, int | None, int] | None:
        """``{m}``, ``{m,}``, ``{m,n}`` at ``at`` (default ``self.i``): (min, max, end), or
        ``None`` (a literal)."""
        at = self.i if at is None else at
        close = self.p.find(b"}", at)
        if close < 0:
            return None
        low, comma, high = self.p[at + 1 : close].partition(b",")
        if not (low or comma) or (low and not low.isdigit()) or (high and not high.isdigit()):
            return None
        minimum = int(low) if low else 0  # {,n} is a quantifier for re >= 3.11: count it
        maximum = minimum if not comma else int(high) if high else None
        return minimum, maximum, close + 1

    def quantifier(self) -> None:
        c = self.p[self.i]
        if c == 0x7B:
            counted = self.counted()
            assert counted is not None
            low, high, end = counted
        else:
            low, high, end = (0, None, self.i + 1) if c == 0x2A else (1, None, self.i + 1) if c == 0x2B else (0, 1, self.i + 1)
        if self.p[end : end + 1] in (b"?", b"+"):
            end += 1  # lazy or possessive
        ways = self.ways_on(end) if self.atom is True else None
        if ways == 1:
            if high is None:
                self.deterministic += 1  # one path; its failed counts: the linear term
            elif high != low:
                self.stack[-1].constant *= high - low + 1  # one path, a few failed counts
        elif ways is not None and high is None:
            self.spread += 1
            frame = self.stack[-1]
            frame.constant *= ways  # at most ``ways`` paths ...
            frame.varies = True  # ... so a repeat of the group around it is not bounded here
            self.deterministic += ways  # a failed count stops within ``ways`` bytes
        elif high is None and self.literals is not None and (literal := self.literal_after(end)):
            self.stack[-1].varies = True  # as many ways on as the literal occurs
            self.deterministic += len(literal)  # a failed count stops within the literal
            self.literals.append(literal)
        else:
            self.charge(low, high)
        self.i = end
        self.atom = None

    def ways_on(self, end: int) -> int | None:
        """How many counts of the repeat of the one-byte atom before ``self.i`` (quantifier
        ending at ``end``) can let the rest of the pattern go on: 1 when what follows cannot
        start with one of its bytes (:meth:`is_deterministic`), k+1 when the k-th byte after it
        cannot be one of them (:meth:`leaves_within`), ``None`` when neither is known."""
        if self.flags is None:
            return None
        if self.is_deterministic(end):
            return 1
        return self.leaves_within(end) if self.few else None

    def is_deterministic(self, end: int) -> bool:
        """Is the repeat of the one-byte atom before ``self.i`` (the quantifier ends at ``end``)
        followed by something that cannot start with one of its bytes nor be empty? What
        follows may run out of plain groups (capturing, ``(?:``, ``(?>``) that are not
        repeated themselves."""
        if self.flags is None:
            return False
        caseless, dotall = self.flags
        atom = single_byte_mask(self.p, self.atom_at, caseless=caseless, dotall=dotall)
        if atom is None or atom[1] != self.i:
            return False
        follow, at, depth = 0, end, len(self.stack) - 1
        while True:
            rest = continuation(self.p, at, caseless=caseless, dotall=dotall)
            if rest is None:
                return False
            mask, nullable, stop = rest
            follow |= mask
            if not nullable:
                return not atom[0] & follow
            # the rest of this group can be empty: what follows the group follows too, and
            # when the group repeats, its own beginning (the next iteration) as well
            frame = self.stack[depth]
            if depth == 0 or self.p[stop : stop + 1] != b")" or frame.kind not in (b"(", b":", b">"):
                return False
            at, depth = stop + 1, depth - 1
            repeat = self.quantifier_end(at)
            if repeat is not None:
                body = continuation(self.p, frame.start, caseless=caseless, dotall=dotall)
                if body is None or body[1] or self.p[body[2] : body[2] + 1] != b")":
                    return False  # unknown, can be empty, or alternatives (only the first is read)
                follow |= body[0]
                at = repeat

    def leaves_within(self, end: int) -> int | None:
        """k+1, when the repeat of the atom X before ``self.i`` is followed by single bytes
        B0 ... Bk (each exactly once; plain groups that are not repeated may close between
        them) where only Bk is disjoint from X; ``None`` otherwise. A count c of the repeat that
        lets the rest go on from a start p puts Bk at p+c+k, outside X's run from p (which ends
        at some q), so q-p-k <= c <= q-p: at most k+1 counts, as in ``.*\\r\\n`` (\\n is not
        in ``.``: 2) or ``[^,]*, x`` (3). Every other count fails within k+1 bytes."""
        atom = self.repeated_mask()
        if atom is None:
            return None
        for k, byte in enumerate(self.bytes_after(end)):
            if k == _MAX_WAYS:
                break
            if not byte & atom:
                return k + 1
        return None

    def literal_after(self, end: int) -> bytes | None:
        """The literal bytes that follow the repeat of the one-byte atom before ``self.i``, as
        :meth:`bytes_after` reads them (lower-cased when caseless), or ``None``: a count of the
        repeat lets the rest go on only where the literal occurs (see :func:`literal_cost`)."""
        if self.repeated_mask() is None:
            return None
        assert self.flags is not None
        caseless = self.flags[0]
        found = bytearray()
        for mask in self.bytes_after(end):
            if len(found) == _MAX_LITERAL:
                break
            byte = mask.bit_length() - 1  # of a letter when caseless, its lower case
            if byte < 0 or mask != (_FOLDED[byte] if caseless else 1 << byte):
                break  # not one byte (or none: a class that takes no byte, [^\x00-\xff])
            found.append(byte)
        return bytes(found) or None

    def repeated_mask(self) -> int | None:
        """The bytes of the one-byte atom before ``self.i`` (the one being repeated)."""
        assert self.flags is not None
        caseless, dotall = self.flags
        atom = single_byte_mask(self.p, self.atom_at, caseless=caseless, dotall=dotall)
        return None if atom is None or atom[1] != self.i else atom[0]

    def bytes_after(self, end: int) -> Iterator[int]:
        """The masks of the single bytes (each exactly once) that follow the quantifier ending at
        ``end``, read across the closing of plain groups that are not repeated; stops at
        anything else."""
        assert self.flags is not None
        caseless, dotall = self.flags
        at, depth = end, len(self.stack) - 1
        while True:
            c = self.p[at : at + 1]
            while c == b")":  # the byte after a group that closes here follows too
                frame = self.stack[depth]
                if depth == 0 or frame.kind not in (b"(", b":", b">") or self.quantifier_end(at + 1) is not None:
                    return
                at, depth = at + 1, depth - 1
                c = self.p[at : at + 1]
            if not c or c in b"(|^$":
                return
            if c not in _NOT_PLAIN:  # a byte standing for itself: most of what follows repeats
                byte = (_FOLDED[c[0]] if caseless else 1 << c[0]), at + 1
            else:
                found = single_byte_mask(self.p, at, caseless=caseless, dotall=dotall)
                if found is None:
                    return
                byte = found
            if self.p[byte[1] : byte[1] + 1] in _QUANTIFIER_START and self.quantifier_end(byte[1]) is not None:
                return
            yield byte[0]
            at = byte[1]

    def quantifier_end(self, at: int) -> int | None:
        """Where the quantifier at ``at`` ends (lazy or possessive mark included), or ``None``
        when there is none."""
        c = self.p[at : at + 1]
        if c in (b"*", b"+", b"?"):
            end = at + 1
        elif c == b"{" and (counted := self.counted(at)) is not None:
            end = counted[2]
        else:
            return None
        return end + 1 if self.p[end : end + 1] in (b"?", b"+") else end

    def charge(self, low: int, high: int | None) -> None:
        frame = self.stack[-1]
        if isinstance(self.atom, _Frame) and self.atom.varies and high != 1:
            raise _Unbounded  # a repeat over a varying body
        if self.atom is None:
            raise _Unbounded  # a quantifier after nothing: not a pattern sigc writes
        if high is None:
            frame.degree += 1
            frame.varies = True
        elif high != low:
            frame.constant *= high - low + 1
            frame.varies = True
