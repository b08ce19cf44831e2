"""iax2-version at work on the IAX2 emulation (tests/plugins/emulators/iax2.py): the script
prints nothing, so test_emulations.py cannot see it in Nmap's output; its effect is the name.
Nmap 7.93 has no IAX2 probe, so without the script the port would be ``nmap-services``' ``iax``
(``method=table``); Nmap's and sigscan's verdicts must both say ``iax2``, probed, open (the
emulation's scans, compared field by field in test_emulations.py)."""

from __future__ import annotations

import pytest

from tests.plugins.conftest import PROFILES, Scans


def test_nmap_names_the_port_iax2(scans: Scans) -> None:
    verdict = scans.nmap["iax2"].get(("udp", 4569))
    assert verdict is not None, scans.raw[("reference", "iax2")]
    assert (verdict.state, verdict.name, verdict.method, verdict.conf) == ("open", "iax2", "probed", "10")


@pytest.mark.parametrize("profile", PROFILES)
def test_sigscan_names_the_port_iax2(scans: Scans, profile: str) -> None:
    verdict = scans.sigscan[(profile, "iax2")].get(("udp", 4569))
    assert verdict is not None, scans.raw[(profile, "iax2")]
    assert (verdict.state, verdict.name, verdict.method, verdict.conf) == ("open", "iax2", "probed", "10")
