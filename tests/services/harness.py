"""Start the harness's daemons (all at once, in a network namespace of their own), wait until each
is bound and accepts connections, check that nothing listens off loopback, stop them by PID.

Usable without pytest (a benchmark can ``with harness_session() as h:``); the pytest fixtures
are in ``conftest.py``. Every wait is bounded; a daemon that dies or does not come up makes
:class:`HarnessError` with the end of its log.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.services.daemons import (
    DAEMONS,
    ROOTS,
    Daemon,
    Endpoint,
    Material,
    missing_packages,
    prepare,
)
from tests.services.netns import Listener, Namespace, Proto

# seconds for every daemon to be bound and accept connections: RabbitMQ boots in about 6 s on
# an idle machine, several times that on a busy one; the wait ends as soon as all are up
START_TIMEOUT = 60.0
STOP_TIMEOUT = 5.0  # seconds a daemon gets after SIGTERM before SIGKILL
POLL = 0.05

# Run inside the namespace: connect to each TCP port until it accepts, within argv[1] seconds.
_CONNECT_CHECK = """\
import socket, sys, time
deadline = time.monotonic() + float(sys.argv[1])
for port in map(int, sys.argv[2:]):
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
            break
        except OSError as error:
            if time.monotonic() > deadline:
                sys.exit(f"127.0.0.1:{port} does not accept connections: {error}")
            time.sleep(0.05)
