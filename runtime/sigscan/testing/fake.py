"""A fake network and clock that drive a :class:`~sigscan.engine.port.PortEngine` to its end.

For tests of the engine and of anything built on it: a scripted server replaces the real port,
and time is virtual, so a 6-second Nmap wait costs nothing. Usage::

    server = Server(Behaviour(banner=(send(b"220 hello\\r\\n"),)))
    fake = FakeTransport(server)
    result = fake.run(PortEngine(catalog, "127.0.0.1", 21, Proto.TCP))

The server is described per connection (:class:`Behaviour`): steps on connect (a banner after a
delay, a close, a reset), rules that answer when the bytes received match a pattern, an optional
function that computes answers, a refused or slow connect. TLS connections use
:attr:`Server.tls` once the handshake succeeds (None: every handshake fails); so does a plain
connection after a :class:`~sigscan.engine.events.StartTls` (what it received before is
forgotten, as a new TLS stream starts). Every step's bytes
reach the engine ``rtt / 2`` after the server acts; connects take ``rtt`` (TLS: twice that).

For UDP, ``Behaviour.rules`` are matched against each datagram on its own (and may fire again),
``refuse`` answers every datagram with an ICMP error (``Reset(ECONNREFUSED)``), banners are unused.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sigscan.engine.events import (
    Action,
    Close,
    Closed,
    Connect,
    Connected,
    ConnectFailed,
    Data,
    Event,
    Proto,
    Report,
    Reset,
    Send,
    StartTls,
    Timer,
    TlsFailed,
    TlsReady,
    WaitUntil,
)
from sigscan.engine.port import PortEngine
from sigscan.engine.results import PortResult
from sigscan.engine.scripts import Detection


@dataclass(frozen=True, slots=True)
class Step:
    """What the server does ``after`` seconds after its trigger: send bytes, then maybe close
    the connection in order (``close``) or fail it (``reset``: the error name the engine sees)."""

    after: float = 0.0
    send: bytes = b""
    close: bool = False
    reset: str | None = None


def send(data: bytes, after: float = 0.0) -> Step:
    return Step(after, send=data)


def close(after: float = 0.0, data: bytes = b"") -> Step:
    return Step(after, send=data, close=True)


def reset(after: float = 0.0, error: str = "ECONNRESET", data: bytes = b"") -> Step:
    return Step(after, send=data, reset=error)


@dataclass(frozen=True, slots=True)
class Rule:
    """When the bytes received on the connection so far contain a match of ``when`` (a regex
    over bytes, DOTALL), do ``then``. A TCP rule fires at most once per connection."""

    when: bytes
    then: tuple[Step, ...]


def on(when: bytes, *then: Step) -> Rule:
    return Rule(when, then)


@dataclass(frozen=True, slots=True)
class Behaviour:
    """The server's side of one connection.

    ``answer`` is called with each message the engine sends (after the rules) and returns more
    steps. ``refuse``: the connect fails with ``ECONNREFUSED``. ``connect_delay``: the connect
    completes that much later (a ``ETIMEDOUT`` failure at the engine's deadline if later)."""

    banner: tuple[Step, ...] = ()
    rules: tuple[Rule, ...] = ()
    answer: Callable[[bytes], Sequence[Step]] | None = None
    refuse: bool = False
    connect_delay: float = 0.0


@dataclass(frozen=True, slots=True)
class Server:
    """``plain`` serves plain connections, ``tls`` the ones whose handshake succeeds (None: the
    handshake always fails). ``per_connection[n]``, when present and not None, replaces
    ``plain``/``tls`` for the n-th connection (0-based, in the order the engine opens them)."""

    plain: Behaviour = field(default_factory=Behaviour)
    tls: Behaviour | None = None
    per_connection: tuple[Behaviour | None, ...] = ()
    subject: str | None = "CN=fake"


@dataclass(slots=True)
class Connection:
    """What happened on one connection, for assertions."""

    conn: int
    tls: bool
    opened: float
    behaviour: Behaviour
    received: bytearray = field(default_factory=bytearray)  # what the engine sent
    messages: list[bytes] = field(default_factory=list)
    fired: set[int] = field(default_factory=set)
    closed_by_engine: float | None = None
    server_closed: float | None = None  # when the server closed or reset it
    connected: bool = False


class EngineStuck(RuntimeError):
    """The engine did not finish within the fake's step or time limit."""


class FakeTransport:
    """Runs one engine against a scripted :class:`Server` on a virtual clock.

    After :meth:`run`: ``log`` holds every ``(time, event or action)`` in order, ``connections``
    each connection's record, ``now`` the clock."""

    def __init__(self, server: Server, *, rtt: float = 0.001) -> None:
        self.server = server
        self.rtt = rtt
        self.now = 0.0
        self.log: list[tuple[float, Event | Action]] = []
        self.connections: dict[int, Connection] = {}
        self._protos: dict[int, Proto] = {}  # each connection's protocol (a plugin may open UDP on a TCP port)
        self._queue: list[tuple[float, int, Event]] = []
        self._seq = 0
        self._timer: float | None = None
        self._result: PortResult | None = None

    # -- driving -------------------------------------------------------------------------------

    def run(self, engine: PortEngine | Detection, *, start: float = 0.0, limit: float = 100_000.0,
            max_steps: int = 200_000) -> PortResult:
        self.now = start
        self._perform(engine, engine.start(start))
        for _ in range(max_steps):
            if self._result is not None:
                return self._result
            event = self._next(limit)
            self.log.append((self.now, event))
            self._perform(engine, engine.feed(event))
        raise EngineStuck(f"no report after {max_steps} steps (clock {self.now})")

    def _next(self, limit: float) -> Event:
        head = self._queue[0][0] if self._queue else None
        if self._timer is not None and (head is None or self._timer < head):
            self.now, self._timer = max(self.now, self._timer), None
            return Timer(self.now)
        if head is None or head > limit:
            raise EngineStuck(f"nothing left to deliver at {self.now} and no timer")
        _, _, event = heapq.heappop(self._queue)
        self.now = max(self.now, head)
        return event

    def _perform(self, engine: PortEngine | Detection, actions: list[Action]) -> None:
        for action in actions:
            self.log.append((self.now, action))
            if isinstance(action, Connect):
                self._connect(action)
            elif isinstance(action, StartTls):
                self._start_tls(action)
            elif isinstance(action, Send):
                self._receive(self._protos.get(action.conn, engine.proto), action)
            elif isinstance(action, Close):
                self.connections[action.conn].closed_by_engine = self.now
                self._queue = [item for item in self._queue if _conn(item[2]) != action.conn]
                heapq.heapify(self._queue)
            elif isinstance(action, WaitUntil):
                self._timer = action.deadline
            elif isinstance(action, Report):
                self._result = action.result

    def _deliver(self, when: float, event: Event) -> None:
        heapq.heappush(self._queue, (when, self._seq, event))
        self._seq += 1

    # -- the server ----------------------------------------------------------------------------

    def _behaviour(self, tls: bool) -> tuple[Behaviour | None, bool]:
        """The behaviour of the next connection, and whether its connect is refused."""
        index = len(self.connections)
        overrides = self.server.per_connection
        override = overrides[index] if index < len(overrides) else None
        if override is not None:
            return override, override.refuse
        return (self.server.tls if tls else self.server.plain), self.server.plain.refuse

    def _connect(self, action: Connect) -> None:
        behaviour, refused = self._behaviour(action.tls)
        record = Connection(action.conn, action.tls, self.now, behaviour or Behaviour())
        self.connections[action.conn] = record
        self._protos[action.conn] = action.proto
        if action.proto is Proto.UDP:
            record.connected = True
            self._deliver(self.now, Connected(action.conn, self.now))
            return
        if refused:
            failed = self.now + self.rtt
            self._deliver(failed, ConnectFailed(action.conn, failed, "ECONNREFUSED"))
            return
        done = self.now + self.rtt * (2 if action.tls else 1) + record.behaviour.connect_delay
        if done > action.deadline:
            self._deliver(action.deadline, ConnectFailed(action.conn, action.deadline, "ETIMEDOUT"))
        elif behaviour is None:
            self._deliver(done, TlsFailed(action.conn, done, "handshake failed"))
        else:
            record.connected = True
            ready: Event = (TlsReady(action.conn, done, self.server.subject, "TLSv1.3") if action.tls
                            else Connected(action.conn, done))
            self._deliver(done, ready)
            self._steps(record, done - self.rtt / 2, record.behaviour.banner)

    def _start_tls(self, action: StartTls) -> None:
        record = self.connections[action.conn]
        done = self.now + self.rtt
        if record.server_closed is not None:
            return
        if self.server.tls is None or done > action.deadline:
            record.server_closed = done
            failed = min(done, action.deadline)
            self._deliver(failed, TlsFailed(action.conn, failed, "handshake failed"))
            return
        record.tls, record.behaviour = True, self.server.tls
        record.received, record.fired = bytearray(), set()
        self._deliver(done, TlsReady(action.conn, done, self.server.subject, "TLSv1.3"))

    def _receive(self, proto: Proto, action: Send) -> None:
        record = self.connections[action.conn]
        arrival = self.now + self.rtt / 2
        if record.server_closed is not None and arrival >= record.server_closed:
            return
        record.received += action.data
        record.messages.append(action.data)
        behaviour = record.behaviour
        if proto is Proto.UDP:
            if behaviour.refuse:
                self._deliver(arrival + self.rtt / 2, Reset(action.conn, arrival + self.rtt / 2, "ECONNREFUSED"))
            for rule in behaviour.rules:
                if re.search(rule.when, action.data, re.S):
                    self._steps(record, arrival, rule.then)
        else:
            for i, rule in enumerate(behaviour.rules):
                if i not in record.fired and re.search(rule.when, bytes(record.received), re.S):
                    record.fired.add(i)
                    self._steps(record, arrival, rule.then)
        if behaviour.answer is not None:
            self._steps(record, arrival, tuple(behaviour.answer(action.data)))

    def _steps(self, record: Connection, start: float, steps: Sequence[Step]) -> None:
        for step in steps:
            acted = start + step.after
            if record.server_closed is not None and acted >= record.server_closed:
                return
            when = acted + self.rtt / 2
            if step.send:
                self._deliver(when, Data(record.conn, when, step.send))
            if step.close or step.reset is not None:
                record.server_closed = acted
                end: Event = (Closed(record.conn, when) if step.close
                              else Reset(record.conn, when, step.reset or "ECONNRESET"))
                self._deliver(when, end)

    # -- views for assertions ------------------------------------------------------------------

    def sent(self) -> list[tuple[int, bytes]]:
        """Every message the engine sent, as (connection, bytes), in order."""
        return [(a.conn, a.data) for _, a in self.log if isinstance(a, Send)]

    def opened(self) -> list[Connect]:
        return [a for _, a in self.log if isinstance(a, Connect)]


def _conn(event: Event) -> int | None:
    return None if isinstance(event, Timer) else event.conn
