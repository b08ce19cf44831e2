"""A Siemens S7-300 CPU's ISO-on-TCP port (102/tcp).

RFC 1006 carries ISO 8073 COTP over TCP in TPKTs (``03 00`` and a 16-bit length). A connection
request TPDU (0xE0: destination and source references, class, parameters such as the calling
and called TSAPs ``C1``/``C2`` and the TPDU size ``C0``) is confirmed by a connection confirm
(0xD0) carrying the caller's reference back. Data TPDUs (``02 F0 80``) carry S7comm PDUs:
protocol ID 0x32, a ROSCTR (1 job, 3 ack-data, 7 userdata), a reserved word, the PDU reference,
parameter and data lengths (ack-data adds an error class and code). A job "setup communication"
(function 0xF0) is acknowledged with the negotiated PDU size; a userdata request of the CPU
functions group (``0x44``), subfunction 1 (read SZL), is answered with the system status list
asked for: SZL 0x0011 (module identification: records of an index, a 20-character order
number, a module type and two version words) and 0x001C (component identification: an index and
32 characters of text per record). Anything that is no TPKT, no COTP the CPU knows (a
connection request with parameters other than the TPDU size and TSAPs, or for a TSAP it
refuses) or no S7 PDU it serves ends the connection at once. Plant identification is left
empty, as on many CPUs.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

from tests.plugins.emulators.base import read_some, tcp

PLUGINS = ("s7-info",)
ORDER_NUMBER = b"6ES7 315-2EH14-0AB0 "  # 20 characters, blank-padded


@dataclass(frozen=True)
class Cpu:
    """What the CPU serves: the called TSAPs it accepts (None: any; a connection request that
    names none addresses no module and is refused), SZL 0x0011's records (index, order number,
    module type, two version words) and SZL 0x001C's (index, text)."""

    modules: tuple[tuple[int, bytes, int, int, int], ...]
    components: tuple[tuple[int, bytes], ...]
    tsaps: frozenset[int] | None = None

    def szl(self, szl_id: int) -> tuple[int, list[bytes]] | None:
        if szl_id == 0x0011:
            return 28, [struct.pack(">H20sHHH", *record) for record in self.modules]
        if szl_id == 0x001C:
            return 34, [struct.pack(">H32s", index, text) for index, text in self.components]
        return None

    def confirm(self, request: bytes) -> bytes | None:
        """The CC for a CR TPDU (``request`` from its length byte on), None when it is refused."""
        params = parameters(request[7:1 + request[0]])
        if params is None or 0xC2 not in params or (
                self.tsaps is not None and int.from_bytes(params[0xC2], "big") not in self.tsaps):
            return None
        echoed = b"".join(bytes((code, len(value))) + value for code, value in params.items())
        fixed = b"\xd0" + request[4:6] + b"\x00\x01\x00"  # the caller's reference, ours, class 0
        return tpkt(bytes((len(fixed) + len(echoed),)) + fixed + echoed)

    def reply(self, payload: bytes) -> bytes | None:
        """The answer to one TPKT's payload (a COTP TPDU), None to end the connection."""
        if len(payload) < 2 or payload[0] + 1 > len(payload):
            return None
        if payload[1] == 0xE0 and payload[0] >= 6:
            return self.confirm(payload)
        if payload[1] == 0xF0:
            return answer(self, payload[1 + payload[0]:])
        return None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        pending = b""
        for _ in range(16):  # a session of a few requests
            payload, pending = await read_tpkt(reader, pending)
            reply = None if payload is None else self.reply(payload)
            if reply is None:
                return
            writer.write(reply)
            await writer.drain()


def parameters(data: bytes) -> dict[int, bytes] | None:
    """The CR's parameters this CPU knows (TPDU size, calling and called TSAP); None when the
    parameter field is no list of them."""
    found: dict[int, bytes] = {}
    while data:
        if len(data) < 2 or data[0] not in (0xC0, 0xC1, 0xC2) or len(data) < 2 + data[1]:
            return None
        found[data[0]] = data[2:2 + data[1]]
        data = data[2 + data[1]:]
    return found


def tpkt(payload: bytes) -> bytes:
    return struct.pack(">BBH", 3, 0, 4 + len(payload)) + payload


def data_tpdu(s7: bytes) -> bytes:
    return tpkt(b"\x02\xf0\x80" + s7)


def answer(cpu: Cpu, s7: bytes) -> bytes | None:
    """The reply to one S7 PDU, None for one this CPU does not serve."""
    if len(s7) < 10 or s7[0] != 0x32:
        return None
    rosctr, pdu_ref, param_len, data_len = s7[1], s7[4:6], *struct.unpack(">HH", s7[6:10])
    params, data = s7[10:10 + param_len], s7[10 + param_len:10 + param_len + data_len]
    if rosctr == 0x01 and params[:1] == b"\xf0" and len(params) >= 8:
        pdu_size = min(struct.unpack(">H", params[6:8])[0], 240)
        reply_params = struct.pack(">BBHHH", 0xF0, 0, 1, 1, pdu_size)
        return data_tpdu(b"\x32\x03\x00\x00" + pdu_ref + struct.pack(">HH", len(reply_params), 0)
                         + b"\x00\x00" + reply_params)
    if rosctr == 0x07 and params[:7] == b"\x00\x01\x12\x04\x11\x44\x01" and len(data) >= 8:
        szl_id, index = struct.unpack(">HH", data[4:8])
        found = cpu.szl(szl_id)
        if found is None:
            return None
        size, records = found
        body = struct.pack(">HHHH", szl_id, index, size, len(records)) + b"".join(records)
        reply_data = struct.pack(">BBH", 0xFF, 0x09, len(body)) + body
        reply_params = b"\x00\x01\x12\x08\x12\x84\x01" + params[7:8] + b"\x00\x00\x00\x00"
        return data_tpdu(b"\x32\x07\x00\x00" + pdu_ref
                         + struct.pack(">HH", len(reply_params), len(reply_data))
                         + reply_params + reply_data)
    return None


async def read_tpkt(reader: asyncio.StreamReader, pending: bytes) -> tuple[bytes | None, bytes]:
    """One TPKT's payload and what came after it; None when the stream is no TPKT stream or
    ends."""
    while True:
        if len(pending) >= 4:
            if pending[:2] != b"\x03\x00":
                return None, b""
            size = struct.unpack(">H", pending[2:4])[0]
            if size < 7:
                return None, b""
            if len(pending) >= size:
                return pending[4:size], pending[size:]
        chunk = await read_some(reader, timeout=10.0)
        if not chunk:
            return None, b""
        pending += chunk


CPU_315 = Cpu(
    modules=((0x0001, ORDER_NUMBER, 0x0000, 0x0004, 0x0001),
             (0x0006, ORDER_NUMBER, 0x0000, 0x0004, 0x0001),
             (0x0007, b" " * 20, 0x0000, 0x5603, 0x0208)),  # firmware V3.2.8
    components=((0x0001, b"SIMATIC 300(Plant-East)"), (0x0002, b"CPU 315-2 PN/DP"),
                (0x0003, b""), (0x0004, b"Original Siemens Equipment"),
                (0x0005, b"S C-H4N712345678"), (0x0007, b"CPU 315-2 PN/DP"),
                (0x0008, b"MMC 267FB5A1")))
SERVERS = (tcp(102, CPU_315.handle),)
