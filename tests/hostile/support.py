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
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

KILL_GRACE = 5.0  # seconds after the bound before the group is killed for good


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


def _limits(rlimits: Mapping[int, int], then: Callable[[], None] | None = None) -> Callable[[], None]:
    def apply() -> None:
        for which, soft in rlimits.items():
            _, hard = resource.getrlimit(which)
            resource.setrlimit(which, (soft, hard))
        if then is not None:
            then()
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
    preexec: Callable[[], None] | None = None,
) -> Outcome:
    """Run ``python -m PROGRAM ARGS…`` and assert the hostile-input contract (see the module
    docstring); ``one_line``: a non-zero exit prints exactly one non-empty line on stderr;
    ``preexec``: run in the child before the program starts (after ``rlimits``), such as
    giving up a capability."""
    assert program in ("sigc", "sigscan")
    before = {path: FileState.of(path) for path in unchanged}
    limits = _limits(rlimits or {}, preexec) if rlimits or preexec else None
    start = time.monotonic()
    with subprocess.Popen([sys.executable, "-m", program, *args], cwd=cwd,
                          stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          start_new_session=True, preexec_fn=limits) as proc:
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=KILL_GRACE)
            raise AssertionError(f"{program} {' '.join(args)[:200]} ran past {timeout} s") from None
    outcome = Outcome(proc.returncode, out, err, time.monotonic() - start)
    assert b"Traceback" not in err, outcome.err[-3000:]
    assert outcome.code in codes, (outcome.code, outcome.err[-2000:])
    if one_line and outcome.code != 0:
        lines = [line for line in outcome.err.splitlines() if line.strip()]
        assert len(lines) == 1, outcome.err[-2000:]
    for path, state in before.items():
        assert FileState.of(path) == state, f"{path} changed"
    return outcome
