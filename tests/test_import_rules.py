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


def test_importing_every_runtime_module_loads_nothing_forbidden() -> None:
    modules = [
        ".".join(p.relative_to(RUNTIME.parent).with_suffix("").parts).removesuffix(".__init__")
        for p in sorted(RUNTIME.rglob("*.py"))
        if p.name != "__main__.py"  # runs the CLI when imported; it imports sigscan.cli only
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted({{n.split('.')[0] for n in sys.modules}} & set({sorted(FORBIDDEN)!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


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
    modules = [
        ".".join(p.relative_to(RUNTIME.parent).with_suffix("").parts).removesuffix(".__init__")
        for p in sorted(ENGINE.rglob("*.py"))
    ]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted({{n.split('.')[0] for n in sys.modules}} & set({sorted(ENGINE_FORBIDDEN - {'time'})!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_python_dash_m_runs_each_command() -> None:
    for package in ("sigc", "sigscan"):
        out = subprocess.run([sys.executable, "-m", package, "--help"], capture_output=True, text=True,
                             check=False)
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith(f"usage: {package} ")
