"""What a cold ``sigscan identify`` loads.

A new process that opens a bundle and identifies one banner is the cold-start benchmark
(``benchmarks/test_identify.py``, ``test_cold_start``; figures in docs/benchmarks.md). What that
path does not need stays off it: ``sqlite3`` for a JSON bundle, ``regex`` (searches that need no
time budget run on ``re``), ``hashlib`` and ``orjson``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

BANNER = b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n"
HEAVY = ("sqlite3", "hashlib", "orjson", "regex")


def _run(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.parametrize("encoding", ["db", "json"])
def test_a_cold_identify_leaves_heavy_modules_unloaded(nmaplike_built: dict[str, Path], encoding: str) -> None:
    code = (
        "import sys\n"
        "from sigscan.bundle.loader import open_bundle\n"
        "from sigscan.matcher import identify\n"
        f"verdict = identify(open_bundle(sys.argv[1]), 'NULL', 'tcp', {BANNER!r})\n"
        f"print([verdict.name, sorted(m for m in {HEAVY!r} if m in sys.modules)])\n"
    )
    name, loaded = ast.literal_eval(_run(code, str(nmaplike_built[encoding])))
    assert name == "ssh"
    # a SQLite bundle needs sqlite3; a JSON bundle nothing heavy (its CRC-32 is zlib's, as SQLite's)
    assert loaded == (["sqlite3"] if encoding == "db" else [])
