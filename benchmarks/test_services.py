"""Wall time of ``nmap -sV``, ``sigscan --profile nmap`` and ``sigscan --profile fast`` on the
real daemons of the service harness, in one run (issue 4, acceptance 4).

Run: .venv/bin/pytest benchmarks/test_services.py --benchmark-only -s   (as root)

The daemons (tests/services: sshd, nginx HTTP and HTTPS, Postfix, stunnel, vsftpd, Redis,
dnsmasq TCP and UDP, memcached, rpcbind TCP and UDP, snmpd) run in a network namespace of their
own, on loopback. Each tool scans every one of their ports in a single command (TCP and UDP
together), a fresh process per round. Nmap runs as users run it, ``nmap -sV -n -Pn`` with its
version-category NSE scripts; ``nmap_probes_only`` is the same without them (Nmap's probe and
match work alone, what sigscan does). Every round's verdicts are compared with Nmap's on
``name`` and ``tunnel`` (the fields every profile must agree on for every port, see
tests/services/test_scan_vs_nmap.py for the full comparison), so a fast wrong answer does not
pass for speed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.conftest import note
from tests.services.daemons import ENDPOINTS
from tests.services.harness import Harness, harness_session, unavailable
from tests.services.netns import Proto
from tests.services.nmap_reference import NMAP, parse_xml, scriptless_datadir

ROUNDS = int(os.environ.get("SIGSCAN_BENCH_ROUNDS", "3"))  # a round is one whole scan per tool
TIMEOUT = 300.0  # seconds per scan at most
SIGSCAN = Path(sys.executable).with_name("sigscan")
TCP = sorted({e.port for e in ENDPOINTS if e.proto is Proto.TCP})
UDP = sorted({e.port for e in ENDPOINTS if e.proto is Proto.UDP})
PORTS = ",".join([*(f"T:{p}" for p in TCP), *(f"U:{p}" for p in UDP)])
TARGET = "127.0.0.1"


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    with harness_session() as running:
        yield running


@pytest.fixture(scope="module")
def no_scripts() -> Iterator[str]:
    """A --datadir with an empty script database: Nmap without its version NSE scripts."""
    with scriptless_datadir() as folder:
        yield folder


def command(tool: str, bundle: Path, no_scripts: str) -> list[str]:
    if tool.startswith("nmap"):
        datadir = ["--datadir", no_scripts] if tool == "nmap_probes_only" else []
        return [NMAP, "-sS", "-sU", "-sV", "-n", "-Pn", *datadir, "-oX", "-", "-p", PORTS, TARGET]
    profile = tool.removeprefix("sigscan_")
    return [str(SIGSCAN), "scan", "--bundle", str(bundle), "--profile", profile, "-sT", "-sU",
            "-oX", "-", "-p", PORTS, TARGET]


def names(xml: bytes) -> dict[tuple[Proto, int], tuple[str, str]]:
    return {key: (v.name, v.tunnel) for key, v in parse_xml(xml).items()}


@pytest.fixture(scope="module")
def reference(harness: Harness, bundle_7_93: Path, no_scripts: str) -> dict[tuple[Proto, int], tuple[str, str]]:
    """Nmap's names and tunnels, from one ``nmap -sV`` of every port (not timed)."""
    argv = harness.argv(command("nmap", bundle_7_93, no_scripts))
    return names(subprocess.run(argv, capture_output=True, timeout=TIMEOUT, check=True).stdout)


@pytest.mark.parametrize("tool", ["nmap", "nmap_probes_only", "sigscan_nmap", "sigscan_fast"])
def test_real_services(benchmark: Any, tool: str, harness: Harness, bundle_7_93: Path, no_scripts: str,
                       reference: dict[tuple[Proto, int], tuple[str, str]]) -> None:
    argv = harness.argv(command(tool, bundle_7_93, no_scripts))
    outputs: list[bytes] = []
    seconds: list[float] = []

    def scan() -> None:
        began = time.perf_counter()
        result = subprocess.run(argv, capture_output=True, timeout=TIMEOUT, check=True)
        seconds.append(time.perf_counter() - began)
        outputs.append(result.stdout)

    benchmark.pedantic(scan, rounds=ROUNDS, iterations=1)
    found = [names(xml) for xml in outputs]
    assert all(len(f) == len(ENDPOINTS) for f in found), found
    for f in found:
        differing = {k: (v, reference.get(k)) for k, v in f.items() if reference.get(k) != v}
        # Nmap without its version scripts is a wall-time reference only: its scripts (and
        # sigscan's plugins) rename ports (mqtt-subscribe, https-redirect, murmur-version)
        if tool != "nmap_probes_only":
            assert not differing, f"{tool} differs from nmap -sV: {differing}"
    note(benchmark, tool=tool, ports=len(ENDPOINTS), seconds=[round(s, 2) for s in seconds],
         median_s=round(sorted(seconds)[len(seconds) // 2], 2))
