"""Fixtures of the Python API tests: a small bundle built here from a signature file written
here (both encodings), and servers on 127.0.0.1 only (tests/scan/servers.py)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

import sigscan
from sigc.build import build
from sigc.sources import resolve
from tests.scan.servers import ServerThread, Stats, server_thread

# Nmap's NULL wait is kept (6 s): a silent port stays in detection long enough to leave early.
PROBES = rb"""# the API tests' own signatures
Probe TCP NULL q||
totalwaitms 6000
match ftp m|^220 ([\w.-]+) FTP server \(Version ([\d.]+)\)| p/Tiny FTP/ v/$2/ h/$1/ cpe:/a:tiny:ftp:$2/
softmatch ftp m|^220 |
Probe TCP GetRequest q|GET / HTTP/1.0\r\n\r\n|
rarity 1
ports 80
match http m|^HTTP/1\.[01] \d\d\d .*\r\nServer: Tiny/([\d.]+)|s p/Tiny httpd/ v/$1/
Probe UDP DNSStatusRequest q|\0\0\x10\0\0\0\0\0\0\0\0\0|
rarity 1
ports 53
match domain m|^\0\0\x90\x04|s p/Tiny DNS/
"""
SERVICES = b"ftp\t21/tcp\t0.197667\nhttp\t80/tcp\t0.484143\ndomain\t53/udp\t0.213496\n"
BANNER = b"220 box FTP server (Version 2.1)\r\n"


@pytest.fixture(scope="session")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{"db": path, "json": path}``: :data:`PROBES` with :data:`SERVICES` beside it."""
    folder = tmp_path_factory.mktemp("api")
    source = folder / "nmap-service-probes"
    source.write_bytes(PROBES)
    (folder / "nmap-services").write_bytes(SERVICES)
    out: dict[str, Path] = {}
    for encoding in ("db", "json"):
        result = build(resolve([str(source)]), folder / f"signatures.{encoding}")
        assert result.ok, [str(d) for d in result.database.errors]
        out[encoding] = folder / f"signatures.{encoding}"
    return out


@pytest.fixture(scope="session")
def bundle_path(bundles: dict[str, Path]) -> Path:
    return bundles["db"]


@pytest.fixture(params=["db", "json"])
def bundle(request: pytest.FixtureRequest, bundles: dict[str, Path]) -> Iterator[sigscan.Bundle]:
    with sigscan.open_bundle(bundles[request.param]) as opened:
        yield opened


@pytest.fixture
def servers() -> Iterator[ServerThread]:
    with server_thread() as running:
        yield running


async def ftp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, stats: Stats) -> None:
    """Sends :data:`BANNER`, then reads until the client closes."""
    writer.write(BANNER)
    await writer.drain()
    stats.sent += len(BANNER)
    while await reader.read(4096):
        pass


def closed_port() -> int:
    """A port of 127.0.0.1 where nothing listens (bound a moment, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
