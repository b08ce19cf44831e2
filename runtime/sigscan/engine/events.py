"""The engine's vocabulary: events the transport feeds in, actions the engine asks for.

The engine is sans-IO. A driver owns sockets and clocks; it feeds one :class:`PortEngine` (one
per host/port/protocol) events carrying the current time, and performs the actions that come
back. Times are seconds on the driver's monotonic clock (floats); deadlines are absolute.

Connections are named by small integers the engine chooses (``conn``), unique per port. The
driver answers each :class:`Connect` with exactly one of :class:`Connected`, :class:`TlsReady`
(for ``tls=True``), :class:`ConnectFailed` or :class:`TlsFailed`; after that it reports bytes
(:class:`Data`), the peer's orderly close (:class:`Closed`) or an error (:class:`Reset`) for that
connection until the engine sends :class:`Close`. A :class:`StartTls` on a plain TCP connection
(a version plugin's STARTTLS) is answered with :class:`TlsReady` or :class:`TlsFailed` (the
connection is then dead) for that connection; bytes after it come through TLS. A :class:`Timer` event is delivered at (or
after) the latest :class:`WaitUntil` deadline; the engine ignores stale timers.

:class:`Trace` is the engine's one channel for saying what it does (``--version-trace``): a
line of text, returned among the actions only when the engine's configuration asks for tracing
(:attr:`~sigscan.engine.config.EngineConfig.trace`), in the order the events happened. A driver
hands it to whoever shows the trace and otherwise ignores it; it asks for no I/O on the port.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sigscan.engine.results import PortResult


class Proto(enum.Enum):
    TCP = "tcp"
    UDP = "udp"


# --------------------------------------------------------------------------- events (driver → engine)


@dataclass(frozen=True, slots=True)
class Connected:
    """A plain TCP connection completed (UDP: the socket is ready)."""

    conn: int
    now: float


@dataclass(frozen=True, slots=True)
class TlsReady:
    """A TLS connection completed its handshake. ``subject`` is the peer certificate's subject
    as text, or None (no verification is done)."""

    conn: int
    now: float
    subject: str | None = None
    version: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectFailed:
    """The connection was refused, timed out, or failed otherwise; ``error`` is the errno name
    (``ECONNREFUSED``, ``ETIMEDOUT``, ``EHOSTUNREACH``, …)."""

    conn: int
    now: float
    error: str


@dataclass(frozen=True, slots=True)
class TlsFailed:
    """The TCP connection worked but the TLS handshake did not."""

    conn: int
    now: float
    error: str


@dataclass(frozen=True, slots=True)
class Data:
    """Bytes arrived on ``conn`` (a TCP read, or one UDP datagram)."""

    conn: int
    now: float
    data: bytes


@dataclass(frozen=True, slots=True)
class Closed:
    """The peer closed ``conn`` in order (EOF)."""

    conn: int
    now: float


@dataclass(frozen=True, slots=True)
class Reset:
    """A read or write on ``conn`` failed; ``error`` is the errno name (``ECONNRESET``, ``EPIPE``,
    ``EHOSTUNREACH``, …) as Nmap's read handler distinguishes them."""

    conn: int
    now: float
    error: str


@dataclass(frozen=True, slots=True)
class Timer:
    """The clock reached a deadline the engine asked for."""

    now: float


Event = Connected | TlsReady | ConnectFailed | TlsFailed | Data | Closed | Reset | Timer


# --------------------------------------------------------------------------- actions (engine → driver)


@dataclass(frozen=True, slots=True)
class Connect:
    """Open connection ``conn`` to the port (TLS when ``tls``), giving up at ``deadline``."""

    conn: int
    proto: Proto
    tls: bool
    deadline: float


@dataclass(frozen=True, slots=True)
class StartTls:
    """Start TLS on the plain TCP connection ``conn`` (STARTTLS), giving up at ``deadline``."""

    conn: int
    deadline: float


@dataclass(frozen=True, slots=True)
class Send:
    conn: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Close:
    conn: int


@dataclass(frozen=True, slots=True)
class WaitUntil:
    """Deliver a :class:`Timer` at ``deadline`` unless another event comes first. A later
    ``WaitUntil`` replaces an earlier one."""

    deadline: float


@dataclass(frozen=True, slots=True)
class Report:
    """The port is finished: this is its result. No action follows."""

    result: PortResult


@dataclass(frozen=True, slots=True)
class Trace:
    """One line of the version trace (no line break), for the driver to pass on."""

    text: str


Action = Connect | StartTls | Send | Close | WaitUntil | Report | Trace
