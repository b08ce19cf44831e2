"""Issue 14, acceptance 2: on 100 closed UDP ports of the harness's namespace, both profiles
give the states and reasons ``nmap -sU`` gives (closed, port-unreach), summarised the same way
(``<extraports>`` with its ``<extrareasons>`` and their port lists)."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.services.harness import Harness
from tests.services.nmap_reference import NMAP

PORTS = "40000-40099"  # nothing of the harness listens there
SIGSCAN = Path(sys.executable).with_name("sigscan")
TIMEOUT = 120.0


def summary(document: bytes) -> list[tuple[str, ...]]:
    """Every ``<extraports>``/``<extrareasons>`` and every ``<port>``: (what, state, reason,
    count or port)."""
    root = ET.fromstring(document)
    rows: list[tuple[str, ...]] = []
    for extra in root.iter("extraports"):
        for reasons in extra.iter("extrareasons"):
            rows.append(("extra", extra.attrib["state"], extra.attrib["count"], reasons.attrib["reason"],
                         reasons.attrib["count"], reasons.attrib.get("proto", ""),
                         reasons.attrib.get("ports", "")))
    for port in root.iter("port"):
        state = port.find("state")
        assert state is not None
        rows.append(("port", port.attrib["protocol"], port.attrib["portid"], state.attrib["state"],
                     state.attrib["reason"]))
    return sorted(rows)


@pytest.mark.real_nmap
def test_closed_udp_ports_as_nmap(harness: Harness, built: dict[tuple[str, str], Path]) -> None:
    reference = harness.run([NMAP, "-sU", "-Pn", "-n", "--reason", "-oX", "-", "-p", PORTS, "127.0.0.1"],
                            timeout=TIMEOUT)
    assert reference.returncode == 0, reference.stderr
    want = summary(reference.stdout)
    assert want == [("extra", "closed", "100", "port-unreach", "100", "udp", PORTS)], want
    for profile in ("nmap", "fast"):
        done = harness.run([str(SIGSCAN), "scan", "--bundle", str(built[("7.93", "db")]), "--profile",
                            profile, "-sU", "-oX", "-", "-p", PORTS, "127.0.0.1"], timeout=TIMEOUT)
        assert done.returncode == 0, done.stderr
        assert summary(done.stdout) == want, profile
