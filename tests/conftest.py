"""Shared fixtures: the real Nmap databases (read where they are installed, never copied)
and bundles built from them once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NMAP_7_93 = Path(os.environ.get("SIGC_NMAP_DB", "/usr/share/nmap/nmap-service-probes"))
NMAP_HEAD = ROOT.parent / "shared" / "corpus" / "nmap-head" / "nmap-service-probes"
REAL_FILES = {"7.93": NMAP_7_93, "head": NMAP_HEAD}


def real_file(name: str) -> Path:
    path = REAL_FILES[name]
    if not path.is_file():
        reason = "apt-get install nmap" if name == "7.93" else "../shared/corpus must be beside the repo"
        pytest.skip(f"{path} is missing ({reason})")
    return path


@pytest.fixture(params=sorted(REAL_FILES), scope="session")
def real_path(request: pytest.FixtureRequest) -> Path:
    return real_file(request.param)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Bundles of both real files in both encodings, built once: {(file, encoding): path}."""
    from sigc.build import build
    from sigc.sources import resolve

    out: dict[tuple[str, str], Path] = {}
    folder = tmp_path_factory.mktemp("bundles")
    for name in REAL_FILES:
        path = real_file(name)
        for suffix in ("db", "json"):
            target = folder / f"{name}.{suffix}"
            result = build(resolve([str(path)]), target)
            assert result.ok, [str(d) for d in result.database.errors][:5]
            out[(name, suffix)] = target
    return out
