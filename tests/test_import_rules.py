"""The import rules: the runtime stands alone (stdlib, regex and optionally orjson, never the
compiler); the compiler takes only the bundle format from it; the runtime's layers import only
downwards; no product module imports the test doubles; no import cycles; nothing writes to
sys.modules."""

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
    """runtime/sigscan/engine and the version plugins import no I/O or clock module (they are
    fed events with ``now``)."""
    for path in sorted([*ENGINE.rglob("*.py"), *(RUNTIME / "plugins").rglob("*.py")]):
        used = _imports(path) & ENGINE_FORBIDDEN
        assert not used, f"{path.relative_to(ROOT)} imports {sorted(used)}"


def test_importing_the_engine_loads_no_io_module() -> None:
    """Transitively too (``time`` excepted: stdlib modules such as datetime load it)."""
    assert _loaded(_modules(ENGINE), ENGINE_FORBIDDEN - {"time"}) == []
    assert _loaded(_modules(RUNTIME / "plugins"), ENGINE_FORBIDDEN - {"time"}) == []


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


# -- the phase and layer rules (issue 13) -------------------------------------------------------

COMPILER = ROOT / "compiler" / "sigc"
# Runtime layers, lowest first: a module imports only from its own layer or lower ones.
LAYERS = ("bundle", "matcher", "engine", "plugins", "net", "scanning", "output", "cli")


def _module_name(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")


def _first_party(path: Path, root: Path) -> list[tuple[str, tuple[str, ...], bool]]:
    """(module, names imported from it, under ``if TYPE_CHECKING``) for every import of sigc or
    sigscan in PATH, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    checking: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            checking |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, (), id(node) in checking) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names = tuple(a.name for a in node.names)
            if not node.module:  # from . import x: each name is a module
                found += [(f"{module}.{n}", (), id(node) in checking) for n in names]
            else:
                found.append((module, names, id(node) in checking))
    return [(m, n, c) for m, n, c in found if m.split(".")[0] in ("sigc", "sigscan")]


def _runtime_modules() -> list[Path]:
    return sorted(RUNTIME.rglob("*.py"))


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in (*LAYERS, "testing") else None


def test_the_compiler_imports_only_the_bundle_format_from_the_runtime() -> None:
    """sigc reads and writes bundles through sigscan.bundle (the format, its files and template
    vocabulary) and takes the version from sigscan.version; nothing else of the runtime."""
    for path in sorted(COMPILER.rglob("*.py")):
        for module, _, _ in _first_party(path, COMPILER.parent):
            if module.startswith("sigscan"):
                assert module == "sigscan.version" or module.startswith("sigscan.bundle"), (
                    f"{path.relative_to(ROOT)} imports {module}")


def test_runtime_layers_import_only_downwards() -> None:
    """bundle < matcher < engine < net < scanning < output < cli (and the public API in
    sigscan/__init__.py above them all): the engine never reaches the network or the outputs,
    the matcher never the engine, and so on. Nothing below the API imports the package itself."""
    for path in _runtime_modules():
        own = _layer(_module_name(path, RUNTIME.parent))
        if own is None or own == "testing":
            continue
        for module, _, _ in _first_party(path, RUNTIME.parent):
            if module == "sigscan.version":  # below every layer
                continue
            other = _layer(module)
            assert other != "testing", f"{path.relative_to(ROOT)} imports the test double {module}"
            assert other is not None and LAYERS.index(other) <= LAYERS.index(own), (
                f"{path.relative_to(ROOT)} ({own}) imports {module} ({other}), a higher layer")


def test_no_product_module_imports_the_test_doubles() -> None:
    for path in [*_runtime_modules(), *sorted(COMPILER.rglob("*.py"))]:
        if path.is_relative_to(RUNTIME / "testing"):
            continue
        root = RUNTIME.parent if path.is_relative_to(RUNTIME) else COMPILER.parent
        for module, names, _ in _first_party(path, root):
            assert not module.startswith("sigscan.testing"), f"{path.relative_to(ROOT)} imports {module}"
            assert not (module == "sigscan" and "testing" in names), f"{path.relative_to(ROOT)} imports testing"


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of GRAPH as a path, or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _graph(folder: Path) -> dict[str, set[str]]:
    """Module -> the first-party modules it imports (at any depth of its code, outside
    ``if TYPE_CHECKING``); ``from package import name`` counts as importing the package, or
    the module ``package.name`` where that is one."""
    modules = {_module_name(p, folder.parent) for p in folder.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        name = _module_name(path, folder.parent)
        edges = graph.setdefault(name, set())
        for module, names, checking in _first_party(path, folder.parent):
            if checking:
                continue
            targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in modules]
            for target in targets or [module]:
                if target in modules and target != name:
                    edges.add(target)
    return graph


def test_there_are_no_import_cycles() -> None:
    for folder in (RUNTIME, COMPILER):
        assert _cycle(_graph(folder)) is None, f"import cycle: {' -> '.join(_cycle(_graph(folder)) or [])}"


def test_the_runtime_top_level_holds_few_modules() -> None:
    """Modules live in their layer's folder: at most four beside __init__ and __main__."""
    top = [p.name for p in RUNTIME.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert len(top) <= 4, top


def _writes_sys_modules(tree: ast.AST) -> list[int]:
    """Lines that assign, delete or mutate ``sys.modules``."""
    def is_sys_modules(node: ast.AST) -> bool:
        return (isinstance(node, ast.Attribute) and node.attr == "modules"
                and isinstance(node.value, ast.Name) and node.value.id == "sys")

    lines = []
    for node in ast.walk(tree):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign | ast.Delete):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if is_sys_modules(target) or (isinstance(target, ast.Subscript) and is_sys_modules(target.value)):
                lines.append(node.lineno)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and is_sys_modules(node.func.value)
                and node.func.attr in ("__setitem__", "__delitem__", "update", "setdefault", "pop", "popitem", "clear")):
            lines.append(node.lineno)
    return lines


def test_nothing_writes_to_sys_modules() -> None:
    for path in [*_runtime_modules(), *sorted(COMPILER.rglob("*.py"))]:
        found = _writes_sys_modules(ast.parse(path.read_text(encoding="utf-8")))
        assert not found, f"{path.relative_to(ROOT)}:{found[0]} writes to sys.modules"


def test_the_rule_checks_see_what_they_forbid() -> None:
    """The checks above find what they look for (so a silent parser change cannot pass them)."""
    assert _writes_sys_modules(ast.parse("import sys\nsys.modules['x'] = 1\ndel sys.modules['y']\n"
                                         "sys.modules.pop('z')\n")) == [2, 3, 4]
    assert _cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
    checked = _first_party(RUNTIME / "matcher" / "index.py", RUNTIME.parent)
    assert ("sigscan.bundle.keys", ("ALWAYS", "FIRST", "HEAD", "HEAD_MAX", "IHEAD", "TOKEN", "tokens_of"),
            False) in checked
    assert any(c for m, _, c in checked if m == "sigscan.bundle.loader")  # under TYPE_CHECKING
