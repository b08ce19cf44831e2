"""What every lint rule is and is given: the rule classes, the run they belong to, and the
helpers their messages share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

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
from sigc.regex.tree import Tree
from sigc.syntax.model import Directive, Match

TreeKey = tuple[bytes, bool, bool]  # pattern, caseless, dotall


class LintRun:
    """One run of the rules over one database, and what its rules share while it lasts: the
    PCRE tree of the line they are on, and the translations compiled for SIG501 and SIG502.
    :func:`~sigc.lint.lint` makes one per run; nothing of it outlives the run."""

    __slots__ = ("_compiled", "_tree", "db")

    def __init__(self, db: Database) -> None:
        self.db = db
        self._tree: tuple[TreeKey, bool, Tree | None] | None = None  # the last line's: key, positions, tree
        self._compiled: dict[CompileKey, Compiled] = {}

    def tree(self, m: AnalyzedMatch, *, positions: bool = False) -> Tree | None:
        """The PCRE tree of a line's pattern; ``positions``: with where its literals and byte sets
        are written (:func:`sigc.regex.analysis.parse_pattern`), a tree that serves every rule. The rules
        run line by line, so that a line's rules share its tree, and only the last line's is
        kept: caching more grows with the file (benchmarks/test_compiler_memory.py,
        docs/benchmarks.md, "Compiler memory")."""
        key = (m.match.pattern, m.match.caseless, m.match.dotall)
        last = self._tree
        if last is not None and last[0] == key and (last[1] or not positions):
            return last[2]
        tree = parse_pattern(m.match.pattern, caseless=m.match.caseless, dotall=m.match.dotall, positions=positions)[0]
        self._tree = (key, positions, tree)
        return tree

    def compiled(self, m: AnalyzedMatch) -> Compiled | None:
        """The line's translation compiled with ``regex``; None when there is nothing to compile
        (:func:`compile_key`). An analysis for lint (what ``sigc lint`` runs) has compiled it
        already, on both cores, and kept only the result (benchmarks/test_compiler_memory.py,
        docs/benchmarks.md, "Compiler memory"); for a database analysed otherwise, each distinct
        translation is compiled here, once a run."""
        if m.compiled is not None:
            return m.compiled
        key = compile_key(m)
        if key is None:
            return None
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = compile_translation(*key)
        return found


def compile_key(m: AnalyzedMatch) -> CompileKey | None:
    """None when there is nothing to compile: no translation (SIG2xx said why), or one that
    sigc.regex already found does not compile (SIG204)."""
    translated = m.pattern.translated
    if translated is None or any(p.code == "SIG204" for p in m.pattern.problems):
        return None
    return translated, m.match.caseless, m.match.dotall


class Rule:
    """A lint rule: a stable code, a default severity, a summary and a check over a run's database."""

    code: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]

    def check(self, run: LintRun) -> Iterator[Diagnostic]:
        raise NotImplementedError

    def diag(self, message: str, location: Location) -> Diagnostic:
        return Diagnostic(self.code, self.severity, message, location)


class MatchRule(Rule):
    """A rule that looks at one ``match``/``softmatch`` line at a time."""

    def check(self, run: LintRun) -> Iterator[Diagnostic]:
        for m in run.db.matches:
            yield from self.check_match(m, run)

    def check_match(self, m: AnalyzedMatch, run: LintRun) -> Iterator[Diagnostic]:
        raise NotImplementedError


class ProbeRule(Rule):
    """A rule that looks at one probe (its directives, not its lines) at a time."""

    def check(self, run: LintRun) -> Iterator[Diagnostic]:
        for p in run.db.probes:
            yield from self.check_probe(p, run)

    def check_probe(self, p: AnalyzedProbe, run: LintRun) -> Iterator[Diagnostic]:
        raise NotImplementedError


# -- what messages share -----------------------------------------------------------------------


def parsed(m: AnalyzedMatch) -> bool:
    """Did the pattern translate? (Otherwise SIG2xx said why and the analysis is neutral.)"""
    return m.pattern.translated is not None


def show(data: bytes, limit: int = 60) -> str:
    text = data.decode("latin-1")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pattern_text(match: Match) -> str:
    d = match.delimiter.decode("latin-1")
    return f"m{d}{show(match.pattern)}{d}{match.flags}"


def line_ref(match: Match, here: Location) -> str:
    """``line N`` or ``path:N`` when the other line is in another file."""
    where = match.location
    return f"line {where.line}" if where.path == here.path else f"{where.path}:{where.line}"


def value_start(directive: Directive) -> Location:
    """Where a directive's value starts: after the keyword and its one space."""
    return directive.location.shifted(len(directive.keyword) + 1)
