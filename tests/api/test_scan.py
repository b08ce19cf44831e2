"""``sigscan.scan``: results as the command gives them, every port once, arguments refused
before any packet, and a scan left early (``break``, ``aclosing``, a timeout) cancelled with
every socket closed.

Network rule: servers listen on 127.0.0.1 only, and scans name 127.0.0.1 (or ``localhost`` when
it is 127.0.0.1) and only ports these tests opened or just released."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import sigscan
from sigscan import PortState
from tests.api.conftest import closed_port, ftp
from tests.api.test_identify import DNS_REPLY
from tests.scan.servers import ServerThread, Stats, silent


def open_fds() -> int:
    """Descriptors open in this process: the scan's sockets, and the server thread's too (so
    a count is compared once the server has seen its connections end)."""
    return len(os.listdir("/proc/self/fd"))


def closed_up(before: int, stats: Stats) -> Callable[[], bool]:
    """Every socket of the scan closed, on both sides: an aborted asyncio transport closes its
    socket on the loop's next turn, the server's on its own loop."""
    return lambda: stats.open_now == 0 and open_fds() == before


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until ``condition()`` holds (it may read what a server thread updates)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        await asyncio.sleep(0.01)


async def collect(*args: Any, **kwargs: Any) -> list[sigscan.PortResult]:
    return [port async for port in sigscan.scan(*args, **kwargs)]


def test_an_open_port_gives_its_service_and_a_closed_one_closed(bundle_path: Path, servers: ServerThread) -> None:
    open_port, _ = servers.serve(ftp)
    closed = closed_port()
    results = asyncio.run(collect("127.0.0.1", [open_port, closed], bundle=bundle_path))
    assert Counter(p.port for p in results) == {open_port: 1, closed: 1}
    found = {p.port: p for p in results}
    banner = found[open_port]
    assert (banner.host, banner.proto, banner.state, banner.reason) == ("127.0.0.1", "tcp", PortState.OPEN, "syn-ack")
    assert banner.service is not None
    assert (banner.service.name, banner.service.product, banner.service.version) == ("ftp", "Tiny FTP", "2.1")
    assert banner.service.cpe == ("cpe:/a:tiny:ftp:2.1",)
    assert isinstance(banner.service, sigscan.Service) and banner.probes == ("NULL",)
    refused = found[closed]
    assert (refused.state, refused.reason, refused.service) == (PortState.CLOSED, "conn-refused", None)
    assert banner.target == refused.target == "127.0.0.1"  # given as an address


def test_each_requested_port_once_whatever_repeats(bundle: sigscan.Bundle, servers: ServerThread) -> None:
    ports = [servers.serve(ftp)[0] for _ in range(3)] + [closed_port()]
    spec = ",".join(map(str, ports + ports[:2]))
    results = asyncio.run(collect(["127.0.0.1", "127.0.0.1"], spec, bundle=bundle, profile=sigscan.Profile.FAST))
    assert Counter(p.port for p in results) == dict.fromkeys(ports, 1)
    assert sum(p.state is PortState.OPEN for p in results) == 3
    assert sigscan.identify(bundle, b"220 Welcome\r\n").soft  # a bundle given open is left open


def test_a_name_is_resolved_as_the_command_does(bundle_path: Path, servers: ServerThread) -> None:
    if socket.getaddrinfo("localhost", None, socket.AF_INET)[0][4][0] != "127.0.0.1":
        pytest.skip("localhost is not 127.0.0.1 here")
    open_port, _ = servers.serve(ftp)
    closed = closed_port()
    results = asyncio.run(collect("localhost", [open_port, closed], bundle=bundle_path))
    found = {p.port: p for p in results}
    assert (found[open_port].host, found[open_port].state) == ("127.0.0.1", PortState.OPEN)
    assert found[open_port].target == found[closed].target == "localhost"  # as it was given


def test_udp(bundle_path: Path, servers: ServerThread) -> None:
    port, stats = servers.serve_udp(reply=DNS_REPLY)
    [result] = asyncio.run(collect("127.0.0.1", [port], bundle=bundle_path, protocols="udp"))
    assert (result.proto, result.state, result.reason) == ("udp", PortState.OPEN, "udp-response")
    assert result.service is not None and (result.service.name, result.service.product) == ("domain", "Tiny DNS")
    assert stats.received


BAD: list[tuple[Any, Any, dict[str, Any], type[Exception], str]] = [
    ("300.1.1.1", "PORT", {}, sigscan.TargetError, "'300.1.1.1' is not a valid IPv4 address"),
    ([], "PORT", {}, sigscan.TargetError, "no targets"),
    ("10.0.0.0/8", "PORT", {}, sigscan.TargetError, "gives 16,777,216 addresses"),
    ([b"127.0.0.1"], "PORT", {}, sigscan.TargetError, "a target is an address, name or block as a string"),
    ("127.0.0.1", "80-20", {}, sigscan.PortSpecError, "port range 80-20 is backwards"),
    ("127.0.0.1", "", {}, sigscan.PortSpecError, "empty port specification"),
    ("127.0.0.1", "nosuchservice", {}, sigscan.PortSpecError, "no tcp port is named 'nosuchservice'"),
    ("127.0.0.1", [], {}, sigscan.PortSpecError, "no ports given"),
    ("127.0.0.1", [70000], {}, sigscan.PortSpecError, "port 70000 is out of range"),
    ("127.0.0.1", ["22"], {}, sigscan.PortSpecError, "a port is a number, not '22'"),
    ("127.0.0.1", "PORT", {"protocols": "sctp"}, sigscan.PortSpecError, "protocols must be 'tcp', 'udp' or both"),
    ("127.0.0.1", "PORT", {"profile": "slow"}, ValueError, "unknown profile 'slow'"),
    ("127.0.0.1", "PORT", {"intensity": 12}, ValueError, "intensity must be 0-9"),
    ("127.0.0.1", "PORT", {"max_parallel": 0}, ValueError, "max_parallel must be a whole number of at least 1"),
    ("127.0.0.1", "PORT", {"bundle": "missing.db"}, sigscan.BundleError, "missing.db: no such bundle"),
]


@pytest.mark.parametrize(("targets", "ports", "options", "error", "message"), BAD)
def test_bad_arguments_raise_at_the_first_step_before_any_packet(
        bundle_path: Path, servers: ServerThread, targets: Any, ports: Any, options: dict[str, Any],
        error: type[Exception], message: str) -> None:
    port, stats = servers.serve(ftp)
    ports = str(port) if ports == "PORT" else ports
    options = {"bundle": bundle_path, **options}
    with pytest.raises(error, match=re.escape(message)):
        asyncio.run(collect(targets, ports, **options))
    assert stats.connections == 0


def test_breaking_out_cancels_the_scan_and_closes_its_sockets(bundle_path: Path, servers: ServerThread) -> None:
    silent_port, stats = servers.serve(silent)  # detection waits 6 s for its banner
    closed = closed_port()

    async def run() -> None:
        before, tasks = open_fds(), asyncio.all_tasks()
        started = time.monotonic()
        async for port in sigscan.scan("127.0.0.1", [closed, silent_port], bundle=bundle_path):
            assert port.port == closed
            await until(lambda: stats.connections >= 2 and stats.open_now >= 1)  # detection connected
            break
        # the abandoned generator is closed by the loop's finalizer, in a task of its own
        await until(lambda: asyncio.all_tasks() == tasks, timeout=2)
        await until(closed_up(before, stats), timeout=2)
        assert time.monotonic() - started < 4  # not after the 6 s wait

    asyncio.run(run())


def test_aclosing_cleans_up_when_its_block_ends(bundle: sigscan.Bundle, servers: ServerThread) -> None:
    silent_port, stats = servers.serve(silent)
    closed = closed_port()

    async def run() -> None:
        before, tasks = open_fds(), asyncio.all_tasks()
        started = time.monotonic()
        async with contextlib.aclosing(sigscan.scan("127.0.0.1", [closed, silent_port], bundle=bundle)) as ports:
            async for port in ports:
                assert port.state is PortState.CLOSED
                await until(lambda: stats.connections >= 2 and stats.open_now >= 1)
                break
        assert asyncio.all_tasks() == tasks  # at once: the scan's task is over, its sockets aborted
        assert time.monotonic() - started < 4  # not after the 6 s wait
        await until(closed_up(before, stats), timeout=2)

    asyncio.run(run())


def test_a_timeout_cancels_the_scan_and_closes_its_sockets(bundle_path: Path, servers: ServerThread) -> None:
    silent_port, stats = servers.serve(silent)

    async def run() -> None:
        before, tasks = open_fds(), asyncio.all_tasks()
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await collect("127.0.0.1", [silent_port], bundle=bundle_path)
        assert time.monotonic() - started < 3  # not after the 6 s wait
        assert stats.connections >= 1
        assert asyncio.all_tasks() == tasks  # the scan was over before the timeout went on
        await until(closed_up(before, stats), timeout=2)

    asyncio.run(run())
