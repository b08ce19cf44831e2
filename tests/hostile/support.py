"""Running a command the way a hostile user or network meets it, with a bound.

:func:`run_bounded` starts ``sigc`` or ``sigscan`` in a subprocess of its own (its own process
group, so a hang is ended by that group's PID), and checks what every hostile case must hold:
it ended in time, stderr has no traceback, the exit status is the documented one, an error is
one line, and the files named ``unchanged`` are exactly as they were (kind, mode, bytes, link
target).
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

KILL_GRACE = 5.0  # seconds after the bound before the group is killed for good

# Root without the capabilities that bypass file permissions (``under=``): the files' modes and
# owners count as they do for any user.
UNPRIVILEGED = ("setpriv", "--bounding-set=-all", "--inh-caps=-all",
                "--securebits=+noroot,+noroot_locked,+no_setuid_fixup", "--")


def unprivileged() -> tuple[str, ...]:
    """:data:`UNPRIVILEGED`, or a skip where it cannot be had."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv (util-linux) to give files to another user and drop "
                    "the capabilities that bypass their permissions")
    return UNPRIVILEGED


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: bytes
    stderr: bytes
    seconds: float

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")


@dataclass(frozen=True)
class FileState:
    """What must not change about a path: its kind and mode, its link target, its bytes."""

    kind: int
    mode: int
    target: str | None
    digest: str | None

    @classmethod
    def of(cls, path: Path) -> FileState | None:
        try:
            st = path.lstat()
        except FileNotFoundError:
            return None
        target = os.readlink(path) if stat.S_ISLNK(st.st_mode) else None
        digest = None
        if stat.S_ISREG(st.st_mode):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return cls(stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), target, digest)


def _limits(rlimits: Mapping[int, int]) -> Callable[[], None]:
    def apply() -> None:
        for which, soft in rlimits.items():
            _, hard = resource.getrlimit(which)
            resource.setrlimit(which, (soft, hard))
    return apply


def run_bounded(
    program: str,
    *args: str,
    timeout: float,
    codes: Collection[int],
    unchanged: Sequence[Path] = (),
    stdin: bytes | None = None,
    rlimits: Mapping[int, int] | None = None,
    cwd: Path | None = None,
    one_line: bool = True,
    stdout: IO[bytes] | None = None,
    under: Sequence[str] = (),
) -> Outcome:
    """Run ``python -m PROGRAM ARGS…`` and assert the hostile-input contract (see the module
    docstring); ``one_line``: a non-zero exit prints exactly one non-empty line on stderr;
    ``stdout``: an open file to give the program as its standard output (``Outcome.stdout`` is
    then empty), instead of a pipe read here; ``under``: a command to run Python under (``setpriv
    … --``)."""
    assert program in ("sigc", "sigscan")
    before = {path: FileState.of(path) for path in unchanged}
    limits = _limits(rlimits) if rlimits else None
    start = time.monotonic()
    with subprocess.Popen([*under, sys.executable, "-m", program, *args], cwd=cwd,
                          stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                          stdout=subprocess.PIPE if stdout is None else stdout, stderr=subprocess.PIPE,
                          start_new_session=True, preexec_fn=limits) as proc:
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=KILL_GRACE)
            raise AssertionError(f"{program} {' '.join(args)[:200]} ran past {timeout} s") from None
    outcome = Outcome(proc.returncode, out or b"", err, time.monotonic() - start)
    assert b"Traceback" not in err, outcome.err[-3000:]
    assert outcome.code in codes, (outcome.code, outcome.err[-2000:])
    if one_line and outcome.code != 0:
        lines = [line for line in outcome.err.splitlines() if line.strip()]
        assert len(lines) == 1, outcome.err[-2000:]
    for path, state in before.items():
        assert FileState.of(path) == state, f"{path} changed"
    return outcome
