"""Lint rules over an analysed database: one small class per rule, findings collected as data.

Each rule has a stable code (``SIG5xx``, never renumbered), a default severity and a one-line
summary, and yields :class:`~sigc.diagnostics.Diagnostic` records; nothing here raises on bad
input. :func:`lint` runs the rules; :func:`all_findings` adds the parser's and the analysis'
own findings (``Database.diagnostics``) and returns one sorted, de-duplicated list, which is
what ``sigc lint`` prints.

Severities follow one rule: ``error`` only where Nmap refuses the file, crashes or hangs, or
where the line can never work in sigc; ``warning`` for lines that silently do less than they
say; ``info`` for style and for facts worth knowing. Problems other modules already report are
not repeated here: a pattern that can match the empty string is ``SIG206`` (sigc.pcre), a
literal ``$`` in a template ``SIG310``, a CPE part other than a/h/o ``SIG330`` and too many CPE
components ``SIG331`` (sigc.templates), an unknown fallback ``SIG401`` and a duplicate probe
``SIG404`` (sigc.analyze).

Rules that need judgement, and the choices made:

* ``SIG503`` (catastrophic backtracking) refines ``PatternAnalysis.nested_quantifier``: the
  header-skipping idiom ``(?:[^\\r\\n]+\\r\\n)*`` nests quantifiers but every iteration must
  end in a byte the inner repeat cannot take, so it is linear. Only a repeated item whose other
  parts can all be made of bytes the inner repeat also takes (``(\\w+\\s?)+``, ``(a+)+``), with
  something after it that can fail, is reported.
* ``SIG504`` (``.`` without ``s``) is reported only for patterns that also spell binary bytes
  (``\\0``, or ``\\xHH`` for a control byte other than TAB, LF, CR): there the dot stands for a
  byte of a binary field, which is LF once in 256 times, and the line then fails. In text
  patterns a dot that stops at the end of the line is the usual intent, so nothing is said.
* ``SIG521`` (shadowed line) is deliberately narrow so that it is sound: the earlier line must
  be exactly ``^literal`` and the later one anchored with a literal prefix that starts with it.
* ``SIG540`` reports ``sslports`` on a probe without ``ports``: an ssl port missing from
  ``ports`` is Nmap's normal layout (plain and TLS ports differ), only a probe with no plain
  ports at all is worth a note.
* ``SIG512`` is an error although Nmap loads such files: 7.93 dies with an assertion failure
  on a response that leaves the group unset (verified, rc 134).
* ``SIG547`` (a probe file that adds nothing) is a warning: Nmap loads an empty file and
  identifies nothing with it. ``sigc lint`` refuses a run with no probe at all (exit 2).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from sigc import halves
from sigc.analyze import (
    AnalyzedMatch,
    AnalyzedProbe,
    Compiled,
    CompileKey,
    Database,
    compile_translation,
)
from sigc.diagnostics import Diagnostic, Location, Severity
from sigc.regex.analysis import parse_pattern
from sigc.regex.tree import (
    Anchor,
    AnchorKind,
    Backref,
    ByteSet,
    Greed,
    Group,
    GroupKind,
    Literal,
    Node,
    Repeat,
    Tree,
)
from sigc.syntax.model import Directive, Match, Probe, Protocol
from sigscan.bundle.fields import Field
from sigscan.bundle.template import Invalid, Template, template_slot
from sigscan.bundle.template import Literal as TemplateLiteral

__all__ = ["CODES", "RULES", "Rule", "all_findings", "lint", "sort_findings"]


# ---------------------------------------------------------------------------------------------
# The rule interface


class Rule:
    """A lint rule: a stable code, a default severity, a summary and a check over a database."""

    code: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]

    def check(self, db: Database) -> Iterator[Diagnostic]:
        raise NotImplementedError

    def diag(self, message: str, location: Location) -> Diagnostic:
        return Diagnostic(self.code, self.severity, message, location)


class MatchRule(Rule):
    """A rule that looks at one ``match``/``softmatch`` line at a time."""

    def check(self, db: Database) -> Iterator[Diagnostic]:
        for m in db.matches:
            yield from self.check_match(m)

    def check_match(self, m: AnalyzedMatch) -> Iterator[Diagnostic]:
        raise NotImplementedError


class ProbeRule(Rule):
    """A rule that looks at one probe (its directives, not its lines) at a time."""

    def check(self, db: Database) -> Iterator[Diagnostic]:
        for p in db.probes:
            yield from self.check_probe(p, db)

    def check_probe(self, p: AnalyzedProbe, db: Database) -> Iterator[Diagnostic]:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------
# Shared helpers


def _parsed(m: AnalyzedMatch) -> bool:
    """Did the pattern translate? (Otherwise SIG2xx said why and the analysis is neutral.)"""
    return m.pattern.translated is not None


@functools.lru_cache(maxsize=1)
def _tree(pattern: bytes, caseless: bool, dotall: bool) -> Tree | None:
    return parse_pattern(pattern, caseless=caseless, dotall=dotall)[0]


def tree_of(m: AnalyzedMatch) -> Tree | None:
    """The PCRE tree of a line's pattern (the last one is kept: :func:`lint` runs the rules
    line by line, and several of a line's rules walk its tree)."""
    return _tree(m.match.pattern, m.match.caseless, m.match.dotall)


