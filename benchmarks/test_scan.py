"""2,000 loopback banner ports: ports per second and peak RSS of sigscan (both profiles) and of
``nmap -sV`` (issue 4, acceptance 4).

Run: .venv/bin/pytest benchmarks/test_scan.py --benchmark-only -s

A separate process (:mod:`benchmarks.banner_farm`) listens on 2,000 consecutive ports of
127.0.0.1, each sending a banner that the NULL probe identifies (OpenSSH, vsftpd, Postfix,
Dovecot). Each tool scans all of them once (a round is a whole scan; a fresh process, start-up
included), bounded by :data:`TIMEOUT`; the peak RSS is the scanning process's own
(``VmHWM``, sampled). Every port must come back open with the expected service name, so a fast wrong
answer cannot pass for speed. Nmap runs as ``nmap -sV -Pn -n`` (as root: a SYN scan for port
discovery; sigscan does a connect scan).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from benchmarks.banner_farm import expected_name, raise_fd_limit
from benchmarks.conftest import ROOT

COUNT = 2000
FIRST_BASE = 21000  # below the ephemeral range (32768-60999), so no client port collides
TIMEOUT = 600.0  # seconds per scan at most


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_kib: int
    returncode: int


def free_block(count: int) -> int:
    """The first base from FIRST_BASE whose ``count`` ports are all free on 127.0.0.1."""
    base = FIRST_BASE
    while base + count < 32768:
        taken = next((port for port in range(base, base + count) if not _free(port)), None)
        if taken is None:
            return base
        base = taken + 1
    raise RuntimeError(f"no block of {count} free ports below 32768")


def _free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def farm() -> Iterator[int]:
    raise_fd_limit(COUNT * 3 + 256)  # the scanners inherit it
    base = free_block(COUNT)
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.banner_farm", str(base), str(COUNT),
                             str(TIMEOUT * 4)], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready and proc.stdout.readline().strip() == "READY", "the banner farm did not start"
        yield base
    finally:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.close()
        proc.stdout.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def measure(command: list[str]) -> Run:
    """Run ``command`` to its end (killed after TIMEOUT): wall time and its peak RSS.

    The peak is the process's ``VmHWM`` (the high-water mark of its own memory map, which
    ``exec`` starts afresh), sampled until it exits; ``ru_maxrss`` would not do, as it keeps the
    RSS the forked child had before ``exec`` (this pytest process's)."""
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    try:
        while proc.poll() is None:
            peak = max(peak, vm_hwm(proc.pid))
            if time.monotonic() - started > TIMEOUT:
                proc.kill()
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return Run(time.monotonic() - started, peak, proc.returncode)


def vm_hwm(pid: int) -> int:
    """The peak RSS (KiB) of a running process, 0 once it has gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def sigscan_names(path: Path) -> dict[int, str | None]:
    records = [json.loads(line) for line in path.read_text().splitlines()]
    return {r["port"]: r["name"] if r["state"] == "open" else None for r in records}


def nmap_names(path: Path) -> dict[int, str | None]:
    out: dict[int, str | None] = {}
    for port in ET.parse(path).getroot().iter("port"):
        state, service = port.find("state"), port.find("service")
        is_open = state is not None and state.get("state") == "open"
        out[int(port.get("portid", "0"))] = service.get("name") if is_open and service is not None else None
    return out


def command(tool: str, base: int, bundle: Path, out: Path) -> list[str]:
    ports = f"{base}-{base + COUNT - 1}"
    if tool == "nmap":
        return ["nmap", "-sV", "-Pn", "-n", "-p", ports, "127.0.0.1", "-oX", str(out)]
    profile = tool.removeprefix("sigscan-")
    return [sys.executable, "-m", "sigscan.cli.commands", "scan", "127.0.0.1", "-p", ports, "--profile", profile,
            "--bundle", str(bundle), "-oJ", str(out), "-oN", os.devnull]


@pytest.mark.parametrize("tool", ["sigscan-nmap", "sigscan-fast", "nmap"])
def test_2000_banner_ports(benchmark: Any, tool: str, farm: int, bundle_7_93: Path, tmp_path: Path) -> None:
    if tool == "nmap" and shutil.which("nmap") is None:
        pytest.skip("nmap is not installed (apt-get install nmap)")
    out = tmp_path / ("scan.xml" if tool == "nmap" else "scan.ndjson")
    run: Run = benchmark.pedantic(lambda: measure(command(tool, farm, bundle_7_93, out)),
                                  rounds=1, iterations=1)
    assert run.returncode == 0, f"{tool} exited {run.returncode}"
    names = nmap_names(out) if tool == "nmap" else sigscan_names(out)
    wrong = {port: name for port, name in names.items() if name != expected_name(port, farm)}
    assert len(names) == COUNT and not wrong, f"{len(wrong)} wrong, e.g. {list(wrong.items())[:5]}"
    rate = COUNT / run.seconds
    benchmark.extra_info.update({"ports": COUNT, "seconds": round(run.seconds, 2),
                                 "ports_per_second": round(rate, 1),
                                 "peak_rss_mib": round(run.peak_rss_kib / 1024, 1)})
    print(f"\n{tool}: {COUNT} ports in {run.seconds:.1f} s = {rate:.0f} ports/s, "
          f"peak RSS {run.peak_rss_kib / 1024:.1f} MiB")

