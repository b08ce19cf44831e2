"""Running the rules: which ones, in what order, and the one sorted list of findings."""

from __future__ import annotations

from collections.abc import Iterable

from sigc.analyze import Database
from sigc.diagnostics import Diagnostic, Severity
from sigc.lint.base import LintRun, MatchRule, Rule
from sigc.lint.compiles import RegexCompiles, TranslationKeepsGroups
from sigc.lint.directives import (
    FileWithoutProbes,
    NameDiffersByCase,
    NoPortsNoRarity,
    PortListedTwice,
    PortZero,
    RarityMissing,
    SslportsWithoutPorts,
    TcpwrappedmsIgnored,
)
from sigc.lint.fallbacks import (
    FallbackOnNull,
    FallbackOtherProtocol,
    FallbackRedundant,
    FallbackSelf,
)
from sigc.lint.order import DuplicatePattern, ShadowedLine, SslServiceName
from sigc.lint.patterns import CatastrophicBacktracking, DotOnBinary, Unanchored
from sigc.lint.templates import (
    CpeSlotRepeated,
    CpeTooShort,
    FieldRepeated,
    GroupMissing,
    GroupUnused,
    UnsetGroupAborts,
)

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
    """Every finding of the lint rules (not the parser's or the analysis'), sorted. The rules
    that look at one line run line by line, so that they share the line's tree
    (:class:`~sigc.lint.base.LintRun`); the others after them."""
    select = None if select is None else tuple(select)
    ignore = None if ignore is None else tuple(ignore)
    rules = [rule for rule in RULES if _wanted(rule.code, select, ignore)]
    per_line = [rule for rule in rules if isinstance(rule, MatchRule)]
    run = LintRun(db)
    findings = [d for m in db.matches for rule in per_line for d in rule.check_match(m, run)]
    findings += [d for rule in rules if not isinstance(rule, MatchRule) for d in rule.check(run)]
    return sort_findings(findings, db)


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
