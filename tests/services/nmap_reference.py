"""The reference: the real ``nmap -sV`` over every harness port, and a parser of Nmap's XML.

One TCP run and one UDP run (``-sU``, which needs root), each
``nmap -sV --version-intensity 7 -n -Pn --script version -oX - -p PORTS 127.0.0.1``:
``Reference.verdicts`` (``--script version`` runs the scripts ``-sV`` runs anyway, and makes Nmap
write their output, which the plugins' outputs are compared with).

``-sV`` also runs Nmap's ``version``-category NSE scripts, and a few of them rewrite the verdict
of the probes file (``rpcinfo`` on rpcbind, ``snmp-info`` on SNMP; nmap-semantics.md §12). So the
same two runs are made again with those scripts off (``--datadir`` pointing at a folder whose
``scripts/script.db`` is empty; every other file still comes from the installed database):
``Reference.probe_verdicts``, the probe-and-match verdicts. ``Reference.outputs`` has each
port's script outputs (``<script id output>``) from the runs with the scripts on. The four runs
go at the same time; they mostly wait on the services.

The same parser reads ``sigscan scan -oX`` output, which follows Nmap's XML format.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.services.netns import Proto

NMAP = "/usr/bin/nmap"
NMAP_TIMEOUT = 180.0  # seconds per nmap run
COMPARED = ("name", "product", "version", "extrainfo", "tunnel")
# What changes between two scans of the same daemon, whoever scans: memcached reports its uptime
# in seconds. ``normalized`` rewrites it the same way on both sides of a comparison.
VOLATILE = ((re.compile(r"\buptime \d+ seconds\b"), "uptime N seconds"),)


def steady(text: str) -> str:
    """TEXT with its VOLATILE parts rewritten."""
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text

Wrap = Callable[[Sequence[str]], list[str]]  # puts a command where the daemons are


@dataclass(frozen=True)
class PortVerdict:
    """One ``<port>`` of Nmap's XML: its state and ``<service>`` (empty strings where absent)."""

    proto: Proto
    port: int
    state: str
    name: str = ""
    product: str = ""
    version: str = ""
    extrainfo: str = ""
    tunnel: str = ""
    method: str = ""
    conf: str = ""
    cpe: tuple[str, ...] = ()
    hostname: str = ""
    ostype: str = ""
    devicetype: str = ""
    scripts: tuple[tuple[str, str], ...] = ()  # (script id, its output text), in document order

    def compared(self) -> dict[str, str]:
        """The fields the scan must reproduce exactly."""
        return {f: str(getattr(self, f)) for f in COMPARED}

    def normalized(self) -> dict[str, str]:
        """``compared`` with the VOLATILE parts of ``extrainfo`` rewritten."""
        fields = self.compared()
        fields["extrainfo"] = steady(fields["extrainfo"])
        return fields

    def as_dict(self) -> dict[str, object]:
        return {"proto": str(self.proto), "port": self.port, "state": self.state, "name": self.name,
                "product": self.product, "version": self.version, "extrainfo": self.extrainfo,
                "tunnel": self.tunnel, "method": self.method, "conf": self.conf,
                "cpe": list(self.cpe), "hostname": self.hostname, "ostype": self.ostype,
                "devicetype": self.devicetype}

    def summary(self) -> str:
        """Like a line of Nmap's table: ``ssl/http nginx 1.22.1 (extra)``."""
        name = f"{self.tunnel}/{self.name}" if self.tunnel else self.name
        words = [name, self.product, self.version] + ([f"({self.extrainfo})"] if self.extrainfo else [])
        return " ".join(w for w in words if w)


Verdicts = dict[tuple[Proto, int], PortVerdict]


def parse_xml(data: bytes | str) -> Verdicts:
    """Every ``<port>`` of every host in an Nmap (or ``sigscan -oX``) XML document."""
    root = ET.fromstring(data)
    verdicts: Verdicts = {}
    for port in root.iter("port"):
        state = port.find("state")
        service = port.find("service")
        attrs = {} if service is None else service.attrib
        key = (Proto(port.attrib["protocol"]), int(port.attrib["portid"]))
        if key in verdicts:
            raise ValueError(f"port {key[1]}/{key[0]} appears twice in the XML")
        verdicts[key] = PortVerdict(
            proto=key[0], port=key[1], state="" if state is None else state.attrib.get("state", ""),
            name=attrs.get("name", ""), product=attrs.get("product", ""),
            version=attrs.get("version", ""), extrainfo=attrs.get("extrainfo", ""),
            tunnel=attrs.get("tunnel", ""), method=attrs.get("method", ""),
            conf=attrs.get("conf", ""),
            cpe=tuple((c.text or "") for c in (() if service is None else service.iter("cpe"))),
            hostname=attrs.get("hostname", ""), ostype=attrs.get("ostype", ""),
            devicetype=attrs.get("devicetype", ""),
            scripts=tuple((x.attrib["id"], x.attrib.get("output", "")) for x in port.iter("script")))
    return verdicts


