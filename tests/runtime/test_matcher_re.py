"""The matcher without the regex module: test_matcher.py again, in a subprocess that forces the
standard ``re`` engine (``SIGSCAN_REGEX=re``), as when ``regex`` is not installed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sigscan.matcher.regex_engine import ReEngine, RegexEngine, default_engine, select

ROOT = Path(__file__).resolve().parents[2]


def test_matcher_tests_pass_with_the_re_engine() -> None:
    env = {**os.environ, "SIGSCAN_REGEX": "re"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/runtime/test_matcher.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "skipped" in run.stdout  # the timeout test skips under re


def test_engine_selection() -> None:
    assert isinstance(select("re"), ReEngine)
    assert isinstance(select("regex"), RegexEngine)
    assert isinstance(select(None), RegexEngine)  # regex is installed in the dev environment
    with pytest.raises(ValueError, match="SIGSCAN_REGEX must be 'regex' or 're'"):
        select("pcre")
    assert default_engine().name == (os.environ.get("SIGSCAN_REGEX") or "regex")


def test_regex_missing_falls_back_to_re() -> None:
    code = (
        "import sys; sys.modules['regex'] = None\n"
        "from sigscan.matcher.regex_engine import select, default_engine\n"
        "print(select(None).name, default_engine().name)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "SIGSCAN_REGEX"}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["re", "re"]


def test_both_engines_read_the_same_pattern_the_same_way() -> None:
    pattern = rb"^SSH-([\d.]+)-(?>[\w._-]+)\r?\n"
    for engine in (ReEngine(), RegexEngine()):
        compiled = engine.compile(pattern, caseless=True, dotall=False)
        match = engine.search(compiled, b"ssh-2.0-OpenSSH_9\r\n", 0.1)
        assert match is not None and match.groups() == (b"2.0",)
        assert engine.search(compiled, b"SSH-2.0-\xc4\r\n", None) is None  # \w is ASCII-only
