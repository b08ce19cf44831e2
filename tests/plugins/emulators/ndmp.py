"""NDMP version 4 servers (ndmp.org's NDMPv4 specification): on connect the server sends
NDMP_NOTIFY_CONNECTION_STATUS (connected, protocol version 4); it answers
NDMP_CONFIG_GET_HOST_INFO and NDMP_CONFIG_GET_SERVER_INFO. Messages are XDR with RPC record
marking: a fragment header, a 24-byte header (sequence, time, type, message, reply sequence,
error) and the body.

- 10000: a Windows host: the probe phase matches the greeting (NetApp Data ONTAP, NDMPv4) and
  ``ndmp-version`` puts the vendor, the host name and the Windows version in its place.
- 10566: a Veritas server that refuses the host information (NDMP_NOT_AUTHORIZED_ERROR).
"""

from __future__ import annotations

import asyncio
import struct
import time

from tests.plugins.emulators.base import TcpHandler, tcp

PLUGINS = ("ndmp-version",)
SILENT = ("ndmp-version",)
EFFECTS = {("tcp", 10000): "Cobalt Data Movers", ("tcp", 10566): "Symantec/Veritas Backup Exec ndmp"}
HOST_INFO, SERVER_INFO, CONNECTION_STATUS = 0x100, 0x108, 0x502
NOT_AUTHORIZED, ILLEGAL_ARGS = 4, 9


def xdr(text: bytes) -> bytes:
    return struct.pack(">I", len(text)) + text + bytes(-len(text) % 4)


def message(seq: int, kind: int, code: int, reply_seq: int, error: int, body: bytes) -> bytes:
    header = struct.pack(">6I", seq, int(time.time()), kind, code, reply_seq, error)
    return struct.pack(">I", 0x80000000 | (len(header) + len(body))) + header + body


def server(vendor: bytes, host: tuple[bytes, bytes, bytes, bytes] | None) -> TcpHandler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seq = 1
        writer.write(message(seq, 0, CONNECTION_STATUS, 0, 0, struct.pack(">II", 0, 4) + xdr(b"")))
        await writer.drain()
        while True:
            try:
                fragment = await asyncio.wait_for(reader.readexactly(4), 10.0)
                size = struct.unpack(">I", fragment)[0] & 0x7FFFFFFF
                if not 24 <= size <= 4096:
                    return
                raw = await asyncio.wait_for(reader.readexactly(size), 10.0)
            except (asyncio.IncompleteReadError, TimeoutError):
                return
            request_seq, _, _, code, _, _ = struct.unpack(">6I", raw[:24])
            seq += 1
            if code == HOST_INFO and host is None:
                reply = message(seq, 1, code, request_seq, NOT_AUTHORIZED, struct.pack(">I", NOT_AUTHORIZED))
            elif code == HOST_INFO and host is not None:
                reply = message(seq, 1, code, request_seq, 0, struct.pack(">I", 0) + b"".join(map(xdr, host)))
            elif code == SERVER_INFO:
                body = struct.pack(">I", 0) + xdr(vendor) + xdr(b"NDMP data server") + xdr(b"4.2")
                reply = message(seq, 1, code, request_seq, 0, body + struct.pack(">II", 1, 1))
            else:
                reply = message(seq, 1, code, request_seq, ILLEGAL_ARGS, struct.pack(">I", ILLEGAL_ARGS))
            writer.write(reply)
            await writer.drain()

    return handle


WINDOWS = (b"VAULT-7", b"Windows", b"Major Version=6 Minor Version=3 Build Number=9600 "
           b"ServicePack Major=1 ServicePack Minor=0", b"4c2a19")
SERVERS = (tcp(10000, server(b"Cobalt Data Movers", WINDOWS)),
           tcp(10566, server(b"VERITAS Software, Corp.", None)))
