"""From parsed files to an analysed database: merged probes, resolved fallbacks, port indexes and
per-pattern metadata. Pure: no I/O, every problem a diagnostic.

Merging several sources (the Nmap database, then ``signatures/*.probes``): a later file may
extend a probe of an earlier one by repeating its ``Probe`` line exactly (same protocol, name and
string) and adding ``match``/``softmatch`` lines, which are tried after the earlier ones, so
Nmap's own verdicts keep their priority; its ``ports``/``sslports`` lines add ports. It may not
change the probe's ``rarity``, ``fallback`` or waits. New probes are appended to the order.
"""

from __future__ import annotations

import enum
import functools
import gc
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import regex  # type: ignore[import-untyped]  # no stubs for regex in the venv

from sigc import halves
from sigc.diagnostics import Diagnostic, Location, Severity
from sigc.prefilter import assign_keys
from sigc.regex.analysis import PatternAnalysis, analyze_pattern
from sigc.regex.translate import regex_flags
from sigc.syntax.model import Directive, Exclude, Match, Probe, Protocol, SourceFile
from sigc.syntax.tables import RpcEntry, ServiceEntry
from sigc.templates import TemplateProblem, parse_template
from sigscan.bundle.cost import Cost, LiteralCost, bounds
from sigscan.bundle.fields import Field
from sigscan.bundle.records import KeyRecord
from sigscan.bundle.template import Template

CODES: dict[str, tuple[Severity, str]] = {
    "SIG401": (Severity.ERROR, "fallback names an unknown probe"),
    "SIG402": (Severity.ERROR, "probe redefined with a different string"),
    "SIG403": (Severity.ERROR, "extension of a probe changes its rarity, fallback or waits"),
    "SIG404": (Severity.ERROR, "probe name used twice for the same protocol in one file"),
    "SIG534": (Severity.ERROR, "fallback names the NULL probe from a UDP probe (Nmap refuses the file)"),
}

# Directives a later source may add to a probe it extends.
_EXTENDABLE = frozenset({"ports", "sslports"})


class Purpose(enum.Enum):
    """What an analysis is for, which decides the facts each line gets beyond its pattern
    analysis and templates: each costs time and memory on every line, and only one user reads it."""

    BUILD = "build"  # prefilter keys and backtracking bounds, which the bundle stores
    LINT = "lint"  # the translation compiled with ``regex`` (sigc.lint's SIG501, SIG502)


@dataclass(frozen=True, slots=True)
class Compiled:
    """What compiling a translation with ``regex`` gave: the error text, or the number of groups."""

    error: str | None
    groups: int | None


@dataclass(frozen=True, slots=True)
class AnalyzedMatch:
    match: Match
    id: int
    probe: int
    seq: int
    source: int
    pattern: PatternAnalysis
    templates: tuple[tuple[Field, Template], ...]  # in the order written (repeats kept)
    key: KeyRecord | None  # prefilter key among its probe's lines (assign_keys); None for Purpose.LINT
    cost: Cost | None = None  # backtracking bound of the translation (None: unbounded or none)
    literal_cost: LiteralCost | None = None  # the bound that counts literals in the subject
    compiled: Compiled | None = None  # for Purpose.LINT: the translation compiled (None: nothing to compile)

    def template(self, key: Field) -> Template | None:
        """The template Nmap uses for a field: a repeated field replaces the earlier one."""
        found = None
        for k, t in self.templates:
            if k is key:
                found = t
        return found


@dataclass(frozen=True, slots=True)
class AnalyzedProbe:
    probe: Probe
    id: int
    source: int
    chain: tuple[int, ...]  # probe ids: itself, explicit fallbacks in order, NULL last for TCP
    services: tuple[str, ...]  # sorted names its own lines can produce


@dataclass(frozen=True, slots=True)
class SourceInfo:
    kind: str  # probes, services, rpc
    path: str
    sha256: str
    version_line: str | None