def _show(data: bytes, limit: int = 60) -> str:
    text = data.decode("latin-1")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pattern_text(match: Match) -> str:
    d = match.delimiter.decode("latin-1")
    return f"m{d}{_show(match.pattern)}{d}{match.flags}"


def _line_ref(match: Match, here: Location) -> str:
    """``line N`` or ``path:N`` when the other line is in another file."""
    where = match.location
    return f"line {where.line}" if where.path == here.path else f"{where.path}:{where.line}"


def _template_groups(m: AnalyzedMatch) -> set[int]:
    return {p.n for _, t in m.templates for p in t.parts if not isinstance(p, TemplateLiteral | Invalid)}


def _value_start(directive: Directive) -> Location:
    """Where a directive's value starts: after the keyword and its one space."""
    return directive.location.shifted(len(directive.keyword) + 1)


def _walk(nodes: Iterable[Node]) -> Iterator[Node]:
    for node in nodes:
        yield node
        if isinstance(node, Group):
            for branch in node.branches:
                yield from _walk(branch)
        elif isinstance(node, Repeat):
            yield from _walk((node.item,))


def _all_nodes(tree: Tree) -> Iterator[Node]:
    for branch in tree.branches:
        yield from _walk(branch)


# ---------------------------------------------------------------------------------------------
# Patterns (SIG50x)


class RegexCompiles(Rule):
    """The translated pattern must compile with ``regex``, the engine the runtime uses.

    sigc.pcre already compiles the few translations it doubts (backreferences, lookbehinds,
    SIG204); this rule compiles all of them. That is most of the time of a lint run (~0.6 ms a
    pattern, ~7 s on a real file: the regex module parses patterns in Python), so an analysis
    for lint (``sigc.analyze.Purpose.LINT``, what ``sigc lint`` runs) compiles each line's
    translation on two cores while it makes it, and keeps only the result; the lines of a
    database analysed otherwise are compiled here (:func:`compile_results`).
    """

    code = "SIG501"
    severity = Severity.ERROR
    summary = "translated pattern does not compile with the regex module"

    def check(self, db: Database) -> Iterator[Diagnostic]:
        results = compile_results(db)
        for m in db.matches:
            result = _compiled_of(m, results)
            if result is not None and result.error is not None:
                yield self.diag(f"the translation of {_pattern_text(m.match)} does not compile with regex: "
                                f"{result.error}; this line cannot work in sigc (please report it)",
                                m.match.pattern_location)


# Results of the database being linted (held, so that its id cannot be reused meanwhile).
_compiled: tuple[Database, dict[CompileKey, Compiled]] | None = None
PARALLEL_MIN = 2000  # distinct translations below which a second process costs more than it saves


def _compile_key(m: AnalyzedMatch) -> CompileKey | None:
    """None when there is nothing to compile: no translation (SIG2xx said why), or one that
    sigc.pcre already found does not compile (SIG204)."""
    translated = m.pattern.translated
    if translated is None or any(p.code == "SIG204" for p in m.pattern.problems):
        return None
    return translated, m.match.caseless, m.match.dotall


def _compiled_of(m: AnalyzedMatch, results: dict[CompileKey, Compiled]) -> Compiled | None:
    """The line's translation compiled (by its analysis, else in ``results``); None: nothing to compile."""
    if m.compiled is not None:
        return m.compiled
    key = _compile_key(m)
    return None if key is None else results[key]


def compile_results(db: Database) -> dict[CompileKey, Compiled]:
    """Every distinct translation of the database that its analysis did not compile, compiled
    once (kept until :func:`lint` ends)."""
    global _compiled
    if _compiled is not None and _compiled[0] is db:
        return _compiled[1]
    uncompiled = (m for m in db.matches if m.compiled is None)
    keys = list(dict.fromkeys(k for k in map(_compile_key, uncompiled) if k is not None))
    results = dict(zip(keys, _compile_many(keys), strict=True))
    _compiled = (db, results)
    return results


