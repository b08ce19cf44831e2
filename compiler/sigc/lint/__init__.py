"""Lint rules over an analysed database: one small class per rule, findings collected as data.

Each rule has a stable code (``SIG5xx``, never renumbered), a default severity and a one-line
summary, and yields :class:`~sigc.diagnostics.Diagnostic` records; nothing here raises on bad
input. :func:`lint` runs the rules over a database in a :class:`LintRun` of its own (what the
rules share while it lasts); :func:`all_findings` adds the parser's and the analysis' own
findings (``Database.diagnostics``) and returns one sorted, de-duplicated list, which is what
``sigc lint`` prints.

Severities follow one rule: ``error`` only where Nmap refuses the file, crashes or hangs, or
where the line can never work in sigc; ``warning`` for lines that silently do less than they
say; ``info`` for style and for facts worth knowing. Problems other modules already report are
not repeated here: a pattern that can match the empty string is ``SIG206`` (sigc.regex), a
literal ``$`` in a template ``SIG310``, a CPE part other than a/h/o ``SIG330`` and too many CPE
components ``SIG331`` (sigc.templates), an unknown fallback ``SIG401`` and a duplicate probe
``SIG404`` (sigc.analyze).

One module per family of rules, each saying the choices its rules make where they need
judgement: :mod:`~sigc.lint.compiles` (SIG501, SIG502: the translation compiled),
:mod:`~sigc.lint.patterns` (SIG503-SIG505: the pattern's tree), :mod:`~sigc.lint.templates`
(SIG51x: version fields and the groups they read), :mod:`~sigc.lint.order` (SIG52x: the order
of a probe's lines), :mod:`~sigc.lint.fallbacks` (SIG53x), :mod:`~sigc.lint.directives`
(SIG54x: the other directives and the files). :mod:`~sigc.lint.base` holds what every rule is
and is given, :mod:`~sigc.lint.run` the list of rules and the running.
"""

from sigc.lint.base import LintRun, MatchRule, ProbeRule, Rule
from sigc.lint.run import CODES, RULES, all_findings, lint, sort_findings

__all__ = ["CODES", "RULES", "LintRun", "MatchRule", "ProbeRule", "Rule", "all_findings", "lint", "sort_findings"]
