"""``sigscan identify`` against the real ``nmap -sV`` 7.93, on responses generated from the
installed database and served on 127.0.0.1 (acceptance items 2 and 3 of the matcher issue).

(a) **NULL probe.** One banner per NULL ``match``/``softmatch`` line (every line the generator
    manages, verified with PCRE2), one loopback port each, in *banner/once* mode: the banner is
    sent on connect and the port falls silent once Nmap sends its first probe (that connection
    and every later one are closed at once). Nmap's verdict is then the NULL probe's verdict and
    nothing else: a hard match ends the port on the banner; a softmatch or no-match waits out
    the NULL probe's 6 s and every later probe ends on an immediate EOF, which matches nothing
    (Nmap matches only when bytes arrive, §5) and cannot cause ``tcpwrapped`` (bytes were
    received). Compared with ``identify(bundle, "NULL", "TCP", banner)``.

(b) **GetRequest and GenericLines.** Responses generated from those probes' lines, served in
    *responder* mode: nothing on connect (the NULL probe times out after 6 s), then every
    connection's first input is answered with the response and the connection closed. Nmap
    thus tests the same response against each probe it sends, in its order, until a hard
    match. The expected verdict is computed with ``identify`` the way Nmap's engine walks
    (§4): probes whose ``ports`` list the port, in file order, then the others with rarity <= 7;
    after a softmatch only probes with a line for that service (any rarity); the first hard
    match ends the walk and overrides the fields it sets (fields and CPE slots of the softmatch
    survive). The ``--version-trace`` lines must name the same matches (probe, line) in the
    same order.

Every ``<service>`` field is compared (name, product, version, extrainfo, hostname, ostype,
devicetype, method, conf, tunnel, cpe), plus a pseudo-field ``trace``: the ``--version-trace``
match lines (probe, fallback member, line number), which pin the C engine's own verdict apart
from what the version-category NSE scripts do afterwards (§12). A name Nmap takes from
``nmap-services`` (method=table) is not compared. A difference must be listed in :data:`KNOWN`
with its reason and its exact set of fields; the test fails on an unlisted difference and on a
listed one that no longer occurs.

Choice for (b): the expected verdict is the walk above, driven by ``identify`` per probe, rather
than ``identify`` on whichever probe the trace names; the trace is then checked against the
walk, so both the probe order and the matcher are tested.

Timing (2 cores, measured): (a) about 4,000 ports in 20-25 s, (b) about 1,400 ports in 45-50 s.
Nmap is CPU-bound in (b) (a response that misses is searched by thousands of patterns for each
probe): all 5,531 GetRequest/GenericLines lines took 390 s, hence the spread sample.
``-T4`` and ``--min/max-parallelism`` only change how many ports are in flight and the port
scan's timers; the per-probe waits that decide verdicts are not scaled (§5); the intensity is
the default 7. No ``--host-timeout`` (it would make ports *incomplete*).

Cases Nmap 7.93 cannot take are not scanned: a template that references an unset capture group
below a participating one makes 7.93 abort on an assertion (§2; checked on the binary by
:func:`test_the_abort_rule_matches_nmap_7_93`); they are listed in the report (none so far).
"""

from __future__ import annotations

import functools
import importlib
import json
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import regex  # type: ignore[import-untyped]  # no stubs for regex

from sigscan.bundle.loader import Bundle, open_bundle
from sigscan.bundle.records import MatchRecord, ProbeRecord
from sigscan.bundle.template import Group, Int, Printable, Subst, Template, expand, expand_cpes
from sigscan.matcher.verdict import FIELD_NAMES, Verdict, tunnelled
from tests.conftest import NMAP_7_93
from tests.corpus.banner_server import BannerServer, Mode, Service
from tests.corpus.generate import Case, Generated, generate_probe, pcre2_match
from tests.corpus.nmap_xml import NmapRun, NmapService, nmap_path, nmap_version, scan

pytestmark = [pytest.mark.real_nmap, pytest.mark.slow]

