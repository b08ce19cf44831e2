"""Rules on a probe's ``fallback`` directive (SIG530-SIG533)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from sigc.analyze import AnalyzedProbe
from sigc.diagnostics import Diagnostic, Location, Severity
from sigc.lint.base import LintRun, ProbeRule, value_start
from sigc.syntax.model import Probe, Protocol


def _fallback_names(probe: Probe) -> Iterator[tuple[str, Location]]:
    """Each name of the ``fallback`` directive Nmap uses (the last one), with its location."""
    directive = probe.directive("fallback")
    if directive is None or probe.fallback is None:
        return
    start = value_start(directive)
    for found in re.finditer(r"[^, \t\r\n]+", directive.text):
        yield found.group(), start.shifted(found.start())


class FallbackOtherProtocol(ProbeRule):
    """Nmap looks up a fallback name in the other protocol when its own has none."""

    code = "SIG530"
    severity = Severity.WARNING
    summary = "fallback resolves to a probe of the other protocol"

    def check_probe(self, p: AnalyzedProbe, run: LintRun) -> Iterator[Diagnostic]:
        probe, db = p.probe, run.db
        if probe.is_null:
            return
        other = Protocol.UDP if probe.protocol is Protocol.TCP else Protocol.TCP
        seen: set[str] = set()
        for name, loc in _fallback_names(probe):
            if name in seen or (name == "NULL" and probe.protocol is Protocol.TCP):
                continue  # a repeated name is SIG532's
            seen.add(name)
            target = db.probe_named(other, name)
            if target is None or target.probe.is_null:  # a UDP probe naming NULL is SIG534 (sigc.analyze)
                continue
            if db.probe_named(probe.protocol, name) is None:
                yield self.diag(f"fallback {name} of {probe.protocol.value} probe {probe.name} is a {other.value} "
                                f"probe (there is no {probe.protocol.value} probe of that name): its lines are tried "
                                f"on {probe.protocol.value} responses, where they rarely fit (DNS over TCP has a "
                                "length prefix, for one)", loc)


class FallbackSelf(ProbeRule):
    """A probe's own lines are always tried first: naming itself only repeats them."""

    code = "SIG531"
    severity = Severity.WARNING
    summary = "probe names itself as a fallback"

    def check_probe(self, p: AnalyzedProbe, run: LintRun) -> Iterator[Diagnostic]:
        probe = p.probe
        if probe.is_null:
            return
        for name, loc in _fallback_names(probe):
            if name == probe.name:
                yield self.diag(f"probe {probe.name} names itself as a fallback: its own lines are always tried "
                                "first, so naming it runs them twice; remove the name", loc)


class FallbackRedundant(ProbeRule):
    """A name given twice, or NULL on a TCP probe (Nmap appends NULL itself)."""

    code = "SIG532"
    severity = Severity.INFO
    summary = "fallback name repeated, or NULL named on a TCP probe (Nmap appends it anyway)"

    def check_probe(self, p: AnalyzedProbe, run: LintRun) -> Iterator[Diagnostic]:
        probe = p.probe
        if probe.is_null:
            return
        seen: set[str] = set()
        for name, loc in _fallback_names(probe):
            if name in seen and name != probe.name:
                yield self.diag(f"fallback {name} is named twice: its lines are tried twice", loc)
            elif name == "NULL" and probe.protocol is Protocol.TCP:
                yield self.diag("Nmap always tries the NULL probe's lines last for a TCP probe; naming it "
                                "here makes them run twice", loc)
            seen.add(name)


class FallbackOnNull(ProbeRule):
    """Nmap sets the NULL probe's chain to itself alone and ignores its ``fallback``."""

    code = "SIG533"
    severity = Severity.WARNING
    summary = "fallback on the NULL probe (Nmap ignores it)"

    def check_probe(self, p: AnalyzedProbe, run: LintRun) -> Iterator[Diagnostic]:
        directive = p.probe.directive("fallback")
        if p.probe.is_null and directive is not None:
            yield self.diag(f"Nmap ignores 'fallback' on the NULL probe ({p.probe.name}): only its own lines "
                            "are tried", directive.location)
