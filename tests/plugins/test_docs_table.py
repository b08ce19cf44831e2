"""docs/scan.md's plugin table (issue 14, acceptance 4) against the code: one row per plugin,
naming the Nmap script it mirrors, and test files that exist and speak of that plugin."""

from __future__ import annotations

import re
from pathlib import Path

from sigscan.plugins import names

ROOT = Path(__file__).resolve().parents[2]
GENERIC = {"tests/plugins/test_emulations.py", "tests/services/test_scan_vs_nmap.py"}


def rows() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in (ROOT / "docs" / "scan.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        name = re.fullmatch(r"`([a-z0-9-]+)`", cells[0]) if len(cells) == 4 else None
        if name is not None:
            found[name.group(1)] = [t.strip() for t in cells[3].split(",")]
    return found


def test_every_plugin_has_a_row_with_its_tests() -> None:
    table = rows()
    assert sorted(table) == sorted(names())
    for plugin, tests in table.items():
        assert tests, plugin
        for test in tests:
            path = ROOT / test
            assert path.is_file(), f"{plugin}: {test} does not exist"
            if test not in GENERIC:
                assert plugin in path.read_text(), f"{test} does not speak of {plugin}"
