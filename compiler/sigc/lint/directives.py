"""Rules on a probe's other directives, its name and the files (SIG540-SIG547).

* ``SIG540`` reports ``sslports`` on a probe without ``ports``: an ssl port missing from
  ``ports`` is Nmap's normal layout (plain and TLS ports differ), only a probe with no plain
  ports at all is worth a note.
* ``SIG547`` (a probe file that adds nothing) is a warning: Nmap loads an empty file and
  identifies nothing with it. ``sigc lint`` refuses a run with no probe at all (exit 2).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sigc.analyze import AnalyzedProbe
from sigc.diagnostics import Diagnostic, Location, Severity
from sigc.lint.base import LintRun, ProbeRule, Rule, value_start
from sigc.syntax.model import Directive, Probe


class SslportsWithoutPorts(ProbeRule):
    """Without ``ports`` the probe reaches plain connections only through its rarity."""

    code = "SIG540"
    severity = Severity.INFO
    summary = "sslports on a probe without ports"

    def check_probe(self, p: AnalyzedProbe, run: LintRun) -> Iterator[Diagnostic]:
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
        start = value_start(directive)
        for found in _PORT_ITEM.finditer(directive.text):
            low = int(found.group(1))
            high = int(found.group(2)) if found.group(2) else low
            yield low, high, start.shifted(found.start()), directive


class PortZero(ProbeRule):
    """Port 0 parses but is no service port."""

    code = "SIG541"
    severity = Severity.WARNING
    summary = "port 0 in ports or sslports"

    def check_probe(self, p: AnalyzedProbe, run: LintRun) -> Iterator[Diagnostic]:
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

    def check_probe(self, p: AnalyzedProbe, run: LintRun) -> Iterator[Diagnostic]:
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

    def check_probe(self, p: AnalyzedProbe, run: LintRun) -> Iterator[Diagnostic]:
        probe = p.probe
        if probe.rarity is None and not probe.is_null and probe.ports:
            yield self.diag(f"probe {probe.name} has no rarity line: Nmap uses 5, so it is sent to unlisted ports "
                            "from --version-intensity 5; say 'rarity N' explicitly", probe.location)


class NoPortsNoRarity(ProbeRule):
    """Neither ``ports`` nor ``rarity``: the probe is sent nowhere in particular, at rarity 5."""

    code = "SIG544"
    severity = Severity.WARNING
    summary = "probe with neither ports nor rarity"

    def check_probe(self, p: AnalyzedProbe, run: LintRun) -> Iterator[Diagnostic]:
        probe = p.probe
        if probe.rarity is None and not probe.ports and not probe.is_null:
            yield self.diag(f"probe {probe.name} has neither ports nor rarity: it is never sent first to any port, "
                            "and to every port from --version-intensity 5 (the default rarity); add both", probe.location)


class TcpwrappedmsIgnored(ProbeRule):
    """Only the NULL probe's ``tcpwrappedms`` is used."""

    code = "SIG545"
    severity = Severity.INFO
    summary = "tcpwrappedms on a probe other than NULL (it has no effect)"

    def check_probe(self, p: AnalyzedProbe, run: LintRun) -> Iterator[Diagnostic]:
        directive = p.probe.directive("tcpwrappedms")
        if directive is not None and not p.probe.is_null:
            yield self.diag(f"tcpwrappedms on probe {p.probe.name} has no effect: Nmap only uses the NULL "
                            "probe's", directive.location)


class NameDiffersByCase(Rule):
    """Fallback lookup is case-sensitive: ``getrequest`` is not ``GetRequest``."""

    code = "SIG546"
    severity = Severity.WARNING
    summary = "probe names that differ only in letter case"

    def check(self, run: LintRun) -> Iterator[Diagnostic]:
        first: dict[str, Probe] = {}
        for p in run.db.probes:
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

    def check(self, run: LintRun) -> Iterator[Diagnostic]:
        db = run.db
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
