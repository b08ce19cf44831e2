"""Pure work over many items on two cores: a forked child does the second part while this
process does the first. Used by the pattern analysis (:mod:`sigc.analyze`)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import TypeVar

K = TypeVar("K")
R = TypeVar("R")


def can_fork() -> bool:
    """Fork only where it is cheap and safe: POSIX, two CPUs or more, no other thread running
    (a thread holding a lock at fork time would leave the child stuck)."""
    return (sys.platform != "win32" and (os.cpu_count() or 1) >= 2
            and threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods())


def in_two(work: Callable[[Sequence[K]], list[R]], items: Sequence[K], at: int,
           meanwhile: Callable[[], object] | None = None) -> list[R]:
    """``work(items)``, with ``items[at:]`` done by a forked child (its results pickled back).
    ``work`` must be pure: the results are the same, in the same order, as one call. If the child
    dies (killed, out of memory), its part is done here. ``meanwhile`` runs here once this
    process's part is done, before the child's results are read: work the caller would do later
    anyway, in the time it would spend waiting."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_send, args=(work, items[at:], sender), daemon=True)
    child.start()
    sender.close()
    try:
        first = work(items[:at])
        if meanwhile is not None:
            meanwhile()
        second: list[R] = receiver.recv()
    except EOFError:
        second = work(items[at:])
    except BaseException:  # Ctrl-C, SIGTERM: the child's part is not wanted any more
        child.terminate()
        raise
    finally:
        receiver.close()
        child.join()
    return first + second


def _send(work: Callable[[Sequence[K]], list[R]], items: Sequence[K], sender: Connection) -> None:
    # The parent decides when to stop: Ctrl-C (sent to the whole terminal group) is its to
    # handle, and its SIGTERM (terminate) ends the child at once, without a handler of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sender.send(work(items))
    sender.close()
