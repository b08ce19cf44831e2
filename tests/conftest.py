"""Shared fixtures: the real Nmap databases (read where they are installed, never copied)
and bundles built from them once per test session, for the equivalence and integration tests;
and the small signature files of tests/data, which the unit tests use instead.

``SIGSCAN_TEST_NO_REAL_DB=1`` hides the real databases: every test that needs one skips, saying
so. The unit tests must pass with it and skip nothing (issue 13)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NMAP_7_93 = Path(os.environ.get("SIGC_NMAP_DB", "/usr/share/nmap/nmap-service-probes"))
NMAP_HEAD = ROOT.parent / "shared" / "corpus" / "nmap-head" / "nmap-service-probes"
REAL_FILES = {"7.93": NMAP_7_93, "head": NMAP_HEAD}
NO_REAL_DB = "SIGSCAN_TEST_NO_REAL_DB"


def real_file(name: str) -> Path:
    path = REAL_FILES[name]
    if os.environ.get(NO_REAL_DB):
        pytest.skip(f"{path} is hidden ({NO_REAL_DB} is set)")
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


@pytest.fixture(scope="session")
def nmaplike_built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """tests/data/engine.probes, a small Nmap-shaped database with its nmap-services and
    nmap-rpc, built once in both encodings: {encoding: path}."""
    from tests.helpers import build_data

    folder = tmp_path_factory.mktemp("nmaplike")
    return {suffix: build_data("engine", folder, suffix) for suffix in ("db", "json")}


SMALL = "engine"  # the name that stands for tests/data/engine.probes beside REAL_FILES' names


def bundle_of(request: pytest.FixtureRequest, name: str, encoding: str) -> Path:
    """The bundle of SMALL or of a real file: a test parametrized over both asks for the real
    bundles only when it runs on one, so its small case runs (and its real ones skip) where the
    real databases are missing."""
    if name == SMALL:
        built_small: dict[str, Path] = request.getfixturevalue("nmaplike_built")
        return built_small[encoding]
    built_real: dict[tuple[str, str], Path] = request.getfixturevalue("built")
    return built_real[(name, encoding)]
