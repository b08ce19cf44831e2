"""Every writer against every kind of path, with the same cases: ``sigc build`` (SQLite and JSON),
``sigc dump -o`` and ``sigscan scan -oN/-oX/-oJ`` all follow the rules of :mod:`sigscan.bundle.files`.

A new path or a regular file is replaced atomically with the mode ``open(path, "w")`` would give;
a link is written through; a device or FIFO is written as a stream and never replaced; a
directory, a folder that cannot hold files and an input are refused with one line; a failed
write leaves the old file as it was. The devices are nodes the test makes in its own folder
(never the real /dev/full or /dev/stdout), so those cases need root.
"""

from __future__ import annotations

import errno
import os
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

from sigc.build import build
from sigc.sources import resolve
from tests.helpers import TINY
from tests.hostile.support import FileState, Outcome, run_bounded, unprivileged

TIMEOUT = 60  # seconds: a hang, not a slow run
NULL_DEVICE = (1, 3)  # Linux's /dev/null numbers
FULL_DEVICE = (1, 7)  # Linux's /dev/full numbers: every write fails with ENOSPC


@dataclass(frozen=True)
class World:
    folder: Path
    source: Path
    bundle: Path
    port: int  # a closed loopback port this module holds (bound, never listening)


@dataclass(frozen=True)
class Writer:
    """One command that writes a file: how to run it, what it reads, how its bytes start."""

    name: str
    suffix: str
    magic: bytes
    makes_folders: bool  # sigc build makes the bundle's folder; the others do not

    def reads_source(self) -> bool:
        return self.name.startswith("build")

    def input_copy(self, world: World, folder: Path) -> Path:
        """A copy of what the writer reads, for a test that may see it destroyed."""
        original = world.source if self.reads_source() else world.bundle
        copy = folder / f"input{original.suffix}"
        shutil.copyfile(original, copy)
        return copy

    def command(self, world: World, target: Path | str, given: Path | None = None) -> tuple[str, list[str]]:
        if self.name.startswith("build"):
            return "sigc", ["build", "-q", str(given or world.source), "-o", str(target)]
        bundle = str(given or world.bundle)
        if self.name == "dump":
            return "sigc", ["dump", bundle, "-o", str(target)]
        option = self.name.removeprefix("scan")
        return "sigscan", ["scan", "127.0.0.1", "-p", str(world.port), "--intensity", "0",
                           "--bundle", bundle, option, str(target)]


