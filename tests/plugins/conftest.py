"""The emulations (tests/plugins/emulators) in a network namespace of their own, and the scans
compared on them: the real ``nmap -sV --script version`` (``-sV`` runs the version scripts;
``--script`` makes Nmap print their output) and ``sigscan scan --plugin-output`` with the
``nmap`` and ``fast`` profiles, one run per emulation address and scanner, several at once
(they mostly wait), once per session."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from tests.plugins.compare import Verdict, parse
from tests.plugins.emulators import address_of, modules
from tests.services.netns import Namespace

ROOT = Path(__file__).resolve().parents[2]
NMAP = "/usr/bin/nmap"
SIGSCAN = Path(sys.executable).with_name("sigscan")
START_TIMEOUT = 20.0  # seconds for the emulations to be bound
SCAN_TIMEOUT = 240.0  # seconds per scan
PARALLEL = 8  # scans at once
PROFILES = ("nmap", "fast")


@dataclass(frozen=True)
class Emulation:
    """One emulation module where it listens."""

    module: ModuleType
    address: str

    @property
    def name(self) -> str:
        return self.module.__name__.rsplit(".", 1)[1]

    @property
    def ports(self) -> list[tuple[str, int]]:
        return [(s.proto, s.port) for s in self.module.SERVERS]

    def port_args(self) -> list[str]:
        tcp = [str(p) for proto, p in self.ports if proto == "tcp"]
        udp = [str(p) for proto, p in self.ports if proto == "udp"]
        spec = ",".join([*(["T:" + ",".join(tcp)] if tcp else []), *(["U:" + ",".join(udp)] if udp else [])])
        kinds = [*(["-sT"] if tcp else []), *(["-sU"] if udp else [])]
        return ["-p", spec, *kinds]


@dataclass
class Scans:
    """Every scan's ports: ``nmap[emulation]``, ``sigscan[(profile, emulation)]``; the raw
    outputs are kept for failure messages."""

    nmap: dict[str, dict[tuple[str, int], Verdict]]
    sigscan: dict[tuple[str, str], dict[tuple[str, int], Verdict]]
    raw: dict[tuple[str, str], str]


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "the plugin emulations need root (a network namespace, ports < 1024, nmap -sU)"
    if shutil.which("ip") is None:
        return "ip (Debian's iproute2) is missing: bash scripts/setup.sh --dev installs it"
    if not Path(NMAP).exists():
        return "nmap is missing: bash scripts/setup.sh installs it"
    return None


@pytest.fixture(scope="session")
def emulations() -> Iterator[tuple[Namespace, list[Emulation]]]:
    reason = _unavailable()
    if reason is not None:
        pytest.skip(reason)
    namespace = Namespace.create("sigscan-plugins")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(namespace.argv([sys.executable, "-m", "tests.plugins.emulators.run"]),
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_ready(process)
        yield namespace, [Emulation(m, address_of(i)) for i, m in enumerate(modules())]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(5.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5.0)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
        namespace.delete()


def _wait_ready(process: subprocess.Popen[bytes]) -> None:
    import selectors

    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(START_TIMEOUT) or process.stdout.readline().strip() != b"ready":
            process.kill()
            _, err = process.communicate(timeout=5.0)
            raise RuntimeError(f"the emulations did not start: {err.decode(errors='replace')[-2000:]}")


@pytest.fixture(scope="session")
def scans(emulations: tuple[Namespace, list[Emulation]],
          built: dict[tuple[str, str], Path]) -> Scans:
    namespace, items = emulations
    bundle = built[("7.93", "db")]
    jobs: list[tuple[str, str, list[str]]] = []
    # UDP emulations first: Nmap's UDP probe phase waits out every probe a silent service
    # leaves unanswered (about 100 s), so those scans start before the short TCP ones
    for item in sorted(items, key=lambda i: all(proto != "udp" for proto, _ in i.ports)):
        jobs.append(("reference", item.name, [NMAP, "-sV", "-Pn", "-n", "--script", "version",
                                         "-oX", "-", *item.port_args(), item.address]))
        for profile in PROFILES:
            jobs.append((profile, item.name, [str(SIGSCAN), "scan", "--bundle", str(bundle),
                                              "--profile", profile, "--plugin-output", "-oX", "-",
                                              *item.port_args(), item.address]))

    def run(job: tuple[str, str, list[str]]) -> tuple[str, str, bytes, str]:
        who, name, argv = job
        began = time.monotonic()
        try:
            done = namespace.run(argv, timeout=SCAN_TIMEOUT)
        except subprocess.TimeoutExpired:
            return who, name, b"", f"{' '.join(argv)}: killed after {SCAN_TIMEOUT} s"
        took = time.monotonic() - began
        note = (f"{' '.join(argv)} (exit {done.returncode}, {took:.1f} s): "
                f"{done.stderr.decode(errors='replace')[-1500:]}")
        return who, name, done.stdout if done.returncode == 0 else b"", note

    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(run, jobs))
    found = Scans({}, {}, {})
    for who, name, stdout, note in results:
        ports = parse(stdout) if stdout else {}
        found.raw[(who, name)] = note
        if who == "reference":
            found.nmap[name] = ports
        else:
            found.sigscan[(who, name)] = ports
    return found
