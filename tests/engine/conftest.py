"""Fixtures for the engine tests: the catalog of tests/data/engine.probes (Nmap's shape, our
lines), small hand-written catalogs, a runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sigc.build import build
from sigc.sources import resolve
from sigscan.bundle.loader import Bundle, open_bundle
from sigscan.engine.catalog import Catalog


@pytest.fixture(scope="session")
def nmaplike(nmaplike_built: dict[str, Path]) -> Iterator[Catalog]:
    """The catalog of tests/data/engine.probes, with its nmap-services and nmap-rpc: Nmap's probe
    names, order, rarities, waits and the ports the tests use, with match lines of our own."""
    with open_bundle(nmaplike_built["db"]) as bundle:
        yield Catalog.from_bundle(bundle)


SmallCatalog = Callable[..., Catalog]


@pytest.fixture
def small(tmp_path: Path) -> Iterator[SmallCatalog]:
    """Build a catalog from probe-file text; ``services``/``rpc`` text is written beside it as
    nmap-services / nmap-rpc."""
    opened: list[Bundle] = []

    def make(text: bytes, services: bytes | None = None, rpc: bytes | None = None) -> Catalog:
        folder = tmp_path / f"db{len(opened)}"
        folder.mkdir()
        (folder / "nmap-service-probes").write_bytes(text)
        if services is not None:
            (folder / "nmap-services").write_bytes(services)
        if rpc is not None:
            (folder / "nmap-rpc").write_bytes(rpc)
        out = folder / "small.db"
        result = build(resolve([str(folder / "nmap-service-probes")]), out)
        assert result.ok, [str(d) for d in result.database.errors]
        bundle = open_bundle(out)
        opened.append(bundle)
        return Catalog.from_bundle(bundle)

    yield make
    for bundle in opened:
        bundle.close()
