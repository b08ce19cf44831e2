"""Time and memory of whole ``sigc lint`` and ``sigc build`` runs on large probe files.

Run: .venv/bin/pytest benchmarks/test_compiler_memory.py --benchmark-only -s
Goal (docs/benchmarks.md, hardening issue item 14): ten times Nmap's database lints and builds
within 1 GB, with clearly less memory per line than before.

The inputs are made at run time from Nmap 7.93's installed database (never stored;
:mod:`tests.corpus.scaled`): ``tenfold``, ten copies of it in one file Nmap loads (119,170
match lines), and ``distinct``, 200,000 lines from 17 copies whose patterns are marked by
their copy, so that copies share no translation or parsed pattern. One round is one CLI run in a
fresh process, measured by :mod:`benchmarks.tree_rss`: wall time, the peak resident set of the
largest process of the run (``peak``), and the largest sum of the run's processes' proportional
set sizes (``tree``: the analysis forks a helper). KB per line is ``peak`` / match lines.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.conftest import NMAP_7_93, note
from benchmarks.tree_rss import measure
from tests.corpus import scaled

SIGC = [sys.executable, "-m", "sigc"]
DISTINCT_LINES = 200_000


@pytest.fixture(scope="module", params=["tenfold", "distinct"])
def big_file(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not NMAP_7_93.is_file():
        pytest.skip(f"{NMAP_7_93} is missing (apt-get install nmap)")
    data = NMAP_7_93.read_bytes()
    made = scaled.copies(data, 10) if request.param == "tenfold" else scaled.distinct(data, DISTINCT_LINES)
    path = tmp_path_factory.mktemp("big") / f"{request.param}.probes"
    path.write_bytes(made)
    return path


@pytest.mark.parametrize("command", ["lint", "build"])
def test_compiler_memory(benchmark: Any, big_file: Path, command: str, tmp_path: Path,
                         child_env: dict[str, str]) -> None:
    args = ["lint", str(big_file)] if command == "lint" else ["build", str(big_file), "-o", str(tmp_path / "b.db"), "-q"]
    result: dict[str, float] = {}

    def run() -> None:
        result.update(measure([*SIGC, *args], env=child_env))

    benchmark.pedantic(run, rounds=1, iterations=1)
    assert result["code"] in (0, 1)  # 1: the file has findings of error level
    lines = scaled.match_lines(big_file.read_bytes())
    note(benchmark, input=big_file.stem, command=command, lines=lines, seconds=result["seconds"],
         peak_mib=round(result["peak_kib"] / 1024), tree_mib=round(result["tree_kib"] / 1024),
         kb_per_line=round(result["peak_kib"] * 1.024 / lines, 2))
