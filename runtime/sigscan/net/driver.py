"""Runs many :class:`~sigscan.engine.port.PortEngine` state machines at once over asyncio.

One task per port in flight (:func:`run_port`) owns that port's engine, connections and clock:
it performs the engine's actions (connect, send, close, wait until, report) and feeds it the
events of its connections (:mod:`sigscan.net.transport`) stamped with ``loop.time()``, or a
:class:`~sigscan.engine.events.Timer` when the engine's one deadline passes first. Deadlines
are absolute, so a port that misbehaves costs only its own waits: nothing it does can hold
another port's task. Its connect tasks belong to a task group of its own, and every connection
is closed when the port ends, on every path (a result, an error, cancellation).

Concurrency (nmap-semantics §5). ``max_parallel`` bounds the ports in flight overall. Nmap's
``ideal_parallelism`` for the default timing (``-T3``) is 20 services in flight, each running
its probes in sequence, with no per-host bound; sigscan's default is the same 20
(:data:`DEFAULT_MAX_PARALLEL`). ``max_host_parallel`` bounds the ports of one host in flight
(default: the overall bound, i.e. no separate limit, as Nmap). :meth:`Driver.run` takes jobs
from a :class:`JobQueue`, which hands them out fairly (round-robin over hosts, each host's jobs
in arrival order) while respecting the per-host bound, and makes a task for a job only when one
of the ``max_parallel`` slots is free: memory and the cost of each queue event follow the ports
in flight, never the bound (``--max-parallel 100000`` costs what the ports need). The fast
profile may use two connections per port (see :mod:`sigscan.engine.port`); the bound counts
ports, as Nmap's counts services.

Results are handed to a callback as each port finishes, so NDJSON output streams. The
engines' :class:`~sigscan.engine.events.Trace` lines (when their configuration asks for a trace)
go to ``on_trace``, each as its port's task performs it. :meth:`Driver.waits` tells, for each
port in flight, how long it has run and how long its engine's pending wait still has to go: the
figures a progress estimate needs, read without touching the engines.
"""

from __future__ import annotations

import asyncio
import functools
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from sigscan.engine import Catalog, EngineConfig, PortEngine, Proto
from sigscan.engine.events import (
    Action,
    Close,
    Connect,
    Data,
    Event,
    Report,
    Send,
    StartTls,
    Timer,
    Trace,
    WaitUntil,
)
from sigscan.engine.results import PortResult, PortState
from sigscan.engine.scripts import Detection
from sigscan.net.transport import Connection, Endpoint, Network

DEFAULT_MAX_PARALLEL = 20  # Nmap's ideal_parallelism at -T3


@dataclass(frozen=True, slots=True)
class PortJob:
    """One port to run detection on. ``address`` is the IP address to connect to; ``hostname``
    the name the user gave (sent as TLS SNI); ``rtt`` the connect round trip measured by port
    discovery (used by the fast profile; None lets the engine measure its own)."""

    address: str
    port: int
    proto: Proto
    state: PortState = PortState.OPEN
    reason: str | None = None
    hostname: str | None = None
    rtt: float | None = None

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.address, self.port, self.proto, self.hostname)


@dataclass(frozen=True, slots=True)
class PortWait:
    """A port in flight: seconds since its detection started, and until its engine's deadline
    (0 when it has none, or it has passed)."""

    age: float
    wait: float


TraceSink = Callable[[str], None]


async def run_port(engine: PortEngine | Detection, endpoint: Endpoint, network: Network,
                   on_trace: TraceSink | None = None) -> PortResult:
    """Drive ``engine`` to its report over real connections to ``endpoint``; its trace lines,
    if it makes any, go to ``on_trace``."""
    return await _PortIO(endpoint, network, on_trace).drive(engine)


