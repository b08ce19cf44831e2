"""Nmap's timing options as sigscan's waits: the ``-T`` templates (the mapping docs/scan.md
states), explicit options over the template, Nmap's time values, the pacer of ``--scan-delay``
and ``--max-rate``/``--min-rate``, ``--max-retries`` and ``--min-rate``'s parallelism."""

from __future__ import annotations

import asyncio
import errno
import socket
import threading
import time

import pytest

from sigscan.cli.commands import build_parser
from sigscan.cli.errors import Usage
from sigscan.cli.scan import scan_options
from sigscan.engine.results import PortState
from sigscan.net import discovery
from sigscan.net.discovery import Pace, connect_scan, probe_port
from sigscan.net.pace import Pacer
from sigscan.scanning.scanner import MAX_RATE_PARALLEL, ScanOptions, rate_parallelism
from sigscan.scanning.timing import TimingError, rate, seconds, template


def options(*args: str) -> ScanOptions:
    return scan_options(build_parser().parse_args(["scan", "127.0.0.1", *args]))


@pytest.mark.parametrize(("level", "detection", "discovery_parallel", "timeout", "delay", "retries", "host"), [
    ("0", 1, 1, 300.0, 300.0, 0, None),
    ("1", 1, 1, 15.0, 15.0, 0, None),
    ("2", 1, 1, 3.0, 0.4, 0, None),
    ("3", 20, 128, 3.0, 0.0, 0, None),
    ("4", 30, 128, 1.25, 0.0, 0, None),
    ("5", 40, 128, 0.3, 0.0, 1, 900.0),
])
def test_templates(level: str, detection: int, discovery_parallel: int, timeout: float,
                   delay: float, retries: int, host: float | None) -> None:
    """Service detection's parallelism is Nmap's ideal_parallelism (1, 1, 1, 20, 30, 40)."""
    got = options(f"-T{level}")
    assert (got.max_parallel, got.discovery_parallel, got.connect_timeout, got.scan_delay,
            got.retries, got.host_timeout) == (detection, discovery_parallel, timeout, delay,
                                               retries, host)
    assert options() == options("-T3") == options("-T", "normal")


def test_names_and_digits() -> None:
    names = ["paranoid", "Sneaky", "POLITE", "normal", "aggressive", "insane"]
    assert [template(n).level for n in names] == [0, 1, 2, 3, 4, 5]
    for bad in ("6", "9", "fast", "", "33"):
        with pytest.raises(TimingError, match="unknown timing template"):
            template(bad)


def test_explicit_options_win_whatever_their_order() -> None:
    got = options("--max-retries", "3", "-T5", "--host-timeout", "0", "--scan-delay", "250ms",
                  "--max-parallel", "7")
    assert (got.retries, got.host_timeout, got.scan_delay, got.max_parallel) == (3, None, 0.25, 7)
    assert options("--host-timeout", "90s").host_timeout == 90.0
    with pytest.raises(Usage, match="--min-rate 10 is above --max-rate 5"):
        options("--min-rate", "10", "--max-rate", "5")


@pytest.mark.parametrize(("text", "value"), [("500ms", 0.5), ("2", 2.0), ("2s", 2.0), ("1.5m", 90.0),
                                             ("1H", 3600.0), ("0", 0.0)])
def test_time_values(text: str, value: float) -> None:
    assert seconds(text, what="--host-timeout") == value


@pytest.mark.parametrize("text", ["", "-1", "soon", "5d", "nan", "inf", "ms", "1e400"])
def test_bad_time_values(text: str) -> None:
    with pytest.raises(TimingError, match="is not a time"):
        seconds(text, what="--host-timeout")


@pytest.mark.parametrize("text", ["0", "-3", "nan", "inf", "x"])
def test_bad_rates(text: str) -> None:
    with pytest.raises(TimingError, match="is not a rate"):
        rate(text, what="--max-rate")


def test_pacer_spaces_starts() -> None:
    pacer = Pacer(max_rate=10)
    assert [pacer.reserve(0.0) for _ in range(3)] == [0.0, 0.1, pytest.approx(0.2)]
    assert pacer.reserve(5.0) == 5.0  # idle meanwhile: no debt carried over
    delayed = Pacer(scan_delay=0.4, max_rate=100)
    assert delayed.interval == 0.4
    assert Pacer(scan_delay=15.0, min_rate=2).interval == 0.5  # the minimum rate beats the delay
    assert not Pacer().paced and Pacer(scan_delay=0.0, min_rate=50).interval == 0.0
    with pytest.raises(ValueError, match="above max_rate"):
        Pacer(min_rate=3, max_rate=2)


def test_min_rate_asks_for_enough_connects_in_flight() -> None:
    assert rate_parallelism(ScanOptions(min_rate=1000, connect_timeout=3.0)).discovery_parallel == 3000
    assert rate_parallelism(ScanOptions(min_rate=10)).discovery_parallel == 128  # the default suffices
    assert rate_parallelism(ScanOptions(min_rate=1e9)).discovery_parallel == MAX_RATE_PARALLEL


def test_max_retries_connects_again_only_when_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    async def unanswered(address: str, port: int, timeout: float) -> tuple[int, float | None]:
        calls.append(port)
        return errno.ETIMEDOUT, None

    monkeypatch.setattr(discovery, "_attempt", unanswered)
    status = asyncio.run(probe_port("192.0.2.1", 80, retries=2))
    assert (status.state, status.reason, len(calls)) == (PortState.FILTERED, "no-response", 3)

    async def refused(address: str, port: int, timeout: float) -> tuple[int, float | None]:
        calls.append(port)
        return errno.ECONNREFUSED, None

    calls.clear()
    monkeypatch.setattr(discovery, "_attempt", refused)
    status = asyncio.run(probe_port("192.0.2.1", 80, retries=2))
    assert (status.state, len(calls)) == (PortState.CLOSED, 1)


def test_max_rate_spaces_the_connects_a_server_sees() -> None:
    """A listener on 127.0.0.1 notes when each connect arrives: at 20 connects a second, six
    connects span five intervals (less a margin for a late first accept)."""
    arrivals: list[float] = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        server.settimeout(10)
        port = server.getsockname()[1]

        def accept() -> None:
            for _ in range(6):
                conn, _ = server.accept()
                arrivals.append(time.monotonic())
                conn.close()

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        pace = Pace(timeout=3.0, pacer=Pacer(max_rate=20))
        asyncio.run(connect_scan("127.0.0.1", [port] * 6, lambda _: None, pace=pace))
        thread.join(timeout=10)
    assert len(arrivals) == 6 and arrivals[-1] - arrivals[0] > 5 * 0.05 - 0.05, arrivals
