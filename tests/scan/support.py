"""Helpers of the scan tests."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

from sigscan.engine.events import Event


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class Recorder:
    """An event sink that keeps what it gets and lets a test wait for a condition on it."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = asyncio.Event()

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self._changed.set()

    async def until(self, done: Callable[[list[Event]], bool], timeout: float = 5.0) -> list[Event]:
        async with asyncio.timeout(timeout):
            while not done(self.events):
                self._changed.clear()
                await self._changed.wait()
        return self.events

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.events]
