"""Benchmarks read the real databases where they are installed (never copied).

Run: ``.venv/bin/pytest benchmarks/ --benchmark-only`` (the default ``pytest`` collects only
``tests/``). Shared here: the newest database, its bundle in both encodings, one corpus of
responses generated from it (used by every runtime benchmark), and the environment of the child
processes that measure cold starts and memory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from benchmarks.stream import Case, write_cases

ROOT = Path(__file__).resolve().parent.parent
NMAP_HEAD = ROOT.parent / "shared" / "corpus" / "nmap-head" / "nmap-service-probes"
NMAP_7_93 = Path("/usr/share/nmap/nmap-service-probes")
CORPUS_SIZE = 5000  # responses, drawn from every probe's lines (tests/corpus/generate.py)
CORPUS_SEED = 0


@pytest.fixture(scope="session")
def head_file() -> Path:
    if not NMAP_HEAD.is_file():
        pytest.skip(f"{NMAP_HEAD} is missing (../shared/corpus must be beside the repo)")
    return NMAP_HEAD


@pytest.fixture(scope="session")
def bundle_7_93(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Nmap 7.93's installed database built to SQLite once (the scan benchmarks compare with the
    installed nmap, which uses that database)."""
    if not NMAP_7_93.is_file():
        pytest.skip(f"{NMAP_7_93} is missing (apt-get install nmap)")
    from sigc.build import build
    from sigc.sources import resolve

    target = tmp_path_factory.mktemp("bundle") / "nmap-7.93.db"
    assert build(resolve([str(NMAP_7_93)]), target).ok
    return target


@pytest.fixture(scope="session")
def bundles(head_file: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The newest database built once in each encoding: {"db": ..., "json": ...}."""
    from sigc.build import build
    from sigc.sources import resolve

    folder = tmp_path_factory.mktemp("bundles")
    out = {}
    for suffix in ("db", "json"):
        target = folder / f"head.{suffix}"
        assert build(resolve([str(head_file)]), target).ok
        out[suffix] = target
    return out


@pytest.fixture(scope="session")
def corpus(bundles: dict[str, Path]) -> list[Case]:
    """:data:`CORPUS_SIZE` responses generated from the real lines (each checked with PCRE2),
    in a seeded random order over every probe, TCP and UDP."""
    from tests.corpus.generate import mixed_corpus

    cases = mixed_corpus(bundles["db"], n=CORPUS_SIZE, seed=CORPUS_SEED)
    assert len(cases) == CORPUS_SIZE
    return [(c.probe, c.proto, c.subject) for c in cases]


@pytest.fixture(scope="session")
def corpus_file(corpus: list[Case], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus as a stream a child process reads one case at a time (:mod:`benchmarks.stream`),
    so the memory it reports is the matcher's, not a list of 5,000 responses."""
    path = tmp_path_factory.mktemp("corpus") / "corpus.bin"
    with open(path, "wb") as f:
        write_cases(f, corpus)
    return path


@pytest.fixture(scope="session")
def child_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of measured child processes: bytecode cached (outside the tree, in a
    temporary PYTHONPYCACHEPREFIX) as in an installed package, even when the calling shell sets
    PYTHONDONTWRITEBYTECODE; without it every import would compile its source first."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp_path_factory.mktemp("pycache"))
    return env


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def note(benchmark: Any, **values: object) -> None:
    """Add figures to the benchmark's record (``--benchmark-json``) and print them."""
    benchmark.extra_info.update(values)
    print("\n" + ", ".join(f"{k}={v}" for k, v in values.items()))
