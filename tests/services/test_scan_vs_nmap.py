"""Issue 4, acceptance 2: on each real daemon of the harness, ``sigscan scan`` (profiles ``nmap``
and ``fast``) gives the same ``name``, ``product``, ``version``, ``extrainfo`` and ``tunnel`` as
the real ``nmap -sV`` run in the same session.

Where one of Nmap's version-category NSE scripts rewrites the verdict of the probes file and
sigscan does not do what that script does, the comparison is with Nmap's probe-and-match verdict
(the same scan with those scripts off) and the script is named in ``WITHOUT_NSE``, as
nmap-semantics.md §12 asks. rpcbind is not there: sigscan's SunRPC grinder does what
``rpcinfo``/``rpc-grind`` do, so it is compared with plain ``nmap -sV``.

One ``sigscan scan --profile P -oX - -p PORT [-sU] 127.0.0.1`` per service and profile, run where
the daemons are (``Harness.argv``), several at a time (they mostly wait on the services), once
per session; each test compares one of them with Nmap's verdict for the same port.
"""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.services.daemons import ENDPOINTS, Endpoint
from tests.services.harness import Harness
from tests.services.netns import Proto
from tests.services.nmap_reference import Reference, parse_xml

PROFILES = ("nmap", "fast")
SCAN_TIMEOUT = 180.0  # seconds per sigscan run
PARALLEL = 6  # sigscan runs at once
SIGSCAN = Path(sys.executable).with_name("sigscan")
# endpoint key -> the NSE script whose rewrite of Nmap's verdict sigscan does not reproduce
WITHOUT_NSE = {"snmp": "snmp-info"}  # product "SNMPv1 server; net-snmp SNMPv3 server": SNMPv3 enterprise


@dataclass(frozen=True)
class ScanRun:
    argv: tuple[str, ...]
    returncode: int | None  # None: killed after SCAN_TIMEOUT
    stdout: bytes
    stderr: bytes
    seconds: float


def sigscan_argv(bundle: Path, profile: str, endpoint: Endpoint) -> list[str]:
    udp = ["-sU"] if endpoint.proto is Proto.UDP else []
    return [str(SIGSCAN), "scan", "--bundle", str(bundle), "--profile", profile, "-oX", "-",
            "-p", str(endpoint.port), *udp, "127.0.0.1"]


def _scan(harness: Harness, argv: list[str]) -> ScanRun:
    began = time.monotonic()
    try:
        result = subprocess.run(harness.argv(argv), capture_output=True, timeout=SCAN_TIMEOUT,
                                check=False)
    except subprocess.TimeoutExpired as error:
        return ScanRun(tuple(argv), None, error.stdout or b"", error.stderr or b"",
                       time.monotonic() - began)
    return ScanRun(tuple(argv), result.returncode, result.stdout, result.stderr,
                   time.monotonic() - began)


@pytest.fixture(scope="session")
def sigscan_runs(harness: Harness, built: dict[tuple[str, str], Path]) -> dict[tuple[str, str], ScanRun]:
    """Every (profile, endpoint key) scan, run once per session."""
    bundle = built[("7.93", "db")]
    jobs = [(profile, e) for profile in PROFILES for e in ENDPOINTS]
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        runs = list(pool.map(lambda job: _scan(harness, sigscan_argv(bundle, job[0], job[1])), jobs))
    return {(profile, e.key): run for (profile, e), run in zip(jobs, runs, strict=True)}


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.key)
def test_scan_matches_nmap(endpoint: Endpoint, profile: str, nmap_reference: Reference,
                           sigscan_runs: dict[tuple[str, str], ScanRun]) -> None:
    verdicts = nmap_reference.probe_verdicts if endpoint.key in WITHOUT_NSE else nmap_reference.verdicts
    reference = verdicts[(endpoint.proto, endpoint.port)]
    assert reference.state == "open" and reference.name, f"nmap itself did not identify {endpoint}"
    run = sigscan_runs[(profile, endpoint.key)]
    command = " ".join(run.argv)
    assert run.returncode is not None, f"{command} took more than {SCAN_TIMEOUT} s"
    assert run.returncode == 0, f"{command} exited {run.returncode}: {run.stderr.decode(errors='replace')}"
    scanned = parse_xml(run.stdout)
    assert list(scanned) == [(endpoint.proto, endpoint.port)], command
    got = scanned[(endpoint.proto, endpoint.port)]
    assert got.state == "open", command
    assert got.normalized() == reference.normalized(), (
        f"{command}: sigscan says {got.summary()!r}, nmap says {reference.summary()!r}")
