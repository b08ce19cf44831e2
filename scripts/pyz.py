"""Write sigscan.pyz: the runtime as one zip file that Python runs (``python3 -S sigscan.pyz``).

Usage: python scripts/pyz.py OUTPUT.pyz

The archive holds runtime/sigscan's sources (never __pycache__) and a ``__main__.py`` that runs
``sigscan.cli:main`` and exits with its status (``python -m zipapp -m`` would drop the status).
Nothing else: with ``-S`` the runtime finds neither regex nor orjson and falls back to the
standard library's ``re`` and ``json``, and it reads no data file beside its modules.

Each module also goes in as bytecode for the Python that builds the archive, beside its source
(``module.pyc``, where zipimport looks; hash-based and unchecked, as zipimport cannot write a
cache and the sources in an archive do not change). A Python of the same minor version starts
from it; another one finds the bytecode's magic number wrong and compiles the source.
"""

from __future__ import annotations

import py_compile
import sys
import tempfile
import zipapp
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "runtime" / "sigscan"
MAIN = "import sys\n\nfrom sigscan.cli import main\n\nsys.exit(main())\n"
INTERPRETER = "/usr/bin/env python3"


def build(target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        for source in sorted(PACKAGE.rglob("*")):
            relative = source.relative_to(PACKAGE.parent)
            if "__pycache__" in relative.parts or source.is_dir() or source.suffix == ".pyc":
                continue
            copy = stage / relative
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(source.read_bytes())
            if source.suffix == ".py":
                py_compile.compile(str(copy), cfile=str(copy.with_suffix(".pyc")),
                                   dfile=str(relative), doraise=True,
                                   invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        (stage / "__main__.py").write_text(MAIN)
        target.parent.mkdir(parents=True, exist_ok=True)
        zipapp.create_archive(stage, target, interpreter=INTERPRETER, compressed=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python scripts/pyz.py OUTPUT.pyz", file=sys.stderr)
        return 2
    build(Path(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
