"""Port discovery: a TCP connect scan of the requested ports (Nmap's ``-sT``).

Each port gets one non-blocking ``connect()`` bounded by ``timeout``; the socket is then reset
(``SO_LINGER`` 0: no ``TIME_WAIT`` left behind by scans of many ports). Outcomes, as Nmap's
connect scan reports them:

- connected: ``open``, reason ``syn-ack``, and the connect time is an RTT sample;
- ``ECONNREFUSED``: ``closed``, ``conn-refused``;
- no answer within ``timeout``: ``filtered``, ``no-response``;
- ``EHOSTUNREACH``/``ENETUNREACH``/``EACCES``: ``filtered``, ``host-unreach``/``net-unreach``/
  ``admin-prohibited``;
- a shortage on this machine (``EMFILE``, ``ENFILE``, ``EADDRNOTAVAIL``, ``ENOBUFS``,
  ``ENOMEM``): :class:`DiscoveryError`, since no port state can be told.

The connects of a scan share one bound (``limiter``, :data:`DEFAULT_PARALLEL` by default) and
tasks are made only when a slot is free, so a ``-p-`` scan holds a bounded number of sockets and
tasks. UDP has no discovery: UDP ports go straight to probing as ``open|filtered``.

:class:`RttEstimate` smooths the samples as TCP does (RFC 6298: ``srtt = 7/8 srtt + 1/8 r``); the
fast profile scales its waits to it, and the text output prints it as the host's latency.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sigscan.results import PortState

DEFAULT_PARALLEL = 128  # connects in flight
DEFAULT_TIMEOUT = 3.0  # seconds: the kernel retransmits an unanswered SYN once in that time
_LINGER_RESET = struct.pack("ii", 1, 0)
_FILTERED = {errno.EHOSTUNREACH: "host-unreach", errno.ENETUNREACH: "net-unreach",
             errno.EACCES: "admin-prohibited", errno.EPERM: "admin-prohibited"}
_LOCAL = {errno.EMFILE, errno.ENFILE, errno.EADDRNOTAVAIL, errno.ENOBUFS, errno.ENOMEM}


class DiscoveryError(OSError):
    """The connect scan cannot go on for a reason on this machine (out of sockets, ports…)."""


@dataclass(frozen=True, slots=True)
class PortStatus:
    """What the connect scan found for one TCP port; ``rtt`` is the connect time when open."""

    port: int
    state: PortState
    reason: str
    rtt: float | None = None


class RttEstimate:
    """The smoothed connect round trip of one host (None until a sample arrives)."""

    def __init__(self) -> None:
        self.srtt: float | None = None
        self.samples = 0

    def add(self, sample: float) -> None:
        self.samples += 1
        self.srtt = sample if self.srtt is None else 0.875 * self.srtt + 0.125 * sample


async def probe_port(address: str, port: int, *, timeout: float = DEFAULT_TIMEOUT) -> PortStatus:
    """One connect to ``address:port`` (IPv4 or IPv6), and what it says of the port."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        started = loop.time()
        async with asyncio.timeout(timeout):
            await loop.sock_connect(sock, (address, port))
        return PortStatus(port, PortState.OPEN, "syn-ack", loop.time() - started)
    except TimeoutError:
        return PortStatus(port, PortState.FILTERED, "no-response")
    except OSError as exc:
        return _failed(port, exc)
    finally:
        sock.close()


def _failed(port: int, exc: OSError) -> PortStatus:
    if exc.errno == errno.ECONNREFUSED:
        return PortStatus(port, PortState.CLOSED, "conn-refused")
    if exc.errno in _FILTERED:
        return PortStatus(port, PortState.FILTERED, _FILTERED[exc.errno])
    if exc.errno in _LOCAL:
        raise DiscoveryError(exc.errno, f"connect scan stopped: {exc.strerror}") from exc
    return PortStatus(port, PortState.FILTERED, "no-response")


async def connect_scan(address: str, ports: Iterable[int], on_status: Callable[[PortStatus], None], *,
                       limiter: asyncio.Semaphore | None = None,
                       timeout: float = DEFAULT_TIMEOUT) -> None:
    """Connect to every port of ``ports``; ``on_status`` gets each outcome as it comes.
    ``limiter`` bounds the connects in flight (shared by the hosts of a scan)."""
    slots = limiter or asyncio.Semaphore(DEFAULT_PARALLEL)
    async with asyncio.TaskGroup() as group:
        for port in ports:
            await slots.acquire()
            group.create_task(_probe_released(address, port, timeout, slots, on_status))


async def _probe_released(address: str, port: int, timeout: float, slots: asyncio.Semaphore,
                          on_status: Callable[[PortStatus], None]) -> None:
    try:
        status = await probe_port(address, port, timeout=timeout)
    finally:
        slots.release()
    on_status(status)
