"""What scripts/dist.sh builds, and what the two wheels declare: the runtime needs regex only
(orjson in the ``orjson`` extra), the compiler the runtime of its own version and its libraries;
one version everywhere; the development pyproject.toml installs the union of both."""

from __future__ import annotations

import ast
import tomllib
import zipfile
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

import sigc
import sigscan
from tests.dist.conftest import ROOT, VERSION, Dist

RUNTIME = ROOT / "runtime" / "sigscan"


def metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        return HeaderParser().parsestr(z.read(name).decode())


def entry_points(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/entry_points.txt"))
        return z.read(name).decode()


def packages(archive: Path) -> set[str]:
    """The top-level names in ARCHIVE (dist-info folders left out)."""
    with zipfile.ZipFile(archive) as z:
        return {n.split("/")[0] for n in z.namelist() if ".dist-info/" not in n}


def test_dist_sh_builds_both_wheels_and_the_pyz(dist: Dist) -> None:
    assert sorted(p.name for p in dist.folder.iterdir()) == sorted(
        p.name for p in (dist.runtime, dist.compiler, dist.pyz))
    assert packages(dist.runtime) == {"sigscan"}
    assert packages(dist.compiler) == {"sigc"}
    assert packages(dist.pyz) == {"sigscan", "__main__.py"}
    with zipfile.ZipFile(dist.compiler) as z:
        assert "sigc/syntax/grammar.lark" in z.namelist()
    with zipfile.ZipFile(dist.runtime) as z:
        shipped = {n for n in z.namelist() if n.startswith("sigscan/")}
    sources = {p.relative_to(RUNTIME.parent).as_posix() for p in RUNTIME.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert shipped == sources  # every module, py.typed, and nothing else


def test_runtime_wheel_requires_regex_and_orjson_only_as_an_extra(dist: Dist) -> None:
    meta = metadata(dist.runtime)
    assert (meta["Name"], meta["Version"]) == ("sigscan", VERSION)
    assert sorted(meta.get_all("Requires-Dist") or []) == ["orjson>=3.9; extra == 'orjson'", "regex>=2023.0"]
    assert meta.get_all("Provides-Extra") == ["orjson"]
    assert "sigscan = sigscan.cli:main" in entry_points(dist.runtime)


def test_compiler_wheel_requires_the_runtime_of_its_own_version(dist: Dist) -> None:
    meta = metadata(dist.compiler)
    assert (meta["Name"], meta["Version"]) == ("sigscan-compiler", VERSION)
    assert sorted(meta.get_all("Requires-Dist") or []) == sorted(
        [f"sigscan=={VERSION}", "lark>=1.1.9", "orjson>=3.9", "sqlite-utils>=3.36"])
    assert "sigc = sigc.cli:main" in entry_points(dist.compiler)


def test_one_version_and_the_dev_install_has_the_union_of_the_dependencies(dist: Dist) -> None:
    assert sigc.__version__ == sigscan.__version__ == VERSION
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert dev["name"] == "sigscan-dev" and dev["dynamic"] == ["version"]
    runtime = [r for r in metadata(dist.runtime).get_all("Requires-Dist") or [] if "extra ==" not in r]
    compiler = [r for r in metadata(dist.compiler).get_all("Requires-Dist") or []
                if not r.startswith("sigscan==")]
    assert sorted(dev["dependencies"]) == sorted(set(runtime) | set(compiler))


def test_the_runtime_reads_no_file_beside_its_modules() -> None:
    """It runs from a zip (sigscan.pyz), where a path made from ``__file__`` names no file."""
    for path in sorted(RUNTIME.rglob("*.py")):
        names = {n.id for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Name)}
        assert "__file__" not in names, path