@dataclass(frozen=True, slots=True)
class Database:
    sources: tuple[SourceInfo, ...]
    exclude: Exclude | None
    probes: tuple[AnalyzedProbe, ...]
    matches: tuple[AnalyzedMatch, ...]
    services: tuple[ServiceEntry, ...] = ()
    rpc: tuple[RpcEntry, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)

    def probe_named(self, protocol: Protocol, name: str) -> AnalyzedProbe | None:
        for p in self.probes:
            if p.probe.protocol is protocol and p.probe.name == name:
                return p
        return None

    def port_index(self, *, ssl: bool) -> list[tuple[str, int, int]]:
        """(protocol, port, probe id) rows for ``ports`` (or ``sslports``), sorted."""
        rows = set()
        for p in self.probes:
            portset = p.probe.sslports if ssl else p.probe.ports
            for port in portset:
                rows.add((p.probe.protocol.value, port, p.id))
        return sorted(rows)


@dataclass
class _Merged:
    probe: Probe
    source: int
    matches: list[tuple[Match, int]] = field(default_factory=list)  # (match, source index)


def analyze(
    files: Sequence[SourceFile],
    *,
    services: Sequence[ServiceEntry] = (),
    rpc: Sequence[RpcEntry] = (),
    extra_sources: Sequence[SourceInfo] = (),
    meanwhile: Callable[[], object] | None = None,
    purpose: Purpose = Purpose.BUILD,
) -> Database:
    """The analysed database of ``files`` (merged in order). ``meanwhile``: see
    :func:`analyze_lines`; ``purpose``: which facts each line gets (:class:`Purpose`)."""
    diagnostics: list[Diagnostic] = [d for f in files for d in f.diagnostics]
    merged, exclude = _merge(files, diagnostics)
    if exclude is not None and services:
        diagnostics.extend(_unknown_masks(exclude, services))
    ids = {(m.probe.protocol, m.probe.name): i for i, m in enumerate(merged) if not m.probe.is_null}
    null_id = next((i for i, m in enumerate(merged) if m.probe.is_null and m.probe.protocol is Protocol.TCP), None)
    null_name = None if null_id is None else merged[null_id].probe.name
    probes: list[AnalyzedProbe] = []
    matches: list[AnalyzedMatch] = []
    found = analyze_lines([[m for m, _ in e.matches] for e in merged], meanwhile=meanwhile, purpose=purpose)
    for pid, (entry, (lines, keys)) in enumerate(zip(merged, found, strict=True)):
        chain = _chain(entry.probe, pid, ids, (null_id, null_name), diagnostics)
        for seq, ((match, source), line) in enumerate(zip(entry.matches, lines, strict=True)):
            key = None if keys is None else keys[seq]
            matches.append(_analyze_match(match, line, key, len(matches), pid, seq, source, diagnostics))
        names = tuple(sorted({m.service for m, _ in entry.matches}))
        probes.append(AnalyzedProbe(replace(entry.probe, matches=()), pid, entry.source, chain, names))
    sources = tuple(SourceInfo("probes", f.path, f.sha256, f.version_line) for f in files) + tuple(extra_sources)
    return Database(sources, exclude, tuple(probes), tuple(matches), tuple(services), tuple(rpc), tuple(diagnostics))


def _merge(files: Sequence[SourceFile], diagnostics: list[Diagnostic]) -> tuple[list[_Merged], Exclude | None]:
    merged: list[_Merged] = []
    by_key: dict[tuple[Protocol, str], _Merged] = {}
    exclude: Exclude | None = None
    for index, f in enumerate(files):
        if f.exclude is not None:
            exclude = f.exclude if exclude is None else replace(exclude, items=exclude.items + f.exclude.items)
        seen_here: dict[tuple[Protocol, str], Probe] = {}
        for probe in f.probes:
            if probe.key in seen_here:
                first = seen_here[probe.key]
                diagnostics.append(_diag("SIG404", f"probe {probe.protocol.value} {probe.name} is already defined at line {first.location.line}", probe.location))
                continue
            seen_here[probe.key] = probe
            earlier = by_key.get(probe.key)
            if earlier is None:
                entry = _Merged(probe, index, [(m, index) for m in probe.matches])
                merged.append(entry)
                by_key[probe.key] = entry
            else:
                _extend(earlier, probe, index, diagnostics)
    return merged, exclude