def _compile_many(keys: Sequence[CompileKey]) -> list[Compiled]:
    """:func:`~sigc.analyze.compile_translation` of each key, in order; a forked child does the second half when
    there are many and forking is safe (:mod:`sigc.halves`)."""
    if len(keys) < PARALLEL_MIN or not halves.can_fork():
        return _compile_all(keys)
    return halves.in_two(_compile_all, keys, len(keys) // 2)


def _compile_all(keys: Sequence[CompileKey]) -> list[Compiled]:
    return [compile_translation(*k) for k in keys]


class TranslationKeepsGroups(Rule):
    """The translation must number its groups as PCRE does, or every ``$N`` shifts."""

    code = "SIG502"
    severity = Severity.ERROR
    summary = "translated pattern has a different number of groups than the PCRE pattern"

    def check(self, db: Database) -> Iterator[Diagnostic]:
        results = compile_results(db)
        for m in db.matches:
            result = _compiled_of(m, results)
            if result is not None and result.groups is not None and result.groups != m.pattern.groups:
                yield self.diag(f"PCRE sees {m.pattern.groups} group(s) in {_pattern_text(m.match)} but its "
                                f"translation has {result.groups}: templates would read the wrong groups "
                                "(please report it)", m.match.pattern_location)


class CatastrophicBacktracking(MatchRule):
    """A repeated item that can split the same bytes between its iterations in many ways."""

    code = "SIG503"
    severity = Severity.WARNING
    summary = "nested quantifiers that can backtrack catastrophically"

    def check_match(self, m: AnalyzedMatch) -> Iterator[Diagnostic]:
        if not m.pattern.nested_quantifier or not _parsed(m):
            return
        tree = tree_of(m)
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


_ESCAPE = re.compile(rb"\\(x[0-9a-fA-F]{2}|[\s\S])")
_BINARY_HEX = frozenset(range(0x20)) - {0x09, 0x0A, 0x0D} | {0x7F}


def binary_escape(pattern: bytes) -> bytes | None:
    """The first escape that spells a binary byte (``\\0``, ``\\x01``…), or None."""
    for m in _ESCAPE.finditer(pattern):
        body = m.group(1)
        if body == b"0" or (body[:1] == b"x" and len(body) == 3 and int(body[1:], 16) in _BINARY_HEX):
            return m.group()
    return None


def dot_offsets(pattern: bytes) -> Iterator[int]:
    """Offsets of ``.`` outside classes and escapes (what PCRE reads as 'any byte')."""
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == 0x5C:  # backslash
            i += 2
        elif c == 0x5B:  # [
            i = _class_end(pattern, i)
        elif c == 0x2E:
            yield i
            i += 1
        else:
            i += 1


def _class_end(p: bytes, start: int) -> int:
    """The offset after the class that starts at ``start`` (a ``]`` first is literal)."""
    i = start + 1
    if i < len(p) and p[i] == 0x5E:
        i += 1
    if i < len(p) and p[i] == 0x5D:
        i += 1
    while i < len(p):
        if p[i] == 0x5C:
            i += 2
        elif p[i] == 0x5B and p[i + 1 : i + 2] in (b":", b".", b"="):
            end = p.find(p[i + 1 : i + 2] + b"]", i + 2)
            i = end + 2 if end >= 0 else i + 1
        elif p[i] == 0x5D:
            return i + 1
        else:
            i += 1
    return i


class DotOnBinary(MatchRule):
    """``.`` does not match LF without ``s``: on binary data the line fails now and then."""

    code = "SIG504"
    severity = Severity.WARNING
    summary = "'.' without the s flag in a pattern on binary data (it never matches byte 0x0a)"

    def check_match(self, m: AnalyzedMatch) -> Iterator[Diagnostic]:
        if not m.pattern.dot_without_dotall or not _parsed(m):
            return
        escape = binary_escape(m.match.pattern)
        offset = next((i for i in dot_offsets(m.match.pattern) if m.match.pattern[i + 1 : i + 2] not in (b"*", b"+")), None)
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

    def check_match(self, m: AnalyzedMatch) -> Iterator[Diagnostic]:
        if _parsed(m) and not m.pattern.anchored:
            yield self.diag("pattern does not start with '^': Nmap searches the whole response, so it may "
                            "match in the middle of another service's reply (and it is slower to reject)",
                            m.match.pattern_location)


# ---------------------------------------------------------------------------------------------
# Templates and groups (SIG51x)


class GroupMissing(MatchRule):
    """``$N`` beyond the pattern's groups: Nmap blanks the field on every match."""

    code = "SIG510"
    severity = Severity.WARNING
    summary = "template uses a group the pattern does not have (the field is always empty)"

    def check_match(self, m: AnalyzedMatch) -> Iterator[Diagnostic]:
        if not _parsed(m):
            return
        groups = m.pattern.groups
        for f, (_, template) in zip(m.match.fields, m.templates, strict=True):
            highest = template.max_group()
            if highest > groups:
                yield self.diag(f"{_field_name(f.key)} template uses group {highest} but the pattern has "
                                f"{_groups(groups)}: Nmap blanks this field on every match", f.location)


def _field_name(key: Field) -> str:
    return "cpe:" if key is Field.CPE else f"{key.value}/"


def _groups(n: int) -> str:
    return "no groups" if n == 0 else "1 group" if n == 1 else f"{n} groups"


class GroupUnused(MatchRule):
    """A capturing group that nothing reads: ``(?:…)`` says the same, faster."""

    code = "SIG511"
    severity = Severity.INFO
    summary = "capturing group that no template and no backreference uses"

    def check_match(self, m: AnalyzedMatch) -> Iterator[Diagnostic]:
        if not _parsed(m) or not m.pattern.groups or any(t.always_fails for _, t in m.templates):
            return
        tree = tree_of(m)
        if tree is None:
            return
        used = _template_groups(m) | {n.number for n in _all_nodes(tree) if isinstance(n, Backref)}
        for node in _all_nodes(tree):
            if isinstance(node, Group) and node.kind is GroupKind.CAPTURE and node.index not in used:
                hint = "" if node.index <= 9 else " (templates can only read groups 1-9)"
                yield self.diag(f"group {node.index} is captured but no template or backreference uses it{hint}; "
                                "write (?:…) if it only groups", m.match.pattern_location.shifted(node.offset))


class UnsetGroupAborts(MatchRule):
    """7.93 (PCRE1) asserts when a template reads an unset group below a set one."""

    code = "SIG512"
    severity = Severity.ERROR
    summary = "template uses a group that can be unset while a later group is set (Nmap 7.93 aborts)"

    def check_match(self, m: AnalyzedMatch) -> Iterator[Diagnostic]:
        if not _parsed(m) or not m.pattern.groups:
            return
        tree = tree_of(m)
        if tree is None:
            return
        optional = _optional_groups(tree)
        mandatory = [i for i in range(1, tree.groups + 1) if i not in optional]
        for f, (_, template) in zip(m.match.fields, m.templates, strict=True):
            for n in sorted(_parts_groups(template)):
                later = [i for i in mandatory if i > n]
                if n in optional and later:
                    yield self.diag(f"{_field_name(f.key)} uses group {n}, which can be unset while group {later[0]} "
                                    "is always set: Nmap 7.93 dies with an assertion failure on such a response "
                                    "(newer Nmap blanks the field); make the group mandatory or reorder the groups",
                                    f.location)
                    break


def _parts_groups(template: Template) -> set[int]:
    return {p.n for p in template.parts if not isinstance(p, TemplateLiteral | Invalid)}


def _optional_groups(tree: Tree) -> set[int]:
    """Capture groups that need not take part in a match (under ``?``/``*``/``{0,…}``, in one
    alternative of several, or in a lookaround)."""
    optional: set[int] = set()
    _mark_optional(tree.branches, len(tree.branches) > 1, optional)
    return optional


def _mark_optional(branches: Sequence[Sequence[Node]], optional: bool, out: set[int]) -> None:
    for branch in branches:
        for node in branch:
            _mark_node(node, optional, out)


def _mark_node(node: Node, optional: bool, out: set[int]) -> None:
    if isinstance(node, Repeat):
        _mark_node(node.item, optional or node.min == 0, out)
    elif isinstance(node, Group):
        inner = optional or node.kind.is_lookaround or len(node.branches) > 1
        if node.kind is GroupKind.CAPTURE and (optional or node.kind.is_lookaround):
            out.add(node.index)
        _mark_optional(node.branches, inner, out)


class FieldRepeated(MatchRule):
    """A second ``p/`` (``v/``…) on one line replaces the first."""

    code = "SIG513"
    severity = Severity.WARNING
    summary = "version field given twice on one line (the later replaces the earlier)"

    def check_match(self, m: AnalyzedMatch) -> Iterator[Diagnostic]:
        seen: dict[Field, int] = {}
        for f in m.match.fields:
            if f.key is Field.CPE:
                continue
            if f.key in seen:
                yield self.diag(f"second {f.key.value}/ field on this line: Nmap keeps only this one, the "
                                f"{f.key.value}/ at column {seen[f.key]} is ignored", f.location)
            seen[f.key] = f.location.col


class CpeSlotRepeated(MatchRule):
    """Nmap keeps one CPE per part (a, h, o): a later one for the same part overwrites."""

    code = "SIG514"
    severity = Severity.INFO
    summary = "two CPEs for the same part on one line (Nmap reports only the later)"

    def check_match(self, m: AnalyzedMatch) -> Iterator[Diagnostic]:
        seen: dict[str, bytes] = {}
        for f, (_, template) in zip(m.match.fields, m.templates, strict=True):
            if f.key is not Field.CPE:
                continue
            slot = template_slot(template)
            if slot is None:
                continue
            if slot in seen:
                yield self.diag(f"second cpe:/{slot}: on this line: Nmap keeps one CPE per part, so "
                                f"cpe:/{_show(seen[slot])} is replaced by cpe:/{_show(f.text)}", f.location)
            seen[slot] = f.text


class CpeTooShort(MatchRule):
    """A CPE needs at least part, vendor and product (``cpe:/a:vendor:product``)."""

    code = "SIG515"
    severity = Severity.INFO
    summary = "CPE without a product (fewer than 3 components)"

    def check_match(self, m: AnalyzedMatch) -> Iterator[Diagnostic]:
        for f in m.match.fields:
            if f.key is not Field.CPE or b"$" in f.text:
                continue
            parts = f.text.split(b":")
            if len(parts) < 3 or not parts[2]:
                yield self.diag(f"cpe:/{_show(f.text)} has no product: a CPE names at least "
                                "part:vendor:product (cpe:/a:apache:http_server)", f.location)


# ---------------------------------------------------------------------------------------------
# Order of lines in a probe (SIG52x)


def _probe_lines(db: Database) -> Iterator[list[AnalyzedMatch]]:
    by_probe: dict[int, list[AnalyzedMatch]] = {}
    for m in db.matches:
        by_probe.setdefault(m.probe, []).append(m)
    for lines in by_probe.values():
        yield sorted(lines, key=lambda m: m.seq)


def _flags(match: Match) -> frozenset[str]:
    return frozenset(match.flags)


class DuplicatePattern(Rule):
    """The same pattern and flags earlier in the probe: this line never matches first."""

    code = "SIG520"
    severity = Severity.WARNING
    summary = "same pattern and flags as an earlier line of the probe (this line can never match first)"

    def check(self, db: Database) -> Iterator[Diagnostic]:
        for lines in _probe_lines(db):
            first: dict[tuple[bytes, frozenset[str]], AnalyzedMatch] = {}
            for m in lines:
                key = (m.match.pattern, _flags(m.match))
                earlier = first.setdefault(key, m)
                if earlier is not m:
                    e = earlier.match
                    yield self.diag(f"same pattern as {_line_ref(e, m.match.location)} ({e.kind.value} {e.service}): "
                                    "the first line that matches wins, so this one never does",
                                    m.match.pattern_location)


@dataclass(frozen=True, slots=True)
class _LiteralLine:
    """An earlier line whose pattern is exactly ``^literal``."""

    line: AnalyzedMatch
    literal: bytes


def _pure_literal(m: AnalyzedMatch) -> bytes | None:
    """``literal`` if the pattern is exactly ``^literal`` (no other content)."""
    analysis = m.pattern
    if not _parsed(m) or not analysis.anchored or analysis.groups or analysis.min_length != len(analysis.prefix):
        return None  # cheap tests first: most lines are not a bare literal
    tree = tree_of(m)
    if tree is None or tree.inline_options or len(tree.branches) != 1:
        return None
    items = tree.branches[0]
    if (len(items) == 2 and isinstance(items[0], Anchor) and items[0].kind is AnchorKind.START
            and isinstance(items[1], Literal) and items[1].data):
        return items[1].data
    return None


def _shadows(earlier: _LiteralLine, later: AnalyzedMatch) -> bool:
    """Every subject ``later`` matches starts with ``earlier.literal`` (so ``earlier`` matches it).

    ``PatternAnalysis.prefix`` is lower-cased for caseless patterns, so a case-sensitive
    ``^literal`` only covers a caseless later line when the literal has no letters."""
    if not _parsed(later) or not later.pattern.anchored:
        return False
    prefix, literal = later.pattern.prefix, earlier.literal
    if earlier.line.match.caseless:
        return prefix.lower().startswith(literal.lower())
    if later.match.caseless:
        return literal.lower() == literal.upper() and prefix.startswith(literal)
    return prefix.startswith(literal)


class ShadowedLine(Rule):
    """An earlier ``^literal`` line matches everything this anchored line matches."""

    code = "SIG521"
    severity = Severity.WARNING
    summary = "line shadowed by an earlier ^literal line of the probe (it can never match first)"

    def check(self, db: Database) -> Iterator[Diagnostic]:
        for lines in _probe_lines(db):
            literals: dict[tuple[bytes, bool], _LiteralLine] = {}  # (literal, caseless) -> first line
            seen: set[tuple[bytes, frozenset[str]]] = set()
            for m in lines:
                key = (m.match.pattern, _flags(m.match))
                if key not in seen:  # an exact repeat is SIG520's
                    yield from self._check_line(m, literals)
                seen.add(key)
                literal = _pure_literal(m)
                if literal is not None:
                    caseless = m.match.caseless
                    literals.setdefault((literal.lower() if caseless else literal, caseless), _LiteralLine(m, literal))

    def _check_line(self, m: AnalyzedMatch, literals: dict[tuple[bytes, bool], _LiteralLine]) -> Iterator[Diagnostic]:
        if not literals or not _parsed(m) or not m.pattern.anchored:
            return
        prefix = m.pattern.prefix
        candidates = [literals.get((prefix[:k], False)) for k in range(1, len(prefix) + 1)]
        candidates += [literals.get((prefix[:k].lower(), True)) for k in range(1, len(prefix) + 1)]
        shadowing = [c for c in candidates if c is not None and c.line is not m and _shadows(c, m)]
        if shadowing:
            e = min(shadowing, key=lambda c: c.line.seq).line.match
            yield self.diag(f"{_line_ref(e, m.match.location)} ({e.kind.value} {e.service} {_pattern_text(e)}) "
                            "matches every response this line matches, and the first line that matches wins: "
                            "this line never does; move it above or make the earlier pattern stricter",
                            m.match.pattern_location)


class SslServiceName(MatchRule):
    """``ssl/NAME`` only means 'tunnelled' on a hard match, and needs a name after the slash."""

    code = "SIG522"
    severity = Severity.WARNING
    summary = "'ssl/' service name that does not work (on a softmatch, or with nothing after it)"

    def check_match(self, m: AnalyzedMatch) -> Iterator[Diagnostic]:
        service = m.match.service
        if not service.startswith("ssl/"):
            return
        loc = m.match.location.shifted(len(m.match.kind.value) + 1)
        if service == "ssl/":
            yield self.diag("service 'ssl/' names nothing after the tunnel: the port is reported with an empty "
                            "service name", loc)
        elif m.match.soft:
            yield self.diag(f"softmatch {service}: only a hard match turns 'ssl/' into a TLS tunnel; a softmatch "
                            f"reports the name '{service}' literally", loc)


# ---------------------------------------------------------------------------------------------
# Fallbacks (SIG53x)


def _fallback_names(probe: Probe) -> Iterator[tuple[str, Location]]:
    """Each name of the ``fallback`` directive Nmap uses (the last one), with its location."""
    directive = probe.directive("fallback")
    if directive is None or probe.fallback is None:
        return
    start = _value_start(directive)
    for found in re.finditer(r"[^, \t\r\n]+", directive.text):
        yield found.group(), start.shifted(found.start())


class FallbackOtherProtocol(ProbeRule):
    """Nmap looks up a fallback name in the other protocol when its own has none."""

    code = "SIG530"
    severity = Severity.WARNING
    summary = "fallback resolves to a probe of the other protocol"

    def check_probe(self, p: AnalyzedProbe, db: Database) -> Iterator[Diagnostic]:
        probe = p.probe
        if probe.is_null:
            return
        other = Protocol.UDP if probe.protocol is Protocol.TCP else Protocol.TCP
        seen: set[str] = set()
        for name, loc in _fallback_names(probe):
            if name in seen or (name == "NULL" and probe.protocol is Protocol.TCP):
                continue  # a repeated name is SIG532's
            seen.add(name)
            target = db.probe_named(other, name)
            if target is None or target.probe.is_null:  # a UDP probe naming NULL is SIG534 (sigc.analyze)
                continue
            if db.probe_named(probe.protocol, name) is None:
                yield self.diag(f"fallback {name} of {probe.protocol.value} probe {probe.name} is a {other.value} "
                                f"probe (there is no {probe.protocol.value} probe of that name): its lines are tried "
                                f"on {probe.protocol.value} responses, where they rarely fit (DNS over TCP has a "
                                "length prefix, for one)", loc)


class FallbackSelf(ProbeRule):
    """A probe's own lines are always tried first: naming itself only repeats them."""

    code = "SIG531"
    severity = Severity.WARNING
    summary = "probe names itself as a fallback"

    def check_probe(self, p: AnalyzedProbe, db: Database) -> Iterator[Diagnostic]:
        probe = p.probe
        if probe.is_null:
            return
        for name, loc in _fallback_names(probe):
            if name == probe.name:
                yield self.diag(f"probe {probe.name} names itself as a fallback: its own lines are always tried "
                                "first, so naming it runs them twice; remove the name", loc)


class FallbackRedundant(ProbeRule):
    """A name given twice, or NULL on a TCP probe (Nmap appends NULL itself)."""

    code = "SIG532"
    severity = Severity.INFO
    summary = "fallback name repeated, or NULL named on a TCP probe (Nmap appends it anyway)"

    def check_probe(self, p: AnalyzedProbe, db: Database) -> Iterator[Diagnostic]:
        probe = p.probe
        if probe.is_null:
            return
        seen: set[str] = set()
        for name, loc in _fallback_names(probe):
            if name in seen and name != probe.name:
                yield self.diag(f"fallback {name} is named twice: its lines are tried twice", loc)
            elif name == "NULL" and probe.protocol is Protocol.TCP:
                yield self.diag("Nmap always tries the NULL probe's lines last for a TCP probe; naming it "
                                "here makes them run twice", loc)
            seen.add(name)


class FallbackOnNull(ProbeRule):
    """Nmap sets the NULL probe's chain to itself alone and ignores its ``fallback``."""

    code = "SIG533"
    severity = Severity.WARNING
    summary = "fallback on the NULL probe (Nmap ignores it)"

    def check_probe(self, p: AnalyzedProbe, db: Database) -> Iterator[Diagnostic]:
        directive = p.probe.directive("fallback")
        if p.probe.is_null and directive is not None:
            yield self.diag(f"Nmap ignores 'fallback' on the NULL probe ({p.probe.name}): only its own lines "
                            "are tried", directive.location)


# ---------------------------------------------------------------------------------------------
# Probe directives (SIG54x)


class SslportsWithoutPorts(ProbeRule):
    """Without ``ports`` the probe reaches plain connections only through its rarity."""

    code = "SIG540"
    severity = Severity.INFO
    summary = "sslports on a probe without ports"

    def check_probe(self, p: AnalyzedProbe, db: Database) -> Iterator[Diagnostic]:
        probe = p.probe
        directive = probe.directive("sslports")
        if directive is not None and not probe.ports and not probe.is_null:
            yield self.diag(f"probe {probe.name} has sslports but no ports: on a plain (non-TLS) connection it is "
                            f"sent to no port first, only by rarity ({probe.rarity or 5})", directive.location)


_PORT_ITEM = re.compile(r"(\d+)(?:-(\d+))?")


def _port_items(probe: Probe, keyword: str) -> Iterator[tuple[int, int, Location, Directive]]:
    """Each ``a`` or ``a-b`` of the probe's ``ports``/``sslports`` lines, with its location."""
    for directive in probe.directives:
        if directive.keyword != keyword:
            continue
        start = _value_start(directive)
        for found in _PORT_ITEM.finditer(directive.text):
            low = int(found.group(1))
            high = int(found.group(2)) if found.group(2) else low
            yield low, high, start.shifted(found.start()), directive


class PortZero(ProbeRule):
    """Port 0 parses but is no service port."""

    code = "SIG541"
    severity = Severity.WARNING
    summary = "port 0 in ports or sslports"

    def check_probe(self, p: AnalyzedProbe, db: Database) -> Iterator[Diagnostic]:
        for keyword in ("ports", "sslports"):
            for low, _, loc, _ in _port_items(p.probe, keyword):
                if low == 0:
                    yield self.diag(f"port 0 in {keyword} of probe {p.probe.name}: no service listens there; "
                                    "a typo for a real port?", loc)


class PortListedTwice(ProbeRule):
    """A port given twice (repeated, or in overlapping ranges) in one probe's list."""

    code = "SIG542"
    severity = Severity.INFO
    summary = "port listed twice (duplicate or overlapping ranges) in ports or sslports"

    def check_probe(self, p: AnalyzedProbe, db: Database) -> Iterator[Diagnostic]:
        for keyword in ("ports", "sslports"):
            seen: list[tuple[int, int, Location]] = []
            for low, high, loc, _ in _port_items(p.probe, keyword):
                clash = next(((a, b, where) for a, b, where in seen if a <= high and low <= b), None)
                if clash is not None:
                    a, b, where = clash
                    shown = f"{low}-{high}" if low != high else str(low)
                    other = f"{a}-{b}" if a != b else str(a)
                    at = f"column {where.col}" if where.line == loc.line and where.path == loc.path else f"line {where.line}"
                    yield self.diag(f"{keyword} {shown} overlaps {other} ({at}) in probe {p.probe.name}", loc)
                seen.append((low, high, loc))


class RarityMissing(ProbeRule):
    """Every probe but NULL should say its rarity; Nmap's default is 5."""

    code = "SIG543"
    severity = Severity.WARNING
    summary = "probe without rarity (Nmap uses 5)"

    def check_probe(self, p: AnalyzedProbe, db: Database) -> Iterator[Diagnostic]:
        probe = p.probe
        if probe.rarity is None and not probe.is_null and probe.ports:
            yield self.diag(f"probe {probe.name} has no rarity line: Nmap uses 5, so it is sent to unlisted ports "
                            "from --version-intensity 5; say 'rarity N' explicitly", probe.location)


class NoPortsNoRarity(ProbeRule):
    """Neither ``ports`` nor ``rarity``: the probe is sent nowhere in particular, at rarity 5."""

    code = "SIG544"
    severity = Severity.WARNING
    summary = "probe with neither ports nor rarity"

    def check_probe(self, p: AnalyzedProbe, db: Database) -> Iterator[Diagnostic]:
        probe = p.probe
        if probe.rarity is None and not probe.ports and not probe.is_null:
            yield self.diag(f"probe {probe.name} has neither ports nor rarity: it is never sent first to any port, "
                            "and to every port from --version-intensity 5 (the default rarity); add both", probe.location)


class TcpwrappedmsIgnored(ProbeRule):
    """Only the NULL probe's ``tcpwrappedms`` is used."""

    code = "SIG545"
    severity = Severity.INFO
    summary = "tcpwrappedms on a probe other than NULL (it has no effect)"

    def check_probe(self, p: AnalyzedProbe, db: Database) -> Iterator[Diagnostic]:
        directive = p.probe.directive("tcpwrappedms")
        if directive is not None and not p.probe.is_null:
            yield self.diag(f"tcpwrappedms on probe {p.probe.name} has no effect: Nmap only uses the NULL "
                            "probe's", directive.location)


class NameDiffersByCase(Rule):
    """Fallback lookup is case-sensitive: ``getrequest`` is not ``GetRequest``."""

    code = "SIG546"
    severity = Severity.WARNING
    summary = "probe names that differ only in letter case"

    def check(self, db: Database) -> Iterator[Diagnostic]:
        first: dict[str, Probe] = {}
        for p in db.probes:
            probe = p.probe
            earlier = first.setdefault(probe.name.lower(), probe)
            if earlier.name != probe.name:
                where = earlier.location
                ref = f"line {where.line}" if where.path == probe.location.path else str(where)
                yield self.diag(f"probe {probe.name} differs from probe {earlier.name} ({ref}) only in letter case: "
                                "fallback names are case-sensitive, so one is easily named for the other",
                                probe.location.shifted(len(f"Probe {probe.protocol.value} ")))


class FileWithoutProbes(Rule):
    """A probe file that contributes nothing: empty, only comments, or only repeats Probe lines."""

    code = "SIG547"
    severity = Severity.WARNING
    summary = "probe file that defines no probe and adds no line to one"

    def check(self, db: Database) -> Iterator[Diagnostic]:
        used = {p.probe.location.path for p in db.probes}
        used |= {d.location.path for p in db.probes for d in p.probe.directives}
        used |= {m.match.location.path for m in db.matches}
        if db.exclude is not None:
            used.add(db.exclude.location.path)
        failed = {d.location.path for d in db.diagnostics if d.severity is Severity.ERROR}
        for source in db.sources:
            if source.kind == "probes" and source.path not in used and source.path not in failed:
                yield self.diag("this file defines no probe and adds no line to one (it is empty, or only "
                                "comments): Nmap loads it and detects nothing with it",
                                Location(source.path, 1, 1))


# ---------------------------------------------------------------------------------------------
# Running the rules

RULES: tuple[Rule, ...] = (
    RegexCompiles(),
    TranslationKeepsGroups(),
    CatastrophicBacktracking(),
    DotOnBinary(),
    Unanchored(),
    GroupMissing(),
    GroupUnused(),
    UnsetGroupAborts(),
    FieldRepeated(),
    CpeSlotRepeated(),
    CpeTooShort(),
    DuplicatePattern(),
    ShadowedLine(),
    SslServiceName(),
    FallbackOtherProtocol(),
    FallbackSelf(),
    FallbackRedundant(),
    FallbackOnNull(),
    SslportsWithoutPorts(),
    PortZero(),
    PortListedTwice(),
    RarityMissing(),
    NoPortsNoRarity(),
    TcpwrappedmsIgnored(),
    NameDiffersByCase(),
    FileWithoutProbes(),
)

CODES: dict[str, tuple[Severity, str]] = {r.code: (r.severity, r.summary) for r in RULES}


def _wanted(code: str, select: Iterable[str] | None, ignore: Iterable[str] | None) -> bool:
    """``select``/``ignore`` are code prefixes (``SIG5``, ``SIG520``)."""
    if select is not None and not any(code.startswith(s) for s in select):
        return False
    return not (ignore is not None and any(code.startswith(s) for s in ignore))


def lint(db: Database, *, select: Iterable[str] | None = None, ignore: Iterable[str] | None = None) -> list[Diagnostic]:
    """Every finding of the lint rules (not the parser's or the analysis'), sorted."""
    select = None if select is None else tuple(select)
    ignore = None if ignore is None else tuple(ignore)
    rules = [rule for rule in RULES if _wanted(rule.code, select, ignore)]
    per_line = [rule for rule in rules if isinstance(rule, MatchRule)]
    try:
        findings = [d for m in db.matches for rule in per_line for d in rule.check_match(m)]
        findings += [d for rule in rules if not isinstance(rule, MatchRule) for d in rule.check(db)]
    finally:  # the caches only serve rules of one run; they hold big objects
        _tree.cache_clear()
        _forget_compiled()
    return sort_findings(findings, db)


def _forget_compiled() -> None:
    global _compiled
    _compiled = None


def all_findings(db: Database, *, select: Iterable[str] | None = None,
                 ignore: Iterable[str] | None = None) -> list[Diagnostic]:
    """Parse, analysis and lint findings in one sorted list without duplicates: what
    ``sigc lint`` reports."""
    select = None if select is None else tuple(select)
    ignore = None if ignore is None else tuple(ignore)
    earlier = [d for d in db.diagnostics if _wanted(d.code, select, ignore)]
    return sort_findings([*earlier, *lint(db, select=select, ignore=ignore)], db)


def sort_findings(findings: Iterable[Diagnostic], db: Database | None = None) -> list[Diagnostic]:
    """By file (in the database's source order, then by name), line, column and code; each
    finding once."""
    order = {s.path: i for i, s in enumerate(db.sources)} if db is not None else {}
    unique = dict.fromkeys(findings)
    return sorted(unique, key=lambda d: (order.get(d.location.path, len(order)), d.location.path,
                                         d.location.line, d.location.col, d.code, d.message))
