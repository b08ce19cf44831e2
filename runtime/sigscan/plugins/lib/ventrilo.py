"""Ventrilo's UDP status protocol (3784/udp): scrambling, headers, the checksum.

The protocol was reversed by Luigi Auriemma (``ventrilo_udp.h``,
http://aluigi.altervista.org/papers.htm#ventrilo); the two 256-byte key tables below are the
``ventrilo_udp_encdata_head`` and ``ventrilo_udp_encdata_data`` constants of that description,
as QStat 2.14 reproduces them (``ventrilo.c``, "Algorithm by Luigi Auriemma"). The checksum's
table is not copied: it is the CRC-16 table of the polynomial 0x1021, built here.

A packet is a 20-byte header and up to :data:`MAX_DATA` bytes of data. The header is ten
big-endian 16-bit words (:class:`Head`): the header key, then ``zero``, ``cmd`` (1 generic
status, 2 detailed status with channels and clients), ``id`` (echoed by the server),
``totlen`` (the data of all packets of the reply), ``len`` (this packet's), ``totpck``,
``pck`` (this packet's number, from 0), ``datakey`` and ``crc`` (of the whole reply's plain
data). The header key travels plain; the 18 bytes after it are scrambled with
:data:`HEAD_TABLE`, period 5; the data with :data:`DATA_TABLE`, period 72, under ``datakey``
(:func:`scramble`). A key whose low byte is 0 leaves its bytes plain.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEAD_SIZE = 20
MAX_DATA = 492  # data bytes in one packet
HEAD_PERIOD, DATA_PERIOD = 5, 72

HEAD_TABLE = bytes.fromhex(
    "80e50e38ba634c9988634cd654b8657e" "bf8af0178aaa4d0fb72327f6eb12f8ea"
    "17b7cf5257cb51cf1b14fd6f8438b524" "11cf7a757abb7874dcbc42f0173f5eeb"
    "7477044e8caf23dc65dfa565dd7df43c" "4c95bdeb651cf4245d8218fb5086b853"
    "e04e36961fb7cbaaafeacb2027302aae" "b90740df1275c909829c30805d8f0d09"
    "a164ec91d88a501f405df7082af86062" "a04a8bba4a6d000a933212e5070165f5"
    "ffe0aea781d1ba256261b285ad7e9d3f" "498926e5d5ac9f0ed76e47941684c8ff"
    "44ea0440e03311a35b1e82ff7a69e92f" "fbea9ac67bdbb1ff977656f352c23f0f"
    "b6ac77c4bf595e8074bbf2de57624c1a" "ff956dc704a23bc41b72c76c8260d10d")
DATA_TABLE = bytes.fromhex(
    "828b7f6890e04409193b8e5fc2823823" "6ddb6249526e21df516c763786507d48"
    "1f65e7526a88aac1322ff7544caa6d7e" "6da98c0d3fff6c09b3a5afdf9802b4be"
    "6d690d4273e43450073079412f083f42" "73a768faee880e6ea470742216ae3c81"
    "14a1da7fd37c487d3f46fb6d92251736" "26dbdf5a87916fd6cdd4ad4a29dd7d59"
    "bd153453b1d85011837966219e875b24" "2f4fd77334a2f709d5d9429df815df0e"
    "10cc05043581b2d57ad2a0a57bb875d2" "350b398f1b440ece66871b64ace1ca67"
    "b4ce33db89fed88ecd5892415040cb08" "e115eef464fe1cee25e721e66cc6a62e"
    "5223a720d2d728072314243d45a5c790" "db77ddea38598932bc003a6d614edb29")


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        value = byte << 8
        for _ in range(8):
            value = ((value << 1) ^ 0x1021 if value & 0x8000 else value << 1) & 0xFFFF
        table.append(value)
    return tuple(table)


CRC_TABLE = _crc_table()


def crc(data: bytes) -> int:
    """Ventrilo's checksum: ``crc = T[crc >> 8] ^ byte ^ (crc << 8)`` from 0, 16 bits (the
    byte goes in after the table look-up, unlike CRC-16/XMODEM)."""
    value = 0
    for byte in data:
        value = (CRC_TABLE[value >> 8] ^ byte ^ (value << 8)) & 0xFFFF
    return value


def _keystream(key: int, table: bytes, period: int, size: int) -> bytes:
    step, at = key & 0xFF, key >> 8 & 0xFF
    out = bytearray(size)
    for i in range(size):
        out[i] = (table[at] + i % period) & 0xFF
        at = (at + step) & 0xFF
    return bytes(out)


def scramble(data: bytes, key: int, table: bytes, period: int) -> bytes:
    """``data`` scrambled under ``key``: byte i plus ``table[a] + i % period``, where ``a``
    starts at the key's high byte and grows by its low byte. A low byte of 0: unchanged."""
    if key & 0xFF == 0:
        return data
    stream = _keystream(key, table, period, len(data))
    return bytes((b + k) & 0xFF for b, k in zip(data, stream, strict=True))


def unscramble(data: bytes, key: int, table: bytes, period: int) -> bytes:
    """The inverse of :func:`scramble`."""
    if key & 0xFF == 0:
        return data
    stream = _keystream(key, table, period, len(data))
    return bytes((b - k) & 0xFF for b, k in zip(data, stream, strict=True))


@dataclass(frozen=True, slots=True)
class Head:
    """A packet's header, plain (see the module's docstring)."""

    key: int
    zero: int
    cmd: int
    id: int
    totlen: int
    len: int
    totpck: int
    pck: int
    datakey: int
    crc: int

    def words(self) -> tuple[int, ...]:
        return (self.key, self.zero, self.cmd, self.id, self.totlen, self.len, self.totpck,
                self.pck, self.datakey, self.crc)


_WORDS = struct.Struct(">10H")


def encode_head(head: Head) -> bytes:
    """The 20 bytes of ``head`` on the wire."""
    plain = _WORDS.pack(*head.words())
    return plain[:2] + scramble(plain[2:], head.key, HEAD_TABLE, HEAD_PERIOD)


def decode_head(packet: bytes) -> Head:
    """The header at the start of ``packet`` (ValueError when it has fewer than 20 bytes)."""
    if len(packet) < HEAD_SIZE:
        raise ValueError(f"a Ventrilo packet has a 20-byte header, not {len(packet)} bytes")
    key = packet[0] << 8 | packet[1]
    plain = packet[:2] + unscramble(packet[2:HEAD_SIZE], key, HEAD_TABLE, HEAD_PERIOD)
    return Head(*_WORDS.unpack(plain))


def encode_data(data: bytes, key: int) -> bytes:
    return scramble(data, key, DATA_TABLE, DATA_PERIOD)


def decode_data(data: bytes, key: int) -> bytes:
    return unscramble(data, key, DATA_TABLE, DATA_PERIOD)


def request(cmd: int, ident: int, *, password: bytes = b"", head_key: int = 0x4D2A,
            data_key: int = 0x2B17) -> bytes:
    """A status request: the password in 16 NUL-padded bytes (the client's ``strncpy``), one
    packet, scrambled under the given keys."""
    data = password[:16].ljust(16, b"\0")
    head = Head(head_key, 0, cmd, ident, len(data), len(data), 1, 0, data_key, crc(data))
    return encode_head(head) + encode_data(data, data_key)
