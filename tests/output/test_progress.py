"""Progress: the estimate (:class:`sigscan.scanning.progress.ScanProgress`), the progress line
and Nmap's status report, text and ``<taskprogress>`` (pure functions of a snapshot).

The report's shape is compared with the real Nmap's in tests/scan/test_trace_vs_nmap.py; here
its arithmetic, which is Nmap's (timing.cc): the time left is the estimate plus 0.5 s, the ETC
that many whole seconds after now, the text's time left cut down, the XML's rounded."""

from __future__ import annotations

import datetime

import pytest

from sigscan.net.driver import PortWait
from sigscan.output.progress import Status, clock, progress_line, status, status_lines
from sigscan.output.xml import taskprogress_element
from sigscan.scanning.progress import ScanProgress


def test_clock() -> None:
    assert [clock(s) for s in (0, 59.4, 59.6, 3600, 360000)] == [
        "0:00:00", "0:00:59", "0:01:00", "1:00:00", "100:00:00"]


# -- the estimate ---------------------------------------------------------------------------------


def test_nothing_to_go_by_yet() -> None:
    assert ScanProgress(total=10, tcp_left=10).remaining() is None
    assert ScanProgress(total=10, done=10).remaining() == 0.0
    assert ScanProgress(total=0).remaining() == 0.0


def test_the_connect_scan_alone_goes_by_its_rate() -> None:
    """100 ports answered in 10 s, none open: 100 more take 10 s."""
    snap = ScanProgress(elapsed=10.0, total=200, done=100, tcp_left=100, tcp_seen=100)
    assert snap.remaining() == pytest.approx(10.0)
    assert snap.task == "Connect Scan"


def test_pending_waits_count_where_the_rate_would_not() -> None:
    """A banner port done in 0.1 s, a silent one with 5.9 s of its NULL wait to go: the rate
    says 0.1 s more, the pending wait says 5.9."""
    snap = ScanProgress(elapsed=0.1, total=2, done=1, open=2, tcp_seen=2, tcp_open=2,
                        detecting=(PortWait(age=0.1, wait=5.9),), parallel=20,
                        mean_detection=0.05)
    naive = (snap.total - snap.done) / snap.rate
    assert naive == pytest.approx(0.1)
    assert snap.remaining() == pytest.approx(5.9)
    assert snap.task == "Service scan"


def test_ports_waiting_for_a_slot_take_the_mean_after_the_first_slot_frees() -> None:
    """Two slots busy (1 s and 3 s left; the first younger than the 5 s mean), three ports
    queued: left 4 and 3 s; the work, 7 + 3 x 5 s, over two slots is 11 s; the first queued
    port can start in 3 s and takes 5: 11 s."""
    snap = ScanProgress(elapsed=5.0, total=10, done=5, tcp_seen=10, tcp_open=8, queued=3,
                        parallel=2, detecting=(PortWait(1.0, 1.0), PortWait(2.0, 3.0)),
                        mean_detection=5.0)
    assert snap.remaining() == pytest.approx(11.0)
    one_slot_free = ScanProgress(elapsed=5.0, total=10, done=8, tcp_seen=10, tcp_open=8,
                                 queued=1, parallel=3, detecting=(PortWait(9.0, 0.5),),
                                 mean_detection=5.0)
    assert one_slot_free.remaining() == pytest.approx(5.0)  # the queued one starts now


def test_ports_the_connect_scan_has_yet_to_answer_count_at_the_open_share() -> None:
    """Half the ports answered so far were open: half the 10 still to answer will need
    detection (5 x 2 s over one slot: 10 s); the connect scan, 30 s more at its rate: 30 s."""
    snap = ScanProgress(elapsed=30.0, total=20, done=10, tcp_left=10, tcp_seen=10, tcp_open=5,
                        parallel=1, mean_detection=2.0)
    assert snap.remaining() == pytest.approx(30.0)
    slow = ScanProgress(elapsed=1.0, total=20, done=10, tcp_left=10, tcp_seen=10, tcp_open=5,
                        parallel=1, mean_detection=2.0)
    assert slow.remaining() == pytest.approx(10.0)  # detection: 5 ports x 2 s


