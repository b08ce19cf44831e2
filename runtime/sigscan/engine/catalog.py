"""What the engine needs from a bundle, prepared once and shared by every port of a scan."""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from sigscan.bundle.loader import Bundle
from sigscan.bundle.records import ExcludeRecord, ProbeRecord, RpcRecord
from sigscan.engine.events import Proto
from sigscan.matcher import Matcher, matcher_for
from sigscan.matcher.verdict import Verdict

DEFAULT_RARITY = 5
DEFAULT_WAIT_MS = 5000  # DEFAULT_SERVICEWAITMS
DEFAULT_WRAPPED_MS = 2000  # DEFAULT_TCPWRAPPEDMS
_EXCLUDE_LETTER = {Proto.TCP: "T", Proto.UDP: "U"}


def rarity(probe: ProbeRecord) -> int:
    return DEFAULT_RARITY if probe.rarity is None else probe.rarity


def wait_seconds(probe: ProbeRecord) -> float:
    """The probe's ``totalwaitms`` in seconds."""
    return (DEFAULT_WAIT_MS if probe.totalwaitms is None else probe.totalwaitms) / 1000


def wrapped_seconds(probe: ProbeRecord) -> float:
    """The probe's ``tcpwrappedms`` in seconds."""
    return (DEFAULT_WRAPPED_MS if probe.tcpwrappedms is None else probe.tcpwrappedms) / 1000


def probable(probe: ProbeRecord, port: int, tls: bool) -> bool:
    """Nmap's ``portIsProbable``: the port is in ``sslports`` (tunnelled) or ``ports``."""
    ranges = probe.sslports if tls else probe.ports
    return any(lo <= port <= hi for lo, hi in ranges)


class Catalog:
    """Probes in file order, the NULL probe, the ``nmap-services`` names, ``Exclude``, ``nmap-rpc``
    and the matcher of one bundle."""

    def __init__(self, bundle: Bundle, matcher: Matcher | None = None) -> None:
        self.bundle = bundle
        self.matcher = matcher or matcher_for(bundle)
        ordered = sorted(bundle.probes, key=lambda p: p.id)
        self.null: ProbeRecord | None = next((p for p in ordered if p.is_null), None)
        self.probes: Mapping[Proto, tuple[ProbeRecord, ...]] = {
            proto: tuple(p for p in ordered if not p.is_null and p.protocol == proto.name)
            for proto in Proto
        }
        self._names: dict[tuple[str, int], str] = {}
        for entry in sorted(bundle.services(), key=lambda s: s.seq):
            self._names.setdefault((entry.protocol, entry.port), entry.name)  # first one wins
        self.exclude: tuple[ExcludeRecord, ...] = bundle.exclude
        self.rpc: tuple[RpcRecord, ...] = tuple(sorted(bundle.rpc(), key=lambda r: r.seq))

    @classmethod
    def from_bundle(cls, bundle: Bundle) -> Catalog:
        return cls(bundle)

    def table_name(self, port: int, proto: Proto) -> str | None:
        """The ``nmap-services`` name of the port (None when absent). A port listed as
        ``unknown`` keeps that name: Nmap writes ``<service name="unknown" method="table">``
        for it, where an unlisted port gets no ``<service>``."""
        return self._names.get((proto.value, port))

    def excluded(self, port: int, proto: Proto) -> bool:
        """Whether ``Exclude`` removes the port from probing (no prefix: every protocol)."""
        return any(self._excludes(item, port, proto) for item in self.exclude)

    def _excludes(self, item: ExcludeRecord, port: int, proto: Proto) -> bool:
        if item.protocol not in (None, _EXCLUDE_LETTER[proto]):
            return False
        if item.service is not None:
            name = self._names.get((proto.value, port))
            return name is not None and fnmatchcase(name, item.service)
        return item.start is not None and item.end is not None and item.start <= port <= item.end

    def identify(self, probe: ProbeRecord, data: bytes) -> Verdict:
        """The first line of ``probe``'s fallback chain that matches ``data``."""
        return self.matcher.identify(probe.name, probe.protocol.lower(), data)

    def explain(self, probe: ProbeRecord, data: bytes) -> tuple[Verdict, dict[str, Any]]:
        """:meth:`identify`, with the matcher's record of the lines tried and why
        (:meth:`~sigscan.matcher.core.Matcher.explain`): what a trace shows."""
        return self.matcher.explain(probe.name, probe.protocol.lower(), data)
