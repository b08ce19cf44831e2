"""Fixtures of the scan tests: the bundle and catalog of tests/data/engine.probes (Nmap's shape,
our lines), loopback servers, TLS material."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from sigscan.bundle.loader import open_bundle
from sigscan.engine import Catalog
from tests.scan.servers import ServerThread, ipv6_loopback, server_thread

CERT_NAME = "sigscan.test"


@pytest.fixture(scope="session")
def bundle_path(nmaplike_built: dict[str, Path]) -> Path:
    return nmaplike_built["db"]


@pytest.fixture(scope="session")
def catalog(bundle_path: Path) -> Iterator[Catalog]:
    with open_bundle(bundle_path) as bundle:
        yield Catalog.from_bundle(bundle)


@pytest.fixture
def servers() -> Iterator[ServerThread]:
    with server_thread() as running:
        yield running


@pytest.fixture(scope="session")
def server_tls() -> ssl.SSLContext:
    """A server context with a certificate made now (subject CN=sigscan.test)."""
    ca = trustme.CA()
    cert = ca.issue_cert(CERT_NAME, common_name=CERT_NAME)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    return context


@pytest.fixture(params=["127.0.0.1", "::1"])
def loopback(request: pytest.FixtureRequest) -> str:
    address = str(request.param)
    if address == "::1" and not ipv6_loopback():
        pytest.skip("this machine has no IPv6 loopback (::1 cannot be bound)")
    return address