def _extend(earlier: _Merged, probe: Probe, source: int, diagnostics: list[Diagnostic]) -> None:
    if probe.payload != earlier.probe.payload:
        diagnostics.append(_diag("SIG402", f"probe {probe.name} is defined at {earlier.probe.location} with a different string", probe.location))
        return
    for d in probe.directives:
        if d.keyword not in _EXTENDABLE:
            diagnostics.append(_diag("SIG403", f"'{d.keyword}' cannot change probe {probe.name} defined at {earlier.probe.location}", d.location))
    earlier.probe = replace(
        earlier.probe,
        ports=earlier.probe.ports.extended(probe.ports),
        sslports=earlier.probe.sslports.extended(probe.sslports),
        directives=earlier.probe.directives + tuple(d for d in probe.directives if d.keyword in _EXTENDABLE),
    )
    earlier.matches.extend((m, source) for m in probe.matches)


def _chain(
    probe: Probe,
    pid: int,
    ids: dict[tuple[Protocol, str], int],
    null: tuple[int | None, str | None],
    diagnostics: list[Diagnostic],
) -> tuple[int, ...]:
    """Nmap's ``compileFallbacks``: the probe, its fallbacks, then NULL for TCP probes. The NULL
    probe's chain is itself alone. A name is looked up as ``getProbeByName`` does: the NULL
    probe's name for a TCP probe only (``ids`` holds the other probes), then a probe of the same
    protocol, then of any."""
    chain = [pid]
    if probe.is_null:
        return tuple(chain)
    null_id, null_name = null
    other = Protocol.UDP if probe.protocol is Protocol.TCP else Protocol.TCP
    where = probe.directive("fallback")
    at = where.location if where else probe.location
    reported: set[str] = set()
    for name in probe.fallback or ():
        if name == null_name and probe.protocol is Protocol.TCP and null_id is not None:
            chain.append(null_id)
            continue
        target = ids.get((probe.protocol, name), ids.get((other, name)))
        if target is not None:
            chain.append(target)
        elif name == null_name:
            if name not in reported:
                reported.add(name)
                diagnostics.append(_diag("SIG534", f"fallback {name} of UDP probe {probe.name} names the NULL probe, "
                                         "which Nmap finds only for TCP probes: it stops with 'Unknown fallback'",
                                         _name_location(where, name) if where else at))
        else:
            diagnostics.append(_diag("SIG401", f"fallback {name!r} of probe {probe.name} is not a probe", at))
    if probe.protocol is Protocol.TCP and null_id is not None:
        chain.append(null_id)
    return tuple(chain)


def _name_location(directive: Directive, name: str) -> Location:
    """Where ``name`` first stands in a ``fallback`` directive's names."""
    found = next(m for m in re.finditer(r"[^, \t\r\n]+", directive.text) if m.group() == name)
    return directive.location.shifted(len(directive.keyword) + 1 + found.start())


def _analyze_match(match: Match, line: LineFacts, key: KeyRecord | None, mid: int, pid: int, seq: int,
                   source: int, diagnostics: list[Diagnostic]) -> AnalyzedMatch:
    analysis, bound, literal_bound, parsed, compiled = line
    for p in analysis.problems:
        diagnostics.append(Diagnostic(p.code, p.severity, p.message, match.pattern_location.shifted(p.offset)))
    for f, (_, problems) in zip(match.fields, parsed, strict=True):
        body = (4 if f.key is Field.CPE else 1) + 1  # the key and the delimiter
        for tp in problems:
            diagnostics.append(Diagnostic(tp.code, tp.severity, tp.message, f.location.shifted(body + tp.offset)))
    templates = tuple(pair for pair, _ in parsed)
    return AnalyzedMatch(match, mid, pid, seq, source, analysis, templates, key, bound, literal_bound, compiled)


def _unknown_masks(exclude: Exclude, services: Sequence[ServiceEntry]) -> list[Diagnostic]:
    """Nmap stops when an Exclude service name matches no nmap-services entry ("Found no
    matches for the service mask"). It looks only at the protocols being scanned, which sigc
    cannot know: a name is refused here when it matches no entry of the protocol it is given
    (T:, U:, S:) or, without one, of any protocol."""
    found = []
    for item in exclude.items:
        if item.service is None:
            continue
        protocol = _MASK_PROTOCOLS.get(item.protocol or "")
        wanted = re.compile(_wildcards(item.service))
        if not any(wanted.fullmatch(s.name) and protocol in (None, s.protocol) for s in services):
            where = "" if protocol is None else f" for {protocol.upper()}"
            found.append(Diagnostic("SIG117", Severity.ERROR, f"Exclude names {item.service!r}, which matches no "
                                    f"nmap-services entry{where}: Nmap stops (found no matches for the service mask)",
                                    exclude.location.shifted(len("Exclude "))))
    return found


