"""One probe on one connection: connect, send, read until a hard match, the wait, EOF or error.

A run only records what happened (the verdicts it saw, how it ended, the bytes it holds); the
:class:`~sigscan.engine.port.PortEngine` decides what that means for the port. Reading follows
Nmap's ``servicescan_read_handler``: every arrival is appended to the buffer and the whole buffer
is matched against the probe's fallback chain; a hard match ends the run; otherwise it goes on
while time remains and the buffer holds under :data:`READ_CAP` bytes. A softmatch does not end it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from sigscan.bundle.records import ProbeRecord
from sigscan.matcher.verdict import Verdict

READ_CAP = 4096  # Nmap stops reading once the buffer holds this many bytes


class End(enum.Enum):
    HARD = "hard match"
    TIMEOUT = "timeout"  # the wait ran out with nothing more (a Timer)
    FULL = "full"  # bytes arrived with no time left, or READ_CAP reached
    EOF = "eof"
    RESET = "reset"  # a read error, see ``error``
    CONNECT_FAILED = "connect failed"  # connect, handshake or connect timeout, see ``error``


@dataclass(slots=True)
class ProbeRun:
    """``conn`` is the connection; ``wait`` the probe's time in seconds from its start (the
    connection's completion, or the send on a reused connection); ``buffer`` may start with bytes
    kept from the NULL probe, which are matched only when new bytes arrive. ``held`` is the
    engine's: trace lines of a parallel run (the fast profile) not said yet."""

    probe: ProbeRecord
    conn: int
    wait: float
    tls: bool = False
    connect_deadline: float | None = None
    started: float | None = None
    buffer: bytearray = field(default_factory=bytearray)
    verdicts: list[Verdict] = field(default_factory=list)
    received: bool = False
    end: End | None = None
    error: str | None = None
    ended_at: float | None = None
    diagnostics: list[str] = field(default_factory=list)
    held: list[str] | None = None  # trace lines kept back until the run's outcome is used

    @property
    def deadline(self) -> float | None:
        """When the engine must hear from this run next (None once it ended)."""
        if self.end is not None:
            return None
        if self.started is None:
            return self.connect_deadline
        return self.started + self.wait

    @property
    def hard(self) -> Verdict | None:
        return self.verdicts[-1] if self.end is End.HARD else None

    def start(self, now: float) -> bytes:
        """The connection is ready (or reused): the probe clock starts; returns what to send."""
        self.started = now
        return self.probe.payload

    def data(self, now: float, chunk: bytes, identify: Callable[[bytes], Verdict]) -> None:
        self.received = True
        self.buffer += chunk
        verdict = identify(bytes(self.buffer))
        self.diagnostics.extend(d for d in verdict.diagnostics if d not in self.diagnostics)
        if verdict.matched:
            if not self.verdicts or self.verdicts[-1] != verdict:
                self.verdicts.append(verdict)
            if not verdict.soft:
                self._finish(End.HARD, now)
                return
        deadline = self.deadline
        if (deadline is not None and now >= deadline) or len(self.buffer) >= READ_CAP:
            self._finish(End.FULL, now)

    def timer(self, now: float) -> None:
        deadline = self.deadline
        if deadline is None or now < deadline:
            return
        if self.started is None:
            self.fail(now, End.CONNECT_FAILED, "ETIMEDOUT")
        else:
            self._finish(End.TIMEOUT, now)

    def fail(self, now: float, end: End, error: str | None = None) -> None:
        self.error = error
        self._finish(end, now)

    def elapsed(self) -> float:
        """Time from the probe's start to its end."""
        if self.started is None or self.ended_at is None:
            return 0.0
        return self.ended_at - self.started

    def _finish(self, end: End, now: float) -> None:
        if self.end is None:
            self.end, self.ended_at = end, now
