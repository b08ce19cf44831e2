"""Readers for Nmap's ``nmap-services`` and ``nmap-rpc``, found beside ``nmap-service-probes``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sigc.diagnostics import Diagnostic, Location, Severity
from sigscan.bundle import files

CODES: dict[str, tuple[Severity, str]] = {
    "SIG150": (Severity.WARNING, "nmap-services line does not parse"),
    "SIG151": (Severity.WARNING, "nmap-rpc line does not parse"),
}


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    """One ``nmap-services`` line: ``name<TAB>port/proto<TAB>frequency``."""

    name: str
    port: int
    protocol: str  # tcp, udp or sctp
    frequency: str  # kept as written, so the bundle is exact and deterministic
    line: int


@dataclass(frozen=True, slots=True)
class RpcEntry:
    """One ``nmap-rpc`` line: ``name number [aliases...]``."""

    name: str
    number: int
    aliases: tuple[str, ...]
    line: int


def read_services(path: Path) -> tuple[list[ServiceEntry], list[Diagnostic]]:
    entries: list[ServiceEntry] = []
    problems: list[Diagnostic] = []
    for number, line in _lines(path):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        try:
            port_text, proto = words[1].split("/")
            entry = ServiceEntry(words[0], int(port_text), proto.lower(), words[2] if len(words) > 2 else "0", number)
            float(entry.frequency)
        except (IndexError, ValueError):
            problems.append(_problem("SIG150", f"cannot read {line.strip()[:60]!r}", path, number))
            continue
        entries.append(entry)
    return entries, problems


def read_rpc(path: Path) -> tuple[list[RpcEntry], list[Diagnostic]]:
    entries: list[RpcEntry] = []
    problems: list[Diagnostic] = []
    for number, line in _lines(path):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        try:
            entries.append(RpcEntry(words[0], int(words[1]), tuple(words[2:]), number))
        except (IndexError, ValueError):
            problems.append(_problem("SIG151", f"cannot read {line.strip()[:60]!r}", path, number))
    return entries, problems


def _lines(path: Path) -> list[tuple[int, str]]:
    text = files.read_bounded(path).decode("latin-1")
    return list(enumerate(text.splitlines(), start=1))


def _problem(code: str, message: str, path: Path, line: int) -> Diagnostic:
    return Diagnostic(code, CODES[code][0], message, Location(str(path), line, 1))
