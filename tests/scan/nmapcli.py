"""Helpers of the tests of Nmap's command line: ``sigscan-nmap`` as the console script pip makes
of it, a probe database that the real ``nmap`` (``--datadir``) and a sigscan bundle share, and
running both on the same arguments at once.

The console script is written into the test's folder as pip writes it (``from
sigscan.cli.nmap import main; sys.exit(main())``), with the tree under test first on its path,
so that it runs this tree's code whatever the virtual environment's editable install points
at."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

import sigscan
from tests.helpers import DATA, build_data

RUNTIME = Path(sigscan.__file__).resolve().parent.parent
TIMEOUT = 90.0
SCRIPT = (f"#!{sys.executable}\n"
          "import sys\n"
          f"sys.path.insert(0, {str(RUNTIME)!r})\n"
          "from sigscan.cli.nmap import main\n"
          "sys.exit(main())\n")


def nmap() -> str:
    path = shutil.which("nmap")
    if path is None:
        pytest.skip("nmap is not installed (apt-get install nmap)")
    return path


def console_script(folder: Path) -> Path:
    """``folder/sigscan-nmap``, executable."""
    path = folder / "sigscan-nmap"
    path.write_text(SCRIPT)
    path.chmod(0o755)
    return path


@dataclass(frozen=True, slots=True)
class Database:
    """A folder that is both Nmap's ``--datadir`` and the source of ``bundle``."""

    folder: Path
    bundle: Path


def database(folder: Path, services: str | None = None) -> Database:
    """tests/data/engine.probes with ``services`` as nmap-services (default: the one of
    tests/data), as Nmap's data folder and as a bundle built from it."""
    (folder / "nmap-services").write_text(services if services is not None
                                          else (DATA / "engine.services").read_text())
    return Database(folder, build_data("engine", folder))


@dataclass(frozen=True, slots=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def run(command: Sequence[str | Path], *, env: dict[str, str] | None = None) -> Run:
    proc = subprocess.run([str(c) for c in command], capture_output=True, text=True,
                          timeout=TIMEOUT, check=False, env=env)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def both(db: Database, script: Path, args: Sequence[str | Path],
         ours: Sequence[str | Path] = (), theirs: Sequence[str | Path] = ()) -> tuple[Run, Run]:
    """``nmap -sT --datadir D ARGS THEIRS`` and ``sigscan-nmap -sT --bundle B ARGS OURS``, at
    the same time (each waits on servers, not on the processor): (nmap's run, ours)."""
    nmap_command = [nmap(), "-sT", "--datadir", db.folder, *args, *theirs]
    our_command = [script, "-sT", "--bundle", db.bundle, *args, *ours]
    with ThreadPoolExecutor(2) as pool:
        theirs_run = pool.submit(run, nmap_command)
        ours_run = pool.submit(run, our_command)
        return theirs_run.result(), ours_run.result()


def host_lines(grepable: str) -> list[str]:
    """The ``Host:`` lines of a grepable output."""
    return [line for line in grepable.splitlines() if line.startswith("Host:")]


def blocks(normal: str) -> list[list[str]]:
    """Each ``Nmap scan report for`` block of a normal output, up to the empty line after its
    port table (or the ``Skipping host`` line of a host that timed out), without the latency
    figure."""
    out: list[list[str]] = []
    current: list[str] | None = None
    for line in normal.splitlines():
        if line.startswith("Nmap scan report for"):
            current = []
            out.append(current)
        if current is None:
            continue
        current.append(re.sub(r"\([\d.]+s latency\)", "(Ns latency)", line))
        tabled = any(seen.startswith(("PORT ", "All ", "The ")) for seen in current)
        if (not line and tabled) or line.startswith("Skipping host"):
            current = None
    return out


def comment_lines(text: str) -> list[str]:
    """The ``#`` lines of a normal or grepable file, names and times made neutral."""
    out = []
    for line in text.splitlines():
        if line.startswith("#"):
            line = re.sub(r"^# (Nmap 7\.93|sigscan [\d.]+)", "# SCANNER", line)
            line = re.sub(r"^# (Nmap|sigscan) done", "# SCANNER done", line)
            line = re.sub(r"(initiated|done at) \w{3} \w{3} [ \d]\d [\d:]{8} \d{4}", r"\1 TIME", line)
            line = re.sub(r"scanned in [\d.]+ seconds", "scanned in N seconds", line)
            line = re.sub(r" as: .*", " as: ARGS", line)
            out.append(line)
    return out
