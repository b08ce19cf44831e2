"""Counts for ``sigc stats``: the same object for a source file and for a bundle."""

from __future__ import annotations

from pathlib import Path

from sigc.syntax.model import MatchKind, Protocol, SourceFile
from sigscan.bundle.loader import JSON_PREFIX, SQLITE_MAGIC, Bundle


def is_bundle(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    return head == SQLITE_MAGIC or head.startswith(JSON_PREFIX[:10])


def source_stats(source: SourceFile) -> dict[str, int]:
    probes = source.probes
    matches = list(source.matches)
    return {
        "probes": len(probes),
        "tcp_probes": sum(1 for p in probes if p.protocol is Protocol.TCP),
        "udp_probes": sum(1 for p in probes if p.protocol is Protocol.UDP),
        "matches": sum(1 for m in matches if m.kind is MatchKind.MATCH),
        "softmatches": sum(1 for m in matches if m.kind is MatchKind.SOFTMATCH),
        "services": len({m.service for m in matches}),
    }


def bundle_stats(bundle: Bundle) -> dict[str, int]:
    probes = bundle.probes
    services: set[str] = set()
    for p in probes:
        services |= p.services
    return {
        "probes": len(probes),
        "tcp_probes": sum(1 for p in probes if p.protocol == "TCP"),
        "udp_probes": sum(1 for p in probes if p.protocol == "UDP"),
        "matches": bundle.count("matches", "hard"),
        "softmatches": bundle.count("matches", "soft"),
        "services": len(services),
    }