_MASK_PROTOCOLS = {"T": "tcp", "U": "udp", "S": "sctp"}


def _wildcards(mask: str) -> str:
    """Nmap's ``wildtest``: ``*`` any run, ``?`` any one character, the rest literal."""
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in mask)


def _diag(code: str, message: str, loc: Location) -> Diagnostic:
    return Diagnostic(code, CODES[code][0], message, loc)


# -- what each line's text alone decides, on two cores when there is enough of it ------------------

PARALLEL_MIN = 2000  # lines below which a second process costs more than it saves
Parsed = tuple[tuple[Field, Template], tuple[TemplateProblem, ...]]  # (field, template) and its problems
LineFacts = tuple[PatternAnalysis, Cost | None, LiteralCost | None, tuple[Parsed, ...], Compiled | None]
ProbeFacts = tuple[list[LineFacts], list[KeyRecord] | None]  # a probe's lines, and their prefilter keys
CompileKey = tuple[bytes, bool, bool]  # translation, caseless, dotall
Bounds = tuple[Cost | None, LiteralCost | None]


def analyze_lines(probes: Sequence[Sequence[Match]], *, parallel: bool | None = None,
                  meanwhile: Callable[[], object] | None = None, purpose: Purpose = Purpose.BUILD) -> list[ProbeFacts]:
    """For each probe's lines (:func:`_analyze_probes`): their pattern analyses, parsed
    templates, and for ``purpose`` backtracking bounds and prefilter keys or the compiled
    translation, in order. With ``parallel`` (by default: when
    there are :data:`PARALLEL_MIN` lines or more, at least two CPUs, and a forked child is safe
    here), a forked child does some of the probes (:func:`_child_share`) while this process does
    the others (:mod:`sigc.halves`): the pure functions give the same results either way.
    ``meanwhile`` runs while this process waits for the child (only when there is one): later
    work of the caller's, such as the writer's imports."""
    if parallel is None:
        parallel = sum(map(len, probes)) >= PARALLEL_MIN and halves.can_fork()
    work = functools.partial(_analyze_probes, purpose=purpose)
    if not parallel:
        return work(probes)
    # Kept for the wall time it saves a whole build: docs/benchmarks.md, "The analysis on two cores".
    child = set(_child_share(probes))
    order = [i for i in range(len(probes)) if i not in child] + sorted(child)
    done = halves.in_two(work, [probes[i] for i in order], len(order) - len(child), meanwhile)
    by_probe = dict(zip(order, done, strict=True))
    return [by_probe[i] for i in range(len(probes))]


CHILD_SHARE = 0.48  # of the lines, to the child: it also pickles its results, and the parent reads them


def _child_share(probes: Sequence[Sequence[Match]]) -> list[int]:
    """The probes the child analyses, as indexes: the largest first, each taken while the child
    stays within :data:`CHILD_SHARE` of all lines. A probe's keys need all its lines, so probes
    are not split; the two largest (GetRequest, NULL) hold most of a real file's lines, so the
    child gets one of them and small probes to fill up. Work goes with the number of lines,
    in every probe alike (figures: docs/benchmarks.md, "The analysis on two cores")."""
    goal = CHILD_SHARE * sum(map(len, probes))
    taken, size = [], 0
    for i in sorted(range(len(probes)), key=lambda i: (-len(probes[i]), i)):
        if size + len(probes[i]) <= goal:
            taken.append(i)
            size += len(probes[i])
    return sorted(taken)