WRITERS = [
    Writer("build-db", ".db", b"SQLite format 3\x00", True),
    Writer("build-json", ".json", b'{"crc32":"', True),
    Writer("dump", ".probes", b"# Rendered by `sigc dump`", False),
    Writer("scan-oN", ".nmap", b"# sigscan ", False),
    Writer("scan-oX", ".xml", b'<?xml version="1.0"', False),
    Writer("scan-oJ", ".ndjson", b'{"host":"127.0.0.1"', False),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("outputs")
    source = folder / "small.probes"
    source.write_bytes(TINY)
    bundle = folder / "small.db"
    assert build(resolve([str(source)]), bundle).ok
    with socket.socket() as closed:  # bound but not listening: a connect is refused (RST)
        closed.bind(("127.0.0.1", 0))
        yield World(folder, source, bundle, closed.getsockname()[1])


@pytest.fixture(params=WRITERS, ids=lambda w: w.name)
def writer(request: pytest.FixtureRequest) -> Writer:
    param: Writer = request.param
    return param


def run(writer: Writer, world: World, target: Path | str, *, codes: tuple[int, ...] = (0,),
        given: Path | None = None, unchanged: Sequence[Path] = (),
        rlimits: Mapping[int, int] | None = None, stdout: IO[bytes] | None = None,
        under: Sequence[str] = ()) -> Outcome:
    program, args = writer.command(world, target, given)
    return run_bounded(program, *args, timeout=TIMEOUT, codes=codes, unchanged=unchanged,
                       rlimits=rlimits, stdout=stdout, under=under)


def leftovers(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.tmp"))


def device(path: Path, numbers: tuple[int, int]) -> Path:
    if os.geteuid() != 0:
        pytest.skip("needs root to make a device node")
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(*numbers))
    return path


# -- a new path, a regular file, links ----------------------------------------------------------


def test_a_new_path_gets_the_mode_of_a_plain_write(writer: Writer, world: World, tmp_path: Path) -> None:
    target = tmp_path / f"out{writer.suffix}"
    old = os.umask(0o027)
    try:
        run(writer, world, target)
    finally:
        os.umask(old)
    assert target.read_bytes().startswith(writer.magic)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # 0o666 less the umask
    assert leftovers(tmp_path) == []


def test_a_regular_file_is_replaced_and_keeps_its_mode(writer: Writer, world: World, tmp_path: Path) -> None:
    target = tmp_path / f"out{writer.suffix}"
    target.write_bytes(b"old\n")
    target.chmod(0o604)
    run(writer, world, target)
    assert target.read_bytes().startswith(writer.magic)
    assert stat.S_IMODE(target.stat().st_mode) == 0o604
    assert leftovers(tmp_path) == []


def test_a_symlink_is_written_through(writer: Writer, world: World, tmp_path: Path) -> None:
    real = tmp_path / f"real{writer.suffix}"
    real.write_bytes(b"old\n")
    link = tmp_path / f"link{writer.suffix}"
    link.symlink_to(real.name)
    run(writer, world, link, unchanged=[link])
    assert real.read_bytes().startswith(writer.magic)
    assert leftovers(tmp_path) == []


def test_a_dangling_symlink_makes_its_target(writer: Writer, world: World, tmp_path: Path) -> None:
    link = tmp_path / f"link{writer.suffix}"
    link.symlink_to(f"made{writer.suffix}")
    run(writer, world, link, unchanged=[link])
    assert (tmp_path / f"made{writer.suffix}").read_bytes().startswith(writer.magic)


# -- devices, FIFOs, open files: streams ----------------------------------------------------------


def test_a_device_is_written_as_a_stream(writer: Writer, world: World, tmp_path: Path) -> None:
    null = device(tmp_path / f"null{writer.suffix}", NULL_DEVICE)
    run(writer, world, null, unchanged=[null])
    assert stat.S_ISCHR(null.lstat().st_mode)


def test_a_full_device_is_one_line_and_left_alone(writer: Writer, world: World, tmp_path: Path) -> None:
    full = device(tmp_path / f"full{writer.suffix}", FULL_DEVICE)
    outcome = run(writer, world, full, codes=(2,), unchanged=[full])
    assert f"cannot write {full}: {os.strerror(errno.ENOSPC)}" in outcome.err
    assert leftovers(tmp_path) == []


class FifoReader(threading.Thread):
    """Reads a FIFO to its end; :meth:`result` unblocks it if no writer ever came."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.data = b""

    def run(self) -> None:
        with open(self.path, "rb") as f:
            self.data = f.read()

    def result(self) -> bytes:
        self.join(2)
        if self.is_alive():  # nobody opened it for writing: open it, so the reader sees its end
            os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))
            self.join(TIMEOUT)
        return self.data


def test_a_fifo_is_written_as_a_stream(writer: Writer, world: World, tmp_path: Path) -> None:
    fifo = tmp_path / f"fifo{writer.suffix}"
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    reader.start()
    run(writer, world, fifo, unchanged=[fifo])
    assert reader.result().startswith(writer.magic)


def test_a_link_to_an_open_file_writes_to_that_file(writer: Writer, world: World, tmp_path: Path) -> None:
    """``-o /dev/stdout``, with a link of the test's own to /proc/self/fd/1: the bytes go to
    standard output (a pipe here), nothing is replaced."""
    link = tmp_path / f"stdout{writer.suffix}"
    link.symlink_to("/proc/self/fd/1")
    outcome = run(writer, world, link, unchanged=[link])
    assert outcome.stdout.startswith(writer.magic)


def test_stdout_redirected_to_a_file_is_written_not_replaced(writer: Writer, world: World, tmp_path: Path) -> None:
    """``-o /dev/stdout > FILE``: the bytes go into FILE through the open file (same inode)."""
    link = tmp_path / f"stdout{writer.suffix}"
    link.symlink_to("/proc/self/fd/1")
    redirected = tmp_path / "redirected"
    with open(redirected, "wb") as out:
        inode = os.fstat(out.fileno()).st_ino
        run(writer, world, link, unchanged=[link], stdout=out)
    assert redirected.read_bytes().startswith(writer.magic)
    assert redirected.stat().st_ino == inode


# -- refused: one line, nothing changed ---------------------------------------------------------


def test_a_directory_is_refused(writer: Writer, world: World, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    outcome = run(writer, world, folder, codes=(2,), unchanged=[folder])
    assert f"cannot write {folder}: it is a directory" in outcome.err
    assert list(folder.iterdir()) == [] and leftovers(tmp_path) == []


@pytest.mark.parametrize("via", ["itself", "symlink", "hard link"])
def test_an_input_is_refused(writer: Writer, world: World, tmp_path: Path, via: str) -> None:
    given = writer.input_copy(world, tmp_path)
    target = tmp_path / f"other{given.suffix}"
    if via == "itself":
        target = given
    elif via == "symlink":
        target.symlink_to(given.name)
    else:
        os.link(given, target)
    outcome = run(writer, world, target, codes=(2,), given=given, unchanged=[given, target])
    assert f"it is the input {given}" in outcome.err
    assert leftovers(tmp_path) == []


def test_a_folder_that_cannot_hold_files_is_one_line(writer: Writer, world: World) -> None:
    target = f"/proc/sigc-no-such-file{writer.suffix}"
    outcome = run(writer, world, target, codes=(2,))
    assert f"cannot write {target}: " in outcome.err


NOBODY = 65534


def test_a_file_a_plain_write_may_not_touch_is_left_alone(writer: Writer, world: World, tmp_path: Path) -> None:
    """Another user's read-only file in a folder we may write: replacing it through the folder
    would succeed, but a plain write would be refused, so the write is refused."""
    under = unprivileged()
    tmp_path.chmod(0o777)
    target = tmp_path / f"theirs{writer.suffix}"
    target.write_bytes(b"old\n")
    os.chown(target, NOBODY, NOBODY)
    outcome = run(writer, world, target, codes=(2,), unchanged=[target], under=under)
    assert f"cannot write {target}: {os.strerror(errno.EACCES)}" in outcome.err
    assert leftovers(tmp_path) == []


def test_a_folder_that_refuses_new_files_is_one_line(writer: Writer, world: World, tmp_path: Path) -> None:
    """A writable file in another user's folder: it can only be replaced through a new file
    beside it, which the folder refuses: one line saying so, the file unchanged."""
    under = unprivileged()
    folder = tmp_path / "theirs"
    folder.mkdir()
    target = folder / f"out{writer.suffix}"
    target.write_bytes(b"old\n")
    target.chmod(0o666)
    os.chown(folder, NOBODY, NOBODY)
    outcome = run(writer, world, target, codes=(2,), unchanged=[target], under=under)
    assert f"it is replaced through a new file in {folder}" in outcome.err


def test_a_missing_folder(writer: Writer, world: World, tmp_path: Path) -> None:
    target = tmp_path / "not" / "there" / f"out{writer.suffix}"
    if writer.makes_folders:
        run(writer, world, target)
        assert target.read_bytes().startswith(writer.magic)
    else:
        outcome = run(writer, world, target, codes=(2,))
        assert f"cannot write {target}: {os.strerror(errno.ENOENT)}" in outcome.err
        assert not (tmp_path / "not").exists()


def test_a_failed_write_leaves_the_old_file_as_it_was(writer: Writer, world: World, tmp_path: Path) -> None:
    """The file size limit (RLIMIT_FSIZE) stops the write part way (EFBIG; Python ignores
    SIGXFSZ): the old file must be untouched and no temporary file left."""
    target = tmp_path / f"out{writer.suffix}"
    target.write_bytes(b"old\n")
    outcome = run(writer, world, target, codes=(2,), unchanged=[target],
                  rlimits={resource.RLIMIT_FSIZE: 40})
    assert f"cannot write {target}: " in outcome.err
    assert leftovers(tmp_path) == []


# -- the scan's own cases -------------------------------------------------------------------------


def test_two_scan_options_naming_one_file_are_refused(world: World, tmp_path: Path) -> None:
    target = tmp_path / "scan.out"
    target.write_bytes(b"old\n")
    outcome = run_bounded("sigscan", "scan", "127.0.0.1", "-p", str(world.port), "--bundle", str(world.bundle),
                          "-oN", str(target), "-oX", str(target), timeout=TIMEOUT, codes=(2,),
                          unchanged=[target])
    assert "another -o option writes it already" in outcome.err


def test_the_target_list_is_an_input_of_the_scan(world: World, tmp_path: Path) -> None:
    targets = tmp_path / "targets.txt"
    targets.write_bytes(b"127.0.0.1\n")
    outcome = run_bounded("sigscan", "scan", "-iL", str(targets), "-p", str(world.port),
                          "--bundle", str(world.bundle), "-oN", str(targets), timeout=TIMEOUT,
                          codes=(2,), unchanged=[targets])
    assert f"it is the input {targets}" in outcome.err


def test_build_summary_goes_to_stderr_when_the_bundle_goes_to_stdout(world: World, tmp_path: Path) -> None:
    link = tmp_path / "stdout.json"
    link.symlink_to("/proc/self/fd/1")
    outcome = run_bounded("sigc", "build", str(world.source), "-o", str(link), timeout=TIMEOUT, codes=(0,))
    assert outcome.stdout.startswith(b'{"crc32":"') and outcome.stdout.endswith(b"}")
    assert "sigc build" in outcome.err and FileState.of(link) is not None


# -- stopped by a signal ----------------------------------------------------------------------------


@pytest.mark.parametrize(("signum", "code", "said"), [(signal.SIGTERM, 143, "terminated"),
                                                     (signal.SIGINT, 130, "interrupted")])
def test_a_build_stopped_by_a_signal_leaves_the_old_bundle(
        tmp_path: Path, signum: int, code: int, said: str) -> None:
    """SIGTERM (``timeout``, a service manager) or Ctrl-C (sent to the whole terminal group,
    the analysis' forked helper too) half-way through a build of Nmap's database: one line,
    the old bundle as it was, no temporary file left, no traceback from the helper either."""
    database = Path("/usr/share/nmap/nmap-service-probes")
    if not database.is_file():
        pytest.skip("apt-get install nmap: its database is the input of a build long enough to stop")
    target = tmp_path / "out.db"
    target.write_bytes(b"old\n")
    before = FileState.of(target)
    with subprocess.Popen([sys.executable, "-m", "sigc", "build", str(database), "-o", str(target), "-q"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True) as proc:
        time.sleep(0.8)  # past the imports, in the parse or the analysis (a build takes seconds)
        os.killpg(proc.pid, signum)
        _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == code, err
    assert err.decode() == f"sigc: {said}\n"
    assert FileState.of(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.db"]
