"""The version plugins on the real nginx of the harness (plain HTTP on 80, TLS on 443, and on
8080 TLS that redirects plain requests to HTTPS on itself): ``sigscan scan --plugin-output``
with both profiles prints the same output as the real ``nmap -sV --script version`` (which
runs the same scripts as ``-sV`` and prints them) for every script sigscan mirrors, and gives
the same verdict, https-redirect's ``ssl`` on 8080 included. One Nmap run and one run per
profile, at the same time."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from sigscan.plugins import names
from tests.plugins.compare import Verdict, parse
from tests.services.daemons import HTTP, HTTPS, HTTPS_REDIRECT
from tests.services.harness import Harness

PORTS = (HTTP.port, HTTPS.port, HTTPS_REDIRECT.port)
NMAP = "/usr/bin/nmap"
SIGSCAN = Path(sys.executable).with_name("sigscan")
TIMEOUT = 180.0
FIELDS = ("state", "name", "product", "version", "extrainfo", "tunnel", "method", "conf", "cpe")


@pytest.fixture(scope="module")
def scans(harness: Harness, built: dict[tuple[str, str], Path]) -> dict[str, dict[tuple[str, int], Verdict]]:
    ports = ",".join(map(str, PORTS))
    argvs = {"nmap": [NMAP, "-sV", "--script", "version", "-Pn", "-n", "-oX", "-", "-p", ports, "127.0.0.1"]}
    for profile in ("nmap", "fast"):
        argvs[profile] = [str(SIGSCAN), "scan", "--bundle", str(built[("7.93", "db")]), "--profile",
                          profile, "--plugin-output", "-oX", "-", "-p", ports, "127.0.0.1"]

    def run(argv: list[str]) -> subprocess.CompletedProcess[bytes]:
        return harness.run(argv, timeout=TIMEOUT)

    with ThreadPoolExecutor(len(argvs)) as pool:
        done = dict(zip(argvs, pool.map(run, argvs.values()), strict=True))
    for who, result in done.items():
        assert result.returncode == 0, f"{who}: {result.stderr.decode(errors='replace')}"
    return {who: parse(result.stdout) for who, result in done.items()}


def test_nmap_shows_the_redirect_and_the_server_headers(scans: dict[str, dict[tuple[str, int], Verdict]]) -> None:
    nmap = scans["nmap"]
    assert nmap[("tcp", HTTPS_REDIRECT.port)].tunnel == "ssl"
    assert all("http-server-header" in nmap[("tcp", port)].scripts for port in PORTS)


@pytest.mark.parametrize("profile", ["nmap", "fast"])
@pytest.mark.parametrize("port", PORTS)
def test_plugin_outputs_and_verdicts_match_nmap(port: int, profile: str,
                                                scans: dict[str, dict[tuple[str, int], Verdict]]) -> None:
    nmap, ours = scans["nmap"][("tcp", port)], scans[profile][("tcp", port)]
    mirrored = set(names())
    assert ours.scripts == {
        k: v for k, v in nmap.scripts.items() if k in mirrored}, port
    assert {f: getattr(ours, f) for f in FIELDS} == {f: getattr(nmap, f) for f in FIELDS}, port
