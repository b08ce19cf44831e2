"""A Ventrilo status port (3784/udp) whose detailed status is legal but odd, so that the way
``ventrilo-info`` reads and prints it is compared with Nmap's beyond the usual layout (the
protocol as in :mod:`tests.plugins.emulators.ventrilo`).

The detailed answer comes as three packets sent last first, after a packet answering another
request id; the text lacks the ``PHONETIC`` line, gives the uptime as a decimal fraction with
spaces around, an authentication code with no name, ``NAME`` as the last channel field and the
first client field, a channel line without its ``PID``, a client without ``CID`` and one in the
lobby, and a name with a byte past ASCII.
"""

from __future__ import annotations

from sigscan.plugins.lib.ventrilo import decode_head
from tests.plugins.emulators import ventrilo
from tests.plugins.emulators.base import udp

PLUGINS = ("ventrilo-info",)

TEXT = (b"NAME: Caf\xe9 Quirks\nCOMMENT: odd\tbut\x07 legal\r\nAUTH: 7\nMAXCLIENTS: 8\n"
        b"VOICECODEC: 3,Speex\nVOICEFORMAT: 32,32 KHz%2C 16 bit%2C 10 Qlty\n"
        b"UPTIME:  7260.5 \nPLATFORM: WIN32\nVERSION: 3.0.3.C\nCHANNELCOUNT: 3\n"
        b"CHANNELFIELDS: CID,PID,PROT,COMM,NAME\n"
        + b"".join(b"CHANNEL: CID=%d,PID=0,PROT=%d,COMM=%s,NAME=%s\n" % c
                   for c in ((11, 0, b"", b"General"), (12, 1, b"officers only", b"Officers")))
        + b"CHANNEL: CID=13,PROT=0,COMM=,NAME=No parent\n"
        b"CLIENTCOUNT: 5\nCLIENTFIELDS: NAME,ADMIN,CID,PING,SEC,COMM\n"
        + b"".join(b"CLIENT: NAME=%s,ADMIN=%d,CID=%s,PING=%d,SEC=%d,COMM=%s\n" % c
                   for c in ((b"zed", 1, b"11", 31, 86400, b"afk"), (b"amy", 0, b"12", 140, 61, b""),
                             (b"newbie", 0, b"0", 0, 3, b"hi"), (b"lurker", 0, b"13", 77, 4000, b"")))
        + b"CLIENT: NAME=drifter,ADMIN=0,PING=5,SEC=9,COMM=no channel\n" + b"x" * 400)


def status(datagram: bytes) -> list[bytes]:
    answer = ventrilo.status(datagram)
    if not answer or decode_head(answer[0]).cmd != 2:
        return answer
    ident = decode_head(datagram).id
    stray = ventrilo.packets(2, ident ^ 0x5555, b"an answer to someone else " * 8)
    return stray + list(reversed(ventrilo.packets(2, ident, TEXT)))


SERVERS = (udp(3784, status),)
