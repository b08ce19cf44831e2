"""The driver with the real engine and the bundle of tests/data/engine.probes, against hostile
loopback servers.

Each hostile port must end with a verdict within its own deadlines (the sum of the waits of the
probes it sent, plus slack for a loaded 2-core machine), while a well-behaved port scanned at the
same time finishes at once: no port waits for another.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest

from sigscan.engine import Catalog, EngineConfig, Profile, Proto
from sigscan.engine.catalog import wait_seconds
from sigscan.engine.events import Connected, Event
from sigscan.engine.results import PortResult, PortState
from sigscan.net.driver import Driver, JobQueue, PortJob
from sigscan.net.transport import Connection, Endpoint, Network, Sink
from tests.scan.servers import (
    ServerThread,
    banner,
    drip,
    flood,
    reset_mid_probe,
    silent,
    ssl_listed_port,
    tls_garbage,
    unlisted_port,
)
from tests.scan.support import open_fds

SLACK = 1.5  # seconds of scheduling slack on a busy machine
QUICK = 2.0  # a port with nothing to wait for is done within this, whatever the others do


@dataclass(frozen=True)
class Finished:
    result: PortResult
    at: float  # seconds after the scan started


def run_driver(catalog: Catalog, jobs: list[PortJob], config: EngineConfig,
               max_parallel: int = 20) -> dict[int, Finished]:
    finished: dict[int, Finished] = {}

    async def run() -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()

        def done(result: PortResult) -> None:
            assert result.port not in finished, f"port {result.port} reported twice"
            finished[result.port] = Finished(result, loop.time() - start)

        await Driver(catalog, config, max_parallel=max_parallel).scan(jobs, done)

    asyncio.run(run())
    assert sorted(finished) == sorted(job.port for job in jobs)
    return finished


def own_deadline(catalog: Catalog, result: PortResult, config: EngineConfig) -> float:
    """The most time the port may take: the waits of the probes it sent (a TLS connect
    included for a tunnelled port), plus slack."""
    probes = {p.name: p for p in catalog.probes[Proto.TCP]}
    waits = [wait_seconds(catalog.null if name == "NULL" and catalog.null else probes[name])
             for name in result.probes]
    fast_cap = EngineConfig(profile=Profile.FAST).wait(1e9, rtt=0.25)
    total = sum(min(w, fast_cap) if config.profile is Profile.FAST else w for w in waits)
    tls = config.ssl_connect_timeout if result.service and result.service.tunnel else 0.0
    return total + tls + SLACK


@pytest.mark.parametrize(("profile", "intensity"), [(Profile.NMAP, 0), (Profile.FAST, 2)])
def test_hostile_servers_end_within_their_own_deadlines(
        catalog: Catalog, servers: ServerThread, profile: Profile, intensity: int) -> None:
    ports = {
        "banner": servers.serve(banner, unlisted_port(catalog))[0],
        "drip": servers.serve(drip, unlisted_port(catalog))[0],
        "flood": servers.serve(flood, unlisted_port(catalog))[0],
        "reset": servers.serve(reset_mid_probe, unlisted_port(catalog))[0],
        "silent": servers.serve(silent, unlisted_port(catalog))[0],
        "tls-garbage": servers.serve(tls_garbage, ssl_listed_port())[0],
    }
    config = EngineConfig(intensity=intensity, profile=profile)
    jobs = [PortJob("127.0.0.1", port, Proto.TCP) for port in ports.values()]
    finished = run_driver(catalog, jobs, config)
    by_name = {name: finished[port] for name, port in ports.items()}

    for name, done in by_name.items():
        assert done.result.service is not None, name
        assert done.result.elapsed <= own_deadline(catalog, done.result, config), (name, done)
        assert done.at <= done.result.elapsed + SLACK, (name, done)  # it started at once

    assert by_name["banner"].result.service.name == "ssh"  # type: ignore[union-attr]
    for quick in ("banner", "flood", "reset"):  # nothing to wait for, whatever the others do
        assert by_name[quick].at < QUICK, (quick, by_name[quick])
    flood_fp = by_name["flood"].result.service.servicefp  # type: ignore[union-attr]
    assert flood_fp is not None and "FLOOD" in flood_fp  # read up to the cap, fingerprinted
    garbage = by_name["tls-garbage"].result
    assert garbage.service is not None and garbage.service.tunnel == "ssl"
    assert "SSLSessionReq" in garbage.probes
    if profile is Profile.NMAP:  # the NULL probe's 6 s wait, exactly as Nmap
        for slow in ("drip", "silent"):
            assert by_name[slow].result.elapsed >= 6.0 - 0.05, slow
        assert by_name["drip"].result.service.servicefp is not None  # type: ignore[union-attr]


def test_parallelism_is_bounded(catalog: Catalog, servers: ServerThread) -> None:
    """max_parallel=2 over 4 silent ports: two at a time, so two rounds of the NULL wait."""
    sockets = [unlisted_port(catalog) for _ in range(4)]
    stats = []
    ports = []
    for sock in sockets:
        port, stat = servers.serve(silent, sock)
        ports.append(port)
        stats.append(stat)
    config = EngineConfig(intensity=0, profile=Profile.FAST, rtt=0.0)
    finished = run_driver(catalog, [PortJob("127.0.0.1", p, Proto.TCP) for p in ports], config,
                          max_parallel=2)
    ends = sorted(done.at for done in finished.values())
    assert ends[1] < ends[2]
    assert ends[2] >= 2 * config.fast_min_wait - 0.05  # the second pair waited for the first
    assert all(stat.connections == 1 for stat in stats)


def test_cancelling_a_scan_closes_every_socket(catalog: Catalog, servers: ServerThread) -> None:
    ports = [servers.serve(silent, unlisted_port(catalog)) for _ in range(3)]
    config = EngineConfig(intensity=0)

    async def run() -> None:
        before = open_fds()
        driver = Driver(catalog, config, network=Network())
        jobs = [PortJob("127.0.0.1", port, Proto.TCP) for port, _ in ports]
        task = asyncio.create_task(driver.scan(jobs, lambda _: None))
        await asyncio.sleep(0.5)
        assert all(stat.open_now == 1 for _, stat in ports)
        task.cancel()
        await asyncio.wait([task])
        assert task.cancelled()
        await asyncio.sleep(0.1)
        assert open_fds() == before

    asyncio.run(run())
    for _, stat in ports:
        for _ in range(50):
            if stat.open_now == 0:
                break
            asyncio.run(asyncio.sleep(0.05))
        assert stat.open_now == 0


def test_udp_reply_turns_open_filtered_into_open(catalog: Catalog, servers: ServerThread) -> None:
    port, stats = servers.serve_udp(reply=b"\x00\x01 some unknown answer")
    config = EngineConfig(intensity=2, profile=Profile.FAST, rtt=0.0)
    job = PortJob("127.0.0.1", port, Proto.UDP, PortState.OPEN_FILTERED, "no-response")
    result = run_driver(catalog, [job], config)[port].result
    assert result.state is PortState.OPEN and result.reason == "udp-response"
    assert stats.received  # probes were sent
    assert result.probes and result.service is not None


# -- the job queue ------------------------------------------------------------------------------


def test_job_queue_is_fair_and_bounded_per_host() -> None:
    async def run() -> list[str]:
        queue = JobQueue(per_host=2)
        for host in ("a", "b"):
            for port in range(3):
                queue.put(PortJob(host, port, Proto.TCP))
        queue.close()
        taken = [await queue.get() for _ in range(4)]
        assert all(job is not None for job in taken)
        order = [f"{job.address}{job.port}" for job in taken if job is not None]
        waiting = asyncio.create_task(queue.get())  # both hosts are at their bound
        await asyncio.sleep(0.01)
        assert not waiting.done()
        first = taken[0]
        assert first is not None
        queue.done(first)
        last = await asyncio.wait_for(waiting, 1)
        assert last is not None and last.address == first.address
        order.append(f"{last.address}{last.port}")
        second = taken[1]
        assert second is not None
        queue.done(second)
        remaining = await asyncio.wait_for(queue.get(), 1)
        assert remaining is not None and remaining.address == second.address
        order.append(f"{remaining.address}{remaining.port}")
        assert await asyncio.wait_for(queue.get(), 1) is None  # closed and drained
        return order

    assert asyncio.run(run()) == ["a0", "b0", "a1", "b1", "a2", "b2"]


def test_job_queue_ends_when_closed_and_drained() -> None:
    async def run() -> None:
        queue = JobQueue()
        getter = asyncio.create_task(queue.get())
        await asyncio.sleep(0.01)
        queue.put(PortJob("h", 1, Proto.TCP))
        assert (await getter) == PortJob("h", 1, Proto.TCP)
        later = asyncio.create_task(queue.get())
        await asyncio.sleep(0.01)
        queue.close()
        assert await later is None
        with pytest.raises(RuntimeError):
            queue.put(PortJob("h", 2, Proto.TCP))

    asyncio.run(run())


def test_job_queue_wakes_one_getter_per_job() -> None:
    """A put wakes one sleeping getter, not all of them (an event's cost must not grow with the
    number of getters); close wakes them all, and they all end."""
    async def run() -> None:
        queue = JobQueue()
        getters = [asyncio.create_task(queue.get()) for _ in range(50)]
        await asyncio.sleep(0.01)
        assert queue.waiting == 50
        queue.put(PortJob("h", 1, Proto.TCP))
        assert queue.waiting == 49  # one woken, the others never stirred
        await asyncio.sleep(0.01)
        assert sum(g.done() for g in getters) == 1
        queue.close()
        assert queue.waiting == 0
        results = await asyncio.wait_for(asyncio.gather(*getters), 1)
        assert results.count(None) == 49

    asyncio.run(run())


def test_job_queue_passes_on_the_wake_up_of_a_cancelled_getter() -> None:
    async def run() -> None:
        queue = JobQueue()
        first = asyncio.create_task(queue.get())
        second = asyncio.create_task(queue.get())
        await asyncio.sleep(0.01)
        queue.put(PortJob("h", 1, Proto.TCP))  # wakes `first`...
        first.cancel()  # ...which is cancelled before it runs
        assert await asyncio.wait_for(second, 1) == PortJob("h", 1, Proto.TCP)
        assert first.cancelled()

    asyncio.run(run())


def test_job_queue_end_reaches_every_getter_held_by_the_per_host_bound() -> None:
    async def run() -> None:
        queue = JobQueue(per_host=1)
        queue.put(PortJob("h", 1, Proto.TCP))
        queue.put(PortJob("h", 2, Proto.TCP))
        queue.close()
        taken = await queue.get()
        assert taken is not None
        waiting = [asyncio.create_task(queue.get()) for _ in range(3)]  # h is at its bound
        await asyncio.sleep(0.01)
        queue.done(taken)
        results = await asyncio.wait_for(asyncio.gather(*waiting), 1)
        assert sorted(results, key=lambda j: j is None) == [PortJob("h", 2, Proto.TCP), None, None]

    asyncio.run(run())


# -- a loaded machine ---------------------------------------------------------------------------


class StallingNetwork(Network):
    """A real network whose event loop stops for ``stall`` seconds just after the first
    connection is up, as on a loaded machine: the server's banner arrives meanwhile, and when
    the loop runs again the fast profile's NULL wait is long over."""

    def __init__(self, stall: float) -> None:
        super().__init__()
        self.stall = stall
        self.stalled = False

    def connection(self, conn: int, endpoint: Endpoint, tls: bool, sink: Sink) -> Connection:
        def stalling(event: Event) -> None:
            sink(event)
            if isinstance(event, Connected) and not self.stalled:
                self.stalled = True
                time.sleep(self.stall)  # blocks the whole loop, on purpose
        return super().connection(conn, endpoint, tls, stalling)


def test_a_late_event_loop_keeps_a_banner_that_came_in_time(catalog: Catalog, servers: ServerThread) -> None:
    """The banner came at once, but the loop was stalled past the fast profile's wait. The
    timer used to win over the data already read, the NULL probe timed out empty and the port
    lost its name. Data the loop brings when it honours a deadline now comes first."""
    port, _ = servers.serve(banner, unlisted_port(catalog))
    config = EngineConfig(intensity=0, profile=Profile.FAST, rtt=0.0)
    network = StallingNetwork(stall=2 * config.fast_min_wait)
    driver = Driver(catalog, config, network=network)
    result = asyncio.run(driver.detect(PortJob("127.0.0.1", port, Proto.TCP)))
    assert network.stalled
    assert result.service is not None
    assert (result.service.name, result.service.product) == ("ssh", "OpenSSH")
