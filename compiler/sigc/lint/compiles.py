"""Rules on the translation compiled with ``regex``, the engine the runtime uses (SIG501, SIG502).

sigc.regex compiles only the few translations it doubts (backreferences, lookbehinds, SIG204);
these rules see every line's translation compiled (:meth:`~sigc.lint.base.LintRun.compiled`).
Their findings would be sigc bugs: every translation of a pattern sigc accepts compiles and
keeps its groups (tests/compiler/test_pcre_real.py checks it on the real files).
"""

from __future__ import annotations

from collections.abc import Iterator

from sigc.diagnostics import Diagnostic, Severity
from sigc.lint.base import LintRun, Rule, pattern_text


class RegexCompiles(Rule):
    """The translated pattern must compile with ``regex``."""

    code = "SIG501"
    severity = Severity.ERROR
    summary = "translated pattern does not compile with the regex module"

    def check(self, run: LintRun) -> Iterator[Diagnostic]:
        for m in run.db.matches:
            result = run.compiled(m)
            if result is not None and result.error is not None:
                yield self.diag(f"the translation of {pattern_text(m.match)} does not compile with regex: "
                                f"{result.error}; this line cannot work in sigc (please report it)",
                                m.match.pattern_location)


class TranslationKeepsGroups(Rule):
    """The translation must number its groups as PCRE does, or every ``$N`` shifts."""

    code = "SIG502"
    severity = Severity.ERROR
    summary = "translated pattern has a different number of groups than the PCRE pattern"

    def check(self, run: LintRun) -> Iterator[Diagnostic]:
        for m in run.db.matches:
            result = run.compiled(m)
            if result is not None and result.groups is not None and result.groups != m.pattern.groups:
                yield self.diag(f"PCRE sees {m.pattern.groups} group(s) in {pattern_text(m.match)} but its "
                                f"translation has {result.groups}: templates would read the wrong groups "
                                "(please report it)", m.match.pattern_location)
