"""Nmap's PCRE patterns: the entry points. Nmap 7.93 compiles ``match`` patterns with PCRE1
8.39 (HEAD: PCRE2 10.47), without UTF, with CASELESS for ``i`` and DOTALL for ``s``, and
searches the whole byte buffer from offset 0. :func:`parse_pattern` reads a pattern with PCRE1's
rules into a small tree (:mod:`sigc.regex.parse`); :func:`analyze_pattern` also writes the tree
back in the syntax of ``regex`` (:mod:`sigc.regex.translate`, flags from
:func:`~sigc.regex.translate.regex_flags`) and derives what the runtime needs to skip hopeless
patterns cheaply (:mod:`sigc.regex.literals`).

Prefilter contract (``PatternAnalysis.prefix`` / ``required`` / ``first_bytes``): if the pattern
matches ``subject``, then, with ``s = subject.lower()`` when the pattern is caseless (ASCII folding
only, like PCRE without UTF) and ``s = subject`` otherwise, ``s.startswith(prefix)`` holds for an
anchored pattern, ``prefix in s`` holds for any pattern, every ``r in required`` is in ``s``, and
``subject[0] in first_bytes`` when ``first_bytes`` is not None (``subject`` is then not empty).
``first_bytes`` is left None where an anchored ``prefix`` says more (its first byte).

Problems are data (:class:`~sigc.regex.problems.PatternProblem`), never exceptions. Nothing here
compiles a regex per call except the rare patterns whose translation could still be refused by
``regex`` (backreferences, lookbehinds).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import regex  # type: ignore[import-untyped]  # no stubs for regex in the venv

from sigc.diagnostics import Severity
from sigc.regex.literals import Analyzer, first_bytes, is_anchored, required_literals, split_head
from sigc.regex.parse import Fail, Parser
from sigc.regex.problems import PatternProblem, problem, show
from sigc.regex.translate import regex_flags, translate
from sigc.regex.tree import Tree


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


def parse_pattern(pattern: bytes, *, caseless: bool, dotall: bool, sized: bool = True,
                  positions: bool = False) -> tuple[Tree | None, tuple[PatternProblem, ...]]:
    """The tree of a PCRE pattern (None if PCRE would refuse it) and the problems found. Without
    ``sized``, a pattern too large to compile (SIG208, SIG210) still gets its tree: for tools
    that measure it. With ``positions``, literals and byte sets say where they are written (see
    :class:`~sigc.regex.tree.Literal` and :class:`~sigc.regex.tree.ByteSet`), for tools that
    point into the pattern or quote it (lint); the tree means the same, with its literals cut
    where escapes are."""
    parser = Parser(pattern, caseless=caseless, dotall=dotall, positions=positions)
    try:
        tree = parser.parse(sized=sized)
    except Fail as fail:
        return None, _sorted([*parser.problems, fail.problem])
    return tree, _sorted(parser.problems)


def _sorted(problems: list[PatternProblem]) -> tuple[PatternProblem, ...]:
    return tuple(sorted(problems, key=lambda p: p.offset)) if problems else ()


def analyze_pattern(pattern: bytes, *, caseless: bool, dotall: bool) -> PatternAnalysis:
    """Parse, translate and analyse one ``match``/``softmatch`` pattern. Never raises."""
    parser = Parser(pattern, caseless=caseless, dotall=dotall)
    try:
        tree = parser.parse()
    except Fail as fail:
        failed = _sorted([*parser.problems, fail.problem])
        return PatternAnalysis(pattern, None, failed, 0, False, b"", (), 0, False, False, False, False, 0, 0, None)
    problems = parser.problems
    translated = _translation(tree, parser, problems)
    analyzer = Analyzer(caseless)
    info = analyzer.branches(tree.branches)
    if info.min == 0 and translated is not None:
        problems.append(problem("SIG206", "the pattern can match the empty string: Nmap HEAD refuses it and "
                                "Nmap 7.93 reports it for every response", 0))
    trusted = not tree.inline_options  # (?i) would make folded literals unsound
    prefix = info.prefix if trusted else b""
    head_length, rest_offset = split_head(tree, prefix, caseless) if translated is not None else (0, 0)
    anchored = is_anchored(tree.branches)
    return PatternAnalysis(  # positional, in field order: keywords would cost a fifth more
        pattern,  # source
        translated,
        _sorted(problems),
        tree.groups,
        anchored,
        prefix,
        required_literals(info, prefix) if trusted else (),  # required
        info.min,  # min_length
        info.min == 0,  # can_match_empty
        analyzer.nested,  # nested_quantifier
        parser.dot,  # dot_without_dotall
        bool(parser.backrefs),
        head_length,
        rest_offset,
        first_bytes(tree, caseless) if anchored and trusted and not prefix else None,
    )


def _translation(tree: Tree, parser: Parser, problems: list[PatternProblem]) -> bytes | None:
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
        return [problem("SIG204", f"the translation {show(translated)} does not compile with regex: {exc}", 0)]
    return []
