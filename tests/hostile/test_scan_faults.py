"""``sigscan scan`` meeting faults of the machine and the network: parallelism far beyond the
ports, too few file descriptors, ports that reset at once, a loaded machine. Every requested port
must appear exactly once in every output, with the verdict Nmap gives, and no traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sigscan.bundle.loader import open_bundle
from sigscan.engine import Catalog
from tests.hostile.support import run_bounded
from tests.scan.servers import ServerThread, banner, server_thread, unlisted_port

HUGE_PARALLEL = 100_000


@pytest.fixture(scope="module")
def bundle_path(built: dict[tuple[str, str], Path]) -> Path:
    return built[("7.93", "db")]


@pytest.fixture(scope="module")
def catalog(bundle_path: Path) -> Iterator[Catalog]:
    with open_bundle(bundle_path) as bundle:
        yield Catalog.from_bundle(bundle)


@pytest.fixture
def servers() -> Iterator[ServerThread]:
    with server_thread() as running:
        yield running


def test_max_parallel_far_beyond_the_ports_costs_nothing(
        catalog: Catalog, servers: ServerThread, bundle_path: Path, tmp_path: Path) -> None:
    """Every queue event used to wake every worker: 100,000 workers over one port did not end
    in a minute. Now tasks follow the ports in flight."""
    port, _ = servers.serve(banner, unlisted_port(catalog))
    out = tmp_path / "out.ndjson"
    run_bounded("sigscan", "scan", "127.0.0.1", "-p", str(port), "--bundle", str(bundle_path),
                "--max-parallel", str(HUGE_PARALLEL), "-oJ", str(out), timeout=30, codes={0})
    (line,) = out.read_text().splitlines()
    assert json.loads(line)["name"] == "ssh"
