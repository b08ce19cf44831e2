"""Hostile bundles: files that are not bundles, bundles cut or flipped, and bundles edited then
resealed (their CRC-32 made right again, see :mod:`tests.hostile.tamper`), met by
``sigscan identify`` and ``sigscan scan``.

Each run must end in time with exactly one line on stderr, ``sigscan: error: <path>: <what is
wrong>; <what to do>``, and exit status 2, or, where the edit changes nothing the runtime relies
on, with the verdict an untouched bundle gives. Never a traceback, never a hang.
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from sigc.build import build
from sigc.sources import resolve
from tests.hostile.support import Outcome, run_bounded
from tests.hostile.tamper import PROBES, Document, jsonl

BOUND = 30.0  # seconds: a hang detector, not a speed goal
BANNER = b"SSH-2.0-OpenSSH_9.2p1\r\n"  # the NULL probe's ssh line names it


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tamper probe file built in both encodings: {"json": path, "db": path}."""
    folder = tmp_path_factory.mktemp("tamper")
    source = folder / "tamper.probes"
    source.write_bytes(PROBES)
    out = {}
    for suffix in ("json", "db"):
        target = folder / f"tamper.{suffix}"
        assert build(resolve([str(source)]), target).ok
        out[suffix] = target
    return out


@pytest.fixture(scope="module")
def document(built: dict[str, Path]) -> Document:
    return Document.read(built["json"])


@pytest.fixture(scope="module")
def banner_port() -> Iterator[int]:
    """A loopback server that sends the ssh banner and keeps the connection until closed."""
    from tests.scan.servers import Stats, server_thread

    async def ssh(reader: object, writer: object, stats: Stats) -> None:
        from tests.scan.servers import _read_until_closed, _send

        await _send(writer, stats, BANNER)  # type: ignore[arg-type]
        await _read_until_closed(reader, stats)  # type: ignore[arg-type]

    with server_thread() as servers:
        port, _ = servers.serve(ssh)
        yield port


def identify(bundle: Path | str, *, codes: tuple[int, ...] = (2,)) -> Outcome:
    """``sigscan identify --jsonl`` of a response for every line of the probe file."""
    return run_bounded("sigscan", "identify", "--bundle", str(bundle), "--jsonl", "-",
                       stdin=jsonl(), timeout=BOUND, codes=codes, unchanged=_files(bundle))


def scan(bundle: Path | str, port: int, *, codes: tuple[int, ...] = (2,)) -> Outcome:
    """``sigscan scan`` of the loopback banner server, NDJSON on stdout."""
    return run_bounded("sigscan", "scan", "127.0.0.1", "-p", str(port), "--bundle", str(bundle),
                       "-oJ", "-", timeout=BOUND, codes=codes, unchanged=_files(bundle))


def _files(bundle: Path | str) -> list[Path]:
    path = Path(bundle)
    return [path] if path.is_file() else []


def refused(outcome: Outcome, path: Path | str, *words: str) -> str:
    """The one error line, checked: it names the file, says what is wrong and what to do."""
    line = outcome.err.strip()
    assert line.startswith(f"sigscan: error: {path}: "), line
    for word in words:
        assert word in line, line
    assert "sigc build" in line, line  # what to do
    return line


# -- item 10: a path that is not a bundle file --------------------------------------------------


def _fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.db"
    os.mkfifo(path)
    return path


def _socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "sock.db"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        yield path


@pytest.mark.parametrize(("make", "words"), [
    (lambda tmp: tmp, ("is a directory",)),
    (lambda tmp: Path("/dev/null"), ("is a character device",)),
    (_fifo, ("is a named pipe",)),
    (lambda tmp: (tmp / "empty.db").write_bytes(b"") and tmp / "empty.db" or tmp / "empty.db", ("is empty",)),
    (lambda tmp: (tmp / "loop.db").symlink_to(tmp / "loop.db") or tmp / "loop.db",
     ("cannot be read", "symbolic links")),
    (lambda tmp: (tmp / "missing.db"), ("no such bundle",)),
], ids=["directory", "dev-null", "fifo", "empty", "symlink-loop", "missing"])
def test_a_path_that_is_not_a_bundle_file_is_named_for_what_it_is(tmp_path: Path, make: object,
                                                                  words: tuple[str, ...]) -> None:
    """``--bundle`` naming a folder, /dev/null, a FIFO (which must not block the open), an
    empty file, a path that cannot be opened: each its own message, not "no such bundle"."""
    path = make(tmp_path)  # type: ignore[operator]
    for outcome in (identify(path), run_bounded("sigscan", "scan", "127.0.0.1", "-p", "9",
                                                "--bundle", str(path), timeout=BOUND, codes=(2,))):
        line = refused(outcome, path, *words)
        if "missing" not in str(path):
            assert "no such bundle" not in line


def test_a_socket_is_not_a_bundle_file(tmp_path: Path) -> None:
    for path in _socket(tmp_path):
        assert stat.S_ISSOCK(path.lstat().st_mode)
        refused(identify(path), path, "is a socket")


def test_an_unreadable_bundle_says_so(built: dict[str, Path], tmp_path: Path) -> None:
    """A bundle the user may not read. Root reads any file: the run gives up the two
    capabilities that let it (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), as ``setpriv
    --bounding-set`` does, so that the file's mode applies to it too."""
    copy = tmp_path / "locked.db"
    copy.write_bytes(built["db"].read_bytes())
    copy.chmod(0)
    outcome = run_bounded("sigscan", "identify", "--bundle", str(copy), "--probe", "NULL", "-",
                          stdin=BANNER, timeout=BOUND, codes=(2,), preexec=_without_dac_override)
    refused(outcome, copy, "cannot be read", "Permission denied", "permissions")


def _without_dac_override() -> None:
    """Drop the capabilities that let root read any file from the bounding set (they are gone
    after exec). Nothing to drop for another user."""
    if os.geteuid() != 0:
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_capbset_drop, cap_dac_override, cap_dac_read_search = 24, 1, 2
    for cap in (cap_dac_override, cap_dac_read_search):
        if libc.prctl(pr_capbset_drop, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")
