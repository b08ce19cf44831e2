"""Plugins that print nothing show their work in the verdict. An emulation module may state,
as ``VERSION_EFFECTS``, fields the script sets on a port — ``{(proto, port): {field: value}}``
— that its probe phase alone would not give; Nmap's run must show them (test_emulations holds
sigscan to Nmap's verdict on the same ports)."""

from __future__ import annotations

import pytest

from tests.plugins.conftest import Scans
from tests.plugins.emulators import modules

MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in modules() if hasattr(m, "VERSION_EFFECTS")}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_nmap_shows_the_version_effect(module: str, scans: Scans) -> None:
    ports = scans.nmap[module]
    assert ports, scans.raw[("reference", module)]
    for (proto, port), fields in MODULES[module].VERSION_EFFECTS.items():
        verdict = ports[(proto, port)]
        assert {name: getattr(verdict, name) for name in fields} == fields, verdict
