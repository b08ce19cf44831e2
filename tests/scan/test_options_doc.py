"""docs/scan.md against the code: every option of ``sigscan scan`` is in its usage or its table
of Nmap's options, and the timing-template table states what :data:`TEMPLATES` holds."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from sigscan.cli.commands import build_parser
from sigscan.scanning.timing import NAMES, TEMPLATES

DOC = Path(__file__).resolve().parents[2] / "docs" / "scan.md"


def _scan_options() -> set[str]:
    parser = build_parser()
    scan = next(a for a in parser._actions if a.dest == "command").choices["scan"]  # type: ignore[union-attr]
    return {option for action in scan._actions for option in action.option_strings
            if action.help != argparse.SUPPRESS} - {"-h", "--help"}  # hidden: internal spellings


def test_every_option_is_documented() -> None:
    text = DOC.read_text()
    missing = sorted(o for o in _scan_options() if f"`{o}" not in text and f"[{o}" not in text
                     and f" {o} " not in text)
    assert missing == []


def test_the_template_table_is_the_code() -> None:
    rows = [line for line in DOC.read_text().splitlines() if re.match(r"^\| `-T\d` [a-z]", line)]
    assert len(rows) == len(TEMPLATES)
    for row, (level, timing) in zip(rows, sorted(TEMPLATES.items()), strict=True):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[0].startswith(f"`-T{level}` {NAMES[level]}")
        assert int(cells[1]) == timing.detection_parallel and int(cells[2]) == timing.discovery_parallel
        assert float(cells[3].split()[0]) == timing.connect_timeout
        delay = 0.0 if cells[4] == "0" else float(cells[4].split()[0])
        assert delay == timing.scan_delay and int(cells[5]) == timing.retries
        host = None if cells[6] == "none" else float(cells[6].split()[0]) * 60
        assert host == timing.host_timeout
