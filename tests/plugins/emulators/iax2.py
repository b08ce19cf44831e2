"""An IAX2 peer (RFC 5456) on 4569/udp, written from the RFC: full frames only.

- A POKE (§6.9.1, frame type IAX 0x06, subclass 0x1E) or a PING (0x02) is answered with a PONG
  (0x03): a 12-byte full frame whose destination call number is the sender's source call
  number, with the timestamp echoed and the inbound sequence number advanced.
- Anything else, a datagram that is no full IAX frame included, is answered with an INVAL
  (0x0A, §6.9.3: "sent in response to a received message that is not valid"), at once, so each
  of Nmap's UDP probes gets its answer without waiting.

Nmap 7.93 has no probe for IAX2: the probe phase leaves 4569/udp as ``nmap-services`` names it,
``iax``; ``iax2-version`` makes it ``iax2``, hard-matched, open.
"""

from __future__ import annotations

import struct

from tests.plugins.emulators.base import udp

PLUGINS = ("iax2-version",)
SILENT = ("iax2-version",)  # it prints nothing: its effect is the name, see tests/plugins/test_iax2.py
IAX, PING, PONG, INVAL, POKE = 0x06, 0x02, 0x03, 0x0A, 0x1E
OUR_CALL = 0x1234  # the source call number this peer uses (15 bits)


def frame(dest_call: int, timestamp: int, oseq: int, iseq: int, subclass: int) -> bytes:
    return struct.pack(">HHIBBBB", 0x8000 | OUR_CALL, dest_call & 0x7FFF, timestamp, oseq, iseq,
                       IAX, subclass)


def handle(datagram: bytes) -> list[bytes]:
    if len(datagram) >= 12 and datagram[0] & 0x80:
        source, _dest, timestamp, oseq, _iseq, kind, subclass = struct.unpack_from(">HHIBBBB", datagram)
        if kind == IAX and subclass in (POKE, PING):
            return [frame(source & 0x7FFF, timestamp, 0, (oseq + 1) & 0xFF, PONG)]
        return [frame(source & 0x7FFF, timestamp, 0, (oseq + 1) & 0xFF, INVAL)]
    return [frame(0, 0, 0, 0, INVAL)]


SERVERS = (udp(4569, handle),)
