"""Run the installed ``nmap -sV`` against 127.0.0.1 and read its verdicts.

:func:`scan` runs ``nmap -sV -Pn -n --version-trace -p <ports> -oX <file> [args] 127.0.0.1``
(the target is fixed: loopback only), bounded by a timeout, and returns every port's XML
``<service>`` (nmap-semantics §8) together with the ``--version-trace`` lines that name the
line which matched (``Service scan [soft ]match (Probe P matched with Q line N)``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

TARGET = "127.0.0.1"  # never anything else
SERVICE_ATTRIBUTES = ("name", "product", "version", "extrainfo", "hostname", "ostype",
                      "devicetype", "method", "conf", "tunnel")

_TRACE = re.compile(
    r"^Service scan (?P<kind>soft |hard )?match \(Probe (?P<probe>\S+) matched with (?P<with>\S+) "
    r"line (?P<line>\d+)\): (?P<host>[\d.]+):(?P<port>\d+) is (?P<name>.*?)(?:\.  Version: .*)?$",
    re.M)
_SAFE_ARG = re.compile(r"^(-.*|\d+[a-z]*|/.+)$")  # options, numbers, absolute paths: no targets


@dataclass(frozen=True, slots=True)
class NmapService:
    """One port's ``<service>`` element (``None`` for an attribute Nmap did not write)."""

    port: int
    state: str
    name: str | None = None
    product: str | None = None
    version: str | None = None
    extrainfo: str | None = None
    hostname: str | None = None
    ostype: str | None = None
    devicetype: str | None = None
    method: str | None = None
    conf: str | None = None
    tunnel: str | None = None
    cpe: tuple[str, ...] = ()
    servicefp: str | None = None

    def fields(self) -> dict[str, object]:
        """The compared fields: every service attribute but the fingerprint, plus ``cpe``."""
        return {**{a: getattr(self, a) for a in SERVICE_ATTRIBUTES}, "cpe": self.cpe}


@dataclass(frozen=True, slots=True)
class TraceMatch:
    """A ``--version-trace`` match line: probe ``probe`` matched line ``line`` of ``matched_with``.

    Nmap says ``soft match`` or ``hard match`` only when the line gave no product, version or
    extrainfo; otherwise it prints ``match … Version: |p|v|i|`` and ``soft`` is ``None``. It
    prints nothing for a softmatch after the first one.
    """

    port: int
    soft: bool | None
    probe: str
    matched_with: str
    line: int
    name: str


@dataclass(frozen=True, slots=True)
class NmapRun:
    command: tuple[str, ...]
    returncode: int
    seconds: float
    services: dict[int, NmapService]
    trace: dict[int, tuple[TraceMatch, ...]]
    stdout: str
    stderr: str


def nmap_path() -> str | None:
    return shutil.which("nmap")


def nmap_version(nmap: str | None = None) -> str | None:
    """``7.93`` for the installed binary, or ``None`` when there is none."""
    nmap = nmap or nmap_path()
    if nmap is None:
        return None
    out = subprocess.run([nmap, "--version"], capture_output=True, text=True, timeout=30).stdout
    found = re.search(r"Nmap version (\S+)", out)
    return found.group(1) if found else None


def scan(ports: Iterable[int], args: Sequence[str] = (), *, timeout: float = 600.0,
         nmap: str | None = None) -> NmapRun:
    """Version-scan ``ports`` of 127.0.0.1; ``args`` are extra options (no targets allowed)."""
    nmap = nmap or nmap_path()
    if nmap is None:
        raise FileNotFoundError("nmap is not installed")
    for arg in args:
        if not _SAFE_ARG.match(arg):
            raise ValueError(f"nmap argument {arg!r} could name a target; pass options only")
    portlist = ",".join(str(p) for p in sorted(set(ports)))
    with tempfile.TemporaryDirectory(prefix="sigscan-nmap-") as folder:
        xml_path = Path(folder) / "scan.xml"
        command = (nmap, "-sV", "-Pn", "-n", "--version-trace", "-p", portlist,
                   "-oX", str(xml_path), *args, TARGET)
        clock = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True, errors="replace",
                              timeout=timeout, check=False)
        seconds = time.monotonic() - clock
        xml_text = xml_path.read_text(errors="replace") if xml_path.exists() else ""
    try:
        services = parse_xml(xml_text)
    except ET.ParseError:  # nmap died before closing the document (e.g. 7.93's assertions)
        services = {}
    return NmapRun(command, done.returncode, seconds, services, parse_trace(done.stdout),
                   done.stdout, done.stderr)


def parse_xml(text: str) -> dict[int, NmapService]:
    """Every TCP/UDP port of the (single) host in an ``-oX`` document, by port number."""
    root = ET.fromstring(text)  # ParseError for an empty or cut document
    out: dict[int, NmapService] = {}
    for port in root.iter("port"):
        number = int(port.attrib["portid"])
        state = port.find("state")
        service = port.find("service")
        attrs = dict(service.attrib) if service is not None else {}
        cpe = tuple(c.text or "" for c in service.iter("cpe")) if service is not None else ()
        out[number] = NmapService(
            port=number,
            state=state.attrib.get("state", "") if state is not None else "",
            **{a: attrs.get(a) for a in SERVICE_ATTRIBUTES},
            cpe=cpe,
            servicefp=attrs.get("servicefp"),
        )
    return out


def parse_trace(text: str) -> dict[int, tuple[TraceMatch, ...]]:
    """The ``Service scan … match`` lines of ``--version-trace`` output, per port, in order."""
    out: dict[int, list[TraceMatch]] = {}
    for m in _TRACE.finditer(text):
        port = int(m["port"])
        out.setdefault(port, []).append(
            TraceMatch(port, None if not m["kind"] else m["kind"] == "soft ", m["probe"], m["with"], int(m["line"]), m["name"]))
    return {port: tuple(matches) for port, matches in out.items()}
