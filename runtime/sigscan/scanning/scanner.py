"""A whole scan: targets → port discovery → service detection → per-host results.

:class:`Scanner` ties :mod:`sigscan.net.discovery` and :mod:`sigscan.net.driver` together. Hosts are
discovered concurrently (at most ``max_hosts`` at once); each TCP port found open becomes a
detection job at once, so detection overlaps discovery; UDP ports are queued as
``open|filtered`` after the host's TCP ports (Nmap queues open ports first). Every requested
port is reported exactly once to ``on_port``: closed and filtered ports as the connect scan
found them, the others when detection ends. ``on_host`` gets a :class:`HostResult` when all
of a host's ports are done; ``on_note`` gets what ``-v`` says (a port judged without an answer
from it, the parallelism the file descriptor limit allows); ``on_trace`` the engines' trace
lines when the configuration asks for a trace. After a cancellation (Ctrl-C), :meth:`Scanner.unfinished` gives the
hosts that were not reported, with the ports finished so far. :meth:`Scanner.progress` tells,
at any moment of the run, how far it has got (:mod:`sigscan.scanning.progress`).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from sigscan.engine import Catalog, EngineConfig, Profile, Proto
from sigscan.engine.results import HostResult, PortGroup, PortResult, PortState
from sigscan.net.descriptors import room
from sigscan.net.discovery import (
    DEFAULT_PARALLEL,
    DEFAULT_TIMEOUT,
    Pace,
    PortStatus,
    RttEstimate,
    connect_scan,
)
from sigscan.net.driver import DEFAULT_MAX_PARALLEL, Driver, JobQueue, PortJob, TraceSink
from sigscan.net.pace import Pacer
from sigscan.net.transport import Network
from sigscan.scanning.ports import PortSpec
from sigscan.scanning.progress import ScanProgress
from sigscan.scanning.targets import Target

DEFAULT_MAX_HOSTS = 16


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """How hard to push: ports in detection at once (overall and per host), connects in flight
    during discovery and their timeout, hosts discovered at once; and Nmap's timing options
    (:mod:`sigscan.scanning.timing` maps ``-T`` onto them): ``retries`` further connects for a
    port that got no answer (``--max-retries``), ``scan_delay`` between two connects of the
    port scan, ``min_rate``/``max_rate`` connects per second (``--min-rate``/``--max-rate``),
    ``host_timeout`` seconds after which a host is given up (None: never)."""

    max_parallel: int = DEFAULT_MAX_PARALLEL
    max_host_parallel: int | None = None
    discovery_parallel: int = DEFAULT_PARALLEL
    connect_timeout: float = DEFAULT_TIMEOUT
    max_hosts: int = DEFAULT_MAX_HOSTS
    retries: int = 0
    scan_delay: float = 0.0
    min_rate: float | None = None
    max_rate: float | None = None
    host_timeout: float | None = None

    def pacer(self) -> Pacer | None:
        """The scan's pace, None when connects need not wait for one."""
        pacer = Pacer(scan_delay=self.scan_delay, min_rate=self.min_rate, max_rate=self.max_rate)
        return pacer if pacer.paced else None


# Connects in flight that --min-rate may ask for at most (it raises discovery's parallelism to
# the rate times the connect timeout); the descriptor limit may cut it further.
MAX_RATE_PARALLEL = 4096


# Sockets a port in detection holds at most: the fast profile races two connections.
SOCKETS_PER_PORT = {Profile.NMAP: 1, Profile.FAST: 2}


def rate_parallelism(options: ScanOptions) -> ScanOptions:
    """``options`` with enough connects in flight to keep ``min_rate``: each connect may take
    the connect timeout, so the rate needs rate x timeout of them (at most
    :data:`MAX_RATE_PARALLEL`)."""
    if options.min_rate is None:
        return options
    needed = min(MAX_RATE_PARALLEL, math.ceil(options.min_rate * options.connect_timeout))
    return replace(options, discovery_parallel=max(options.discovery_parallel, needed))


