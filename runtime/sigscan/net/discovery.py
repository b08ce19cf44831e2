"""Port discovery: a TCP connect scan of the requested ports (Nmap's ``-sT``).

Each port gets a non-blocking ``connect()`` bounded by ``timeout``; the socket is then reset
(``SO_LINGER`` 0: no ``TIME_WAIT`` left behind by scans of many ports). What the connect's errno
says of the port is the table :data:`ANSWERS`, taken from Nmap 7.93's connect scan (checked with
``nmap -sT --reason`` against loopback servers and ICMP answers in a network namespace:
tests/hostile/test_scan_faults.py):

- connected: ``open``, reason ``syn-ack``, and the connect time is an RTT sample;
- ``ECONNRESET``/``EPIPE``: ``open``, ``syn-ack`` too. The handshake completed and the peer
  reset before the connect was seen done (a server that accepts and resets at once); Nmap calls it
  a strange error, tries again and reports ``open``/``syn-ack``;
- ``ECONNREFUSED``: ``closed``, ``conn-refused``;
- no answer within ``timeout`` (``ETIMEDOUT``), ``EHOSTDOWN``: ``filtered``, ``no-response``;
- ICMP answers: ``ENETUNREACH`` ``net-unreach``, ``EHOSTUNREACH`` ``host-unreach``, ``ENOPROTOOPT``
  ``proto-unreach``, ``EACCES`` ``admin-prohibited``, ``ENONET`` ``dest-unreach``, all ``filtered``.
  Two differ from Nmap on purpose: ``EPROTO`` (ICMP parameter problem) is ``filtered``
  ``param-problem`` and ``EOPNOTSUPP`` (source route failed) ``filtered`` ``dest-unreach``, where
  Nmap 7.93 logs a strange error and then reports ``open``/``syn-ack`` for a port that never
  answered.

Two kinds of errno judge nothing. A shortage on this machine (:data:`SHORTAGE`: out of file
descriptors, buffers, memory or local ports) is waited out: the connect is tried again after a
pause that doubles up to :data:`MAX_PAUSE`, for :data:`SHORTAGE_PATIENCE` seconds at most, then
the port is reported ``filtered``/``no-response`` with a note. Any other errno (``EINVAL`` from a
blackhole route, ``EPERM`` from a local firewall rule, ``ENETDOWN``…) is, as Nmap does, tried
again (:data:`STRANGE_TRIES` in all) and then reported ``filtered``/``no-response`` with a note
naming it. A note is said on stderr with ``-v``.

The outcome is always read from the socket itself, when it turns writable or when the time is
up, whichever the loop sees first: a connect the kernel finished while the event loop was late
(a loaded machine) counts with its real outcome, not as no answer.

A connect that gets no answer in its time may be made again (``--max-retries``: :class:`Pace`),
and every connect may have to wait for its turn (``--scan-delay``, ``--max-rate``:
:mod:`sigscan.net.pace`).

The connects of a scan share one bound (``limiter``, :data:`DEFAULT_PARALLEL` by default) and
tasks are made only when a slot is free, so a ``-p-`` scan holds a bounded number of sockets and
tasks. UDP has no discovery: UDP ports go straight to probing as ``open|filtered``.

:class:`RttEstimate` smooths the samples as TCP does (RFC 6298: ``srtt = 7/8 srtt + 1/8 r``); the
fast profile scales its waits to it, and the text output prints it as the host's latency.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sigscan.engine.results import PortState
from sigscan.net.pace import Pacer
from sigscan.net.transport import FIRST_PAUSE, MAX_PAUSE, SHORTAGE

DEFAULT_PARALLEL = 128  # connects in flight
DEFAULT_TIMEOUT = 3.0  # seconds: the kernel retransmits an unanswered SYN once in that time
SHORTAGE_PATIENCE = 30.0  # seconds a port waits for this machine to give it a socket
STRANGE_TRIES = 3  # connects given to a port whose errno says nothing Nmap knows
STRANGE_PAUSE = 0.2  # seconds between them
_LINGER_RESET = struct.pack("ii", 1, 0)
_OPEN = (PortState.OPEN, "syn-ack")
_NO_RESPONSE = (PortState.FILTERED, "no-response")

ANSWERS: dict[int, tuple[PortState, str]] = {
    0: _OPEN,
    errno.ECONNRESET: _OPEN,
    errno.EPIPE: _OPEN,
    errno.ECONNREFUSED: (PortState.CLOSED, "conn-refused"),
    errno.ETIMEDOUT: _NO_RESPONSE,
    errno.EHOSTDOWN: _NO_RESPONSE,
    errno.ENETUNREACH: (PortState.FILTERED, "net-unreach"),
    errno.EHOSTUNREACH: (PortState.FILTERED, "host-unreach"),
    errno.ENOPROTOOPT: (PortState.FILTERED, "proto-unreach"),
    errno.EACCES: (PortState.FILTERED, "admin-prohibited"),
    errno.ENONET: (PortState.FILTERED, "dest-unreach"),
    errno.EPROTO: (PortState.FILTERED, "param-problem"),
    errno.EOPNOTSUPP: (PortState.FILTERED, "dest-unreach"),
}


@dataclass(frozen=True, slots=True)
class PortStatus:
    """What the connect scan found for one TCP port; ``rtt`` is the connect time when open;
    ``note`` says why a port was judged without an answer from it (for ``-v``)."""

    port: int
    state: PortState
    reason: str
    rtt: float | None = None
    note: str | None = None


class RttEstimate:
    """The smoothed connect round trip of one host (None until a sample arrives)."""

    def __init__(self) -> None:
        self.srtt: float | None = None
        self.samples = 0

    def add(self, sample: float) -> None:
        self.samples += 1
        self.srtt = sample if self.srtt is None else 0.875 * self.srtt + 0.125 * sample


async def probe_port(address: str, port: int, *, timeout: float = DEFAULT_TIMEOUT,
                     patience: float = SHORTAGE_PATIENCE, retries: int = 0,
                     pacer: Pacer | None = None) -> PortStatus:
    """Connect to ``address:port`` (IPv4 or IPv6) until the errno says something of the port
    (see the module's docstring), and what it says. A connect that gets no answer in
    ``timeout`` is made again, ``retries`` more times at most (``--max-retries``); every connect
    waits for its turn with ``pacer`` (``--scan-delay``, ``--max-rate``)."""
    strange: list[int] = []
    pause, waited = FIRST_PAUSE, 0.0
    unanswered = 0
    while True:
        if pacer is not None:
            await pacer.turn()
        code, rtt = await _attempt(address, port, timeout)
        if code == errno.ETIMEDOUT and unanswered < retries:
            unanswered += 1
            continue
        if code in ANSWERS:
            state, reason = ANSWERS[code]
            return PortStatus(port, state, reason, rtt)
        if code in SHORTAGE:
            if waited >= patience:
                return PortStatus(port, *_NO_RESPONSE, note=f"no socket for {patience:g} s "
                                  f"({_describe(code)}); state unknown, reported filtered")
            await asyncio.sleep(pause)
            waited += pause
            pause = min(pause * 2, MAX_PAUSE)
            continue
        strange.append(code)
        if len(strange) >= STRANGE_TRIES:
            return PortStatus(port, *_NO_RESPONSE, note=f"connect failed {len(strange)} times with "
                              f"{_describe(code)}; reported filtered/no-response, as Nmap does")
        await asyncio.sleep(STRANGE_PAUSE)


async def _attempt(address: str, port: int, timeout: float) -> tuple[int, float | None]:
    """One connect: its errno (0: connected) and, when connected in time, how long it took."""
    loop = asyncio.get_running_loop()
    try:
        sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
    except OSError as exc:
        return _code(exc), None
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        started = loop.time()
        code = sock.connect_ex((address, port))
        if code != errno.EINPROGRESS:
            return code, (loop.time() - started if code == 0 else None)
        in_time = await _writable(loop, sock, timeout)
        code = _settled(sock)
        return code, (loop.time() - started if code == 0 and in_time else None)
    except OSError as exc:
        return _code(exc), None
    finally:
        sock.close()


async def _writable(loop: asyncio.AbstractEventLoop, sock: socket.socket, timeout: float) -> bool:
    """Wait until ``sock`` turns writable (its connect ended), at most ``timeout``: whether it did.
    Either way the caller reads the outcome from the socket itself, so an answer the kernel holds
    when a late loop fires the timeout still counts."""
    ready: asyncio.Future[None] = loop.create_future()
    loop.add_writer(sock, _wake, ready)
    try:
        async with asyncio.timeout(timeout):
            await ready
    except TimeoutError:
        return False
    finally:
        loop.remove_writer(sock)
    return True


def _wake(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


def _settled(sock: socket.socket) -> int:
    """The outcome of a connect, read from the socket: its pending error, else 0 when connected,
    else ``ETIMEDOUT`` (still in progress: no answer)."""
    code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if code:
        return code
    try:
        sock.getpeername()
    except OSError:
        return errno.ETIMEDOUT
    return 0


def _code(exc: OSError) -> int:
    return exc.errno if exc.errno is not None else errno.EIO


def _describe(code: int) -> str:
    return f"{errno.errorcode.get(code, str(code))} ({os.strerror(code)})"


@dataclass(frozen=True, slots=True)
class Pace:
    """How one scan's connects go: ``timeout`` per connect, ``retries`` further connects for
    a port that got no answer, and the scan's :class:`~sigscan.net.pace.Pacer` (None: no pace)."""

    timeout: float = DEFAULT_TIMEOUT
    retries: int = 0
    pacer: Pacer | None = None


async def connect_scan(address: str, ports: Iterable[int], on_status: Callable[[PortStatus], None], *,
                       limiter: asyncio.Semaphore | None = None,
                       timeout: float = DEFAULT_TIMEOUT, pace: Pace | None = None) -> None:
    """Connect to every port of ``ports``; ``on_status`` gets each outcome as it comes.
    ``limiter`` bounds the connects in flight (shared by the hosts of a scan); ``pace``, when
    given, replaces ``timeout`` with its own and adds retries and pacing."""
    slots = limiter or asyncio.Semaphore(DEFAULT_PARALLEL)
    how = pace or Pace(timeout)
    async with asyncio.TaskGroup() as group:
        for port in ports:
            await slots.acquire()
            group.create_task(_probe_released(address, port, how, slots, on_status))


async def _probe_released(address: str, port: int, pace: Pace, slots: asyncio.Semaphore,
                          on_status: Callable[[PortStatus], None]) -> None:
    try:
        status = await probe_port(address, port, timeout=pace.timeout, retries=pace.retries,
                                  pacer=pace.pacer)
    finally:
        slots.release()
    on_status(status)
