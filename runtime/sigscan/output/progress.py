"""What a running scan says about its progress (pure functions of a
:class:`~sigscan.scanning.progress.ScanProgress`).

The progress line, redrawn on stderr while it is a terminal::

    Progress: 1200/4000 ports (30.0%), 3 open, 85.3 ports/s, elapsed 0:00:14, ETA 0:00:33

The status report Nmap prints on a keypress and every ``--stats-every`` (its
``printStatusMessage`` and ``ScanProgressMeter::printStats``), :func:`status_lines`::

    Stats: 0:00:07 elapsed; 0 hosts completed (1 up), 1 undergoing Service Scan
    Service scan Timing: About 50.00% done; ETC: 12:34 (0:00:06 remaining)

and its XML twin, ``<taskprogress task="Service scan" time="…" percent="50.00" remaining="7"
etc="…"/>`` (:func:`sigscan.output.xml.taskprogress_element`). Nmap's arithmetic is kept: the
time left is the estimate plus 0.5 s; the ETC is the whole seconds of that after now; the text
gives the time left in whole seconds cut down, the XML rounded. Below 1% done Nmap has no
estimate and says only ``About 0.50% done``; sigscan says the same when it has no estimate
(:meth:`~sigscan.scanning.progress.ScanProgress.remaining` is None) and gives its ETC
otherwise, since it counts pending waits rather than extrapolating the percentage. The
percentage is of the whole scan's ports: sigscan runs the connect scan and detection as one
task, where Nmap reports each phase on its own.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from sigscan.scanning.progress import CONNECT_SCAN, ScanProgress

_SCANTYPE = {CONNECT_SCAN: "Connect Scan"}  # Nmap's scantype2str, for the Stats line


def clock(seconds: float) -> str:
    """``H:MM:SS`` (hours grow past 99 if they must)."""
    whole = max(int(seconds + 0.5), 0)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def progress_line(progress: ScanProgress) -> str:
    """Ports done out of the total, open ports found, the rate so far, the time elapsed and
    the time left (:meth:`~sigscan.scanning.progress.ScanProgress.remaining`; ``--:--:--``
    while there is nothing to go by)."""
    left = progress.remaining()
    eta = "--:--:--" if left is None else clock(left)
    done = min(progress.done, progress.total)
    return (f"Progress: {done}/{progress.total} ports ({progress.percent:.1f}%), "
            f"{progress.open} open, {progress.rate:.1f} ports/s, "
            f"elapsed {clock(progress.elapsed)}, ETA {eta}")


@dataclass(frozen=True, slots=True)
class Status:
    """One status report. ``time``: the Unix time it is made at; ``left``: seconds left with
    Nmap's 0.5 added (None: no estimate); ``task``: the progress meter's name (``Service scan``,
    ``Connect Scan``)."""

    time: float
    elapsed: float
    hosts_done: int
    hosts_up: int
    hosts_busy: int
    task: str
    percent: float
    left: float | None

    @property
    def etc(self) -> int | None:
        """The Unix time the task should end, as Nmap's ``last_est``."""
        return None if self.left is None else int(self.time) + int(self.left)


def status(progress: ScanProgress, now: float) -> Status:
    """The report of ``progress`` made at Unix time ``now``."""
    left = progress.remaining()
    return Status(time=now, elapsed=progress.elapsed, hosts_done=progress.hosts_done,
                  hosts_up=progress.hosts_started,
                  hosts_busy=progress.hosts_started - progress.hosts_done, task=progress.task,
                  percent=progress.percent, left=None if left is None else left + 0.5)


def status_lines(report: Status) -> str:
    """Nmap's ``Stats:`` and ``… Timing:`` lines, each ending in a line break."""
    whole = int(report.elapsed)
    stats = (f"Stats: {whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d} elapsed; "
             f"{report.hosts_done} hosts completed ({report.hosts_up} up), {report.hosts_busy} "
             f"undergoing {_SCANTYPE.get(report.task, 'Service Scan')}\n")
    timing = f"{report.task} Timing: About {report.percent:.2f}% done"
    if report.left is not None and report.etc is not None:
        when = datetime.datetime.fromtimestamp(report.etc).astimezone()
        left = report.left
        timing += (f"; ETC: {when:%H:%M} ({math.floor(left / 3600):.0f}:"
                   f"{math.floor(math.fmod(left / 60, 60)):02.0f}:{math.floor(math.fmod(left, 60)):02.0f} remaining)")
    return stats + timing + "\n"
