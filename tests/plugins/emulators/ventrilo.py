"""A Ventrilo 3 server: its UDP status port and its TCP voice port, both on 3784, after Luigi
Auriemma's description of the status protocol (http://aluigi.altervista.org/papers.htm#ventrilo;
the codec and its key tables are :mod:`sigscan.plugins.lib.ventrilo`).

A status request is one packet: a 20-byte scrambled header (command 1 for the generic status, 2
for the detailed one with channels and clients; the request id; 16 data bytes, the password) and
the scrambled data. The answer is the status text, ``KEY: value`` lines, cut into packets of at
most 492 data bytes, each with its own header (the request's command and id echoed, total
length, packet count and number, a data key, the checksum of the whole text) and keys of its
own. Anything else gets no answer. The detailed status is longer than one packet, so the
client has to put two together; it has a client in the lobby and one whose channel is not
listed.

The voice port waits for a client's hello, which Nmap's probes are not: it closes the
connection when anything else comes.
"""

from __future__ import annotations

import asyncio
import struct

from sigscan.plugins.lib import ventrilo
from tests.plugins.emulators.base import read_some, tcp, udp

PLUGINS = ("ventrilo-info",)

GENERIC = (b"NAME: Sigscan Voice\nPHONETIC: Sig scan voice\nCOMMENT: Loopback test server\n"
           b"AUTH: 1\nMAXCLIENTS: 25\nVOICECODEC: 0,GSM 6.10\nVOICEFORMAT: 3,44 KHz%2C 16 bit\n"
           b"UPTIME: 200345\nPLATFORM: Linux-i386\nVERSION: 3.0.5\n")
CHANNELS = ((1, 0, 0, "Lobby talk", "Say hello"), (2, 0, 1, "Raid", ""),
            (3, 2, 0, "Raid%2C side room", "overflow"))
CLIENTS = ((406, 1, 1, 0, 12, 7321, "alice", "back in 5"), (407, 0, 2, 0, 48, 3600, "bob", ""),
           (410, 0, 0, 1, 0, 120, "lobbyist", ""), (411, 0, 9, 0, 250, 59, "ghost", "lost channel"))


def _status(detailed: bool) -> bytes:
    lines = [GENERIC, b"CHANNELCOUNT: %d\n" % len(CHANNELS)]
    if detailed:
        lines.append(b"CHANNELFIELDS: CID,PID,PROT,NAME,COMM\n")
        lines += [b"CHANNEL: CID=%d,PID=%d,PROT=%d,NAME=%s,COMM=%s\n"
                  % (*c[:3], c[3].encode(), c[4].encode()) for c in CHANNELS]
    lines.append(b"CLIENTCOUNT: %d\n" % len(CLIENTS))
    if detailed:
        lines.append(b"CLIENTFIELDS: UID,ADMIN,CID,PHAN,PING,SEC,NAME,COMM\n")
        lines += [b"CLIENT: UID=%d,ADMIN=%d,CID=%d,PHAN=%d,PING=%d,SEC=%d,NAME=%s,COMM=%s\n"
                  % (*c[:6], c[6].encode(), c[7].encode()) for c in CLIENTS]
    return b"".join(lines)


def _key(seed: int) -> int:
    """A key whose low byte is not 0 (0 would mean plain bytes)."""
    return (seed * 0x9E37 + 0x5A1B) & 0xFFFF | 1


def packets(cmd: int, ident: int, text: bytes) -> list[bytes]:
    chunks = [text[at:at + ventrilo.MAX_DATA] for at in range(0, len(text), ventrilo.MAX_DATA)]
    checksum = ventrilo.crc(text)
    out = []
    for number, chunk in enumerate(chunks):
        head_key, data_key = _key(ident + number), _key(ident * 3 + number + 1)
        plain = struct.pack(">9H", 0, cmd, ident, len(text), len(chunk), len(chunks), number,
                            data_key, checksum)
        out.append(struct.pack(">H", head_key)
                   + ventrilo.scramble(plain, head_key, ventrilo.HEAD_TABLE, ventrilo.HEAD_PERIOD)
                   + ventrilo.scramble(chunk, data_key, ventrilo.DATA_TABLE, ventrilo.DATA_PERIOD))
    return out


def status(datagram: bytes) -> list[bytes]:
    if len(datagram) != ventrilo.HEAD_SIZE + 16:
        return []
    head = ventrilo.decode_head(datagram)
    password = ventrilo.decode_data(datagram[ventrilo.HEAD_SIZE:], head.datakey)
    if (head.zero, head.len, head.totlen, head.totpck, head.pck) != (0, 16, 16, 1, 0) \
            or head.cmd not in (1, 2) or ventrilo.crc(password) != head.crc:
        return []
    return packets(head.cmd, head.id, _status(detailed=head.cmd == 2))


async def voice(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_some(reader, 30.0)
    writer.close()


SERVERS = (tcp(3784, voice), udp(3784, status))
