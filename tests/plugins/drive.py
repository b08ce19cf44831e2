"""Running a plugin's exchange against a scripted server, without sockets or time: the plugin
is sans-IO, so its steps are answered here directly. For unit tests of plugins and of their
protocol helpers.

A :class:`Server` answers what one connection received with some bytes; it takes plain
connections (``plain``) and TLS handshakes (``tls``) or refuses them. A connection's answer
is computed when the plugin first reads, handed over ``chunk`` bytes per read (so that
readers meet split lines), then the connection ends (EOF).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field

from sigscan.engine.plugin import (
    Clock,
    Open,
    Opened,
    Outcome,
    PortView,
    Read,
    Reply,
    ReplyEnd,
    Shut,
    Write,
)
from sigscan.engine.results import Method, PortState, Service

NOW = 1_715_700_000.0  # the wall clock the plugin reads


@dataclass(frozen=True)
class Server:
    answer: Callable[[bytes], bytes]
    plain: bool = True
    tls: bool = False


@dataclass
class Connection:
    tls: bool
    sent: bytes = b""
    answer: bytes | None = None


@dataclass
class Run:
    """What a drive saw: the result and every connection, in the order they were opened."""

    result: object
    connections: list[Connection] = field(default_factory=list)

    @property
    def requests(self) -> list[bytes]:
        return [c.sent for c in self.connections]


def view(port: int = 80, *, name: str | None = "http", conf: int = 10, product: str | None = None,
         servicefp: str | None = None, tunnel: str | None = None, hostname: str | None = None,
         intensity: int = 7, excluded: bool = False, proto: str = "tcp",
         cpe: tuple[str, ...] = (), extrainfo: str | None = None) -> PortView:
    service = Service(name, Method.PROBED if conf == 10 else Method.TABLE, conf, product=product,
                      extrainfo=extrainfo, servicefp=servicefp, tunnel=tunnel, cpe=cpe)
    return PortView("192.0.2.7", port, proto, PortState.OPEN, "syn-ack", service,
                    intensity=intensity, excluded=excluded, hostname=hostname)


def drive(exchange: Generator[object, object, object], server: Server, *, chunk: int = 1 << 20,
          max_steps: int = 100_000) -> Run:
    """Run ``exchange`` to its end against ``server``."""
    run = Run(None)
    answer: object = None
    for _ in range(max_steps):
        try:
            step = exchange.send(answer)
        except StopIteration as stop:
            run.result = stop.value
            return run
        answer = None
        if isinstance(step, Open):
            if not (server.tls if step.tls else server.plain):
                answer = Opened(None, "ECONNREFUSED")
                continue
            run.connections.append(Connection(step.tls))
            answer = Opened(len(run.connections) - 1)
        elif isinstance(step, Write):
            run.connections[step.conn].sent += step.data
        elif isinstance(step, Read):
            conn = run.connections[step.conn]
            if conn.answer is None:
                conn.answer = server.answer(conn.sent)
            data, conn.answer = conn.answer[:chunk], conn.answer[chunk:]
            answer = Reply(data, ReplyEnd.DATA) if data else Reply(b"", ReplyEnd.EOF)
        elif isinstance(step, Clock):
            answer = NOW
        elif not isinstance(step, Shut):
            raise AssertionError(f"unexpected step {step!r}")
    raise AssertionError("the exchange did not end")


def outcome(run: Run) -> Outcome | None:
    assert run.result is None or isinstance(run.result, Outcome)
    return run.result
