"""How many sockets this process may still open: ``RLIMIT_NOFILE`` less what is open now.

A scan sizes its parallelism to this room (:func:`sigscan.scanning.scanner.fit_parallelism`) so that it never
asks for more sockets than the limit allows; a socket that still cannot be had (another part of
the process, or the whole system, is short) is waited for (:data:`sigscan.net.transport.SHORTAGE`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

RESERVE = 8  # descriptors left for what opens during a scan: modules imported late, a TLS context


@dataclass(frozen=True, slots=True)
class Room:
    """``limit``: the soft ``RLIMIT_NOFILE`` (None: no limit, or no way to read it); ``used``:
    descriptors open now; ``free``: sockets the scan may hold (None: unbounded)."""

    limit: int | None
    used: int

    @property
    def free(self) -> int | None:
        return None if self.limit is None else self.limit - self.used - RESERVE


def room() -> Room:
    """The descriptor room of this process, now."""
    try:
        import resource
    except ImportError:  # not a Unix: no limit to read
        return Room(None, 0)
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return Room(None, open_descriptors(4096))
    return Room(soft, open_descriptors(soft))


def open_descriptors(limit: int) -> int:
    """How many descriptors are open (``/proc/self/fd``, else by trying each below ``limit``)."""
    try:
        return len(os.listdir("/proc/self/fd")) - 1  # less the one listdir itself held
    except OSError:
        return sum(1 for fd in range(min(limit, 65536)) if _is_open(fd))


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True
