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


_KEYED = re.compile(r" *[^ :][^:]*: ")


def unordered(text: str) -> str:
    """Structured script output with the ``key: value`` lines of each nesting level sorted
    (each with the lines nested under it), for scripts whose tables Nmap prints in Lua's hash
    order, which changes from run to run (a module's ``UNORDERED``). List items keep their
    order."""
    lines = text.split("\n")

    def indent(line: str) -> int:
        return len(line) - len(line.lstrip(" "))

    def block(start: int) -> int:
        """The index after the lines nested under lines[start]."""
        end = start + 1
        while end < len(lines) and indent(lines[end]) > indent(lines[start]):
            end += 1
        return end

    def tidy(start: int, stop: int) -> list[str]:
        groups, i = [], start
        while i < stop:
            end = block(i)
            groups.append([lines[i], *tidy(i + 1, end)])
            i = end
        if groups and all(_KEYED.match(g[0]) for g in groups):
            groups.sort()
        return [line for group in groups for line in group]

    return "\n".join([lines[0], *tidy(1, len(lines))])


def _canonical(module_name: str, script: str, text: str) -> str:
    text = _steady(module_name, text)
    return unordered(text) if script in getattr(MODULES[module_name], "UNORDERED", ()) else text


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[2]}/{c[1]}")
def test_sigscan_matches_nmap(case: tuple[str, str, int], profile: str, scans: Scans) -> None:
    module, proto, port = case
    reference = scans.nmap[module].get((proto, port))
    assert reference is not None, scans.raw[("reference", module)]
    got = scans.sigscan[(profile, module)].get((proto, port))
    assert got is not None, scans.raw[(profile, module)]
    # a module's UNCOMPARED scripts print what its server made up at random for each scanner
    compared = set(names()) - set(getattr(MODULES[module], "UNCOMPARED", ()))
    want = {k: _canonical(module, k, v) for k, v in reference.scripts.items() if k in compared}
    have = {k: _canonical(module, k, v) for k, v in got.scripts.items() if k in compared}
    assert {k: _steady(module, v) for k, v in got.compared().items()} == {
        k: _steady(module, v) for k, v in reference.compared().items()}, (
        f"{module} {port}/{proto}: sigscan {got}, nmap {reference}")
    assert have == want, f"{module} {port}/{proto}: script outputs differ"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_nmap_shows_each_plugin_at_work(module: str, scans: Scans) -> None:
    """Each plugin a module is there for printed something in Nmap's run, or changed the
    verdict (``SILENT``: plugins that set a version and print nothing; the module states what
    Nmap must then show as ``EFFECTS``, ``{(proto, port): {field: value}}``, or the product
    alone as a string)."""
    item = MODULES[module]
    ports = scans.nmap[module]
    assert ports, scans.raw[("reference", module)]
    effects = getattr(item, "EFFECTS", {})
    for plugin in item.PLUGINS:
        printed = any(plugin in verdict.scripts for verdict in ports.values())
        assert printed or plugin in getattr(item, "SILENT", ()), (
            f"nmap ran no {plugin} on {module}'s ports: {scans.raw[('reference', module)]}")
    for (proto, port), stated in effects.items():
        fields = {"product": stated} if isinstance(stated, str) else stated  # a str: the product
        verdict = ports[(proto, port)]
        assert {k: getattr(verdict, k) for k in fields} == fields, verdict
