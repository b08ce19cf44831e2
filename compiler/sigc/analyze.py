"""From parsed files to an analysed database: merged probes, resolved fallbacks, port indexes and
per-pattern metadata. Pure: no I/O, every problem a diagnostic.

Merging several sources (the Nmap database, then ``signatures/*.probes``): a later file may
extend a probe of an earlier one by repeating its ``Probe`` line exactly (same protocol, name and
string) and adding ``match``/``softmatch`` lines, which are tried after the earlier ones, so
Nmap's own verdicts keep their priority; its ``ports``/``sslports`` lines add ports. It may not
change the probe's ``rarity``, ``fallback`` or waits. New probes are appended to the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sigc import halves
from sigc.diagnostics import Diagnostic, Location, Severity
from sigc.model import Exclude, Match, Probe, Protocol, SourceFile
from sigc.pcre import PatternAnalysis, analyze_pattern
from sigc.tables import RpcEntry, ServiceEntry
from sigc.templates import TemplateProblem, parse_template
from sigscan.fields import Field
from sigscan.matcher.cost import Cost, cost
from sigscan.template import Template

CODES: dict[str, tuple[Severity, str]] = {
    "SIG401": (Severity.ERROR, "fallback names an unknown probe"),
    "SIG402": (Severity.ERROR, "probe redefined with a different string"),
    "SIG403": (Severity.ERROR, "extension of a probe changes its rarity, fallback or waits"),
    "SIG404": (Severity.ERROR, "probe name used twice for the same protocol in one file"),
}

# Directives a later source may add to a probe it extends.
_EXTENDABLE = frozenset({"ports", "sslports"})


@dataclass(frozen=True, slots=True)
class AnalyzedMatch:
    match: Match
    id: int
    probe: int
    seq: int
    source: int
    pattern: PatternAnalysis
    templates: tuple[tuple[Field, Template], ...]  # in the order written (repeats kept)
    cost: Cost | None = None  # backtracking bound of the translation (None: unbounded or none)

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
) -> Database:
    diagnostics: list[Diagnostic] = [d for f in files for d in f.diagnostics]
    merged, exclude = _merge(files, diagnostics)
    ids = {(m.probe.protocol, m.probe.name): i for i, m in enumerate(merged)}
    null_id = next((i for i, m in enumerate(merged) if m.probe.is_null and m.probe.protocol is Protocol.TCP), None)
    probes: list[AnalyzedProbe] = []
    matches: list[AnalyzedMatch] = []
    templates: _TemplateCache = {}
    patterns = iter(analyze_patterns([(m.pattern, m.caseless, m.dotall) for e in merged for m, _ in e.matches]))
    for pid, entry in enumerate(merged):
        chain = _chain(entry.probe, pid, ids, null_id, diagnostics)
        for seq, (match, source) in enumerate(entry.matches):
            analysis, bound = next(patterns)
            matches.append(_analyze_match(match, analysis, bound, len(matches), pid, seq, source,
                                          diagnostics, templates))
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
    null_id: int | None,
    diagnostics: list[Diagnostic],
) -> tuple[int, ...]:
    """Nmap's ``compileFallbacks``: the probe, its fallbacks (same protocol first, then any),
    then NULL for TCP probes. The NULL probe's chain is itself alone."""
    chain = [pid]
    if probe.is_null:
        return tuple(chain)
    other = Protocol.UDP if probe.protocol is Protocol.TCP else Protocol.TCP
    for name in probe.fallback or ():
        if name == "NULL" and probe.protocol is Protocol.TCP and null_id is not None:
            chain.append(null_id)
            continue
        target = ids.get((probe.protocol, name), ids.get((other, name)))
        if target is None:
            where = probe.directive("fallback")
            diagnostics.append(_diag("SIG401", f"fallback {name!r} of probe {probe.name} is not a probe", where.location if where else probe.location))
            continue
        chain.append(target)
    if probe.protocol is Protocol.TCP and null_id is not None:
        chain.append(null_id)
    return tuple(chain)


# Parsed templates by (text, field): a real file repeats most of its field texts (36,000 fields,
# 14,000 distinct texts), and a parse depends on nothing else. Templates are immutable.
_TemplateCache = dict[tuple[bytes, Field], tuple[Template, tuple[TemplateProblem, ...]]]


def _analyze_match(match: Match, analysis: PatternAnalysis, bound: Cost | None, mid: int, pid: int,
                   seq: int, source: int, diagnostics: list[Diagnostic], cache: _TemplateCache) -> AnalyzedMatch:
    for p in analysis.problems:
        diagnostics.append(Diagnostic(p.code, p.severity, p.message, match.pattern_location.shifted(p.offset)))
    templates = []
    for f in match.fields:
        key = (f.text, f.key)
        parsed = cache.get(key)
        if parsed is None:
            parsed = cache[key] = parse_template(f.text, f.key)
        template, problems = parsed
        body = (4 if f.key is Field.CPE else 1) + 1  # the key and the delimiter
        for tp in problems:
            diagnostics.append(Diagnostic(tp.code, tp.severity, tp.message, f.location.shifted(body + tp.offset)))
        templates.append((f.key, template))
    return AnalyzedMatch(match, mid, pid, seq, source, analysis, tuple(templates), bound)


# -- pattern analysis, on two cores when there is enough of it -------------------------------------

PARALLEL_MIN = 2000  # patterns below which a second process costs more than it saves
PatternKey = tuple[bytes, bool, bool]  # pattern, caseless, dotall
Analysed = tuple[PatternAnalysis, Cost | None]


def analyze_patterns(keys: Sequence[PatternKey], *, parallel: bool | None = None) -> list[Analysed]:
    """:func:`~sigc.pcre.analyze_pattern` of every key, with the runtime's backtracking bound
    (:func:`sigscan.matcher.cost.cost`) of its translation, in order. With ``parallel`` (by
    default: when there are :data:`PARALLEL_MIN` keys or more, at least two CPUs, and a forked
    child is safe here), a forked child analyses the later part (:func:`_split`) while this
    process does the first (:mod:`sigc.halves`): the pure functions give the same results either
    way, in about half the time."""
    if parallel is None:
        parallel = len(keys) >= PARALLEL_MIN and halves.can_fork()
    if not parallel:
        return _analyze_all(keys)
    return halves.in_two(_analyze_all, keys, _split(keys))


CHILD_SHARE = 0.47  # of the work, to the child: it also pickles its results, the parent reads them


def _split(keys: Sequence[PatternKey]) -> int:
    """Where the parent's part ends: the work goes with the patterns' length (the newest
    database's second half is 46 % longer than its first, and took 0.74 s against 0.60 s)."""
    total = sum(len(k[0]) for k in keys)
    goal, seen = total * (1 - CHILD_SHARE), 0
    for i, key in enumerate(keys):
        seen += len(key[0])
        if seen >= goal:
            return i + 1
    return len(keys)


def _analyze_all(keys: Sequence[PatternKey]) -> list[Analysed]:
    out = []
    for pattern, caseless, dotall in keys:
        analysis = analyze_pattern(pattern, caseless=caseless, dotall=dotall)
        translated = analysis.translated
        bound = None if translated is None else cost(translated, analysis.anchored, caseless=caseless, dotall=dotall)
        out.append((analysis, bound))
    return out


def _diag(code: str, message: str, loc: Location) -> Diagnostic:
    return Diagnostic(code, CODES[code][0], message, loc)
