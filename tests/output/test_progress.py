"""The progress line (a pure function of done, total and elapsed time)."""

from __future__ import annotations

import pytest

from sigscan.output.progress import clock, progress_line


@pytest.mark.parametrize(("done", "total", "elapsed", "expected"), [
    (0, 4000, 0.0, "Progress: 0/4000 ports (0.0%), 0.0 ports/s, elapsed 0:00:00, ETA --:--:--"),
    (1200, 4000, 14.0,
     "Progress: 1200/4000 ports (30.0%), 85.7 ports/s, elapsed 0:00:14, ETA 0:00:33"),
    (4000, 4000, 50.0,
     "Progress: 4000/4000 ports (100.0%), 80.0 ports/s, elapsed 0:00:50, ETA 0:00:00"),
    (5, 10, 7200.0, "Progress: 5/10 ports (50.0%), 0.0 ports/s, elapsed 2:00:00, ETA 2:00:00"),
    (0, 0, 1.0, "Progress: 0/0 ports (100.0%), 0.0 ports/s, elapsed 0:00:01, ETA 0:00:00"),
])
def test_progress_line(done: int, total: int, elapsed: float, expected: str) -> None:
    assert progress_line(done, total, elapsed) == expected


def test_clock() -> None:
    assert [clock(s) for s in (0, 59.4, 59.6, 3600, 360000)] == [
        "0:00:00", "0:00:59", "0:01:00", "1:00:00", "100:00:00"]
