"""A scripted server for unit tests of one plugin: the plugin's steps are answered directly, on a
virtual clock, with no engine and no socket.

:class:`Peer` says what the server does: ``greet(n)`` the chunks sent when connection ``n``
(0-based) opens, ``answer(n, data)`` the chunks sent back for what the plugin sent on it, and
``starttls(n)`` whether a STARTTLS handshake on it works (after one, ``Transcript.tls`` says
so). A chunk of None closes the connection. A read gets every chunk queued for its connection (TCP; UDP: one
datagram); with nothing queued it times out, and the clock moves on by its timeout.
:func:`talk` runs a plugin to its end and returns the outcome and what was sent.
:func:`silent_run` runs one through the engine's ``PluginRun`` against a silent server, so
that its timeouts and the run's own bound play as in a scan.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sigscan.engine.config import EngineConfig
from sigscan.engine.events import Action, Connect, Connected, Proto, Timer
from sigscan.engine.plugin import (
    Clock,
    Exchange,
    Open,
    Opened,
    Outcome,
    Plugin,
    PortView,
    Read,
    Reply,
    ReplyEnd,
    Secure,
    Shut,
    Write,
)
from sigscan.engine.scripts import FIRST_CONN, PluginRun

Chunks = Iterable[bytes | None]
MAX_STEPS = 100_000
START = 1_800_000_000.0  # the virtual wall clock at the start, Unix seconds


@dataclass
class Peer:
    greet: Callable[[int], Chunks] = lambda n: ()
    answer: Callable[[int, bytes], Chunks] = lambda n, data: ()
    refuse: Callable[[int, bool], bool] = lambda n, tls: False  # (connection, tls) -> refused
    starttls: Callable[[int], bool] = lambda n: False
    udp: bool = False


@dataclass
class Transcript:
    """What happened: each connection's writes, in order, and whether it was TLS."""

    sent: list[list[bytes]] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)
    closed: set[int] = field(default_factory=set)
    now: float = START

    @property
    def connections(self) -> int:
        return len(self.sent)


def talk(run: Callable[[PortView], Exchange], view: PortView, peer: Peer) -> tuple[Outcome | None, Transcript]:
    """Run ``run(view)`` against ``peer`` to its end."""
    log = Transcript()
    queues: list[deque[bytes | None]] = []
    gen = run(view)
    answer: object = None
    for _ in range(MAX_STEPS):
        try:
            step = gen.send(answer)
        except StopIteration as stop:
            assert stop.value is None or isinstance(stop.value, Outcome)
            return stop.value, log
        answer = None
        if isinstance(step, Open):
            index = len(log.sent)
            log.sent.append([])
            log.tls.append(step.tls)
            queues.append(deque())
            if peer.refuse(index, step.tls):
                log.closed.add(index)
                answer = Opened(None, "ECONNREFUSED")
            else:
                queues[index].extend(peer.greet(index))
                answer = Opened(index + 1)
        elif isinstance(step, Write):
            index = step.conn - 1
            log.sent[index].append(step.data)
            if index not in log.closed:
                queues[index].extend(peer.answer(index, step.data))
        elif isinstance(step, Read):
            answer = _read(queues[step.conn - 1], step, peer.udp, log)
        elif isinstance(step, Secure):
            index = step.conn - 1
            if index in log.closed or not peer.starttls(index):
                log.closed.add(index)
                answer = Opened(None, "EIO")
            else:
                log.tls[index] = True
                answer = Opened(step.conn)
        elif isinstance(step, Shut):
            log.closed.add(step.conn - 1)
        elif isinstance(step, Clock):
            answer = log.now
        else:
            raise AssertionError(f"unknown step {step!r}")
    raise AssertionError(f"the plugin took more than {MAX_STEPS} steps")


def _read(queue: deque[bytes | None], step: Read, udp: bool, log: Transcript) -> Reply:
    if udp:
        if queue and queue[0] is not None:
            return Reply(queue.popleft() or b"", ReplyEnd.DATA)
        log.now += step.timeout
        return Reply(b"", ReplyEnd.TIMEOUT)
    data = b""
    while queue and queue[0] is not None:
        data += queue.popleft() or b""
    if len(data) >= max(step.at_least, 1):
        return Reply(data, ReplyEnd.DATA)
    if queue:  # the close marker stays: every later read sees the end too
        return Reply(data, ReplyEnd.EOF)
    log.now += step.timeout
    return Reply(data, ReplyEnd.TIMEOUT)


def silent_run(plugin: Plugin, view: PortView) -> tuple[Outcome | None, float, list[str]]:
    """``plugin`` through the engine's :class:`PluginRun` against a server that accepts every
    connection and never sends a byte: the outcome, when the run ended, and its notes. The run's
    own bound (``Plugin.timeout``) applies, as in a scan."""
    run = PluginRun(plugin, view, proto=Proto(view.proto), first_conn=FIRST_CONN,
                    config=EngineConfig(), unix_offset=START)
    actions: list[Action] = run.start(0.0)
    now = 0.0
    for _ in range(MAX_STEPS):
        if run.done:
            return run.outcome, now, run.notes
        connects = [a for a in actions if isinstance(a, Connect)]
        if connects:
            actions = run.feed(Connected(connects[0].conn, now))
            continue
        deadline = run.deadline
        assert deadline is not None
        now = deadline
        actions = run.feed(Timer(now))
    raise AssertionError(f"the run took more than {MAX_STEPS} steps")
