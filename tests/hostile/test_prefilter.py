"""The prefilter never hides a line that matches, end to end: ``sigc build`` then ``sigscan
identify`` on a probe file whose lines have several alternatives that each start with ``^``,
and the same banners served on 127.0.0.1 to the installed Nmap 7.93 (``--versiondb``).

The reported case: ``match svc m=^a|^S= p/x/`` never matched a response ``S…`` (the index kept
the line for responses starting with ``a`` only); Nmap answers ``svc``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.corpus.banner_server import BannerServer, Service
from tests.corpus.nmap_xml import nmap_path, scan
from tests.hostile.support import run_bounded

PROBES = (
    b"Probe TCP NULL q||\n"
    b"totalwaitms 2000\n"
    b"tcpwrappedms 1000\n"
    b"match svc m=^a|^S= p/x/\n"
    b"match two m=^HTTP/1\\.1 |^220 = p/y/\n"
    b"match three m=^(?:ba)?sh-\\d|^(?:(?:Q|R)?z){2}|^k=i p/z/\n"
)
# banner -> (service, line) that both sigscan and Nmap must report (None: no match)
BANNERS: dict[bytes, tuple[str, int] | None] = {
    b"Sxyz\r\n": ("svc", 4),
    b"axyz\r\n": ("svc", 4),
    b"220 mail ready\r\n": ("two", 5),
    b"HTTP/1.1 200 OK\r\n\r\n": ("two", 5),
    b"Rzz\r\n": ("three", 6),
    b"Kilroy\r\n": ("three", 6),
    b"sh-1\r\n": ("three", 6),
    b"nothing here\r\n": None,
}


def built(tmp_path: Path, suffix: str) -> Path:
    source = tmp_path / "alternatives.probes"
    source.write_bytes(PROBES)
    bundle = tmp_path / f"alternatives.{suffix}"
    run_bounded("sigc", "build", str(source), "-o", str(bundle), timeout=60, codes={0}, unchanged=[source])
    return bundle


def identified(bundle: Path) -> list[dict[str, Any]]:
    """``sigscan identify --jsonl`` of every banner, in order."""
    stdin = b"".join(json.dumps({"id": i, "data_b64": base64.b64encode(b).decode()}).encode() + b"\n"
                     for i, b in enumerate(BANNERS))
    outcome = run_bounded("sigscan", "identify", "--bundle", str(bundle), "--jsonl", "--probe", "NULL",
                          timeout=60, codes={0}, stdin=stdin, unchanged=[bundle])
    results = [json.loads(line) for line in outcome.out.splitlines()]
    assert [r["id"] for r in results] == list(range(len(BANNERS)))
    return results


@pytest.mark.parametrize("suffix", ["db", "json"])
def test_identify_keeps_every_alternative(tmp_path: Path, suffix: str) -> None:
    results = identified(built(tmp_path, suffix))
    got = [None if r["name"] is None else (r["name"], r["line"]) for r in results]
    assert got == list(BANNERS.values())


@pytest.mark.real_nmap
def test_nmap_reports_what_identify_reports(tmp_path: Path) -> None:
    nmap = nmap_path()
    if nmap is None:
        pytest.skip("nmap is not installed (apt-get install nmap)")
    results = identified(built(tmp_path, "db"))
    source = tmp_path / "alternatives.probes"
    services = [Service(banner, once=True) for banner in BANNERS]
    with BannerServer(services, hold=30.0, lifetime=180.0) as server:
        run = scan(server.ports, ("--versiondb", str(source)), timeout=120.0, nmap=nmap)
    assert run.returncode == 0, run.stderr[-2000:]
    for banner, port, verdict in zip(BANNERS, server.ports, results, strict=True):
        service = run.services[port]
        trace = run.trace.get(port, ())
        if verdict["name"] is None:
            assert (service.method, trace) == ("table", ()), (banner, service)
            continue
        assert (service.name, service.product, service.method) == (verdict["name"], verdict["product"], "probed"), banner
        assert [(t.probe, t.line) for t in trace] == [("NULL", verdict["line"])], banner
