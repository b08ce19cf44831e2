"""``sigscan.bundle.files`` in its parts: bounded reading of lines and files, and what each kind of path
means for a write (the end-to-end cases are in tests/hostile/test_outputs.py)."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest

from sigscan.bundle import files


@pytest.mark.parametrize(("data", "expected"), [
    (b"", []),
    (b"abcd\n", [b"abcd\n"]),  # exactly the limit, and its newline
    (b"abcde\nxy\n", [None, b"xy\n"]),  # one byte over
    (b"abcd", [b"abcd"]),  # the last line without a newline
    (b"abcde", [None]),
    (b"a\n" + b"x" * 9 + b"\nb", [b"a\n", None, b"b"]),
])
def test_bounded_lines(data: bytes, expected: list[bytes | None]) -> None:
    assert list(files.bounded_lines(io.BytesIO(data), 4)) == expected


def test_a_line_that_never_ends_stops_the_reading() -> None:
    lines = files.bounded_lines(io.BytesIO(b"ok\n" + b"x" * 100), 4, skip_limit=50)
    assert next(lines) == b"ok\n"
    with pytest.raises(OSError, match="larger than 50 bytes"):
        next(lines)


def test_read_bounded(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert files.read_bounded(path, 10) == b"x" * 10
    with pytest.raises(OSError, match="larger than 9 bytes"):
        files.read_bounded(path, 9)
    with pytest.raises(OSError, match="larger than 1 MiB"):
        files.read_bounded("/dev/zero", 1 << 20)


def test_what_each_kind_of_path_means(tmp_path: Path) -> None:
    regular = tmp_path / "regular"
    regular.write_bytes(b"")
    (tmp_path / "link").symlink_to("regular")
    (tmp_path / "stdout").symlink_to("/proc/self/fd/1")
    os.mkfifo(tmp_path / "fifo")
    kinds = {name: files.target(tmp_path / name).kind
             for name in ("new", "regular", "link", "fifo")}
    assert kinds == {"new": files.Kind.NEW, "regular": files.Kind.REGULAR,
                     "link": files.Kind.REGULAR, "fifo": files.Kind.STREAM}
    assert files.target(tmp_path / "link").path == str(regular)
    assert files.target(tmp_path / "stdout").kind is files.Kind.STREAM
    for refused, why in ((tmp_path, "is a directory"), ("", "empty name")):
        with pytest.raises(files.OutputError, match=why):
            files.target(refused)
    with pytest.raises(files.OutputError, match="it is the input"):
        files.target(tmp_path / "link", inputs=[regular])


def test_an_output_is_put_in_place_only_when_committed(tmp_path: Path) -> None:
    path = tmp_path / "out"
    path.write_bytes(b"old")
    path.chmod(0o640)
    with pytest.raises(RuntimeError), files.open_output(path) as output:
        output.write(b"new")
        raise RuntimeError
    assert path.read_bytes() == b"old" and sorted(tmp_path.iterdir()) == [path]
    with files.open_output(path) as output:
        output.write(b"new")
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_failed_output_keeps_failing(tmp_path: Path) -> None:
    """After an error (ENOSPC from a full device of the test's own), every later write tells the
    same error instead of writing on."""
    if os.geteuid() != 0:
        pytest.skip("needs root to make a device node")
    full = tmp_path / "full"
    os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))
    output = files.open_output(full)
    output.write(b"x")
    with pytest.raises(files.OutputError, match="No space left on device") as first:
        output.flush()
    with pytest.raises(files.OutputError) as again:
        output.write(b"y")
    assert again.value is first.value and not first.value.closed


def test_append_keeps_the_old_bytes_and_stays_atomic(tmp_path: Path) -> None:
    path = tmp_path / "scan.gnmap"
    path.write_bytes(b"first run\n")
    path.chmod(0o640)
    with files.open_output(path, append=True) as out:
        out.write(b"second run\n")
        assert path.read_bytes() == b"first run\n"  # in place only when committed
    assert path.read_bytes() == b"first run\nsecond run\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    failed = files.open_output(path, append=True)
    failed.write(b"lost\n")
    failed.discard()
    assert path.read_bytes() == b"first run\nsecond run\n" and sorted(tmp_path.iterdir()) == [path]
    with files.open_output(tmp_path / "new.xml", append=True) as out:  # nothing to append to
        out.write(b"<x/>\n")
    assert (tmp_path / "new.xml").read_bytes() == b"<x/>\n"
