"""`sigc dump` round trip and build determinism, on the real databases and a small one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sigc import emit
from sigc.build import build
from sigc.dump import dump
from sigc.sources import resolve
from sigc.syntax.parser import parse_bytes, parse_file
from sigscan.bundle.loader import open_bundle
from tests.conftest import REAL_FILES
from tests.helpers import TINY, canonical, write


def dumped(bundle_path: Path) -> bytes:
    with open_bundle(bundle_path) as bundle:
        return b"".join(dump(bundle))


@pytest.mark.parametrize("suffix", ["db", "json"])
def test_tiny_round_trip(tmp_path: Path, suffix: str) -> None:
    src = write(tmp_path, "tiny.probes", TINY)
    target = tmp_path / f"t.{suffix}"
    assert build(resolve([str(src)]), target).ok
    again = parse_bytes(dumped(target), "dump")
    assert again.diagnostics == ()
    assert canonical(again) == canonical(parse_file(src))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REAL_FILES))
@pytest.mark.parametrize("suffix", ["db", "json"])
def test_real_round_trip(built: dict[tuple[str, str], Path], name: str, suffix: str) -> None:
    original = parse_file(REAL_FILES[name])
    again = parse_bytes(dumped(built[(name, suffix)]), "dump")
    assert [d for d in again.diagnostics if d.severity.value == "error"] == []
    assert canonical(again) == canonical(original)


def _sqlite_content(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


@pytest.mark.slow
def test_real_build_is_deterministic(built: dict[tuple[str, str], Path], tmp_path: Path) -> None:
    for name in REAL_FILES:
        inputs = resolve([str(REAL_FILES[name])])
        json_again = tmp_path / f"{name}.json"
        db_again = tmp_path / f"{name}.db"
        assert build(inputs, json_again).ok and build(inputs, db_again).ok
        assert json_again.read_bytes() == built[(name, "json")].read_bytes()
        assert _sqlite_content(db_again) == _sqlite_content(built[(name, "db")])


def test_tiny_build_is_byte_identical(tmp_path: Path) -> None:
    src = write(tmp_path, "tiny.probes", TINY)
    for suffix in ("db", "json"):
        first, second = tmp_path / f"1.{suffix}", tmp_path / f"2.{suffix}"
        assert build(resolve([str(src)]), first).ok and build(resolve([str(src)]), second).ok
        assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("suffix", ["db", "json"])
def test_streamed_digest_is_the_digest_of_all_rows(tmp_path: Path, suffix: str) -> None:
    """The writers hash the lines' rows one at a time as they write them; the header's digest
    must be that of every table's rows together (``emit.content_digest(emit.rows(db))``)."""
    src = write(tmp_path, "tiny.probes", TINY)
    target = tmp_path / f"t.{suffix}"
    result = build(resolve([str(src)]), target)
    assert result.ok
    with open_bundle(target) as bundle:
        assert bundle.header["content_sha256"] == emit.content_digest(emit.rows(result.database))
