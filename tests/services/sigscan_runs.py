"""``sigscan scan`` over every harness endpoint, started in the background.

One ``sigscan scan --profile P --plugin-output -oX - -p PORT [-sU] 127.0.0.1`` per endpoint and
profile, run
where the daemons are (``Harness.argv``), several at a time. They start before Nmap's reference
runs (the ``nmap_reference`` fixture asks for them first), so that the two wait on the services
at the same time: a UDP service that Nmap 7.93 has no probe for (coturn's STUN, strongSwan's
IKE) costs each scanner the whole UDP probe sequence, about 100 s, and doing the two one after
the other would double that.
"""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.services.daemons import ENDPOINTS, Endpoint
from tests.services.harness import Harness
from tests.services.netns import Proto

PROFILES = ("nmap", "fast")
SCAN_TIMEOUT = 240.0  # seconds per sigscan run
PARALLEL = 12  # sigscan runs at once (they mostly wait on the services)
SIGSCAN = Path(sys.executable).with_name("sigscan")


@dataclass(frozen=True)
class ScanRun:
    argv: tuple[str, ...]
    returncode: int | None  # None: killed after SCAN_TIMEOUT
    stdout: bytes
    stderr: bytes
    seconds: float


def sigscan_argv(bundle: Path, profile: str, endpoint: Endpoint) -> list[str]:
    udp = ["-sU"] if endpoint.proto is Proto.UDP else []
    return [str(SIGSCAN), "scan", "--bundle", str(bundle), "--profile", profile, "--plugin-output",
            "-oX", "-", "-p", str(endpoint.port), *udp, "127.0.0.1"]


def scan(harness: Harness, argv: list[str]) -> ScanRun:
    began = time.monotonic()
    try:
        result = subprocess.run(harness.argv(argv), capture_output=True, timeout=SCAN_TIMEOUT,
                                check=False)
    except subprocess.TimeoutExpired as error:
        return ScanRun(tuple(argv), None, error.stdout or b"", error.stderr or b"",
                       time.monotonic() - began)
    return ScanRun(tuple(argv), result.returncode, result.stdout, result.stderr,
                   time.monotonic() - began)


class Background:
    """Every (profile, endpoint key) scan, submitted at construction; :meth:`results` waits."""

    def __init__(self, harness: Harness, bundle: Path) -> None:
        # the slowest first: UDP services wait longest
        jobs = sorted(((p, e) for p in PROFILES for e in ENDPOINTS),
                      key=lambda job: (job[1].proto is not Proto.UDP, job[0] != "nmap"))
        self._pool = ThreadPoolExecutor(max_workers=PARALLEL)
        self._futures: dict[tuple[str, str], Future[ScanRun]] = {
            (profile, e.key): self._pool.submit(scan, harness, sigscan_argv(bundle, profile, e))
            for profile, e in jobs}

    def results(self) -> dict[tuple[str, str], ScanRun]:
        return {job: future.result() for job, future in self._futures.items()}

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
