"""Lark's analysed grammar is cached in the user's cache folder, and only there."""

from __future__ import annotations

from pathlib import Path

import lark
import pytest

from sigc.syntax import parser


def test_cache_goes_to_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    option = parser._lark_cache()
    assert option == {"cache": str(tmp_path / "sigc" / "grammar.lark-cache")}
    assert (tmp_path / "sigc").stat().st_mode & 0o777 == 0o700


def test_no_cache_when_the_folder_cannot_be_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert parser._lark_cache() == {}


def test_a_cached_grammar_parses_as_a_fresh_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    parser._lark.cache_clear()
    try:
        line = "match ftp m|^220 (\\S+)| p/FTP/ v/$1/ cpe:/a:x:y/a"
        first = parser.parse_line(line.encode())  # builds the tables and writes the cache
        assert (tmp_path / "sigc" / "grammar.lark-cache").stat().st_size > 0
        parser._lark.cache_clear()
        again = parser.parse_line(line.encode())  # loads them
        assert again == first and isinstance(again.tokens[0], lark.Token)
    finally:
        parser._lark.cache_clear()