def fit_parallelism(options: ScanOptions, free: int | None, per_port: int) -> ScanOptions:
    """``options`` with discovery's connects and detection's ports cut to fit ``free`` sockets
    (None: no bound), each port holding up to ``per_port``. When both do not fit, discovery
    gets at most half and detection what is left, then discovery what detection does not use;
    neither goes below 1 (a socket that cannot be had is then waited for)."""
    wanted = options.discovery_parallel + per_port * options.max_parallel
    if free is None or wanted <= free:
        return options
    discovery = min(options.discovery_parallel, max(free // 2, 1))
    detection = max(1, min(options.max_parallel, (free - discovery) // per_port))
    discovery = max(1, min(options.discovery_parallel, free - per_port * detection))
    return replace(options, discovery_parallel=discovery, max_parallel=detection)


@dataclass(slots=True)
class _Host:
    """A host being scanned: what is done and what is still out."""

    target: Target
    ports: PortSpec
    start: float = field(default_factory=time.time)
    rtt: RttEstimate = field(default_factory=RttEstimate)
    results: list[PortResult] = field(default_factory=list)
    groups: dict[tuple[str, PortState, str], list[int]] = field(default_factory=dict)
    outstanding: int = 0
    discovered: bool = False
    reported: bool = False
    timed_out: bool = False
    discovery: asyncio.Task[None] | None = None
    timer: asyncio.TimerHandle | None = None

    @property
    def address(self) -> str:
        assert self.target.address is not None
        return self.target.address

    def named(self, result: PortResult) -> PortResult:
        """``result`` with the target as the user gave it (a name, else the address)."""
        target = self.target.hostname or self.address
        return result if result.target == target else replace(result, target=target)

    def result(self, end: float | None = None) -> HostResult:
        groups = tuple(PortGroup(proto, state, reason, tuple(sorted(ports)))
                       for (proto, state, reason), ports in self.groups.items())
        ordered = tuple(sorted(self.results, key=lambda p: (p.proto != "tcp", p.port)))
        return HostResult(self.address, self.target.hostname, ordered, groups, start=self.start,
                          end=time.time() if end is None else end, latency=self.rtt.srtt,
                          other_addresses=self.target.other_addresses,
                          ptr_name=self.target.ptr_name)

    def timed_out_result(self) -> HostResult:
        """The host given up on: no ports, as Nmap reports a host that ran out of time."""
        return HostResult(self.address, self.target.hostname, start=self.start, end=time.time(),
                          latency=self.rtt.srtt, other_addresses=self.target.other_addresses,
                          ptr_name=self.target.ptr_name, timed_out=True)


@dataclass(slots=True)
class _Counts:
    """What :meth:`Scanner.progress` reports, kept up to date as the scan goes (see
    :class:`~sigscan.scanning.progress.ScanProgress` for each figure)."""

    total: int = 0
    hosts: int = 0
    start: float = 0.0
    done: int = 0
    open: int = 0
    hosts_done: int = 0
    tcp_left: int = 0
    tcp_seen: int = 0
    tcp_open: int = 0
    udp_left: int = 0
    detected: int = 0
    detection: float = 0.0  # seconds, summed over the detections finished

    @classmethod
    def of(cls, targets: Sequence[Target], ports: PortSpec, start: float) -> _Counts:
        """The counts of a scan about to start: each address once, with its own ports if it
        names some (as :meth:`Scanner.run` scans it)."""
        count = cls(start=start)
        seen: set[str | None] = set()
        for target in targets:
            if target.address in seen:
                continue
            seen.add(target.address)
            chosen = target.ports if target.ports is not None else ports
            count.hosts += 1
            count.total += len(chosen)
            count.tcp_left += len(chosen.tcp)
            count.udp_left += len(chosen.udp)
        return count


class Scanner:
    """Runs a scan of resolved targets (see the module's docstring)."""

    def __init__(self, catalog: Catalog, config: EngineConfig, options: ScanOptions = ScanOptions(), *,
                 on_port: Callable[[PortResult], None] = lambda _: None,
                 on_host: Callable[[HostResult], None] = lambda _: None,
                 on_note: Callable[[str], None] = lambda _: None,
                 on_trace: TraceSink | None = None,
                 network: Network | None = None) -> None:
        self.catalog, self.config, self.options = catalog, config, options
        self.on_port, self.on_host, self.on_note, self.on_trace = on_port, on_host, on_note, on_trace
        self.network = network or Network()
        self._hosts: dict[str, _Host] = {}
        self._count = _Counts()
        self._driver: Driver | None = None
        self._jobs: JobQueue | None = None

    async def run(self, targets: Sequence[Target], ports: PortSpec) -> None:
        """Scan every target (each with its own ports if it names some, else ``ports``)."""
        loop = asyncio.get_running_loop()
        self._count = _Counts.of(targets, ports, loop.time())
        config = replace(self.config, unix_time=time.time(), unix_time_clock=loop.time())
        options = self._fitted(rate_parallelism(self.options))
        driver = self._driver = Driver(self.catalog, config, network=self.network,
                                       max_parallel=options.max_parallel,
                                       max_host_parallel=options.max_host_parallel,
                                       on_trace=self.on_trace)
        jobs = self._jobs = driver.queue()
        connects = asyncio.Semaphore(options.discovery_parallel)
        hosts = asyncio.Semaphore(self.options.max_hosts)
        pace = Pace(options.connect_timeout, options.retries, options.pacer())
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(driver.run(jobs, self._detected))
                async with asyncio.TaskGroup() as discovery:
                    for target in targets:
                        host = self._add(target, ports)
                        if host is None:
                            continue
                        await hosts.acquire()
                        host.start = time.time()
                        host.discovery = discovery.create_task(
                            self._discover(host, jobs, connects, hosts, pace))
                        if self.options.host_timeout is not None:
                            host.timer = loop.call_later(self.options.host_timeout,
                                                         self._time_out, host, driver, jobs)
                jobs.close()
        finally:
            for host in self._hosts.values():
                if host.timer is not None:
                    host.timer.cancel()

    def _fitted(self, options: ScanOptions) -> ScanOptions:
        """``options`` with parallelism this process's descriptors can hold (said with -v)."""
        per_port = SOCKETS_PER_PORT[self.config.profile]
        space = room()
        fitted = fit_parallelism(options, space.free, per_port)
        limit = "no file descriptor limit" if space.limit is None else (
            f"RLIMIT_NOFILE {space.limit} with {space.used} descriptors open")
        asked = options.discovery_parallel, options.max_parallel
        cut = "" if (fitted.discovery_parallel, fitted.max_parallel) == asked else (
            f" (asked for {asked[0]} and {asked[1]}; a port in detection holds up to {per_port} socket{'s' if per_port > 1 else ''})")
        self.on_note(f"{limit}: {fitted.discovery_parallel} connects and {fitted.max_parallel} "
                     f"ports in detection at once{cut}")
        return fitted

    def progress(self, now: float | None = None) -> ScanProgress:
        """How far the scan has got (``now`` on the event loop's clock, by default the loop's
        time): a snapshot, cheap whatever the scan's size, for progress lines and estimates."""
        count, driver = self._count, self._driver
        if driver is None or self._jobs is None:
            return ScanProgress(total=count.total, hosts=count.hosts)
        if now is None:
            now = asyncio.get_running_loop().time()
        return ScanProgress(
            elapsed=max(now - count.start, 0.0), total=count.total, done=count.done,
            open=count.open, hosts=count.hosts, hosts_started=len(self._hosts),
            hosts_done=count.hosts_done, detecting=tuple(driver.waits(now)),
            queued=len(self._jobs), parallel=driver.max_parallel, tcp_left=count.tcp_left,
            tcp_seen=count.tcp_seen, tcp_open=count.tcp_open, udp_left=count.udp_left,
            mean_detection=count.detection / count.detected if count.detected else None)

    def unfinished(self) -> list[HostResult]:
        """Hosts not reported yet that have finished ports (after an interruption)."""
        return [host.result() for host in self._hosts.values()
                if not host.reported and (host.results or host.groups)]

    def _add(self, target: Target, ports: PortSpec) -> _Host | None:
        if target.address is None:
            raise ValueError(f"target {target.label} has no address: resolve it first")
        if target.address in self._hosts:  # the same address twice: scanned once
            return None
        host = _Host(target, target.ports if target.ports is not None else ports)
        host.outstanding = len(host.ports)
        self._hosts[target.address] = host
        return host

    async def _discover(self, host: _Host, jobs: JobQueue, connects: asyncio.Semaphore,
                        hosts: asyncio.Semaphore, pace: Pace) -> None:
        try:
            await connect_scan(host.address, host.ports.tcp, lambda s: self._found(host, s, jobs),
                               limiter=connects, pace=pace)
        finally:
            hosts.release()
        for port in host.ports.udp:
            jobs.put(PortJob(host.address, port, Proto.UDP, PortState.OPEN_FILTERED, "no-response",
                             host.target.hostname, host.rtt.srtt))
            self._count.udp_left -= 1
        host.discovered = True
        self._check(host)

    def _time_out(self, host: _Host, driver: Driver, jobs: JobQueue) -> None:
        """``--host-timeout`` passed: stop the host's discovery and detection and report it
        as timed out (the ports it finished were given to ``on_port`` already)."""
        if host.reported:
            return
        host.timed_out = host.reported = True
        if host.discovery is not None:
            host.discovery.cancel()
        jobs.drop(host.address)
        driver.cancel_host(host.address)
        self.on_note(f"{host.address}: host timeout ({self.options.host_timeout:g} s) passed; "
                     "its ports are not reported")
        self.on_host(host.timed_out_result())
        host.results, host.groups = [], {}

    def _found(self, host: _Host, status: PortStatus, jobs: JobQueue) -> None:
        if host.timed_out:
            return
        if status.note is not None:
            self.on_note(f"{host.address} port {status.port}/tcp: {status.note}")
        self._count.tcp_left -= 1
        self._count.tcp_seen += 1
        if status.state is PortState.OPEN:
            self._count.tcp_open += 1
            self._count.open += 1
            if status.rtt is not None:
                host.rtt.add(status.rtt)
            jobs.put(PortJob(host.address, status.port, Proto.TCP, PortState.OPEN, status.reason,
                             host.target.hostname, host.rtt.srtt))
            return
        host.groups.setdefault(("tcp", status.state, status.reason), []).append(status.port)
        self._done(host, PortResult(host.address, status.port, "tcp", status.state, status.reason, None))

    def _detected(self, result: PortResult) -> None:
        host = self._hosts[result.host]
        if host.timed_out:
            return
        result = host.named(result)
        host.results.append(result)
        self._count.detected += 1
        self._count.detection += result.elapsed
        if result.proto == "udp" and result.state is PortState.OPEN:
            self._count.open += 1
        self._done(host, result)

    def _done(self, host: _Host, result: PortResult) -> None:
        host.outstanding -= 1
        self._count.done += 1
        self.on_port(host.named(result))
        self._check(host)

    def _check(self, host: _Host) -> None:
        if host.discovered and host.outstanding == 0 and not host.reported:
            self._count.hosts_done += 1
            host.reported = True
            if host.timer is not None:
                host.timer.cancel()
            self.on_host(host.result())
            host.results, host.groups = [], {}  # reported: keep nothing
