"""What ``sigscan scan`` says while it runs: the progress line, status reports, the trace.

- :class:`Console` is standard error: whole lines (the version trace, ``-v`` messages) and,
  while it is a terminal, the progress line kept below them and redrawn in place. A standard
  error that fails (its reader went away) is dropped without a word, as Nmap, which ignores
  SIGPIPE, goes on.
- :class:`Live` redraws the progress line on a timer (every :data:`PROGRESS_EVERY` seconds, as
  ports end if it is older, and when the scan ends), and makes the status reports of ``--stats-every`` (on a timer from
  the scan's start, as Nmap schedules them) and of a keypress; the reports go to the outputs
  (:meth:`Outputs.status`: Nmap's two lines on the screen, ``<taskprogress>`` in the XML).
- :class:`Keys` puts a terminal standard input in cbreak mode (no line editing, no echo) while
  the scan runs, so that a key (Enter, space, any) asks for a status report at once, and puts
  the terminal back as it was on every way out (the scan's end, Ctrl-C, SIGTERM, an error). It
  does nothing when standard input is not a terminal, or is one this process does not own (a
  scan in the background, which touching the terminal would stop).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import os
import sys
import termios
import time
from collections.abc import Callable
from types import TracebackType
from typing import IO, Any, Protocol

from sigscan.output.progress import Status, progress_line, status
from sigscan.scanning.progress import ScanProgress

PROGRESS_EVERY = 0.5  # seconds between redraws of the progress line
MIN_STATS_EVERY = 0.1  # seconds: --stats-every below this reports at this pace (ten a second)


class Outputs(Protocol):
    """Where status reports go (``sigscan.cli.scan._Outputs``, which clears the progress line
    before it writes)."""

    def status(self, report: Status) -> None: ...


class Console:
    """Standard error: lines, and below them the progress line while it is a terminal."""

    def __init__(self, stream: IO[str] | None = None, *, live: bool | None = None) -> None:
        chosen = stream or sys.stderr  # None when the process started with stderr closed
        self.stream: IO[str] = chosen or io.StringIO()
        self.gone = chosen is None
        self.live = not self.gone and (_is_terminal(self.stream) if live is None else live)
        self.shown = False

    def line(self, text: str) -> None:
        """One whole line (the progress line, if shown, is cleared first)."""
        self.clear()
        self._write(text + "\n")

    def progress(self, text: str) -> None:
        """Draw the progress line in place of the last one (only on a terminal)."""
        if self.live:
            self._write("\r" + text + "\x1b[K")
            self.shown = not self.gone

    def clear(self) -> None:
        if self.shown:
            self.shown = False
            self._write("\r\x1b[K")

    def _write(self, text: str) -> None:
        if self.gone:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # its reader went away (EPIPE), or it was closed
            self.gone = True


class Live:
    """The progress line and status reports of one scan (see the module). ``progress`` gives
    the scan's state on the loop's clock; ``every`` is ``--stats-every`` in seconds (None or 0:
    no timed reports)."""

    def __init__(self, progress: Callable[[float | None], ScanProgress], console: Console,
                 outputs: Outputs, every: float | None = None) -> None:
        self.progress, self.console, self.outputs = progress, console, outputs
        self.every = max(every, MIN_STATS_EVERY) if every else None
        self.drawn = -math.inf

    @property
    def needed(self) -> bool:
        """Whether a timer has anything to do."""
        return self.console.live or self.every is not None

    async def run(self) -> None:
        """The timer: redraws and timed reports until cancelled."""
        loop = asyncio.get_running_loop()
        report_at = loop.time() + self.every if self.every is not None else math.inf
        while True:
            now = loop.time()
            self.redraw(now)
            if now >= report_at and self.every is not None:
                report_at += self.every
                if report_at <= now:  # late (a loaded machine): catch up, as Nmap does
                    report_at = now + MIN_STATS_EVERY
                self.report(now)
            wake = min(now + PROGRESS_EVERY if self.console.live else math.inf, report_at)
            await asyncio.sleep(max(wake - loop.time(), 0.0))

    def redraw(self, now: float | None = None) -> None:
        if self.console.live:
            self.drawn = time.monotonic()
            self.console.progress(progress_line(self.progress(now)))

    def port_done(self) -> None:
        """A port ended: redraw if the line is older than :data:`PROGRESS_EVERY` (the scan's
        end redraws it too, see :meth:`ended`), so a burst of ports costs no more than the
        timer."""
        if self.console.live and time.monotonic() - self.drawn >= PROGRESS_EVERY:
            self.redraw()

    def ended(self) -> None:
        """The scan ended: the line says its last state (until the outputs' last words clear it)."""
        self.redraw()

    def report(self, now: float | None = None) -> None:
        """A status report now (a keypress, or the ``--stats-every`` timer)."""
        self.outputs.status(status(self.progress(now), time.time()))


class Keys:
    """Standard input in cbreak mode while the scan runs, each key a status report (see the
    module). Use it as a context manager around the event loop; :meth:`listen` (in the loop)
    starts reading."""

    def __init__(self, enabled: bool = True, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdin
        self.enabled = enabled
        self.fd: int | None = None
        self.saved: list[Any] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def __enter__(self) -> Keys:
        if not self.enabled or not _own_terminal(self.stream):
            return self
        fd = self.stream.fileno()
        try:
            saved = termios.tcgetattr(fd)
            changed = termios.tcgetattr(fd)
            changed[3] &= ~(termios.ICANON | termios.ECHO)  # lflag
            changed[6][termios.VMIN], changed[6][termios.VTIME] = 1, 0
            termios.tcsetattr(fd, termios.TCSANOW, changed)
        except (OSError, termios.error):
            return self
        self.fd, self.saved = fd, saved
        return self

    def listen(self, on_key: Callable[[], None]) -> None:
        """Read keys in the running loop: ``on_key`` once per read (keys typed together, or
        held down, make one report, as Nmap flushes its input after each)."""
        if self.fd is None:
            return
        fd = self.fd
        self.loop = asyncio.get_running_loop()

        def readable() -> None:
            try:
                keys = os.read(fd, 1024)
            except OSError:
                keys = b""
            if keys:
                on_key()
            else:  # the terminal went away
                self.stop()

        self.loop.add_reader(fd, readable)

    def stop(self) -> None:
        """Stop reading (the loop is still running)."""
        if self.loop is not None and self.fd is not None:
            self.loop.remove_reader(self.fd)
        self.loop = None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self.fd is not None and self.saved is not None:
            with contextlib.suppress(OSError, termios.error):  # a terminal gone needs nothing back
                termios.tcsetattr(self.fd, termios.TCSANOW, self.saved)
        self.fd = self.saved = None


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError):  # closed
        return False


def _own_terminal(stream: IO[str]) -> bool:
    """Is ``stream`` a terminal whose foreground is this process's group?"""
    try:
        fd = stream.fileno()
        return os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp()
    except (OSError, ValueError, AttributeError):
        return False
