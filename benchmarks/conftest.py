"""Benchmarks read the real databases where they are installed (never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NMAP_HEAD = ROOT.parent / "shared" / "corpus" / "nmap-head" / "nmap-service-probes"
NMAP_7_93 = Path("/usr/share/nmap/nmap-service-probes")


@pytest.fixture(scope="session")
def head_file() -> Path:
    if not NMAP_HEAD.is_file():
        pytest.skip(f"{NMAP_HEAD} is missing (../shared/corpus must be beside the repo)")
    return NMAP_HEAD
