"""What a cold ``sigscan identify`` loads, and the two helpers that keep it light.

A new process that opens a bundle and identifies one banner is the cold-start benchmark (goal:
at most twice ``python -c "import regex"``). ``inspect`` (with ``ast``,
``dis``, ``tokenize``: 10 ms) and, for JSON bundles, ``sqlite3`` (6 ms) are not needed on that
path; these tests keep them off it, and check that the replacements behave like the originals.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

BANNER = b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n"
HEAVY = ("inspect", "ast", "dis", "sqlite3", "hashlib", "orjson", "regex")


def _run(code: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.parametrize("encoding", ["db", "json"])
def test_a_cold_identify_leaves_heavy_modules_unloaded(built: dict[tuple[str, str], Path], encoding: str) -> None:
    code = (
        "import sys\n"
        "from sigscan.bundle.loader import open_bundle\n"
        "from sigscan.matcher import identify\n"
        f"verdict = identify(open_bundle(sys.argv[1]), 'NULL', 'tcp', {BANNER!r})\n"
        f"print([verdict.name, sorted(m for m in {HEAVY!r} if m in sys.modules)])\n"
    )
    name, loaded = ast.literal_eval(_run(code, str(built[("head", encoding)])))
    assert name == "ssh"
    # a SQLite bundle needs sqlite3; a JSON bundle nothing heavy (its CRC-32 is zlib's, as SQLite's)
    assert loaded == (["sqlite3"] if encoding == "db" else [])


def test_dataclasses_work_as_usual_after_the_verdict_module() -> None:
    code = (
        "import sys\n"
        "import sigscan.matcher.verdict\n"
        "print('inspect' in sys.modules)\n"
        "import dataclasses, inspect\n"
        "print(type(inspect).__name__, callable(inspect.signature))\n"
        "@dataclasses.dataclass(frozen=True)\n"
        "class Point:\n"
        "    x: int\n"
        "    y: int = 0\n"
        "print(Point.__doc__)\n"
        "print(dataclasses.replace(Point(1), y=2), [f.name for f in dataclasses.fields(Point)])\n"
        "print(dataclasses.is_dataclass(sigscan.matcher.verdict.Verdict), dataclasses.asdict(sigscan.matcher.verdict.Verdict('x'))['name'])\n"
    )
    lines = _run(code).splitlines()
    assert lines == [
        "False",  # importing the verdict did not load inspect
        "module True",  # import inspect afterwards gives the real module
        "Point(x: int, y: int = 0)",  # dataclasses used inspect (through its stand-in) for this
        "Point(x=1, y=2) ['x', 'y']",
        "True x",
    ]


def test_dataclasses_imported_first_are_left_alone() -> None:
    code = "import dataclasses, inspect, sigscan.matcher.verdict\nprint(dataclasses.inspect is inspect)\n"
    assert _run(code) == "True"
