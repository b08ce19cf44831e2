"""Version plugins: what Nmap's ``version``-category NSE scripts do, as small sans-IO exchanges.

``nmap -sV`` runs those scripts after the probe phase, on the ports their port rule accepts, and
they change the verdict (``nmap.set_port_version``) or add lines of output. A :class:`Plugin` is
the same thing on the engine's terms:

- ``rule(view)`` is the script's port rule. It sees the port as the probe phase left it
  (:class:`PortView`: number, protocol, state, the service record, the intensity, whether the
  port is excluded); :mod:`sigscan.plugins.rules` has Nmap's ``shortport`` rules.
- ``run(view)`` returns an :data:`Exchange`: a generator that yields :data:`Step` requests
  (open a connection to the port, send, receive with a timeout, close, read the clock) and gets
  each answer back, and finally returns an :class:`Outcome` (or None: nothing to say). It does no
  I/O itself: :class:`PluginRun` turns its steps into the engine's actions and the driver's
  events into its answers, so a plugin runs over real sockets, in the fake network of the tests,
  or on recorded replies alike.

Plugin code is written with the step helpers: ``conn = yield from connect()``,
``yield from send(conn, data)``, ``reply = yield from receive(conn, 5.0)``,
``reply = yield from exchange(data, 5.0)`` (Nmap's ``comm.exchange``),
``opened = yield from starttls(conn)`` (NSE's ``reconnect_ssl``: TLS on the open connection).

An :class:`Outcome` says what the script would set: ``version`` is the port's version table
after the script's changes (``nmap.set_port_version``: the whole record replaces the old one,
with ``probestate`` giving the method and confidence), ``output`` the script's output text (its
``|`` lines), ``state`` a state the script sets (``nmap.set_port_state``, reason ``script-set``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Generator
from dataclasses import dataclass

from sigscan.bundle.records import RpcRecord
from sigscan.engine.results import Method, PortState, Service


class ProbeState(enum.Enum):
    """The state ``nmap.set_port_version`` records (it gives method and confidence)."""

    HARDMATCHED = "hardmatched"
    SOFTMATCHED = "softmatched"
    NOMATCH = "nomatch"
    TCPWRAPPED = "tcpwrapped"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True, slots=True)
class PortView:
    """A port as a plugin's rule and run see it: Nmap's ``host`` and ``port`` tables.

    ``service`` is never None: a port with no name has ``Service(None, Method.TABLE, 3)``.
    ``service.name`` is what NSE calls ``port.service``. ``hostname`` is the name the user gave
    for the host (None for an address). ``rpc_programs`` is the bundle's ``nmap-rpc`` table in
    file order (what ``rpc-grind`` iterates and ``rpcinfo`` names programs by)."""

    host: str
    port: int
    proto: str  # "tcp" | "udp"
    state: PortState
    reason: str
    service: Service
    intensity: int = 7
    excluded: bool = False
    hostname: str | None = None
    rpc_programs: tuple[RpcRecord, ...] = ()

    @property
    def name(self) -> str | None:
        return self.service.name

    @property
    def target(self) -> str:
        """The host as a protocol names it (a Host header, a JID domain): the name given, or
        the address."""
        return self.hostname or self.host


# --------------------------------------------------------------------------- steps (plugin → runner)


@dataclass(frozen=True, slots=True)
class Open:
    """Open a connection to the port (same protocol; TLS when ``tls``; UDP to the same port
    number when ``udp``, as a script's ``comm.exchange(host, port.number, …, {proto="udp"})``).
    Answer: :class:`Opened`."""

    tls: bool = False
    udp: bool = False


@dataclass(frozen=True, slots=True)
class Write:
    """Send ``data`` on ``conn`` (a UDP datagram on a UDP port). Answer: None."""

    conn: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Read:
    """Wait up to ``timeout`` seconds until ``conn`` holds at least ``at_least`` unread bytes
    (UDP: one datagram, whatever ``at_least``). Answer: :class:`Reply` with all unread bytes."""

    conn: int
    timeout: float
    at_least: int = 1


@dataclass(frozen=True, slots=True)
class Shut:
    """Close ``conn``. Answer: None."""

    conn: int


@dataclass(frozen=True, slots=True)
class Secure:
    """Start TLS on the open TCP connection ``conn`` (STARTTLS; NSE's ``reconnect_ssl``).
    Answer: :class:`Opened` with ``conn`` (now TLS), or with None and the error, the
    connection then closed."""

    conn: int


@dataclass(frozen=True, slots=True)
class Clock:
    """Answer: the wall-clock time, Unix seconds (a float)."""


Step = Open | Write | Read | Shut | Secure | Clock


# --------------------------------------------------------------------------- answers (runner → plugin)


@dataclass(frozen=True, slots=True)
class Opened:
    """``conn`` is the connection, or None when it failed (``error`` says why). ``subject`` is
    the TLS certificate subject, if any."""

    conn: int | None
    error: str | None = None
    subject: str | None = None


class ReplyEnd(enum.Enum):
    DATA = "data"  # at least the bytes asked for came
    TIMEOUT = "timeout"
    EOF = "eof"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Reply:
    """What a :class:`Read` got: the bytes (possibly fewer than asked for) and why it ended."""

    data: bytes
    end: ReplyEnd
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.end is ReplyEnd.DATA


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a plugin's run found (see the module's docstring). ``note`` goes to the port's notes
    (``-v``, trace) without changing anything."""

    output: str | None = None
    version: Service | None = None
    probestate: ProbeState = ProbeState.HARDMATCHED
    state: PortState | None = None
    note: str | None = None


Exchange = Generator[Step, object, Outcome | None]

SCRIPT_ERROR = "ERROR: Script execution failed (use -d to debug)"
"""What Nmap prints as a script's output when the script raises an error (without ``-d``); the
runner gives a plugin that raises the same output. A plugin whose script changes the port
before the point where it fails returns ``Outcome(output=SCRIPT_ERROR, state=…)`` itself."""


@dataclass(frozen=True, slots=True)
class Plugin:
    """One version plugin. ``name`` is the Nmap script it mirrors (``snmp-info``); ``nmap`` says
    whether Nmap 7.93's ``-sV`` runs that script (``--profile nmap`` runs exactly those);
    ``timeout`` bounds a whole run in seconds, whatever the server does. ``dependencies`` are
    the script's: plugins that run before it when both are selected (NSE's runlevels), so that
    its rule and run see what they changed."""

    name: str
    rule: Callable[[PortView], bool]
    run: Callable[[PortView], Exchange]
    nmap: bool = True
    timeout: float = 30.0
    summary: str = ""
    dependencies: tuple[str, ...] = ()


# --------------------------------------------------------------------------- helpers for plugin code


def connect(tls: bool = False, *, udp: bool = False) -> Generator[Step, object, Opened]:
    """Open a connection to the port (``udp``: a UDP socket to its number, whatever its
    protocol)."""
    answer = yield Open(tls, udp)
    assert isinstance(answer, Opened)
    return answer


def send(conn: int, data: bytes) -> Generator[Step, object, None]:
    yield Write(conn, data)


def receive(conn: int, timeout: float, at_least: int = 1) -> Generator[Step, object, Reply]:
    answer = yield Read(conn, timeout, at_least)
    assert isinstance(answer, Reply)
    return answer


def close(conn: int) -> Generator[Step, object, None]:
    yield Shut(conn)


def starttls(conn: int) -> Generator[Step, object, Opened]:
    """TLS on the open connection ``conn`` (see :class:`Secure`)."""
    answer = yield Secure(conn)
    assert isinstance(answer, Opened)
    return answer


def clock() -> Generator[Step, object, float]:
    answer = yield Clock()
    assert isinstance(answer, float)
    return answer


def exchange(data: bytes, timeout: float, *, tls: bool = False,
             at_least: int = 1) -> Generator[Step, object, Reply]:
    """Nmap's ``comm.exchange``: connect, send ``data``, read once, close. A failed connect
    answers ``Reply(b"", ReplyEnd.ERROR, error)``."""
    opened = yield from connect(tls)
    if opened.conn is None:
        return Reply(b"", ReplyEnd.ERROR, opened.error)
    yield from send(opened.conn, data)
    reply = yield from receive(opened.conn, timeout, at_least)
    yield from close(opened.conn)
    return reply


NO_SERVICE = Service(None, Method.TABLE, 3)