INTENSITY = 7
NMAP_ARGS = ("-T4", "--version-intensity", str(INTENSITY), "--min-parallelism", "512",
             "--max-parallelism", "512")
NMAP_TIMEOUT = 420.0  # seconds per nmap run; the run is killed (by its PID) after that
RESPONDER_CASES = {"GetRequest": 1000, "GenericLines": 400}  # responses per probe for part (b),
# spread over the file, plus every line of those probes that names ssl (tunnel and restart cases)
COMPARED = ("name", *FIELD_NAMES, "method", "conf", "tunnel", "cpe", "trace")

Identify = Callable[[str, str, bytes], Verdict]


# ---------------------------------------------------------------------------------------------
# Known differences: (test part, the line identify says matched) -> (fields, reason).


@dataclass(frozen=True, slots=True)
class Known:
    fields: frozenset[str]
    reason: str


def known(fields: str, reason: str) -> Known:
    return Known(frozenset(fields.split()), reason)


SSL_RESTART = (
    "hard match named 'ssl' (nmap-semantics §6): the C engine matched this line (the trace "
    "agrees), then nmap, built with OpenSSL, cleared the match and restarted the port over TLS; "
    "the responder cannot speak TLS, so the tunnel phase found nothing and Nmap reports the "
    "nmap-services name with tunnel=ssl, method=table, conf=3. identify reports the ssl line "
    "itself: tunnelling belongs to the scan engine, not to the matcher.")

KNOWN: dict[tuple[str, int], Known] = {
    ("NULL", 2283): known(
        "product version extrainfo",
        "NSE netbus-version (version category, run by -sV, nmap-semantics §12): the C engine "
        "matched line 2283 'NetBus trojan' (the trace agrees), then the script sent its password "
        "probe, got no NetBus answer (the banner server closes on input) and rewrote the port "
        "as 'NetBuster honeypot' with no version. Not a matcher difference."),
    **{("responses", line): known(fields, SSL_RESTART) for line, fields in (
        (10261, "name product method conf tunnel"),
        (10498, "name product extrainfo cpe method conf tunnel"),
        (11452, "name product version method conf tunnel"),
        (11860, "name method conf tunnel"),
    )},
}


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def nmap() -> str:
    path = nmap_path()
    if path is None:
        pytest.skip("nmap is not installed (apt-get install nmap)")
    return path


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterable[Bundle]:
    from sigc.build import build
    from sigc.sources import resolve

    if not NMAP_7_93.is_file():
        pytest.skip(f"{NMAP_7_93} is missing (apt-get install nmap)")
    target = tmp_path_factory.mktemp("bundle") / "nmap-7.93.db"
    result = build(resolve([str(NMAP_7_93)]), target)
    assert result.ok, [str(d) for d in result.database.errors][:5]
    with open_bundle(target) as opened:
        yield opened


@pytest.fixture(scope="module")
def identify(bundle: Bundle) -> tuple[Identify, str]:
    return identifier(bundle)


def identifier(bundle: Bundle) -> tuple[Identify, str]:
    """``identify`` bound to ``bundle``, and which implementation it is: the runtime's
    ``sigscan.matcher.identify`` when it exists, else its ``Matcher``, else a naive reference."""
    try:
        api = vars(importlib.import_module("sigscan.matcher")).get("identify")
    except ImportError:
        api = None
    if api is not None:
        return functools.partial(api, bundle), "sigscan.matcher.identify"
    try:
        from sigscan.matcher.core import Matcher
    except ImportError:
        return Reference(bundle).identify, "naive reference (regex, chain order, sigscan.bundle.template)"
    return Matcher(bundle).identify, "sigscan.matcher.core.Matcher"


# ---------------------------------------------------------------------------------------------
# The naive reference (used only while the runtime matcher is missing)


