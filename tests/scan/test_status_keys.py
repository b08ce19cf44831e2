"""A key pressed during a scan prints a status report, as Nmap's does; the terminal is put back.

Each program runs on a pseudo-terminal of its own that is its controlling terminal (Nmap reads
keys from ``/dev/tty``, sigscan from a terminal standard input it owns), scanning a silent
loopback port (its NULL probe waits 6 s). A space is pressed once the program has the terminal
in cbreak mode (sigscan) or has started (Nmap); each must then print Nmap's two lines. sigscan is
then stopped with Ctrl-C (the terminal's own ^C, a SIGINT); its terminal must be back in the
mode it had, as after a scan that ends by itself.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sigscan.engine import Catalog
from tests.corpus.nmap_xml import nmap_path
from tests.scan.servers import ServerThread, banner, silent, unlisted_port

pytestmark = pytest.mark.real_nmap

STATS = re.compile(rb"Stats: \d+:\d\d:\d\d elapsed; \d+ hosts completed \(\d+ up\), \d+ undergoing "
                   rb"(?:Service|Connect) Scan\r?\n(?:Service scan|Connect Scan) Timing: About "
                   rb"\d+\.\d\d% done(?:; ETC: \d\d:\d\d \(\d+:\d\d:\d\d remaining\))?\r?\n")
# The child takes the pseudo-terminal as its controlling terminal, then becomes the program.
ON_TERMINAL = ("import fcntl, os, sys, termios\n"
               "fcntl.ioctl(0, termios.TIOCSCTTY, 0)\n"
               "os.execvp(sys.argv[1], sys.argv[1:])\n")
WAIT = 30.0  # seconds any step may take, at most


@dataclass
class OnTerminal:
    """A program on a pseudo-terminal: ``leader`` is our end, ``follower`` its terminal."""

    proc: subprocess.Popen[bytes]
    leader: int
    follower: int
    seen: bytearray = field(default_factory=bytearray)

    def read(self, timeout: float = 0.1) -> None:
        ready, _, _ = select.select([self.leader], [], [], timeout)
        if ready:
            with contextlib.suppress(OSError):  # EIO: the program is gone
                self.seen += os.read(self.leader, 65536)

    def until(self, pattern: re.Pattern[bytes] | bytes, timeout: float = WAIT) -> re.Match[bytes]:
        pattern = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        deadline = time.monotonic() + timeout
        while (found := pattern.search(self.seen)) is None:
            assert time.monotonic() < deadline, f"no {pattern.pattern!r} in {bytes(self.seen)!r}"
            self.read()
        return found

    def lflag(self) -> int:
        return int(termios.tcgetattr(self.follower)[3])

    def cbreak(self, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while self.lflag() & (termios.ICANON | termios.ECHO):
            assert time.monotonic() < deadline, "the terminal never left canonical mode"
            self.read(0.02)

    def wait(self, timeout: float = WAIT) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            assert time.monotonic() < deadline, "the program did not end"
            self.read()
        self.read(0)
        return self.proc.returncode


@contextlib.contextmanager
def on_terminal(*command: str) -> Iterator[OnTerminal]:
    leader, follower = os.openpty()
    proc = subprocess.Popen([sys.executable, "-c", ON_TERMINAL, *command], stdin=follower,
                            stdout=follower, stderr=follower, start_new_session=True)
    running = OnTerminal(proc, leader, follower)
    try:
        yield running
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=WAIT)
        os.close(leader)
        os.close(follower)


def sigscan(bundle: Path, port: int) -> list[str]:
    return [sys.executable, "-m", "sigscan", "scan", "127.0.0.1", "-p", str(port), "--intensity",
            "0", "--bundle", str(bundle)]


def test_a_key_prints_nmap_s_status_report_and_the_terminal_is_put_back(
        catalog: Catalog, servers: ServerThread, bundle_path: Path) -> None:
    nmap = nmap_path()
    if nmap is None:
        pytest.skip("nmap is not installed (apt-get install nmap)")
    port, _ = servers.serve(silent, unlisted_port(catalog))
    with on_terminal(*sigscan(bundle_path, port)) as ours, \
            on_terminal(nmap, "-sT", "-sV", "-Pn", "-n", "--version-intensity", "0", "-p", str(port),
                        "127.0.0.1") as theirs:
        before = ours.lflag()
        assert before & termios.ICANON and before & termios.ECHO
        theirs.until(b"Starting Nmap")
        ours.until(b"Starting sigscan")
        ours.cbreak()  # the keys are read now
        time.sleep(0.5)  # Nmap's service scan has begun (its connect scan takes milliseconds)
        os.write(ours.leader, b" ")
        os.write(theirs.leader, b" ")
        ours.until(STATS)
        os.write(ours.leader, b"\x03")  # Ctrl-C, through the terminal's line discipline
        assert ours.wait() == 130
        assert ours.lflag() == before
        assert b"interrupted" in ours.seen
        theirs.until(STATS)  # Nmap reads the key at its next event: the NULL probe's timeout
        assert theirs.wait() == 0


def test_a_scan_that_ends_puts_the_terminal_back(catalog: Catalog, servers: ServerThread,
                                                 bundle_path: Path) -> None:
    port, _ = servers.serve(banner, unlisted_port(catalog))
    with on_terminal(*sigscan(bundle_path, port)) as ours:
        before = ours.lflag()
        assert ours.wait() == 0
        assert ours.lflag() == before
        assert b"Progress: 1/1 ports (100.0%), 1 open" in ours.seen


def test_no_terminal_no_keys(catalog: Catalog, servers: ServerThread, bundle_path: Path) -> None:
    """Standard input that is not a terminal (a pipe) is left alone: nothing reads it."""
    port, _ = servers.serve(banner, unlisted_port(catalog))
    proc = subprocess.run(sigscan(bundle_path, port), input=b"   \n", capture_output=True,
                          timeout=WAIT, check=False)
    assert proc.returncode == 0 and b"Stats:" not in proc.stdout
