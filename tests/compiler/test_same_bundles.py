"""Issue 13 moved modules between the packages without changing what sigc builds: the JSON
bundles of both real databases are byte-identical, with the same content digest, to those of
the last commit before the move (scripts/same_bundles.py). The script does see a difference
where there is one: the commit before the schema went to version 6 builds other bundles."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REAL_FILES

ROOT = Path(__file__).resolve().parent.parent.parent
BEFORE_THE_MOVE = "6e088e6"  # the last commit before issue 13's layout
SCHEMA_5 = "08c38ea~1"  # the commit before SCHEMA_VERSION 6


def _have(revision: str) -> bool:
    return subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{revision}^{{commit}}"],
                          capture_output=True, check=False).returncode == 0


def _same(revision: str) -> subprocess.CompletedProcess[str]:
    if not _have(revision):
        pytest.skip(f"this clone has no commit {revision} (a shallow clone): git cannot give its tree")
    if not all(Path(p).is_file() for p in REAL_FILES.values()):
        pytest.skip("both real databases are needed: the installed Nmap's and ../shared's")
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "same_bundles.py"), revision],
                          capture_output=True, text=True, check=False, timeout=600)


@pytest.mark.slow
def test_the_move_changed_no_bundle() -> None:
    done = _same(BEFORE_THE_MOVE)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("identical") == 2


@pytest.mark.slow
def test_a_different_build_is_seen() -> None:
    done = _same(SCHEMA_5)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.count("DIFFERENT") == 2
