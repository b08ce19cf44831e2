"""The progress line the driver prints on stderr when it is a terminal (a pure function)::

    Progress: 1200/4000 ports (30.0%), 85.3 ports/s, elapsed 0:00:14, ETA 0:00:33
"""

from __future__ import annotations


def clock(seconds: float) -> str:
    """``H:MM:SS`` (hours grow past 99 if they must)."""
    whole = max(int(seconds + 0.5), 0)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def progress_line(done: int, total: int, elapsed: float, *, unit: str = "ports") -> str:
    """Ports done out of ``total`` after ``elapsed`` seconds, the rate so far and the time
    left at that rate (``--:--:--`` until there is a rate to go by)."""
    done = max(0, min(done, total))
    percent = 100.0 * done / total if total else 100.0
    rate = done / elapsed if elapsed > 0 else 0.0
    if done >= total:
        eta = clock(0)
    elif rate > 0:
        eta = clock((total - done) / rate)
    else:
        eta = "--:--:--"
    return (f"Progress: {done}/{total} {unit} ({percent:.1f}%), {rate:.1f} {unit}/s, "
            f"elapsed {clock(elapsed)}, ETA {eta}")