class _PortIO:
    """The connections, the event queue and the one deadline of a port in flight."""

    def __init__(self, endpoint: Endpoint, network: Network, on_trace: TraceSink | None = None) -> None:
        self.endpoint, self.network, self.on_trace = endpoint, network, on_trace
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.conns: dict[int, Connection] = {}
        self.deadline: float | None = None
        self.started: float | None = None

    async def drive(self, engine: PortEngine | Detection) -> PortResult:
        async with asyncio.TaskGroup() as connects:
            try:
                return await self.run(engine, connects)
            finally:
                self.close_all()
        raise AssertionError("unreachable")  # pragma: no cover - the task group re-raises

    def waiting(self, now: float) -> PortWait:
        started = now if self.started is None else self.started
        deadline = now if self.deadline is None else self.deadline
        return PortWait(max(now - started, 0.0), max(deadline - now, 0.0))

    async def run(self, engine: PortEngine | Detection, connects: asyncio.TaskGroup) -> PortResult:
        loop = asyncio.get_running_loop()
        self.started = loop.time()
        actions = engine.start(self.started)
        while True:
            result = self.perform(actions, connects)
            if result is not None:
                return result
            event = await self.next_event(loop)
            actions = engine.feed(event)

    def perform(self, actions: list[Action], connects: asyncio.TaskGroup) -> PortResult | None:
        for action in actions:
            if isinstance(action, Connect):
                endpoint = self.endpoint
                if action.proto is not endpoint.proto:  # a plugin's UDP socket on a TCP port
                    endpoint = replace(endpoint, proto=action.proto)
                conn = self.network.connection(action.conn, endpoint, action.tls, self.events.put_nowait)
                self.conns[action.conn] = conn
                connects.create_task(conn.open(action.deadline))
            elif isinstance(action, StartTls):
                connects.create_task(self.conns[action.conn].start_tls(action.deadline))
            elif isinstance(action, Send):
                self.conns[action.conn].send(action.data)
            elif isinstance(action, Close):
                closing = self.conns.pop(action.conn, None)
                if closing is not None:
                    closing.close()
            elif isinstance(action, WaitUntil):
                self.deadline = action.deadline
            elif isinstance(action, Report):
                return action.result
            elif isinstance(action, Trace) and self.on_trace is not None:
                self.on_trace(action.text)
        return None

    async def next_event(self, loop: asyncio.AbstractEventLoop) -> Event:
        """The next event in arrival order, or a :class:`Timer` once the deadline has passed.

        An event queued when the deadline is honoured comes before the Timer, as Nmap's nsock
        handles ready I/O before expired timers. It matters when the loop runs late (a loaded
        machine): the loop then reads the sockets that became readable meanwhile in the same
        turn as it fires the timer, and a reply that came in time must not become a timeout."""
        if self.events.empty():
            if self.deadline is None:
                if not self.conns:
                    raise RuntimeError("the engine is running with no deadline and no connection")
                event = await self.events.get()
            else:
                try:
                    async with asyncio.timeout_at(self.deadline):
                        event = await self.events.get()
                except TimeoutError:
                    if self.events.empty():
                        return Timer(max(loop.time(), self.deadline))
                    event = self.events.get_nowait()
        else:
            event = self.events.get_nowait()
        if isinstance(event, Data):
            conn = self.conns.get(event.conn)
            if conn is not None:
                conn.consumed()
        return event

    def close_all(self) -> None:
        for conn in self.conns.values():
            conn.close()
        self.conns.clear()


