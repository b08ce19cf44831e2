"""xmpp-info on Prosody scanned by name: ``localhost``, a host Prosody serves, so the script's
streams to the name succeed and its STARTTLS stream goes on over TLS (a scan by address, as in
test_scan_vs_nmap.py, gets ``host-unknown`` instead). ``sigscan scan --plugin-output`` with both
profiles must print what ``nmap -sV --script version`` prints, and give the same verdict; the
three scans run at the same time."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.services.daemons import XMPP_CLIENT, XMPP_SERVER
from tests.services.harness import Harness
from tests.services.nmap_reference import NMAP, parse_outputs, parse_xml
from tests.services.test_scan_vs_nmap import comparable

SIGSCAN = Path(sys.executable).with_name("sigscan")
PORTS = f"{XMPP_CLIENT.port},{XMPP_SERVER.port}"
TIMEOUT = 120.0
PROFILES = ("nmap", "fast")


@pytest.fixture(scope="module")
def by_name(harness: Harness, built: dict[tuple[str, str], Path]) -> dict[str, bytes]:
    """Each scanner's XML of the two XMPP ports of ``localhost``."""
    bundle = str(built[("7.93", "db")])
    argvs = {"nmap": [NMAP, "-sV", "--version-intensity", "7", "-Pn", "--script", "version",
                      "-oX", "-", "-p", PORTS, "localhost"]}
    for profile in PROFILES:
        argvs[profile] = [str(SIGSCAN), "scan", "--bundle", bundle, "--profile", profile,
                          "--plugin-output", "-oX", "-", "-p", PORTS, "localhost"]
    with ThreadPoolExecutor(len(argvs)) as pool:
        done = dict(zip(argvs, pool.map(lambda argv: harness.run(argv, timeout=TIMEOUT), argvs.values()),
                        strict=True))
    for who, result in done.items():
        assert result.returncode == 0, f"{who}: {result.stderr.decode(errors='replace')}"
    return {who: result.stdout for who, result in done.items()}


@pytest.mark.parametrize("profile", PROFILES)
def test_xmpp_info_by_name_matches_nmap(profile: str, by_name: dict[str, bytes]) -> None:
    theirs, ours = parse_outputs(by_name["nmap"]), parse_outputs(by_name[profile])
    assert set(ours) == set(theirs) and len(theirs) == 2
    for port, scripts in theirs.items():
        text = scripts["xmpp-info"]
        assert "post_tls" in text, f"nmap's STARTTLS did not go through on {port}: {text!r}"
        assert comparable("xmpp-info", ours[port]["xmpp-info"]) == comparable("xmpp-info", text), (
            f"{port}: sigscan {ours[port]['xmpp-info']!r}, nmap {text!r}")
    verdicts, nmap_verdicts = parse_xml(by_name[profile]), parse_xml(by_name["nmap"])
    assert {k: v.normalized() for k, v in verdicts.items()} == {
        k: v.normalized() for k, v in nmap_verdicts.items()}
