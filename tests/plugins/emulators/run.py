"""Start every emulation module's servers (see the package docstring) and print ``ready`` once
all are bound; run until killed. Usage: ``python -m tests.plugins.emulators.run``, inside the
test namespace. Binds loopback addresses only."""

from __future__ import annotations

import asyncio
import sys
from typing import cast

from tests.plugins.emulators import address_of, modules
from tests.plugins.emulators.base import Server, UdpHandler


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, handler: UdpHandler) -> None:
        self.handler = handler
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's selector datagram transport subclasses DatagramTransport only from 3.12 on
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        try:
            replies = self.handler(data)
        except Exception as error:  # an emulation bug: said, and the server goes on
            print(f"emulator error: {error!r}", file=sys.stderr, flush=True)
            return
        for reply in replies:
            self.transport.sendto(reply, addr)


async def _start(address: str, server: Server) -> None:
    loop = asyncio.get_running_loop()
    if server.proto == "tcp":
        assert server.tcp is not None
        handler = server.tcp

        async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await handler(reader, writer)
            except (ConnectionError, TimeoutError):
                pass
            except Exception as error:
                print(f"emulator error: {error!r}", file=sys.stderr, flush=True)
            finally:
                writer.close()

        await asyncio.start_server(guarded, address, server.port)
    else:
        assert server.udp is not None
        udp_handler = server.udp
        await loop.create_datagram_endpoint(lambda: _Udp(udp_handler), local_addr=(address, server.port))


async def main() -> None:
    for index, module in enumerate(modules()):
        for server in module.SERVERS:
            await _start(address_of(index), server)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
