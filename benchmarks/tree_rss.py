"""Run a command and measure its memory as a whole process tree (the command and the processes
it forks): what a memory limit on the command (a container's, a CI job's) sees.

Two figures:

- ``peak_kib``: the largest peak resident set of any one process of the tree, exact, from the
  kernel (``ru_maxrss`` of ``wait4``: Linux carries the largest of the reaped descendants'
  peaks into it). This is what ``/usr/bin/time -v`` prints as "Maximum resident set size".
- ``tree_kib``: the largest sum of the tree's proportional set sizes (``Pss`` of
  ``/proc/PID/smaps_rollup``: a page shared by the parent and its forked child counts half in
  each), sampled every :data:`INTERVAL` seconds, so a short spike between samples can be missed.
  With a forked helper the tree holds more than its largest process.

Usage: python -m benchmarks.tree_rss COMMAND…  (prints one JSON object)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

INTERVAL = 0.02


def measure(command: Sequence[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """Run ``command`` (its output discarded) and return its wall time, exit code and memory."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(command), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    highest = [0]
    done = threading.Event()
    sampler = threading.Thread(target=_sample, args=(proc.pid, highest, done), daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read() if proc.stderr else b""
    if proc.stderr:
        proc.stderr.close()
    if b"Traceback" in err:
        raise RuntimeError(err.decode("utf-8", "replace")[-2000:])
    return {"seconds": round(seconds, 2), "code": proc.returncode,
            "peak_kib": usage.ru_maxrss, "tree_kib": highest[0]}


def _sample(pid: int, highest: list[int], done: threading.Event) -> None:
    while not done.wait(INTERVAL):
        total = sum(_pss(p) for p in _tree(pid))
        highest[0] = max(highest[0], total)


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1:])))
