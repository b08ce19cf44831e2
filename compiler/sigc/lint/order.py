"""Rules on the order of a probe's lines and what a line names (SIG520-SIG522).

* ``SIG521`` (shadowed line) is deliberately narrow so that it is sound: the earlier line must
  be exactly ``^literal`` and the later one anchored with a literal prefix that starts with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sigc.analyze import AnalyzedMatch, Database
from sigc.diagnostics import Diagnostic, Severity
from sigc.lint.base import LintRun, MatchRule, Rule, line_ref, parsed, pattern_text
from sigc.regex.tree import Anchor, AnchorKind, Literal
from sigc.syntax.model import Match


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

    def check(self, run: LintRun) -> Iterator[Diagnostic]:
        for lines in _probe_lines(run.db):
            first: dict[tuple[bytes, frozenset[str]], AnalyzedMatch] = {}
            for m in lines:
                key = (m.match.pattern, _flags(m.match))
                earlier = first.setdefault(key, m)
                if earlier is not m:
                    e = earlier.match
                    yield self.diag(f"same pattern as {line_ref(e, m.match.location)} ({e.kind.value} {e.service}): "
                                    "the first line that matches wins, so this one never does",
                                    m.match.pattern_location)


@dataclass(frozen=True, slots=True)
class _LiteralLine:
    """An earlier line whose pattern is exactly ``^literal``."""

    line: AnalyzedMatch
    literal: bytes


def _pure_literal(m: AnalyzedMatch, run: LintRun) -> bytes | None:
    """``literal`` if the pattern is exactly ``^literal`` (no other content)."""
    analysis = m.pattern
    if not parsed(m) or not analysis.anchored or analysis.groups or analysis.min_length != len(analysis.prefix):
        return None  # facts first, the tree only if needed: docs/benchmarks.md, "sigc lint as a package"
    tree = run.tree(m)
    if tree is None or tree.inline_options or len(tree.branches) != 1:
        return None
    start, *rest = tree.branches[0] or (None,)
    if start != _START or not rest or not all(isinstance(n, Literal) for n in rest):
        return None
    return b"".join(n.data for n in rest if isinstance(n, Literal))  # one literal, or its parts (a tree with positions)


_START = Anchor(AnchorKind.START)


def _shadows(earlier: _LiteralLine, later: AnalyzedMatch) -> bool:
    """Every subject ``later`` matches starts with ``earlier.literal`` (so ``earlier`` matches it).

    ``PatternAnalysis.prefix`` is lower-cased for caseless patterns, so a case-sensitive
    ``^literal`` only covers a caseless later line when the literal has no letters."""
    if not parsed(later) or not later.pattern.anchored:
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

    def check(self, run: LintRun) -> Iterator[Diagnostic]:
        for lines in _probe_lines(run.db):
            literals: dict[tuple[bytes, bool], _LiteralLine] = {}  # (literal, caseless) -> first line
            seen: set[tuple[bytes, frozenset[str]]] = set()
            for m in lines:
                key = (m.match.pattern, _flags(m.match))
                if key not in seen:  # an exact repeat is SIG520's
                    yield from self._check_line(m, literals)
                seen.add(key)
                literal = _pure_literal(m, run)
                if literal is not None:
                    caseless = m.match.caseless
                    literals.setdefault((literal.lower() if caseless else literal, caseless), _LiteralLine(m, literal))

    def _check_line(self, m: AnalyzedMatch, literals: dict[tuple[bytes, bool], _LiteralLine]) -> Iterator[Diagnostic]:
        if not literals or not parsed(m) or not m.pattern.anchored:
            return
        prefix = m.pattern.prefix
        candidates = [literals.get((prefix[:k], False)) for k in range(1, len(prefix) + 1)]
        candidates += [literals.get((prefix[:k].lower(), True)) for k in range(1, len(prefix) + 1)]
        shadowing = [c for c in candidates if c is not None and c.line is not m and _shadows(c, m)]
        if shadowing:
            e = min(shadowing, key=lambda c: c.line.seq).line.match
            yield self.diag(f"{line_ref(e, m.match.location)} ({e.kind.value} {e.service} {pattern_text(e)}) "
                            "matches every response this line matches, and the first line that matches wins: "
                            "this line never does; move it above or make the earlier pattern stricter",
                            m.match.pattern_location)


class SslServiceName(MatchRule):
    """``ssl/NAME`` only means 'tunnelled' on a hard match, and needs a name after the slash."""

    code = "SIG522"
    severity = Severity.WARNING
    summary = "'ssl/' service name that does not work (on a softmatch, or with nothing after it)"

    def check_match(self, m: AnalyzedMatch, run: LintRun) -> Iterator[Diagnostic]:
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