class Reference:
    """Every translated pattern compiled with ``regex``; the chain's lines tried in order."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.compiled: dict[int, Any] = {}

    def identify(self, probe: str, proto: str, data: bytes) -> Verdict:
        record = self.bundle.probe(probe, proto)
        assert record is not None, (probe, proto)
        for probe_id in record.chain:
            for line in self.bundle.matches(probe_id):
                found = self.pattern(line).search(data)
                if found is not None:
                    return reference_verdict(self.bundle.probes[probe_id], line, found.groups())
        return Verdict()

    def pattern(self, line: MatchRecord) -> Any:
        if line.id not in self.compiled:
            flags = regex.V0 | (regex.I if line.caseless else 0) | (regex.S if line.dotall else 0)
            self.compiled[line.id] = regex.compile(line.regex, flags)
        return self.compiled[line.id]


def reference_verdict(probe: ProbeRecord, line: MatchRecord, groups: Sequence[bytes | None]) -> Verdict:
    data = line.templates or {}
    values: dict[str, Any] = {}
    for name, key in zip(FIELD_NAMES, "pvihod", strict=True):
        if key in data:
            value = expand(Template.from_data(data[key]), groups, line.groups)
            if value:
                values[name] = value.decode("ascii")
    cpes = expand_cpes((Template.from_data(d) for d in data.get("cpe", ())), groups, line.groups)
    name, tunnel = tunnelled(line.service, line.soft)
    return Verdict(name=name, tunnel=tunnel, **values, cpe=tuple(c.decode("ascii") for c in cpes),
                   soft=line.soft, probe=probe.name, line=line.line)


# ---------------------------------------------------------------------------------------------
# What Nmap should report


@dataclass(frozen=True, slots=True)
class Step:
    """One match Nmap makes on the way (a ``--version-trace`` line)."""

    probe: str
    verdict: Verdict

    @property
    def trace(self) -> tuple[bool | None, str, str, int]:
        """As ``--version-trace`` shows it: soft or hard only for a line without p/v/i."""
        v = self.verdict
        assert v.probe is not None and v.line is not None
        kind = None if v.product or v.version or v.extrainfo else v.soft
        return (kind, self.probe, v.probe, v.line)


@dataclass(frozen=True, slots=True)
class Expected:
    """The final verdict Nmap's engine reaches, and the matches on the way there."""

    verdict: Verdict
    steps: tuple[Step, ...]


def nmap_order(bundle: Bundle, port: int) -> list[ProbeRecord]:
    """TCP probes after NULL: those listing ``port`` in file order, then the others."""
    probes = [p for p in bundle.probes if p.protocol == "TCP" and not p.is_null]
    listed = [p for p in probes if any(lo <= port <= hi for lo, hi in p.ports)]
    return listed + [p for p in probes if p not in listed]


def walk(bundle: Bundle, identify: Identify, port: int, response: bytes) -> Expected:
    """Nmap's probe walk (§4) for a server that answers every probe with ``response``."""
    order = nmap_order(bundle, port)
    soft: Verdict | None = None
    steps: list[Step] = []
    for probe in order:
        listed = any(lo <= port <= hi for lo, hi in probe.ports)
        if soft is None:
            if not listed and (probe.rarity or 0) > INTENSITY:
                continue
        elif soft.name not in probe.services:
            continue
        verdict = identify(probe.name, "TCP", response)
        if not verdict.matched:
            continue
        if not verdict.soft:
            steps.append(Step(probe.name, verdict))
            return Expected(merge(soft, verdict), tuple(steps))
        if soft is None:  # a later softmatch is ignored (and not traced)
            steps.append(Step(probe.name, verdict))
            soft = verdict
    return Expected(soft or Verdict(), tuple(steps))


def merge(soft: Verdict | None, hard: Verdict) -> Verdict:
    """A hard match after a softmatch: the fields the hard match sets win, the rest survive."""
    if soft is None:
        return hard
    kept = {f: getattr(hard, f) or getattr(soft, f) for f in FIELD_NAMES}
    slots = {c[5]: c for c in soft.cpe} | {c[5]: c for c in hard.cpe}
    cpe = tuple(slots[s] for s in "aho" if s in slots)
    return replace(hard, **kept, cpe=cpe)