class JobQueue:
    """Ports waiting for detection: per host in arrival order, handed out round-robin over hosts,
    never more than ``per_host`` of one host at a time. :meth:`close` says no more jobs will
    come; :meth:`get` then returns None once everything queued has been handed out.

    Cost: waiting getters form a FIFO and every event (:meth:`put`, :meth:`done`) wakes at most
    one of them, so an event costs the same whatever the number of getters; only :meth:`close`
    wakes them all (each then returns None or takes what is left). A getter that is cancelled
    after being woken passes the wake-up on, so no job is left waiting while a getter sleeps."""

    def __init__(self, per_host: int | None = None) -> None:
        if per_host is not None and per_host < 1:
            raise ValueError(f"per-host parallelism must be at least 1, not {per_host}")
        self.per_host = per_host
        self._queued: dict[str, deque[PortJob]] = {}
        self._running: dict[str, int] = {}
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closed = False
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def waiting(self) -> int:
        """Getters asleep in :meth:`get` (a snapshot for tests and statistics)."""
        return sum(1 for waiter in self._waiters if not waiter.done())

    def put(self, job: PortJob) -> None:
        if self._closed:
            raise RuntimeError("put() on a closed JobQueue")
        self._queued.setdefault(job.address, deque()).append(job)
        self._count += 1
        self._wake_one()

    def close(self) -> None:
        self._closed = True
        while self._wake_one():
            pass

    async def get(self) -> PortJob | None:
        while True:
            job = self._pick()
            if self._closed and not self._count:
                self._wake_one()  # the end is passed from getter to getter
                return job
            if job is not None:
                return job
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():  # woken, then cancelled: pass it on
                    self._wake_one()
                raise

    def drop(self, address: str) -> int:
        """Forget the jobs of ``address`` not handed out yet (its host timed out); how many."""
        dropped = len(self._queued.pop(address, ()))
        self._count -= dropped
        return dropped

    def done(self, job: PortJob) -> None:
        """A job handed out by :meth:`get` is finished (its host may take another)."""
        left = self._running.get(job.address, 0) - 1
        if left > 0:
            self._running[job.address] = left
        else:
            self._running.pop(job.address, None)
        self._wake_one()

    def _pick(self) -> PortJob | None:
        for host in list(self._queued):
            running = self._running.get(host, 0)
            if self.per_host is not None and running >= self.per_host:
                continue
            jobs = self._queued.pop(host)  # re-inserted last: round-robin
            job = jobs.popleft()
            if jobs:
                self._queued[host] = jobs
            self._running[host] = running + 1
            self._count -= 1
            return job
        return None

    def _wake_one(self) -> bool:
        """Wake the longest-waiting getter still asleep; whether there was one."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return True
        return False


class Driver:
    """Service detection of many ports at once (see the module's docstring)."""

    def __init__(self, catalog: Catalog, config: EngineConfig, *, network: Network | None = None,
                 max_parallel: int = DEFAULT_MAX_PARALLEL, max_host_parallel: int | None = None,
                 on_trace: TraceSink | None = None) -> None:
        if max_parallel < 1:
            raise ValueError(f"max_parallel must be at least 1, not {max_parallel}")
        self.catalog, self.config = catalog, config
        self.network = network or Network()
        self.max_parallel = max_parallel
        self.max_host_parallel = max_host_parallel
        self._tasks: dict[str, set[asyncio.Task[None]]] = {}
        self.on_trace = on_trace
        self._flight: set[_PortIO] = set()

    def queue(self) -> JobQueue:
        """A job queue with this driver's per-host bound."""
        return JobQueue(self.max_host_parallel)

    async def run(self, jobs: JobQueue, on_result: Callable[[PortResult], None]) -> None:
        """Take jobs until the queue is closed and drained; ``on_result`` gets each result as
        soon as its port finishes. A task is made for each job taken, when a slot is free, so
        tasks, memory and the cost of a queue event follow the ports in flight, not the bound."""
        slots = asyncio.Semaphore(self.max_parallel)
        async with asyncio.TaskGroup() as ports:
            while True:
                await slots.acquire()  # first: a job is taken only when it can start at once
                job = await jobs.get()
                if job is None:
                    return
                task = ports.create_task(self._port(job, jobs, slots, on_result))
                self._tasks.setdefault(job.address, set()).add(task)
                task.add_done_callback(functools.partial(self._forget, job.address))

    def _forget(self, address: str, task: asyncio.Task[None]) -> None:
        running = self._tasks.get(address)
        if running is not None:
            running.discard(task)
            if not running:
                del self._tasks[address]

    def cancel_host(self, address: str) -> None:
        """Cancel the ports of ``address`` in detection now (its host timed out): they end
        without a result, their connections closed, their slots freed."""
        for task in list(self._tasks.pop(address, ())):
            task.cancel()

    async def scan(self, jobs: Iterable[PortJob], on_result: Callable[[PortResult], None]) -> None:
        """Detection of a known list of ports."""
        queue = self.queue()
        for job in jobs:
            queue.put(job)
        queue.close()
        await self.run(queue, on_result)

    async def detect(self, job: PortJob) -> PortResult:
        """Detection of one port, now (no queue, no bound)."""
        config = self.config if job.rtt is None else replace(self.config, rtt=job.rtt)
        engine = PortEngine(self.catalog, job.address, job.port, job.proto, state=job.state,
                            config=config, reason=job.reason)
        running: PortEngine | Detection = engine
        if config.plugins:
            running = Detection(engine, config.plugins, hostname=job.hostname)
        port = _PortIO(job.endpoint, self.network, self.on_trace)
        self._flight.add(port)
        try:
            return await port.drive(running)
        finally:
            self._flight.discard(port)

    def waits(self, now: float) -> list[PortWait]:
        """Each port in detection now (``now`` on the loop's clock): how long it has run, and
        how long until its engine's next deadline (a timeout it waits for, unless an answer
        comes first). A snapshot for progress estimates."""
        return [port.waiting(now) for port in self._flight]

    async def _port(self, job: PortJob, jobs: JobQueue, slots: asyncio.Semaphore,
                    on_result: Callable[[PortResult], None]) -> None:
        try:
            result = await self.detect(job)
        finally:
            jobs.done(job)
            slots.release()
        on_result(result)
