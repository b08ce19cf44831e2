"""``sigc lint`` as a user runs it, on the deliberately broken files of ``broken/``: each file,
then the whole folder in one run, then Nmap itself on each file.

Each file says at its top what it expects, in comment lines:

* ``# expect: LINE:COL CODE``, one per finding that must be reported there. Every error sigc
  reports must be listed (so a new false error fails); warnings and info may be listed.
* ``# exit: N`` when the exit status is not 1;
* ``# nmap: refuses`` or ``# nmap: loads``: what Nmap 7.93 does with the file. A file Nmap
  loads holds only errors that strike at match time (an abort or an endless loop).

``15_empty.probes`` has zero bytes, so its expectations live here.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

BROKEN = Path(__file__).parent / "broken"
FILES = sorted(p.name for p in BROKEN.glob("*.probes"))
EMPTY = "15_empty.probes"
TIMEOUT = 120  # seconds, per command


@dataclass(frozen=True)
class Expected:
    found: frozenset[tuple[int, int, str]]  # (line, col, code)
    exit: int
    nmap: str


def expected(name: str) -> Expected:
    if name == EMPTY:  # sigc refuses a run without a single probe (exit 2); Nmap loads it
        return Expected(frozenset(), 2, "loads")
    found: set[tuple[int, int, str]] = set()
    exit_code, nmap = 1, ""
    for line in (BROKEN / name).read_bytes().split(b"\n"):
        if not line.startswith(b"#"):
            break
        text = line.decode("latin-1")
        if m := re.fullmatch(r"# expect: (\d+):(\d+) (SIG\d{3})", text):
            found.add((int(m[1]), int(m[2]), m[3]))
        elif m := re.fullmatch(r"# exit: (\d)", text):
            exit_code = int(m[1])
        elif m := re.fullmatch(r"# nmap: (refuses|loads)", text):
            nmap = m[1]
    return Expected(frozenset(found), exit_code, nmap)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    col: int
    code: str
    severity: str


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def findings(self) -> list[Finding]:
        """The header line of each finding in the text report."""
        head = re.compile(r"^(tests/compiler/broken/\S+\.probes):(\d+):(\d+): (SIG\d{3}) (error|warning|info): ")
        return [Finding(m[1], int(m[2]), int(m[3]), m[4], m[5])
                for m in map(head.match, self.out.splitlines()) if m]


def relative(name: str) -> str:
    return f"tests/compiler/broken/{name}"


def sigc_lint(*paths: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    return subprocess.Popen([sys.executable, "-m", "sigc.cli", "lint", *paths], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="backslashreplace")


@pytest.fixture(scope="module")
def runs() -> dict[str, Run]:
    """Every file alone, and the whole folder in one run (key ``*``), side by side."""
    started = {name: sigc_lint(relative(name)) for name in FILES}
    started["*"] = sigc_lint("tests/compiler/broken")  # a folder without nmap-service-probes: its *.probes
    done = {}
    for name, process in started.items():
        out, err = process.communicate(timeout=TIMEOUT)
        done[name] = Run(process.returncode, out, err)
    return done


def test_the_folder_covers_the_classes_of_error() -> None:
    assert len(FILES) >= 12
    for name in FILES:
        e = expected(name)
        assert e.nmap, f"{name} says nothing of Nmap"
        # a file that expects nothing shows what Nmap tolerates (exit 0): sigc must too
        assert e.found or name == EMPTY or e.exit == 0, f"{name} expects nothing"


@pytest.mark.parametrize("name", FILES)
def test_broken_file(name: str, runs: dict[str, Run]) -> None:
    run, want = runs[name], expected(name)
    assert "Traceback" not in run.out + run.err
    assert run.code == want.exit, run.out + run.err
    if want.exit == 2:
        assert run.out == "" and run.err.startswith("sigc: error: ") and run.err.count("\n") == 1
        return
    found = run.findings()
    assert {f.path for f in found} == {relative(name)}
    reported = {(f.line, f.col, f.code) for f in found}
    assert sorted(want.found - reported) == [], "expected but not reported"
    errors = {(f.line, f.col, f.code) for f in found if f.severity == "error"}
    assert sorted(errors - want.found) == [], "errors the file does not expect"
    assert re.search(r"^\d+ errors?, \d+ warnings?, \d+ info$", run.out, re.M)


def test_whole_folder_in_one_run(runs: dict[str, Run]) -> None:
    run = runs["*"]
    assert "Traceback" not in run.out + run.err and run.err == ""
    assert run.code == 1
    found = run.findings()
    order = [relative(name) for name in FILES]
    assert [f.path for f in found] == sorted((f.path for f in found), key=order.index)  # file by file
    for name in FILES:
        mine = [f for f in found if f.path == relative(name)]
        want = expected(name)
        assert want.found <= {(f.line, f.col, f.code) for f in mine}, name
        assert {(f.line, f.col, f.code) for f in mine if f.severity == "error"} <= want.found, name
        assert [(f.line, f.col) for f in mine] == sorted((f.line, f.col) for f in mine), name
    assert Finding(relative(EMPTY), 1, 1, "SIG547", "warning") in found


# ---------------------------------------------------------------------------------------------
# Nmap itself: what sigc calls broken, Nmap refuses (or it strikes at match time)


@pytest.fixture(scope="module")
def open_port() -> Iterator[int]:
    """A loopback TCP port that answers every connection with one line, for 120 s at most."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()
    deadline = time.monotonic() + 120

    def serve() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn, contextlib.suppress(OSError):
                conn.sendall(b"HELLO\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    server.close()


@pytest.mark.real_nmap
def test_nmap_agrees(open_port: int) -> None:
    nmap = shutil.which("nmap")
    if nmap is None:
        pytest.skip("nmap is not installed (apt-get install nmap)")

    def load(name: str) -> tuple[str, str]:
        done = subprocess.run([nmap, "-sT", "-Pn", "-n", "-p", str(open_port), "-sV", "--version-intensity", "0",
                               "--versiondb", str(BROKEN / name), "127.0.0.1"],
                              capture_output=True, text=True, errors="replace", timeout=TIMEOUT, check=False)
        loaded = done.returncode == 0 and f"{open_port}/tcp open" in done.stdout
        return name, "loads" if loaded else "refuses"

    with ThreadPoolExecutor(max_workers=4) as pool:
        seen = dict(pool.map(load, FILES))
    assert seen == {name: expected(name).nmap for name in FILES}
