"""``import sigscan`` stays cheap (it loads nothing but the package and its version) and exports a
short, deliberate list of names, each the very object of the module that defines it."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import sigscan

PUBLIC = {"Bundle", "BundleError", "PortResult", "PortSpecError", "PortState", "Profile", "Service",
          "TargetError", "UnknownProbe", "Verdict", "__version__", "identify", "open_bundle", "scan"}


def _modules_after(code: str, *args: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code`` (which prints nothing)."""
    show = "\nimport sys; print(sorted(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code + show, *args], capture_output=True, text=True, check=True)
    return set(ast.literal_eval(done.stdout.strip().splitlines()[-1]))


def test_import_sigscan_loads_only_itself() -> None:
    assert _modules_after("import sigscan") - _modules_after("pass") == {"sigscan", "sigscan.version"}


def test_identify_loads_neither_asyncio_nor_the_scanner(bundle_path: Path) -> None:
    code = "import sys, sigscan\nsigscan.identify(sigscan.open_bundle(sys.argv[1]), b'220 x')"
    loaded = _modules_after(code, str(bundle_path))
    assert "sigscan.matcher" in loaded
    assert not {"asyncio", "ssl", "socket", "sigscan.scanning", "sigscan.net", "sigscan.engine"} & loaded


def test_all_is_the_public_list_and_each_name_is_the_real_object() -> None:
    assert set(sigscan.__all__) == PUBLIC
    assert set(dir(sigscan)) >= PUBLIC
    lazy = {"Bundle": "sigscan.bundle.loader", "BundleError": "sigscan.bundle.errors",
            "PortResult": "sigscan.engine.results", "PortState": "sigscan.engine.results",
            "Service": "sigscan.engine.results", "Profile": "sigscan.engine.config",
            "UnknownProbe": "sigscan.matcher.core", "Verdict": "sigscan.matcher.verdict",
            "TargetError": "sigscan.scanning.targets", "PortSpecError": "sigscan.scanning.ports"}
    for name, module in lazy.items():
        assert getattr(sigscan, name) is getattr(importlib.import_module(module), name), name
    assert issubclass(sigscan.TargetError, ValueError) and issubclass(sigscan.PortSpecError, ValueError)
    assert issubclass(sigscan.UnknownProbe, LookupError)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match=r"^module 'sigscan' has no attribute 'Scanner'$"):
        getattr(sigscan, "Scanner")  # noqa: B009
