"""The runtime stands alone: stdlib, regex and (optionally) orjson, never the compiler."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "runtime" / "sigscan"
ALLOWED_THIRD_PARTY = {"regex", "orjson"}
FORBIDDEN = {"sigc", "lark", "sqlite_utils"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_runtime_sources_import_only_stdlib_regex_orjson() -> None:
    stdlib = set(sys.stdlib_module_names)
    for path in sorted(RUNTIME.rglob("*.py")):
        extra = _imports(path) - stdlib - ALLOWED_THIRD_PARTY - {"sigscan"}
        assert not extra, f"{path.relative_to(ROOT)} imports {sorted(extra)}"


def _modules(folder: Path) -> list[str]:
    """The dotted names of the modules below FOLDER (``__main__`` left out: importing it runs
    the CLI, and it imports sigscan.cli.commands only)."""
    return [
        ".".join(p.relative_to(RUNTIME.parent).with_suffix("").parts).removesuffix(".__init__")
        for p in sorted(folder.rglob("*.py"))
        if p.name != "__main__.py"
    ]


def _loaded(modules: list[str], watched: set[str]) -> list[str]:
    """Which of the top-level packages WATCHED a fresh interpreter has loaded after importing
    MODULES."""
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted({{n.split('.')[0] for n in sys.modules}} & set({sorted(watched)!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded: list[str] = ast.literal_eval(out.stdout.strip())
    return loaded


def test_importing_every_runtime_module_loads_nothing_forbidden() -> None:
    assert _loaded(_modules(RUNTIME), FORBIDDEN) == []


def test_compiler_imports_the_schema_from_the_runtime() -> None:
    emit = _imports(ROOT / "compiler" / "sigc" / "emit.py")
    assert "sigscan" in emit


ENGINE = RUNTIME / "engine"
ENGINE_FORBIDDEN = {"asyncio", "socket", "ssl", "time", "select", "selectors", "threading"}


def test_engine_is_sans_io() -> None:
    """runtime/sigscan/engine imports no I/O or clock module (it is fed events with ``now``)."""
    for path in sorted(ENGINE.rglob("*.py")):
        used = _imports(path) & ENGINE_FORBIDDEN
        assert not used, f"{path.relative_to(ROOT)} imports {sorted(used)}"


def test_importing_the_engine_loads_no_io_module() -> None:
    """Transitively too (``time`` excepted: stdlib modules such as datetime load it)."""
    assert _loaded(_modules(ENGINE), ENGINE_FORBIDDEN - {"time"}) == []


def test_python_dash_m_runs_each_command() -> None:
    for package in ("sigc", "sigscan"):
        out = subprocess.run([sys.executable, "-m", package, "--help"], capture_output=True, text=True,
                             check=False)
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith(f"usage: {package} ")


def test_the_files_helper_stands_alone() -> None:
    """``sigscan.bundle.files`` (how both halves read inputs and write outputs) imports only the
    standard library: the compiler imports it besides the bundle format, and it must be able to
    move with either half when the packages split by phase."""
    stdlib = set(sys.stdlib_module_names)
    assert _imports(RUNTIME / "bundle" / "files.py") - stdlib == set()
