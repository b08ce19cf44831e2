#!/usr/bin/env python3
"""Do two revisions of sigc build the same bundles? For each real database (the installed
Nmap's and ../shared's newest), build a JSON bundle with the code of each revision and compare
the bytes and the content digest (``header.content_sha256``).

Usage: python scripts/same_bundles.py BEFORE [AFTER]
    BEFORE, AFTER: git revisions; AFTER defaults to the working tree.
Exit status: 0 all identical, 1 a difference, 2 bad arguments or a database missing.

Each revision's ``runtime`` and ``compiler`` folders are taken with ``git archive`` into a
temporary folder and run with this interpreter (the dev venv's, which has lark and the rest).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASES = {
    "nmap-7.93": Path("/usr/share/nmap/nmap-service-probes"),
    "nmap-head": ROOT.parent / "shared" / "corpus" / "nmap-head" / "nmap-service-probes",
}


def _tree(revision: str | None, into: Path) -> Path:
    """A folder holding the revision's runtime/ and compiler/ (None: the working tree)."""
    if revision is None:
        return ROOT
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "runtime", "compiler"],
                             capture_output=True, check=False)
    if archive.returncode:
        raise SystemExit(f"same_bundles: {revision}: {archive.stderr.decode(errors='replace').strip()}")
    into.mkdir()
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def _build(tree: Path, source: Path, out: Path) -> bytes:
    env = {**os.environ, "PYTHONPATH": f"{tree / 'runtime'}{os.pathsep}{tree / 'compiler'}"}
    code = "import sys; from sigc.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run([sys.executable, "-c", code, "build", "-q", str(source), "-o", str(out)],
                          env=env, capture_output=True, text=True, check=False, cwd=tree)
    if done.returncode:
        raise SystemExit(f"same_bundles: building {source} at {tree} failed: {done.stderr.strip()}")
    return out.read_bytes()


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    missing = [str(p) for p in DATABASES.values() if not p.is_file()]
    if missing:
        print(f"same_bundles: no database at {', '.join(missing)}", file=sys.stderr)
        return 2
    before, after = argv[0], (argv[1] if len(argv) == 2 else None)
    differ = False
    with tempfile.TemporaryDirectory(prefix="same-bundles-") as tmp:
        trees = [_tree(before, Path(tmp, "before")), _tree(after, Path(tmp, "after"))]
        for name, source in DATABASES.items():
            a, b = (_build(tree, source, Path(tmp, f"{name}-{i}.json")) for i, tree in enumerate(trees))
            digests = [json.loads(x)["header"]["content_sha256"] for x in (a, b)]
            same = a == b and digests[0] == digests[1]
            differ |= not same
            print(f"{name}: {'identical' if same else 'DIFFERENT'} ({len(a):,} / {len(b):,} bytes, "
                  f"content_sha256 {digests[0][:16]} / {digests[1][:16]})")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