"""


RunInHarness = Callable[..., subprocess.CompletedProcess[bytes]]
MakeDaemon = Callable[[Material], Daemon]


class HarnessError(RuntimeError):
    """A daemon did not start, died, or listens where it must not."""


@dataclass
class Running:
    daemon: Daemon
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Harness:
    """The running daemons. ``run`` and ``argv`` put a command where they are reachable."""

    def __init__(self, namespace: Namespace, folder: Path, daemons: Sequence[MakeDaemon] = DAEMONS,
                 roots: Sequence[Path] = ROOTS) -> None:
        self.namespace = namespace
        self.folder = folder
        self.daemons = tuple(daemons)
        self.roots = tuple(roots)  # where the daemons' programs are taken from, in this order
        self.running: dict[str, Running] = {}
        self.startup_seconds = 0.0
        self.listeners_at_start: list[Listener] = []

    @property
    def endpoints(self) -> list[Endpoint]:
        return [e for r in self.running.values() for e in r.daemon.endpoints]

    def argv(self, argv: Sequence[str]) -> list[str]:
        """ARGV as a command that runs where the daemons are (for ``Popen``)."""
        return self.namespace.argv(argv)

    def run(self, argv: Sequence[str], *, timeout: float,
            input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        """Run ARGV where the daemons are reachable; output captured; killed after TIMEOUT s."""
        return self.namespace.run(argv, timeout=timeout, input=input)

    def listeners(self) -> list[Listener]:
        return self.namespace.listeners()

    def daemon_pids(self) -> set[int]:
        """The PIDs of the daemons and of every process they started."""
        tree = process_tree()
        return set().union(*(descendants(r.process.pid, tree) for r in self.running.values()))

    def dead(self) -> dict[str, int]:
        """Daemons that have exited, with their exit status."""
        return {name: rc for name, r in self.running.items() if (rc := r.process.poll()) is not None}

    def owner(self, endpoint: Endpoint, listeners: Sequence[Listener],
              tree: dict[int, list[int]] | None = None) -> str | None:
        """The name of the daemon whose process (or a child of it) has ENDPOINT bound on loopback."""
        tree = process_tree() if tree is None else tree
        for name, r in self.running.items():
            pids = descendants(r.process.pid, tree)
            for listener in listeners:
                if (listener.proto is endpoint.proto and listener.port == endpoint.port
                        and listener.loopback and listener.pids & pids):
                    return name
        return None

    def start(self, timeout: float = START_TIMEOUT) -> None:
        began = time.monotonic()
        material = prepare(self.folder, self.roots)
        for make in self.daemons:
            daemon = make(material)
            log = self.folder / f"{daemon.name}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(self.namespace.argv(daemon.command()),
                                           stdin=subprocess.DEVNULL, stdout=out,
                                           stderr=subprocess.STDOUT, cwd=self.folder)
            self.running[daemon.name] = Running(daemon, process, log)
        self._wait_bound(began + timeout)
        self._wait_accepting(began + timeout)
        self.listeners_at_start = self.listeners()
        off = [f"{x.proto}/{x.address}:{x.port}" for x in self.listeners_at_start if not x.loopback]
        if off:
            raise HarnessError(f"listening off loopback: {off}")
        self.startup_seconds = time.monotonic() - began

    def _wait_bound(self, deadline: float) -> None:
        while True:
            if dead := self.dead():
                raise HarnessError("; ".join(
                    f"{name} exited with status {rc}:\n{self.running[name].log_tail()}"
                    for name, rc in dead.items()))
            listeners, tree = self.listeners(), process_tree()
            pending = [e for e in self.endpoints if self.owner(e, listeners, tree) is None]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise HarnessError("not bound on loopback in time: " + "; ".join(
                    f"{e.key} ({e.proto}/{e.port}):\n{self._log_of(e)}" for e in pending))
            time.sleep(POLL)

    def _wait_accepting(self, deadline: float) -> None:
        ports = sorted({e.port for e in self.endpoints if e.proto is Proto.TCP})
        left = max(deadline - time.monotonic(), 1.0)
        result = self.run([sys.executable, "-c", _CONNECT_CHECK, str(left), *map(str, ports)],
                          timeout=left + 5.0)
        if result.returncode != 0:
            raise HarnessError(result.stderr.decode(errors="replace").strip())

    def _log_of(self, endpoint: Endpoint) -> str:
        for r in self.running.values():
            if endpoint in r.daemon.endpoints:
                return r.log_tail()
        return ""

    def stop(self) -> None:
        """SIGTERM each daemon by its PID, SIGKILL what is left after STOP_TIMEOUT, then every
        process still in the namespace (children of the daemons), then delete the namespace."""
        for r in self.running.values():
            if r.process.poll() is None:
                r.process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for r in self.running.values():
            try:
                r.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                r.process.kill()
                r.process.wait(timeout=STOP_TIMEOUT)
        with suppress(RuntimeError):
            for pid in self.namespace.pids():
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.namespace.delete()


def process_tree() -> dict[int, list[int]]:
    """Parent PID -> child PIDs, read from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def descendants(pid: int, tree: dict[int, list[int]]) -> set[int]:
    found, todo = {pid}, [pid]
    while todo:
        for child in tree.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def unavailable() -> str | None:
    """Why the harness cannot run on this machine (a skip reason), or None when it can."""
    missing = missing_packages()
    if missing:
        return f"missing Debian packages {', '.join(missing)} (bash scripts/setup.sh --dev installs them)"
    if os.geteuid() != 0:
        return "the service harness needs root (network namespace, daemons on ports < 1024, nmap -sU)"
    return None


@contextmanager
def harness_session(timeout: float = START_TIMEOUT, keep: bool = False,
                    daemons: Sequence[MakeDaemon] = DAEMONS,
                    roots: Sequence[Path] = ROOTS) -> Iterator[Harness]:
    """Start DAEMONS (every one) in a new namespace, their programs taken from the first of ROOTS
    that has each; stop them and delete the namespace (and, unless KEEP, the folder with the
    configs and logs) on the way out, whatever happens."""
    folder = Path(tempfile.mkdtemp(prefix="sigscan-harness-"))
    folder.chmod(0o755)  # daemons that drop privileges read their files here
    try:
        namespace = Namespace.create()
        harness = Harness(namespace, folder, daemons, roots)
        try:
            harness.start(timeout)
            yield harness
        finally:
            harness.stop()
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
