"""A VxWorks WDB agent on 17185/udp, written from public descriptions of WDB RPC: ONC RPC
(RFC 5531) to program 0x55555555 version 1, its arguments and results in XDR (RFC 4506) after
a WDB wrapper (checksum word, length, sequence number). WDB_TARGET_PING is answered (so the
port answers Nmap's UDP payload), WDB_TARGET_CONNECT with the target's description
(WDB_TGT_INFO), WDB_TARGET_DISCONNECT with an empty result; a reply's wrapper is checksum,
length and status. Datagrams that are no call to WDB get nothing (so Nmap's UDP probe phase
waits out each of its probes here: about 100 s).
"""

from __future__ import annotations

import struct

from tests.plugins.emulators.base import udp

PLUGINS = ("wdb-version",)
PROGRAM, PING, CONNECT, DISCONNECT = 0x55555555, 0, 1, 2


def string(text: bytes) -> bytes:
    return struct.pack(">I", len(text)) + text + bytes(-len(text) % 4)


def target_info() -> bytes:
    agent = string(b"2.0\x00") + struct.pack(">II", 1500, 2)
    runtime = (struct.pack(">I", 1) + string(b"6.9.4.1") + struct.pack(">IIIII", 81, 1, 1, 4096, 4321)
               + string(b"PowerPC 604") + string(b"motfcc(0,0)host:vxWorks h=192.0.2.1 e=192.0.2.9 u=target")
               + struct.pack(">III", 0, 0x4000000, 1) + struct.pack(">II", 1, 0)
               + string(b"") + string(b""))
    return agent + runtime


def reply(xid: int, result: bytes) -> bytes:
    """An accepted RPC reply; its WDB wrapper is checksum, length and status (0: no error)."""
    head = struct.pack(">IIIIII", xid, 1, 0, 0, 0, 0)
    return head + struct.pack(">HHII", 0xFFFF, 0, len(head) + 12 + len(result), 0) + result


def handle(datagram: bytes) -> list[bytes]:
    if len(datagram) < 40:
        return []
    xid, kind, rpc_version, program, version, procedure = struct.unpack(">6I", datagram[:24])
    if kind != 0 or rpc_version != 2 or program != PROGRAM or version != 1:
        return []
    if procedure == CONNECT:
        return [reply(xid, target_info())]
    if procedure in (PING, DISCONNECT):
        return [reply(xid, b"")]
    return []


SERVERS = (udp(17185, handle),)
