"""``sigscan.open_bundle``: a path, the default places the command looks at, and the errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import sigscan


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No default bundle anywhere: no $SIGSCAN_BUNDLE, an empty current folder, an empty home
    and data folder. Returns the (empty) folder."""
    monkeypatch.delenv("SIGSCAN_BUNDLE", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_path_opens_that_bundle_as_a_context_manager(bundles: dict[str, Path]) -> None:
    for path in bundles.values():
        with sigscan.open_bundle(path) as bundle:
            assert isinstance(bundle, sigscan.Bundle)
            assert bundle.path == str(path)
            assert sigscan.identify(bundle, b"220 Welcome\r\n").soft
        with sigscan.open_bundle(str(path)) as bundle:
            assert bundle.path == str(path)


def test_none_takes_the_environment_variable(nowhere: Path, bundle_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGSCAN_BUNDLE", str(bundle_path))
    with sigscan.open_bundle() as bundle:
        assert bundle.path == str(bundle_path)


def test_none_takes_the_build_folder_then_the_xdg_data_folder(
        nowhere: Path, bundle_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = nowhere / "data"
    (data / "sigscan").mkdir(parents=True)
    shutil.copy(bundle_path, data / "sigscan" / "signatures.db")
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    with sigscan.open_bundle(None) as bundle:
        assert bundle.path == str(data / "sigscan" / "signatures.db")
    (nowhere / "build").mkdir()
    shutil.copy(bundle_path, nowhere / "build" / "signatures.db")
    with sigscan.open_bundle() as bundle:
        assert Path(bundle.path) == nowhere / "build" / "signatures.db"


def test_none_and_no_bundle_anywhere(nowhere: Path) -> None:
    with pytest.raises(sigscan.BundleError, match=r"no bundle found \(looked at \$SIGSCAN_BUNDLE"):
        sigscan.open_bundle()


def test_a_missing_or_unusable_path_is_a_bundle_error(tmp_path: Path) -> None:
    with pytest.raises(sigscan.BundleError) as missing:
        sigscan.open_bundle(tmp_path / "missing.db")
    assert missing.value.problem == "no such bundle"
    assert missing.value.path == str(tmp_path / "missing.db")
    with pytest.raises(sigscan.BundleError, match="is a directory, not a bundle file"):
        sigscan.open_bundle(tmp_path)
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(sigscan.BundleError, match="not a sigc bundle"):
        sigscan.open_bundle(tmp_path / "notes.txt")
