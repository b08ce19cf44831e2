"""Helpers for the output tests: free loopback ports, a bounded run of the real ``nmap``
(normal and XML output of one scan of 127.0.0.1 or localhost), and slicing its output."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

TARGETS = ("127.0.0.1", "localhost")  # loopback only
NMAP_TIMEOUT = 120.0


@dataclass(frozen=True, slots=True)
class NmapOutput:
    command: tuple[str, ...]
    normal: str
    xml: str


def nmap_path() -> str | None:
    return shutil.which("nmap")


def tool(name: str) -> str:
    """The path of the program NAME; the test is skipped (naming the installer) without it."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (scripts/setup.sh --dev installs it)")
    return path


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback TCP ports that nothing listens on (bound, then released).
    Call it while the test's servers hold their ports: a port released before a server binds
    port 0 can be handed to that server (seen: Nmap warned of a duplicate port)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return sorted(s.getsockname()[1] for s in sockets)
    finally:
        for sock in sockets:
            sock.close()


def run_nmap(ports: Sequence[int], args: Sequence[str] = (), *, target: str = "127.0.0.1",
             datadir: Path | None = None, reverse_dns: bool = False) -> NmapOutput:
    """``nmap -sT -sV -Pn -n -p PORTS -oN FILE -oX FILE ARGS TARGET``, killed after
    NMAP_TIMEOUT. ``reverse_dns`` replaces ``-n`` with ``--dns-servers 127.0.0.1``: Nmap answers
    127.0.0.1 from /etc/hosts, and any query it sent would stay on loopback."""
    assert target in TARGETS, "the tests scan loopback only"
    nmap = nmap_path()
    assert nmap is not None
    with tempfile.TemporaryDirectory(prefix="sigscan-out-") as folder:
        normal, xml = Path(folder) / "scan.nmap", Path(folder) / "scan.xml"
        extra = ("--datadir", str(datadir)) if datadir else ()
        dns = ("--dns-servers", "127.0.0.1") if reverse_dns else ("-n",)
        command = (nmap, "-sT", "-sV", "-Pn", *dns, *extra, "-p", ",".join(map(str, sorted(ports))),
                   "-oN", str(normal), "-oX", str(xml), *args, target)
        subprocess.run(command, capture_output=True, timeout=NMAP_TIMEOUT, check=True)
        return NmapOutput(command, normal.read_text(), xml.read_text())


def host_block(normal: str) -> list[str]:
    """The lines of the first ``Nmap scan report for`` block, up to its empty line (included),
    without the ``Read from …`` lines a ``--datadir`` adds."""
    lines = normal.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Nmap scan report for"))
    end = lines.index("", start)
    return lines[start:end + 1]


def fingerprints(normal: str) -> dict[int, str]:
    """Each ``SF-Port<port>-…`` fingerprint of a normal output, with its line breaks."""
    found = re.finditer(r"^SF-Port(\d+)-\w+:.*?;$", normal, re.M | re.S)
    return {int(m[1]): m[0] for m in found}


def latency(normal: str) -> float | None:
    found = re.search(r"^Host is up \(([\d.]+)s latency\)\.$", normal, re.M)
    return float(found[1]) if found else None


def xml_between(xml: str, start: str, end: str) -> str:
    """The text from the first ``start`` to the first following ``end`` (included)."""
    begin = xml.index(start)
    return xml[begin:xml.index(end, begin) + len(end)]


def xml_fingerprints(xml: str) -> dict[int, str]:
    """Each port's ``servicefp`` in an ``-oX`` document (one line: Nmap removes the breaks)."""
    out: dict[int, str] = {}
    for port in ET.fromstring(xml).iter("port"):
        service = port.find("service")
        if service is not None and "servicefp" in service.attrib:
            out[int(port.attrib["portid"])] = service.attrib["servicefp"]
    return out


def ptr_name(xml: str) -> str | None:
    """The ``type="PTR"`` host name of the first host of an ``-oX`` document."""
    found = ET.fromstring(xml).find(".//hostname[@type='PTR']")
    return None if found is None else found.attrib["name"]


NMAP_SUBMIT = re.compile(r"^(\d+ services? unrecognized despite returning data\.) If you know the "
                         r"service/version, please submit the following fingerprints? at "
                         r"https://nmap\.org/cgi-bin/submit\.cgi\?new-service :$")
NMAP_BANNER = "==============NEXT SERVICE FINGERPRINT (SUBMIT INDIVIDUALLY)=============="


def relabelled(lines: list[str]) -> list[str]:
    """Nmap's normal output with its fingerprints labelled as sigscan labels its own (the one
    difference docs/outputs.md gives): the count line no longer asks for a submission to
    nmap.org, and the banners between fingerprints say who made them."""
    out = []
    for line in lines:
        found = NMAP_SUBMIT.match(line)
        if found:
            many = not found[1].startswith("1 ")
            line = (f"{found[1]} The following {'fingerprints were' if many else 'fingerprint was'} "
                    f"made by sigscan, not Nmap: do not submit {'them' if many else 'it'} to nmap.org.")
        elif line == NMAP_BANNER:
            line = "==============NEXT SERVICE FINGERPRINT (MADE BY SIGSCAN)=============="
        out.append(line)
    return out
