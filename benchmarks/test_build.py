"""`sigc build` of the newest database, both encodings, and the bundle sizes.

Run: .venv/bin/pytest benchmarks/test_build.py --benchmark-only
Goal (docs/benchmarks.md): a build of the newest file in <= 2 s on the 2-core machine.
Each round is a whole build in a fresh process, as a user runs it (imports included), with
bytecode cached as an installed package has it (``child_env``; the machine's shell sets
PYTHONDONTWRITEBYTECODE, under which every run would first compile all sources, 75 ms).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SIGC = [sys.executable, "-m", "sigc.cli"]


@pytest.mark.parametrize("suffix", ["db", "json"])
def test_build_newest(benchmark: Any, head_file: Path, tmp_path: Path, suffix: str,
                      child_env: dict[str, str]) -> None:
    target = tmp_path / f"head.{suffix}"

    def run() -> None:
        subprocess.run([*SIGC, "build", str(head_file), "-o", str(target), "-q"], check=True, env=child_env)

    benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    size = target.stat().st_size
    benchmark.extra_info["bundle_bytes"] = size
    print(f"\n{suffix}: {size / 1e6:.2f} MB")


@pytest.mark.parametrize("suffix", ["db", "json"])
def test_build_newest_in_process(benchmark: Any, head_file: Path, tmp_path: Path, suffix: str) -> None:
    """The same build without interpreter start-up and imports: the compiler's own cost."""
    from sigc.build import build
    from sigc.sources import resolve

    target = tmp_path / f"head.{suffix}"
    inputs = resolve([str(head_file)])
    result = benchmark.pedantic(lambda: build(inputs, target), rounds=5, iterations=1, warmup_rounds=1)
    assert result.ok
    benchmark.extra_info.update({k: round(v, 3) for k, v in result.seconds.items()})
