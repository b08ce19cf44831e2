"""``sigc`` against hostile probe files: every run ends in time with a documented exit code,
one clear line on error, no traceback, and no bundle destroyed."""

from __future__ import annotations

import os
import resource
from collections.abc import Callable
from pathlib import Path

import pytest

from sigc.parser import MAX_SOURCE_BYTES
from tests.helpers import TINY, write
from tests.hostile.support import run_bounded

BOUND = 60.0  # seconds: far above any of these runs, low enough to catch a hang


# -- a run that defines no probe -------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"# only a comment\n", b"\n"], ids=["empty", "comment", "newline"])
def test_build_and_lint_agree_on_a_file_without_probes(content: bytes, tmp_path: Path) -> None:
    """Nmap loads such a file and detects nothing; sigc calls it unusable input (exit 2) in both
    commands, and the bundle already in place stays as it was."""
    source = write(tmp_path, "none.probes", content)
    bundle = tmp_path / "signatures.db"
    good = write(tmp_path, "tiny.probes", TINY)
    run_bounded("sigc", "build", str(good), "-o", str(bundle), "-q", timeout=BOUND, codes={0})
    built = run_bounded("sigc", "build", str(source), "-o", str(bundle), timeout=BOUND, codes={2}, unchanged=[bundle])
    linted = run_bounded("sigc", "lint", str(source), timeout=BOUND, codes={2})
    for outcome in (built, linted):
        assert outcome.stdout == b"" and outcome.err.startswith("sigc: error: no Probe line in ")
    assert not (tmp_path / "other.json").exists()
    run_bounded("sigc", "build", str(source), "-o", str(tmp_path / "other.json"), timeout=BOUND, codes={2})
    assert not (tmp_path / "other.json").exists()


def test_a_file_without_probes_beside_one_with_probes_is_a_warning(tmp_path: Path) -> None:
    source = write(tmp_path, "none.probes", b"")
    good = write(tmp_path, "tiny.probes", TINY)
    bundle = tmp_path / "b.json"
    run_bounded("sigc", "build", str(good), str(source), "-o", str(bundle), "-q", timeout=BOUND, codes={0})
    assert bundle.is_file()
    linted = run_bounded("sigc", "lint", str(good), str(source), timeout=BOUND, codes={0})
    assert f"{source}:1:1: SIG547 warning" in linted.out


# -- sources that are not probe files --------------------------------------------------------------


def _fifo(tmp: Path) -> Path:
    path = tmp / "fifo.probes"
    os.mkfifo(path)
    return path


def _sparse(tmp: Path) -> Path:
    path = tmp / "huge.probes"
    with open(path, "wb") as f:
        f.truncate(MAX_SOURCE_BYTES + 1)  # a hole: no disk used, but that many bytes to read
    return path


@pytest.mark.parametrize("command", ["build", "lint"])
@pytest.mark.parametrize("make", [_fifo, lambda _: Path("/dev/zero"), _sparse], ids=["fifo", "dev-zero", "huge"])
def test_a_source_that_is_not_a_regular_file_is_refused_at_once(
    command: str, make: Callable[[Path], Path], tmp_path: Path,
) -> None:
    """Reading a FIFO would wait for a writer forever and /dev/zero would fill the memory."""
    source = make(tmp_path)
    bundle = tmp_path / "out.db"
    args = ["-o", str(bundle)] if command == "build" else []
    outcome = run_bounded("sigc", command, str(source), *args, timeout=BOUND, codes={2},
                          rlimits={resource.RLIMIT_AS: 1 << 30})
    assert outcome.err.startswith(f"sigc: error: cannot read '{source}': ")
    assert not bundle.exists()


def test_build_and_lint_agree_on_a_folder_without_a_database(tmp_path: Path) -> None:
    """A folder stands for the nmap-service-probes in it: when there is none, both commands say
    so on one line and exit 2 (build used to report it as a finding, exit 1)."""
    folder = tmp_path / "nmap"
    folder.mkdir()
    write(folder, "nmap-services", b"http\t80/tcp\t0.5\n")
    for command in ("build", "lint"):
        outcome = run_bounded("sigc", command, str(folder), timeout=BOUND, codes={2}, cwd=tmp_path)
        assert "nmap-service-probes" in outcome.err
    assert not (tmp_path / "build").exists()
