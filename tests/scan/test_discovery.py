"""The connect scan on its own, against loopback: what a late event loop must not change.

The errno table itself is compared with ``nmap -sT`` in tests/hostile/test_scan_faults.py.
"""

from __future__ import annotations

import asyncio
import socket
import time

from sigscan.engine.results import PortState
from sigscan.net.discovery import probe_port


async def stalled_probe(port: int) -> tuple[PortState, str]:
    """A connect to ``port`` whose loop stalls, before it polls again, past the connect's timeout."""
    probe = asyncio.create_task(probe_port("127.0.0.1", port, timeout=0.2))
    await asyncio.sleep(0)  # the probe runs first: its SYN goes out, and it waits
    time.sleep(0.5)  # blocks the loop, on purpose; the kernel answers the SYN meanwhile
    status = await probe
    return status.state, status.reason


def test_a_connect_done_while_the_loop_was_stalled_is_open() -> None:
    """The loop stalls right after the SYN goes out, past the connect's timeout; the kernel
    completes the handshake meanwhile. The timeout used to win (filtered/no-response); the
    socket is now asked before the timeout counts."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]

        assert asyncio.run(stalled_probe(port)) == (PortState.OPEN, "syn-ack")


def test_a_refused_connect_seen_late_is_closed() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, never listening: refused

        assert asyncio.run(stalled_probe(port)) == (PortState.CLOSED, "conn-refused")
