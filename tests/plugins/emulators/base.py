"""What an emulation module declares: its servers. A TCP handler gets the connection's streams
(asyncio); a UDP handler gets each datagram and returns the replies to send (possibly none)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

TcpHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
UdpHandler = Callable[[bytes], list[bytes]]


@dataclass(frozen=True)
class Server:
    proto: str  # "tcp" | "udp"
    port: int
    tcp: TcpHandler | None = None
    udp: UdpHandler | None = None


def tcp(port: int, handler: TcpHandler) -> Server:
    return Server("tcp", port, tcp=handler)


def udp(port: int, handler: UdpHandler) -> Server:
    return Server("udp", port, udp=handler)


async def read_some(reader: asyncio.StreamReader, timeout: float = 5.0, size: int = 65536) -> bytes:
    """One read, or b"" after ``timeout`` seconds or at EOF."""
    try:
        return await asyncio.wait_for(reader.read(size), timeout)
    except (TimeoutError, ConnectionError):
        return b""


async def read_until(reader: asyncio.StreamReader, marker: bytes, timeout: float = 5.0,
                     limit: int = 65536) -> bytes:
    """Bytes up to and including ``marker``, or what came before the timeout, EOF or ``limit``."""
    data = b""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while marker not in data and len(data) < limit:
        left = end - loop.time()
        if left <= 0:
            break
        chunk = await read_some(reader, left)
        if not chunk:
            break
        data += chunk
    return data


async def send_and_close(writer: asyncio.StreamWriter, data: bytes) -> None:
    try:
        writer.write(data)
        await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


# What a UDP emulation sends back for a datagram it does not serve. A UDP port Nmap cannot name
# costs its probe phase the whole wait of every UDP probe (5 s each, about 100 s at intensity
# 7), reply or not; one 0xFF byte is matched by Nmap's first UDP probe (RPCCheck) as
# ``lantronix-config`` ("Lantronix DSTni networking chip configuration", the network module of
# many serial-to-Ethernet devices, whose firmware answers so), and the probe phase ends there.
UDP_NAK = b"\xff"
