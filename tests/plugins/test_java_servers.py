"""Real Java servers against ``nmap -sV --script version``: the JVM's own JDWP agent
(``jdwp-version``) and Apache Derby's network server (``drda-info``), Debian's OpenJDK 17 and
libderby-java, run in the emulations' network namespace on loopback addresses of their own.

A JDWP agent serves one debugger at a time, so nmap and sigscan each get their own JVM; Derby
serves every scanner from one. The JDWP agent drops a connection that sends no handshake after
2 s, which the probe phase must see to call the port ``tcpwrapped`` (Nmap's NULL probe counts a
close within 3 s): the JDWP scans run first, with nothing else loading the machine, and only
with ``--profile nmap``. The fast profile's NULL wait (RTT-scaled, at least 0.5 s) ends before
that close, so it never calls a JDWP port tcpwrapped and never runs jdwp-version there: a
difference of the fast profile's probe phase (docs/scan.md), not of the plugin.

The comparison is the emulations': state, name, product, version, extrainfo, tunnel and the
mirrored scripts' output, and Nmap must show each script at work."""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from sigscan.plugins import names
from tests.plugins.compare import Verdict, parse
from tests.plugins.conftest import NMAP, PROFILES, SIGSCAN, Emulation
from tests.services.netns import Namespace

IDLE = Path(__file__).with_name("java") / "Idle.java"
DERBY = (Path("/usr/share/java/derby.jar"), Path("/usr/share/java/derbynet.jar"))
JDWP_PORT, DERBY_PORT = 5005, 1527
DERBY_HOST = "127.0.0.203"
JDWP_HOSTS = {"reference": "127.0.0.200", "nmap": "127.0.0.201"}
CASES = [(JDWP_PORT, "nmap"), (DERBY_PORT, "nmap"), (DERBY_PORT, "fast")]
START_TIMEOUT = 30.0  # seconds for a JVM to listen
SCAN_TIMEOUT = 120.0


def _missing() -> str | None:
    if shutil.which("java") is None or shutil.which("javac") is None:
        return "java/javac (Debian's openjdk-17-jdk-headless) is missing: bash scripts/setup.sh --dev installs it"
    if not all(jar.exists() for jar in DERBY):
        return "Apache Derby (Debian's libderby-java) is missing: bash scripts/setup.sh --dev installs it"
    return None


@dataclass
class Servers:
    ports: dict[str, dict[tuple[str, int], Verdict]]  # scanner -> its JDWP port and Derby's
    raw: dict[str, str]


def _launch(namespace: Namespace, argv: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(namespace.argv(argv), cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def _wait_for(process: subprocess.Popen[bytes], marker: bytes, end: float) -> None:
    """Read the process's output until ``marker``; RuntimeError if it does not come by ``end``.
    (Unbuffered reads: a buffered readline could hold the marker where select cannot see it.)"""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    seen = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while marker not in seen and time.monotonic() < end:
            if selector.select(max(end - time.monotonic(), 0.0)):
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                seen += chunk
    if marker not in seen:
        raise RuntimeError(f"{process.args!r} did not start: {seen.decode(errors='replace')[-1500:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10.0)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10.0)
    if process.stdout is not None:
        process.stdout.close()


def _scan(namespace: Namespace, argv: list[str]) -> tuple[dict[tuple[str, int], Verdict], str]:
    try:
        done = namespace.run(argv, timeout=SCAN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {}, f"{' '.join(argv)}: killed after {SCAN_TIMEOUT} s"
    note = f"{' '.join(argv)} (exit {done.returncode}): {done.stderr.decode(errors='replace')[-1500:]}"
    return (parse(done.stdout) if done.returncode == 0 else {}), note


@pytest.fixture(scope="module")
def servers(emulations: tuple[Namespace, list[Emulation]], built: dict[tuple[str, str], Path],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    reason = _missing()
    if reason is not None:
        pytest.skip(reason)
    namespace, _ = emulations
    home = tmp_path_factory.mktemp("derby")
    derby = ["java", f"-Dderby.system.home={home}", "-cp", ":".join(map(str, DERBY)),
             "org.apache.derby.drda.NetworkServerControl", "start", "-h", DERBY_HOST,
             "-p", str(DERBY_PORT), "-noSecurityManager"]
    started = [(derby, b"ready to accept connections")]
    for address in JDWP_HOSTS.values():
        agent = f"-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address={address}:{JDWP_PORT}"
        started.append((["java", agent, str(IDLE)], b"idle\n"))
    processes = [_launch(namespace, argv, home) for argv, _ in started]
    try:
        end = time.monotonic() + START_TIMEOUT
        for process, (_, marker) in zip(processes, started, strict=True):
            _wait_for(process, marker, end)
        yield _scan_all(namespace, built[("7.93", "db")])
    finally:
        for process in processes:
            _stop(process)


def _argv(scanner: str, bundle: Path, host: str, port: int) -> list[str]:
    if scanner == "reference":
        argv = [NMAP, "-sV", "-Pn", "-n", "--script", "version", "-oX", "-"]
    else:
        argv = [str(SIGSCAN), "scan", "--bundle", str(bundle), "--profile", scanner,
                "--plugin-output", "-oX", "-"]
    return [*argv, "-sT", "-p", str(port), host]


def _scan_all(namespace: Namespace, bundle: Path) -> Servers:
    """The JDWP scans, then the Derby scans (each batch at once)."""
    batches = [[(s, _argv(s, bundle, address, JDWP_PORT)) for s, address in JDWP_HOSTS.items()],
               [(s, _argv(s, bundle, DERBY_HOST, DERBY_PORT)) for s in ("reference", *PROFILES)]]
    found = Servers({}, {})
    for jobs in batches:
        with ThreadPoolExecutor(len(jobs)) as pool:
            results = list(pool.map(lambda job: (job[0], *_scan(namespace, job[1])), jobs))
        for scanner, ports, note in results:
            found.ports.setdefault(scanner, {}).update(ports)
            found.raw[scanner] = found.raw.get(scanner, "") + note + "\n"
    return found


@pytest.mark.parametrize(("port", "profile"), CASES)
def test_sigscan_matches_nmap(port: int, profile: str, servers: Servers) -> None:
    reference = servers.ports["reference"].get(("tcp", port))
    assert reference is not None, servers.raw["reference"]
    got = servers.ports[profile].get(("tcp", port))
    assert got is not None, servers.raw[profile]
    mirrored = set(names())
    assert got.compared() == reference.compared(), f"{port}: sigscan {got}, nmap {reference}"
    assert got.scripts == {k: v for k, v in reference.scripts.items() if k in mirrored}


def test_nmap_shows_each_plugin_at_work(servers: Servers) -> None:
    """jdwp-version turns the tcpwrapped JDWP port into the JVM's description; drda-info
    names Derby and prints the server's attributes."""
    ports = servers.ports["reference"]
    jdwp, derby = ports.get(("tcp", JDWP_PORT)), ports.get(("tcp", DERBY_PORT))
    assert jdwp is not None and derby is not None, servers.raw["reference"]
    assert jdwp.name == "jdwp" and jdwp.product.startswith("Java Debug Wire Protocol"), jdwp
    assert derby.product == "Apache Derby Server" and "drda-info" in derby.scripts, derby
