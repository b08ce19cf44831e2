"""The pace of the port scan's connects: Nmap's ``--scan-delay`` (set by ``-T0``-``-T2``),
``--max-rate`` and ``--min-rate``.

A :class:`Pacer` hands out start times at least :attr:`Pacer.interval` apart, in the order they
are asked for: each caller takes the next free time and sleeps until it comes. The interval is
the scan delay, raised to ``1 / max_rate`` and cut to ``1 / min_rate`` (Nmap sends at the
minimum rate even when its scan delay would wait longer). Asking costs the same whatever the
number of waiters, and a waiter holds nothing but its sleep, so a slow pace costs time, never
memory. A caller cancelled while it waits gives up its time; the pace after it is unchanged.

Nmap applies these to its port scan only: service detection is not paced (service_scan.cc
reads none of them), and sigscan's detection is not either.
"""

from __future__ import annotations

import asyncio


class Pacer:
    """Start times for the connects of one scan (see the module's docstring)."""

    def __init__(self, *, scan_delay: float = 0.0, min_rate: float | None = None,
                 max_rate: float | None = None) -> None:
        if scan_delay < 0:
            raise ValueError(f"scan delay must not be negative, not {scan_delay}")
        for name, value in (("min_rate", min_rate), ("max_rate", max_rate)):
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be positive, not {value}")
        if min_rate is not None and max_rate is not None and min_rate > max_rate:
            raise ValueError(f"min_rate {min_rate:g} is above max_rate {max_rate:g}")
        interval = scan_delay
        if max_rate is not None:
            interval = max(interval, 1.0 / max_rate)
        if min_rate is not None:
            interval = min(interval, 1.0 / min_rate)
        self.interval = interval
        self._next: float | None = None

    @property
    def paced(self) -> bool:
        """Whether connects wait for their turn at all."""
        return self.interval > 0

    def reserve(self, now: float) -> float:
        """The next start time at or after ``now`` (taken: the one after is an interval later)."""
        start = now if self._next is None else max(now, self._next)
        self._next = start + self.interval
        return start

    async def turn(self) -> None:
        """Wait for this caller's start time."""
        if not self.paced:
            return
        now = asyncio.get_running_loop().time()
        start = self.reserve(now)
        if start > now:
            await asyncio.sleep(start - now)
