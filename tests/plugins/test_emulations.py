"""Issue 14, item 2: on every emulated service, ``sigscan scan`` with the ``nmap`` and ``fast``
profiles gives the state, name, product, version, extrainfo and tunnel that the real
``nmap -sV`` gives (its version scripts on), and the same output for every script that a
sigscan plugin mirrors. Each emulation module names the plugins it is there for, and Nmap must
show each of them at work on it (a test that cannot tell a plugin from its absence proves
nothing)."""

from __future__ import annotations

import re

import pytest

from sigscan.plugins import names
from tests.plugins.conftest import PROFILES, Scans
from tests.plugins.emulators import modules

CASES = [(m.__name__.rsplit(".", 1)[1], s.proto, s.port) for m in modules() for s in m.SERVERS]
MODULES = {m.__name__.rsplit(".", 1)[1]: m for m in modules()}


def _steady(module_name: str, text: str) -> str:
    """TEXT with the module's VOLATILE parts (a clock, a counter) rewritten."""
    for pattern, replacement in getattr(MODULES[module_name], "VOLATILE", ()):
        text = re.sub(pattern, replacement, text)
    return text


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[2]}/{c[1]}")
def test_sigscan_matches_nmap(case: tuple[str, str, int], profile: str, scans: Scans) -> None:
    module, proto, port = case
    reference = scans.nmap[module].get((proto, port))
    assert reference is not None, scans.raw[("reference", module)]
    got = scans.sigscan[(profile, module)].get((proto, port))
    assert got is not None, scans.raw[(profile, module)]
    mirrored = set(names())
    want = {k: _steady(module, v) for k, v in reference.scripts.items() if k in mirrored}
    have = {k: _steady(module, v) for k, v in got.scripts.items()}
    assert {k: _steady(module, v) for k, v in got.compared().items()} == {
        k: _steady(module, v) for k, v in reference.compared().items()}, (
        f"{module} {port}/{proto}: sigscan {got}, nmap {reference}")
    assert have == want, f"{module} {port}/{proto}: script outputs differ"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_nmap_shows_each_plugin_at_work(module: str, scans: Scans) -> None:
    """Each plugin a module is there for printed something in Nmap's run, or changed the
    verdict (``SILENT``: plugins that set a version and print nothing; the module states what
    Nmap must then show as ``EFFECTS``, ``{(proto, port): {field: value}}``)."""
    item = MODULES[module]
    ports = scans.nmap[module]
    assert ports, scans.raw[("reference", module)]
    effects = getattr(item, "EFFECTS", {})
    for plugin in item.PLUGINS:
        printed = any(plugin in verdict.scripts for verdict in ports.values())
        assert printed or plugin in getattr(item, "SILENT", ()), (
            f"nmap ran no {plugin} on {module}'s ports: {scans.raw[('reference', module)]}")
    for (proto, port), fields in effects.items():
        verdict = ports[(proto, port)]
        assert {k: getattr(verdict, k) for k in fields} == fields, verdict
