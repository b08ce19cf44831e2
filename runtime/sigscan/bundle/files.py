"""How sigc and sigscan write their output files and read their inputs: one set of rules for every
file (bundles, ``sigc dump -o``, ``sigscan scan -oN/-oX/-oJ``), described in docs/outputs.md.

Writing to a path (:func:`open_output`, :func:`staged`):

- a new path or a regular file is replaced atomically: the bytes go to a temporary file beside
  it (``NAME.XXXXXXXX.tmp``), which is flushed to disk and renamed over it once complete, so a
  failed write leaves the old file as it was. The new file gets the mode ``open(path, "w")``
  would give: the old file's mode (and owner, where the process may set it), or 0o666 less the
  umask for a new path;
- a symbolic link is written through: these rules apply to the file it leads to (a dangling
  link makes its target);
- a device, a FIFO or a socket is written to in place, as a stream (a FIFO's ``open`` waits
  for a reader, as ``open(path, "w")`` does); so is a path that leads through a link of /proc
  (``/dev/stdout``, ``/dev/fd/N``, ``/proc/PID/fd/N``), which names an open file, not a path;
- a directory is refused, and so is a regular file that is one of the command's inputs (the
  same file, by device and inode, whatever name reaches it).

Every failure is an :class:`OutputError`: one line naming the path. Standard output is an
:class:`Output` too (:func:`stdout_output`), so a full disk or a reader that went away is told
the same way.

Reading (:func:`read_bounded`, :func:`bounded_lines`): never more than a given number of bytes
at once, whatever the file is (a FIFO, ``/dev/zero``).

This module uses the standard library only, so it can move with either half of the project.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import Enum
from typing import IO

StrPath = str | os.PathLike[str]

INPUT_LIMIT = 64 * 1024 * 1024  # bytes; Nmap's nmap-service-probes is 2.5 MB
MAX_LINKS = 40  # symbolic links followed before giving up, as the kernel's ELOOP bound
COPY_CHUNK = 1024 * 1024


class OutputError(Exception):
    """An output that cannot be written; ``str()`` is one line naming it. ``closed``: its reader
    went away (EPIPE), which a command takes as "stop writing here" rather than a failure."""

    def __init__(self, name: str, reason: str, *, closed: bool = False) -> None:
        super().__init__(f"cannot write {name}: {reason}")
        self.name = name
        self.closed = closed

    @classmethod
    def of(cls, name: str, exc: OSError) -> OutputError:
        return cls(name, exc.strerror or str(exc), closed=isinstance(exc, BrokenPipeError))


class Kind(Enum):
    """How a path is written."""

    NEW = "new"  # nothing there yet: made by the atomic rename
    REGULAR = "regular"  # a regular file: replaced atomically
    STREAM = "stream"  # a device, FIFO, socket or open file: written in place


@dataclass(frozen=True, slots=True)
class Target:
    """Where writing ``name`` goes: ``path`` is the file itself, links resolved, for NEW and
    REGULAR (the temporary file goes beside it); ``name`` itself for STREAM."""

    name: str
    path: str
    kind: Kind


def target(name: StrPath, *, inputs: Iterable[StrPath] = ()) -> Target:
    """What writing ``name`` means under the module's rules, checked without writing anything;
    :class:`OutputError` when the rules refuse it."""
    shown = os.fspath(name)
    if not shown:
        raise OutputError("''", "an empty name names no file")
    try:
        st = os.stat(shown)
    except FileNotFoundError:
        return Target(shown, os.path.realpath(shown), Kind.NEW)
    except OSError as exc:
        raise OutputError.of(shown, exc) from None
    if stat.S_ISDIR(st.st_mode):
        raise OutputError(shown, "it is a directory; name a file")
    if not stat.S_ISREG(st.st_mode) or _through_proc(shown):
        return Target(shown, shown, Kind.STREAM)
    for source in inputs:
        if _same_file(st, source):
            raise OutputError(shown, f"it is the input {os.fspath(source)}; write the output elsewhere")
    if not os.access(shown, os.W_OK):  # a write in place would be refused: so is the rename
        raise OutputError(shown, os.strerror(errno.EACCES))
    return Target(shown, os.path.realpath(shown), Kind.REGULAR)


def is_stdout(name: StrPath) -> bool:
    """Whether ``name`` is the file standard output is (``/dev/stdout``, or the file it was
    redirected to)."""
    try:
        return os.path.samestat(os.stat(name), os.fstat(sys.stdout.fileno()))
    except (OSError, ValueError, AttributeError):  # no file descriptor (captured, or closed)
        return False


def _same_file(st: os.stat_result, other: StrPath) -> bool:
    try:
        return os.path.samestat(st, os.stat(other))
    except OSError:
        return False


def _through_proc(name: str) -> bool:
    """Whether following ``name``'s symbolic links passes a link that lives in /proc
    (``/dev/stdout`` -> ``/proc/self/fd/1``): such a link names an open file, whose path may
    be gone or shared with the shell that opened it."""
    path = os.path.abspath(name)
    for _ in range(MAX_LINKS):
        try:
            link = os.readlink(path)
        except OSError:  # not a link: the end of the chain
            return False
        folder = os.path.realpath(os.path.dirname(path))
        if folder == "/proc" or folder.startswith("/proc/"):
            return True
        path = os.path.join(folder, link)
    return False


class Output:
    """An output being written: :meth:`write`, :meth:`flush`, then :meth:`commit` to put it in
    place (a no-op beyond flushing for a stream) or :meth:`discard` to leave the old file as it
    was. As a context manager it commits on success and discards on an exception. Every error is
    an :class:`OutputError`."""

    def __init__(self, name: str, file: IO[bytes], *, temp: str | None = None,
                 dest: str | None = None, owned: bool = True) -> None:
        self.name = name
        self.file = file
        self.temp = temp  # the temporary file renamed to ``dest`` by commit
        self.dest = dest
        self.owned = owned  # closed here (stdout is not)
        self.done = False
        self.error: OutputError | None = None  # the failure that ended it: told again on use

    def __enter__(self) -> Output:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()

    def write(self, data: bytes) -> None:
        if self.error is not None:
            raise self.error
        try:
            self.file.write(data)
        except OSError as exc:
            raise self._failed(exc) from None

    def writelines(self, lines: Iterable[bytes]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if self.error is not None:
            raise self.error
        try:
            self.file.flush()
        except OSError as exc:
            raise self._failed(exc) from None

    def commit(self) -> None:
        """Flush, and for a file: sync it to disk, then rename it into place."""
        if self.done:
            return
        self.flush()
        try:
            if self.temp is not None:
                os.fsync(self.file.fileno())  # the rename must not land before the bytes it names
            self._finish()
            if self.temp is not None:
                os.replace(self.temp, self.dest or self.name)
        except OSError as exc:
            raise self._failed(exc) from None
        self.temp = None

    def discard(self) -> None:
        """Close without putting anything in place (the temporary file is removed)."""
        self._finish(quietly=True)
        self._remove_temp()

    def _failed(self, exc: OSError) -> OutputError:
        if not self.owned and self.file is getattr(sys.stdout, "buffer", None):
            silence_stdout()
        self.discard()
        self.error = OutputError.of(self.name, exc)
        return self.error

    def _finish(self, *, quietly: bool = False) -> None:
        self.done = True
        if not self.owned:
            return
        try:
            self.file.close()
        except OSError:
            if not quietly:
                raise

    def _remove_temp(self) -> None:
        if self.temp is not None:
            with suppress(FileNotFoundError):
                os.unlink(self.temp)
            self.temp = None


class TextOutput:
    """An :class:`Output` as a text stream (what the scan's writers write to)."""

    def __init__(self, output: Output, encoding: str = "utf-8") -> None:
        self.output = output
        self.encoding = encoding

    def write(self, text: str, /) -> int:
        self.output.write(text.encode(self.encoding, "replace"))
        return len(text)

    def flush(self) -> None:
        self.output.flush()


def open_output(name: StrPath, *, inputs: Iterable[StrPath] = (), parents: bool = False,
                append: bool = False) -> Output:
    """Open ``name`` for writing under the module's rules. ``parents``: make missing folders
    (the folder of a link's target, for a link). ``append``: what is written goes after the
    file's old bytes (Nmap's ``--append-output``); the replacement is atomic all the same: the
    old bytes are copied into the temporary file first, so a failed write leaves the file as
    it was."""
    where = target(name, inputs=inputs)
    if where.kind is Kind.STREAM:
        try:
            return Output(where.name, open(where.path, "ab" if append else "wb"))  # closed by commit
        except OSError as exc:
            raise OutputError.of(where.name, exc) from None
    fd, temp = _temporary(where, parents)
    output = Output(where.name, os.fdopen(fd, "wb"), temp=temp, dest=where.path)
    if append and where.kind is Kind.REGULAR:
        try:
            with open_input(where.path) as old:
                for chunk in iter(lambda: old.read(COPY_CHUNK), b""):
                    output.write(chunk)
        except OSError as exc:
            output.discard()
            raise OutputError.of(where.name, exc) from None
    return output


def stdout_output() -> Output:
    """Standard output as an :class:`Output` (flushed, never closed here). After an error on it,
    standard output is pointed at /dev/null, so the interpreter's last flush is quiet."""
    try:
        sys.stdout.flush()  # what print() left in the text layer goes first
    except OSError as exc:
        silence_stdout()
        raise OutputError.of("standard output", exc) from None
    return Output("standard output", sys.stdout.buffer, owned=False)


@contextmanager
def staged(name: StrPath, *, inputs: Iterable[StrPath] = (), parents: bool = False) -> Iterator[str]:
    """An empty file to fill by its path (for writers that need one, like SQLite), put in place
    under the module's rules when the block ends without an exception. For a stream, the file is
    made in the temporary folder and its bytes are streamed in at the end."""
    where = target(name, inputs=inputs)
    if where.kind is not Kind.STREAM:
        fd, temp = _temporary(where, parents)
        with Output(where.name, os.fdopen(fd, "wb"), temp=temp, dest=where.path):
            yield temp
        return
    fd, temp = tempfile.mkstemp(suffix=".tmp")
    os.close(fd)
    try:
        yield temp
        with open(temp, "rb") as source, open_output(where.name) as output:
            for chunk in iter(lambda: source.read(COPY_CHUNK), b""):
                output.write(chunk)
    finally:
        os.unlink(temp)


def _temporary(where: Target, parents: bool) -> tuple[int, str]:
    """A new file beside ``where.path`` with the mode (and owner) the output must end with."""
    folder, base = os.path.split(where.path)
    try:
        if parents:
            os.makedirs(folder, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=base + ".", suffix=".tmp", dir=folder)
    except OSError as exc:
        if where.kind is Kind.REGULAR:  # the file may be writable, its folder is what refused
            reason = f"{exc.strerror or exc} (it is replaced through a new file in {folder or '.'})"
            raise OutputError(where.name, reason) from None
        raise OutputError.of(where.name, exc) from None
    try:
        _take_mode(fd, where.path)
    except OSError as exc:
        os.close(fd)
        os.unlink(temp)
        raise OutputError.of(where.name, exc) from None
    return fd, temp


def _take_mode(fd: int, path: str) -> None:
    """Give the file ``fd`` what ``open(path, "w")`` would leave: the existing file's owner (when
    allowed) and mode, or 0o666 less the umask."""
    try:
        old = os.stat(path)
    except FileNotFoundError:
        os.fchmod(fd, 0o666 & ~_umask())
        return
    new = os.fstat(fd)
    if (old.st_uid, old.st_gid) != (new.st_uid, new.st_gid):
        with suppress(PermissionError):  # not ours to give away: the replacement is the writer's
            os.fchown(fd, old.st_uid, old.st_gid)
    os.fchmod(fd, stat.S_IMODE(old.st_mode))  # after the chown, which may clear set-id bits


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it; the commands write from one thread
    os.umask(mask)
    return mask


def silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null: what is still buffered for it goes nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


# -- reading ------------------------------------------------------------------------------------


def too_large(limit: int) -> OSError:
    return OSError(errno.EFBIG, f"larger than {_size(limit)}, the most an input may hold")


def open_input(path: StrPath) -> IO[bytes]:
    """``path`` opened for reading as every input is: the open never waits (a FIFO that no
    writer holds open then reads as empty, instead of waiting for one); reads block as usual."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    os.set_blocking(fd, True)
    return open(fd, "rb")


def read_bounded(path: StrPath, limit: int = INPUT_LIMIT) -> bytes:
    """The bytes of ``path`` (opened by :func:`open_input`), at most ``limit`` of them; past that
    an ``OSError`` (EFBIG) whose ``strerror`` says so. A FIFO or a device is read the same way,
    never beyond ``limit + 1``."""
    with open_input(path) as f:
        st = os.fstat(f.fileno())
        if stat.S_ISREG(st.st_mode) and st.st_size > limit:
            raise too_large(limit)
        return read_stream(f, limit)


def read_stream(stream: IO[bytes], limit: int = INPUT_LIMIT) -> bytes:
    """What is left of ``stream``, at most ``limit`` bytes (else as :func:`read_bounded`)."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise too_large(limit)
    return data


def bounded_lines(stream: IO[bytes], limit: int, skip_limit: int = INPUT_LIMIT) -> Iterator[bytes | None]:
    """The lines of ``stream`` (with their newline), each held in at most ``limit + 1`` bytes: a
    longer line is given as None once read through to its end. A line that has not ended after
    ``skip_limit`` bytes ends the reading with an ``OSError`` (EFBIG), as an input that never
    ends (``/dev/zero``) would otherwise be read for ever."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) <= limit or line.endswith(b"\n"):
            yield line
            continue
        skipped = len(line)
        while line and not line.endswith(b"\n"):
            line = stream.readline(limit)
            skipped += len(line)
            if skipped > skip_limit:
                raise too_large(skip_limit)
        yield None


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 and not limit % (1 << 20) else f"{limit:,} bytes"


__all__ = [
    "INPUT_LIMIT",
    "Kind",
    "Output",
    "OutputError",
    "Target",
    "TextOutput",
    "bounded_lines",
    "is_stdout",
    "open_output",
    "read_bounded",
    "read_stream",
    "silence_stdout",
    "staged",
    "stdout_output",
    "target",
    "too_large",
]