def _analyze_probes(probes: Sequence[Sequence[Match]], purpose: Purpose = Purpose.BUILD) -> list[ProbeFacts]:
    """Each line's facts (:func:`_line_facts`), with (for a build) the prefilter keys of each
    probe's lines (:func:`~sigc.prefilter.assign_keys`), which depend on all of them."""
    seen = _Seen()
    out: list[ProbeFacts] = []
    for matches in probes:
        lines = [_line_facts(m, seen, purpose) for m in matches]
        keys = None
        if purpose is Purpose.BUILD:
            keys = assign_keys([_KeyFacts(m, line[0]) for m, line in zip(matches, lines, strict=True)])
        out.append((lines, keys))
    return out


@dataclass
class _Seen:
    """What one process's analysis keeps to reuse: each parsed template, per (text, field) (a real
    file repeats most of its field texts: 36,000 fields, 14,000 distinct texts), each compiled
    translation's result, and each pair of backtracking bounds (12,000 lines have 3,000). They
    depend on nothing else; lines that share them share the objects."""

    templates: dict[tuple[bytes, Field], Parsed] = field(default_factory=dict)
    compiled: dict[CompileKey, Compiled] = field(default_factory=dict)
    bounds: dict[Bounds, Bounds] = field(default_factory=dict)


def _line_facts(match: Match, seen: _Seen, purpose: Purpose) -> LineFacts:
    """:func:`~sigc.regex.analysis.analyze_pattern`, each field's parsed template, and for a build the
    runtime's backtracking bounds (:func:`sigscan.bundle.cost.bounds`) of the translation, for
    lint the translation compiled (:func:`compile_translation`)."""
    caseless, dotall = match.caseless, match.dotall
    analysis = analyze_pattern(match.pattern, caseless=caseless, dotall=dotall)
    translated = analysis.translated
    bound = literal_bound = compiled = None
    if translated is not None and purpose is Purpose.BUILD:
        pair = bounds(translated, analysis.anchored, caseless=caseless, dotall=dotall)
        bound, literal_bound = seen.bounds.setdefault(pair, pair)
    if translated is not None and purpose is Purpose.LINT and not any(p.code == "SIG204" for p in analysis.problems):
        key = (translated, caseless, dotall)  # SIG204: sigc.regex.analysis found already that it does not compile
        compiled = seen.compiled.get(key)
        if compiled is None:
            compiled = seen.compiled[key] = compile_translation(*key)
    parsed = []
    for f in match.fields:
        found = seen.templates.get((f.text, f.key))
        if found is None:
            template, problems = parse_template(f.text, f.key)
            found = seen.templates[f.text, f.key] = ((f.key, template), problems)
        parsed.append(found)
    return analysis, bound, literal_bound, tuple(parsed), compiled


def compile_translation(translated: bytes, caseless: bool, dotall: bool) -> Compiled:
    """Compile a translation with ``regex``, the engine the runtime uses, as sigc.lint's SIG501
    and SIG502 need it (slow: the regex module parses patterns in Python).

    Nothing of the compiled pattern is kept: not the pattern, nor an entry in regex's cache,
    nor the reference cycles its parser leaves, which are collected here: with the garbage
    collector paused (:func:`sigc.build.paused_gc`) they would stay to the end of the run, for
    every line (benchmarks/test_compiler_memory.py; figures in docs/benchmarks.md). The
    collection walks the youngest generation, the objects made since the previous one; the first
    one in a process walks everything made since the collector was paused."""
    result = _compile(translated, regex_flags(caseless=caseless, dotall=dotall))
    gc.collect(0)
    return result


def _compile(translated: bytes, flags: int) -> Compiled:
    try:
        compiled = regex.compile(translated, flags, cache_pattern=False)
    except Exception as exc:  # regex.error, or anything else the foreign compiler raises
        return Compiled(str(exc) or type(exc).__name__, None)
    return _compiled_ok(int(compiled.groups))


@functools.cache
def _compiled_ok(groups: int) -> Compiled:
    """One record per group count for the translations that compile (nearly all)."""
    return Compiled(None, groups)


class _KeyFacts:
    """A line as :func:`~sigc.prefilter.assign_keys` reads it."""

    __slots__ = ("anchored", "caseless", "first_bytes", "prefix", "required")

    def __init__(self, match: Match, analysis: PatternAnalysis) -> None:
        self.anchored = analysis.anchored
        self.caseless = match.caseless
        self.prefix = analysis.prefix
        self.required = analysis.required
        self.first_bytes = analysis.first_bytes
