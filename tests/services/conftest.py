"""Fixtures of the real-service tests: the daemons (started once per session, all at once, in a
network namespace of their own), ``run_in_harness`` to run a command where they are reachable,
and the real ``nmap -sV`` verdicts on them (a TCP and a UDP run, each with and without Nmap's
version-category NSE scripts, the four at once, once per session), with sigscan's scans of the
same services running meanwhile (``sigscan_background``)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.services.daemons import ENDPOINTS
from tests.services.harness import Harness, RunInHarness, harness_session, unavailable
from tests.services.nmap_reference import Reference, run_reference
from tests.services.sigscan_runs import Background


@pytest.fixture(scope="session")
def harness() -> Iterator[Harness]:
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    with harness_session() as running:
        yield running


@pytest.fixture(scope="session")
def run_in_harness(harness: Harness) -> RunInHarness:
    """``run_in_harness(argv, timeout=…, input=None)``: run ARGV where the daemons are reachable
    (inside the namespace); output captured; killed after TIMEOUT seconds."""

    def run(argv: Sequence[str], *, timeout: float,
            input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return harness.run(argv, timeout=timeout, input=input)

    return run


@pytest.fixture(scope="session")
def sigscan_background(harness: Harness, built: dict[tuple[str, str], Path]) -> Iterator[Background]:
    """The sigscan scans of every endpoint (tests/services/sigscan_runs.py), started now."""
    background = Background(harness, built[("7.93", "db")])
    try:
        yield background
    finally:
        background.shutdown()


@pytest.fixture(scope="session")
def nmap_reference(harness: Harness, sigscan_background: Background) -> Reference:
    """Nmap's verdicts; sigscan's scans are started first, so both wait on the services at once."""
    return run_reference(harness.argv, ((e.proto, e.port) for e in ENDPOINTS))