# -- the progress line ----------------------------------------------------------------------------


@pytest.mark.parametrize(("snap", "expected"), [
    (ScanProgress(total=4000, tcp_left=4000),
     "Progress: 0/4000 ports (0.0%), 0 open, 0.0 ports/s, elapsed 0:00:00, ETA --:--:--"),
    (ScanProgress(elapsed=14.0, total=4000, done=1200, open=3, tcp_left=2800, tcp_seen=1200),
     "Progress: 1200/4000 ports (30.0%), 3 open, 85.7 ports/s, elapsed 0:00:14, ETA 0:00:33"),
    (ScanProgress(elapsed=50.0, total=4000, done=4000, open=1),
     "Progress: 4000/4000 ports (100.0%), 1 open, 80.0 ports/s, elapsed 0:00:50, ETA 0:00:00"),
    (ScanProgress(elapsed=2.0, total=2, done=1, open=2, tcp_seen=2, tcp_open=2,
                  detecting=(PortWait(2.0, 4.0),), mean_detection=0.1),
     "Progress: 1/2 ports (50.0%), 2 open, 0.5 ports/s, elapsed 0:00:02, ETA 0:00:04"),
    (ScanProgress(elapsed=1.0, total=0),
     "Progress: 0/0 ports (100.0%), 0 open, 0.0 ports/s, elapsed 0:00:01, ETA 0:00:00"),
])
def test_progress_line(snap: ScanProgress, expected: str) -> None:
    assert progress_line(snap) == expected


# -- the status report ----------------------------------------------------------------------------


NOW = 1796689359.4  # Unix time


def _local_hh_mm(unix: int) -> str:
    return f"{datetime.datetime.fromtimestamp(unix).astimezone():%H:%M}"


def test_status_report_with_nmap_s_arithmetic() -> None:
    """11 s to go at 50%: 11.5 with Nmap's half second; ETC 11 s after now; the text says
    0:00:11 (cut down), the XML 12 (rounded), as nmap 7.93 wrote for the same figures."""
    snap = ScanProgress(elapsed=11.2, total=2, done=1, hosts=1, hosts_started=1, tcp_seen=2,
                        tcp_open=2, detecting=(PortWait(11.2, 11.0),), mean_detection=0.1)
    report = status(snap, NOW)
    assert report == Status(time=NOW, elapsed=11.2, hosts_done=0, hosts_up=1, hosts_busy=1,
                            task="Service scan", percent=50.0, left=11.5)
    assert report.etc == 1796689359 + 11
    assert status_lines(report) == (
        "Stats: 0:00:11 elapsed; 0 hosts completed (1 up), 1 undergoing Service Scan\n"
        f"Service scan Timing: About 50.00% done; ETC: {_local_hh_mm(1796689370)} (0:00:11 remaining)\n")
    assert taskprogress_element(report) == (
        '<taskprogress task="Service scan" time="1796689359" percent="50.00" remaining="12" '
        'etc="1796689370"/>\n')


def test_status_report_without_an_estimate() -> None:
    report = status(ScanProgress(elapsed=3725.0, total=65536, hosts=2, hosts_started=1,
                                 tcp_left=65536), NOW)
    assert status_lines(report) == (
        "Stats: 1:02:05 elapsed; 0 hosts completed (1 up), 1 undergoing Connect Scan\n"
        "Connect Scan Timing: About 0.00% done\n")
    assert taskprogress_element(report) == (
        '<taskprogress task="Connect Scan" time="1796689359" percent="0.00"/>\n')


def test_status_report_hours_left() -> None:
    snap = ScanProgress(elapsed=10.0, total=1000, done=1, tcp_left=999, tcp_seen=1)
    left = status(snap, NOW).left
    assert left == pytest.approx(9990.5)
    assert status_lines(status(snap, NOW)).endswith("(2:46:30 remaining)\n")
