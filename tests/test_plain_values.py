"""Plain values (issue 13): records are frozen dataclasses or NamedTuples as the standard library
gives them, and nothing in the two packages changes the import system behind the reader's back.

Read from the source (``ast``), so the test sees every module, imported or not: no write to
``sys.modules`` (assignment, ``del``, or a mutating method), no class declared with a metaclass
and no class deriving from ``type``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([*(ROOT / "runtime" / "sigscan").rglob("*.py"), *(ROOT / "compiler" / "sigc").rglob("*.py")])
_MUTATORS = frozenset({"__setitem__", "__delitem__", "setdefault", "update", "pop", "popitem", "clear"})


def _is_sys_modules(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "modules"
            and isinstance(node.value, ast.Name) and node.value.id == "sys")


def _writes_to_sys_modules(tree: ast.AST) -> list[int]:
    """Lines that assign to, delete from or mutate ``sys.modules``."""
    lines = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign | ast.Delete):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Subscript) and _is_sys_modules(t.value) for t in targets):
            lines.append(node.lineno)
        if any(_is_sys_modules(t) for t in targets):  # sys.modules = ...
            lines.append(node.lineno)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in _MUTATORS and _is_sys_modules(node.func.value)):
            lines.append(node.lineno)
    return lines


def _metaclasses(tree: ast.AST) -> list[str]:
    """Classes declared with ``metaclass=`` or deriving from ``type``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            if any(k.arg == "metaclass" for k in node.keywords):
                found.append(f"{node.name} (metaclass=)")
            if any(isinstance(b, ast.Name) and b.id == "type" for b in node.bases):
                found.append(f"{node.name} (derives from type)")
    return found


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_the_packages_have_sources() -> None:
    assert len(SOURCES) > 50


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_writes_to_sys_modules(path: Path) -> None:
    assert _writes_to_sys_modules(_tree(path)) == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_metaclass(path: Path) -> None:
    assert _metaclasses(_tree(path)) == []


def test_the_stand_ins_are_gone() -> None:
    assert not (ROOT / "runtime" / "sigscan" / "bundle" / "_record.py").exists()
    assert not (ROOT / "runtime" / "sigscan" / "matcher" / "_dataclasses.py").exists()


@pytest.mark.parametrize("code", [
    "sys.modules['x'] = m",
    "sys.modules['x']: object = m",
    "del sys.modules['x']",
    "sys.modules.pop('x')",
    "sys.modules.setdefault('x', m)",
    "sys.modules.update(x=m)",
    "sys.modules = {}",
])
def test_the_check_sees_each_kind_of_write(code: str) -> None:
    assert _writes_to_sys_modules(ast.parse(code)) == [1]


def test_the_check_leaves_reads_alone() -> None:
    assert _writes_to_sys_modules(ast.parse("'x' in sys.modules; sys.modules.get('x'); sys.modules['x']")) == []


def test_the_metaclass_check_sees_both_kinds() -> None:
    code = "class M(type): pass\nclass C(metaclass=M): pass\nclass E(enum.Enum): pass\n"
    assert _metaclasses(ast.parse(code)) == ["M (derives from type)", "C (metaclass=)"]