def nmap_fields(expected: Expected) -> dict[str, object]:
    """The ``<service>`` fields Nmap writes for a verdict (§6, §8): no ``name`` for a port left
    to the ``nmap-services`` table, ``ssl/`` stripped into ``tunnel`` for a hard match (as the
    verdict has it already)."""
    v = expected.verdict
    trace = tuple(s.trace for s in expected.steps)
    if not v.matched:
        return {**{f: None for f in FIELD_NAMES}, "method": "table", "conf": "3", "tunnel": None,
                "cpe": (), "trace": trace}
    return {"name": v.name, **{f: getattr(v, f) for f in FIELD_NAMES}, "method": "probed",
            "conf": "10", "tunnel": v.tunnel, "cpe": v.cpe, "trace": trace}


def observed_fields(service: NmapService | None, run: NmapRun) -> dict[str, object]:
    if service is None:
        return {}
    trace = tuple((t.soft, t.probe, t.matched_with, t.line) for t in run.trace.get(service.port, ()))
    return {**service.fields(), "trace": trace}


# ---------------------------------------------------------------------------------------------
# Cases 7.93 cannot take


def referenced_groups(line: MatchRecord) -> set[int]:
    data = line.templates or {}
    templates = [Template.from_data(d) for k, d in data.items() if k != "cpe"]
    templates += [Template.from_data(d) for d in data.get("cpe", ())]
    return {p.n for t in templates for p in t.parts if isinstance(p, Group | Printable | Subst | Int)}


def aborts_7_93(line: MatchRecord, subject: bytes) -> bool:
    """Nmap 7.93 (PCRE1) dies on an assertion when a template references a group that did not
    take part in the match while a higher-numbered group did (nmap-semantics §2)."""
    found = pcre2_match(line.pattern, line.caseless, line.dotall, subject)
    if found is None:
        return False
    groups = found.groups()
    highest = max((i + 1 for i, g in enumerate(groups) if g is not None), default=0)
    return any(n < highest and groups[n - 1] is None for n in referenced_groups(line))


# ---------------------------------------------------------------------------------------------
# The comparison


@dataclass(slots=True)
class Comparison:
    part: str
    ports: int = 0
    agree: Counter[str] = field(default_factory=Counter)
    compared: Counter[str] = field(default_factory=Counter)
    differences: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[dict[str, Any]] = field(default_factory=list)
    seen_known: set[tuple[str, int]] = field(default_factory=set)

    def add(self, case: Case, port: int, expected: Expected, want: dict[str, object],
            got: dict[str, object], run: NmapRun) -> None:
        self.ports += 1
        differing = set()
        for name in COMPARED:
            if name not in want or (name == "name" and want["method"] == "table"):
                continue  # a table name comes from nmap-services, not from identify
            self.compared[name] += 1
            if want[name] == got.get(name):
                self.agree[name] += 1
            else:
                differing.add(name)
        if not differing:
            return
        line = expected.verdict.line or 0
        record = {
            "port": port, "generated_from": case.line, "identify_line": line,
            "fields": {n: {"nmap": _show(got.get(n)), "identify": _show(want[n])} for n in sorted(differing)},
            "subject": case.subject[:200].decode("latin-1"),
            "scripts": scripts_run(run, port),
        }
        self.differences.append(record)
        entry = KNOWN.get((self.part, line))
        if entry is not None and differing == entry.fields:
            record["reason"] = entry.reason
            self.seen_known.add((self.part, line))
        else:
            self.unknown.append(record)

    def summary(self) -> dict[str, Any]:
        return {
            "ports": self.ports,
            "agreement": {n: f"{self.agree[n]}/{self.compared[n]}" for n in COMPARED},
            "differences": len(self.differences),
            "explained": len(self.differences) - len(self.unknown),
        }


def scripts_run(run: NmapRun, port: int) -> list[str]:
    """The NSE scripts Nmap started against ``port`` (they may rewrite the verdict, §12)."""
    tail = f" against 127.0.0.1:{port}."
    return sorted({line.split()[2] for line in run.stdout.splitlines()
                   if line.startswith("NSE: Starting ") and line.endswith(tail)})