def nmap_argv(proto: Proto, ports: Iterable[int], target: str = "127.0.0.1",
              no_scripts_datadir: str | None = None) -> list[str]:
    """The reference command; with NO_SCRIPTS_DATADIR, ``--datadir`` that folder (see top);
    without, ``--script version`` too, which runs the same scripts as ``-sV`` alone and makes
    Nmap write their output."""
    scan = ["-sU"] if proto is Proto.UDP else []
    datadir = (["--script", "version"] if no_scripts_datadir is None
               else ["--datadir", no_scripts_datadir])
    port_list = ",".join(str(p) for p in sorted(set(ports)))
    return [NMAP, *scan, "-sV", "--version-intensity", "7", "-n", "-Pn", *datadir,
            "-oX", "-", "-p", port_list, target]


@dataclass(frozen=True)
class NmapRun:
    argv: tuple[str, ...]
    scripts: bool  # whether the version-category NSE scripts ran
    seconds: float
    xml: bytes
    outputs: bool = False  # run with --script version: the scripts' outputs are in the XML


@dataclass(frozen=True)
class Reference:
    verdicts: Verdicts  # plain ``nmap -sV``
    probe_verdicts: Verdicts  # the same with the version-category NSE scripts off
    runs: tuple[NmapRun, ...]
    seconds: float  # wall time of the runs together (they run at the same time)
    outputs: ScriptOutputs = field(default_factory=dict)  # the --script version runs' outputs


class NmapError(RuntimeError):
    pass


ScriptOutputs = dict[tuple[Proto, int], dict[str, str]]


def parse_outputs(data: bytes | str) -> ScriptOutputs:
    """Every port's script outputs (``<script id="…" output="…">``) in an XML document."""
    outputs: ScriptOutputs = {}
    for port in ET.fromstring(data).iter("port"):
        key = (Proto(port.attrib["protocol"]), int(port.attrib["portid"]))
        outputs[key] = {s.attrib["id"]: s.attrib.get("output", "") for s in port.iter("script")}
    return outputs


def _run(argv: list[str], scripts: bool, timeout: float, outputs: bool = False) -> NmapRun:
    began = time.monotonic()
    try:
        result = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise NmapError(f"{' '.join(argv)} took more than {timeout} s") from error
    if result.returncode != 0:
        raise NmapError(f"{' '.join(argv)} exited {result.returncode}: "
                        f"{result.stderr.decode(errors='replace')}")
    return NmapRun(tuple(argv), scripts, time.monotonic() - began, result.stdout, outputs)


@contextmanager
def scriptless_datadir() -> Iterator[str]:
    """A folder for ``nmap --datadir`` whose script database is empty: ``-sV`` without the
    version-category NSE scripts (the other data files are still found in Nmap's own folder)."""
    with tempfile.TemporaryDirectory(prefix="sigscan-nmap-noscripts-") as empty:
        (Path(empty) / "scripts").mkdir()
        (Path(empty) / "scripts" / "script.db").write_bytes(b"")
        Path(empty).chmod(0o755)
        yield empty


def run_reference(wrap: Wrap, ports: Iterable[tuple[Proto, int]],
                  timeout: float = NMAP_TIMEOUT) -> Reference:
    """Run nmap per protocol over PORTS, with the version scripts (and ``--script version``:
    their outputs) and without them (the four at once), each command passed through WRAP."""
    by_proto: dict[Proto, set[int]] = {}
    for proto, port in ports:
        by_proto.setdefault(proto, set()).add(port)
    with scriptless_datadir() as empty:
        jobs = [(wrap(nmap_argv(proto, numbers, no_scripts_datadir=None if scripts else empty)),
                 scripts)
                for proto, numbers in sorted(by_proto.items()) for scripts in (True, False)]
        began = time.monotonic()
        with ThreadPoolExecutor(max_workers=max(len(jobs), 1)) as pool:
            runs = tuple(pool.map(lambda job: _run(job[0], job[1], timeout, job[1]), jobs))
        seconds = time.monotonic() - began
    verdicts: Verdicts = {}
    probe_verdicts: Verdicts = {}
    outputs: ScriptOutputs = {}
    for run in runs:
        (verdicts if run.scripts else probe_verdicts).update(parse_xml(run.xml))
        if run.outputs:
            outputs.update(parse_outputs(run.xml))
    return Reference(verdicts, probe_verdicts, runs, seconds, outputs)
