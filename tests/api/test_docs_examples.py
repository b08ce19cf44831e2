"""Every ```python example of docs/api.md runs, and prints what the ```text block right after it
shows.

Conventions of the examples (docs/api.md says them to its reader too): they name the reader's
own values with variables that this test defines in each example's namespace:

- ``BUNDLE_PATH``: the path (a str) of the small bundle conftest builds from ``PROBES``;
- ``PORT``: a TCP port of 127.0.0.1 whose server sends ``BANNER`` (an FTP greeting);
- ``CLOSED_PORT``: a port of 127.0.0.1 where nothing listens.

A ```text block that follows an example (nothing but blank lines between) is its standard
output, exactly, with the bundle's real path written ``BUNDLE_PATH``. Each example runs in a
fresh namespace, in an empty current folder, with ``$SIGSCAN_BUNDLE`` unset and restored after.
Network rule: examples scan 127.0.0.1 only (checked below), on the ports named above.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from tests.api.conftest import closed_port, ftp
from tests.scan.servers import ServerThread

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.M | re.S)


def examples() -> list[tuple[int, str, str | None]]:
    """``(line, code, expected output or None)`` for each python block, in order."""
    text = DOC.read_text(encoding="utf-8")
    blocks = list(FENCE.finditer(text))
    found = []
    for block, after in zip(blocks, [*blocks[1:], None], strict=True):
        if block[1] != "python":
            continue
        between = "" if after is None else text[block.end():after.start()]
        expected = after[2] if after is not None and after[1] == "text" and not between.strip() else None
        found.append((text.count("\n", 0, block.start()) + 1, block[2], expected))
    return found


EXAMPLES = examples()


def test_the_document_has_examples_of_every_function() -> None:
    code = "\n".join(c for _, c, _ in EXAMPLES)
    assert len(EXAMPLES) >= 6
    for call in ("sigscan.open_bundle(", "sigscan.identify(", "sigscan.scan("):
        assert call in code
    assert set(re.findall(r"\b\d{1,3}(?:\.\d{1,3}){3}\b", code)) == {"127.0.0.1"}


@pytest.mark.parametrize(("line", "code", "expected"), EXAMPLES, ids=[f"line{n}" for n, _, _ in EXAMPLES])
def test_example(line: int, code: str, expected: str | None, bundle_path: Path, servers: ServerThread,
                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SIGSCAN_BUNDLE", raising=False)
    monkeypatch.chdir(tmp_path)
    port, _ = servers.serve(ftp)
    namespace = {"__name__": "__docs__", "BUNDLE_PATH": str(bundle_path), "PORT": port,
                 "CLOSED_PORT": closed_port()}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"{DOC}:{line}", "exec"), namespace)  # our own documentation
    if expected is not None:
        assert out.getvalue().replace(str(bundle_path), "BUNDLE_PATH") == expected