def _show(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def serve_and_scan(services: Sequence[Service], nmap: str) -> tuple[tuple[int, ...], NmapRun]:
    with BannerServer(services, hold=60.0, lifetime=NMAP_TIMEOUT + 60) as server:
        run = scan(server.ports, NMAP_ARGS, timeout=NMAP_TIMEOUT, nmap=nmap)
        return server.ports, run


def check(comparison: Comparison, report: dict[str, Any], run: NmapRun, tmp_path: Path) -> None:
    (tmp_path / f"nmap-{comparison.part}.stdout").write_text(run.stdout)
    (tmp_path / f"nmap-{comparison.part}.stderr").write_text(run.stderr)
    report[comparison.part] = {**report.get(comparison.part, {}), **comparison.summary(),
                               "difference_list": comparison.differences}
    path = tmp_path / f"report-{comparison.part}.json"
    path.write_text(json.dumps(report, indent=1, default=str))
    print(f"\n[{comparison.part}] {report['implementation']}, nmap {report['nmap']}")
    print(f"[{comparison.part}] {json.dumps(report[comparison.part] | {'difference_list': len(comparison.differences)}, default=str)}")
    print(f"[{comparison.part}] full report: {path}")
    stale = {k for k in KNOWN if k[0] == comparison.part} - comparison.seen_known
    assert not comparison.unknown, (
        f"{len(comparison.unknown)} unexplained difference(s) between nmap and identify "
        f"(add them to KNOWN with a reason only once understood): "
        + json.dumps(comparison.unknown[:10], indent=1, default=str))
    assert not stale, f"KNOWN lists differences that no longer occur, remove them: {sorted(stale)}"


def rate(generated: Generated) -> str:
    return f"{len(generated.cases)}/{generated.tried} ({generated.rate:.2%})"


# ---------------------------------------------------------------------------------------------
# (a) NULL probe banners


def test_null_probe_banners_agree_with_nmap(nmap: str, bundle: Bundle, identify: tuple[Identify, str],
                                             tmp_path: Path) -> None:
    ident, implementation = identify
    clock = time.monotonic()
    generated = generate_probe(bundle, "NULL", "TCP", seed=0)
    assert len(generated.cases) >= 1000, rate(generated)
    lines = {m.line: m for m in bundle.all_matches()}
    cases: list[tuple[Case, Expected]] = []
    aborting: list[int] = []
    for case in generated.cases:
        verdict = ident("NULL", "TCP", case.subject)
        assert verdict.matched, f"line {case.line}: PCRE2 matches {case.subject!r}, identify does not"
        if aborts_7_93(lines[verdict.line or 0], case.subject):
            aborting.append(case.line)
            continue
        cases.append((case, Expected(verdict, (Step("NULL", verdict),))))
    services = [Service(c.subject, Mode.BANNER, once=True) for c, _ in cases]
    ports, run = serve_and_scan(services, nmap)
    assert run.returncode == 0, run.stderr[-3000:]
    comparison = Comparison("NULL")
    for (case, expected), port in zip(cases, ports, strict=True):
        got = observed_fields(run.services.get(port), run)
        comparison.add(case, port, expected, nmap_fields(expected), got, run)
    report = {"implementation": implementation, "nmap": nmap_version(nmap),
              "NULL": {"generated": rate(generated), "not_served_7_93_abort": aborting,
                       "nmap_seconds": round(run.seconds, 1),
                       "wall_seconds": round(time.monotonic() - clock, 1)}}
    check(comparison, report, run, tmp_path)


# ---------------------------------------------------------------------------------------------
# (b) GetRequest and GenericLines responses


def outcome(expected: Expected) -> str:
    kinds = "+".join("soft" if s.verdict.soft else "hard" for s in expected.steps)
    return kinds or "no match"


def is_ssl(service: str) -> bool:
    return service == "ssl" or service.startswith("ssl/")


def spread(cases: Sequence[Case], n: int) -> list[Case]:
    """``n`` cases spread evenly over the file (all if fewer)."""
    if len(cases) <= n:
        return list(cases)
    return [cases[i * len(cases) // n] for i in range(n)]


def test_probe_responses_agree_with_nmap(nmap: str, bundle: Bundle, identify: tuple[Identify, str],
                                         tmp_path: Path) -> None:
    ident, implementation = identify
    clock = time.monotonic()
    lines = {m.line: m for m in bundle.all_matches()}
    rates: dict[str, str] = {}
    chosen: list[Case] = []
    for probe, n in RESPONDER_CASES.items():
        generated = generate_probe(bundle, probe, "TCP", seed=0)
        rates[probe] = rate(generated)
        picked = spread(generated.cases, n)
        picked += [c for c in generated.cases if c not in picked and is_ssl(c.service)]
        chosen += picked
    assert len(chosen) >= 200
    services = [Service(c.subject, Mode.RESPONDER, close_after_reply=True) for c in chosen]
    with BannerServer(services, hold=60.0, lifetime=NMAP_TIMEOUT + 60) as server:
        ports = server.ports
        planned = [walk(bundle, ident, port, case.subject) for case, port in zip(chosen, ports, strict=True)]
        aborting = {case.line for case, plan in zip(chosen, planned, strict=True)
                    if any(aborts_7_93(lines[s.verdict.line or 0], case.subject) for s in plan.steps)}
        # an aborting case cannot be left out of the run any more (its port is listening), so
        # the ports are scanned without it
        scanned = [p for p, c in zip(ports, chosen, strict=True) if c.line not in aborting]
        run = scan(scanned, NMAP_ARGS, timeout=NMAP_TIMEOUT, nmap=nmap)
    assert run.returncode == 0, run.stderr[-3000:]
    comparison = Comparison("responses")
    for case, port, expected in zip(chosen, ports, planned, strict=True):
        if case.line in aborting:
            continue
        got = observed_fields(run.services.get(port), run)
        comparison.add(case, port, expected, nmap_fields(expected), got, run)
    report = {"implementation": implementation, "nmap": nmap_version(nmap),
              "responses": {"generated": rates, "not_served_7_93_abort": sorted(aborting),
                            "matched_by": dict(Counter(p.steps[-1].probe if p.steps else "-" for p in planned)),
                            "outcomes": dict(Counter(outcome(p) for p in planned)),
                            "nmap_seconds": round(run.seconds, 1),
                            "wall_seconds": round(time.monotonic() - clock, 1)}}
    check(comparison, report, run, tmp_path)


# ---------------------------------------------------------------------------------------------
# The 7.93 abort rule, checked on the real binary


ABORT_PROBES = (b"Probe TCP NULL q||\ntotalwaitms 6000\ntcpwrappedms 3000\n"
                b"match t m|^SRV10 (X)?(\\w+)| p/[$1]/\n")


def test_the_abort_rule_matches_nmap_7_93(nmap: str, tmp_path: Path) -> None:
    from sigc.build import build
    from sigc.sources import resolve

    source = tmp_path / "abort.probes"
    source.write_bytes(ABORT_PROBES)
    target = tmp_path / "abort.db"
    assert build(resolve([str(source)]), target).ok
    with open_bundle(target) as tiny:
        line = next(tiny.all_matches())
    outcomes = {}
    for banner in (b"SRV10 abc\r\n", b"SRV10 Xabc\r\n"):
        with BannerServer([Service(banner, once=True)], hold=30.0, lifetime=120.0) as server:
            run = scan(server.ports, ("--versiondb", str(source)), timeout=120.0, nmap=nmap)
        outcomes[banner] = (aborts_7_93(line, banner), run.returncode,
                            run.services.get(server.ports[0]))
    predicted, returncode, _ = outcomes[b"SRV10 abc\r\n"]
    assert predicted and returncode == -signal.SIGABRT  # 7.93 dies on an assertion
    predicted, returncode, service = outcomes[b"SRV10 Xabc\r\n"]
    assert not predicted and returncode == 0
    assert service is not None and service.product == "[X]"
