"""Many loopback banner servers in one asyncio process, for the scan benchmark.

    python -m benchmarks.banner_farm BASE COUNT [SECONDS]

listens on 127.0.0.1 ports BASE … BASE+COUNT-1 (raising the soft open-files limit if it must),
prints ``READY`` once every port listens, and exits after SECONDS (default 900) or when its
standard input closes. Each connection gets the banner of its port (:data:`BANNERS`, in turn),
then is held until the client closes it (at most 30 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import sys

BANNERS = (
    b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u2\r\n",
    b"220 (vsFTPd 3.0.3)\r\n",
    b"220 mail.example.test ESMTP Postfix (Debian/GNU)\r\n",
    b"+OK Dovecot ready.\r\n",
)
EXPECTED = ("ssh", "ftp", "smtp", "pop3")  # what -sV names each banner
HOLD = 30.0


def banner(port: int, base: int) -> bytes:
    return BANNERS[(port - base) % len(BANNERS)]


def expected_name(port: int, base: int) -> str:
    return EXPECTED[(port - base) % len(EXPECTED)]


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        top = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (top, hard))


async def serve(base: int, count: int, seconds: float) -> None:
    raise_fd_limit(count * 3 + 256)

    def handler(data: bytes) -> object:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                writer.write(data)
                await writer.drain()
                async with asyncio.timeout(HOLD):
                    while await reader.read(4096):
                        pass
            except (OSError, TimeoutError):
                pass
            finally:
                writer.transport.abort()
        return handle

    servers = [await asyncio.start_server(handler(banner(port, base)), "127.0.0.1", port,  # type: ignore[arg-type]
                                          backlog=64, reuse_address=True)
               for port in range(base, base + count)]
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stdin.read()  # until the parent closes it (or exits)
    for server in servers:
        server.close()


def main(argv: list[str]) -> None:
    base, count = int(argv[0]), int(argv[1])
    seconds = float(argv[2]) if len(argv) > 2 else 900.0
    asyncio.run(serve(base, count, seconds))


if __name__ == "__main__":
    main(sys.argv[1:])
